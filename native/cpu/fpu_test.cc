// Unit tests for fp_execute (native/cpu/fpu.cc).
#include "cpu/fpu.h"

#include <cstring>
#include <random>

#include "cpu/fpu_softfloat.h"
#include "cpu/fpu_test_vectors.h"
#include "testing.h"

using namespace vmsup;

namespace {

constexpr uint32_t NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16;
enum { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4, DYN = 7 };
enum { S = 0, D = 1 };

uint32_t op_fp(uint32_t funct5, uint32_t fmt, uint32_t rs2, uint32_t rs1, uint32_t rm, uint32_t rd) {
  return funct5 << 27 | fmt << 25 | rs2 << 20 | rs1 << 15 | rm << 12 | rd << 7 | 0x53;
}

struct Cpu {
  FpState fs{};
  uint64_t x[32]{};
  bool dirty = false;
  FpResult run(uint32_t insn) {
    dirty = false;
    return fp_execute(insn, fs, x, &dirty);
  }
};

uint64_t d(double v) { uint64_t b; std::memcpy(&b, &v, 8); return b; }
uint64_t s(float v) { uint32_t b; std::memcpy(&b, &v, 4); return 0xffffffff00000000ull | b; }


// The hand-written cases below state the spec's rules directly (RISC-V
// unprivileged spec ch. 11/12, IEEE 754-2019); the bulk comparison against an
// independent implementation is qemu_oracle_vectors at the end.

uint32_t r4(uint32_t opcode, uint32_t fmt, uint32_t rs3, uint32_t rs2, uint32_t rs1, uint32_t rm,
            uint32_t rd) {
  return rs3 << 27 | fmt << 25 | rs2 << 20 | rs1 << 15 | rm << 12 | rd << 7 | opcode;
}
enum F5 : uint32_t { ADD = 0, SUB = 1, MUL = 2, DIV = 3, SGNJ = 4, MINMAX = 5, CVT_FF = 8,
                     SQRT = 11, CMP = 20, CVT_IF = 24, CVT_FI = 26, MVX_CLASS = 28, MVF = 30 };
constexpr uint64_t kDNaN = 0x7ff8000000000000ull, kSNaNd = 0x7ff0000000000001ull;
constexpr uint64_t kSCanon = 0xffffffff7fc00000ull;
constexpr uint64_t kUnset = 0x5555555555555555ull;

// Runs a one- or two-operand instruction with f1 = a, f2 = b into f3; returns f3.
uint64_t bin(Cpu& c, uint32_t f5, uint32_t fmt, uint32_t rm, uint64_t a, uint64_t b) {
  c.fs.f[1] = a;
  c.fs.f[2] = b;
  c.fs.f[3] = kUnset;
  c.fs.fflags = 0;
  CHECK(c.run(op_fp(f5, fmt, f5 == SQRT ? 0 : 2, 1, rm, 3)) == FpResult::kOk);  // FSQRT: rs2 = 0
  return c.fs.f[3];
}
uint64_t to_x(Cpu& c, uint32_t f5, uint32_t fmt, uint32_t rs2, uint32_t rm, uint64_t a) {
  c.fs.f[1] = a;
  c.x[3] = 0xdead;
  c.fs.fflags = 0;
  CHECK(c.run(op_fp(f5, fmt, rs2, 1, rm, 3)) == FpResult::kOk);
  return c.x[3];
}

}  // namespace

TEST(basic_arithmetic) {
  Cpu c;
  CHECK_EQ(bin(c, ADD, D, RNE, d(1.5), d(2.25)), d(3.75));
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK(c.dirty);
  CHECK_EQ(bin(c, DIV, S, RNE, s(1.0f), s(3.0f)), s(1.0f / 3.0f));
  CHECK_EQ(c.fs.fflags, NX);
  CHECK_EQ(bin(c, MUL, D, RNE, d(-3.0), d(0.5)), d(-1.5));
  CHECK_EQ(bin(c, SUB, S, RNE, s(1.0f), s(0.25f)), s(0.75f));
  CHECK_EQ(bin(c, SQRT, D, RNE, d(2.0), 0), d(1.4142135623730951));
  CHECK_EQ(c.fs.fflags, NX);
}

TEST(unboxed_single_operands_read_as_canonical_nan) {
  Cpu c;
  // §12.2: upper 32 bits not all ones -> the operand is the canonical NaN
  // (a quiet NaN: no NV), and the arithmetic result is the canonical NaN.
  CHECK_EQ(bin(c, ADD, S, RNE, 0x000000003f800000ull, s(1.0f)), kSCanon);
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(bin(c, MUL, S, RNE, s(2.0f), 0x7fffffff3f800000ull), kSCanon);
  // FCLASS.S sees a quiet NaN (bit 9).
  CHECK_EQ(to_x(c, MVX_CLASS, S, 0, 1, 0x000000003f800000ull), 1ull << 9);
  // FMIN.S with one unboxed operand returns the other one.
  CHECK_EQ(bin(c, MINMAX, S, 0, 0x00000000bf800000ull, s(5.0f)), s(5.0f));
  // FSGNJ.S copies the canonical NaN's magnitude, and boxes the result.
  CHECK_EQ(bin(c, SGNJ, S, 1, 0x00000000bf800000ull, s(1.0f)), 0xffffffffffc00000ull);
}

