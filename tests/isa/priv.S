/* priv.S - privilege transitions (priv spec 3.3.2 MRET/SRET, 3.1.6.1 stack of
 * MIE/MPIE/MPP and SIE/SPIE/SPP, 3.1.8 medeleg, 3.1.7 mtvec, 4.1.2 stvec),
 * CSR privilege checks (2.1: the CSR address encodes the lowest privilege),
 * and the trap-virtualisation bits TVM, TW, TSR (3.1.6.5). */
#include "common.h"

main:
  la t0, s_trap
  csrw stvec, t0
  /* ---- MRET into M: MIE = MPIE, MPIE = 1, MPP = U (least privileged) ---- */
  li t0, MSTATUS_MPIE | MSTATUS_MIE
  csrc mstatus, t0
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  la t0, 1f
  csrw mepc, t0
  mret
1:csrr a0, mstatus
  li t1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and a0, a0, t1
  CHECK 2, a0, MSTATUS_MPIE
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  la t0, 2f
  csrw mepc, t0
  mret                           /* MPIE = 1 now: MIE becomes 1 */
2:csrr a0, mstatus
  li t1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and a0, a0, t1
  CHECK 3, a0, MSTATUS_MPIE | MSTATUS_MIE
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  /* ---- MRET to S and U lands at mepc in that mode (ecall tells which) ---- */
  EXPECT_TRAP 3f
  GOTO_PRIV PRV_S, 4f
4:ecall
3:CHECK_TRAP 4, CAUSE_ECALL_S
  CHECK_VAR_ADDR 5, t_epc, 4b
  EXPECT_TRAP 5f
  GOTO_PRIV PRV_U, 6f
6:ecall
5:CHECK_TRAP 6, CAUSE_ECALL_U
  /* ---- SRET: to S with SPP = 1, to U with SPP = 0; SIE = SPIE, SPIE = 1, SPP = U ---- */
  EXPECT_TRAP 9f
  GOTO_PRIV PRV_S, 10f
10:li t0, MSTATUS_SPIE | MSTATUS_SIE
  csrc sstatus, t0
  SRET_TO 1, 11f
11:csrr a0, sstatus
  li t1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and a0, a0, t1
  li t1, MSTATUS_SPIE
  bne a0, t1, 12f                /* report from M */
  li t0, MSTATUS_SPIE
  csrs sstatus, t0
  SRET_TO 1, 13f
13:csrr a0, sstatus              /* SIE = SPIE = 1 */
  li t1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and a0, a0, t1
  li t1, MSTATUS_SPIE | MSTATUS_SIE
  bne a0, t1, 14f
  li t0, MSTATUS_SIE
  csrc sstatus, t0
  SRET_TO 0, 15f                 /* to U */
15:ecall
12:FAILNOW 9
14:FAILNOW 10
9:CHECK_TRAP 11, CAUSE_ECALL_U
  CHECK_VAR_ADDR 12, t_epc, 15b
  /* ---- medeleg: exceptions from U and S go to S; M-mode traps stay in M ---- */
  li t0, (1 << CAUSE_ECALL_U) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ILLEGAL) | (1 << CAUSE_LOAD_ACCESS)
  csrw medeleg, t0
  csrr a0, medeleg
  CHECK 20, a0, (1 << CAUSE_ECALL_U) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ILLEGAL) | (1 << CAUSE_LOAD_ACCESS)
  /* ecall from U -> S handler; S then ecalls to M (cause 9 not delegated) */
  li t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
  csrc mstatus, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0               /* SIE = 1 before the trap: SPIE must catch it */
  EXPECT_TRAP 16f
  SEXPECT_TRAP 17f
  GOTO_PRIV PRV_U, 18f
18:ecall
  FAILNOW 21
17:ecall                         /* in S, after the S handler */
16:CHECK_TRAP 22, CAUSE_ECALL_S
  CHECK_STRAP 23, CAUSE_ECALL_U
  CHECK_VAR_ADDR 24, s_epc, 18b
  CHECK_VAR 25, s_tval, 0
  CHECK_VAR_MASK 26, s_status, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPIE
  /* the delegated trap left M's trap CSRs alone: mepc is the S ecall */
  CHECK_VAR_ADDR 27, t_epc, 17b
  /* ebreak from S -> S handler, SPP = S */
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  EXPECT_TRAP 19f
  SEXPECT_TRAP 20f
  GOTO_PRIV PRV_S, 21f
21:ebreak
  FAILNOW 28
