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
#include "cpu/jit/jit.h"

namespace vmsup {

Hart::Hart(uint32_t hartid, GuestMemory& mem, CpuHost& host)
    : impl_(std::make_unique<CpuImpl>(hartid, mem, host, this)) {
  impl_->ram = mem.cpu_ram();
  impl_->ram_base = mem.base();
  impl_->ram_size = mem.size();
  cpu_reset(*impl_, mem.base(), kPrivM);
  impl_->state = HartState::kStopped;
}

Hart::~Hart() {
  jit_destroy(impl_->jit);
  impl_->jit = nullptr;
}

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


}  // namespace

// Threaded dispatch only pays when every handler keeps its own indirect jump:
// stop GCC from merging the replicated dispatch tails back into one. The
// loop's hot locals (pc, budget, fetch page cache) need every register x86-64
// has, so the frame pointer node-gyp asks for is given back here.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-gcse", "no-crossjumping", "omit-frame-pointer")))
#endif
uint64_t interp_run(CpuImpl& c, uint64_t budget) {
  const uint64_t start = c.retired_total;
  // Instructions this call may still retire. Counting down (rather than
  // comparing a retired count with the budget) keeps the per-instruction check
  // to one decrement and one flag test; retired = budget - left.
  uint64_t left = budget;
  uint64_t accounted = 0;  // of which already added to the counters (account())
  // Passes through slow_next since an instruction last retired: bounds loops
  // that retire nothing (a trap loop) without ending a slice that progresses,
  // so a run retires exactly `budget` unless the hart stops (the JIT's loop
  // keeps the same rule, and the two engines stop at the same instruction).
  uint64_t slow_steps = 0;
  uint64_t slow_left = budget;
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
  DecodedInsn* d = nullptr;
  uint32_t raw = 0;

  // Threaded dispatch: one label per operation, in enum Op order, as offsets
  // from L_ILLEGAL (stored in DecodedInsn::hl).
#define O(l) static_cast<int32_t>(static_cast<const char*>(&&l) - static_cast<const char*>(&&L_ILLEGAL))
  // kOffsets4 for 32-bit encodings, kOffsets2 for compressed ones (the two
  // copies of the handlers, hart_handlers.inc).
  static const int32_t kOffsets4[OP_COUNT] = {
      O(L_ILLEGAL),
      O(L_LUI_4), O(L_AUIPC_4), O(L_JAL_4), O(L_JALR_4),
      O(L_BEQ_4), O(L_BNE_4), O(L_BLT_4), O(L_BGE_4), O(L_BLTU_4), O(L_BGEU_4),
      O(L_LB_4), O(L_LH_4), O(L_LW_4), O(L_LD_4), O(L_LBU_4), O(L_LHU_4), O(L_LWU_4),
      O(L_SB_4), O(L_SH_4), O(L_SW_4), O(L_SD_4),
      O(L_ADDI_4), O(L_SLTI_4), O(L_SLTIU_4), O(L_XORI_4), O(L_ORI_4), O(L_ANDI_4), O(L_SLLI_4), O(L_SRLI_4), O(L_SRAI_4),
      O(L_ADD_4), O(L_SUB_4), O(L_SLL_4), O(L_SLT_4), O(L_SLTU_4), O(L_XOR_4), O(L_SRL_4), O(L_SRA_4), O(L_OR_4), O(L_AND_4),
      O(L_ADDIW_4), O(L_SLLIW_4), O(L_SRLIW_4), O(L_SRAIW_4),
      O(L_ADDW_4), O(L_SUBW_4), O(L_SLLW_4), O(L_SRLW_4), O(L_SRAW_4),
      O(L_MUL_4), O(L_MULH_4), O(L_MULHSU_4), O(L_MULHU_4), O(L_DIV_4), O(L_DIVU_4), O(L_REM_4), O(L_REMU_4),
      O(L_MULW_4), O(L_DIVW_4), O(L_DIVUW_4), O(L_REMW_4), O(L_REMUW_4),
      O(L_FENCE_4), O(L_FENCE_I_4),
      O(L_ECALL_4), O(L_EBREAK_4), O(L_MRET_4), O(L_SRET_4), O(L_WFI_4), O(L_SFENCE_VMA_4),
      O(L_CSR_4), O(L_CSR_4), O(L_CSR_4), O(L_CSR_4), O(L_CSR_4), O(L_CSR_4),
      O(L_LR_4), O(L_SC_4), O(L_LR_4), O(L_SC_4),
      O(L_AMO_4), O(L_AMO_4),
      O(L_FLW_4), O(L_FLD_4), O(L_FSW_4), O(L_FSD_4),
      O(L_FP_4),
  };
  static const int32_t kOffsets2[OP_COUNT] = {
      O(L_ILLEGAL),
      O(L_LUI_2), O(L_AUIPC_2), O(L_JAL_2), O(L_JALR_2),
      O(L_BEQ_2), O(L_BNE_2), O(L_BLT_2), O(L_BGE_2), O(L_BLTU_2), O(L_BGEU_2),
      O(L_LB_2), O(L_LH_2), O(L_LW_2), O(L_LD_2), O(L_LBU_2), O(L_LHU_2), O(L_LWU_2),
      O(L_SB_2), O(L_SH_2), O(L_SW_2), O(L_SD_2),
      O(L_ADDI_2), O(L_SLTI_2), O(L_SLTIU_2), O(L_XORI_2), O(L_ORI_2), O(L_ANDI_2), O(L_SLLI_2), O(L_SRLI_2), O(L_SRAI_2),
      O(L_ADD_2), O(L_SUB_2), O(L_SLL_2), O(L_SLT_2), O(L_SLTU_2), O(L_XOR_2), O(L_SRL_2), O(L_SRA_2), O(L_OR_2), O(L_AND_2),
      O(L_ADDIW_2), O(L_SLLIW_2), O(L_SRLIW_2), O(L_SRAIW_2),
      O(L_ADDW_2), O(L_SUBW_2), O(L_SLLW_2), O(L_SRLW_2), O(L_SRAW_2),
      O(L_MUL_2), O(L_MULH_2), O(L_MULHSU_2), O(L_MULHU_2), O(L_DIV_2), O(L_DIVU_2), O(L_REM_2), O(L_REMU_2),
      O(L_MULW_2), O(L_DIVW_2), O(L_DIVUW_2), O(L_REMW_2), O(L_REMUW_2),
      O(L_FENCE_2), O(L_FENCE_I_2),
      O(L_ECALL_2), O(L_EBREAK_2), O(L_MRET_2), O(L_SRET_2), O(L_WFI_2), O(L_SFENCE_VMA_2),
      O(L_CSR_2), O(L_CSR_2), O(L_CSR_2), O(L_CSR_2), O(L_CSR_2), O(L_CSR_2),
      O(L_LR_2), O(L_SC_2), O(L_LR_2), O(L_SC_2),
      O(L_AMO_2), O(L_AMO_2),
      O(L_FLW_2), O(L_FLD_2), O(L_FSW_2), O(L_FSD_2),
      O(L_FP_2),
  };
#undef O
  static_assert(OP_FP + 1 == OP_COUNT, "kOffsets4/kOffsets2 must list every Op");

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
      d->hl |= static_cast<uint32_t>((d->len() == 2 ? kOffsets2 : kOffsets4)[d->op]) << 3;  \
    }                                                                                       \
    goto* (static_cast<const char*>(&&L_ILLEGAL) + (static_cast<int32_t>(d->hl) >> 3));     \
  } while (0)
