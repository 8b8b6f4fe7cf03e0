// Unit tests of the CPU's internals: the compressed decoder against the 32-bit
// encodings the assembler gives for the same instructions, the TLB generation
// flush, satp WARL, the page-crossing fetch and decode-cache coherence.
// (The instruction-level behaviour is covered by the programs in tests/isa.)
#include <cstring>
#include <string>

#include "cpu/cpu_impl.h"
#include "testing.h"

using namespace vmsup;

namespace {

class TestHost : public CpuHost {
 public:
  bool mmio_read(uint64_t, unsigned, uint64_t* v) override {
    *v = 0;
    return false;
  }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }
  uint64_t mtime() override { return time; }
  bool sbi_ecall(Hart&) override { return false; }
  uint64_t time = 0;
};

struct Rig {
  GuestMemory mem;
  TestHost host;
  std::unique_ptr<Hart> hart;
  Rig() {
    std::string err;
    mem.init(16 << 20, &err);
    hart = std::make_unique<Hart>(0, mem, host);
    hart->reset(GuestMemory::kBase, kPrivM);
    hart->set_state(HartState::kRunning);
    // As firmware would: PMP entry 0 lets S and U reach all memory.
    hart->impl().pmpaddr[0] = (1ULL << 54) - 1;
    hart->impl().pmpcfg[0] = 0x1f;
    pmp_changed(hart->impl());
  }
  void put32(uint64_t pa, uint32_t insn) { mem.write_obj<uint32_t>(pa, insn); }
  void put16(uint64_t pa, uint16_t insn) { mem.write_obj<uint16_t>(pa, insn); }
  CpuImpl& c() { return hart->impl(); }
};

constexpr uint64_t B = GuestMemory::kBase;

// Encoders for the few instructions the tests place by hand.
uint32_t i_type(uint32_t opc, unsigned rd, unsigned f3, unsigned rs1, int32_t imm) {
  return (static_cast<uint32_t>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return i_type(0x13, rd, 0, rs1, imm); }
uint32_t csrr(unsigned rd, unsigned csr) { return i_type(0x73, rd, 2, 0, static_cast<int32_t>(csr)); }
constexpr uint32_t kEbreak = 0x00100073;

}  // namespace

// Pairs (compressed, its 32-bit expansion) as encoded by riscv64-linux-gnu-as
// (`.option norvc` for the second), covering every RV64C instruction.
TEST(compressed_decodes_like_its_expansion) {
  static const uint32_t pairs[][2] = {
      {0x1fe8, 0x3fc10513}, {0x3de8, 0x0f85b507}, {0x5ef0, 0x07c6a603}, {0x7ff8, 0x0f87b703},
      {0xa480, 0x0084b427}, {0xc0a8, 0x04a4a023}, {0xe3c0, 0x0887b023}, {0x1501, 0xfe050513},
      {0x25fd, 0x01f5859b}, {0x52bd, 0xfef00293}, {0x7101, 0xe0010113}, {0x617d, 0x1f010113},
      {0x637d, 0x0001f337}, {0x7381, 0xfffe03b7}, {0x917d, 0x03f55513}, {0x8585, 0x4015d593},
      {0x9a7d, 0xfff67613}, {0x8e99, 0x40e686b3}, {0x8eb9, 0x00e6c6b3}, {0x8c45, 0x00946433},
      {0x8fe9, 0x00a7f7b3}, {0x9d0d, 0x40b5053b}, {0x9e35, 0x00d6063b}, {0xaffd, 0x7fe0006f},
      {0xb001, 0x801ff06f}, {0xcd7d, 0x0e050f63}, {0xf081, 0xf00490e3}, {0x1e7e, 0x03fe1e13},
      {0x307e, 0x1f813007}, {0x50fe, 0x0fc12083}, {0x7ffe, 0x1f813f83}, {0x8082, 0x00008067},
      {0x857a, 0x01e00533}, {0x9002, 0x00100073}, {0x9282, 0x000280e7}, {0x994e, 0x01390933},
      {0xbfee, 0x1fb13c27}, {0xdff6, 0x0fd12e23}, {0xfffa, 0x1fe13c23},
  };
  for (const auto& p : pairs) {
    DecodedInsn c, e;
    decode_insn(p[0], &c);
    decode_insn(p[1], &e);
    CHECK_EQ(c.len(), 2u);
    CHECK_EQ(e.len(), 4u);
    CHECK_EQ(c.op, e.op);
    const bool store = (c.op >= OP_SB && c.op <= OP_SD) || c.op == OP_FSD || (c.op >= OP_BEQ && c.op <= OP_BGEU);
    const bool r_type = c.op == OP_ADD || c.op == OP_SUB || c.op == OP_XOR || c.op == OP_OR || c.op == OP_AND ||
                        c.op == OP_ADDW || c.op == OP_SUBW;
    if (c.op == OP_EBREAK) continue;
    if (!store) CHECK_EQ(c.rd, e.rd);
    if (c.op != OP_LUI && c.op != OP_JAL) CHECK_EQ(c.rs1, e.rs1);
    if (store || r_type) CHECK_EQ(c.rs2, e.rs2);
    if (!r_type) CHECK_EQ(c.imm, e.imm);
    if (c.op != e.op || c.imm != e.imm) std::printf("  pair 0x%04x / 0x%08x\n", p[0], p[1]);
  }
}