20:ecall
19:CHECK_TRAP 29, CAUSE_ECALL_S
  CHECK_STRAP 30, CAUSE_BREAKPOINT
  CHECK_VAR_ADDR 31, s_epc, 21b
  CHECK_VAR_MASK 32, s_status, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP
  /* illegal instruction in U -> S, stval = 0 or the instruction */
  EXPECT_TRAP 22f
  SEXPECT_TRAP 23f
  GOTO_PRIV PRV_U, 24f
24:.word 0x0000000b
  FAILNOW 33
23:ecall
22:CHECK_TRAP 34, CAUSE_ECALL_S
  CHECK_STRAP 35, CAUSE_ILLEGAL
  CHECK_VAR_ADDR 36, s_epc, 24b
  la t0, s_tval
  ld t0, 0(t0)
  beqz t0, 25f
  CHECK 37, t0, 0x0000000b
25:
  /* load access fault in S -> S, stval = address */
  EXPECT_TRAP 26f
  SEXPECT_TRAP 27f
  GOTO_PRIV PRV_S, 28f
28:li a1, 0x20
  ld a0, 0(a1)
  FAILNOW 38
27:ecall
26:CHECK_STRAP 39, CAUSE_LOAD_ACCESS
  CHECK_VAR 40, s_tval, 0x20
  /* a delegated cause raised in M still traps to M */
  EXPECT_TRAP 29f
  ebreak
29:CHECK_TRAP 41, CAUSE_BREAKPOINT
  /* a cause not delegated (ecall from S) goes to M even from S: shown above.
   * ecall from U is not delegated once its bit is cleared: */
  csrw medeleg, zero
  EXPECT_TRAP 30f
  GOTO_PRIV PRV_U, 31f
31:ecall
30:CHECK_TRAP 42, CAUSE_ECALL_U
  /* ---- mtvec vectored mode: exceptions still go to BASE ---- */
  la t0, mvec
  ori t0, t0, 1
  csrw mtvec, t0
  csrr a0, mtvec
  CHECKR 43, a0, t0
  EXPECT_TRAP 32f
  ecall
32:CHECK_TRAP 44, CAUSE_ECALL_M
  la t0, m_trap
  csrw mtvec, t0
  /* stvec vectored: a delegated exception goes to BASE */
  li t0, 1 << CAUSE_ECALL_U
  csrw medeleg, t0
  la t0, svec
  ori t0, t0, 1
  csrw stvec, t0
  EXPECT_TRAP 33f
  SEXPECT_TRAP 34f
  GOTO_PRIV PRV_U, 35f
35:ecall
34:ecall
33:CHECK_STRAP 45, CAUSE_ECALL_U
  la t0, s_trap
  csrw stvec, t0
  csrw medeleg, zero
  /* ---- CSR privilege: S may not touch M CSRs, U may not touch S CSRs ---- */
  .set csrn, 100                 /* checks 100.. (one per CSR, in list order) */
  .irp csr, mstatus, mscratch, misa, mepc, medeleg, mtvec, pmpcfg0
  EXPECT_TRAP 36f
  GOTO_PRIV PRV_S, 37f
37:csrr a0, \csr
  ecall
36:CHECK_TRAP csrn, CAUSE_ILLEGAL
  .set csrn, csrn + 1
  .endr
  .set csrn, 110                 /* checks 110.. */
  .irp csr, sstatus, sscratch, stvec, satp, sepc, sip
  EXPECT_TRAP 38f
  GOTO_PRIV PRV_U, 39f
39:csrr a0, \csr
  ecall
38:CHECK_TRAP csrn, CAUSE_ILLEGAL
  .set csrn, csrn + 1
  .endr
  /* S may use its own CSRs */
  EXPECT_TRAP 40f
  GOTO_PRIV PRV_S, 41f
41:csrr t1, sscratch
  csrw sscratch, t1              /* (keeps the S handler's save-area pointer) */
  csrr a0, sstatus
  csrr a0, stvec
  ecall
40:CHECK_TRAP 52, CAUSE_ECALL_S
  /* writing a read-only CSR from S (cycle is readable there with mcounteren) */
  li t0, 7
  csrw mcounteren, t0
  EXPECT_TRAP 42f
  GOTO_PRIV PRV_S, 43f
43:csrr a0, cycle
  csrw cycle, a0
  ecall
42:CHECK_TRAP 53, CAUSE_ILLEGAL
  /* ---- TVM: satp and SFENCE.VMA trap in S when set ---- */
  li t0, MSTATUS_TVM
  csrs mstatus, t0
  EXPECT_TRAP 44f
  GOTO_PRIV PRV_S, 45f
45:csrr a0, satp
  ecall