TEST(single_results_are_boxed) {
  Cpu c;
  c.x[5] = 0x123456783f800000ull;
  CHECK(c.run(op_fp(MVF, S, 0, 5, 0, 4)) == FpResult::kOk);  // FMV.W.X
  CHECK_EQ(c.fs.f[4], 0xffffffff3f800000ull);
  c.x[5] = 0xffffffffffffff00ull;  // FCVT.S.W reads only the low 32 bits: -256
  CHECK(c.run(op_fp(CVT_FI, S, 0, 5, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], s(-256.0f));
  CHECK_EQ(bin(c, SGNJ, S, 2, s(-2.0f), s(-1.0f)), s(2.0f));
  // FCVT.S.D boxes too.
  c.fs.f[1] = d(0.5);
  CHECK(c.run(op_fp(CVT_FF, S, 1, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], s(0.5f));
}

TEST(fmv_x_w_sign_extends_raw_bits) {
  Cpu c;
  CHECK_EQ(to_x(c, MVX_CLASS, S, 0, 0, 0x00000000bf800000ull), 0xffffffffbf800000ull);
  CHECK_EQ(to_x(c, MVX_CLASS, S, 0, 0, 0xffffffff3f800000ull), 0x3f800000ull);
  CHECK_EQ(to_x(c, MVX_CLASS, D, 0, 0, 0x0123456789abcdefull), 0x0123456789abcdefull);
  CHECK(!c.dirty);  // no f register, no fflags written
}

TEST(nan_results_are_canonical) {
  Cpu c;
  CHECK_EQ(bin(c, ADD, D, RNE, 0xfff8000000000123ull, d(1.0)), kDNaN);
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(bin(c, MUL, D, RNE, kSNaNd, d(1.0)), kDNaN);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, SUB, D, RNE, 0x7ff0000000000000ull, 0x7ff0000000000000ull), kDNaN);  // inf - inf
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, MUL, S, RNE, s(0.0f), 0xffffffff7f800000ull), kSCanon);  // 0 * inf
  CHECK_EQ(c.fs.fflags, NV);
  c.fs.f[1] = 0xffffffff7f800001ull;  // FCVT.D.S of a signaling NaN
  c.fs.fflags = 0;
  CHECK(c.run(op_fp(CVT_FF, D, 0, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], kDNaN);
  CHECK_EQ(c.fs.fflags, NV);
}

TEST(fmin_fmax_signed_zeros_and_nans) {
  Cpu c;
  uint64_t pz = d(0.0), nz = d(-0.0), qn = kDNaN;
  CHECK_EQ(bin(c, MINMAX, D, 0, pz, nz), nz);
  CHECK_EQ(bin(c, MINMAX, D, 0, nz, pz), nz);
  CHECK_EQ(bin(c, MINMAX, D, 1, nz, pz), pz);
  CHECK_EQ(bin(c, MINMAX, D, 1, pz, nz), pz);
  CHECK_EQ(bin(c, MINMAX, D, 0, qn, d(3.0)), d(3.0));  // one NaN: the other operand
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(bin(c, MINMAX, D, 1, d(-3.0), qn), d(-3.0));
  CHECK_EQ(bin(c, MINMAX, D, 0, kSNaNd, d(3.0)), d(3.0));  // sNaN: still the other, with NV
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, MINMAX, D, 1, 0xfff8000000000001ull, kSNaNd), kDNaN);  // both NaN
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, MINMAX, S, 1, s(-0.0f), s(0.0f)), s(0.0f));
  CHECK_EQ(bin(c, MINMAX, S, 0, s(-1.0f), s(-2.0f)), s(-2.0f));
}

TEST(exact_zero_sums_are_positive_except_in_rdn) {
  Cpu c;
  for (uint32_t rm : {RNE, RTZ, RUP, RMM}) {
    CHECK_EQ(bin(c, ADD, D, rm, d(1.25), d(-1.25)), d(0.0));
    CHECK_EQ(bin(c, SUB, S, rm, s(7.0f), s(7.0f)), s(0.0f));
  }
  CHECK_EQ(bin(c, ADD, D, RDN, d(1.25), d(-1.25)), d(-0.0));
  CHECK_EQ(bin(c, SUB, S, RDN, s(7.0f), s(7.0f)), s(-0.0f));
  CHECK_EQ(bin(c, ADD, D, RNE, d(-0.0), d(-0.0)), d(-0.0));
  CHECK_EQ(bin(c, ADD, D, RNE, d(-0.0), d(0.0)), d(0.0));
  CHECK_EQ(c.fs.fflags, 0u);
}

