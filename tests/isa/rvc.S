/* rvc.S - every RV64C compressed instruction (unprivileged spec, "C" Standard
 * Extension for Compressed Instructions), the RV64 meaning of the C.JAL slot
 * (C.ADDIW), HINT encodings (no-ops), reserved encodings and the all-zero
 * illegal instruction. */
#include "common.h"

/* Check n: the last trap was illegal-instruction with mtval = 0 or the 16-bit
 * instruction bits (priv spec 3.1.16: mtval may hold the faulting instruction). */
.macro CHECK_ILLEGAL16 n, bits
  CHECK_TRAP \n, CAUSE_ILLEGAL
  la t0, t_tval
  ld t0, 0(t0)
  beqz t0, .Lok\@
  CHECK (\n + 1), t0, \bits
.Lok\@:
.endm

main:
  mv s10, sp
  la sp, cdata + 256
  /* ---- quadrant 1: immediates and arithmetic ---- */
  c.li a0, -32
  CHECK 2, a0, -32
  c.li a0, 31
  CHECK 3, a0, 31
  c.addi a0, -1
  CHECK 4, a0, 30
  c.addi a0, 31
  CHECK 5, a0, 61
  c.nop
  c.lui a1, 0x1f
  CHECK 6, a1, 0x1f000
  c.lui a1, 0xfffe0              /* nzimm = -32: sign-extended from bit 17 */
  CHECK 7, a1, 0xfffffffffffe0000
  c.lui a1, 1
  CHECK 8, a1, 0x1000
  li a0, 0x7fffffff
  c.addiw a0, 1
  CHECK 9, a0, 0xffffffff80000000
  li a0, 0x1234567880000000
  c.addiw a0, 0                  /* sext.w */
  CHECK 10, a0, 0xffffffff80000000
  li a0, -1
  c.srli a0, 32
  CHECK 11, a0, 0xffffffff
  li a0, -1
  c.srli a0, 63
  CHECK 12, a0, 1
  li a0, 0x8000000000000000
  c.srai a0, 63
  CHECK 13, a0, -1
  li a0, 0x8000000000000000
  c.srai a0, 32
  CHECK 14, a0, 0xffffffff80000000
  li a0, 0xff
  c.andi a0, -32
  CHECK 15, a0, 0xe0
  li a0, 0xff
  c.andi a0, 5
  CHECK 16, a0, 5
  li a0, 100
  li a1, 58
  c.sub a0, a1
  CHECK 17, a0, 42
  li a0, 0xff00
  li a1, 0x0ff0
  c.xor a0, a1
  CHECK 18, a0, 0xf0f0
  li a0, 0xff00
  c.or a0, a1
  CHECK 19, a0, 0xfff0
  li a0, 0xff00
  c.and a0, a1
  CHECK 20, a0, 0x0f00
  li a0, 0x80000000
  li a1, 1
  c.subw a0, a1
  CHECK 21, a0, 0x7fffffff
  li a0, 0x7fffffff
  c.addw a0, a1
  CHECK 22, a0, 0xffffffff80000000
  li a0, 0
  c.subw a0, a1
  CHECK 23, a0, -1
  /* ---- quadrant 2: SLLI, MV, ADD ---- */
  li a2, 1
  c.slli a2, 63
  CHECK 24, a2, 0x8000000000000000
  li a2, 3
  c.slli a2, 32
  CHECK 25, a2, 0x300000000
  li a3, 0x123456789
  c.mv a4, a3
  CHECK 26, a4, 0x123456789
  c.add a4, a3
  CHECK 27, a4, 0x2468acf12
  /* ---- stack-pointer forms ---- */
  mv a0, sp
  c.addi16sp sp, -64
  addi a1, a0, -64
  CHECKR 28, sp, a1
  c.addi16sp sp, 496
  addi a1, a0, 432
  CHECKR 29, sp, a1
  c.addi16sp sp, -432
  CHECKR 30, sp, a0
  c.addi4spn a2, sp, 1020
  addi a1, sp, 1020
  CHECKR 31, a2, a1
  c.addi4spn a2, sp, 4
  addi a1, sp, 4
  CHECKR 32, a2, a1
  /* loads and stores, register-based (x8..x15) */
  la s0, cdata
  li a0, 0x8877665544332211
  c.sd a0, 8(s0)
  ld a1, 8(s0)
  CHECK 33, a1, 0x8877665544332211
  c.ld a2, 8(s0)
  CHECK 34, a2, 0x8877665544332211
  c.lw a2, 12(s0)
  CHECK 35, a2, 0xffffffff88776655   /* sign-extended */
  c.lw a2, 8(s0)
  CHECK 36, a2, 0x44332211
  li a0, 0xdeadbeef
  c.sw a0, 124(s0)
  lwu a1, 124(s0)
  CHECK 37, a1, 0xdeadbeef
  c.sd a0, 248(s0)
  c.ld a3, 248(s0)
  CHECK 38, a3, 0xdeadbeef
  /* sp-based */
  li a0, 0x0123456789abcdef
  c.sdsp a0, 504(sp)
  ld a1, 504(sp)
  CHECK 39, a1, 0x0123456789abcdef
  c.ldsp a4, 504(sp)
  CHECK 40, a4, 0x0123456789abcdef
  li a0, 0x80000001
  c.swsp a0, 252(sp)
  c.lwsp a4, 252(sp)
  CHECK 41, a4, 0xffffffff80000001
  c.sdsp a0, 0(sp)
  c.ldsp a4, 0(sp)
  CHECK 42, a4, 0x80000001
  /* FP loads and stores */
  li a0, 0x400921fb54442d18      /* pi */
  sd a0, 16(s0)
  c.fld fa0, 16(s0)
  fmv.x.d a1, fa0
  CHECK 43, a1, 0x400921fb54442d18
  c.fsd fa0, 32(s0)
  ld a1, 32(s0)
  CHECK 44, a1, 0x400921fb54442d18
  c.fsdsp fa0, 496(sp)
  ld a1, 496(sp)
  CHECK 45, a1, 0x400921fb54442d18
  c.fldsp fs1, 496(sp)
  fmv.x.d a1, fs1
  CHECK 46, a1, 0x400921fb54442d18
  /* ---- control transfer ---- */
  li a0, 0
  c.j 1f
  li a0, 1
