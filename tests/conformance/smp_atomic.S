/* smp_atomic.S - atomics between two harts (run with two CPUs, see the
 * VMSUP_RUN_ARGS line): both harts increment one counter with LR/SC retry
 * loops and another with AMOADD, N times each, interleaved however the
 * machine schedules them. Atomicity (unpriv spec 8.2, 8.4): no increment may
 * be lost, so each counter ends at 2N; an SC whose reservation another hart's
 * store broke must fail, and LR/SC loops must still make progress (8.3).
 * The harts also count the SC failures they saw, which may be any number.
 * VMSUP_RUN_ARGS: -c 2
 */
#include "common.h"

#define N 20000

main:
  csrr a0, mhartid
  bnez a0, secondary
  li gp, 2
  jal s0, work
  la t0, done
  li s2, 0
1:ld t1, 0(t0)                    /* wait for hart 1 (a hang is a timeout) */
  bnez t1, 2f
  j 1b
2:fence
  la t0, counter_lrsc
  ld a0, 0(t0)
  CHECK 3, a0, 2 * N
  la t0, counter_amo
  ld a0, 0(t0)
  CHECK 4, a0, 2 * N
  j pass

secondary:
  jal s0, work
  fence
  li t1, 1
  la t0, done
  amoswap.d zero, t1, (t0)
1:wfi
  j 1b

/* work: N LR/SC increments and N AMOADDs; returns through s0 */
work:
  li s1, N
  la a1, counter_lrsc
  la a2, counter_amo
  li a3, 1
1:lr.d t1, (a1)
  addi t1, t1, 1
  sc.d t2, t1, (a1)
  bnez t2, 1b
  amoadd.d zero, a3, (a2)
  addi s1, s1, -1
  bnez s1, 1b
  jr s0

  .data
  .align 6
counter_lrsc: .dword 0
  .align 6
counter_amo: .dword 0
  .align 6
done: .dword 0