TEST(rounding_modes_on_halfway_cases) {
  Cpu c;
  const uint64_t one = d(1.0), up = d(1.0) + 1, two_up = d(1.0) + 2;
  const uint64_t half = d(0x1p-53), three_half = d(0x3p-53);
  // 1 + half an ulp: a tie between 1 (even) and 1 + ulp.
  const uint64_t want_tie[5] = {one, one, one, up, up};  // RNE RTZ RDN RUP RMM
  // 1 + 1.5 ulp: a tie between 1 + ulp (odd) and 1 + 2 ulp (even).
  const uint64_t want_tie3[5] = {two_up, up, up, two_up, two_up};
  for (uint32_t rm = 0; rm < 5; rm++) {
    CHECK_EQ(bin(c, ADD, D, rm, one, half), want_tie[rm]);
    CHECK_EQ(c.fs.fflags, NX);
    CHECK_EQ(bin(c, ADD, D, rm, one, three_half), want_tie3[rm]);
    // Negative ties: RDN and RUP swap, RMM rounds away from zero.
    uint64_t neg = bin(c, ADD, D, rm, d(-1.0), d(-0x1p-53));
    const uint64_t want_neg[5] = {d(-1.0), d(-1.0), d(-1.0) + 1, d(-1.0), d(-1.0) + 1};
    CHECK_EQ(neg, want_neg[rm]);
  }
  // Single precision: 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
  c.x[5] = (1 << 24) + 1;
  const float want_s[5] = {16777216.0f, 16777216.0f, 16777216.0f, 16777218.0f, 16777218.0f};
  for (uint32_t rm = 0; rm < 5; rm++) {
    c.fs.fflags = 0;
    CHECK(c.run(op_fp(CVT_FI, S, 0, 5, rm, 4)) == FpResult::kOk);
    CHECK_EQ(c.fs.f[4], s(want_s[rm]));
    CHECK_EQ(c.fs.fflags, NX);
  }
}

TEST(dynamic_and_static_rounding_modes) {
  Cpu c;
  c.fs.frm = RUP;
  CHECK_EQ(bin(c, ADD, D, DYN, d(1.0), d(0x1p-60)), d(1.0) + 1);
  CHECK_EQ(bin(c, ADD, D, RNE, d(1.0), d(0x1p-60)), d(1.0));  // static rm wins over frm
  c.fs.frm = RMM;
  CHECK_EQ(bin(c, ADD, D, DYN, d(1.0), d(0x1p-53)), d(1.0) + 1);
}

TEST(reserved_rounding_modes_are_illegal_and_change_nothing) {
  Cpu c;
  c.fs.f[1] = d(1.0);
  c.fs.f[2] = d(3.0);
  c.fs.f[3] = kUnset;
  c.fs.fflags = NX;
  c.x[3] = 7;
  const uint32_t insns[] = {op_fp(ADD, D, 2, 1, 5, 3), op_fp(DIV, S, 2, 1, 6, 3),
                            r4(0x43, D, 2, 2, 1, 5, 3), op_fp(CVT_IF, D, 0, 1, 6, 3),
                            op_fp(SQRT, D, 0, 1, 5, 3)};
  for (uint32_t insn : insns) {
    CHECK(c.run(insn) == FpResult::kIllegal);
    CHECK(!c.dirty);
  }
  for (uint32_t frm : {5u, 6u, 7u}) {
    c.fs.frm = frm;
    CHECK(c.run(op_fp(DIV, D, 2, 1, DYN, 3)) == FpResult::kIllegal);
    CHECK(c.run(op_fp(CVT_FI, D, 0, 1, DYN, 3)) == FpResult::kIllegal);
    CHECK(!c.dirty);
    // Instructions without rounding ignore frm.
    CHECK(c.run(op_fp(CMP, D, 2, 1, 2, 3)) == FpResult::kOk);
  }
  // H (fmt 2) and Q (fmt 3) are not implemented.
  CHECK(c.run(op_fp(ADD, 2, 2, 1, RNE, 3)) == FpResult::kIllegal);
  CHECK(c.run(r4(0x4f, 3, 2, 2, 1, RNE, 3)) == FpResult::kIllegal);
  CHECK(c.run(op_fp(SQRT, D, 1, 1, RNE, 3)) == FpResult::kIllegal);  // rs2 != 0
  CHECK_EQ(c.fs.f[3], kUnset);
  CHECK_EQ(c.fs.fflags, NX);
  CHECK_EQ(c.x[3], 0u);  // the FEQ (1 == 3 -> 0) above was legal
}

