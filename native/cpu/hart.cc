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
  uint64_t retired = 0;    // instructions retired in this call
  uint64_t accounted = 0;  // of which already added to the counters (account())
  uint64_t slow_steps = 0; // passes through slow_next (bounds trap loops)
  // Copies of hot CpuImpl fields, refreshed whenever the slow path may have
  // changed them (the compiler cannot keep them in registers across the
  // register-file stores otherwise).
  // The fetch page cache: pc may be fetched at pc + faddend when
  // pc - fpage < flen. flen is 0xffe for a cached page (offset 0xffe may start
  // an instruction that crosses the page) and 0 when nothing is cached, so one
  // unsigned compare covers "same page", "not 0xffe" and "valid".
  uint64_t fpage = 0, flen = 0;
  uintptr_t faddend = 0;
#define FETCH_REFRESH()                                    \
  do {                                                     \
    fpage = c.fetch_tag;                                   \
    flen = c.fetch_tag == kTlbInvalid ? 0 : 0xffe;         \
    faddend = c.fetch_addend;                              \
  } while (0)
  uint64_t dkey = c.data_key;
  uint64_t pc = c.pc;      // c.pc is kept in sync whenever we leave the fast path
  uint64_t npc = 0;
  DecodedInsn* d = nullptr;
  uint32_t raw = 0;

  // Threaded dispatch: one label per operation, in enum Op order, as offsets
  // from L_ILLEGAL (stored in DecodedInsn::hl).
#define O(l) static_cast<int32_t>(static_cast<const char*>(&&l) - static_cast<const char*>(&&L_ILLEGAL))
  static const int32_t kOffsets[OP_COUNT] = {
      O(L_ILLEGAL),
      O(L_LUI), O(L_AUIPC), O(L_JAL), O(L_JALR),
      O(L_BEQ), O(L_BNE), O(L_BLT), O(L_BGE), O(L_BLTU), O(L_BGEU),
      O(L_LB), O(L_LH), O(L_LW), O(L_LD), O(L_LBU), O(L_LHU), O(L_LWU),
      O(L_SB), O(L_SH), O(L_SW), O(L_SD),
      O(L_ADDI), O(L_SLTI), O(L_SLTIU), O(L_XORI), O(L_ORI), O(L_ANDI), O(L_SLLI), O(L_SRLI), O(L_SRAI),
      O(L_ADD), O(L_SUB), O(L_SLL), O(L_SLT), O(L_SLTU), O(L_XOR), O(L_SRL), O(L_SRA), O(L_OR), O(L_AND),
      O(L_ADDIW), O(L_SLLIW), O(L_SRLIW), O(L_SRAIW),
      O(L_ADDW), O(L_SUBW), O(L_SLLW), O(L_SRLW), O(L_SRAW),
      O(L_MUL), O(L_MULH), O(L_MULHSU), O(L_MULHU), O(L_DIV), O(L_DIVU), O(L_REM), O(L_REMU),
      O(L_MULW), O(L_DIVW), O(L_DIVUW), O(L_REMW), O(L_REMUW),
      O(L_FENCE), O(L_FENCE_I),
      O(L_ECALL), O(L_EBREAK), O(L_MRET), O(L_SRET), O(L_WFI), O(L_SFENCE_VMA),
      O(L_CSR), O(L_CSR), O(L_CSR), O(L_CSR), O(L_CSR), O(L_CSR),
      O(L_LR), O(L_SC), O(L_LR), O(L_SC),
      O(L_AMO), O(L_AMO),
      O(L_FLW), O(L_FLD), O(L_FSW), O(L_FSD),
      O(L_FP),
  };
#undef O
  static_assert(OP_FP + 1 == OP_COUNT, "kOffsets must list every Op");

#define RD c.x[d->rd]
#define RS1 c.x[d->rs1]
#define RS2 c.x[d->rs2]
#define IMM static_cast<int64_t>(d->imm)
#define UIMM static_cast<uint64_t>(static_cast<int64_t>(d->imm))
  // Fetch through the one-entry fetch page cache (offset 0xffe may start an
  // instruction that crosses the page: slow path), look up the decode cache,
  // jump to the handler (run() executes at most `budget` instructions).