1:CHECK 47, a0, 0
  li a0, 0
  c.beqz a0, 2f
  FAILNOW 48
2:li a0, 1
  c.beqz a0, 3f
  j 4f
3:FAILNOW 49
4:c.bnez a0, 5f
  FAILNOW 50
5:li a0, 0
  c.bnez a0, 6f
  j 7f
6:FAILNOW 51
7:/* backward c.j / c.bnez loop */
  li a0, 5
  li a1, 0
8:addi a1, a1, 2
  c.addi a0, -1
  c.bnez a0, 8b
  CHECK 52, a1, 10
  la a5, 9f
  c.jr a5
  FAILNOW 53
9:la a5, 10f
11:c.jalr a5                      /* link = pc + 2 */
  FAILNOW 54
10:la a1, 11b
  addi a1, a1, 2
  CHECKR 55, ra, a1
  /* C.JAL does not exist on RV64: that encoding is C.ADDIW (here c.addiw ra, 1) */
  li ra, 0x7fffffff
  .half 0x2085
  CHECK 56, ra, 0xffffffff80000000
  /* ---- HINTs execute as no-ops (no trap, no write) ---- */
  li a0, 7
  .half 0x4015                   /* c.li x0, 5 */
  .half 0x802a                   /* c.mv x0, a0 */
  .half 0x902a                   /* c.add x0, a0 */
  .half 0x0001 | (1 << 2)        /* c.nop with nzimm != 0 */
  .half 0x0502                   /* c.slli a0, 0... (shamt 0: HINT on RV64) */
  CHECK 57, a0, 7
  CHECK 58, x0, 0
  /* ---- C.EBREAK ---- */
  EXPECT_TRAP 12f
13:c.ebreak
  FAILNOW 59
12:CHECK_TRAP 60, CAUSE_BREAKPOINT
  CHECK_VAR_ADDR 61, t_epc, 13b
  /* ---- illegal: all-zero, and reserved encodings ---- */
  EXPECT_TRAP 14f
15:.half 0x0000
  FAILNOW 62
14:CHECK_ILLEGAL16 63, 0
  CHECK_VAR_ADDR 65, t_epc, 15b
  EXPECT_TRAP 16f
  .half 0x6501                   /* c.lui a0, 0: reserved */
  FAILNOW 66
16:CHECK_ILLEGAL16 67, 0x6501
  EXPECT_TRAP 17f
  .half 0x6101                   /* c.addi16sp sp, 0: reserved */
  FAILNOW 69
17:CHECK_ILLEGAL16 70, 0x6101
  EXPECT_TRAP 18f
  .half 0x8002                   /* c.jr x0: reserved */
  FAILNOW 72
18:CHECK_ILLEGAL16 73, 0x8002
  EXPECT_TRAP 19f
  .half 0x4002                   /* c.lwsp x0: reserved */
  FAILNOW 75
19:CHECK_ILLEGAL16 76, 0x4002
  EXPECT_TRAP 20f
  .half 0x6002                   /* c.ldsp x0: reserved */
  FAILNOW 78
20:CHECK_ILLEGAL16 79, 0x6002
  EXPECT_TRAP 21f
  .half 0x2005                   /* c.addiw x0, 1: reserved on RV64 */
  FAILNOW 81
21:CHECK_ILLEGAL16 82, 0x2005
  /* C.JALR ra: the target is the old ra, then ra = pc + 2 */
  la ra, 22f
23:c.jalr ra
  FAILNOW 84
22:la a1, 23b
  addi a1, a1, 2
  CHECKR 85, ra, a1
  /* C.JR through an odd register value clears bit 0 like JALR */
  la a5, 24f
  addi a5, a5, 1
  c.jr a5
  FAILNOW 86
24:
  mv sp, s10
  j pass

  .data
  .align 6
cdata: .skip 1024 + 512
