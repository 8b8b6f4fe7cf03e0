// IEEE 754-2019 binary32/binary64 arithmetic in software, as the RISC-V F and
// D extensions need it (unprivileged spec 20191213, ch. 11 "F", ch. 12 "D"):
//   - every result is correctly rounded in one of the five RISC-V rounding
//     modes (RNE, RTZ, RDN, RUP, RMM; §11.2, table "Rounding mode encoding"),
//   - the five exception flags are accrued exactly (§11.2 "fflags"), with
//     tininess detected AFTER rounding (§11.4 "Subnormal Arithmetic": "in the
//     parlance of the IEEE standard, tininess is detected after rounding"),
//     and UF raised only when the result is tiny and inexact (IEEE 754 §7.5),
//   - every NaN result is the canonical NaN (§11.3 "NaN Generation and
//     Propagation": no payload propagation).
// This is the reference path: fpu.cc may answer common cases on the host FPU
// first, and falls back here for anything rounding-mode or flag sensitive.
//
// Values are carried as raw bits in uint64_t (binary32 in the low 32 bits).
// A finite non-zero value is unpacked to (sign, exp, sig) meaning
// (-1)^sign * sig * 2^exp with sig an integer.
#pragma once

#include <cstdint>

namespace vmsup::softfp {

constexpr uint32_t kNX = 1, kUF = 2, kOF = 4, kDZ = 8, kNV = 16;
enum Rm : int { kRNE = 0, kRTZ = 1, kRDN = 2, kRUP = 3, kRMM = 4 };

using u128 = unsigned __int128;

struct F32 {
  static constexpr int kMant = 23, kExp = 8;
  static constexpr uint64_t kCanonNaN = 0x7fc00000u;
};
struct F64 {
  static constexpr int kMant = 52, kExp = 11;
  static constexpr uint64_t kCanonNaN = 0x7ff8000000000000ull;
};

template <class F>
struct Traits {
  static constexpr int kBias = (1 << (F::kExp - 1)) - 1;
  static constexpr int kEmin = 1 - kBias;  // exponent of the smallest normal
  static constexpr int kEmax = kBias;
  static constexpr int kP = F::kMant + 1;  // precision in bits
  static constexpr uint64_t kMantMask = (1ull << F::kMant) - 1;
  static constexpr uint64_t kExpField = (1ull << F::kExp) - 1;
  static constexpr uint64_t kSignBit = 1ull << (F::kMant + F::kExp);
  static constexpr uint64_t kInf = kExpField << F::kMant;
  static constexpr uint64_t kMaxFinite = kInf - 1;
  static constexpr uint64_t kAllBits = kSignBit | (kSignBit - 1);
};

enum Cls : uint8_t { kZero, kFinite, kInf, kQNaN, kSNaN };

struct Unp {
  Cls cls;
  bool sign;
  int exp;
  uint64_t sig;
};

template <class F>
inline Unp unpack(uint64_t bits) {
  using T = Traits<F>;
  Unp u;
  u.sign = (bits & T::kSignBit) != 0;
  uint64_t be = (bits >> F::kMant) & T::kExpField;
  uint64_t frac = bits & T::kMantMask;
  u.exp = 0;
  u.sig = 0;
  if (be == T::kExpField) {
    if (frac == 0) u.cls = kInf;
    else u.cls = (frac >> (F::kMant - 1)) & 1 ? kQNaN : kSNaN;
  } else if (be == 0) {
    if (frac == 0) {
      u.cls = kZero;
    } else {
      u.cls = kFinite;
      u.sig = frac;
      u.exp = T::kEmin - F::kMant;
    }
  } else {
    u.cls = kFinite;
    u.sig = frac | (1ull << F::kMant);
    u.exp = static_cast<int>(be) - T::kBias - F::kMant;
  }
  return u;
}

inline bool is_nan(const Unp& u) { return u.cls >= kQNaN; }

template <class F>
inline uint64_t make_inf(bool s) { return (s ? Traits<F>::kSignBit : 0) | Traits<F>::kInf; }
template <class F>
inline uint64_t make_zero(bool s) { return s ? Traits<F>::kSignBit : 0; }

inline int clz128(u128 v) {
  uint64_t hi = static_cast<uint64_t>(v >> 64);
  if (hi) return __builtin_clzll(hi);
  uint64_t lo = static_cast<uint64_t>(v);
  return lo ? 64 + __builtin_clzll(lo) : 128;
}

struct Rounded {
  uint64_t q;
  bool inexact;
};

// Drops the low `sh` bits of v (v < 2^63) and rounds in mode rm; `sign` is the
// sign of the value, which the directed modes need.
inline Rounded round_shift(uint64_t v, int sh, bool sign, int rm) {
  if (sh <= 0) return {v, false};
  if (sh >= 64) {
    // The halfway point 2^(sh-1) >= 2^63 > v: below half, only the sticky bit.
    bool inex = v != 0;
    bool up = inex && ((rm == kRUP && !sign) || (rm == kRDN && sign));
    return {up ? 1u : 0u, inex};
  }
  uint64_t q = v >> sh;
  uint64_t rem = v & ((1ull << sh) - 1);
  uint64_t half = 1ull << (sh - 1);
  bool up;
  switch (rm) {
    case kRNE: up = rem > half || (rem == half && (q & 1)); break;
    case kRMM: up = rem >= half; break;
    case kRDN: up = rem != 0 && sign; break;
    case kRUP: up = rem != 0 && !sign; break;
    default: up = false; break;  // RTZ
  }
  return {q + up, rem != 0};
}

// Right shift with the shifted-out bits ORed into bit 0 ("jamming").
inline uint64_t shr_jam(uint64_t v, int sh) {
  if (sh <= 0) return v;
  if (sh >= 64) return v != 0;
  return (v >> sh) | ((v & ((1ull << sh) - 1)) != 0);
}
inline u128 shr_jam128(u128 v, int sh) {
  if (sh <= 0) return v;
  if (sh >= 128) return v != 0;
  return (v >> sh) | ((v & ((static_cast<u128>(1) << sh) - 1)) != 0);
}

// Rounds (-1)^sign * sig * 2^exp (sig != 0) to format F in mode rm, accruing
// NX/UF/OF into fl. The bits that matter for rounding must be exact, with any
// lower non-zero bits jammed into bit 0 (at least 2 bits below the result's lsb).
template <class F>
uint64_t round_pack(bool sign, int exp, uint64_t sig, int rm, uint32_t& fl) {
  using T = Traits<F>;
  // Normalize: leading one at bit 62, so that v < 2^63 for round_shift.
  int lz = __builtin_clzll(sig);
  if (lz == 0) {
    sig = (sig >> 1) | (sig & 1);
    exp += 1;
  } else {
    sig <<= (lz - 1);
    exp -= (lz - 1);
  }
  constexpr int kShift = 63 - T::kP;  // bits below the lsb of a normal result
  int e = exp + 62;                   // exponent of the leading bit
  uint64_t sbit = sign ? T::kSignBit : 0;
  Rounded r = round_shift(sig, kShift, sign, rm);
  if (e >= T::kEmin) {
    if (r.q >> T::kP) {  // rounded up to 2^P: renormalize (exact)
      r.q >>= 1;
      e++;
    }
    if (e > T::kEmax) {
      // §11.2 / IEEE 754 §7.4: overflow gives inf or the largest finite value
      // depending on the rounding direction.
      fl |= kOF | kNX;
      bool to_inf = rm == kRNE || rm == kRMM || (rm == kRUP && !sign) || (rm == kRDN && sign);
      return sbit | (to_inf ? T::kInf : T::kMaxFinite);
    }
    if (r.inexact) fl |= kNX;
    return sbit | (static_cast<uint64_t>(e + T::kBias) << F::kMant) | (r.q & T::kMantMask);
  }
  // Below the normal range. Tininess after rounding: the value rounded to P
  // bits with an unbounded exponent is still below 2^emin — unless it rounded
  // up to 2^(e+1) == 2^emin.
  bool tiny = !((r.q >> T::kP) && e + 1 == T::kEmin);
  Rounded d = round_shift(sig, kShift + (T::kEmin - e), sign, rm);
  if (d.inexact) {
    fl |= kNX;
    if (tiny) fl |= kUF;
  }
  // A subnormal has exponent field 0; a carry into bit kMant is exactly the
  // encoding of the smallest normal.
  return sbit | d.q;
}

template <class F>
uint64_t round_pack128(bool sign, int exp, u128 sig, int rm, uint32_t& fl) {
  if ((sig >> 63) == 0) return round_pack<F>(sign, exp, static_cast<uint64_t>(sig), rm, fl);
  int sh = (128 - clz128(sig)) - 63;
  return round_pack<F>(sign, exp + sh, static_cast<uint64_t>(shr_jam128(sig, sh)), rm, fl);
}

// The sign of an exact zero sum of operands with opposite signs (IEEE 754 §6.3):
// +0 in every mode except roundTowardNegative.
inline bool zero_sum_sign(int rm) { return rm == kRDN; }

// a + b (b negated when `negb`, for FSUB).
template <class F>
uint64_t add(uint64_t a, uint64_t b, bool negb, int rm, uint32_t& fl) {
  using T = Traits<F>;
  Unp x = unpack<F>(a), y = unpack<F>(b);
  if (negb) {
    y.sign = !y.sign;
    b ^= T::kSignBit;
  }
  if (is_nan(x) || is_nan(y)) {
    if (x.cls == kSNaN || y.cls == kSNaN) fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kInf) {
    if (y.cls == kInf && x.sign != y.sign) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return a;
  }
  if (y.cls == kInf) return b;
  if (x.cls == kZero) {
    if (y.cls == kZero) return make_zero<F>(x.sign == y.sign ? x.sign : zero_sum_sign(rm));
    return b;
  }
  if (y.cls == kZero) return a;
  // Both finite non-zero: leading bits at 61, align, add with a sticky bit.
  int lx = __builtin_clzll(x.sig) - 2, ly = __builtin_clzll(y.sig) - 2;
  x.sig <<= lx;
  x.exp -= lx;
  y.sig <<= ly;
  y.exp -= ly;
  if (x.exp < y.exp) {
    Unp t = x;
    x = y;
    y = t;
  }
  y.sig = shr_jam(y.sig, x.exp - y.exp);
  uint64_t s;
  bool sign;
  if (x.sign == y.sign) {
    s = x.sig + y.sig;
    sign = x.sign;
  } else if (x.sig >= y.sig) {
    s = x.sig - y.sig;
    sign = x.sign;
  } else {
    s = y.sig - x.sig;
    sign = y.sign;
  }
  if (s == 0) return make_zero<F>(zero_sum_sign(rm));
  return round_pack<F>(sign, x.exp, s, rm, fl);
}

template <class F>
uint64_t mul(uint64_t a, uint64_t b, int rm, uint32_t& fl) {
  Unp x = unpack<F>(a), y = unpack<F>(b);
  bool sign = x.sign != y.sign;
  if (is_nan(x) || is_nan(y)) {
    if (x.cls == kSNaN || y.cls == kSNaN) fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kInf || y.cls == kInf) {
    if (x.cls == kZero || y.cls == kZero) {  // inf * 0: invalid
      fl |= kNV;
      return F::kCanonNaN;
    }
    return make_inf<F>(sign);
  }
  if (x.cls == kZero || y.cls == kZero) return make_zero<F>(sign);
  return round_pack128<F>(sign, x.exp + y.exp, static_cast<u128>(x.sig) * y.sig, rm, fl);
}

template <class F>
uint64_t div(uint64_t a, uint64_t b, int rm, uint32_t& fl) {
  Unp x = unpack<F>(a), y = unpack<F>(b);
  bool sign = x.sign != y.sign;
  if (is_nan(x) || is_nan(y)) {
    if (x.cls == kSNaN || y.cls == kSNaN) fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kInf) {
    if (y.cls == kInf) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return make_inf<F>(sign);
  }
  if (y.cls == kInf) return make_zero<F>(sign);
  if (y.cls == kZero) {
    if (x.cls == kZero) {  // 0/0: invalid
      fl |= kNV;
      return F::kCanonNaN;
    }
    fl |= kDZ;  // finite non-zero / 0: division by zero, exact infinity
    return make_inf<F>(sign);
  }
  if (x.cls == kZero) return make_zero<F>(sign);
  int lx = __builtin_clzll(x.sig) - 1, ly = __builtin_clzll(y.sig) - 1;
  uint64_t xs = x.sig << lx, ys = y.sig << ly;  // both in [2^62, 2^63)
  u128 n = static_cast<u128>(xs) << 64;
  u128 q = n / ys;
  bool rem = (n % ys) != 0;
  return round_pack128<F>(sign, (x.exp - lx) - (y.exp - ly) - 64, q | rem, rm, fl);
}

// floor(sqrt(n)) for 2^124 <= n < 2^127, and whether it was exact. A double
// seed (53 good bits) and one Newton step (which from any seed lands at or
// above the root, and squares the error) leave at most a step or two to fix.
inline uint64_t isqrt128(u128 n, bool* exact) {
  double hi = static_cast<double>(static_cast<uint64_t>(n >> 64)) * 18446744073709551616.0;
  uint64_t r = static_cast<uint64_t>(__builtin_sqrt(hi));
  if (r == 0) r = 1;
  r = static_cast<uint64_t>((static_cast<u128>(r) + n / r) >> 1);
  while (static_cast<u128>(r) * r > n) r--;
  while (static_cast<u128>(r + 1) * (r + 1) <= n) r++;
  *exact = static_cast<u128>(r) * r == n;
  return r;
}

template <class F>
uint64_t sqrt(uint64_t a, int rm, uint32_t& fl) {
  Unp x = unpack<F>(a);
  if (is_nan(x)) {
    if (x.cls == kSNaN) fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kZero) return a;  // sqrt(-0) = -0
  if (x.sign) {                  // negative non-zero, including -inf
    fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kInf) return a;
  int l = __builtin_clzll(x.sig) - 1;
  u128 n = static_cast<u128>(x.sig << l) << 64;  // leading bit at 126
  int e = x.exp - l - 64;
  if (e & 1) {  // make the exponent even; the low bits of n are zero, so exact
    n >>= 1;
    e += 1;
  }
  bool exact;
  uint64_t r = isqrt128(n, &exact);
  return round_pack<F>(false, e / 2, r | !exact, rm, fl);
}

// Fused multiply-add with one rounding: (-1)^negprod * a * b + (-1)^negc * c.
template <class F>
uint64_t fma(uint64_t a, uint64_t b, uint64_t c, bool negprod, bool negc, int rm, uint32_t& fl) {
  using T = Traits<F>;
  Unp x = unpack<F>(a), y = unpack<F>(b), z = unpack<F>(c);
  bool psign = (x.sign != y.sign) != negprod;
  if (negc) {
    z.sign = !z.sign;
    c ^= T::kSignBit;
  }
  bool inf_times_zero =
      (x.cls == kInf && y.cls == kZero) || (x.cls == kZero && y.cls == kInf);
  if (is_nan(x) || is_nan(y) || is_nan(z)) {
    // §11.6: "the invalid operation exception flag [is set] when the
    // multiplicands are infinity and zero, even when the addend is a quiet NaN".
    if (x.cls == kSNaN || y.cls == kSNaN || z.cls == kSNaN || inf_times_zero) fl |= kNV;
    return F::kCanonNaN;
  }
  if (inf_times_zero) {
    fl |= kNV;
    return F::kCanonNaN;
  }
  if (x.cls == kInf || y.cls == kInf) {
    if (z.cls == kInf && z.sign != psign) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return make_inf<F>(psign);
  }
  if (z.cls == kInf) return c;
  if (x.cls == kZero || y.cls == kZero) {
    if (z.cls == kZero) return make_zero<F>(psign == z.sign ? psign : zero_sum_sign(rm));
    return c;
  }
  u128 p = static_cast<u128>(x.sig) * y.sig;
  int pe = x.exp + y.exp;
  if (z.cls == kZero) return round_pack128<F>(psign, pe, p, rm, fl);
  // Exact product (< 2^106) and addend, both with the leading bit at 125.
  int lp = clz128(p) - 2;
  p <<= lp;
  pe -= lp;
  int lz = clz128(z.sig) - 2;
  u128 zs = static_cast<u128>(z.sig) << lz;
  int ze = z.exp - lz;
  bool zsign = z.sign;
  if (pe < ze) {
    u128 ts = p;
    p = zs;
    zs = ts;
    int te = pe;
    pe = ze;
    ze = te;
    bool tb = psign;
    psign = zsign;
    zsign = tb;
  }
  zs = shr_jam128(zs, pe - ze);
  u128 s;
  bool sign;
  if (psign == zsign) {
    s = p + zs;
    sign = psign;
  } else if (p >= zs) {
    s = p - zs;
    sign = psign;
  } else {
    s = zs - p;
    sign = zsign;
  }
  if (s == 0) return make_zero<F>(zero_sum_sign(rm));
  return round_pack128<F>(sign, pe, s, rm, fl);
}

// Integer to float: (-1)^sign * mag.
template <class F>
uint64_t from_int(bool sign, uint64_t mag, int rm, uint32_t& fl) {
  if (mag == 0) return 0;
  return round_pack<F>(sign, 0, mag, rm, fl);
}

// Float to a `width`-bit (32 or 64) signed or unsigned integer, §11.7:
// NaN and +overflow saturate to the maximum, -overflow to the minimum, with NV;
// out-of-range results raise NV only (not NX); in-range inexact results raise NX.
template <class F>
uint64_t to_int(uint64_t a, int width, bool is_signed, int rm, uint32_t& fl) {
  Unp x = unpack<F>(a);
  uint64_t umax = width == 64 ? ~0ull : (1ull << width) - 1;
  uint64_t smax = (1ull << (width - 1)) - 1;  // as magnitude
  uint64_t smin_mag = 1ull << (width - 1);
  uint64_t pos_limit = is_signed ? smax : umax;
  uint64_t pos_sat = is_signed ? smax : umax;
  uint64_t neg_sat = is_signed ? (0 - smin_mag) : 0;
  if (is_nan(x)) {
    fl |= kNV;
    return pos_sat;
  }
  if (x.cls == kInf) {
    fl |= kNV;
    return x.sign ? neg_sat : pos_sat;
  }
  if (x.cls == kZero) return 0;
  uint64_t mag = 0;
  bool inexact = false;
  bool overflow = false;
  if (x.exp >= 0) {
    int bits = 64 - __builtin_clzll(x.sig);
    if (bits + x.exp > 64) overflow = true;
    else mag = x.sig << x.exp;
  } else {
    Rounded r = round_shift(x.sig, -x.exp, x.sign, rm);
    mag = r.q;
    inexact = r.inexact;
  }
  if (!overflow) {
    if (x.sign) overflow = is_signed ? mag > smin_mag : mag != 0;
    else overflow = mag > pos_limit;
  }
  if (overflow) {
    fl |= kNV;
    return x.sign ? neg_sat : pos_sat;
  }
  if (inexact) fl |= kNX;
  return x.sign ? 0 - mag : mag;
}

// Format conversion (FCVT.S.D, FCVT.D.S).
template <class To, class From>
uint64_t convert(uint64_t a, int rm, uint32_t& fl) {
  Unp x = unpack<From>(a);
  if (is_nan(x)) {
    if (x.cls == kSNaN) fl |= kNV;
    return To::kCanonNaN;
  }
  if (x.cls == kInf) return make_inf<To>(x.sign);
  if (x.cls == kZero) return make_zero<To>(x.sign);
  return round_pack<To>(x.sign, x.exp, x.sig, rm, fl);
}

// An integer that orders non-NaN values as the reals do, with -0 < +0.
template <class F>
inline uint64_t order_key(uint64_t a) {
  using T = Traits<F>;
  return (a & T::kSignBit) ? (~a & T::kAllBits) : (a | T::kSignBit);
}

// FMIN/FMAX (§11.6, IEEE 754-2019 minimumNumber/maximumNumber).
template <class F>
uint64_t minmax(uint64_t a, uint64_t b, bool want_max, uint32_t& fl) {
  Unp x = unpack<F>(a), y = unpack<F>(b);
  if (x.cls == kSNaN || y.cls == kSNaN) fl |= kNV;
  if (is_nan(x) && is_nan(y)) return F::kCanonNaN;
  if (is_nan(x)) return b;
  if (is_nan(y)) return a;
  bool a_less = order_key<F>(a) < order_key<F>(b);
  return (a_less != want_max) ? a : b;
}

enum Cmp { kCmpLe = 0, kCmpLt = 1, kCmpEq = 2 };

// FEQ is a quiet comparison (NV only for signaling NaNs); FLT and FLE are
// signaling (NV for any NaN) — §11.8.
template <class F>
uint64_t compare(uint64_t a, uint64_t b, int op, uint32_t& fl) {
  Unp x = unpack<F>(a), y = unpack<F>(b);
  if (is_nan(x) || is_nan(y)) {
    if (op != kCmpEq || x.cls == kSNaN || y.cls == kSNaN) fl |= kNV;
    return 0;
  }
  bool zeros = x.cls == kZero && y.cls == kZero;
  uint64_t ka = order_key<F>(a), kb = order_key<F>(b);
  switch (op) {
    case kCmpEq: return zeros || a == b;
    case kCmpLt: return !zeros && ka < kb;
    default: return zeros || ka <= kb;
  }
}

// FCLASS (§11.9): exactly one of ten bits.
template <class F>
uint64_t classify(uint64_t a) {
  Unp x = unpack<F>(a);
  bool sub = x.cls == kFinite && ((a >> F::kMant) & Traits<F>::kExpField) == 0;
  switch (x.cls) {
    case kInf: return x.sign ? 1u << 0 : 1u << 7;
    case kZero: return x.sign ? 1u << 3 : 1u << 4;
    case kSNaN: return 1u << 8;
    case kQNaN: return 1u << 9;
    default:
      if (sub) return x.sign ? 1u << 2 : 1u << 5;
      return x.sign ? 1u << 1 : 1u << 6;
  }
}

}  // namespace vmsup::softfp
