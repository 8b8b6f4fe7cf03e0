/* rv64i.S - every RV64I computational, control-transfer, load and store
 * instruction (unprivileged spec ch. 2 and 4), including W forms, shift
 * amounts 0/31/32/63, sign extension of W results, x0 as destination. */
#include "common.h"

/* rd = op(a, b) */
.macro TRR n, op, res, a, b
  li a1, \a
  li a2, \b
  \op a0, a1, a2
  CHECK \n, a0, \res
.endm
/* rd = op(a, imm) */
.macro TRI n, op, res, a, imm
  li a1, \a
  \op a0, a1, \imm
  CHECK \n, a0, \res
.endm
/* branch taken (t=1) or not (t=0) */
.macro TBR n, op, t, a, b
  li a1, \a
  li a2, \b
  li a0, 0
  \op a1, a2, .Ltk\@
  li a0, 0
  j .Ldn\@
.Ltk\@:
  li a0, 1
.Ldn\@:
  CHECK \n, a0, \t
.endm

main:
  .option push
  .option norvc   /* every instruction here is the 32-bit RV64I form: links are pc+4 */
  /* ---- ADD/SUB and immediates ---- */
  TRR 2, add, 0, 0, 0
  TRR 3, add, 0x0000000100000000, 0x00000000ffffffff, 1
  TRR 4, add, 0x8000000000000000, 0x7fffffffffffffff, 1
  TRR 5, add, 0, -1, 1
  TRR 6, sub, -1, 0, 1
  TRR 7, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
  TRI 8, addi, -2048, 0, -2048
  TRI 9, addi, 0x800000000000007f, 0x8000000000000080, -1
  TRI 10, addi, 2047, 0, 2047
  /* ---- logical ---- */
  TRR 11, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f
  TRR 12, or,  0xff0fff0f, 0xff00ff00, 0x0f0f0f0f
  TRR 13, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f
  TRI 14, andi, 0xffffffffff00ff00, 0xffffffffff00ffff, -256
  TRI 15, ori,  0xffffffffffffff0f, 0x0f, -256
  TRI 16, xori, 0xffffffffffffff00, 0xff, -1
  TRI 17, andi, 0x0f, 0xff0f, 0x0f
  /* ---- set less than ---- */
  TRR 18, slt, 1, -1, 0
  TRR 19, slt, 0, 0, -1
  TRR 20, sltu, 0, -1, 0
  TRR 21, sltu, 1, 0, -1
  TRR 22, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
  TRI 23, slti, 1, -5, -4
  TRI 24, slti, 0, -4, -4
  TRI 25, sltiu, 1, 5, -1      /* imm sign-extended then compared unsigned */
  TRI 26, sltiu, 0, -1, -1
  TRI 27, sltiu, 1, 0, 1       /* seqz */
  /* ---- 64-bit shifts, amounts 0/31/32/63 ---- */
  TRR 28, sll, 0x8000000000000001, 0x8000000000000001, 0
  TRR 29, sll, 0x0000000080000000, 1, 31
  TRR 30, sll, 0x0000000100000000, 1, 32
  TRR 31, sll, 0x8000000000000000, 1, 63
  TRR 32, sll, 2, 1, 65          /* only rs2[5:0] is used */
  TRR 33, srl, 0x0000000100000000, 0x8000000000000000, 31
  TRR 34, srl, 0x0000000080000000, 0x8000000000000000, 32
  TRR 35, srl, 1, 0x8000000000000000, 63
  TRR 36, sra, 0xffffffff00000000, 0x8000000000000000, 31
  TRR 37, sra, 0xffffffff80000000, 0x8000000000000000, 32
  TRR 38, sra, -1, 0x8000000000000000, 63
  TRR 39, sra, 0x7fffffffffffffff, 0x7fffffffffffffff, 0
  TRI 40, slli, 0x8000000000000000, 1, 63
  TRI 41, slli, 0x0000000100000000, 1, 32
  TRI 42, srli, 0x00000001ffffffff, -1, 31
  TRI 43, srli, 0x00000000ffffffff, -1, 32
  TRI 44, srai, 0xffffffff80000000, 0x8000000000000000, 32
  TRI 45, srai, -1, 0x8000000000000000, 63
  TRI 46, srai, 0x0123456789abcdef, 0x0123456789abcdef, 0
  /* ---- W forms: 32-bit result sign-extended ---- */
  TRR 47, addw, 0xffffffff80000000, 0x7fffffff, 1
  TRR 48, addw, 0, 0xffffffff, 1
  TRR 49, addw, 0x12345678, 0xabcdef0012345678, 0
  TRR 50, subw, 0x7fffffff, 0x80000000, 1
  TRR 51, subw, -1, 0, 1
  TRI 52, addiw, 0xffffffff80000000, 0x7fffffff, 1
  TRI 53, addiw, 0x000000007fffffff, 0x80000000, -1
  TRI 54, addiw, 0xffffffffabcdef00, 0x12abcdef00, 0   /* sext.w */
  TRR 55, sllw, 0xffffffff80000000, 1, 31
  TRR 56, sllw, 1, 1, 32          /* only rs2[4:0] */
  TRR 57, sllw, 0x0000000012345678, 0x12345678, 0
  TRR 58, srlw, 1, 0x80000000, 31
  TRR 59, srlw, 0xffffffff80000000, 0x80000000, 0   /* shift 0 still sign-extends */
  TRR 60, srlw, 0x0000000000ffffff, 0xffffffffffffffff, 8
  TRR 61, sraw, -1, 0x80000000, 31
  TRR 62, sraw, 0xfffffffff8000000, 0x0000000080000000, 4
  TRR 63, sraw, 0x00000000000000ff, 0xffffffff000000ff, 32   /* amount 32 -> 0 */
  TRI 64, slliw, 0xffffffff80000000, 0xffffffff00000001, 31
  TRI 65, slliw, 0x0000000000000000, 0x100000000, 0
  TRI 66, srliw, 1, 0xffffffff80000000, 31
  TRI 67, srliw, 0x000000007fffffff, 0xffffffffffffffff, 1
  TRI 68, sraiw, -1, 0x80000000, 31
  TRI 69, sraiw, 0xffffffffc0000000, 0x80000000, 1
  TRI 70, sraiw, 0x0000000040000000, 0xffffffff40000000, 0
  /* ---- x0 ignores writes ---- */
  li a1, 123
  add x0, a1, a1
  CHECK 71, x0, 0
  addi x0, x0, 5
  CHECK 72, x0, 0
  /* ---- LUI / AUIPC ---- */
  lui a0, 0x80000
  CHECK 73, a0, 0xffffffff80000000
  lui a0, 0x7ffff
  CHECK 74, a0, 0x7ffff000
  lui a0, 0
  CHECK 75, a0, 0
