// The Hart API (hart.h) and the interpreter loop: RV64IMAFDC + Zicsr +
// Zifencei + Zicntr in M, S and U modes.
//
// The loop fetches through a one-entry fetch page cache, looks the pc up in the
// decoded-instruction cache (validated by the raw bits, see cpu_impl.h) and
// dispatches on the decoded operation. Loads and stores go through the
// host-pointer TLB inline; everything unusual takes a slow path in mmu.cc.
// Interrupts are checked before every instruction, but cheaply: only when
// mip & mie is non-zero is the full selection (csr.cc) run.
#include <cstring>

#include "cpu/cpu_impl.h"

namespace vmsup {

Hart::Hart(uint32_t hartid, GuestMemory& mem, CpuHost& host)
    : impl_(std::make_unique<CpuImpl>(hartid, mem, host, this)) {
  impl_->ram = mem.cpu_ram();
  impl_->ram_base = mem.base();
  impl_->ram_size = mem.size();
  cpu_reset(*impl_, mem.base(), kPrivM);
  impl_->state = HartState::kStopped;
}

Hart::~Hart() = default;

void Hart::reset(uint64_t pc, Priv priv) {
  CpuImpl& c = *impl_;
  c.ram = c.mem.cpu_ram();
  c.ram_base = c.mem.base();
  c.ram_size = c.mem.size();
  cpu_reset(c, pc, priv);
}

namespace {

inline int64_t div64(int64_t a, int64_t b) {
  if (b == 0) return -1;
  if (a == INT64_MIN && b == -1) return a;
  return a / b;
}
inline int64_t rem64(int64_t a, int64_t b) {
  if (b == 0) return a;
  if (a == INT64_MIN && b == -1) return 0;
  return a % b;
}
inline int32_t div32(int32_t a, int32_t b) {
  if (b == 0) return -1;
  if (a == INT32_MIN && b == -1) return a;
  return a / b;
}
inline int32_t rem32(int32_t a, int32_t b) {
  if (b == 0) return a;
  if (a == INT32_MIN && b == -1) return 0;
  return a % b;
}
inline int64_t sx32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

// The AMO operations (unprivileged spec §8.4), by funct5.
inline uint64_t amo_apply(uint32_t f5, uint64_t old, uint64_t src, bool word) {
  if (word) {
    const int32_t a = static_cast<int32_t>(old), b = static_cast<int32_t>(src);
    const uint32_t ua = static_cast<uint32_t>(old), ub = static_cast<uint32_t>(src);
    switch (f5) {
      case 0x01: return ub;
      case 0x00: return ua + ub;
      case 0x04: return ua ^ ub;
      case 0x0c: return ua & ub;
      case 0x08: return ua | ub;
      case 0x10: return static_cast<uint32_t>(a < b ? a : b);
      case 0x14: return static_cast<uint32_t>(a > b ? a : b);
      case 0x18: return ua < ub ? ua : ub;
      case 0x1c: return ua > ub ? ua : ub;
    }
    return ua;
  }
  const int64_t a = static_cast<int64_t>(old), b = static_cast<int64_t>(src);
  switch (f5) {
    case 0x01: return src;
    case 0x00: return old + src;
    case 0x04: return old ^ src;
    case 0x0c: return old & src;
    case 0x08: return old | src;
    case 0x10: return static_cast<uint64_t>(a < b ? a : b);
    case 0x14: return static_cast<uint64_t>(a > b ? a : b);
    case 0x18: return old < src ? old : src;
    case 0x1c: return old > src ? old : src;
  }
  return old;
}

inline void fs_dirty(CpuImpl& c) { c.mstatus |= ms::FS | ms::SD; }

}  // namespace

// Threaded dispatch only pays when every handler keeps its own indirect jump:
// stop GCC from merging the replicated dispatch tails back into one.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-gcse", "no-crossjumping")))
#endif
uint64_t Hart::run(uint64_t budget) {
  CpuImpl& c = *impl_;
  if (c.state == HartState::kStopped) return 0;
  if ((c.menvcfg & kMenvcfgSTCE) || c.stimecmp_host) poll_stimecmp(c, c.host.mtime());
  // Harts run one after another in one thread: dropping the reservation at the
  // start of every slice makes an SC fail whenever another hart (or a device)
  // may have stored in between (unprivileged spec §8.2 allows spurious failure).
  c.resv_valid = false;
  if (c.state == HartState::kWfi) {
    if (!(c.mip & c.mie)) return 0;
    c.state = HartState::kRunning;
  }
  const uint64_t start = c.retired_total;
  uint64_t left = budget;  // dispatches left in this call
  uint64_t retired = 0;    // not yet added to the counters (account())
  uint64_t pc = c.pc;      // c.pc is kept in sync whenever we leave the fast path
  uint64_t npc = 0;
  DecodedInsn* d = nullptr;
  uint32_t raw = 0;

  // Threaded dispatch: one label per operation, in enum Op order.
  static const void* const kLabels[OP_COUNT] = {
      &&L_ILLEGAL,
      &&L_LUI, &&L_AUIPC, &&L_JAL, &&L_JALR,
      &&L_BEQ, &&L_BNE, &&L_BLT, &&L_BGE, &&L_BLTU, &&L_BGEU,
      &&L_LB, &&L_LH, &&L_LW, &&L_LD, &&L_LBU, &&L_LHU, &&L_LWU,
      &&L_SB, &&L_SH, &&L_SW, &&L_SD,
      &&L_ADDI, &&L_SLTI, &&L_SLTIU, &&L_XORI, &&L_ORI, &&L_ANDI, &&L_SLLI, &&L_SRLI, &&L_SRAI,
      &&L_ADD, &&L_SUB, &&L_SLL, &&L_SLT, &&L_SLTU, &&L_XOR, &&L_SRL, &&L_SRA, &&L_OR, &&L_AND,
      &&L_ADDIW, &&L_SLLIW, &&L_SRLIW, &&L_SRAIW,
      &&L_ADDW, &&L_SUBW, &&L_SLLW, &&L_SRLW, &&L_SRAW,
      &&L_MUL, &&L_MULH, &&L_MULHSU, &&L_MULHU, &&L_DIV, &&L_DIVU, &&L_REM, &&L_REMU,
      &&L_MULW, &&L_DIVW, &&L_DIVUW, &&L_REMW, &&L_REMUW,
      &&L_FENCE, &&L_FENCE_I,
      &&L_ECALL, &&L_EBREAK, &&L_MRET, &&L_SRET, &&L_WFI, &&L_SFENCE_VMA,
      &&L_CSR, &&L_CSR, &&L_CSR, &&L_CSR, &&L_CSR, &&L_CSR,
      &&L_LR, &&L_SC, &&L_LR, &&L_SC,
      &&L_AMO, &&L_AMO,
      &&L_FLW, &&L_FLD, &&L_FSW, &&L_FSD,
      &&L_FP,
  };
  static_assert(OP_FP + 1 == OP_COUNT, "kLabels must list every Op");

#define RD c.x[d->rd]
#define RS1 c.x[d->rs1]
#define RS2 c.x[d->rs2]
#define IMM static_cast<int64_t>(d->imm)
#define UIMM static_cast<uint64_t>(static_cast<int64_t>(d->imm))
  // Fetch through the one-entry fetch page cache (offset 0xffe may start an
  // instruction that crosses the page: slow path), look up the decode cache,
  // jump to the handler.
#define DISPATCH()                                                                          \
  do {                                                                                      \
    if (VM_UNLIKELY(left == 0)) {                                                           \
      c.pc = pc;                                                                            \
      goto out;                                                                             \
    }                                                                                       \
    left--;                                                                                 \
    if (VM_LIKELY(((pc & ~0xfffULL) | c.fetch_key) == c.fetch_tag && (pc & 0xfff) != 0xffe)) { \
      std::memcpy(&raw, reinterpret_cast<const void*>(pc + c.fetch_addend), 4);             \
    } else {                                                                                \
      c.pc = pc;                                                                            \
      if (!fetch_slow(c, &raw)) {                                                           \
        take_trap(c, c.exc_cause, c.exc_tval);                                              \
        goto slow_next;                                                                     \
      }                                                                                     \
    }                                                                                       \
    d = &c.dcache[(pc >> 1) & (kDcacheSize - 1)];                                           \
    if (VM_UNLIKELY(d->raw != raw)) decode_insn(raw, d);                                    \
    npc = pc + d->len;                                                                      \
    goto* kLabels[d->op];                                                                   \
  } while (0)
#define NEXT        \
  do {              \
    retired++;      \
    pc = npc;       \
    DISPATCH();     \
  } while (0)
  // Leaves the fast path after an instruction that may have changed interrupts,
  // privilege, translation or the hart's state.
#define NEXT_SLOW   \
  do {              \
    retired++;      \
    c.pc = npc;     \
    goto slow_next; \
  } while (0)
#define TRAP(cause, tval)          \
  do {                             \
    c.pc = pc;                     \
    take_trap(c, cause, tval);     \
    goto slow_next;                \
  } while (0)
#define MEMTRAP TRAP(c.exc_cause, c.exc_tval)
#define ILLEGAL TRAP(kExcIllegal, d->len == 2 ? (d->raw & 0xffff) : d->raw)
#define LOAD(T, conv)                                                                        \
  do {                                                                                       \
    const uint64_t va = RS1 + UIMM;                                                          \
    const TlbEntry& e = c.tlb[0][(va >> 12) & (kTlbSize - 1)];                               \
    if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | c.data_key) && (va & (sizeof(T) - 1)) == 0)) { \
      T v_;                                                                                  \
      std::memcpy(&v_, reinterpret_cast<const void*>(va + e.addend), sizeof(T));             \
      RD = conv(v_);                                                                         \
      NEXT;                                                                                  \
    }                                                                                        \
    uint64_t v64_;                                                                           \
    c.pc = pc;                                                                               \
    if (!load_slow(c, va, sizeof(T), &v64_)) MEMTRAP;                                        \
    RD = conv(static_cast<T>(v64_));                                                         \
    NEXT_SLOW;                                                                               \
  } while (0)
