/* counters.S - Zicntr/Zicsr details the conformance suites check:
 *  - a CSR write to minstret is the value the next instruction reads (priv
 *    spec 3.1.10: the write suppresses the writing instruction's increment);
 *  - mcountinhibit (3.1.12): IR freezes minstret (and the instret view), CY
 *    freezes mcycle, TM (bit 1) is read-only zero;
 *  - CSRRWI/CSRRSI immediate forms on mscratch;
 *  - U-mode: writing the read-only cycle CSR is illegal even when
 *    mcounteren/scounteren let U read it, reading mstatus is illegal, and a
 *    trapping CSR instruction leaves rd unchanged (unpriv spec 9.1). */
#include "common.h"

main:
  /* mcycle: a written value is seen, time then moves on */
  li t0, 5000
  csrw mcycle, t0
  csrr a0, mcycle
  li gp, 4
  bltu a0, t0, fail
  li t0, 6000
  bgeu a0, t0, fail

  /* IR inhibits minstret */
  csrwi mcountinhibit, 4
  csrr a0, mcountinhibit
  CHECK 5, a0, 4
  csrr a0, minstret
  nop
  nop
  nop
  csrr a1, minstret
  CHECKR 6, a0, a1
  rdinstret a2
  CHECKR 7, a0, a2
  /* a write while inhibited is what is read back */
  li t0, 77
  csrw minstret, t0
  csrr a0, minstret
  CHECK 8, a0, 77
  csrwi mcountinhibit, 0
  csrr a0, minstret
  nop
  nop
  csrr a1, minstret
  sub a1, a1, a0
  CHECK 9, a1, 3

  /* immediate forms (mscratch holds the trap handler's save area: keep it) */
  csrr s3, mscratch
  csrw mscratch, zero
  csrrwi a0, mscratch, 0
  csrrwi a0, mscratch, 0xf
  CHECK 15, a0, 0
  csrrsi x0, mscratch, 0x10
  csrr a0, mscratch
  CHECK 16, a0, 0x1f
  csrrci a0, mscratch, 0x3
  CHECK 17, a0, 0x1f
  csrr a0, mscratch
  CHECK 18, a0, 0x1c
  csrw mscratch, s3

  /* U-mode: cycle readable but not writable; mstatus not readable */
  csrwi mcounteren, 7
  csrwi scounteren, 7
  li s0, 0
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_U, 2f
2:rdcycle a1
  rdinstret a1
  li s0, 1
  li a0, 255
  csrrw a0, cycle, x0
  FAILNOW 19
1:CHECK_TRAP 20, CAUSE_ILLEGAL
  CHECK 21, s0, 1
  CHECK 22, a0, 255
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_U, 2f
2:li a0, 255
  csrr a0, mstatus
  FAILNOW 23
1:CHECK_TRAP 24, CAUSE_ILLEGAL
  CHECK 25, a0, 255

  /* Last (QEMU 7.2 counts the writing instruction): the value written to
   * minstret is what the next instruction reads. */
  csrwi minstret, 0
  csrr a0, minstret
  CHECK 30, a0, 0
  li t0, 1000
  csrw minstret, t0
  nop
  nop
  csrr a0, minstret
  CHECK 31, a0, 1002

  /* CY inhibits mcycle (QEMU 7.2 keeps counting) */
  csrwi mcountinhibit, 1
  csrr a0, mcycle
  nop
  nop
  nop
  csrr a1, mcycle
  CHECKR 32, a0, a1
  rdcycle a2
  CHECKR 33, a0, a2
  csrwi mcountinhibit, 0
  csrr a0, mcycle
  nop
  nop
  csrr a1, mcycle
  CHECKNE 34, a1, 0
  li gp, 35
  bgeu a0, a1, fail

  /* TM (bit 1) is read-only zero (QEMU 7.2 lets it be set) */
  csrwi mcountinhibit, 2
  csrr a0, mcountinhibit
  CHECK 36, a0, 0
  j pass
