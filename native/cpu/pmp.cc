// Physical memory protection (privileged spec §3.7). Sixteen entries, grain 4
// bytes (G = 0). The check runs where a translation is installed in the TLB
// (mmu.cc translate_fill): a 4 KiB page that one entry covers entirely is
// decided once for the whole page and cached; a page that an entry covers only
// in part is never cached and every access to it is checked here. PMP CSR
// writes empty the TLB (csr.cc), so no stale decision outlives a change.
#include "cpu/cpu_impl.h"

namespace vmsup {

namespace {

constexpr uint8_t kCfgR = 0x01, kCfgW = 0x02, kCfgX = 0x04, kCfgL = 0x80;
constexpr unsigned kOff = 0, kTor = 1, kNa4 = 2, kNapot = 3;

// The bytes [*lo, *last] entry i matches (§3.7.1.1, "Address Matching").
// False when it matches nothing (A = OFF, or an empty TOR range).
bool entry_range(const CpuImpl& c, unsigned i, uint64_t* lo, uint64_t* last) {
  const unsigned a = (c.pmpcfg[i] >> 3) & 3;
  const uint64_t addr = c.pmpaddr[i];  // bits 55:2 of the address
  switch (a) {
    case kTor: {
      // [pmpaddr[i-1], pmpaddr[i]) in units of 4 bytes; entry 0 starts at 0.
      const uint64_t base = i == 0 ? 0 : c.pmpaddr[i - 1] << 2;
      const uint64_t top = addr << 2;
      if (base >= top) return false;
      *lo = base;
      *last = top - 1;
      return true;
    }
    case kNa4:
      *lo = addr << 2;
      *last = *lo + 3;
      return true;
    case kNapot: {
      // k trailing ones: a naturally aligned 2^(k+3)-byte region. pmpaddr
      // holds 54 bits, so k <= 54 and the size fits in 64 bits.
      const unsigned k = static_cast<unsigned>(__builtin_ctzll(~addr));
      const uint64_t size_m1 = (1ULL << (k + 3)) - 1;
      *lo = (addr << 2) & ~size_m1;
      *last = *lo + size_m1;
      return true;
    }
    case kOff:
    default:
      return false;
  }
}

inline uint8_t need(Access acc) {
  return acc == Access::kFetch ? kCfgX : acc == Access::kRead ? kCfgR : kCfgW;
}

// An access that an entry matches: M is held to it only when it is locked.
inline bool permits(uint8_t cfg, Access acc, Priv p) {
  if (p == kPrivM && !(cfg & kCfgL)) return true;
  return (cfg & need(acc)) != 0;
}

}  // namespace

// §3.7.1: the lowest-numbered entry that matches any byte of the access
// decides; it must match all of them. With no match, M succeeds and S/U fail
// (entries are implemented).
bool pmp_allows(const CpuImpl& c, uint64_t pa, uint64_t len, Access acc, Priv p) {
  const uint64_t end = pa + len - 1;
  for (unsigned i = 0; i < 16; i++) {
    uint64_t lo, last;
    if (!entry_range(c, i, &lo, &last)) continue;
    if (end < lo || pa > last) continue;                 // no byte matches
    if (pa < lo || end > last) return false;             // some but not all bytes
    return permits(c.pmpcfg[i], acc, p);
  }
  return p == kPrivM;
}

// True when every access of kind `acc` at privilege `p` anywhere in the 4 KiB
// page at `page` is allowed, so the page may be cached in the TLB.
bool pmp_page_allows(const CpuImpl& c, uint64_t page, Access acc, Priv p) {
  const uint64_t end = page + 0xfff;
  for (unsigned i = 0; i < 16; i++) {
    uint64_t lo, last;
    if (!entry_range(c, i, &lo, &last)) continue;
    if (end < lo || page > last) continue;
    if (page < lo || end > last) return false;  // decided access by access
    return permits(c.pmpcfg[i], acc, p);
  }
  return p == kPrivM;
}

}  // namespace vmsup
