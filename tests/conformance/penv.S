/* penv.S - what the riscv-tests "p" environment's reset code does, checked
 * step by step: CSR writes that may trap (mnstatus of Smrnmi, which we do not
 * have) with mtvec pointing at the next instruction; satp = 0; PMP entry 0
 * NAPOT over 2^56 bytes (pmpaddr0 = 2^53 - 1) that lets U-mode run from RAM;
 * medeleg/mideleg = 0 and the delegation set used when a test brings an
 * S-mode handler; csrwi mstatus, 0 (UXL/SXL stay 2 = 64-bit, priv spec
 * 3.1.6.2); the RV64S init (MPP = S, SSIP/STIP delegated); FS enabled and
 * fcsr cleared; MRET into U with a0 = mhartid; ECALL from U (cause 8) and
 * EBREAK from U delegated to S (cause 3). It reports PASS the way those tests
 * do: two 32-bit stores to tohost (value, then the upper half). */
#include "common.h"

#define CSR_MNSTATUS 0x744
#define PENV_DELEG ((1 << CAUSE_LOAD_PAGE) | (1 << CAUSE_STORE_PAGE) | (1 << CAUSE_FETCH_PAGE) | \
                    (1 << CAUSE_MISALIGNED_FETCH) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_BREAKPOINT))

main:
  li gp, 2
  /* INIT_RNMI: may trap; lands on the next instruction either way */
  la t0, 1f
  csrw mtvec, t0
  csrwi CSR_MNSTATUS, 8
  .align 2
1:la t0, 1f
  csrw mtvec, t0
  csrwi satp, 0
  .align 2
1:la t0, 1f
  csrw mtvec, t0
  li t0, (1 << 53) - 1
  csrw pmpaddr0, t0
  li t0, 0x1f                     /* NAPOT | X | W | R */
  csrw pmpcfg0, t0
  .align 2
1:csrwi mie, 0
  la t0, 1f
  csrw mtvec, t0
  csrwi medeleg, 0
  csrwi mideleg, 0
  .align 2
1:la t0, m_trap
  csrw mtvec, t0
  csrr a0, pmpaddr0
  CHECK 3, a0, (1 << 53) - 1
  csrr a0, pmpcfg0
  andi a0, a0, 0xff
  CHECK 4, a0, 0x1f
  csrr a0, satp
  CHECK 5, a0, 0
  li t0, PENV_DELEG
  csrw medeleg, t0
  csrr a0, medeleg
  CHECK 6, a0, PENV_DELEG
  csrwi medeleg, 0

  csrwi mstatus, 0
  csrr a0, mstatus
  CHECK 7, a0, 0xa00000000        /* SXL = UXL = 2, all else 0 */
  /* RVTEST_RV64S init */
  li a0, MSTATUS_MPP_S
  csrs mstatus, a0
  li a0, MIP_SSIP | MIP_STIP
  csrs mideleg, a0
  csrr a0, mideleg
  andi a0, a0, MIP_SSIP | MIP_STIP | MIP_SEIP   /* (QEMU's H extension hard-wires VS bits) */
  CHECK 8, a0, MIP_SSIP | MIP_STIP
  csrr a0, mstatus
  li t0, MSTATUS_MPP
  and a0, a0, t0
  CHECK 9, a0, MSTATUS_MPP_S
  csrwi mideleg, 0
  /* RVTEST_FP_ENABLE */
  li a0, MSTATUS_FS_INITIAL
  csrs mstatus, a0
  csrwi fcsr, 0

  /* into U with a0 = mhartid; U runs from RAM under PMP entry 0 */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  la t0, 1f
  csrw mepc, t0
  csrr a0, mhartid
  li s0, 0
  EXPECT_TRAP 2f
  mret
1:mv s1, a0
  la t0, scratch
  li t1, 0x1234
  sd t1, 0(t0)
  ld s0, 0(t0)
  fld f1, 0(t0)
  fsd f1, 8(t0)
5:ecall
  FAILNOW 10
2:CHECK_TRAP 11, CAUSE_ECALL_U
  CHECK 12, s0, 0x1234
  CHECK 13, s1, 0
  la t0, scratch
  ld a0, 8(t0)
  CHECK 14, a0, 0x1234
  CHECK_VAR_ADDR 15, t_epc, 5b

  /* with an S handler: EBREAK from U goes to S (cause 3) */
  la t0, s_trap
  csrw stvec, t0
  li t0, PENV_DELEG
  csrw medeleg, t0
  SEXPECT_TRAP 3f
  EXPECT_TRAP 4f
  GOTO_PRIV PRV_U, 1f
1:ebreak
  FAILNOW 16
3:CHECK_STRAP 17, CAUSE_BREAKPOINT
  CHECK_VAR_ADDR 18, s_epc, 1b
  la t6, s_tval                   /* stval: the pc, or 0 (3.1.16 allows both) */
  ld a0, 0(t6)
  beqz a0, 5f
  CHECK_VAR_ADDR 19, s_tval, 1b
5:  ecall                           /* from S: not delegated, to M */
  FAILNOW 20
4:CHECK_TRAP 21, CAUSE_ECALL_S
  csrwi medeleg, 0

  /* PASS as riscv-tests write it: low word, then high word */
  fence
  li t0, 1
  la t1, tohost
  sw t0, 0(t1)
  sw zero, 4(t1)
1:j 1b

  .data
  .align 4
scratch: .dword 0, 0