TEST(reserved_and_zero_encodings_are_illegal) {
  // All-zero, C.ADDI4SPN with imm 0, C.LWSP/C.LDSP rd=0, C.JR rs1=0, C.ADDIW rd=0,
  // C.ADDI16SP 0, C.LUI 0, the reserved quadrant-0 slot, 48-bit prefixes.
  static const uint32_t bad[] = {0x0000, 0x0010, 0x4002, 0x6002, 0x8002, 0x2001, 0x6101, 0x6301, 0x8000, 0x0000001f};
  for (uint32_t r : bad) {
    DecodedInsn d;
    decode_insn(r, &d);
    CHECK_EQ(d.op, OP_ILLEGAL);
  }
}

TEST(illegal_instruction_reports_its_bits) {
  Rig r;
  r.put32(B, 0xffffffff);
  r.c().mtvec = B + 0x100;
  r.put32(B + 0x100, kEbreak);
  r.hart->run(1);
  CHECK_EQ(r.c().mcause, 2u);
  CHECK_EQ(r.c().mtval, 0xffffffffu);
  CHECK_EQ(r.c().mepc, B);
  CHECK_EQ(r.hart->pc(), B + 0x100);
  // A compressed illegal instruction reports its 16 bits only.
  Rig r2;
  r2.put32(B, 0x12340000);
  r2.c().mtvec = B + 0x100;
  r2.hart->run(1);
  CHECK_EQ(r2.c().mtval, 0u);
}

TEST(satp_ignores_unsupported_modes) {
  Rig r;
  // csrw satp, a0 (csrrw x0, satp, a0); a0 = mode 10 (Sv57) then mode 9 (Sv48).
  r.put32(B, i_type(0x73, 0, 1, 10, 0x180));
  r.put32(B + 4, i_type(0x73, 0, 1, 11, 0x180));
  r.hart->set_reg(10, (10ULL << 60) | 0x1234);
  r.hart->set_reg(11, (9ULL << 60) | 0x80123);
  r.hart->run(1);
  CHECK_EQ(r.c().satp, 0u);
  r.hart->run(1);
  CHECK_EQ(r.c().satp, (9ULL << 60) | 0x80123);
}

// Builds an Sv39 table at B+0x10000 mapping VA 0x1000 → B+0x20000 (R/W/X, A/D)
// and VA 0x2000 unmapped; M-mode code with MPRV/MPP=S reads through it.
TEST(tlb_generations_survive_wraparound) {
  Rig r;
  const uint64_t root = B + 0x10000, l1 = B + 0x11000, l0 = B + 0x12000;
  r.mem.write_obj<uint64_t>(root, ((l1 >> 12) << 10) | 1);
  r.mem.write_obj<uint64_t>(l1, ((l0 >> 12) << 10) | 1);
  r.mem.write_obj<uint64_t>(l0 + 8, (((B + 0x20000) >> 12) << 10) | 0xcf);  // VA 0x1000: D A X W R V
  r.mem.write_obj<uint64_t>(B + 0x20000, 0x1122334455667788ULL);
  CpuImpl& c = r.c();
  c.satp = (8ULL << 60) | (root >> 12);
  c.mstatus |= ms::MPRV | (1ULL << ms::kMppShift);  // loads as S
  update_keys(c);
  for (int i = 0; i < 600; i++) {
    uint64_t v = 0;
    CHECK(mem_load<uint64_t>(c, 0x1008 - 8, &v));
    CHECK_EQ(v, 0x1122334455667788ULL);
    // Remap the page to another frame, flush: the next load must see the new frame.
    const uint64_t frame = (i & 1) ? B + 0x20000 : B + 0x21000;
    r.mem.write_obj<uint64_t>(B + 0x21000, 0x1122334455667788ULL);
    r.mem.write_obj<uint64_t>(l0 + 8, ((frame >> 12) << 10) | 0xcf);
    tlb_flush(c);
  }
  // Unmap it: after a flush the load faults with a load page fault.
  r.mem.write_obj<uint64_t>(l0 + 8, 0);
  tlb_flush(c);
  uint64_t v;
  CHECK(!mem_load<uint64_t>(c, 0x1000, &v));
  CHECK_EQ(c.exc_cause, static_cast<uint32_t>(kExcLoadPage));
  CHECK_EQ(c.exc_tval, 0x1000u);
}