TEST(overflow_gives_inf_or_max_finite_by_mode) {
  Cpu c;
  const uint64_t max = 0x7fefffffffffffffull, inf = 0x7ff0000000000000ull, sign = 1ull << 63;
  const uint64_t want_pos[5] = {inf, max, max, inf, inf};
  const uint64_t want_neg[5] = {inf | sign, max | sign, inf | sign, max | sign, inf | sign};
  for (uint32_t rm = 0; rm < 5; rm++) {
    CHECK_EQ(bin(c, MUL, D, rm, max, d(2.0)), want_pos[rm]);
    CHECK_EQ(c.fs.fflags, OF | NX);
    CHECK_EQ(bin(c, MUL, D, rm, max | sign, d(2.0)), want_neg[rm]);
    CHECK_EQ(c.fs.fflags, OF | NX);
  }
  // FCVT.S.D of a double beyond FLT_MAX.
  c.fs.f[1] = d(1e39);
  c.fs.fflags = 0;
  CHECK(c.run(op_fp(CVT_FF, S, 1, 1, RTZ, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], 0xffffffff7f7fffffull);
  CHECK_EQ(c.fs.fflags, OF | NX);
}

TEST(underflow_is_tiny_after_rounding_and_inexact) {
  Cpu c;
  auto cvt_sd = [&](double v, uint32_t rm) {
    c.fs.f[1] = d(v);
    c.fs.fflags = 0;
    CHECK(c.run(op_fp(CVT_FF, S, 1, 1, rm, 4)) == FpResult::kOk);
    return c.fs.f[4];
  };
  // 2^-126 (1 - 2^-26) rounds (unbounded exponent, RNE) to 2^-126: not tiny
  // after rounding, so only NX although it is below the normal range.
  CHECK_EQ(cvt_sd(0x1p-126 * (1 - 0x1p-26), RNE), 0xffffffff00800000ull);
  CHECK_EQ(c.fs.fflags, NX);
  // The same in RTZ stays below 2^-126: tiny and inexact -> UF | NX.
  CHECK_EQ(cvt_sd(0x1p-126 * (1 - 0x1p-26), RTZ), 0xffffffff007fffffull);
  CHECK_EQ(c.fs.fflags, UF | NX);
  // An exact subnormal result raises nothing.
  CHECK_EQ(cvt_sd(0x1p-149, RNE), 0xffffffff00000001ull);
  CHECK_EQ(c.fs.fflags, 0u);
  // Half the smallest subnormal: RNE -> +0, RUP -> smallest subnormal, both UF | NX.
  CHECK_EQ(cvt_sd(0x1p-150, RNE), 0xffffffff00000000ull);
  CHECK_EQ(c.fs.fflags, UF | NX);
  CHECK_EQ(cvt_sd(0x1p-150, RUP), 0xffffffff00000001ull);
  CHECK_EQ(c.fs.fflags, UF | NX);
  CHECK_EQ(cvt_sd(-0x1p-150, RMM), 0xffffffff80000001ull);
  // Double: min normal * (1 - 2^-53) needs 53 bits: tiny, and inexact as a subnormal.
  CHECK_EQ(bin(c, MUL, D, RNE, 0x0010000000000000ull, 0x3fefffffffffffffull), 0x0010000000000000ull);
  CHECK_EQ(c.fs.fflags, UF | NX);
  CHECK_EQ(bin(c, MUL, D, RNE, 0x0000000000000003ull, d(0.5)), 0x0000000000000002ull);
  CHECK_EQ(c.fs.fflags, UF | NX);
}

TEST(division_by_zero_and_sqrt_of_negative) {
  Cpu c;
  CHECK_EQ(bin(c, DIV, D, RNE, d(1.0), d(0.0)), 0x7ff0000000000000ull);
  CHECK_EQ(c.fs.fflags, DZ);
  CHECK_EQ(bin(c, DIV, D, RNE, d(-1.0), d(0.0)), 0xfff0000000000000ull);
  CHECK_EQ(bin(c, DIV, S, RNE, s(1.0f), s(-0.0f)), 0xffffffffff800000ull);
  CHECK_EQ(c.fs.fflags, DZ);
  CHECK_EQ(bin(c, DIV, D, RNE, d(0.0), d(0.0)), kDNaN);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, DIV, D, RNE, 0x7ff0000000000000ull, d(0.0)), 0x7ff0000000000000ull);
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(bin(c, SQRT, D, RNE, d(-1.0), 0), kDNaN);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(bin(c, SQRT, S, RNE, s(-0.0f), 0), s(-0.0f));
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(bin(c, SQRT, S, RNE, s(-0x1p-149f), 0), kSCanon);
  CHECK_EQ(c.fs.fflags, NV);
}

