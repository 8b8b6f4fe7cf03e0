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

// Translation keys (the low 4 bits): 0 = M-mode (no translation); 9 / 10 =
// S / U with satp.MODE = Bare (no translation, but PMP may differ from M);
// otherwise 1 + (S-mode) + 2*SUM + 4*MXR for data and 1 + (S-mode) for fetch.
void update_keys(CpuImpl& c) {
  const bool bare = (c.satp >> 60) == 0;
  const Priv dp = data_priv(c);
  const uint64_t gen = c.tlb_gen << 4;
  if (dp == kPrivM) {
    c.data_key = gen;
  } else if (bare) {
    c.data_key = gen | (dp == kPrivS ? 9 : 10);
  } else {
    c.data_key = gen | (1 + (dp == kPrivS ? 1 : 0) + ((c.mstatus & ms::SUM) ? 2 : 0) + ((c.mstatus & ms::MXR) ? 4 : 0));
  }
  if (c.priv == kPrivM) c.fetch_key = gen;
  else if (bare) c.fetch_key = gen | (c.priv == kPrivS ? 9 : 10);
  else c.fetch_key = gen | (1 + (c.priv == kPrivS ? 1 : 0));
  c.fetch_tag = kTlbInvalid;
}

namespace {

// The byte range [*lo, *hi) that PMP entry i covers (§3.7.1: A = TOR, NA4,
// NAPOT; pmpaddr holds address bits 55:2). false for OFF or an empty TOR.
bool pmp_range(const CpuImpl& c, unsigned i, uint64_t* lo, uint64_t* hi) {
  const unsigned a = (c.pmpcfg[i] >> 3) & 3;
  const uint64_t y = c.pmpaddr[i];
  switch (a) {
    case 1:  // TOR: pmpaddr[i-1] <= a < pmpaddr[i]
      *lo = i == 0 ? 0 : c.pmpaddr[i - 1] << 2;
      *hi = y << 2;
      return *lo < *hi;
    case 2:  // NA4
      *lo = y << 2;
      *hi = *lo + 4;
      return true;
    case 3: {  // NAPOT: k trailing ones = a 2^(k+3)-byte region
      const unsigned k = static_cast<unsigned>(__builtin_ctzll(~y));  // y has at most 54 bits: k <= 54
      const uint64_t mask = (k + 1 >= 64) ? ~0ULL : ((1ULL << (k + 1)) - 1);
      *lo = (y & ~mask) << 2;
      *hi = *lo + (1ULL << (k + 3));
      return true;
    }
  }
  return false;
}

// The lowest-numbered entry overlapping [pa, pa + len), or -1.
int pmp_match(const CpuImpl& c, uint64_t pa, uint64_t len, uint64_t* lo, uint64_t* hi) {
  for (unsigned i = 0; i < 16; i++) {
    if (!pmp_range(c, i, lo, hi)) continue;
    if (pa < *hi && pa + len > *lo) return static_cast<int>(i);
  }
  return -1;
}

// True when every byte of the 4 KiB page at `page` gets the same PMP decision,
// so the page may live in the host-pointer TLB.
bool pmp_page_uniform(const CpuImpl& c, uint64_t page) {
  if (!c.pmp_active) return true;
  uint64_t lo, hi;
  const int i = pmp_match(c, page, 4096, &lo, &hi);
  return i < 0 || (lo <= page && page + 4096 <= hi);
}

}  // namespace

// §3.7.1: the lowest-numbered matching entry decides, and it must cover every
// byte of the access; M-mode is only held to locked entries; with no match, M
// succeeds and S/U fail.
bool pmp_allows(const CpuImpl& c, uint64_t pa, uint64_t len, Access acc, Priv p) {
  if (!c.pmp_active) return p == kPrivM;
  uint64_t lo, hi;
  const int i = pmp_match(c, pa, len, &lo, &hi);
  if (i < 0) return p == kPrivM;
  if (pa < lo || pa + len > hi) return false;  // a partial match fails
  const uint8_t cfg = c.pmpcfg[i];
  if (p == kPrivM && !(cfg & 0x80)) return true;
  const uint8_t need = acc == Access::kRead ? 1 : acc == Access::kWrite ? 2 : 4;
  return cfg & need;
}

