// The F and D extensions' computational instructions (RISC-V unprivileged
// spec ch. 11 "F" §11.6-11.9 and ch. 12 "D" §12.3-12.6): decoding of the
// OP-FP and fused multiply-add major opcodes, NaN boxing (§12.2), rounding
// mode selection (§11.2) and fflags accrual. The arithmetic itself is the
// software IEEE 754 implementation in fpu_softfloat.h, which is exact in every
// rounding mode; the host FPU is used only where it provably gives the same
// bits and flags (see "Host fast path" below).
#include "cpu/fpu.h"

#include <cfloat>
#include <cstring>

#include "cpu/fpu_softfloat.h"

namespace vmsup {
namespace {

namespace sf = softfp;

// Major opcodes; FMADD is 0x43 (anything but OP-FP reaching us is one of the four R4 forms).
constexpr uint32_t kOpFp = 0x53, kFmsub = 0x47, kFnmsub = 0x4b, kFnmadd = 0x4f;
constexpr uint64_t kBoxHigh = 0xffffffff00000000ull;

// §12.2: a single-precision operand is valid only when NaN-boxed (upper 32
// bits all 1); otherwise it reads as the canonical NaN.
inline uint64_t unbox32(uint64_t r) {
  return (r & kBoxHigh) == kBoxHigh ? (r & 0xffffffffu) : sf::F32::kCanonNaN;
}

// The rounding mode of an instruction's rm field (§11.2): 7 = DYN takes frm;
// 5 and 6, or DYN with frm > 4, are reserved -> illegal instruction (-1).
inline int resolve_rm(uint32_t insn, const FpState& fs) {
  int rm = (insn >> 12) & 7;
  if (rm == 7) rm = static_cast<int>(fs.frm);
  return rm <= 4 ? rm : -1;
}

// ---- Host fast path --------------------------------------------------------
// FADD/FSUB/FMUL/FDIV/FSQRT in RNE with finite operands and a normal result are
// done on the host FPU, which gives the correctly rounded RNE result; the
// inexact flag is then derived exactly without reading the host's flags (on
// this machine reading MXCSR alone costs more than the soft-float operation):
//   add: Knuth's TwoSum error term is exact; a sum is never tiny and inexact.
//   mul: the product is exact iff the product of the operands' odd significand
//        parts fits in P bits (the result being normal, the exponent fits).
//   div: q = a/b is exact iff odd(q) * odd(b) == odd(a) (then q*b = a * 2^j,
//        and |q*b/a - 1| < 2^-P forces j = 0).
//   sqrt: s is exact iff odd(s)^2 == odd(a), by the same argument.
// A result that is not normal (possible underflow, where RISC-V's tininess
// rule matters), an overflow, or any NaN/infinity operand goes to softfp.
// Assumes the host thread's default floating-point environment (round to
// nearest even, no flush-to-zero / denormals-are-zero): JavaScript's Number
// semantics require exactly that, so Node never changes it, and this code
// never does either. FLT_EVAL_METHOD 0 (SSE on x86-64) keeps float in float.
// Built as ISO C++ (-std=c++20), so GCC does not contract a*b+c into an fma:
// the only fused operations here are the explicit hw_fma calls.
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
constexpr bool kHostFast = true;
#else
constexpr bool kHostFast = false;
#endif

template <class F>
struct Host;
template <>
struct Host<sf::F64> {
  using T = double;
  using U = uint64_t;
  using Wide = sf::u128;
  static T val(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
  static uint64_t bits(T v) {
    U b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  }
};
template <>
struct Host<sf::F32> {
  using T = float;
  using U = uint32_t;
  using Wide = uint64_t;
  static T val(uint64_t b) {
    U u = static_cast<U>(b);
    T v;
    std::memcpy(&v, &u, sizeof v);
    return v;
  }
  static uint64_t bits(T v) {
    U b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  }
};

template <class F>
inline uint64_t exp_field(uint64_t b) {
  return (b >> F::kMant) & sf::Traits<F>::kExpField;
}
// The significand of a finite non-zero value with its trailing zeros removed.
template <class F>
inline uint64_t odd_sig(uint64_t b) {
  uint64_t m = b & sf::Traits<F>::kMantMask;
  if (exp_field<F>(b) != 0) m |= 1ull << F::kMant;
  return m >> __builtin_ctzll(m);
}
template <class F>
inline bool is_zero(uint64_t b) {
  return (b & ~sf::Traits<F>::kSignBit) == 0;
}

// f5: 0 add, 1 sub, 2 mul, 3 div, 11 sqrt. Returns false when softfp must decide.
template <class F>
inline bool host_fast(unsigned f5, uint64_t a, uint64_t b, uint64_t* out, uint32_t* fl) {
  using H = Host<F>;
  using Tr = sf::Traits<F>;
  using W = typename H::Wide;
  constexpr uint64_t kTop = Tr::kExpField;  // exponent field of inf/NaN
  const uint64_t ea = exp_field<F>(a), eb = exp_field<F>(b);
  typename H::T x = H::val(a), y = H::val(b);
  if (f5 <= 1) {
    // Both below 2^emax, so no intermediate of TwoSum can overflow.
    if (ea >= kTop - 1 || eb >= kTop - 1) return false;
    if (f5 == 1) y = -y;
    typename H::T s = x + y;
    typename H::T bb = s - x;
    typename H::T err = (x - (s - bb)) + (y - bb);
    *out = H::bits(s);
    if (err != 0) *fl |= sf::kNX;
    return true;
  }
  if (f5 == 11) {
    if (ea == kTop || (a & Tr::kSignBit)) return false;  // NaN, inf, negative
    if (is_zero<F>(a)) {
      *out = a;
      return true;
    }
    typename H::T r = __builtin_sqrt(x);
    uint64_t rb = H::bits(r);
    W o = odd_sig<F>(rb);
    *out = rb;
    if (o * o != odd_sig<F>(a)) *fl |= sf::kNX;
    return true;
  }
  if (ea == kTop || eb == kTop) return false;
  if (f5 == 2) {
    typename H::T p = x * y;
    uint64_t pb = H::bits(p);
    if (is_zero<F>(a) || is_zero<F>(b)) {
      *out = pb;  // exact signed zero
      return true;
    }
    uint64_t pe = exp_field<F>(pb);
    if (pe < 2 || pe == kTop) return false;  // maybe tiny, or overflow
    *out = pb;
    if ((static_cast<W>(odd_sig<F>(a)) * odd_sig<F>(b)) >> Tr::kP) *fl |= sf::kNX;
    return true;
  }
  // f5 == 3: divide
  if (is_zero<F>(b)) return false;  // DZ or NV
  typename H::T q = x / y;
  uint64_t qb = H::bits(q);
  if (is_zero<F>(a)) {
    *out = qb;
    return true;
  }
  uint64_t qe = exp_field<F>(qb);
  if (qe < 2 || qe == kTop) return false;
  *out = qb;
  if (static_cast<W>(odd_sig<F>(qb)) * odd_sig<F>(b) != odd_sig<F>(a)) *fl |= sf::kNX;
  return true;
}

// Fused multiply-add on the host's FMA unit (x86-64 only, when the CPU has
// one). r = RN(a*b + c) is exact iff a*b == r - c. Both sides are computed as
// error-free pairs (hi, lo) with hi = RN(x) and lo = x - hi exactly:
// TwoProduct(a, b) via fma, TwoSum(r, -c). Such a pair is a function of x, so
// the two are equal iff the pairs are. The error of a product is exact only if
// it does not underflow: |RN(a*b)| >= 2^(emin + P) is required, with a margin.
#if defined(__x86_64__) && defined(__GNUC__)
template <class T>
__attribute__((target("fma"))) inline T hw_fma(T a, T b, T c) {
  return __builtin_fma(a, b, c);
}
template <>
__attribute__((target("fma"))) inline float hw_fma<float>(float a, float b, float c) {
  return __builtin_fmaf(a, b, c);
}
inline bool host_has_fma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") != 0;
  }();
  return has;
}

template <class F>
__attribute__((target("fma"))) bool host_fast_fma(uint64_t a, uint64_t b, uint64_t c, bool negprod,
                                                  bool negc, uint64_t* out, uint32_t* fl) {
  using H = Host<F>;
  using Tr = sf::Traits<F>;
  using T = typename H::T;
  constexpr uint64_t kTop = Tr::kExpField;
  if (exp_field<F>(a) >= kTop - 1 || exp_field<F>(b) >= kTop - 1 || exp_field<F>(c) >= kTop - 1)
    return false;
  if (is_zero<F>(a) || is_zero<F>(b)) return false;
  T x = H::val(a), y = H::val(b), z = H::val(c);
  if (negprod) x = -x;
  if (negc) z = -z;
  T r = hw_fma<T>(x, y, z);
  uint64_t rb = H::bits(r);
  uint64_t re = exp_field<F>(rb);
  if (re < 2 || re >= kTop - 1) return false;  // maybe tiny, zero, or near overflow
  T ph = x * y;
  uint64_t pe = exp_field<F>(H::bits(ph));
  if (pe < Tr::kP + 4 || pe == kTop) return false;
  T pl = hw_fma<T>(x, y, -ph);
  T dh = r - z;  // TwoSum(r, -z); both below 2^emax, so no overflow inside
  T bb = dh - r;
  T dl = (r - (dh - bb)) + (-z - bb);
  *out = rb;
  if (!(ph == dh && pl == dl)) *fl |= sf::kNX;
  return true;
}
#else
inline bool host_has_fma() { return false; }
template <class F>
bool host_fast_fma(uint64_t, uint64_t, uint64_t, bool, bool, uint64_t*, uint32_t*) {
  return false;
}
#endif

template <class F>
struct Fmt;
template <>
struct Fmt<sf::F32> {
  static uint64_t read(const FpState& fs, unsigned r) { return unbox32(fs.f[r]); }
  static uint64_t box(uint64_t v) { return kBoxHigh | v; }
};
template <>
struct Fmt<sf::F64> {
  static uint64_t read(const FpState& fs, unsigned r) { return fs.f[r]; }
  static uint64_t box(uint64_t v) { return v; }
};

// Executes one instruction whose fmt field selected format F. Nothing is
// written before the instruction is known to be legal.
template <class F>
FpResult exec(uint32_t insn, FpState& fs, uint64_t* x, bool* dirty) {
  using FM = Fmt<F>;
  using T = sf::Traits<F>;
  const uint32_t opcode = insn & 0x7f;
  const unsigned rd = (insn >> 7) & 31;
  const unsigned funct3 = (insn >> 12) & 7;
  const unsigned rs1 = (insn >> 15) & 31;
  const unsigned rs2 = (insn >> 20) & 31;
  const unsigned funct5 = insn >> 27;
  uint32_t fl = 0;
  bool wrote_f = false;
  uint64_t fres = 0;
  auto set_f = [&](uint64_t v) {
    fres = v;
    wrote_f = true;
  };
  auto set_x = [&](uint64_t v) {
    if (rd != 0) x[rd] = v;
  };

  if (opcode != kOpFp) {
    // R4-type: FMADD/FMSUB/FNMSUB/FNMADD (§11.6), rs3 in bits 31:27.
    int rm = resolve_rm(insn, fs);
    if (rm < 0) return FpResult::kIllegal;
    bool negprod = opcode == kFnmsub || opcode == kFnmadd;
    bool negc = opcode == kFmsub || opcode == kFnmadd;
    uint64_t a = FM::read(fs, rs1), b = FM::read(fs, rs2), c = FM::read(fs, funct5), r;
    if (kHostFast && rm == sf::kRNE && host_has_fma() &&
        host_fast_fma<F>(a, b, c, negprod, negc, &r, &fl))
      set_f(r);
    else
      set_f(sf::fma<F>(a, b, c, negprod, negc, rm, fl));
  } else {
    switch (funct5) {
      case 0x00:  // FADD
      case 0x01:  // FSUB
      case 0x02:  // FMUL
      case 0x03: {  // FDIV
        int rm = resolve_rm(insn, fs);
        if (rm < 0) return FpResult::kIllegal;
        uint64_t a = FM::read(fs, rs1), b = FM::read(fs, rs2);
        uint64_t r;
        if (kHostFast && rm == sf::kRNE && host_fast<F>(funct5, a, b, &r, &fl)) set_f(r);
        else if (funct5 <= 1) set_f(sf::add<F>(a, b, funct5 == 1, rm, fl));
        else if (funct5 == 2) set_f(sf::mul<F>(a, b, rm, fl));
        else set_f(sf::div<F>(a, b, rm, fl));
        break;
      }
      case 0x0b: {  // FSQRT
        int rm = resolve_rm(insn, fs);
        if (rs2 != 0 || rm < 0) return FpResult::kIllegal;
        uint64_t a = FM::read(fs, rs1), r;
        if (kHostFast && rm == sf::kRNE && host_fast<F>(funct5, a, 0, &r, &fl)) set_f(r);
        else set_f(sf::sqrt<F>(a, rm, fl));
        break;
      }
      case 0x04: {  // FSGNJ / FSGNJN / FSGNJX (§11.6): bit operations, no flags
        uint64_t a = FM::read(fs, rs1), b = FM::read(fs, rs2);
        uint64_t sb;
        if (funct3 == 0) sb = b & T::kSignBit;
        else if (funct3 == 1) sb = ~b & T::kSignBit;
        else if (funct3 == 2) sb = (a ^ b) & T::kSignBit;
        else return FpResult::kIllegal;
        set_f((a & ~T::kSignBit) | sb);
        break;
      }
      case 0x05: {  // FMIN / FMAX
        if (funct3 > 1) return FpResult::kIllegal;
        set_f(sf::minmax<F>(FM::read(fs, rs1), FM::read(fs, rs2), funct3 == 1, fl));
        break;
      }
      case 0x08: {  // FCVT.S.D (fmt S, rs2 = 1) / FCVT.D.S (fmt D, rs2 = 0)
        int rm = resolve_rm(insn, fs);
        if (rm < 0) return FpResult::kIllegal;
        if constexpr (F::kMant == sf::F32::kMant) {
          if (rs2 != 1) return FpResult::kIllegal;
          set_f(sf::convert<sf::F32, sf::F64>(fs.f[rs1], rm, fl));
        } else {
          if (rs2 != 0) return FpResult::kIllegal;
          set_f(sf::convert<sf::F64, sf::F32>(unbox32(fs.f[rs1]), rm, fl));
        }
        break;
      }
      case 0x14: {  // FLE (0) / FLT (1) / FEQ (2)
        if (funct3 > 2) return FpResult::kIllegal;
        set_x(sf::compare<F>(FM::read(fs, rs1), FM::read(fs, rs2), static_cast<int>(funct3), fl));
        break;
      }
      case 0x18: {  // FCVT.W/WU/L/LU.fmt
        int rm = resolve_rm(insn, fs);
        if (rs2 > 3 || rm < 0) return FpResult::kIllegal;
        int width = rs2 >= 2 ? 64 : 32;
        bool is_signed = (rs2 & 1) == 0;
        uint64_t v = sf::to_int<F>(FM::read(fs, rs1), width, is_signed, rm, fl);
        // RV64: 32-bit results, signed or unsigned, are sign-extended (§11.7).
        if (width == 32) v = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
        set_x(v);
        break;
      }
      case 0x1a: {  // FCVT.fmt.W/WU/L/LU
        int rm = resolve_rm(insn, fs);
        if (rs2 > 3 || rm < 0) return FpResult::kIllegal;
        uint64_t src = x[rs1];
        bool neg = false;
        uint64_t mag;
        switch (rs2) {
          case 0: {
            int32_t v = static_cast<int32_t>(src);
            neg = v < 0;
            mag = neg ? 0 - static_cast<uint64_t>(static_cast<int64_t>(v)) : static_cast<uint64_t>(v);
            break;
          }
          case 1: mag = static_cast<uint32_t>(src); break;
          case 2: {
            neg = static_cast<int64_t>(src) < 0;
            mag = neg ? 0 - src : src;
            break;
          }
          default: mag = src; break;
        }
        set_f(sf::from_int<F>(neg, mag, rm, fl));
        break;
      }
      case 0x1c: {  // FMV.X.W / FMV.X.D (funct3 0), FCLASS (funct3 1)
        if (rs2 != 0) return FpResult::kIllegal;
        if (funct3 == 0) {
          // FMV.X.W moves the raw low 32 bits (no NaN-box check), sign-extended.
          uint64_t r = fs.f[rs1];
          if constexpr (F::kMant == sf::F32::kMant)
            r = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(r)));
          set_x(r);
        } else if (funct3 == 1) {
          set_x(sf::classify<F>(FM::read(fs, rs1)));
        } else {
          return FpResult::kIllegal;
        }
        break;
      }
      case 0x1e: {  // FMV.W.X / FMV.D.X
        if (rs2 != 0 || funct3 != 0) return FpResult::kIllegal;
        uint64_t v = x[rs1];
        if constexpr (F::kMant == sf::F32::kMant) v &= 0xffffffffu;
        set_f(v);
        break;
      }
      default:
        return FpResult::kIllegal;
    }
  }
  if (wrote_f) {
    fs.f[rd] = FM::box(fres);
    *dirty = true;
  }
  if (fl & ~fs.fflags) {
    // New exception bits change fflags, which makes FS dirty (privileged spec
    // §3.1.6.6). Re-raising a flag that is already set changes no state.
    fs.fflags |= fl;
    *dirty = true;
  }
  return FpResult::kOk;
}

}  // namespace

FpResult fp_execute(uint32_t insn, FpState& fs, uint64_t* x, bool* dirty) {
  // fmt (bits 26:25): 0 = S, 1 = D; 2 = H and 3 = Q are not implemented.
  switch ((insn >> 25) & 3) {
    case 0: return exec<softfp::F32>(insn, fs, x, dirty);
    case 1: return exec<softfp::F64>(insn, fs, x, dirty);
    default: return FpResult::kIllegal;
  }
}

}  // namespace vmsup