TEST(fcvt_to_integer_saturates_at_every_limit) {
  Cpu c;
  enum { W = 0, WU = 1, L = 2, LU = 3 };
  const uint64_t kNaN = kDNaN, kInf = 0x7ff0000000000000ull, kNInf = 0xfff0000000000000ull;
  struct Row {
    uint32_t type;
    uint64_t in;
    uint32_t rm;
    uint64_t want;
    uint32_t fl;
  };
  const Row rows[] = {
      {W, d(2147483647.0), RNE, 0x7fffffff, 0},
      {W, d(2147483648.0), RNE, 0x7fffffff, NV},
      {W, d(2147483647.5), RNE, 0x7fffffff, NV},  // rounds to 2^31
      {W, d(2147483647.5), RTZ, 0x7fffffff, NX},
      {W, d(-2147483648.0), RNE, 0xffffffff80000000ull, 0},
      {W, d(-2147483649.0), RNE, 0xffffffff80000000ull, NV},
      {W, d(-2147483648.5), RTZ, 0xffffffff80000000ull, NX},
      {W, kNaN, RNE, 0x7fffffff, NV},
      {W, kInf, RNE, 0x7fffffff, NV},
      {W, kNInf, RNE, 0xffffffff80000000ull, NV},
      {W, d(-0.5), RNE, 0, NX},
      {W, d(-1.5), RNE, ~1ull, NX},
      {W, d(2.5), RMM, 3, NX},
      {W, d(-2.5), RMM, ~2ull, NX},
      {WU, d(4294967295.0), RNE, ~0ull, 0},  // 0xffffffff, sign-extended (§11.7)
      {WU, d(4294967296.0), RNE, ~0ull, NV},
      {WU, kNaN, RNE, ~0ull, NV},
      {WU, kInf, RNE, ~0ull, NV},
      {WU, kNInf, RNE, 0, NV},
      {WU, d(-1.0), RNE, 0, NV},
      {WU, d(-0.5), RTZ, 0, NX},  // in (-1, 0]: rounds to 0, just inexact
      {WU, d(-0.5), RNE, 0, NX},
      {WU, d(-0.5), RDN, 0, NV},  // rounds to -1: out of range
      {WU, d(-0.0), RNE, 0, 0},
      {WU, d(2147483648.0), RNE, 0xffffffff80000000ull, 0},
      {L, d(0x1p63), RNE, 0x7fffffffffffffffull, NV},
      {L, d(0x1p63 - 1024), RNE, 0x7ffffffffffffc00ull, 0},
      {L, d(-0x1p63), RNE, 0x8000000000000000ull, 0},
      {L, d(-0x1p63 - 2048), RNE, 0x8000000000000000ull, NV},
      {L, kNaN, RNE, 0x7fffffffffffffffull, NV},
      {L, kNInf, RNE, 0x8000000000000000ull, NV},
      {LU, d(0x1p64), RNE, ~0ull, NV},
      {LU, d(0x1p64 - 2048), RNE, 0xfffffffffffff800ull, 0},
      {LU, d(-1.0), RNE, 0, NV},
      {LU, d(-0.75), RTZ, 0, NX},
      {LU, kNaN, RNE, ~0ull, NV},
      {LU, kInf, RNE, ~0ull, NV},
  };
  for (const Row& r : rows) {
    uint64_t got = to_x(c, CVT_IF, D, r.type, r.rm, r.in);
    if (got != r.want || c.fs.fflags != r.fl)
      std::printf("  fcvt type %u of %016llx rm %u\n", r.type, (unsigned long long)r.in, r.rm);
    CHECK_EQ(got, r.want);
    CHECK_EQ(c.fs.fflags, r.fl);
  }
  // From single precision.
  CHECK_EQ(to_x(c, CVT_IF, S, W, RNE, s(0x1p31f)), 0x7fffffffull);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(to_x(c, CVT_IF, S, L, RNE, s(-0x1p63f)), 0x8000000000000000ull);
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK_EQ(to_x(c, CVT_IF, S, LU, RNE, s(0x1p64f)), ~0ull);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK_EQ(to_x(c, CVT_IF, S, WU, RNE, 0x000000003f800000ull), ~0ull);  // unboxed: NaN
  CHECK_EQ(c.fs.fflags, NV);
}

