// Address translation (privileged spec §4.3-4.5: Sv39 and Sv48), the
// host-pointer TLB, and the slow paths of loads, stores and fetches: TLB
// misses, misaligned accesses (emulated, as the spec allows, §2.6 of the
// unprivileged spec) and MMIO.
#include <cstring>

#include "cpu/cpu_impl.h"

namespace vmsup {

namespace {

constexpr uint64_t PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128;
// PTE bits 63:54: N (Svnapot), PBMT (Svpbmt) and reserved bits. We implement
// neither extension, so any of them set makes the walk fault (§4.3.1, §4.4.1).
constexpr uint64_t PTE_HIGH = 0x3ffULL << 54;
constexpr uint64_t PTE_PPN_MASK = (1ULL << 44) - 1;

inline uint32_t page_fault_cause(Access acc) {
  return acc == Access::kFetch ? kExcInsnPage : acc == Access::kRead ? kExcLoadPage : kExcStorePage;
}
inline uint32_t access_fault_cause(Access acc) {
  return acc == Access::kFetch ? kExcInsnAccess : acc == Access::kRead ? kExcLoadAccess : kExcStoreAccess;
}

inline bool in_ram(const CpuImpl& c, uint64_t pa, uint64_t len) {
  return pa >= c.ram_base && pa - c.ram_base < c.ram_size && len <= c.ram_size - (pa - c.ram_base);
}

bool fail(CpuImpl& c, uint32_t cause, uint64_t tval) {
  c.exc_cause = cause;
  c.exc_tval = tval;
  return false;
}

// The privilege and mode a translation of `acc` runs at.
inline Priv access_priv(const CpuImpl& c, Access acc) {
  return acc == Access::kFetch ? c.priv : data_priv(c);
}

}  // namespace

// Translation keys: 0 = no translation (M-mode, or satp.MODE = Bare);
// otherwise 1 + (S-mode) + 2*SUM + 4*MXR for data and 1 + (S-mode) for fetch.
void update_keys(CpuImpl& c) {
  const bool bare = (c.satp >> 60) == 0;
  const Priv dp = data_priv(c);
  const uint64_t gen = c.tlb_gen << 4;
  if (bare || dp == kPrivM) {
    c.data_key = gen;
  } else {
    c.data_key = gen | (1 + (dp == kPrivS ? 1 : 0) + ((c.mstatus & ms::SUM) ? 2 : 0) + ((c.mstatus & ms::MXR) ? 4 : 0));
  }
  if (bare || c.priv == kPrivM) c.fetch_key = gen;
  else c.fetch_key = gen | (1 + (c.priv == kPrivS ? 1 : 0));
  c.fetch_tag = kTlbInvalid;
}

// Empties the TLB: a new generation makes every entry miss; only when the
// 8-bit generation wraps are the entries really cleared.
void tlb_flush(CpuImpl& c) {
  c.tlb_gen = (c.tlb_gen + 1) & 0xff;
  if (c.tlb_gen == 0) {
    for (auto& set : c.tlb)
      for (auto& e : set) e.tag = kTlbInvalid;
  }
  update_keys(c);
}

// The page-table walk of §4.3.2, for Sv39 (levels = 3) and Sv48 (levels = 4).
bool mmu_translate(CpuImpl& c, uint64_t va, Access acc, uint64_t* pa) {
  const Priv p = access_priv(c, acc);
  const uint64_t mode = c.satp >> 60;
  if (p == kPrivM || mode == 0) {
    *pa = va;
    return true;
  }
  const int levels = mode == 9 ? 4 : 3;
  const int va_bits = 12 + 9 * levels;
  // The upper bits must all equal bit va_bits-1 (§4.4.1), else page fault.
  const int64_t sva = static_cast<int64_t>(va);
  if ((sva << (64 - va_bits) >> (64 - va_bits)) != sva) return fail(c, page_fault_cause(acc), va);

  uint64_t table = (c.satp & PTE_PPN_MASK) << 12;
  for (int level = levels - 1; level >= 0; level--) {
    const uint64_t idx = (va >> (12 + 9 * level)) & 0x1ff;
    const uint64_t pte_pa = table + idx * 8;
    // A PTE outside RAM is an access fault of the original access type (§4.3.2 step 2).
    if (!in_ram(c, pte_pa, 8)) return fail(c, access_fault_cause(acc), va);
    auto* pte_host = reinterpret_cast<uint64_t*>(c.ram + (pte_pa - c.ram_base));
    uint64_t pte = __atomic_load_n(pte_host, __ATOMIC_ACQUIRE);
    if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_HIGH))
      return fail(c, page_fault_cause(acc), va);
    if (!(pte & (PTE_R | PTE_X))) {
      // A pointer to the next level. Its D, A and U bits are reserved and must be zero.
      if (level == 0 || (pte & (PTE_D | PTE_A | PTE_U))) return fail(c, page_fault_cause(acc), va);
      table = ((pte >> 10) & PTE_PPN_MASK) << 12;
      continue;
    }
    // A leaf: check permissions (§4.3.2 step 5).
    const bool user = pte & PTE_U;
    if (acc == Access::kFetch) {
      if (!(pte & PTE_X)) return fail(c, page_fault_cause(acc), va);
      if (p == kPrivU ? !user : user) return fail(c, page_fault_cause(acc), va);  // S never runs U pages
    } else {
      if (p == kPrivU && !user) return fail(c, page_fault_cause(acc), va);
      if (p == kPrivS && user && !(c.mstatus & ms::SUM)) return fail(c, page_fault_cause(acc), va);
      if (acc == Access::kRead) {
        const bool readable = (pte & PTE_R) || ((c.mstatus & ms::MXR) && (pte & PTE_X));
        if (!readable) return fail(c, page_fault_cause(acc), va);
      } else if (!(pte & PTE_W)) {
        return fail(c, page_fault_cause(acc), va);
      }
    }
    const uint64_t ppn = (pte >> 10) & PTE_PPN_MASK;
    // A superpage whose PPN is not aligned to its size is a page fault (step 6).
    if (level > 0 && (ppn & ((1ULL << (9 * level)) - 1))) return fail(c, page_fault_cause(acc), va);
    // A and D: set in hardware (step 7), atomically with respect to the PTE:
    // a compare-and-swap that fails (another hart changed the PTE) walks again.
    uint64_t want = pte | PTE_A | (acc == Access::kWrite ? PTE_D : 0);
    if (want != pte) {
      if (!__atomic_compare_exchange_n(pte_host, &pte, want, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return mmu_translate(c, va, acc, pa);
    }
    const uint64_t off_mask = (1ULL << (12 + 9 * level)) - 1;
    *pa = ((ppn << 12) & ~off_mask) | (va & off_mask);
    return true;
  }
  return fail(c, page_fault_cause(acc), va);  // not reached
}

namespace {

// Translates the page of `va` and, when it is RAM, installs it in the TLB of `acc`.
// Returns the host pointer for va (nullptr for MMIO, with *pa set).
bool translate_fill(CpuImpl& c, uint64_t va, Access acc, uint64_t* pa, uint8_t** host) {
  if (!mmu_translate(c, va, acc, pa)) return false;
  if (in_ram(c, *pa, 1)) {
    uint8_t* h = c.ram + (*pa - c.ram_base);
    const uint64_t key = acc == Access::kFetch ? c.fetch_key : c.data_key;
    TlbEntry& e = c.tlb[static_cast<int>(acc)][(va >> 12) & (kTlbSize - 1)];
    e.tag = (va & ~0xfffULL) | key;
    e.addend = reinterpret_cast<uintptr_t>(h) - va;
    *host = h;
  } else {
    *host = nullptr;
  }
  return true;
}

// Host pointer for fetching at va: the fetch TLB, else a walk that refills it.
uint8_t* fetch_host(CpuImpl& c, uint64_t va) {
  const TlbEntry& e = c.tlb[2][(va >> 12) & (kTlbSize - 1)];
  if (e.tag == ((va & ~0xfffULL) | c.fetch_key)) return reinterpret_cast<uint8_t*>(va + e.addend);
  uint64_t pa;
  uint8_t* h;
  if (!translate_fill(c, va, Access::kFetch, &pa, &h)) return nullptr;
  if (!h) {
    fail(c, kExcInsnAccess, va);  // no instruction fetch from MMIO
    return nullptr;
  }
  return h;
}

}  // namespace

bool load_slow(CpuImpl& c, uint64_t va, unsigned size, uint64_t* val) {
  const uint64_t last = va + size - 1;
  if ((va >> 12) == (last >> 12)) {
    uint64_t pa;
    uint8_t* h;
    if (!translate_fill(c, va, Access::kRead, &pa, &h)) return false;
    uint64_t v = 0;
    if (h) {
      std::memcpy(&v, h, size);
    } else {
      // MMIO: devices decode naturally aligned accesses only.
      if ((va & (size - 1)) != 0) return fail(c, kExcLoadAccess, va);
      if (!c.host.mmio_read(pa, size, &v)) return fail(c, kExcLoadAccess, va);
    }
    switch (size) {
      case 1: v &= 0xff; break;
      case 2: v &= 0xffff; break;
      case 4: v &= 0xffffffffULL; break;
    }
    *val = v;
    return true;
  }
  // A misaligned access that crosses a page: both pages must translate (and be
  // RAM) before anything is read. The fault reports the first faulting byte's page.
  uint64_t pa0, pa1;
  uint8_t *h0, *h1;
  if (!translate_fill(c, va, Access::kRead, &pa0, &h0)) return false;
  const uint64_t va1 = (va | 0xfff) + 1;
  if (!translate_fill(c, va1, Access::kRead, &pa1, &h1)) return false;
  if (!h0 || !h1) return fail(c, kExcLoadAccess, h0 ? va1 : va);
  const unsigned n0 = static_cast<unsigned>(va1 - va);
  uint8_t buf[8] = {};
  std::memcpy(buf, h0, n0);
  std::memcpy(buf + n0, h1, size - n0);
  uint64_t v = 0;
  std::memcpy(&v, buf, size);
  *val = v;
  return true;
}

bool store_slow(CpuImpl& c, uint64_t va, unsigned size, uint64_t val) {
  const uint64_t last = va + size - 1;
  if ((va >> 12) == (last >> 12)) {
    uint64_t pa;
    uint8_t* h;
    if (!translate_fill(c, va, Access::kWrite, &pa, &h)) return false;
    if (h) {
      std::memcpy(h, &val, size);
    } else {
      if ((va & (size - 1)) != 0) return fail(c, kExcStoreAccess, va);
      if (!c.host.mmio_write(pa, size, val)) return fail(c, kExcStoreAccess, va);
    }
    return true;
  }
  uint64_t pa0, pa1;
  uint8_t *h0, *h1;
  if (!translate_fill(c, va, Access::kWrite, &pa0, &h0)) return false;
  const uint64_t va1 = (va | 0xfff) + 1;
  if (!translate_fill(c, va1, Access::kWrite, &pa1, &h1)) return false;
  if (!h0 || !h1) return fail(c, kExcStoreAccess, h0 ? va1 : va);
  const unsigned n0 = static_cast<unsigned>(va1 - va);
  uint8_t buf[8];
  std::memcpy(buf, &val, 8);
  std::memcpy(h0, buf, n0);
  std::memcpy(h1, buf + n0, size - n0);
  return true;
}

// Fetches the instruction at c.pc into *raw (16 or 32 bits) and refreshes the
// one-entry fetch page cache. A 32-bit instruction at page offset 0xffe spans
// two pages; a fault on its second half reports that half's address in tval
// while epc stays at the instruction (privileged spec §3.1.16).
bool fetch_slow(CpuImpl& c, uint32_t* raw) {
  const uint64_t pc = c.pc;
  uint8_t* h = fetch_host(c, pc);
  if (!h) return false;
  c.fetch_tag = (pc & ~0xfffULL) | c.fetch_key;
  c.fetch_addend = reinterpret_cast<uintptr_t>(h) - pc;
  if ((pc & 0xfff) != 0xffe) {
    // The same 32 bits the fast path reads, so decode-cache entries match.
    std::memcpy(raw, h, 4);
    return true;
  }
  uint16_t lo;
  std::memcpy(&lo, h, 2);
  if ((lo & 3) != 3) {
    *raw = lo;
    return true;
  }
  const uint64_t pc2 = pc + 2;
  uint8_t* h2 = fetch_host(c, pc2);
  if (!h2) return false;
  uint16_t hi;
  std::memcpy(&hi, h2, 2);
  *raw = lo | (static_cast<uint32_t>(hi) << 16);
  return true;
}

uint8_t* amo_ptr(CpuImpl& c, uint64_t va, unsigned size, bool is_lr) {
  if (va & (size - 1)) {
    fail(c, is_lr ? kExcLoadMisaligned : kExcStoreMisaligned, va);
    return nullptr;
  }
  uint64_t pa;
  // LR needs read permission; SC and AMOs need write (and AMOs read: a
  // writable page is readable, since W without R is a reserved encoding).
  if (!mmu_translate(c, va, is_lr ? Access::kRead : Access::kWrite, &pa)) return nullptr;
  if (!in_ram(c, pa, size)) {
    // Main memory only: the MMIO devices here do not support atomics (§3.6.3.2).
    fail(c, is_lr ? kExcLoadAccess : kExcStoreAccess, va);
    return nullptr;
  }
  return c.ram + (pa - c.ram_base);
}

}  // namespace vmsup