TEST(fetch_across_a_page_into_an_unmapped_page_faults_on_the_second_half) {
  Rig r;
  const uint64_t root = B + 0x10000, l1 = B + 0x11000, l0 = B + 0x12000;
  r.mem.write_obj<uint64_t>(root, ((l1 >> 12) << 10) | 1);
  r.mem.write_obj<uint64_t>(l1, ((l0 >> 12) << 10) | 1);
  r.mem.write_obj<uint64_t>(l0 + 8, (((B + 0x20000) >> 12) << 10) | 0xcb);  // VA 0x1000: D A X R V (S)
  r.put16(B + 0x20ffe, 0x0513);  // the first half of a 32-bit addi at VA 0x1ffe
  CpuImpl& c = r.c();
  c.satp = (8ULL << 60) | (root >> 12);
  c.mtvec = B + 0x100;
  r.put32(B + 0x100, kEbreak);
  r.hart->set_priv(kPrivS);
  r.hart->set_pc(0x1ffe);
  r.hart->run(1);
  CHECK_EQ(c.mcause, static_cast<uint64_t>(kExcInsnPage));
  CHECK_EQ(c.mepc, 0x1ffeu);
  CHECK_EQ(c.mtval, 0x2000u);
}

// PMP (privileged spec §3.7): a TOR boundary in the middle of a page must be
// honoured on every access, so such a page never enters the host-pointer TLB.
TEST(pmp_boundary_inside_a_page_is_checked_on_every_access) {
  Rig r;
  CpuImpl& c = r.c();
  c.pmpaddr[0] = (B + 0x40800) >> 2;  // entry 0: TOR [0, B+0x40800) RW
  c.pmpcfg[0] = 0x08 | 3;
  c.pmpaddr[1] = (1ULL << 54) - 1;    // entry 1: NAPOT all, R only
  c.pmpcfg[1] = 0x18 | 1;
  pmp_changed(c);
  c.mstatus |= ms::MPRV | (1ULL << ms::kMppShift);  // data accesses as S, satp Bare
  update_keys(c);
  for (int i = 0; i < 3; i++) {
    CHECK(mem_store<uint64_t>(c, B + 0x407f8, 7));
    CHECK(!mem_store<uint64_t>(c, B + 0x40800, 7));
    CHECK_EQ(c.exc_cause, static_cast<uint32_t>(kExcStoreAccess));
    CHECK_EQ(c.exc_tval, B + 0x40800);
    uint64_t v = 0;
    CHECK(mem_load<uint64_t>(c, B + 0x40800, &v));
    // An access straddling the boundary matches entry 0 only partly: it fails.
    CHECK(!mem_store<uint32_t>(c, B + 0x407fe, 1));
  }
  // No entry matches: S is denied, M is not.
  c.pmpcfg[0] = c.pmpcfg[1] = 0;
  pmp_changed(c);
  uint64_t v;
  CHECK(!mem_load<uint64_t>(c, B + 0x1000, &v));
  CHECK_EQ(c.exc_cause, static_cast<uint32_t>(kExcLoadAccess));
  c.mstatus &= ~ms::MPRV;
  update_keys(c);
  CHECK(mem_load<uint64_t>(c, B + 0x1000, &v));
}

