// The F and D extensions (RISC-V unprivileged spec ch. 11, 12), executed apart
// from the integer core. The CPU owns memory access (FLW/FLD/FSW/FSD and the
// compressed forms), the mstatus.FS state and the trap; this file owns the
// arithmetic, NaN boxing, canonical NaNs, rounding and fflags.
#pragma once

#include <cstdint>

namespace vmsup {

struct FpState {
  uint64_t f[32];   // raw register bits; single values are NaN-boxed (upper 32 bits all 1)
  uint32_t fflags;  // NX=1 UF=2 OF=4 DZ=8 NV=16 (fcsr[4:0])
  uint32_t frm;     // fcsr[7:5]
};

enum class FpResult : uint8_t {
  kOk,       // executed; the CPU marks mstatus.FS dirty when `*dirty` was set
  kIllegal,  // not an F/D instruction we implement, or a reserved rounding mode: illegal-instruction trap
};

// Executes one instruction from the OP-FP (0b1010011), FMADD (0b1000011),
// FMSUB (0b1000111), FNMSUB (0b1001011) or FNMADD (0b1001111) major opcodes.
// `x` is the integer register file (x[0] is zero and must stay zero: writes to
// rd = 0 are dropped). `*dirty` is set when an f register or fflags changed
// (the CPU then sets mstatus.FS = Dirty, privileged spec §3.1.6.6).
// The caller has already checked that mstatus.FS != Off.
FpResult fp_execute(uint32_t insn, FpState& fs, uint64_t* x, bool* dirty);

// NaN-boxing helpers for the CPU's FLW/FSW.
inline uint64_t fp_box32(uint32_t v) { return 0xffffffff00000000ULL | v; }

}  // namespace vmsup