#define DISPATCH_BODY()                                                                     \
  do {                                                                                      \
    if (VM_LIKELY(pc - fpage < flen)) {                                                     \
      std::memcpy(&raw, reinterpret_cast<const void*>(pc + faddend), 4);                    \
    } else {                                                                                \
      c.pc = pc;                                                                            \
      const uint64_t r_ = fetch_slow(c);                                                    \
      if (r_ == kFetchFault) {                                                              \
        take_trap(c, c.exc_cause, c.exc_tval);                                              \
        goto slow_next;                                                                     \
      }                                                                                     \
      raw = static_cast<uint32_t>(r_);                                                      \
      FETCH_REFRESH();                                                                      \
    }                                                                                       \
    d = reinterpret_cast<DecodedInsn*>(reinterpret_cast<char*>(c.dcache) +                  \
                                       ((pc << 3) & ((kDcacheSize - 1) << 4)));             \
    if (VM_UNLIKELY(d->raw != raw)) {                                                       \
      decode_insn(raw, d);                                                                  \
      d->hl |= static_cast<uint32_t>(kOffsets[d->op]) << 3;                                 \
    }                                                                                       \
    {                                                                                       \
      const uint32_t hl_ = d->hl;                                                           \
      npc = pc + (hl_ & 7);                                                                 \
      goto* (static_cast<const char*>(&&L_ILLEGAL) + (static_cast<int32_t>(hl_) >> 3));     \
    }                                                                                       \
  } while (0)
#define DISPATCH()                                                                          \
  do {                                                                                      \
    if (VM_UNLIKELY(retired >= budget)) {                                                   \
      c.pc = pc;                                                                            \
      goto out;                                                                             \
    }                                                                                       \
    DISPATCH_BODY();                                                                        \
  } while (0)
  // After a sequential instruction.
#define NEXT          \
  do {                \
    retired++;        \
    pc = npc;         \
    DISPATCH();       \
  } while (0)
  // After a jump or branch.
#define NEXT_BR     \
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
#define ILLEGAL TRAP(kExcIllegal, d->len() == 2 ? (d->raw & 0xffff) : d->raw)
#define LOAD(T, conv)                                                                        \
  do {                                                                                       \
    const uint64_t va = RS1 + UIMM;                                                          \
    const TlbEntry& e = c.tlb[0][(va >> 12) & (kTlbSize - 1)];                               \
    if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | dkey) && (va & (sizeof(T) - 1)) == 0)) {     \
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
    if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | dkey) && (va & (sizeof(T) - 1)) == 0)) {     \
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
  if (VM_UNLIKELY(++slow_steps > budget)) goto out;  // e.g. a trap loop retires nothing
  if (c.mip & c.mie) take_pending_interrupt(c);
  pc = c.pc;
  FETCH_REFRESH();
  dkey = c.data_key;
  DISPATCH();

L_LUI: RD = UIMM; NEXT;
L_AUIPC: RD = pc + UIMM; NEXT;
L_JAL: RD = npc; npc = pc + UIMM; NEXT_BR;
L_JALR: {
  const uint64_t t = (RS1 + UIMM) & ~1ULL;
  RD = npc;
  npc = t;
  NEXT_BR;
}
L_BEQ: if (RS1 == RS2) npc = pc + UIMM; NEXT_BR;
L_BNE: if (RS1 != RS2) npc = pc + UIMM; NEXT_BR;
L_BLT: if (static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2)) npc = pc + UIMM; NEXT_BR;
L_BGE: if (static_cast<int64_t>(RS1) >= static_cast<int64_t>(RS2)) npc = pc + UIMM; NEXT_BR;
L_BLTU: if (RS1 < RS2) npc = pc + UIMM; NEXT_BR;
L_BGEU: if (RS1 >= RS2) npc = pc + UIMM; NEXT_BR;

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
  NEXT_SLOW;

L_CSR:
  c.pc = pc;
  account(c, retired - accounted);  // instret/cycle reads must see every retired instruction
  accounted = retired;
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
  account(c, retired - accounted);
#undef RD
#undef RS1
#undef RS2
#undef IMM
#undef UIMM
#undef DISPATCH
#undef NEXT
#undef NEXT_BR
#undef DISPATCH_BODY
#undef FETCH_REFRESH
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