TEST(decode_cache_sees_stores_over_code) {
  Rig r;
  // addi a0, a0, 1 at B; run it, overwrite it with addi a0, a0, 5, run it again.
  r.put32(B, addi(10, 10, 1));
  r.hart->run(1);
  CHECK_EQ(r.hart->reg(10), 1u);
  r.put32(B, addi(10, 10, 5));
  r.hart->set_pc(B);
  r.hart->run(1);
  CHECK_EQ(r.hart->reg(10), 6u);
}

TEST(counters_need_mcounteren_below_m) {
  Rig r;
  r.put32(B, csrr(10, 0xc01));  // rdtime a0 in S-mode
  r.c().mtvec = B + 0x100;
  r.hart->set_priv(kPrivS);
  r.hart->run(1);
  CHECK_EQ(r.c().mcause, 2u);
  r.c().mcounteren = 2;
  r.host.time = 12345;
  r.hart->set_priv(kPrivS);
  r.hart->set_pc(B);
  r.hart->run(1);
  CHECK_EQ(r.hart->reg(10), 12345u);
}

TEST(stimecmp_drives_stip_when_the_board_sets_it) {
  Rig r;
  r.host.time = 100;
  r.hart->set_stimecmp(200);
  CHECK_EQ(r.hart->mip() & kMipSTIP, 0u);
  CHECK_EQ(r.hart->timer_deadline(), 200u);
  r.host.time = 200;
  r.hart->update_time(200);
  CHECK(r.hart->mip() & kMipSTIP);
  r.hart->set_stimecmp(~0ULL);  // re-armed: STIP drops
  CHECK_EQ(r.hart->mip() & kMipSTIP, 0u);
}

TEST(wfi_sleeps_until_an_enabled_interrupt_is_pending) {
  Rig r;
  r.put32(B, 0x10500073);  // wfi
  r.put32(B + 4, addi(10, 0, 7));
  CHECK_EQ(r.hart->run(10), 1u);
  CHECK(r.hart->state() == HartState::kWfi);
  CHECK_EQ(r.hart->run(10), 0u);
  r.c().mie = kMipMTIP;
  r.hart->set_irq(kMipMTIP, true);  // MIE is 0: wakes without trapping
  CHECK(r.hart->state() == HartState::kRunning);
  r.hart->run(1);
  CHECK_EQ(r.hart->reg(10), 7u);
}

// Hostile-guest robustness: random instruction words (with the MMU on or off,
// in every privilege mode, with random trap vectors and page-table roots) must
// never make the interpreter touch host memory outside guest RAM (ASan/UBSan
// build), hang, or crash.
TEST(random_instruction_soup_never_crashes_the_host) {
  Rig r;
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  uint64_t total = 0, traps = 0;
  for (int round = 0; round < 200; round++) {
    for (uint64_t off = 0; off < 0x10000; off += 8) r.mem.write_obj<uint64_t>(B + off, next());
    // Sprinkle valid-looking PTEs around the root so some walks succeed.
    for (int i = 0; i < 64; i++) {
      const uint64_t pte = ((((B >> 12) + (next() & 0xfff)) << 10) | (next() & 0xff)) | 1;
      r.mem.write_obj<uint64_t>(B + 0x8000 + (next() & 0xff8), pte);
    }
    static const Priv privs[3] = {kPrivU, kPrivS, kPrivM};
    r.hart->reset(B + (next() & 0xfffe), privs[round % 3]);
    r.hart->set_state(HartState::kRunning);
    CpuImpl& c = r.c();
    c.mtvec = B + (next() & 0xfffc);
    c.stvec = B + (next() & 0xfffc);
    c.medeleg = next() & 0xb3ff;
    c.mstatus |= (next() & 1) ? ms::FS : 0;
    if (round & 1) {
      c.satp = ((round & 2) ? 9ULL : 8ULL) << 60 | ((B + 0x8000) >> 12);
      update_keys(c);
    }
    for (unsigned i = 1; i < 32; i++) r.hart->set_reg(i, (next() & 1) ? next() : B + (next() & 0xffffff));
    total += r.hart->run(20000);
    traps += (c.mcause != 0 || c.scause != 0);
  }
  // A sanitizer report aborts the program; beyond that, the soup must really
  // have executed and trapped.
  CHECK(total > 10000);
  CHECK(traps > 100);
}

TEST_MAIN()