#define STORE(T)                                                                             \
  do {                                                                                       \
    const uint64_t va = RS1 + UIMM;                                                          \
    const TlbEntry& e = c.tlb[1][(va >> 12) & (kTlbSize - 1)];                               \
    if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | c.data_key) && (va & (sizeof(T) - 1)) == 0)) { \
      const T v_ = static_cast<T>(RS2);                                                      \
      std::memcpy(reinterpret_cast<void*>(va + e.addend), &v_, sizeof(T));                   \
      NEXT;                                                                                  \
    }                                                                                        \
    c.pc = pc;                                                                               \
    if (!store_slow(c, va, sizeof(T), RS2)) MEMTRAP;                                         \
    NEXT_SLOW;                                                                               \
  } while (0)

slow_next:
  // Interrupts are examined here only: everything that can make one pending and
  // enabled (CSR writes, xRET, traps, MMIO, SBI calls) leaves the fast path
  // through here, and run() starts here.
  if (VM_UNLIKELY(c.state != HartState::kRunning)) goto out;
  if (VM_UNLIKELY(c.exit_req.load(std::memory_order_relaxed))) {
    c.exit_req.store(false, std::memory_order_relaxed);
    goto out;
  }
  if (c.mip & c.mie) take_pending_interrupt(c);
  pc = c.pc;
  DISPATCH();

