// The F and D extensions' computational instructions (RISC-V unprivileged
// spec ch. 11 "F" §11.6-11.9 and ch. 12 "D" §12.3-12.6): decoding of the
// OP-FP and fused multiply-add major opcodes, NaN boxing (§12.2), rounding
// mode selection (§11.2) and fflags accrual. The arithmetic itself is the
// software IEEE 754 implementation in fpu_softfloat.h, which is exact in every
// rounding mode; the host FPU is used only where it provably gives the same
// bits and flags (see host_fast_* below).
#include "cpu/fpu.h"

#include "cpu/fpu_softfloat.h"

namespace vmsup {
namespace {

namespace sf = softfp;

constexpr uint32_t kOpFp = 0x53, kFmadd = 0x43, kFmsub = 0x47, kFnmsub = 0x4b, kFnmadd = 0x4f;
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
    set_f(sf::fma<F>(FM::read(fs, rs1), FM::read(fs, rs2), FM::read(fs, funct5), negprod, negc, rm,
                     fl));
  } else {
    switch (funct5) {
      case 0x00:  // FADD
      case 0x01:  // FSUB
      case 0x02:  // FMUL
      case 0x03: {  // FDIV
        int rm = resolve_rm(insn, fs);
        if (rm < 0) return FpResult::kIllegal;
        uint64_t a = FM::read(fs, rs1), b = FM::read(fs, rs2);
        if (funct5 <= 1) set_f(sf::add<F>(a, b, funct5 == 1, rm, fl));
        else if (funct5 == 2) set_f(sf::mul<F>(a, b, rm, fl));
        else set_f(sf::div<F>(a, b, rm, fl));
        break;
      }
      case 0x0b: {  // FSQRT
        int rm = resolve_rm(insn, fs);
        if (rs2 != 0 || rm < 0) return FpResult::kIllegal;
        set_f(sf::sqrt<F>(FM::read(fs, rs1), rm, fl));
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
  if (fl) {
    // Any accrual writes fflags, which makes FS dirty (privileged §3.1.6.6).
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
