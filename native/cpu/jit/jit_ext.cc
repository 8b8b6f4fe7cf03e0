// The helper-call path of the translator (jit_ext.h). A block that meets an
// instruction it has no host code for — F/D, LR/SC, AMOs, the FP CSRs, CSR
// reads — no longer ends there: the generated code writes the cached guest
// registers back, calls jit_ext_exec() for that one decoded instruction and
// goes on, unless the instruction trapped or did something after which the
// block must not run on (see Status). jit_ext_exec() does what the
// interpreter's handler does (hart_handlers.inc), with the same helpers
// (mem_load/mem_store, amo_ptr, fp_execute, exec_csr, take_trap), so both
// engines give the same architectural state, flags and rounding included.
#include "cpu/jit/jit_ext.h"

#include <cstdlib>
#include <cstring>

namespace vmsup {

namespace {

// What jit_ext_exec() tells the generated code.
enum Status : uint64_t {
  kGoOn = 0,     // retired; the block continues with the next instruction
  kEndAfter = 1, // retired, c.pc = the next instruction; the block must end here
  kTrapped = 2,  // not retired: a trap was taken (c.pc = the trap vector)
};

// VMSUP_JIT_OFF bit 0x400 (jit.cc's debugging mask): no helper path, these
// instructions end the block and run on the interpreter as before. Bit 0x100
// (each block re-run on the interpreter) also turns it off: that check
// restores only the integer registers, and a helper may store, change the FP
// state or account counters itself.
bool ext_off() {
  static const bool off = [] {
    const char* v = std::getenv("VMSUP_JIT_OFF");
    return v && (std::strtoul(v, nullptr, 0) & 0x500) != 0;
  }();
  return off;
}

inline uint64_t sx32u(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))); }