#define DISPATCH()                                                                          \
  do {                                                                                      \
    if (VM_UNLIKELY(left == 0)) {                                                           \
      c.pc = pc;                                                                            \
      goto out;                                                                             \
    }                                                                                       \
    DISPATCH_BODY();                                                                        \
  } while (0)
  // After a sequential instruction.
#define NEXT          \
  do {                \
    left--;           \
    pc += ILEN;       \
    DISPATCH();       \
  } while (0)
  // After a jump or branch.
#define NEXT_BR(target) \
  do {                  \
    left--;             \
    pc = (target);      \
    DISPATCH();         \
  } while (0)
  // The address of the next instruction (ILEN: see hart_handlers.inc).
#define NPC (pc + ILEN)
  // Leaves the fast path after an instruction that may have changed interrupts,
  // privilege, translation or the hart's state.
#define NEXT_SLOW   \
  do {              \
    left--;      \
    c.pc = NPC;     \
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
  if (left != slow_left) {
    slow_left = left;
    slow_steps = 0;
  }
  if (VM_UNLIKELY(++slow_steps > budget)) goto out;  // e.g. a trap loop retires nothing
  if (c.mip & c.mie) take_pending_interrupt(c);
  pc = c.pc;
  FETCH_REFRESH();
  dkey = c.data_key;
  DISPATCH();

#define HL_CAT2(a, b) a##b
#define HL_CAT(a, b) HL_CAT2(a, b)
#define HL(name) HL_CAT(L_##name, HL_SFX)
#define ILEN 4
#define HL_SFX _4
#include "cpu/hart_handlers.inc"
#undef ILEN
#undef HL_SFX
#define ILEN 2
#define HL_SFX _2
#include "cpu/hart_handlers.inc"
#undef ILEN
#undef HL_SFX
#undef HL
#undef HL_CAT
#undef HL_CAT2

L_ILLEGAL:
  ILLEGAL;

out:
  account(c, (budget - left) - accounted);
#undef RD
#undef RS1
#undef RS2
#undef IMM
#undef UIMM
#undef DISPATCH
#undef NEXT
#undef NEXT_BR
#undef NPC
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
  if (c.jit) return jit_run(*c.jit, budget);
  return interp_run(c, budget);
}

bool Hart::set_jit(bool on) {
  CpuImpl& c = *impl_;
  if (!on) {
    jit_destroy(c.jit);
    c.jit = nullptr;
    return true;
  }
  if (!c.jit) c.jit = jit_create(c);
  return c.jit != nullptr;
}

bool Hart::jit_enabled() const { return impl_->jit != nullptr; }

uint64_t Hart::code_cache_bytes() const { return impl_->jit ? jit_code_bytes(*impl_->jit) : 0; }

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
