// Unit tests for fp_execute (native/cpu/fpu.cc).
#include "cpu/fpu.h"

#include <cstring>

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

}  // namespace

TEST(basic_add_double) {
  Cpu c;
  c.fs.f[1] = d(1.5);
  c.fs.f[2] = d(2.25);
  CHECK(c.run(op_fp(0, D, 2, 1, RNE, 3)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[3], d(3.75));
  CHECK_EQ(c.fs.fflags, 0u);
  CHECK(c.dirty);
}

TEST(basic_single_ops) {
  Cpu c;
  c.fs.f[1] = s(1.0f);
  c.fs.f[2] = s(3.0f);
  CHECK(c.run(op_fp(3, S, 2, 1, RNE, 3)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[3], s(1.0f / 3.0f));
  CHECK_EQ(c.fs.fflags, NX);
  c.fs.fflags = 0;
  CHECK(c.run(op_fp(3, S, 2, 1, RTZ, 3)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[3], s(0.3333333f) & ~0ull);
  c.fs.f[4] = s(2.0f);
  CHECK(c.run(op_fp(0x0b, S, 0, 4, RNE, 5)) == FpResult::kOk);
  CHECK_EQ(c.fs.f[5], s(1.41421356f));
}

TEST_MAIN()