1:auipc a0, 0
  la a1, 1b
  CHECKR 76, a0, a1
2:auipc a0, 0xfffff            /* pc - 4096 */
  la a1, 2b
  li a2, 4096
  sub a1, a1, a2
  CHECKR 77, a0, a1
3:auipc a0, 0x80000            /* pc - 2 GiB: sign-extended offset */
  la a1, 3b
  li a2, 0xffffffff80000000
  add a1, a1, a2
  CHECKR 78, a0, a1
  /* ---- JAL / JALR ---- */
  li ra, 0
  jal ra, 4f
5:j 6f
4:la a1, 5b
  CHECKR 79, ra, a1
  jal x0, 7f                     /* j: no link */
  FAILNOW 80
6:FAILNOW 81
7:
  la a1, 8f
  addi a1, a1, 1                 /* odd target: JALR clears bit 0 */
21:jalr a2, 0(a1)
  FAILNOW 82
  .align 2
8:auipc a3, 0
  addi a4, a1, -1
  CHECKR 83, a3, a4              /* landed on the even address */
  la a4, 21b
  addi a4, a4, 4
  CHECKR 84, a2, a4              /* link = pc + 4 */
  /* JALR with rd == rs1: target uses the old rs1 */
  la a1, 12f
  jalr a1, 0(a1)
13:FAILNOW 85
12:la a2, 13b
  CHECKR 86, a1, a2
  /* JALR with a negative offset */
  la a1, 14f
  addi a1, a1, 16
  jalr ra, -16(a1)
  FAILNOW 87
14:
  /* JALR odd immediate: (rs1 + 1) & ~1 */
  la a1, 15f
  jalr ra, 1(a1)
  FAILNOW 88