L_LUI: RD = UIMM; NEXT;
L_AUIPC: RD = pc + UIMM; NEXT;
L_JAL: RD = npc; npc = pc + UIMM; NEXT;
L_JALR: {
  const uint64_t t = (RS1 + UIMM) & ~1ULL;
  RD = npc;
  npc = t;
  NEXT;
}
L_BEQ: if (RS1 == RS2) npc = pc + UIMM; NEXT;
L_BNE: if (RS1 != RS2) npc = pc + UIMM; NEXT;
L_BLT: if (static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2)) npc = pc + UIMM; NEXT;
L_BGE: if (static_cast<int64_t>(RS1) >= static_cast<int64_t>(RS2)) npc = pc + UIMM; NEXT;
L_BLTU: if (RS1 < RS2) npc = pc + UIMM; NEXT;
L_BGEU: if (RS1 >= RS2) npc = pc + UIMM; NEXT;

L_LB: LOAD(int8_t, static_cast<int64_t>);
L_LH: LOAD(int16_t, static_cast<int64_t>);
L_LW: LOAD(int32_t, static_cast<int64_t>);
L_LD: LOAD(uint64_t, static_cast<uint64_t>);
L_LBU: LOAD(uint8_t, static_cast<uint64_t>);
L_LHU: LOAD(uint16_t, static_cast<uint64_t>);
L_LWU: LOAD(uint32_t, static_cast<uint64_t>);
L_SB: STORE(uint8_t);
L_SH: STORE(uint16_t);
L_SW: STORE(uint32_t);
L_SD: STORE(uint64_t);

