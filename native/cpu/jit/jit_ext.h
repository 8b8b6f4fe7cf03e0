// The translator's helper-call path (jit_ext.cc): instructions the JIT does
// not translate to host code — F/D arithmetic, FP loads and stores, LR/SC and
// AMOs, the FP CSRs and CSR reads — run inside a block through a call to a C++
// helper that executes that one decoded instruction exactly as the
// interpreter's handler does (hart_handlers.inc). Internal to cpu/jit.
#pragma once

#include <cstdint>

#include "cpu/cpu_impl.h"

#include "cpu/jit/xbyak_inc.h"

namespace vmsup {

// Whether a block may contain `d` through the helper path. CSR writes other
// than to fflags/frm/fcsr, xRET, ECALL, WFI, FENCE.I and SFENCE.VMA are not
// taken: they may change the translation context, so they end the block and
// run on the interpreter as before.
bool jit_ext_handles(const DecodedInsn& d);

// One OP-FP / FMADD-family instruction (raw bits) at `pc` through fp_execute,
// as jit_ext_exec would: 0 when it retired, else a trap was taken. Touches the
// FP state, mstatus and (for results in x registers) c.x only; jit.cc's inline
// F/D arithmetic calls it as its slow path, with the cached registers kept.
uint64_t jit_ext_fp(CpuImpl* cp, uint64_t raw, uint64_t pc);

#if defined(__x86_64__)
// Emits the call for instruction `i` (at `pc`) of an `n`-instruction block.
// The generated code's conventions are jit.cc's: rbx = &CpuImpl, r12/r13 the
// session counters, and every guest register written back and forgotten by
// the register cache before this point (the call clobbers the pool).
// When the block must end after (or at) this instruction the code jumps to
// `leave` with eax = the helper's status; emit jit_ext_emit_leave() there.
void jit_ext_emit_call(Xbyak::CodeGenerator& g, const DecodedInsn& d, uint64_t pc, unsigned i, unsigned n,
                       Xbyak::Label& leave);
// The out-of-line way out for a call above: returns to C++ through `exit`
// (jit.cc's exit_, edx = 0) with the retired count right and c.pc already set
// by the helper.
void jit_ext_emit_leave(Xbyak::CodeGenerator& g, Xbyak::Label& leave, unsigned i, unsigned n, const void* exit);
#endif

}  // namespace vmsup
