// Measures fp_execute's cost per instruction (not a test). Build and run from
// the repository root:
//   g++ -std=c++20 -O2 -Inative native/cpu/fpu.cc native/cpu/fpu_oracle/fpu_bench.cpp -o /tmp/fpu_bench && /tmp/fpu_bench
// (.cpp, not .cc, so that neither binding.gyp nor Makefile.tests pick it up.)
#include <chrono>
#include <cstdio>
#include <cstring>

#include "cpu/fpu.h"

using namespace vmsup;

static uint32_t op_fp(uint32_t f5, uint32_t fmt, uint32_t rs2, uint32_t rs1, uint32_t rm, uint32_t rd) {
  return f5 << 27 | fmt << 25 | rs2 << 20 | rs1 << 15 | rm << 12 | rd << 7 | 0x53;
}
static uint32_t r4(uint32_t op, uint32_t fmt, uint32_t rs3, uint32_t rs2, uint32_t rs1, uint32_t rm,
                   uint32_t rd) {
  return rs3 << 27 | fmt << 25 | rs2 << 20 | rs1 << 15 | rm << 12 | rd << 7 | op;
}

int main() {
  struct Case {
    const char* name;
    uint32_t insn;
  } cases[] = {
      {"fadd.d", op_fp(0, 1, 2, 1, 7, 3)},     {"fmul.d", op_fp(2, 1, 2, 1, 7, 3)},
      {"fdiv.d", op_fp(3, 1, 2, 1, 7, 3)},     {"fsqrt.d", op_fp(11, 1, 0, 1, 7, 3)},
      {"fmadd.d", r4(0x43, 1, 4, 2, 1, 7, 3)}, {"fadd.s", op_fp(0, 0, 6, 5, 7, 7)},
      {"fmul.s", op_fp(2, 0, 6, 5, 7, 7)},     {"fdiv.s", op_fp(3, 0, 6, 5, 7, 7)},
      {"fmadd.s", r4(0x43, 0, 8, 6, 5, 7, 7)}, {"fcvt.w.d", op_fp(24, 1, 0, 1, 1, 10)},
      {"fcvt.d.l", op_fp(26, 1, 2, 11, 7, 3)}, {"flt.d", op_fp(20, 1, 2, 1, 1, 10)},
      {"fsgnj.d", op_fp(4, 1, 2, 1, 0, 3)},    {"fmin.d", op_fp(5, 1, 2, 1, 0, 3)},
  };
  const char* modes[] = {"rne", "rup", "rmm"};
  for (uint32_t frm : {0u, 3u, 4u}) {
    for (const Case& c : cases) {
      FpState fs{};
      uint64_t x[32]{};
      fs.frm = frm;
      double a = 1.2345678901234, b = 0.987654321, e = 0.5;
      float fa = 1.2345678f, fb = 0.98765f, fe = 0.25f;
      std::memcpy(&fs.f[1], &a, 8);
      std::memcpy(&fs.f[2], &b, 8);
      std::memcpy(&fs.f[4], &e, 8);
      uint32_t t;
      std::memcpy(&t, &fa, 4);
      fs.f[5] = fp_box32(t);
      std::memcpy(&t, &fb, 4);
      fs.f[6] = fp_box32(t);
      std::memcpy(&t, &fe, 4);
      fs.f[8] = fp_box32(t);
      x[11] = 123456789;
      bool dirty = false;
      const int n = 2000000;
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; i++) {
        fp_execute(c.insn, fs, x, &dirty);
        fs.f[1] ^= (i & 1);  // vary the operand a little
      }
      auto t1 = std::chrono::steady_clock::now();
      double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
      std::printf("%-4s %-9s %6.1f ns/insn\n", modes[frm == 0 ? 0 : frm == 3 ? 1 : 2], c.name, ns);
    }
  }
}
