/* zicntr.S - Zicntr: cycle, time, instret (unprivileged spec ch. "Counters")
 * and their privilege gating by mcounteren/scounteren (priv spec 3.1.11,
 * 4.1.5): a read from S or U of a counter whose enable bit is clear raises
 * illegal-instruction. The time checks come last (from check 100): QEMU's spike
 * board does not implement the time CSR (it traps), vmsup must. */
#include "common.h"

/* Run "insn" at privilege prv; check n: it traps illegal (ill=1) or it
 * completes and the ecall that follows is reached (ill=0). */
.macro TRY_AT n, prv, ill, insn
  EXPECT_TRAP .Lback\@
  GOTO_PRIV \prv, .Lgo\@
.Lgo\@:
  \insn
  ecall
.Lback\@:
  .if \ill
  CHECK_TRAP \n, CAUSE_ILLEGAL
  .else
  .if \prv == PRV_S
  CHECK_TRAP \n, CAUSE_ECALL_S
  .else
  CHECK_TRAP \n, CAUSE_ECALL_U
  .endif
  .endif
.endm

main:
  /* ---- readable in M, monotonic ---- */
  rdcycle a0
  rdcycle a1
  sub a2, a1, a0
  li gp, 2
  bltz a2, fail
  /* instret increments by (at least) one per retired instruction */
  .option push
  .option norvc
  rdinstret a0
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  rdinstret a1
  .option pop
  sub a2, a1, a0
  li gp, 3
  li t0, 10
  blt a2, t0, fail
  /* loop of 1000 iterations: instret grows by at least 2000 */
  rdinstret a0
  li t1, 1000
1:addi t1, t1, -1
  bnez t1, 1b
  rdinstret a1
  sub a2, a1, a0
  li gp, 4
  li t0, 2000
  blt a2, t0, fail
  /* minstret / mcycle are writable in M; the counting continues from there */
  li a0, 0x100000000
  csrw minstret, a0
  csrr a1, minstret
  li gp, 5
  blt a1, a0, fail
  csrr a2, instret
  li gp, 6
  blt a2, a0, fail
  csrw mcycle, a0
  csrr a1, mcycle
  li gp, 7
  blt a1, a0, fail
  /* the user-level counter CSRs are read-only */
  li a0, 5
  EXPECT_TRAP 2f
  csrw cycle, a0
  FAILNOW 8
2:CHECK_TRAP 9, CAUSE_ILLEGAL
  EXPECT_TRAP 3f
  csrw instret, a0
  FAILNOW 10
3:CHECK_TRAP 11, CAUSE_ILLEGAL
  /* ---- gating by mcounteren (S and U) and scounteren (U) ---- */
  csrw mcounteren, zero
  csrw scounteren, zero
  TRY_AT 20, PRV_S, 1, "rdcycle a0"
  TRY_AT 21, PRV_S, 1, "rdinstret a0"
  TRY_AT 22, PRV_U, 1, "rdcycle a0"
  li a0, 1                       /* CY only */
  csrw mcounteren, a0
  TRY_AT 23, PRV_S, 0, "rdcycle a0"
  TRY_AT 24, PRV_S, 1, "rdinstret a0"
  TRY_AT 25, PRV_U, 1, "rdcycle a0"   /* scounteren.CY still 0 */
  li a0, 1
  csrw scounteren, a0
  TRY_AT 26, PRV_U, 0, "rdcycle a0"
  TRY_AT 27, PRV_U, 1, "rdinstret a0"
  li a0, 4                       /* IR only in mcounteren, all in scounteren */
  csrw mcounteren, a0
  li a1, 7
  csrw scounteren, a1
  TRY_AT 28, PRV_S, 0, "rdinstret a0"
  TRY_AT 29, PRV_U, 0, "rdinstret a0"
  TRY_AT 30, PRV_U, 1, "rdcycle a0"   /* mcounteren.CY gates U too */
  /* hpmcounter3 is gated by bit 3 the same way */
  csrw mcounteren, zero
  csrw scounteren, zero
  TRY_AT 31, PRV_S, 1, "csrr a0, hpmcounter3"
  li a0, 8
  csrw mcounteren, a0
  TRY_AT 32, PRV_S, 0, "csrr a0, hpmcounter3"
  TRY_AT 33, PRV_U, 1, "csrr a0, hpmcounter3"
  li a0, 8
  csrw scounteren, a0
  TRY_AT 34, PRV_U, 0, "csrr a0, hpmcounter3"
  /* the enables do not gate M itself */
  csrw mcounteren, zero
  rdcycle a0
  rdinstret a0
  /* ---- time (from check 100; QEMU spike lacks it) ---- */
  li t0, CLINT_MTIME
  ld a0, 0(t0)
  li gp, 100
  rdtime a1
  ld a2, 0(t0)
  li gp, 101
  blt a1, a0, fail               /* mtime before <= time <= mtime after */
  li gp, 102
  blt a2, a1, fail
  /* time advances (10 MHz): wait for a change */
  rdtime a0
  li t1, 10000000
4:rdtime a1
  bne a1, a0, 5f
  addi t1, t1, -1
  bnez t1, 4b
  FAILNOW 103
5:li gp, 104
  blt a1, a0, fail
  /* the time CSR is read-only */
  EXPECT_TRAP 6f
  csrw time, a0
  FAILNOW 105
6:CHECK_TRAP 106, CAUSE_ILLEGAL
  csrw mcounteren, zero
  csrw scounteren, zero
  TRY_AT 107, PRV_S, 1, "rdtime a0"
  li a0, 2                       /* TM */
  csrw mcounteren, a0
  TRY_AT 108, PRV_S, 0, "rdtime a0"
  TRY_AT 109, PRV_U, 1, "rdtime a0"
  li a0, 2
  csrw scounteren, a0
  TRY_AT 110, PRV_U, 0, "rdtime a0"
  j pass
