/* hartid.S - the boot state of a bare-metal ELF (issue 2): M-mode, pc = the
 * entry, a0 = 0 = mhartid; checks mhartid, misa (RV64 IMAFDC + S + U)
 * and mstatus.MPP reads back a legal value. */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  li s11, 1
  bnez a0, fail
  csrr t0, mhartid
  bnez t0, fail
  li s11, 2
  csrr t0, misa
  srli t1, t0, 62
  li t2, 2
  bne t1, t2, fail
  li t2, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
  and t1, t0, t2
  bne t1, t2, fail
  li s11, 3
  /* MRET is only legal in M: reading mstatus must work, and MPP = 2 is not kept */
  li t0, 1 << 12
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0        /* MPP = 1 (S) */
  csrr t1, mstatus
  srli t1, t1, 11
  andi t1, t1, 3
  li t2, 1
  bne t1, t2, fail
  HTIF_EXIT(0)
fail:
  la t1, tohost
  slli t0, s11, 1
  ori t0, t0, 1
  sd t0, 0(t1)
1:j 1b
  TOHOST_SECTION
