/* decode_illegal.S - reserved and unimplemented encodings decode as illegal
 * instructions (priv spec 3.1.15 cause 2; mtval = 0 or the instruction bits,
 * 3.1.16): unused funct fields of implemented opcodes, shift immediates out of
 * range for RV64/W forms, widths and formats of absent extensions (Zabha, Zfh,
 * Q, V, H), reserved compressed encodings. Check n: the encoding at check n
 * traps (n), with cause 2 (n+1), mepc at it (n+2), mtval 0 or the bits (n+3). */
#include "common.h"

.set illn, 2
.macro ILL word
  EXPECT_TRAP .Lb\@
.La\@:
  .word \word
  FAILNOW illn
.Lb\@:
  CHECK_TRAP (illn + 1), CAUSE_ILLEGAL
  CHECK_VAR_ADDR (illn + 2), t_epc, .La\@
  la t0, t_tval
  ld t0, 0(t0)
  beqz t0, .Lz\@
  CHECK (illn + 3), t0, \word
.Lz\@:
  .set illn, illn + 4
.endm
.macro ILL16 half
  EXPECT_TRAP .Lb\@
.La\@:
  .half \half
  FAILNOW illn
.Lb\@:
  CHECK_TRAP (illn + 1), CAUSE_ILLEGAL
  CHECK_VAR_ADDR (illn + 2), t_epc, .La\@
  la t0, t_tval
  ld t0, 0(t0)
  beqz t0, .Lz\@
  CHECK (illn + 3), t0, \half
.Lz\@:
  .set illn, illn + 4
.endm

main:
  li a0, 0x600d
  ILL 0x04208533   /* OP funct7=0000010 */
  ILL 0x40209533   /* OP funct3=1 (sll) with funct7=0100000 */
  ILL 0x04309513   /* SLLI with funct6=000001 */
  ILL 0x4430d513   /* SRLI with funct6=010001 */
  ILL 0x0200951b   /* SLLIW with shamt[5]=1 */
  ILL 0x4200d51b   /* SRAIW with shamt[5]=1 */
  ILL 0x4020953b   /* OP-32 funct3=1 with funct7=0100000 */
  ILL 0x0020a53b   /* OP-32 funct3=2 */
  ILL 0x0000a51b   /* OP-IMM-32 funct3=2 */
  ILL 0x0000b51b   /* OP-IMM-32 funct3=3 */
  ILL 0x0220953b   /* OP-32 funct7=1 funct3=1 (no MULW variant) */
  ILL 0x0000f503   /* LOAD funct3=7 */
  ILL 0x0020c023   /* STORE funct3=4 */
  ILL 0x0020a463   /* BRANCH funct3=2 */
  ILL 0x0020b463   /* BRANCH funct3=3 */
  ILL 0x00009567   /* JALR funct3=1 */
  ILL 0x2820b52f   /* AMO funct5=00101 */
  ILL 0x0020852f   /* AMO byte width (Zabha absent) */
  ILL 0x0020c52f   /* AMO funct3=4 */
  ILL 0x1010b52f   /* LR.D with rs2 != 0 */
  ILL 0x04208553   /* FADD.H (Zfh absent) */
  ILL 0x06208553   /* FADD.Q (Q absent) */
  ILL 0x2020b553   /* FSGNJ.S funct3=3 */
  ILL 0x2820a553   /* FMIN.S funct3=2 */
  ILL 0x58108553   /* FSQRT.S with rs2=1 */
  ILL 0xe000a553   /* FMV.X.W funct3=2 */
  ILL 0xe0109553   /* FCLASS.S with rs2=1 */
  ILL 0xc0408553   /* FCVT.W.S with rs2=4 */
  ILL 0x40008553   /* FCVT.S.S (rs2=0) */
  ILL 0xa020b553   /* FEQ.S funct3=3 */
  ILL 0x0000c507   /* FLQ */
  ILL 0x0020c027   /* FSQ */
  ILL 0x1e208543   /* FMADD.Q */
  ILL 0xfe208553   /* OP-FP funct7=1111111 */
  ILL 0x00208557   /* OP-V (V absent) */
  ILL 0x00208577   /* major opcode 0x77 */
  ILL 0x0020856b   /* major opcode 0x6b */
  ILL 0x0020852b   /* custom-1 (0x2b) */
  ILL16 0x0004   /* c.addi4spn with nzuimm=0 (rd'!=0) */
  ILL16 0x8000   /* quadrant 0 funct3=100 reserved */
  ILL16 0x9c41   /* CA funct2=10 with bit12=1 (reserved on RV64) */
  ILL16 0x9c61   /* CA funct2=11 with bit12=1 */
  ILL16 0x6501   /* c.lui a0, 0 (reserved) */
  CHECK 1000, a0, 0x600d         /* no illegal encoding wrote rd (a0) */
  j pass