L_ADDI: RD = RS1 + UIMM; NEXT;
L_SLTI: RD = static_cast<int64_t>(RS1) < IMM; NEXT;
L_SLTIU: RD = RS1 < UIMM; NEXT;
L_XORI: RD = RS1 ^ UIMM; NEXT;
L_ORI: RD = RS1 | UIMM; NEXT;
L_ANDI: RD = RS1 & UIMM; NEXT;
L_SLLI: RD = RS1 << (d->imm & 63); NEXT;
L_SRLI: RD = RS1 >> (d->imm & 63); NEXT;
L_SRAI: RD = static_cast<uint64_t>(static_cast<int64_t>(RS1) >> (d->imm & 63)); NEXT;
L_ADD: RD = RS1 + RS2; NEXT;
L_SUB: RD = RS1 - RS2; NEXT;
L_SLL: RD = RS1 << (RS2 & 63); NEXT;
L_SLT: RD = static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2); NEXT;
L_SLTU: RD = RS1 < RS2; NEXT;
L_XOR: RD = RS1 ^ RS2; NEXT;
L_SRL: RD = RS1 >> (RS2 & 63); NEXT;
L_SRA: RD = static_cast<uint64_t>(static_cast<int64_t>(RS1) >> (RS2 & 63)); NEXT;
L_OR: RD = RS1 | RS2; NEXT;
L_AND: RD = RS1 & RS2; NEXT;
L_ADDIW: RD = sx32(RS1 + UIMM); NEXT;
L_SLLIW: RD = sx32(static_cast<uint32_t>(RS1) << (d->imm & 31)); NEXT;
L_SRLIW: RD = sx32(static_cast<uint32_t>(RS1) >> (d->imm & 31)); NEXT;
L_SRAIW: RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (d->imm & 31))); NEXT;
L_ADDW: RD = sx32(RS1 + RS2); NEXT;
L_SUBW: RD = sx32(RS1 - RS2); NEXT;
L_SLLW: RD = sx32(static_cast<uint32_t>(RS1) << (RS2 & 31)); NEXT;
L_SRLW: RD = sx32(static_cast<uint32_t>(RS1) >> (RS2 & 31)); NEXT;
L_SRAW: RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (RS2 & 31))); NEXT;

L_MUL: RD = RS1 * RS2; NEXT;
L_MULH:
  RD = static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                              static_cast<__int128>(static_cast<int64_t>(RS2))) >> 64);
  NEXT;
L_MULHSU:
  RD = static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                              static_cast<__int128>(static_cast<unsigned __int128>(RS2))) >> 64);
  NEXT;
L_MULHU:
  RD = static_cast<uint64_t>((static_cast<unsigned __int128>(RS1) * static_cast<unsigned __int128>(RS2)) >> 64);
  NEXT;