15:
  /* ---- branches, taken and not taken ---- */
  TBR 100, beq, 1, 5, 5
  TBR 101, beq, 0, 5, 6
  TBR 102, bne, 1, 5, 6
  TBR 103, bne, 0, -1, -1
  TBR 104, blt, 1, -1, 0
  TBR 105, blt, 0, 0, -1
  TBR 106, blt, 0, 7, 7
  TBR 107, bge, 1, 0, 0
  TBR 108, bge, 0, -1, 0
  TBR 109, bge, 1, 0x7fffffffffffffff, 0x8000000000000000
  TBR 110, bltu, 1, 0, -1
  TBR 111, bltu, 0, -1, 0
  TBR 112, bltu, 0, 3, 3
  TBR 113, bgeu, 1, -1, 0
  TBR 114, bgeu, 0, 0, -1
  TBR 115, bgeu, 1, 3, 3
  /* backward branch: a loop of 10 */
  li a0, 0
  li a1, 10
16:addi a0, a0, 1
  blt a0, a1, 16b
  CHECK 116, a0, 10
  /* ---- loads of every width, sign/zero extension ---- */
  la a1, ldata
  lb a0, 0(a1)
  CHECK 120, a0, 0xffffffffffffff87
  lbu a0, 0(a1)
  CHECK 121, a0, 0x87
  lh a0, 0(a1)
  CHECK 122, a0, 0xffffffffffff8687
  lhu a0, 0(a1)
  CHECK 123, a0, 0x8687
  lw a0, 0(a1)
  CHECK 124, a0, 0xffffffff84858687
  lwu a0, 0(a1)
  CHECK 125, a0, 0x84858687
  ld a0, 0(a1)
  CHECK 126, a0, 0x8081828384858687
  lb a0, 9(a1)
  CHECK 127, a0, 0x7f
  lb a0, 8(a1)
  CHECK 128, a0, -1
  lh a0, 8(a1)
  CHECK 129, a0, 0x7fff
  lh a0, 10(a1)
  CHECK 130, a0, 0xffffffffffff8000
  lw a0, 12(a1)
  CHECK 131, a0, 0x00ff7f00
  lw a0, 8(a1)
  CHECK 132, a0, 0xffffffff80007fff
  lwu a0, 8(a1)
  CHECK 133, a0, 0x80007fff
  addi a2, a1, 8
  lb a0, -1(a2)
  CHECK 134, a0, 0xffffffffffffff80
  lhu a0, -2(a2)
  CHECK 135, a0, 0x8081
  ld a0, 0(a2)
  CHECK 136, a0, 0x00ff7f0080007fff
  /* load into x0 has no architectural effect on x0 */
  ld x0, 0(a1)
  CHECK 137, x0, 0
  /* ---- stores of every width ---- */
  la a1, sbuf
  li a0, 0x1122334455667788
  sd a0, 0(a1)
  li a0, 0x12345678aa
  sb a0, 1(a1)
  ld a3, 0(a1)
  CHECK 140, a3, 0x112233445566aa88
  li a0, 0xffffbbcc
  sh a0, 2(a1)
  ld a3, 0(a1)
  CHECK 141, a3, 0x11223344bbccaa88
  li a0, 0x55ddeeff00
  sw a0, 4(a1)
  ld a3, 0(a1)
  CHECK 142, a3, 0xddeeff00bbccaa88
  addi a2, a1, 16
  li a0, -1
  sd a0, -8(a2)
  sw zero, -4(a2)
  ld a3, 8(a1)
  CHECK 143, a3, 0x00000000ffffffff
  sb zero, -8(a2)
  ld a3, 8(a1)
  CHECK 144, a3, 0x00000000ffffff00
  lw a3, 4(a1)
  CHECK 145, a3, 0xffffffffddeeff00
  /* ---- FENCE (ordering only; must execute as a no-op here) ---- */
  fence
  fence rw, rw
  fence iorw, iorw
  fence.tso
  li a0, 1
  CHECK 150, a0, 1
  /* ---- ECALL / EBREAK from M ---- */
  EXPECT_TRAP 17f
18:ecall
  FAILNOW 151
17:CHECK_TRAP 152, CAUSE_ECALL_M
  CHECK_VAR_ADDR 153, t_epc, 18b
  EXPECT_TRAP 19f
20:ebreak
  FAILNOW 154
19:CHECK_TRAP 155, CAUSE_BREAKPOINT
  CHECK_VAR_ADDR 156, t_epc, 20b
  .option pop
  j pass

  .data
  .align 3
ldata: .dword 0x8081828384858687, 0x00ff7f0080007fff
sbuf:  .dword 0, 0