void pmp_changed(CpuImpl& c) {
  c.pmp_active = false;
  for (unsigned i = 0; i < 16; i++) c.pmp_active |= ((c.pmpcfg[i] >> 3) & 3) != 0;
  tlb_flush(c);  // host-pointer TLB entries were filled under the old rules
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
    // The walk's implicit PTE reads are PMP-checked as S-mode accesses (§3.7.2).
    if (!in_ram(c, pte_pa, 8) || !pmp_allows(c, pte_pa, 8, Access::kRead, kPrivS))
      return fail(c, access_fault_cause(acc), va);
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
      c.mem.note_write(pte_pa, 8);
      if (!__atomic_compare_exchange_n(pte_host, &pte, want, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return mmu_translate(c, va, acc, pa);
      c.mem.mark_dirty(pte_pa, 8);  // dirty-page tracking (guest_memory.h)
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
// `len` bytes from va are checked against PMP. *cached says whether the page
// went into the TLB (not when PMP rules differ inside it).
bool translate_fill(CpuImpl& c, uint64_t va, Access acc, uint64_t* pa, uint8_t** host, unsigned len,
                    bool* cached = nullptr) {
  if (cached) *cached = false;
  if (!mmu_translate(c, va, acc, pa)) return false;
  if (!pmp_allows(c, *pa, len, acc, access_priv(c, acc))) return fail(c, access_fault_cause(acc), va);
  if (in_ram(c, *pa, 1)) {
    // Dirty-page tracking: marked where a writable entry is filled (guest_memory.h).
    if (acc == Access::kWrite) c.mem.mark_dirty(*pa, 1);
    if (!pmp_page_uniform(c, *pa & ~0xfffULL)) {
      *host = c.ram + (*pa - c.ram_base);  // usable for this access only
      return true;
    }
    // Pages holding translated code stay out of the write TLB: every store to
    // them takes store_slow, which invalidates the translations (cpu/jit).
    if (acc == Access::kWrite && c.mem.is_code_page(*pa)) {
      *host = c.ram + (*pa - c.ram_base);
      return true;
    }
    if (cached) *cached = true;
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
uint8_t* fetch_host(CpuImpl& c, uint64_t va, bool* cached) {
  const TlbEntry& e = c.tlb[2][(va >> 12) & (kTlbSize - 1)];
  if (e.tag == ((va & ~0xfffULL) | c.fetch_key)) {
    *cached = true;
    return reinterpret_cast<uint8_t*>(va + e.addend);
  }
  uint64_t pa;
  uint8_t* h;
  if (!translate_fill(c, va, Access::kFetch, &pa, &h, 2, cached)) return nullptr;
  if (!h) {
    fail(c, kExcInsnAccess, va);  // no instruction fetch from MMIO
    return nullptr;
  }
  return h;
}

}  // namespace

bool tlb_refill(CpuImpl& c, uint64_t va, Access acc, unsigned size) {
  uint64_t pa;
  uint8_t* h = nullptr;
  bool cached = false;
  if (!translate_fill(c, va, acc, &pa, &h, size, &cached)) return false;
  return cached && h != nullptr;
}

bool load_slow(CpuImpl& c, uint64_t va, unsigned size, uint64_t* val) {
  const uint64_t last = va + size - 1;
  if ((va >> 12) == (last >> 12)) {
    uint64_t pa;
    uint8_t* h;
    if (!translate_fill(c, va, Access::kRead, &pa, &h, size)) return false;
    uint64_t v = 0;
    if (h) {
      std::memcpy(&v, h, size);
    } else {
      // MMIO: devices decode naturally aligned accesses only. A device may
      // write RAM (DMA) while it handles the access, so the LR reservation is
      // dropped (unprivileged spec §8.2: the SC must then fail).
      c.resv_valid = false;
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
  const uint64_t va1 = (va | 0xfff) + 1;
  const unsigned n0 = static_cast<unsigned>(va1 - va);
  if (!translate_fill(c, va, Access::kRead, &pa0, &h0, n0)) return false;
  if (!translate_fill(c, va1, Access::kRead, &pa1, &h1, size - n0)) return false;
  if (!h0 || !h1) return fail(c, kExcLoadAccess, h0 ? va1 : va);
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
    if (!translate_fill(c, va, Access::kWrite, &pa, &h, size)) return false;
    if (h) {
      c.mem.note_write(pa, size);
      std::memcpy(h, &val, size);
    } else {
      c.resv_valid = false;  // as for loads: the device may write RAM
      if ((va & (size - 1)) != 0) return fail(c, kExcStoreAccess, va);
      if (!c.host.mmio_write(pa, size, val)) return fail(c, kExcStoreAccess, va);
    }
    return true;
  }
  uint64_t pa0, pa1;
  uint8_t *h0, *h1;
  const uint64_t va1 = (va | 0xfff) + 1;
  const unsigned n0 = static_cast<unsigned>(va1 - va);
  if (!translate_fill(c, va, Access::kWrite, &pa0, &h0, n0)) return false;
  if (!translate_fill(c, va1, Access::kWrite, &pa1, &h1, size - n0)) return false;
  if (!h0 || !h1) return fail(c, kExcStoreAccess, h0 ? va1 : va);
  c.mem.note_write(pa0, n0);
  c.mem.note_write(pa1, size - n0);
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
uint64_t fetch_slow(CpuImpl& c) {
  const uint64_t pc = c.pc;
  bool cached;
  uint8_t* h = fetch_host(c, pc, &cached);
  if (!h) return kFetchFault;
  if (cached) {
    c.fetch_tag = pc & ~0xfffULL;
    c.fetch_addend = reinterpret_cast<uintptr_t>(h) - pc;
  } else {
    // PMP rules differ inside this page: check the second parcel of a 32-bit
    // instruction on its own, and keep the page out of the fetch cache.
    c.fetch_tag = kTlbInvalid;
    uint16_t lo;
    std::memcpy(&lo, h, 2);
    if ((lo & 3) != 3) return lo;
    if ((pc & 0xfff) != 0xffe) {
      uint64_t pa2;
      if (!mmu_translate(c, pc + 2, Access::kFetch, &pa2)) return kFetchFault;
      if (!pmp_allows(c, pa2, 2, Access::kFetch, c.priv)) {
        fail(c, kExcInsnAccess, pc + 2);
        return kFetchFault;
      }
    }
  }
  if ((pc & 0xfff) != 0xffe) {
    // The same 32 bits the fast path reads, so decode-cache entries match.
    uint32_t raw;
    std::memcpy(&raw, h, 4);
    return raw;
  }
  uint16_t lo;
  std::memcpy(&lo, h, 2);
  if ((lo & 3) != 3) {
    return lo;
  }
  const uint64_t pc2 = pc + 2;
  bool cached2;
  uint8_t* h2 = fetch_host(c, pc2, &cached2);
  if (!h2) return kFetchFault;
  uint16_t hi;
  std::memcpy(&hi, h2, 2);
  return lo | (static_cast<uint32_t>(hi) << 16);
}

uint8_t* amo_ptr(CpuImpl& c, uint64_t va, unsigned size, bool is_lr) {
  if (va & (size - 1)) {
    fail(c, is_lr ? kExcLoadMisaligned : kExcStoreMisaligned, va);
    return nullptr;
  }
  // A TLB hit already proves the permission (a writable page is readable: W
  // without R is reserved in PTEs and never kept in pmpcfg).
  const TlbEntry& e = c.tlb[is_lr ? 0 : 1][(va >> 12) & (kTlbSize - 1)];
  if (e.tag == ((va & ~0xfffULL) | c.data_key)) return reinterpret_cast<uint8_t*>(va + e.addend);
  uint64_t pa;
  // LR needs read permission; SC and AMOs need write (and AMOs read: a
  // writable page is readable, since W without R is a reserved encoding).
  if (!mmu_translate(c, va, is_lr ? Access::kRead : Access::kWrite, &pa)) return nullptr;
  const Priv p = data_priv(c);
  const bool pmp_ok = is_lr ? pmp_allows(c, pa, size, Access::kRead, p)
                            : pmp_allows(c, pa, size, Access::kWrite, p) && pmp_allows(c, pa, size, Access::kRead, p);
  if (!pmp_ok) {
    fail(c, is_lr ? kExcLoadAccess : kExcStoreAccess, va);
    return nullptr;
  }
  if (!in_ram(c, pa, size)) {
    // Main memory only: the MMIO devices here do not support atomics (§3.6.3.2).
    fail(c, is_lr ? kExcLoadAccess : kExcStoreAccess, va);
    return nullptr;
  }
  if (!is_lr) {
    c.mem.mark_dirty(pa, size);  // dirty-page tracking (guest_memory.h)
    c.mem.note_write(pa, size);  // SC/AMO may write a code page
  }
  return c.ram + (pa - c.ram_base);
}

}  // namespace vmsup