// Called from generated code (System V ABI): the decoded instruction comes in
// two registers (16 bytes), `done` is the number of instructions this session
// retired before it that the counters do not hold yet (CSR accesses only:
// instret/cycle reads must see them, as the interpreter's HL(CSR) does).
uint64_t jit_ext_exec(CpuImpl* cp, uint64_t lo, uint64_t hi, uint64_t pc, uint64_t done) {
  CpuImpl& c = *cp;
  DecodedInsn d;
  std::memcpy(reinterpret_cast<char*>(&d), &lo, 8);
  std::memcpy(reinterpret_cast<char*>(&d) + 8, &hi, 8);
  c.pc = pc;  // every trap below is raised at this instruction
  const uint64_t npc = pc + d.len();
  // A store to a page holding translations (FSW/FSD/SC/AMO) drops them
  // (GuestMemory's code-page bitmap): possibly this very block, so it ends.
  const uint64_t code_pages = c.mem.code_pages();
  auto trap = [&](uint64_t cause, uint64_t tval) {
    take_trap(c, cause, tval);
    return kTrapped;
  };
  auto illegal = [&] { return trap(kExcIllegal, d.len() == 2 ? (d.raw & 0xffff) : d.raw); };
  auto memtrap = [&] { return trap(c.exc_cause, c.exc_tval); };
  uint64_t* const x = c.x;
  switch (d.op) {
    case OP_FLW: {
      if (!(c.mstatus & ms::FS)) return illegal();
      uint32_t v;
      if (!mem_load<uint32_t>(c, x[d.rs1] + static_cast<uint64_t>(static_cast<int64_t>(d.imm)), &v)) return memtrap();
      c.fp.f[d.rd & 31] = fp_box32(v);
      fs_dirty(c);
      break;
    }
    case OP_FLD: {
      if (!(c.mstatus & ms::FS)) return illegal();
      uint64_t v;
      if (!mem_load<uint64_t>(c, x[d.rs1] + static_cast<uint64_t>(static_cast<int64_t>(d.imm)), &v)) return memtrap();
      c.fp.f[d.rd & 31] = v;
      fs_dirty(c);
      break;
    }
    case OP_FSW:
      if (!(c.mstatus & ms::FS)) return illegal();
      if (!mem_store<uint32_t>(c, x[d.rs1] + static_cast<uint64_t>(static_cast<int64_t>(d.imm)),
                               static_cast<uint32_t>(c.fp.f[d.rs2])))
        return memtrap();
      break;
    case OP_FSD:
      if (!(c.mstatus & ms::FS)) return illegal();
      if (!mem_store<uint64_t>(c, x[d.rs1] + static_cast<uint64_t>(static_cast<int64_t>(d.imm)), c.fp.f[d.rs2]))
        return memtrap();
      break;
    case OP_FP: {
      if (!(c.mstatus & ms::FS)) return illegal();
      bool dirty = false;
      if (fp_execute(d.raw, c.fp, x, &dirty) != FpResult::kOk) return illegal();
      x[0] = 0;
      if (dirty) fs_dirty(c);
      break;
    }
    case OP_LR_W:
    case OP_LR_D: {
      const unsigned size = d.op == OP_LR_W ? 4 : 8;
      uint8_t* p = amo_ptr(c, x[d.rs1], size, true);
      if (!p) return memtrap();
      if (size == 4) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        x[d.rd] = sx32u(v);
      } else {
        std::memcpy(&x[d.rd], p, 8);
      }
      // The reservation is the host address, as in the interpreter; Hart::run
      // drops it at every slice, so an SC fails whenever another hart or a
      // device may have stored in between (unprivileged spec §8.2).
      c.resv_addr = reinterpret_cast<uintptr_t>(p);
      c.resv_valid = true;
      break;
    }
    case OP_SC_W:
    case OP_SC_D: {
      const unsigned size = d.op == OP_SC_W ? 4 : 8;
      uint8_t* p = amo_ptr(c, x[d.rs1], size, false);
      if (!p) return memtrap();
      const bool ok = c.resv_valid && c.resv_addr == reinterpret_cast<uintptr_t>(p);
      c.resv_valid = false;  // any SC ends the reservation
      if (ok) {
        const uint64_t v = x[d.rs2];
        std::memcpy(p, &v, size);
      }
      x[d.rd] = ok ? 0 : 1;
      break;
    }
    case OP_AMO_W:
    case OP_AMO_D: {
      const bool word = d.op == OP_AMO_W;
      uint8_t* p = amo_ptr(c, x[d.rs1], word ? 4 : 8, false);
      if (!p) return memtrap();
      uint64_t old = 0;
      std::memcpy(&old, p, word ? 4 : 8);
      const uint64_t nv = amo_apply(static_cast<uint32_t>(d.imm), old, x[d.rs2], word);
      std::memcpy(p, &nv, word ? 4 : 8);
      x[d.rd] = word ? sx32u(old) : old;
      break;
    }
    case OP_CSRRW: case OP_CSRRS: case OP_CSRRC:
    case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI:
      account(c, done);
      if (!exec_csr(c, d)) return illegal();
      c.pc = npc;
      // The interpreter looks for interrupts after every CSR access
      // (NEXT_SLOW): so does the block, by ending when one is pending.
      return (c.mip & c.mie) ? kEndAfter : kGoOn;
    default:
      return illegal();  // not reached: jit_ext_handles() chose the instruction
  }
  c.pc = npc;
  return c.mem.code_pages() != code_pages ? kEndAfter : kGoOn;
}

}  // namespace

// F/D arithmetic (OP_FP), the most frequent helper call in FP code: the same
// as jit_ext_exec's OP_FP case without the decoded instruction (fp_execute
// reads the raw bits) and without the code-page check (it does not store).
uint64_t jit_ext_fp(CpuImpl* cp, uint64_t raw, uint64_t pc) {
  CpuImpl& c = *cp;
  bool dirty = false;
  if (VM_UNLIKELY(!(c.mstatus & ms::FS)) ||
      VM_UNLIKELY(fp_execute(static_cast<uint32_t>(raw), c.fp, c.x, &dirty) != FpResult::kOk)) {
    c.pc = pc;
    take_trap(c, kExcIllegal, static_cast<uint32_t>(raw));  // OP-FP has no compressed forms: tval = the 32 bits
    return kTrapped;
  }
  c.x[0] = 0;
  if (dirty) fs_dirty(c);
  return kGoOn;
}

