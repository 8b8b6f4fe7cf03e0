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
  uint64_t mtime() override { return 0; }
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

void gen_insn(Rng& r, GuestMemory& m, uint64_t* pc, bool in_loop = false);

// A counted loop at *pc:  addi x3, x0, n ; head: body ; addi x3, x3, -1 ;
// bne x3, x0, head. The block at head branches back to itself (the JIT's loop
// mode keeps registers in host registers across passes). The body is random
// straight-line code, sometimes moving x5 by a page fraction so its loads and
// stores walk into the read-only, unmapped and code pages on a later pass.
void gen_loop(Rng& r, GuestMemory& m, uint64_t* pc) {
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
      gen_insn(r, m, pc, true);
    }
  }
  m.write_obj<uint32_t>(*pc, i_type(0x13, 3, 0, 3, -1));
  *pc += 4;
  m.write_obj<uint32_t>(*pc, b_type(1, 3, 0, static_cast<int32_t>(head - *pc)));
  *pc += 4;
}

// Appends one random instruction at *pc (2 or 4 bytes); in_loop: no control
// transfers (a loop body).
void gen_insn(Rng& r, GuestMemory& m, uint64_t* pc, bool in_loop) {
  const uint64_t k = r.below(100);
  DecodedInsn d;
  if (!in_loop && k >= 96 && *pc + 64 < kCodeEnd - 8) {
    gen_loop(r, m, pc);
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
    if (d.op == OP_ILLEGAL || d.op >= OP_FENCE_I || !rd_ok(d)) continue;
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
#undef SAME
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

}  // namespace

TEST(random_programs_match_the_interpreter) {
  const int rounds = env_int("JIT_DIFF_ROUNDS", 60);
  Rng r{static_cast<uint64_t>(env_int("JIT_DIFF_SEED", 1)) * 0x9e3779b97f4a7c15ULL | 1};
  Rig a(false), b(true);
  uint64_t total = 0, traps = 0;
  for (int round = 0; round < rounds; round++) {
    const uint64_t seed = r.next();
    for (Rig* rig : {&a, &b}) {
      Rng g{seed};
      rig->mem.fill(B, 0, kSpan);
      for (uint64_t pc = kCode; pc < kCodeEnd - 8;) gen_insn(g, rig->mem, &pc);
      // kAltCode gets one version of the second code page, the page itself another.
      std::memcpy(rig->mem.host_ptr(kAltCode, 0x1000), rig->mem.host_ptr(kCode + 0x1000, 0x1000), 0x1000);
      for (uint64_t pc = kCode + 0x1000; pc < kCodeEnd - 8;) gen_insn(g, rig->mem, &pc);
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

TEST_MAIN()
