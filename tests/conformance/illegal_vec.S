/* illegal_vec.S - behaviours the riscv-tests rv64mi "illegal" program relies
 * on: an all-zero halfword is illegal with mtval 0 (or the instruction
 * bits); mtvec accepts vectored mode and a pending, enabled SSIP taken in M
 * enters at BASE + 4 * 1 (priv spec 3.1.7) with mcause = interrupt | 1; then,
 * with SSIP delegated and still pending, WFI in S-mode with TW = 0 neither
 * traps nor waits (an enabled interrupt is pending, 3.3.3), and the
 * interrupt is not taken in S while sstatus.SIE = 0 (3.1.6.1); sstatus.SUM
 * and MXR are writable from S; SFENCE.VMA and satp do not trap in S with
 * TVM = 0. */
#include "common.h"

main:
  EXPECT_TRAP 1f
  .option push
  .option norvc
  .word 0
  .option pop
  FAILNOW 2
1:CHECK_TRAP 3, CAUSE_ILLEGAL
  CHECK_VAR 4, t_tval, 0

  csrwi mip, MIP_SSIP
  csrwi mie, MIP_SSIP
  la t0, vec_table + 1
  csrrw s0, mtvec, t0
  csrr t0, mtvec
  andi t0, t0, 3
  CHECK 5, t0, 1
  la t6, t_count
  ld s5, 0(t6)
  li gp, 6
  li s2, 1000
  csrsi mstatus, MSTATUS_MIE
1:addi s2, s2, -1                 /* the interrupt must come before this ends */
  bnez s2, 1b
  FAILNOW 7

got_ssi:
  csrw mtvec, s0
  csrr a0, mcause
  CHECK 8, a0, CAUSE_INTR | IRQ_S_SOFT
  la t6, t_count
  ld a0, 0(t6)
  CHECKR 9, a0, s5                /* the vectored entry bypassed m_trap */

  /* S-mode: SSIP delegated and pending, SIE = 0 */
  csrwi mideleg, MIP_SSIP
  la t0, s_trap
  csrw stvec, t0
  li s1, 0
  EXPECT_TRAP 2f
  GOTO_PRIV PRV_S, 1f
1:wfi
  li s1, 1
  li t0, MSTATUS_SUM | MSTATUS_MXR
  csrc sstatus, t0
  csrs sstatus, t0
  csrr s3, sstatus
  csrc sstatus, t0
  sfence.vma
  csrr s4, satp
  li s1, 2
  ecall
  FAILNOW 10
2:CHECK_TRAP 11, CAUSE_ECALL_S
  CHECK 12, s1, 2
  la t6, s_count
  ld a0, 0(t6)
  CHECK 13, a0, 0                 /* SSIP not taken in S with SIE = 0 */
  li t0, MSTATUS_SUM | MSTATUS_MXR
  and s3, s3, t0
  CHECK 14, s3, MSTATUS_SUM | MSTATUS_MXR
  csrwi mip, 0
  csrwi mie, 0
  csrwi mideleg, 0
  j pass

  .align 8
  .option push
  .option norvc                   /* 4-byte entries */
vec_table:
  j vec_bad                       /* 0: exceptions */
  j got_ssi                       /* 1: SSI */
  .rept 14
  j vec_bad
  .endr
  .option pop
vec_bad:
  FAILNOW 15