TEST(fused_multiply_add_rounds_once) {
  Cpu c;
  c.fs.f[1] = d(1 + 0x1p-27);
  c.fs.f[2] = d(1 - 0x1p-27);
  c.fs.f[3] = d(1.0);
  c.fs.fflags = 0;
  // FMSUB: (1 + 2^-27)(1 - 2^-27) - 1 = -2^-54 exactly; rounding the product
  // first would give 1 - 1 = 0.
  CHECK(c.run(r4(0x47, D, 3, 2, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], d(-0x1p-54));
  CHECK_EQ(c.fs.fflags, 0u);
  // FNMADD: -(a*b) - c; FNMSUB: -(a*b) + c.
  CHECK(c.run(r4(0x4f, D, 3, 2, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], d(-2.0));
  CHECK_EQ(c.fs.fflags, NX);
  CHECK(c.run(r4(0x4b, D, 3, 2, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], d(0x1p-54));
  // inf * 0 + qNaN raises NV (§11.6).
  c.fs.f[1] = 0x7ff0000000000000ull;
  c.fs.f[2] = d(0.0);
  c.fs.f[3] = kDNaN;
  c.fs.fflags = 0;
  CHECK(c.run(r4(0x43, D, 3, 2, 1, RNE, 4)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[4], kDNaN);
  CHECK_EQ(c.fs.fflags, NV);
}

TEST(fclass_all_ten_classes) {
  Cpu c;
  const uint64_t in[10] = {0xfff0000000000000ull, d(-1.0), 0x8000000000000001ull, d(-0.0), d(0.0),
                           0x0000000000000001ull, d(1.0), 0x7ff0000000000000ull, kSNaNd, kDNaN};
  for (int i = 0; i < 10; i++) CHECK_EQ(to_x(c, MVX_CLASS, D, 0, 1, in[i]), 1ull << i);
  const uint64_t ins[10] = {0xffffffffff800000ull, s(-1.0f), 0xffffffff80000001ull, s(-0.0f), s(0.0f),
                            0xffffffff00000001ull, s(1.0f), 0xffffffff7f800000ull,
                            0xffffffff7f800001ull, kSCanon};
  for (int i = 0; i < 10; i++) CHECK_EQ(to_x(c, MVX_CLASS, S, 0, 1, ins[i]), 1ull << i);
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK(!c.dirty);
}

TEST(compares_quiet_and_signaling) {
  Cpu c;
  enum { LE = 0, LT = 1, EQ = 2 };
  c.fs.f[2] = d(1.0);
  CHECK_EQ(to_x(c, CMP, D, 2, EQ, kDNaN), 0u);
  CHECK_EQ(c.fs.fflags, 0u);  // FEQ is quiet on qNaN
  CHECK(!c.dirty);
  CHECK_EQ(to_x(c, CMP, D, 2, EQ, kSNaNd), 0u);
  CHECK_EQ(c.fs.fflags, NV);
  CHECK(c.dirty);  // fflags written
  CHECK_EQ(to_x(c, CMP, D, 2, LT, kDNaN), 0u);
  CHECK_EQ(c.fs.fflags, NV);  // FLT/FLE signal on any NaN
  CHECK_EQ(to_x(c, CMP, D, 2, LE, kDNaN), 0u);
  CHECK_EQ(c.fs.fflags, NV);
  c.fs.f[2] = d(0.0);
  CHECK_EQ(to_x(c, CMP, D, 2, EQ, d(-0.0)), 1u);
  CHECK_EQ(to_x(c, CMP, D, 2, LT, d(-0.0)), 0u);
  CHECK_EQ(to_x(c, CMP, D, 2, LE, d(-0.0)), 1u);
  CHECK_EQ(to_x(c, CMP, D, 2, LT, d(-1e-300)), 1u);
  // rd = x0: the result is dropped.
  c.fs.f[1] = d(0.0);
  CHECK(c.run(op_fp(CMP, D, 2, 1, EQ, 0)) == FpResult::kOk);
  CHECK_EQ(c.x[0], 0u);
}

TEST(fflags_accrue) {
  Cpu c;
  c.fs.f[1] = d(1.0);
  c.fs.f[2] = d(0.0);
  c.fs.fflags = NX;
  CHECK(c.run(op_fp(DIV, D, 2, 1, RNE, 3)) == FpResult::kOk);
  CHECK_EQ(c.fs.fflags, NX | DZ);
  c.fs.f[2] = d(2.0);
  CHECK(c.run(op_fp(DIV, D, 2, 1, RNE, 3)) == FpResult::kOk);  // exact: flags stay
  CHECK_EQ(c.fs.fflags, NX | DZ);
  // An integer-destination instruction dirties FS only when fflags changes.
  c.fs.f[1] = kSNaNd;
  CHECK(c.run(op_fp(CMP, D, 2, 1, 2, 3)) == FpResult::kOk);  // FEQ with a sNaN: NV
  CHECK_EQ(c.fs.fflags, NX | DZ | NV);
  CHECK(c.dirty);
  CHECK(c.run(op_fp(CMP, D, 2, 1, 2, 3)) == FpResult::kOk);  // NV again: no change
  CHECK_EQ(c.fs.fflags, NX | DZ | NV);
  CHECK(!c.dirty);
}

// fp_execute answers FADD/FSUB/FMUL/FDIV/FSQRT and the FMAs in RNE on the host FPU when it
// can (fpu.cc "Host fast path"). Differential check against the soft-float
// reference (itself checked against QEMU above/below) on random operands
// spread over the whole exponent range, underflow and overflow included.
TEST(host_fast_path_matches_softfloat) {
  namespace sf = vmsup::softfp;
  std::mt19937_64 rng(12345);
  auto rnd = [&](bool dbl) -> uint64_t {
    uint64_t r = rng();
    int kind = static_cast<int>(rng() % 7);
    int mant = dbl ? 52 : 23;
    uint64_t top = dbl ? 2047 : 255;
    uint64_t e;
    switch (kind) {
      case 0: return dbl ? r : (r & 0xffffffffu);                   // anything, NaN/inf too
      case 1: e = top / 2 + rng() % 40 - 20; break;                  // mid range
      case 2: e = rng() % (mant + 3); break;                          // subnormal / small
      case 3: e = top - 1 - rng() % 4; break;                         // near overflow
      case 4: e = top / 4 + rng() % 8; break;                         // products near underflow
      case 5: e = (dbl ? 540 : 78) + rng() % 24 - 12; break;          // a*b - RN(a*b) near 2^emin
      default: e = rng() % top; break;
    }
    uint64_t m = r & ((1ull << mant) - 1);
    if (rng() % 3 == 0) m &= ~((1ull << (rng() % mant)) - 1);        // short significands: exact cases
    return (r & (1ull << (dbl ? 63 : 31))) | (e << mant) | m;
  };
  int bad = 0;
  for (int i = 0; i < 600000; i++) {
    bool dbl = i & 1;
    uint32_t f5 = (uint32_t[]){ADD, SUB, MUL, DIV, SQRT, 0x43, 0x47, 0x4b, 0x4f}[(i >> 1) % 9];
    uint64_t a = rnd(dbl), b = rnd(dbl), cc = rnd(dbl);
    if (f5 >= 0x43 && rng() % 4 == 0) {
      // An addend close to -a*b: cancellation, exact and near-exact results.
      uint32_t tfl = 0;
      cc = dbl ? sf::mul<sf::F64>(a, b, (int)(rng() % 5), tfl) ^ (1ull << 63)
               : sf::mul<sf::F32>(a, b, (int)(rng() % 5), tfl) ^ (1ull << 31);
      if (rng() & 1) cc ^= 1;
    }
    bool negprod = f5 == 0x4b || f5 == 0x4f, negc = f5 == 0x47 || f5 == 0x4f;
    uint32_t want_fl = 0;
    uint64_t want;
    if (dbl) {
      switch (f5) {
        case ADD: want = sf::add<sf::F64>(a, b, false, sf::kRNE, want_fl); break;
        case SUB: want = sf::add<sf::F64>(a, b, true, sf::kRNE, want_fl); break;
        case MUL: want = sf::mul<sf::F64>(a, b, sf::kRNE, want_fl); break;
        case DIV: want = sf::div<sf::F64>(a, b, sf::kRNE, want_fl); break;
        case SQRT: want = sf::sqrt<sf::F64>(a, sf::kRNE, want_fl); break;
        default: want = sf::fma<sf::F64>(a, b, cc, negprod, negc, sf::kRNE, want_fl); break;
      }
    } else {
      switch (f5) {
        case ADD: want = sf::add<sf::F32>(a, b, false, sf::kRNE, want_fl); break;
        case SUB: want = sf::add<sf::F32>(a, b, true, sf::kRNE, want_fl); break;
        case MUL: want = sf::mul<sf::F32>(a, b, sf::kRNE, want_fl); break;
        case DIV: want = sf::div<sf::F32>(a, b, sf::kRNE, want_fl); break;
        case SQRT: want = sf::sqrt<sf::F32>(a, sf::kRNE, want_fl); break;
        default: want = sf::fma<sf::F32>(a, b, cc, negprod, negc, sf::kRNE, want_fl); break;
      }
      want |= 0xffffffff00000000ull;
      a |= 0xffffffff00000000ull;
      b |= 0xffffffff00000000ull;
      cc |= 0xffffffff00000000ull;
    }
    Cpu c;
    uint64_t got;
    if (f5 >= 0x43) {
      c.fs.f[1] = a;
      c.fs.f[2] = b;
      c.fs.f[4] = cc;
      CHECK(c.run(r4(f5, dbl ? D : S, 4, 2, 1, RNE, 3)) == FpResult::kOk);
      got = c.fs.f[3];
    } else {
      got = bin(c, f5, dbl ? D : S, RNE, a, b);
    }
    if (got != want || c.fs.fflags != want_fl) {
      if (++bad <= 10)
        std::printf("  op %x %c a %016llx b %016llx c %016llx: got %016llx/%x want %016llx/%x\n", f5,
                    dbl ? 'd' : 's', (unsigned long long)a, (unsigned long long)b,
                    (unsigned long long)cc, (unsigned long long)got, c.fs.fflags, (unsigned long long)want, want_fl);
    }
  }
  CHECK_EQ(bad, 0);
}

// Hostile encodings: random instruction words in the five FP major opcodes with
// random register contents. Under UBSan any undefined behaviour aborts. An
// illegal instruction changes nothing; a legal one changes at most f[rd] or
// x[rd] (never x0) and ORs into fflags; without *dirty no f state changed.
TEST(random_encodings_change_only_what_they_may) {
  std::mt19937_64 rng(99);
  const uint32_t opcodes[] = {0x53, 0x53, 0x53, 0x43, 0x47, 0x4b, 0x4f};
  int legal = 0;
  for (int i = 0; i < 200000; i++) {
    Cpu c;
    for (int r = 0; r < 32; r++) {
      uint64_t v = rng();
      if (rng() & 1) v |= 0xffffffff00000000ull;  // often a boxed single
      c.fs.f[r] = v;
      c.x[r] = r ? rng() : 0;
    }
    c.fs.frm = static_cast<uint32_t>(rng() % 8);
    c.fs.fflags = static_cast<uint32_t>(rng() % 32);
    uint32_t insn = (static_cast<uint32_t>(rng()) & ~0x7fu) | opcodes[rng() % 7];
    Cpu before = c;
    FpResult r = c.run(insn);
    unsigned rd = (insn >> 7) & 31;
    CHECK_EQ(c.x[0], 0u);
    bool f_same = true, x_same = true;
    for (int k = 0; k < 32; k++) {
      if (c.fs.f[k] != before.fs.f[k]) {
        f_same = false;
        CHECK_EQ(static_cast<unsigned>(k), rd);
      }
      if (c.x[k] != before.x[k]) {
        x_same = false;
        CHECK_EQ(static_cast<unsigned>(k), rd);
      }
    }
    CHECK_EQ(c.fs.frm, before.fs.frm);
    CHECK_EQ(c.fs.fflags & before.fs.fflags, before.fs.fflags);  // accrue only
    if (r == FpResult::kIllegal) {
      CHECK(f_same && x_same && !c.dirty);
      CHECK_EQ(c.fs.fflags, before.fs.fflags);
    } else {
      legal++;
      CHECK(f_same || x_same);  // one destination file
      if (!c.dirty) CHECK(f_same && c.fs.fflags == before.fs.fflags);
    }
  }
  CHECK(legal > 10000);  // the generator does reach real instructions
}

// Every vector of fpu_test_vectors.h (generated from QEMU's RISC-V FPU by
// native/cpu/fpu_oracle/gen.py): same registers, same inputs, same frm; the
// destination f register, the destination x register, fflags and legality
// must all match.
TEST(qemu_oracle_vectors) {
  int bad = 0;
  for (const FpVector& v : kFpVectors) {
    Cpu c;
    c.fs.f[11] = v.a;
    c.x[11] = v.a;
    c.fs.f[12] = v.b;
    c.fs.f[13] = v.c;
    c.fs.f[14] = 0x5555555555555555ull;
    c.fs.frm = v.frm;
    FpResult r = c.run(v.insn);
    bool illegal = r == FpResult::kIllegal;
    bool ok = illegal == (v.illegal != 0) && c.fs.f[14] == v.f_out && c.x[14] == v.x_out &&
              c.fs.fflags == v.fflags;
    // dirty exactly when an f register or fflags was written.
    bool want_dirty = !illegal && (v.f_out != 0x5555555555555555ull || v.fflags != 0);
    if (c.dirty != want_dirty) ok = false;
    if (!ok) {
      if (++bad <= 40)
        std::printf("  insn %08x frm %u a %016llx b %016llx c %016llx: got f %016llx x %llx fl %x ill %d"
                    " dirty %d, want f %016llx x %llx fl %x ill %u\n",
                    v.insn, v.frm, (unsigned long long)v.a, (unsigned long long)v.b,
                    (unsigned long long)v.c, (unsigned long long)c.fs.f[14], (unsigned long long)c.x[14],
                    c.fs.fflags, illegal, c.dirty, (unsigned long long)v.f_out,
                    (unsigned long long)v.x_out, v.fflags, v.illegal);
    }
  }
  std::printf("  %zu vectors, %d mismatches\n", sizeof(kFpVectors) / sizeof(kFpVectors[0]), bad);
  CHECK_EQ(bad, 0);
}

TEST_MAIN()
