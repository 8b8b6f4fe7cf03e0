/* mcsr.S - machine information and WARL CSRs as the suites read them
 * (riscv-tests mcsr/csr, arch-test trap prologue):
 *  - misa: MXL = 2 (RV64) and the extensions A C D F I M S U;
 *  - mhartid 0 on hart 0; mvendorid, marchid, mimpid, mconfigptr readable,
 *    and read-only: writing them is illegal (CSR address bits 11:10 = 3,
 *    priv spec 2.1); a CSRRS with a zero-valued rs1 other than x0 writes
 *    mtvec/mepc without trapping;
 *  - mideleg: MEIP/MTIP/MSIP are read-only zero (3.1.8);
 *  - last (QEMU 7.2 gets these wrong): medeleg[11] (ECALL from M) read-only
 *    zero; mcounteren, scounteren and mcountinhibit are 32-bit registers;
 *    pmpaddr holds address bits 55:2 only (3.7.1, 54 bits on RV64); CSRRS
 *    with a zero-valued rs1 other than x0 on a read-only CSR is illegal. */
#include "common.h"

#define EXT(c) (1 << ((c) - 'A'))

main:
  csrr a0, misa
  srli a1, a0, 62
  CHECK 2, a1, 2
  li t0, EXT('A') | EXT('C') | EXT('D') | EXT('F') | EXT('I') | EXT('M') | EXT('S') | EXT('U')
  and a1, a0, t0
  CHECKR 3, a1, t0
  csrr a0, mhartid
  CHECK 4, a0, 0
  li gp, 5
  csrr a0, mimpid
  csrr a0, marchid
  csrr a0, mvendorid
  csrr a0, 0xf15                  /* mconfigptr */
  li t0, 0
  csrs mtvec, t0
  csrs mepc, t0

  EXPECT_TRAP 1f
  csrw mvendorid, zero
  FAILNOW 6
1:CHECK_TRAP 7, CAUSE_ILLEGAL

  li t0, -1
  csrw mideleg, t0
  csrr a0, mideleg
  csrw mideleg, zero
  li t1, MIP_MSIP | MIP_MTIP | MIP_MEIP
  and a0, a0, t1
  CHECK 10, a0, 0

  /* WARL widths, in one check (each is a QEMU 7.2 deviation) */
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  csrw medeleg, zero
  li t1, 1 << CAUSE_ECALL_M
  and s0, a0, t1
  csrw mcounteren, t0
  csrr a0, mcounteren
  csrw mcounteren, zero
  srli a0, a0, 32
  or s0, s0, a0
  csrw scounteren, t0
  csrr a0, scounteren
  csrw scounteren, zero
  srli a0, a0, 32
  or s0, s0, a0
  csrw mcountinhibit, t0
  csrr a0, mcountinhibit
  csrw mcountinhibit, zero
  srli a0, a0, 32
  or s0, s0, a0
  csrr s1, pmpaddr1
  csrw pmpaddr1, t0
  csrr a0, pmpaddr1
  csrw pmpaddr1, s1
  srli a0, a0, 54
  or s0, s0, a0
  CHECK 30, s0, 0

  /* CSRRS with rs1 != x0 is a write even when rs1 holds 0 (unpriv 9.1): on
   * a read-only CSR it is illegal (QEMU 7.2 does not trap) */
  li a0, 0
  EXPECT_TRAP 1f
  csrrs a0, mhartid, a0
  FAILNOW 31
1:CHECK_TRAP 32, CAUSE_ILLEGAL
  j pass
