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
  const uint64_t start = c.instret;

#define RD c.x[d->rd]
#define RS1 c.x[d->rs1]
#define RS2 c.x[d->rs2]
#define IMM static_cast<int64_t>(d->imm)
#define UIMM static_cast<uint64_t>(static_cast<int64_t>(d->imm))
#define TRAP(cause, tval)       \
  do {                          \
    take_trap(c, cause, tval);  \
    goto trapped;               \
  } while (0)
#define MEMTRAP TRAP(c.exc_cause, c.exc_tval)
#define ILLEGAL TRAP(kExcIllegal, d->len == 2 ? (d->raw & 0xffff) : d->raw)
#define LOAD(T, conv)                                 \
  {                                                   \
    T v_;                                             \
    if (!mem_load<T>(c, RS1 + UIMM, &v_)) MEMTRAP;    \
    RD = conv(v_);                                    \
    break;                                            \
  }
#define STORE(T)                                                        \
  {                                                                     \
    if (!mem_store<T>(c, RS1 + UIMM, static_cast<T>(RS2))) MEMTRAP;     \
    break;                                                              \
  }

  for (uint64_t n = 0; n < budget; n++) {
    if (VM_UNLIKELY(c.mip & c.mie)) take_pending_interrupt(c);
    if (VM_UNLIKELY(c.exit_req.load(std::memory_order_relaxed))) {
      c.exit_req.store(false, std::memory_order_relaxed);
      break;
    }
    {
      const uint64_t pc = c.pc;
      uint32_t raw;
      if (VM_LIKELY(((pc & ~0xfffULL) | c.fetch_key) == c.fetch_tag && (pc & 0xfff) != 0xffe)) {
        std::memcpy(&raw, reinterpret_cast<const void*>(pc + c.fetch_addend), 4);
      } else if (!fetch_slow(c, &raw)) {
        MEMTRAP;
      }
      DecodedInsn* d = &c.dcache[(pc >> 1) & (kDcacheSize - 1)];
      if (VM_UNLIKELY(d->raw != raw)) decode_insn(raw, d);
      uint64_t npc = pc + d->len;

      switch (d->op) {
        case OP_LUI: RD = UIMM; break;
        case OP_AUIPC: RD = pc + UIMM; break;
        case OP_JAL: RD = npc; npc = pc + UIMM; break;
        case OP_JALR: {
          const uint64_t t = (RS1 + UIMM) & ~1ULL;
          RD = npc;
          npc = t;
          break;
        }
        case OP_BEQ: if (RS1 == RS2) npc = pc + UIMM; break;
        case OP_BNE: if (RS1 != RS2) npc = pc + UIMM; break;
        case OP_BLT: if (static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2)) npc = pc + UIMM; break;
        case OP_BGE: if (static_cast<int64_t>(RS1) >= static_cast<int64_t>(RS2)) npc = pc + UIMM; break;
        case OP_BLTU: if (RS1 < RS2) npc = pc + UIMM; break;
        case OP_BGEU: if (RS1 >= RS2) npc = pc + UIMM; break;

        case OP_LB: LOAD(int8_t, static_cast<int64_t>)
        case OP_LH: LOAD(int16_t, static_cast<int64_t>)
        case OP_LW: LOAD(int32_t, static_cast<int64_t>)
        case OP_LD: LOAD(uint64_t, static_cast<uint64_t>)
        case OP_LBU: LOAD(uint8_t, static_cast<uint64_t>)
        case OP_LHU: LOAD(uint16_t, static_cast<uint64_t>)
        case OP_LWU: LOAD(uint32_t, static_cast<uint64_t>)
        case OP_SB: STORE(uint8_t)
        case OP_SH: STORE(uint16_t)
        case OP_SW: STORE(uint32_t)
        case OP_SD: STORE(uint64_t)

        case OP_ADDI: RD = RS1 + UIMM; break;
        case OP_SLTI: RD = static_cast<int64_t>(RS1) < IMM; break;
        case OP_SLTIU: RD = RS1 < UIMM; break;
        case OP_XORI: RD = RS1 ^ UIMM; break;
        case OP_ORI: RD = RS1 | UIMM; break;
        case OP_ANDI: RD = RS1 & UIMM; break;
        case OP_SLLI: RD = RS1 << (d->imm & 63); break;
        case OP_SRLI: RD = RS1 >> (d->imm & 63); break;
        case OP_SRAI: RD = static_cast<uint64_t>(static_cast<int64_t>(RS1) >> (d->imm & 63)); break;
        case OP_ADD: RD = RS1 + RS2; break;
        case OP_SUB: RD = RS1 - RS2; break;
        case OP_SLL: RD = RS1 << (RS2 & 63); break;
        case OP_SLT: RD = static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2); break;
        case OP_SLTU: RD = RS1 < RS2; break;
        case OP_XOR: RD = RS1 ^ RS2; break;
        case OP_SRL: RD = RS1 >> (RS2 & 63); break;
        case OP_SRA: RD = static_cast<uint64_t>(static_cast<int64_t>(RS1) >> (RS2 & 63)); break;
        case OP_OR: RD = RS1 | RS2; break;
        case OP_AND: RD = RS1 & RS2; break;
        case OP_ADDIW: RD = sx32(RS1 + UIMM); break;
        case OP_SLLIW: RD = sx32(static_cast<uint32_t>(RS1) << (d->imm & 31)); break;
        case OP_SRLIW: RD = sx32(static_cast<uint32_t>(RS1) >> (d->imm & 31)); break;
        case OP_SRAIW: RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (d->imm & 31))); break;
        case OP_ADDW: RD = sx32(RS1 + RS2); break;
        case OP_SUBW: RD = sx32(RS1 - RS2); break;
        case OP_SLLW: RD = sx32(static_cast<uint32_t>(RS1) << (RS2 & 31)); break;
        case OP_SRLW: RD = sx32(static_cast<uint32_t>(RS1) >> (RS2 & 31)); break;
        case OP_SRAW: RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (RS2 & 31))); break;

        case OP_MUL: RD = RS1 * RS2; break;
        case OP_MULH:
          RD = static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                                      static_cast<__int128>(static_cast<int64_t>(RS2))) >> 64);
          break;
        case OP_MULHSU:
          RD = static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(RS1)) *
                                      static_cast<__int128>(static_cast<unsigned __int128>(RS2))) >> 64);
          break;
        case OP_MULHU:
          RD = static_cast<uint64_t>((static_cast<unsigned __int128>(RS1) * static_cast<unsigned __int128>(RS2)) >> 64);
          break;
        case OP_DIV: RD = static_cast<uint64_t>(div64(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); break;
        case OP_DIVU: RD = RS2 == 0 ? ~0ULL : RS1 / RS2; break;
        case OP_REM: RD = static_cast<uint64_t>(rem64(static_cast<int64_t>(RS1), static_cast<int64_t>(RS2))); break;
        case OP_REMU: RD = RS2 == 0 ? RS1 : RS1 % RS2; break;
        case OP_MULW: RD = sx32(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1)) * static_cast<int32_t>(RS2))); break;
        case OP_DIVW: RD = static_cast<uint64_t>(static_cast<int64_t>(div32(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))); break;
        case OP_DIVUW: {
          const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
          RD = sx32(b == 0 ? 0xffffffffu : a / b);
          break;
        }
        case OP_REMW: RD = static_cast<uint64_t>(static_cast<int64_t>(rem32(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))); break;
        case OP_REMUW: {
          const uint32_t a = static_cast<uint32_t>(RS1), b = static_cast<uint32_t>(RS2);
          RD = sx32(b == 0 ? a : a % b);
          break;
        }

        case OP_FENCE:
          break;
        case OP_FENCE_I:
          // The decoded-instruction cache re-checks the instruction bits on every
          // fetch, so it is always coherent with memory: nothing to do.
          break;

        case OP_ECALL:
          if (c.priv == kPrivS && c.host.sbi_ecall(*c.self)) {
            if (c.state != HartState::kRunning) {  // e.g. SBI HSM hart_stop
              c.pc = npc;
              c.instret++;
              goto out;
            }
            break;
          }
          TRAP(c.priv == kPrivU ? kExcEcallU : c.priv == kPrivS ? kExcEcallS : kExcEcallM, 0);
        case OP_EBREAK:
          TRAP(kExcBreakpoint, pc);
        case OP_MRET:
          if (c.priv != kPrivM) ILLEGAL;
          do_mret(c);
          npc = c.pc;
          break;
        case OP_SRET:
          // SRET traps in U-mode, and in S-mode when mstatus.TSR is set (§3.1.6.5).
          if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TSR))) ILLEGAL;
          do_sret(c);
          npc = c.pc;
          break;
        case OP_WFI:
          // WFI from U-mode, or from S-mode with TW set, is illegal (§3.1.6.5).
          if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TW))) ILLEGAL;
          c.pc = npc;
          c.instret++;
          if (!(c.mip & c.mie)) {
            c.state = HartState::kWfi;
            goto out;
          }
          goto trapped;  // already retired
        case OP_SFENCE_VMA:
          if (c.priv == kPrivU || (c.priv == kPrivS && (c.mstatus & ms::TVM))) ILLEGAL;
          // Flushing everything is a correct implementation of every
          // address/ASID form (§4.2.1): it removes at least what was asked.
          tlb_flush(c);
          break;

        case OP_CSRRW: case OP_CSRRS: case OP_CSRRC:
        case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI:
          if (!exec_csr(c, *d)) ILLEGAL;
          break;

        case OP_LR_W: case OP_LR_D: {
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
          break;
        }
        case OP_SC_W: case OP_SC_D: {
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
          break;
        }
        case OP_AMO_W: case OP_AMO_D: {
          const bool word = d->op == OP_AMO_W;
          uint8_t* p = amo_ptr(c, RS1, word ? 4 : 8, false);
          if (!p) MEMTRAP;
          uint64_t old = 0;
          std::memcpy(&old, p, word ? 4 : 8);
          const uint64_t nv = amo_apply(static_cast<uint32_t>(d->imm), old, RS2, word);
          std::memcpy(p, &nv, word ? 4 : 8);
          RD = word ? static_cast<uint64_t>(sx32(old)) : old;
          break;
        }

        case OP_FLW: {
          if (!(c.mstatus & ms::FS)) ILLEGAL;
          uint32_t v;
          if (!mem_load<uint32_t>(c, RS1 + UIMM, &v)) MEMTRAP;
          c.fp.f[d->rd & 31] = fp_box32(v);
          fs_dirty(c);
          break;
        }
        case OP_FLD: {
          if (!(c.mstatus & ms::FS)) ILLEGAL;
          uint64_t v;
          if (!mem_load<uint64_t>(c, RS1 + UIMM, &v)) MEMTRAP;
          c.fp.f[d->rd & 31] = v;
          fs_dirty(c);
          break;
        }
        case OP_FSW:
          if (!(c.mstatus & ms::FS)) ILLEGAL;
          if (!mem_store<uint32_t>(c, RS1 + UIMM, static_cast<uint32_t>(c.fp.f[d->rs2]))) MEMTRAP;
          break;
        case OP_FSD:
          if (!(c.mstatus & ms::FS)) ILLEGAL;
          if (!mem_store<uint64_t>(c, RS1 + UIMM, c.fp.f[d->rs2])) MEMTRAP;
          break;
        case OP_FP: {
          if (!(c.mstatus & ms::FS)) ILLEGAL;
          bool dirty = false;
          if (fp_execute(d->raw, c.fp, c.x, &dirty) != FpResult::kOk) ILLEGAL;
          c.x[0] = 0;
          if (dirty) fs_dirty(c);
          break;
        }

        default:
          ILLEGAL;
      }
      c.pc = npc;
      c.instret++;
    }
  trapped:;
  }
out:
#undef RD
#undef RS1
#undef RS2
#undef IMM
#undef UIMM
#undef TRAP
#undef MEMTRAP
#undef ILLEGAL
#undef LOAD
#undef STORE
  return c.instret - start;
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

uint64_t Hart::instret() const { return impl_->instret; }

void Hart::clear_reservation() { impl_->resv_valid = false; }

}  // namespace vmsup
