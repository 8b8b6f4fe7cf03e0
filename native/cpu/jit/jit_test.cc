// Differential test of the translator against the interpreter (its
// reference): random RV64 programs run on two identical harts, one with the
// JIT, and after every run() slice (a few blocks) the architectural state
// (integer registers, pc, privilege, counters, trap CSRs, memory) must be
// identical. The programs mix valid random encodings with structured loads
// and stores into a buffer next to the code (so stores hit the code: SMC),
// misaligned and wild accesses (access faults, MMIO), a read-only and an
// unmapped page under Sv39 (page faults), ECALLs, counter reads, and
// interrupts raised between slices.
//
//   build/ntest/native/cpu/jit/jit_test            seeded, bounded (npm test)
//   JIT_DIFF_ROUNDS=2000 JIT_DIFF_SEED=7 build/ntest/native/cpu/jit/jit_test
//   (scripts/jit-diff.sh runs the long version)
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cpu/cpu_impl.h"
#include "cpu/jit/jit.h"
#include "testing.h"

using namespace vmsup;

namespace {

class TestHost : public CpuHost {
 public:
  bool mmio_read(uint64_t pa, unsigned, uint64_t* v) override {
    *v = pa * 3;  // a readable window at 0x1000_0000 (a device register file)
    return pa >= 0x10000000 && pa < 0x10001000;
  }
  bool mmio_write(uint64_t pa, unsigned, uint64_t) override { return pa >= 0x10000000 && pa < 0x10001000; }
  uint64_t mtime() override { return 0x123456; }  // rdtime in a block reads it
  bool sbi_ecall(Hart&) override { return false; }
};

constexpr uint64_t B = GuestMemory::kBase;
constexpr uint64_t kCode = B + 0x10000, kCodeEnd = B + 0x12000;
constexpr uint64_t kData = B + 0x12000;  // x4 points here: ±2 KiB reaches the code's tail
constexpr uint64_t kRoPage = B + 0x13000, kNoPage = B + 0x14000;
// Under Sv39 the code's second virtual page maps here, not to the physically
// next page, so a translation that ran on across the page boundary would differ.
constexpr uint64_t kAltCode = B + 0x15000;
constexpr uint64_t kHandler = B + 0x1f000;
constexpr uint64_t kRoot = B + 0x20000, kL1 = B + 0x21000, kL0 = B + 0x22000;
constexpr uint64_t kSpan = 0x30000;  // compared memory: [B, B + kSpan)

struct Rig {
  GuestMemory mem;
  TestHost host;
  std::unique_ptr<Hart> hart;
  explicit Rig(bool jit) {
    std::string err;
    mem.init(16 << 20, &err);
    hart = std::make_unique<Hart>(0, mem, host);
    if (jit) CHECK(hart->set_jit(true));
  }
  CpuImpl& c() { return hart->impl(); }
};

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

uint32_t i_type(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, int32_t imm) {
  return (static_cast<uint32_t>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t s_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm) {
  const uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}
uint32_t b_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t off) {
  const uint32_t u = static_cast<uint32_t>(off);
  return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
         (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
uint32_t csr_type(unsigned rd, unsigned f3, unsigned rs1, unsigned csr) { return i_type(0x73, rd, f3, rs1, static_cast<int32_t>(csr)); }

bool rd_ok(const DecodedInsn& d) { return d.rd == 32 || d.rd == 0 || d.rd > 4; }

uint32_t r_type(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, unsigned rs2, unsigned f7) {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
// A destination that spares x1..x4 (the trap handler's and the data pointer).
unsigned any_rd(Rng& r) { return r.below(8) == 0 ? 0 : 5 + static_cast<unsigned>(r.below(27)); }

// The instructions the JIT runs through its helper path (jit_ext.cc): F/D
// arithmetic with every rounding mode (5 and 6 are reserved, 7 is dynamic:
// frm, itself sometimes invalid), FP loads and stores (faulting too), the FP
// CSRs, AMOs of both widths and every function, LR/SC pairs with a store in
// between, and cycle/time/instret reads. Appends 4 to 12 bytes at *pc.
void gen_ext_insn(Rng& r, GuestMemory& m, uint64_t* pc) {
  const uint64_t k = r.below(100);
  auto put = [&](uint32_t w) {
    m.write_obj<uint32_t>(*pc, w);
    *pc += 4;
  };
  const unsigned rm = static_cast<unsigned>(r.below(4) ? r.below(5) : 5 + r.below(3));
  auto freg = [&] { return static_cast<unsigned>(r.below(32)); };
  if (k < 45) {  // OP-FP; the low bit of funct7 picks double
    static const struct {
      unsigned f7, rs2_max, rm_fixed;  // rm_fixed: 8 = any rounding mode, else a funct3 below it
    } ops[] = {
        {0x00, 32, 8}, {0x04, 32, 8}, {0x08, 32, 8}, {0x0c, 32, 8},  // fadd fsub fmul fdiv
        {0x2c, 1, 8},                                                // fsqrt
        {0x10, 32, 3}, {0x14, 32, 2},                                // fsgnj* fmin/fmax
        {0x50, 32, 3},                                               // fle flt feq
        {0x60, 4, 8}, {0x68, 4, 8},                                  // fcvt.{w,wu,l,lu}.fmt, fcvt.fmt.*
        {0x70, 1, 2}, {0x78, 1, 1},                                  // fmv.x/fclass, fmv.fmt.x
    };
    const auto& op = ops[r.below(sizeof ops / sizeof ops[0])];
    const unsigned dbl = static_cast<unsigned>(r.below(2));
    const unsigned f3 = op.rm_fixed == 8 ? rm : static_cast<unsigned>(r.below(op.rm_fixed));
    const bool to_int = op.f7 == 0x50 || op.f7 == 0x60 || op.f7 == 0x70;
    const bool from_int = op.f7 == 0x68 || op.f7 == 0x78;
    const unsigned rd = to_int ? any_rd(r) : freg();
    const unsigned rs1 = from_int ? static_cast<unsigned>(r.below(32)) : freg();
    put(r_type(0x53, rd, f3, rs1, static_cast<unsigned>(r.below(op.rs2_max)), op.f7 | dbl));
    return;
  }
  if (k < 55) {  // fcvt.s.d / fcvt.d.s, FMADD/FMSUB/FNMSUB/FNMADD
    if (r.below(3) == 0) {
      const unsigned dbl = static_cast<unsigned>(r.below(2));
      put(r_type(0x53, freg(), rm, freg(), dbl ? 0 : 1, 0x20 | dbl));
    } else {
      static const uint32_t opc[4] = {0x43, 0x47, 0x4b, 0x4f};
      put(r_type(opc[r.below(4)], freg(), rm, freg(), freg(), (freg() << 2) | static_cast<unsigned>(r.below(2))));
    }
    return;
  }
  if (k < 70) {  // FLW/FLD/FSW/FSD from x4 (data) or x5 (read-only page): misaligned, faults
    const unsigned base = 4 + static_cast<unsigned>(r.below(2));
    int32_t imm = static_cast<int32_t>(r.below(4096)) - 2048;
    if (r.below(3)) imm &= ~7;
    const unsigned f3 = r.below(2) ? 2 : 3;
    if (r.below(2)) put(i_type(0x07, freg(), f3, base, imm));
    else put(s_type(f3, base, freg(), imm) ^ 0x23 ^ 0x27);
    return;
  }
  if (k < 78) {  // fflags/frm/fcsr: read, write, set, clear, immediate forms
    static const unsigned f3s[6] = {1, 2, 3, 5, 6, 7};
    put(csr_type(any_rd(r), f3s[r.below(6)], static_cast<unsigned>(r.below(32)), 1 + static_cast<unsigned>(r.below(3))));
    return;
  }
  if (k < 88) {  // AMOs: W and D, every function; the address register is often aligned data
    static const unsigned f5s[9] = {0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c};
    const unsigned rs1 = r.below(4) ? 4 + static_cast<unsigned>(r.below(2)) : 6 + static_cast<unsigned>(r.below(26));
    put(r_type(0x2f, any_rd(r), r.below(2) ? 2 : 3, rs1, static_cast<unsigned>(r.below(32)),
               (f5s[r.below(9)] << 2) | static_cast<unsigned>(r.below(4))));
    return;
  }
  if (k < 95) {  // LR; maybe a store (to the line, or elsewhere); SC
    const unsigned f3 = r.below(2) ? 2 : 3;
    const unsigned rs1 = r.below(6) ? 4 : 6 + static_cast<unsigned>(r.below(26));
    put(r_type(0x2f, any_rd(r), f3, rs1, 0, 0x02 << 2));
    if (r.below(2)) put(s_type(f3, r.below(2) ? rs1 : 4, static_cast<unsigned>(r.below(32)), r.below(2) ? 0 : 64));
    put(r_type(0x2f, any_rd(r), f3, r.below(8) ? rs1 : 4, static_cast<unsigned>(r.below(32)), 0x03 << 2));
    return;
  }
  // rdcycle/rdtime/rdinstret (illegal from S when mcounteren does not allow them)
  put(csr_type(any_rd(r), 2, 0, 0xc00 + static_cast<unsigned>(r.below(3))));
}

void gen_insn(Rng& r, GuestMemory& m, uint64_t* pc, bool in_loop = false, bool ext = false);

// A counted loop at *pc:  addi x3, x0, n ; head: body ; addi x3, x3, -1 ;
// bne x3, x0, head. The block at head branches back to itself (the JIT's loop
// mode keeps registers in host registers across passes). The body is random
// straight-line code, sometimes moving x5 by a page fraction so its loads and
// stores walk into the read-only, unmapped and code pages on a later pass.
void gen_loop(Rng& r, GuestMemory& m, uint64_t* pc, bool ext) {
  m.write_obj<uint32_t>(*pc, i_type(0x13, 3, 0, 0, 1 + static_cast<int32_t>(r.below(40))));
  *pc += 4;
  const uint64_t head = *pc;
  const unsigned body = 1 + static_cast<unsigned>(r.below(5));
  for (unsigned i = 0; i < body; i++) {
    if (r.below(4) == 0) {
      const int32_t step = (static_cast<int32_t>(r.below(64)) - 32) * 64;
      m.write_obj<uint32_t>(*pc, i_type(0x13, 5, 0, 5, step));
      *pc += 4;
    } else {
      gen_insn(r, m, pc, true, ext);
    }
  }
  m.write_obj<uint32_t>(*pc, i_type(0x13, 3, 0, 3, -1));
  *pc += 4;
  m.write_obj<uint32_t>(*pc, b_type(1, 3, 0, static_cast<int32_t>(head - *pc)));
  *pc += 4;
}

// Appends one random instruction at *pc (2 or 4 bytes); in_loop: no control
// transfers (a loop body); with `ext`, a third of them from gen_ext_insn().
void gen_insn(Rng& r, GuestMemory& m, uint64_t* pc, bool in_loop, bool ext) {
  if (ext && r.below(3) == 0) return gen_ext_insn(r, m, pc);
  const uint64_t k = r.below(100);
  DecodedInsn d;
  if (!in_loop && k >= 96 && *pc + 64 < kCodeEnd - 8) {
    gen_loop(r, m, pc, ext);
    return;
  }
  if (k < 30) {  // structured load/store from x4 or x5
    const unsigned base = 4 + static_cast<unsigned>(r.below(2));
    const unsigned f3 = static_cast<unsigned>(r.below(7));
    int32_t imm = static_cast<int32_t>(r.below(4096)) - 2048;
    if (r.below(2)) imm &= ~7;
    if (r.below(2)) {
      const unsigned rd = 5 + static_cast<unsigned>(r.below(27));
      m.write_obj<uint32_t>(*pc, i_type(0x03, rd, f3, base, imm));
    } else {
      m.write_obj<uint32_t>(*pc, s_type(f3 & 3, base, static_cast<unsigned>(r.below(32)), imm));
    }
    *pc += 4;
    return;
  }
  if (k < 34 && !in_loop) {  // a short branch, forward or backward, inside the code
    const int32_t off = (static_cast<int32_t>(r.below(64)) - 24) * 2;
    const uint64_t t = *pc + static_cast<int64_t>(off);
    if (t >= kCode && t < kCodeEnd) {
      static const unsigned f3s[6] = {0, 1, 4, 5, 6, 7};
      m.write_obj<uint32_t>(*pc, b_type(f3s[r.below(6)], static_cast<unsigned>(r.below(32)),
                                        static_cast<unsigned>(r.below(32)), off));
      *pc += 4;
      return;
    }
  }
  if (k < 36 && !in_loop) {  // counters, ECALL, FENCE.I
    static const uint32_t sys[5] = {csr_type(6, 2, 0, 0xb02), csr_type(7, 2, 0, 0xb00), csr_type(8, 2, 0, 0xc02),
                                    0x00000073, 0x0000100f};
    m.write_obj<uint32_t>(*pc, sys[r.below(5)]);
    *pc += 4;
    return;
  }
  for (;;) {
    const bool compressed = r.below(3) == 0;
    const uint32_t raw = compressed ? static_cast<uint32_t>(r.next() & 0xffff) : (static_cast<uint32_t>(r.next()) | 3);
    if (compressed && (raw & 3) == 3) continue;
    decode_insn(raw, &d);
    // Compressed FP loads and stores (C.FLD, C.FSD, C.FLDSP, C.FSDSP) with `ext`.
    const bool c_fp = ext && compressed && (d.op == OP_FLD || d.op == OP_FSD);
    if (d.op == OP_ILLEGAL || (d.op >= OP_FENCE_I && !c_fp) || !rd_ok(d)) continue;
    if (in_loop && (d.op == OP_JAL || d.op == OP_JALR || (d.op >= OP_BEQ && d.op <= OP_BGEU))) continue;
    if (d.op == OP_JAL || (d.op >= OP_BEQ && d.op <= OP_BGEU)) {
      const uint64_t t = *pc + static_cast<int64_t>(d.imm);
      if (t < kCode || t >= kCodeEnd) continue;
    }
    if (compressed) m.write_obj<uint16_t>(*pc, static_cast<uint16_t>(raw));
    else m.write_obj<uint32_t>(*pc, raw);
    *pc += d.len();
    return;
  }
}

// The M-mode trap handler: an interrupt disables interrupts; a fetch fault
// restarts at the address in kHandler + 0x100; anything else resumes after
// the instruction.
void put_handler(GuestMemory& m) {
  const uint32_t code[] = {
      csr_type(1, 2, 0, 0x342),  // 0: csrr x1, mcause
      b_type(5, 1, 0, 12),       // 1: bge x1, x0, 4
      csr_type(0, 1, 0, 0x304),  // 2: csrw mie, x0
      0x30200073,                // 3: mret
      i_type(0x13, 2, 0, 0, 2),  // 4: addi x2, x0, 2
      b_type(6, 1, 2, 48),       // 5: bltu x1, x2, 17
      i_type(0x13, 2, 0, 0, 12), // 6: addi x2, x0, 12
      b_type(0, 1, 2, 40),       // 7: beq x1, x2, 17
      csr_type(1, 2, 0, 0x341),  // 8: csrr x1, mepc
      i_type(0x03, 2, 5, 1, 0),  // 9: lhu x2, 0(x1)
      i_type(0x13, 2, 7, 2, 3),  // 10: andi x2, x2, 3
      i_type(0x13, 3, 0, 0, 3),  // 11: addi x3, x0, 3
      i_type(0x13, 1, 0, 1, 2),  // 12: addi x1, x1, 2
      b_type(1, 2, 3, 8),        // 13: bne x2, x3, 15
      i_type(0x13, 1, 0, 1, 2),  // 14: addi x1, x1, 2
      csr_type(0, 1, 1, 0x341),  // 15: csrw mepc, x1
      0x30200073,                // 16: mret
      0x00000097,                // 17: restart: auipc x1, 0
      i_type(0x03, 1, 3, 1, 0x100 - 17 * 4),  // ld x1, (kHandler + 0x100)
      csr_type(0, 1, 1, 0x341),   // csrw mepc, x1
      0x30200073,                 // mret
  };
  for (unsigned i = 0; i < sizeof(code) / 4; i++) m.write_obj<uint32_t>(kHandler + 4 * i, code[i]);
}

// Sv39: 4 KiB identity pages for [B, B + 2 MiB), kRoPage read-only, kNoPage absent.
void put_page_tables(GuestMemory& m) {
  m.write_obj<uint64_t>(kRoot + 2 * 8, ((kL1 >> 12) << 10) | 1);
  m.write_obj<uint64_t>(kL1, ((kL0 >> 12) << 10) | 1);
  for (uint64_t i = 0; i < 512; i++) {
    const uint64_t pa = B + (i << 12);
    uint64_t perm = 0xcf;  // D A X W R V
    if (pa == kRoPage) perm = 0x4b;
    if (pa == kNoPage) perm = 0;
    const uint64_t target = pa == kCode + 0x1000 ? kAltCode : pa;
    m.write_obj<uint64_t>(kL0 + i * 8, ((target >> 12) << 10) | perm);
  }
}

bool same_state(Rig& a, Rig& b, std::string* why) {
  CpuImpl &x = a.c(), &y = b.c();
  for (unsigned i = 0; i < 32; i++) {
    if (x.x[i] != y.x[i]) {
      *why = "x" + std::to_string(i);
      return false;
    }
  }
#define SAME(f)          \
  if (x.f != y.f) {      \
    *why = #f;           \
    return false;        \
  }
  SAME(pc) SAME(priv) SAME(retired_total) SAME(minstret) SAME(mcycle) SAME(mcause) SAME(mepc) SAME(mtval)
  SAME(mstatus) SAME(mie) SAME(mip) SAME(scause) SAME(stval) SAME(state)
  SAME(fp.fflags) SAME(fp.frm) SAME(resv_valid)
#undef SAME
  for (unsigned i = 0; i < 32; i++) {
    if (x.fp.f[i] != y.fp.f[i]) {
      *why = "f" + std::to_string(i);
      return false;
    }
  }
  if (x.resv_valid && x.resv_addr - reinterpret_cast<uintptr_t>(x.ram) != y.resv_addr - reinterpret_cast<uintptr_t>(y.ram)) {
    *why = "resv_addr";
    return false;
  }
  if (std::memcmp(a.mem.host_ptr(B, kSpan), b.mem.host_ptr(B, kSpan), kSpan) != 0) {
    *why = "memory";
    return false;
  }
  return true;
}

int env_int(const char* name, int dflt) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : dflt;
}

// FP register values that exercise rounding, NaN handling and denormals.
uint64_t fp_value(Rng& g) {
  static const uint64_t special[] = {
      0, 0x8000000000000000ULL, 1, 0x000fffffffffffffULL, 0x0010000000000000ULL,  // ±0, denormals, min normal
      0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL,           // ±inf, canonical NaN
      0x7ff0000000000001ULL, 0xfff4000000000000ULL, 0x3ff0000000000000ULL,           // sNaNs, 1.0
      0x3ff0000000000001ULL, 0x7fefffffffffffffULL, 0xc1e0000000000000ULL,           // 1+ulp, max, -2^31
      0xffffffff00000000ULL, 0xffffffff80000001ULL, 0xffffffff007fffffULL,           // boxed singles: 0, denormals
      0xffffffff7fc00000ULL, 0xffffffff7f800001ULL, 0xffffffffff800000ULL,           // qNaN, sNaN, -inf
      0xffffffff3f800000ULL, 0xffffffff4f000000ULL, 0xffffffff7f7fffffULL,           // 1.0f, 2^31, max
      0x000000003f800000ULL, 0xfffffffe3f800000ULL,                                  // badly boxed: NaN as single
  };
  const uint64_t k = g.below(3);
  if (k == 0) return g.next();
  if (k == 1) return 0xffffffff00000000ULL | (g.next() & 0xffffffffULL);
  return special[g.below(sizeof special / sizeof special[0])];
}

// Runs `rounds` random programs on both engines, comparing after every slice.
// With `ext`, programs also hold F/D, FP loads/stores, AMOs, LR/SC and counter
// reads (gen_ext_insn), FS is Off in one round of four (every FP instruction
// traps as illegal) and the FP registers start at special values.
void run_diff(bool ext, int rounds, uint64_t seed0) {
  Rng r{seed0 * 0x9e3779b97f4a7c15ULL | 1};
  Rig a(false), b(true);
  uint64_t total = 0, traps = 0;
  for (int round = 0; round < rounds; round++) {
    const uint64_t seed = r.next();
    for (Rig* rig : {&a, &b}) {
      Rng g{seed};
      rig->mem.fill(B, 0, kSpan);
      for (uint64_t pc = kCode; pc < kCodeEnd - 16;) gen_insn(g, rig->mem, &pc, false, ext);
      // kAltCode gets one version of the second code page, the page itself another.
      std::memcpy(rig->mem.host_ptr(kAltCode, 0x1000), rig->mem.host_ptr(kCode + 0x1000, 0x1000), 0x1000);
      for (uint64_t pc = kCode + 0x1000; pc < kCodeEnd - 16;) gen_insn(g, rig->mem, &pc, false, ext);
      for (uint64_t o = 0; o < 0x2000; o += 8) rig->mem.write_obj<uint64_t>(kData + o, g.next());
      put_handler(rig->mem);
      // Where a fetch fault restarts: the start of the code, or just before its page boundary.
      rig->mem.write_obj<uint64_t>(kHandler + 0x100, (round & 2) ? kCode + 0xf80 : kCode);
      put_page_tables(rig->mem);
      const bool paged = round & 1;
      rig->hart->reset((round & 2) ? kCode + 0xf80 : kCode, paged ? kPrivS : kPrivM);
      rig->hart->set_state(HartState::kRunning);
      CpuImpl& c = rig->c();
      c.pmpaddr[0] = (1ULL << 54) - 1;
      c.pmpcfg[0] = 0x1f;
      pmp_changed(c);
      c.mtvec = kHandler;
      c.mie = kMipMSIP;
      if (g.below(2)) c.mstatus |= ms::MIE;
      if (paged) {
        c.satp = (8ULL << 60) | (kRoot >> 12);
        update_keys(c);
      }
      c.x[4] = kData;
      c.x[5] = kRoPage + 0x800;
      for (unsigned i = 6; i < 32; i++) c.x[i] = g.below(2) ? g.next() : kData + (g.next() & 0xff8);
      c.x[30] = 0x10000800;  // MMIO
      if (ext) {
        if (round % 4 != 3) c.mstatus |= 1ULL << ms::kFsShift;  // FS = Initial; Off in every fourth round
        for (unsigned i = 0; i < 32; i++) c.fp.f[i] = fp_value(g);
        c.fp.frm = static_cast<uint32_t>(g.below(4) ? g.below(5) : g.below(8));  // 5..7: dynamic rm is illegal
        c.fp.fflags = static_cast<uint32_t>(g.below(32));
        if (g.below(2)) c.mcounteren = 7;  // else rdcycle/rdtime/rdinstret trap from S
      }
    }
    for (int slice = 0; slice < 200; slice++) {
      const uint64_t k = 1 + r.below(100);
      if (r.below(40) == 0) {
        const bool level = r.below(2);
        a.hart->set_irq(kMipMSIP, level);
        b.hart->set_irq(kMipMSIP, level);
      }
      const uint64_t na = a.hart->run(k), nb = b.hart->run(k);
      std::string why;
      if (na != nb || !same_state(a, b, &why)) {
        std::printf("diverged: round %d slice %d: %s (retired %llu vs %llu, pc %llx vs %llx)\n", round, slice,
                    na != nb ? "retired count" : why.c_str(), (unsigned long long)na, (unsigned long long)nb,
                    (unsigned long long)a.c().pc, (unsigned long long)b.c().pc);
        CHECK(false);
        return;
      }
      total += na;
      traps += a.c().mcause != 0;
    }
  }
  CHECK(total > static_cast<uint64_t>(rounds) * 1000);
  CHECK(traps > 0);
  CHECK(b.hart->code_cache_bytes() > 0);
  std::printf("%llu instructions compared\n", (unsigned long long)total);
}

// Doubles around the JIT's host FP fast path's edges (jit.cc, fp_arith):
// near DBL_MIN and the subnormals, near DBL_MAX, around 2^±511 (whose
// products and quotients land near DBL_MIN or overflow), ordinary ones, often
// with few significant bits (exact results), and zeros, infinities, NaNs.
uint64_t edge_double(Rng& g) {
  static const uint64_t special[] = {
      0, 0x8000000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL,
      0x7ff0000000000001ULL, 0xfff8000000000123ULL, 0x0010000000000000ULL, 0x7fefffffffffffffULL, 1,
      0xffffffff3f800000ULL, 0x000000003f800000ULL,  // a boxed 1.0f, a badly boxed one
  };
  uint64_t mant = g.next() & ((1ULL << 52) - 1);
  if (g.below(2)) mant &= ~0ULL << g.below(53);
  uint64_t e;
  switch (g.below(8)) {
    case 0: e = g.below(4); break;                  // subnormal .. 2^-1020
    case 1: e = 0x7fe - g.below(3); break;          // near DBL_MAX
    case 2: e = 0x200 - 3 + g.below(6); break;      // around 2^-511
    case 3: e = 0x5fe - 3 + g.below(6); break;      // around 2^511
    case 4: return special[g.below(sizeof special / sizeof special[0])];
    default: e = 0x3fc + g.below(8); break;
  }
  return (g.below(2) << 63) | (e << 52) | mant;
}

// The same for singles, NaN-boxed (one in twelve is not: it reads as the
// canonical NaN): near FLT_MIN and FLT_MAX, around 2^±63.
uint64_t edge_single(Rng& g) {
  static const uint32_t special[] = {0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                     0x7f800001u, 0xffc00123u, 0x00800000u, 0x7f7fffffu, 1};
  if (g.below(12) == 0) return g.next() & ~(1ULL << 40);  // badly boxed
  uint32_t mant = static_cast<uint32_t>(g.next()) & ((1u << 23) - 1);
  if (g.below(2)) mant &= ~0u << g.below(24);
  uint32_t e;
  switch (g.below(8)) {
    case 0: e = static_cast<uint32_t>(g.below(4)); break;
    case 1: e = 0xfe - static_cast<uint32_t>(g.below(3)); break;
    case 2: e = 0x40 - 3 + static_cast<uint32_t>(g.below(6)); break;
    case 3: e = 0xbe - 3 + static_cast<uint32_t>(g.below(6)); break;
    case 4: return 0xffffffff00000000ULL | special[g.below(sizeof special / sizeof special[0])];
    default: e = 0x7c + static_cast<uint32_t>(g.below(8)); break;
  }
  return 0xffffffff00000000ULL | (static_cast<uint64_t>(g.below(2)) << 31) | (e << 23) | mant;
}
uint64_t box(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return 0xffffffff00000000ULL | b;
}
float as_float(uint64_t b) {
  const uint32_t u = static_cast<uint32_t>(b);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

double as_double(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
uint64_t as_bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

}  // namespace

// The JIT's host fast path for F/D (jit.cc: inline moves, conversions and
// arithmetic on SSE2/FMA3 when RNE and NX is set) against the
// interpreter's softfp, bit for bit: seeded random straight-line blocks of
// FADD/FSUB/FMUL/FDIV/FSQRT and FMADD/FMSUB/FNMSUB/FNMADD, .D or .S per round
// (static RNE, DYN with frm 0..7, other static modes), some ops of the other
// precision, FSGNJ/FMV/FCVT.D.W; operands at the edges (edge_double,
// edge_single: NaN-boxed or not), sums and fused products that cancel to tiny results, fflags
// with NX set or clear, FS off now and then (every op traps). After each
// block: f registers, fflags, mstatus, pc and trap CSRs identical.
TEST(fp_fast_path_matches_softfp_at_its_edges) {
  const int rounds = env_int("JIT_FP_ROUNDS", 3000);
  Rng r{static_cast<uint64_t>(env_int("JIT_DIFF_SEED", 1)) * 0x9e3779b97f4a7c15ULL | 1};
  Rig a(false), b(true);
  uint64_t ops = 0, traps = 0, nx_clear_rounds = 0;
  for (int round = 0; round < rounds; round++) {
    const uint64_t seed = r.next();
    unsigned n_ops = 0;
    for (Rig* rig : {&a, &b}) {
      Rng g{seed};
      GuestMemory& m = rig->mem;
      uint64_t pc = kCode;
      auto put = [&](uint32_t w) {
        m.write_obj<uint32_t>(pc, w);
        pc += 4;
      };
      auto pick_rm = [&]() -> unsigned {
        const uint64_t k = g.below(20);
        return k < 11 ? 7 : k < 17 ? 0 : 1 + static_cast<unsigned>(g.below(4));
      };
      // f0..f11 keep their edge values, f16..f31 take results, f12..f15 are set
      // so that f0*f1 + f12, f2*f3 - f13, f4 + f14 and f5 - f15 cancel, f6..f8
      // so that f6*f7 and f6/f8 are within a few ulps of DBL_MIN.
      auto dst = [&] { return 16 + static_cast<unsigned>(g.below(16)); };
      auto src = [&] { return static_cast<unsigned>(g.below(32)); };
      // Half the rounds are in single precision (operands, fast-path ops).
      const unsigned fmt = g.below(2) ? 1u : 0u;
      // A nop first: the JIT interprets the instruction that fills the fetch
      // TLB, so the 40 ops after it run as one translated block.
      put(i_type(0x13, 0, 0, 0, 0));
      // Short blocks too: fflags are sticky, so a flag one op missed is often
      // raised again by a later op of a long block before the comparison.
      n_ops = g.below(2) ? 40 : 1 + static_cast<unsigned>(g.below(4));
      for (unsigned i = 0; i < n_ops; i++) {
        const uint64_t k = g.below(100);
        const unsigned rm = pick_rm();
        if (i == 0 && g.below(3) == 0) {  // first, before other ops set UF: f6 * f7 or f6 / f8
          const bool div = g.below(2);
          put(r_type(0x53, dst(), rm, 6, div ? 8 : 7, (div ? 0x0c : 0x08) | fmt));
          continue;
        }
        if (k < 55) {
          static const unsigned f7s[5] = {0x01, 0x05, 0x09, 0x0d, 0x2d};  // fadd fsub fmul fdiv fsqrt .d
          const unsigned f7 = f7s[g.below(5)];
          unsigned rs1 = src(), rs2 = f7 == 0x2d ? 0 : src();
          // just below DBL_MIN: tiny after rounding though the host rounds some up to DBL_MIN
          if ((f7 == 0x09 || f7 == 0x0d) && g.below(3) == 0) rs1 = 6, rs2 = f7 == 0x09 ? 7 : 8;
          if (f7 == 0x01 && g.below(4) == 0) rs1 = 4, rs2 = 14;
          if (f7 == 0x05 && g.below(4) == 0) rs1 = 5, rs2 = 15;
          put(r_type(0x53, dst(), rm, rs1, rs2, (f7 & ~1u) | fmt));
        } else if (k < 80) {
          static const uint32_t opc[4] = {0x43, 0x47, 0x4b, 0x4f};
          const unsigned o = static_cast<unsigned>(g.below(4));
          unsigned rs1 = src(), rs2 = src(), rs3 = src();
          if (g.below(3) == 0) {  // a cancelling one: FMADD f0*f1 + f12 or FMSUB f2*f3 - f13
            const bool sub = g.below(2);
            put(r_type(sub ? 0x47 : 0x43, dst(), rm, sub ? 2 : 0, sub ? 3 : 1, ((sub ? 13u : 12u) << 2) | fmt));
            continue;
          }
          put(r_type(opc[o], dst(), rm, rs1, rs2, (rs3 << 2) | fmt));
        } else if (k < 90) {  // the other precision
          static const unsigned f7s[4] = {0x00, 0x04, 0x08, 0x0c};
          put(r_type(0x53, dst(), rm, src(), src(), f7s[g.below(4)] | (fmt ^ 1)));
        } else {
          switch (g.below(4)) {
            case 0: put(r_type(0x53, dst(), static_cast<unsigned>(g.below(3)), src(), src(), 0x11)); break;  // fsgnj*.d
            case 1: put(r_type(0x53, dst(), rm, 6 + static_cast<unsigned>(g.below(26)), static_cast<unsigned>(g.below(2)), 0x69)); break;  // fcvt.d.w(u)
            case 2: put(r_type(0x53, 5 + static_cast<unsigned>(g.below(27)), 0, src(), 0, 0x71)); break;  // fmv.x.d
            default: put(r_type(0x53, dst(), 0, 6 + static_cast<unsigned>(g.below(26)), 0, 0x79)); break;  // fmv.d.x
          }
        }
      }
      put(0x0000006f);  // jal x0, 0: the end
      m.write_obj<uint32_t>(kHandler, 0x0000006f);  // traps end here too
      rig->hart->reset(kCode, kPrivM);
      rig->hart->set_state(HartState::kRunning);
      CpuImpl& c = rig->c();
      c.mtvec = kHandler;
      if (g.below(10) != 0) c.mstatus |= 1ULL << ms::kFsShift;  // else FS = Off
      for (unsigned i = 0; i < 32; i++) c.fp.f[i] = fmt ? edge_double(g) : edge_single(g);
      for (unsigned i = 6; i < 32; i++) c.x[i] = g.below(2) ? g.next() : g.below(1u << 20) - (1u << 19);
      const double f0 = as_double(c.fp.f[0]), f1 = as_double(c.fp.f[1]), f2 = as_double(c.fp.f[2]),
                   f3 = as_double(c.fp.f[3]);
      volatile double p01 = f0 * f1, p23 = f2 * f3;  // rounded products: the fused result is their error
      c.fp.f[12] = as_bits(-p01);
      c.fp.f[13] = as_bits(p23);
      // f4 + f14 and f5 - f15: neighbours, so the difference is a few ulps (tiny near DBL_MIN).
      c.fp.f[14] = (c.fp.f[4] ^ (1ULL << 63)) + g.below(3);
      c.fp.f[15] = c.fp.f[5] - g.below(3);
      // f6 * f7 and f6 / f8 land within a few ulps below DBL_MIN (or above it).
      if (fmt) {
        c.fp.f[6] = (g.below(2) << 63) | (0x0010000000000000ULL + g.below(2));
        c.fp.f[7] = 0x3fefffffffffffffULL - g.below(2);
        c.fp.f[8] = 0x3ff0000000000001ULL + g.below(2);
      } else {  // FLT_MIN, 1 - 2^-24, 1 + 2^-23
        c.fp.f[6] = 0xffffffff00000000ULL | (g.below(2) << 31) | (0x00800000u + g.below(2));
        c.fp.f[7] = 0xffffffff00000000ULL | (0x3f7fffffu - g.below(2));
        c.fp.f[8] = 0xffffffff00000000ULL | (0x3f800001u + g.below(2));
        volatile float p01 = as_float(c.fp.f[0]) * as_float(c.fp.f[1]), p23 = as_float(c.fp.f[2]) * as_float(c.fp.f[3]);
        c.fp.f[12] = box(-p01);
        c.fp.f[13] = box(p23);
        c.fp.f[14] = 0xffffffff00000000ULL | ((static_cast<uint32_t>(c.fp.f[4]) ^ 0x80000000u) + g.below(3));
        c.fp.f[15] = 0xffffffff00000000ULL | (static_cast<uint32_t>(c.fp.f[5]) - g.below(3));
      }
      const bool nx = g.below(4) != 0;
      c.fp.fflags = (g.below(2) ? 0u : static_cast<uint32_t>(g.below(32)) & ~1u) | (nx ? 1u : 0u);
      c.fp.frm = static_cast<uint32_t>(g.below(8) ? 0 : g.below(8));
      if (rig == &a) nx_clear_rounds += !nx;
    }
    const uint64_t na = a.hart->run(n_ops + 5), nb = b.hart->run(n_ops + 5);
    std::string why;
    if (na != nb || !same_state(a, b, &why)) {
      std::printf("diverged: round %d: %s (retired %llu vs %llu, pc %llx vs %llx)\n", round,
                  na != nb ? "retired count" : why.c_str(), (unsigned long long)na, (unsigned long long)nb,
                  (unsigned long long)a.c().pc, (unsigned long long)b.c().pc);
      CHECK(false);
      return;
    }
    ops += na;
    traps += a.c().mcause != 0;
  }
  CHECK(ops > static_cast<uint64_t>(rounds) * 10);
  CHECK(traps > 0 && nx_clear_rounds > 0);
  std::printf("%llu FP instructions compared\n", (unsigned long long)ops);
}

TEST(random_programs_match_the_interpreter) {
  run_diff(false, env_int("JIT_DIFF_ROUNDS", 60), static_cast<uint64_t>(env_int("JIT_DIFF_SEED", 1)));
}

TEST(fp_atomics_and_counters_match_the_interpreter) {
  run_diff(true, env_int("JIT_DIFF_ROUNDS", 60), static_cast<uint64_t>(env_int("JIT_DIFF_SEED", 1)) + 1000);
}

// A store over code that has been translated must take effect at once.
TEST(stores_over_translated_code_invalidate_it) {
  Rig r(true);
  auto addi = [](unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x13, rd, 0, rs1, imm); };
  r.hart->reset(B, kPrivM);
  r.hart->set_state(HartState::kRunning);
  // loop: addi a0, x0, 1 ; sw a1, 0(a2) ; jal x0, loop   (a1 = "addi a0, x0, 2", a2 = B)
  r.mem.write_obj<uint32_t>(B, addi(10, 0, 1));
  r.mem.write_obj<uint32_t>(B + 4, s_type(2, 12, 11, 0));
  r.mem.write_obj<uint32_t>(B + 8, 0xff9ff06f);  // jal x0, -8
  r.c().x[11] = addi(10, 0, 2);
  r.c().x[12] = B;
  CHECK_EQ(r.hart->run(3), 3u);
  CHECK_EQ(r.hart->reg(10), 1u);
  r.hart->set_pc(B);
  CHECK_EQ(r.hart->run(1), 1u);
  CHECK_EQ(r.hart->reg(10), 2u);
  // Device DMA over code also invalidates.
  r.mem.write_obj<uint32_t>(B, addi(10, 0, 3));
  r.hart->set_pc(B);
  r.hart->run(1);
  CHECK_EQ(r.hart->reg(10), 3u);
}

// A block ends at its page: the next virtual page may map to any physical page.
TEST(blocks_stop_at_the_page_boundary) {
  for (bool jit : {false, true}) {
    Rig r(jit);
    auto addi = [](unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x13, rd, 0, rs1, imm); };
    put_page_tables(r.mem);  // VA kCode + 0x1000 -> PA kAltCode
    r.mem.write_obj<uint32_t>(kCode + 0xff8, addi(10, 0, 1));
    r.mem.write_obj<uint32_t>(kCode + 0xffc, addi(10, 10, 1));
    r.mem.write_obj<uint32_t>(kAltCode, addi(10, 10, 10));
    r.mem.write_obj<uint32_t>(kCode + 0x1000, addi(10, 10, 100));  // the physically next page
    r.hart->reset(kCode + 0xff8, kPrivS);
    r.hart->set_state(HartState::kRunning);
    CpuImpl& c = r.c();
    c.pmpaddr[0] = (1ULL << 54) - 1;
    c.pmpcfg[0] = 0x1f;
    pmp_changed(c);
    c.satp = (8ULL << 60) | (kRoot >> 12);
    update_keys(c);
    for (int i = 0; i < 3; i++) r.hart->run(1);  // the fetch TLB fills
    CHECK_EQ(r.hart->reg(10), 12u);
    r.hart->set_pc(kCode + 0xff8);
    CHECK_EQ(r.hart->run(3), 3u);  // now as one translated block
    CHECK_EQ(r.hart->reg(10), 12u);
  }
}

// LR/SC across harts (both engines, the JIT through its helper path): harts
// run one after another in one thread, and the reservation does not survive
// the end of a slice, so an SC fails when another hart ran (and may have
// stored to the line) between it and its LR; within one slice it succeeds.
TEST(sc_fails_after_another_hart_ran_between_it_and_its_lr) {
  for (bool jit : {false, true}) {
    GuestMemory mem;
    std::string err;
    mem.init(16 << 20, &err);
    TestHost host;
    Hart h0(0, mem, host), h1(1, mem, host);
    if (jit) {
      CHECK(h0.set_jit(true));
      CHECK(h1.set_jit(true));
    }
    constexpr uint64_t kLine = B + 0x8000;
    auto line = [&] {
      uint64_t v = 0;
      mem.read_obj(kLine, &v);
      return v;
    };
    // hart 0 at B, two blocks of two: lr.d a0, (a1); jal x0, +4; sc.d a2, a3, (a1); jal x0, 0 (spin)
    mem.write_obj<uint32_t>(B, r_type(0x2f, 10, 3, 11, 0, 0x02 << 2));
    mem.write_obj<uint32_t>(B + 4, 0x0040006f);
    mem.write_obj<uint32_t>(B + 8, r_type(0x2f, 12, 3, 11, 13, 0x03 << 2));
    mem.write_obj<uint32_t>(B + 12, 0x0000006f);
    // hart 1 at B + 0x100: sd a3, 0(a1); jal x0, 0
    mem.write_obj<uint32_t>(B + 0x100, s_type(3, 11, 13, 0));
    mem.write_obj<uint32_t>(B + 0x104, 0x0000006f);
    for (int split = 0; split < 2; split++) {
      mem.write_obj<uint64_t>(kLine, 5);
      h0.reset(B, kPrivM);
      h1.reset(B + 0x100, kPrivM);
      for (Hart* h : {&h0, &h1}) {
        h->set_state(HartState::kRunning);
        h->set_reg(11, kLine);
      }
      h0.set_reg(13, 7);
      h1.set_reg(13, 9);
      if (split) {
        CHECK_EQ(h0.run(2), 2u);  // LR (one block)
        CHECK_EQ(h1.run(2), 2u);  // hart 1 stores to the reserved line
        CHECK_EQ(h0.run(2), 2u);  // SC (the next block): must fail
        CHECK_EQ(h0.reg(12), 1u);
        CHECK_EQ(line(), 9u);
      } else {
        CHECK_EQ(h0.run(4), 4u);  // LR and SC in one slice
        CHECK_EQ(h0.reg(12), 0u);
        CHECK_EQ(line(), 7u);
      }
      CHECK_EQ(h0.reg(10), 5u);
    }
  }
}

TEST_MAIN()