L_DIV: RD = static_cast<uint64_t>(div64(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); NEXT;
L_DIVU: RD = RS2 == 0 ? ~0ULL : RS1 / RS2; NEXT;
L_REM: RD = static_cast<uint64_t>(rem64(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); NEXT;
L_REMU: RD = RS2 == 0 ? RS1 : RS1 % RS2; NEXT;
L_MULW: RD = sx32(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1)) * static_cast<int32_t>(RS2))); NEXT;
L_DIVW: RD = static_cast<uint64_t>(static_cast<int64_t>(div32(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))); NEXT;
L_DIVUW: {
  const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
  RD = sx32(b == 0 ? 0xffffffffu : a / b);
  NEXT;
}
L_REMW: RD = static_cast<uint64_t>(static_cast<int64_t>(rem32(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))); NEXT;
L_REMUW: {
  const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
  RD = sx32(b == 0 ? a : a % b);
  NEXT;
}

L_FENCE: NEXT;
L_FENCE_I:
  // The decoded-instruction cache re-checks the instruction bits on every
  // fetch, so it is always coherent with memory: nothing to do.
  NEXT;

L_ECALL:
  c.pc = pc;
  if (c.priv == kPrivS && c.host.sbi_ecall(*c.self)) NEXT_SLOW;  // may stop the hart (HSM)
  TRAP(c.priv == kPrivU ? kExcEcallU : c.priv == kPrivS ? kExcEcallS : kExcEcallM, 0);
L_EBREAK: TRAP(kExcBreakpoint, pc);
L_MRET:
  if (c.priv != kPrivM) ILLEGAL;
  do_mret(c);
  retired++;
  goto slow_next;
L_SRET:
  // SRET traps in U-mode, and in S-mode when mstatus.TSR is set (§3.1.6.5).
  if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TSR))) ILLEGAL;
  do_sret(c);
  retired++;
  goto slow_next;
L_WFI:
  // WFI from U-mode, or from S-mode with TW set, is illegal (§3.1.6.5).
  if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TW))) ILLEGAL;
  retired++;
  c.pc = npc;
  if (!(c.mip & c.mie)) {
    c.state = HartState::kWfi;
    goto out;
  }
  goto slow_next;
L_SFENCE_VMA:
  if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TVM))) ILLEGAL;
  // Flushing everything is a correct implementation of every address/ASID
  // form (§4.2.1): it removes at least what was asked.
  tlb_flush(c);
  NEXT;

L_CSR:
  c.pc = pc;
  account(c, retired);  // instret/cycle reads must see every retired instruction
  retired = 0;
  if (!exec_csr(c, *d)) ILLEGAL;
  NEXT_SLOW;

L_LR: {
  const unsigned size = d->op == OP_LR_W ? 4 : 8;
  uint8_t* p = amo_ptr(c, RS1, size, true);
  if (!p) MEMTRAP;
  if (size == 4) {
    int32_t v;
    std::memcpy(&v, p, 4);
    RD = static_cast<uint64_t>(static_cast<int64_t>(v));
  } else {
    std::memcpy(&RD, p, 8);
  }
  c.resv_addr = reinterpret_cast<uintptr_t>(p);
  c.resv_valid = true;
  NEXT;
}
L_SC: {
  const unsigned size = d->op == OP_SC_W ? 4 : 8;
  uint8_t* p = amo_ptr(c, RS1, size, false);
  if (!p) MEMTRAP;
  const bool ok = c.resv_valid && c.resv_addr == reinterpret_cast<uintptr_t>(p);
  c.resv_valid = false;  // any SC ends the reservation
  if (ok) {
    const uint64_t v = RS2;
    std::memcpy(p, &v, size);
  }
  RD = ok ? 0 : 1;
  NEXT;
}
L_AMO: {
  const bool word = d->op == OP_AMO_W;
  uint8_t* p = amo_ptr(c, RS1, word ? 4 : 8, false);
  if (!p) MEMTRAP;
  uint64_t old = 0;
  std::memcpy(&old, p, word ? 4 : 8);
  const uint64_t nv = amo_apply(static_cast<uint32_t>(d->imm), old, RS2, word);
  std::memcpy(p, &nv, word ? 4 : 8);
  RD = word ? static_cast<uint64_t>(sx32(old)) : old;
  NEXT;
}