bool jit_ext_handles(const DecodedInsn& d) {
  if (ext_off()) return false;
  switch (d.op) {
    case OP_FLW: case OP_FLD: case OP_FSW: case OP_FSD: case OP_FP:
    case OP_LR_W: case OP_SC_W: case OP_LR_D: case OP_SC_D: case OP_AMO_W: case OP_AMO_D:
      return true;
    case OP_CSRRW: case OP_CSRRS: case OP_CSRRC:
    case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI: {
      // fflags/frm/fcsr, read or written; any other CSR only read (CSRRS/CSRRC
      // with rs1 = x0 or uimm = 0 do not write, unprivileged spec §9.1):
      // neither can change privilege, translation or interrupt enables.
      const uint32_t csr = static_cast<uint32_t>(d.imm) & 0xfff;
      if (csr >= 1 && csr <= 3) return true;
      const bool writes = d.op == OP_CSRRW || d.op == OP_CSRRWI || d.rs1 != 0;
      return !writes;
    }
  }
  return false;
}

#if defined(__x86_64__)

void jit_ext_emit_call(Xbyak::CodeGenerator& g, const DecodedInsn& d, uint64_t pc, unsigned i, unsigned n,
                       Xbyak::Label& leave) {
  using namespace Xbyak::util;
  if (d.op == OP_FP) {
    g.mov(rdi, rbx);
    g.mov(esi, d.raw);
    g.mov(rdx, pc);
    g.mov(rax, reinterpret_cast<uint64_t>(&jit_ext_fp));
    g.call(rax);
    g.test(eax, eax);
    g.jnz(leave, Xbyak::CodeGenerator::T_NEAR);
    return;
  }
  if (d.op >= OP_CSRRW && d.op <= OP_CSRRCI) {
    // done = what the session retired before this instruction: r12 - r13
    // counts this whole block, of which n - i are this one and those after.
    // The helper accounts `done`, so r12 drops by as much (Jit::run counts
    // what a session retired from retired_total).
    g.mov(r8, r12);
    g.sub(r8, r13);
    g.sub(r8, static_cast<uint32_t>(n - i));
    g.sub(r12, r8);
  } else {
    g.xor_(r8d, r8d);
  }
  uint64_t w[2];
  std::memcpy(w, &d, sizeof w);
  g.mov(rdi, rbx);
  g.mov(rsi, w[0]);
  g.mov(rdx, w[1]);
  g.mov(rcx, pc);
  g.mov(rax, reinterpret_cast<uint64_t>(&jit_ext_exec));
  g.call(rax);  // rsp is 16-byte aligned inside a session (jit.cc's trampoline)
  g.test(eax, eax);
  g.jnz(leave, Xbyak::CodeGenerator::T_NEAR);
}

void jit_ext_emit_leave(Xbyak::CodeGenerator& g, Xbyak::Label& leave, unsigned i, unsigned n, const void* exit) {
  using namespace Xbyak::util;
  Xbyak::Label trapped;
  g.L(leave);
  g.cmp(eax, static_cast<uint32_t>(kTrapped));
  g.je(trapped, Xbyak::CodeGenerator::T_NEAR);
  g.add(r13, static_cast<uint32_t>(n - i - 1));  // instruction i retired, the rest did not run
  g.xor_(edx, edx);
  g.jmp(exit, Xbyak::CodeGenerator::T_NEAR);
  g.L(trapped);
  g.add(r13, static_cast<uint32_t>(n - i));  // instruction i did not retire either
  g.xor_(edx, edx);
  g.jmp(exit, Xbyak::CodeGenerator::T_NEAR);
}

#endif

}  // namespace vmsup