44:CHECK_TRAP 60, CAUSE_ILLEGAL
  EXPECT_TRAP 46f
  GOTO_PRIV PRV_S, 47f
47:csrw satp, zero
  ecall
46:CHECK_TRAP 61, CAUSE_ILLEGAL
  EXPECT_TRAP 48f
  GOTO_PRIV PRV_S, 49f
49:sfence.vma
  ecall
48:CHECK_TRAP 62, CAUSE_ILLEGAL
  csrr a0, satp                  /* TVM does not affect M */
  sfence.vma
  li t0, MSTATUS_TVM
  csrc mstatus, t0
  EXPECT_TRAP 50f
  GOTO_PRIV PRV_S, 51f
51:csrr a0, satp
  csrw satp, zero
  sfence.vma
  sfence.vma a0, zero
  ecall
50:CHECK_TRAP 63, CAUSE_ECALL_S
  /* ---- TSR: SRET traps in S when set ---- */
  li t0, MSTATUS_TSR
  csrs mstatus, t0
  EXPECT_TRAP 52f
  GOTO_PRIV PRV_S, 53f
53:la t0, 54f
  csrw sepc, t0
  sret
  FAILNOW 64
54:FAILNOW 65
52:CHECK_TRAP 66, CAUSE_ILLEGAL
  li t0, MSTATUS_SPP             /* SRET still works in M with TSR = 1 */
  csrs mstatus, t0
  la t0, 55f
  csrw sepc, t0
  EXPECT_TRAP 56f
  sret                           /* M -> S */
55:ecall
56:CHECK_TRAP 67, CAUSE_ECALL_S
  li t0, MSTATUS_TSR
  csrc mstatus, t0
  /* ---- TW: WFI traps in S when set ---- */
  li t0, MSTATUS_TW
  csrs mstatus, t0
  EXPECT_TRAP 57f
  GOTO_PRIV PRV_S, 58f
58:wfi
  ecall
57:CHECK_TRAP 70, CAUSE_ILLEGAL
  li t0, MSTATUS_TW
  csrc mstatus, t0
  /* TW = 0: WFI in S waits for a pending interrupt; make one pending that is
   * enabled in sie but masked by SIE = 0, so WFI returns without a trap */
  li t0, MIP_SSIP
  csrs mideleg, t0
  csrs mie, t0
  csrs mip, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  EXPECT_TRAP 59f
  GOTO_PRIV PRV_S, 60f
60:wfi
  ecall
59:CHECK_TRAP 71, CAUSE_ECALL_S
  li t0, MIP_SSIP
  csrc mip, t0
  csrc mie, t0
  csrc mideleg, t0
  /* ---- ecall from S delegated (medeleg bit 9): S handles its own ecall ---- */
  li t0, 1 << CAUSE_ECALL_S
  csrw medeleg, t0
  EXPECT_TRAP 61f
  SEXPECT_TRAP 62f
  GOTO_PRIV PRV_S, 63f
63:ecall
  FAILNOW 72
62:ebreak                        /* not delegated: back to M */
61:CHECK_TRAP 73, CAUSE_BREAKPOINT
  CHECK_STRAP 74, CAUSE_ECALL_S
  CHECK_VAR_ADDR 75, s_epc, 63b
  CHECK_VAR_MASK 76, s_status, MSTATUS_SPP, MSTATUS_SPP
  /* ... and a delegated page/access fault from U reaches S with stval */
  li t0, 1 << CAUSE_STORE_ACCESS
  csrw medeleg, t0
  EXPECT_TRAP 64f
  SEXPECT_TRAP 65f
  li a1, 0x28
  GOTO_PRIV PRV_U, 66f
66:sd a1, 0(a1)
  FAILNOW 77
65:ebreak
64:CHECK_TRAP 78, CAUSE_BREAKPOINT
  CHECK_STRAP 79, CAUSE_STORE_ACCESS
  CHECK_VAR 80, s_tval, 0x28
  CHECK_VAR_MASK 81, s_status, MSTATUS_SPP, 0
  csrw medeleg, zero
  /* MRET to a mode below M clears MPRV (priv 1.12, 3.1.6.3).
   * Known QEMU 7.2 deviation: MPRV stays set, failing check 96. */
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  EXPECT_TRAP 97f
  GOTO_PRIV PRV_S, 98f
98:ecall
97:CHECK_TRAP 95, CAUSE_ECALL_S
  CHECK_VAR_MASK 96, t_status, MSTATUS_MPRV, 0
  j pass

  .align 8
mvec:
  j m_trap                       /* exceptions: BASE */
  .rept 15
  FAILNOW 90
  .endr
  .align 8
svec:
  j s_trap