L_FLW: {
  if (!(c.mstatus & ms::FS)) ILLEGAL;
  uint32_t v;
  c.pc = pc;
  if (!mem_load<uint32_t>(c, RS1 + UIMM, &v)) MEMTRAP;
  c.fp.f[d->rd & 31] = fp_box32(v);
  fs_dirty(c);
  NEXT;
}
L_FLD: {
  if (!(c.mstatus & ms::FS)) ILLEGAL;
  uint64_t v;
  c.pc = pc;
  if (!mem_load<uint64_t>(c, RS1 + UIMM, &v)) MEMTRAP;
  c.fp.f[d->rd & 31] = v;
  fs_dirty(c);
  NEXT;
}
L_FSW:
  if (!(c.mstatus & ms::FS)) ILLEGAL;
  c.pc = pc;
  if (!mem_store<uint32_t>(c, RS1 + UIMM, static_cast<uint32_t>(c.fp.f[d->rs2]))) MEMTRAP;
  NEXT;
L_FSD:
  if (!(c.mstatus & ms::FS)) ILLEGAL;
  c.pc = pc;
  if (!mem_store<uint64_t>(c, RS1 + UIMM, c.fp.f[d->rs2])) MEMTRAP;
  NEXT;
L_FP: {
  if (!(c.mstatus & ms::FS)) ILLEGAL;
  bool dirty = false;
  if (fp_execute(d->raw, c.fp, c.x, &dirty) != FpResult::kOk) ILLEGAL;
  c.x[0] = 0;
  if (dirty) fs_dirty(c);
  NEXT;
}

L_ILLEGAL:
  ILLEGAL;

out:
  account(c, retired);
#undef RD
#undef RS1
#undef RS2
#undef IMM
#undef UIMM
#undef DISPATCH
#undef NEXT
#undef NEXT_SLOW
#undef TRAP
#undef MEMTRAP
#undef ILLEGAL
#undef LOAD
#undef STORE
  return c.retired_total - start;
}

void Hart::set_irq(uint64_t mip_bit, bool level) {
  CpuImpl& c = *impl_;
  if (level) c.irq_lines |= mip_bit;
  else c.irq_lines &= ~mip_bit;
  recompute_mip(c);
}

uint64_t Hart::mip() const { return impl_->mip; }
uint64_t Hart::mie() const { return impl_->mie; }
HartState Hart::state() const { return impl_->state; }
void Hart::set_state(HartState s) { impl_->state = s; }
uint32_t Hart::hartid() const { return impl_->hartid; }
uint64_t Hart::reg(unsigned i) const { return i < 32 ? impl_->x[i] : 0; }
void Hart::set_reg(unsigned i, uint64_t v) {
  if (i > 0 && i < 32) impl_->x[i] = v;
}
uint64_t Hart::pc() const { return impl_->pc; }
void Hart::set_pc(uint64_t pc) { impl_->pc = pc; }
Priv Hart::priv() const { return impl_->priv; }
void Hart::set_priv(Priv p) { vmsup::set_priv(*impl_, p); }

void Hart::set_stimecmp(uint64_t deadline) {
  CpuImpl& c = *impl_;
  c.stimecmp = deadline;
  c.stimecmp_host = true;
  poll_stimecmp(c, c.host.mtime());
}
uint64_t Hart::stimecmp() const { return impl_->stimecmp; }

void Hart::update_time(uint64_t now) {
  CpuImpl& c = *impl_;
  if ((c.menvcfg & kMenvcfgSTCE) || c.stimecmp_host) poll_stimecmp(c, now);
}

uint64_t Hart::timer_deadline() const {
  const CpuImpl& c = *impl_;
  if (((c.menvcfg & kMenvcfgSTCE) || c.stimecmp_host) && !c.stip_timer) return c.stimecmp;
  return ~0ULL;
}

void Hart::flush_tlb() { tlb_flush(*impl_); }

void Hart::flush_icache() {
  // Decoded instructions are validated against memory on every fetch; only the
  // fetch page cache needs dropping (it is refilled from the TLB).
  impl_->fetch_tag = kTlbInvalid;
}

void Hart::request_exit() { impl_->exit_req.store(true, std::memory_order_relaxed); }

uint64_t Hart::instret() const { return impl_->retired_total; }

void Hart::clear_reservation() { impl_->resv_valid = false; }

}  // namespace vmsup
