/* rv64a.S - the A extension (unprivileged spec ch. "A" extension): LR/SC with
 * the reservation rules and every AMO in W and D width. */
#include "common.h"

/* AMO test: mem (D) = init, op rd, rs2=src -> rd == old, mem == res */
.macro AMOD n, op, init, src, res
  la a1, amo
  li a2, \init
  sd a2, 0(a1)
  li a2, \src
  \op a0, a2, (a1)
  CHECK \n, a0, \init
  ld a3, 0(a1)
  CHECK (\n + 1), a3, \res
.endm
/* W test: word at amo = init, the word after it = 0x5a5a5a5a (must stay);
 * rd == sext(init), word == res */
.macro AMOW n, op, init, src, res
  la a1, amo
  li a2, 0x5a5a5a5a00000000 | (\init & 0xffffffff)
  sd a2, 0(a1)
  li a2, \src
  \op a0, a2, (a1)
  li t0, ((\init & 0xffffffff) ^ 0x80000000) - 0x80000000
  CHECKR \n, a0, t0
  ld a3, 0(a1)
  CHECK (\n + 1), a3, 0x5a5a5a5a00000000 | (\res & 0xffffffff)
.endm

main:
  /* ---- LR/SC success ---- */
  la a1, word
  li a2, 0x1111
  sd a2, 0(a1)
  lr.d a0, (a1)
  CHECK 2, a0, 0x1111
  li a2, 0x2222
  sc.d a3, a2, (a1)
  CHECK 3, a3, 0                 /* 0 = success */
  ld a0, 0(a1)
  CHECK 4, a0, 0x2222
  /* SC without a reservation (the previous SC consumed it): fails, no write */
  li a2, 0x3333
  sc.d a3, a2, (a1)
  CHECKNE 5, a3, 0
  ld a0, 0(a1)
  CHECK 6, a0, 0x2222
  /* SC to an address outside the reservation set: fails, no write */
  la a4, far
  li a2, 0x77
  sd a2, 0(a4)
  lr.d a0, (a1)
  li a2, 0x4444
  sc.d a3, a2, (a4)
  CHECKNE 7, a3, 0
  ld a0, 0(a4)
  CHECK 8, a0, 0x77
  /* ... and that (failed) SC also invalidated the reservation on word */
  li a2, 0x5555
  sc.d a3, a2, (a1)
  CHECKNE 9, a3, 0
  ld a0, 0(a1)
  CHECK 10, a0, 0x2222
  /* SC after an intervening successful SC: the second one fails */
  lr.d a0, (a1)
  li a2, 0x6666
  sc.d a3, a2, (a1)
  CHECK 11, a3, 0
  li a2, 0x7777
  sc.d a3, a2, (a1)
  CHECKNE 12, a3, 0
  ld a0, 0(a1)
  CHECK 13, a0, 0x6666
  /* A store by the same hart between LR and SC: the spec lets the SC succeed or
   * fail; whichever, memory must agree with rd. */
  lr.d a0, (a1)
  li a2, 0x8888
  sd a2, 0(a1)
  li a2, 0x9999
  sc.d a3, a2, (a1)
  ld a0, 0(a1)
  bnez a3, 1f
  CHECK 14, a0, 0x9999
  j 2f
1:CHECK 15, a0, 0x8888
2:
  /* LR.W sign-extends; SC.W writes 32 bits only */
  li a2, 0x0123456780000000
  sd a2, 0(a1)
  lr.w a0, (a1)
  CHECK 16, a0, 0xffffffff80000000
  li a2, 0xfedcba98aabbccdd
  sc.w a3, a2, (a1)
  CHECK 17, a3, 0
  ld a0, 0(a1)
  CHECK 18, a0, 0x01234567aabbccdd
  /* LR.W/SC.W on the upper word */
  addi a4, a1, 4
  lr.w.aq a0, (a4)
  CHECK 19, a0, 0x01234567
  li a2, 0x7fffffff
  sc.w.rl a3, a2, (a4)
  CHECK 20, a3, 0
  ld a0, 0(a1)
  CHECK 21, a0, 0x7fffffffaabbccdd
  /* ---- AMO D ---- */
  AMOD 30, amoswap.d, 0x1234, 0x8000000000000001, 0x8000000000000001
  AMOD 32, amoadd.d, 0x7fffffffffffffff, 1, 0x8000000000000000
  AMOD 34, amoxor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
  AMOD 36, amoand.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00
  AMOD 38, amoor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0
  AMOD 40, amomin.d, 0x8000000000000001, 1, 0x8000000000000001
  AMOD 42, amomin.d, 5, -3, -3
  AMOD 44, amomax.d, 0x8000000000000001, 1, 1
  AMOD 46, amominu.d, 0x8000000000000001, 1, 1
  AMOD 48, amomaxu.d, 0x8000000000000001, 1, 0x8000000000000001
  AMOD 50, amomaxu.d, 5, -3, -3
  AMOD 52, amoadd.d.aqrl, 5, -6, -1
  /* ---- AMO W: rd = sext(old word), neighbour untouched, rs2 upper bits ignored ---- */
  AMOW 60, amoswap.w, 0x80000001, 0xffffffff00000002, 0x00000002
  AMOW 62, amoadd.w, 0x80000001, 0x7fffffff, 0x00000000
  AMOW 64, amoadd.w, 0x7fffffff, 1, 0x80000000
  AMOW 66, amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
  AMOW 68, amoand.w, 0xff00ff00, 0x0ff00ff0, 0x0f000f00
  AMOW 70, amoor.w, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0
  AMOW 72, amomin.w, 0x80000001, 0xffffffff00000001, 0x80000001
  AMOW 74, amomin.w, 1, 0x00000000ffffffff, 0xffffffff   /* -1 as a word */
  AMOW 76, amomax.w, 0x80000001, 0xffffffff00000001, 0x00000001
  AMOW 78, amomax.w, 0xfffffffe, 0x00000000ffffffff, 0xffffffff
  AMOW 80, amominu.w, 0x80000001, 0xffffffff00000001, 0x00000001
  AMOW 82, amomaxu.w, 0x80000001, 0xffffffff00000001, 0x80000001
  AMOW 84, amomaxu.w, 0x00000001, 0x00000000ffffffff, 0xffffffff
  AMOW 86, amoswap.w.aq, 0x7fffffff, 0x12345678, 0x12345678
  /* rd == x0: memory still updated */
  la a1, amo
  li a2, 10
  sd a2, 0(a1)
  li a2, 5
  amoadd.d x0, a2, (a1)
  ld a0, 0(a1)
  CHECK 90, a0, 15
  /* rd == rs2: rd gets the old value, memory the original rs2 */
  li a2, 99
  amoswap.d a2, a2, (a1)
  CHECK 91, a2, 15
  ld a0, 0(a1)
  CHECK 92, a0, 99
  j pass

  .data
  .align 6
word: .dword 0
  .align 6
amo:  .dword 0, 0
  .align 12
far:  .dword 0
