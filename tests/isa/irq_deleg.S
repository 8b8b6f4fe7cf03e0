/* irq_deleg.S - interrupts delegated to S-mode (priv spec 3.1.9 mideleg, 4.1.3
 * sip/sie, 4.1.1 sstatus SIE/SPIE/SPP, 4.1.2 stvec vectored): S software
 * interrupts (S writes sip.SSIP, or M writes mip.SSIP), supervisor timer
 * (M writes mip.STIP), SIE gating in S, always enabled in U, never taken in M,
 * SSI before STI, the non-delegated case, WFI in S woken by an interrupt. */
#include "common.h"

.macro MTIME reg
  li \reg, CLINT_MTIME
  ld \reg, 0(\reg)
.endm
.macro TIMER_OFF
  li t0, -1
  li t1, CLINT_MTIMECMP
  sd t0, 0(t1)
.endm

main:
  TIMER_OFF
  la t0, s_trap
  csrw stvec, t0
  csrw mie, zero
  li t0, MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  csrr a0, mideleg
  andi a0, a0, MIP_SSIP | MIP_STIP
  CHECK 2, a0, MIP_SSIP | MIP_STIP
  /* sie/sip are views of mie/mip for delegated interrupts */
  li t0, MIP_SSIP
  csrs sie, t0
  csrr a0, mie
  andi a0, a0, MIP_SSIP
  CHECK 3, a0, MIP_SSIP
  csrs mip, t0
  csrr a0, sip
  andi a0, a0, MIP_SSIP
  CHECK 4, a0, MIP_SSIP
  csrc sip, t0
  csrr a0, mip
  andi a0, a0, MIP_SSIP
  CHECK 5, a0, 0
  /* ---- S sets its own SSIP with SIE = 1: trap to S ---- */
  li t0, MSTATUS_SIE | MSTATUS_SPIE
  csrc mstatus, t0
  EXPECT_TRAP 1f
  SEXPECT_TRAP 2f
  GOTO_PRIV PRV_S, 3f
3:li t0, MSTATUS_SIE
  csrs sstatus, t0
  li t0, MIP_SSIP
  csrs sip, t0
4:FAILNOW 6                      /* taken before this instruction */
2:li t0, MIP_SSIP                /* S handler resumed here, in S */
  csrc sip, t0
  ecall
1:CHECK_TRAP 7, CAUSE_ECALL_S
  CHECK_STRAP 8, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR_ADDR 9, s_epc, 4b
  CHECK_VAR_MASK 10, s_status, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE
  CHECK_VAR 11, s_tval, 0
  /* ---- SIE = 0 in S: pending but not taken; not taken in M either ---- */
  la t0, s_count
  sd zero, 0(t0)
  la t0, t_count
  sd zero, 0(t0)
  li t0, MIP_SSIP
  csrs mip, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0               /* M with MIE = 1: a delegated interrupt is not for M */
  nop
  nop
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  CHECK_VAR 12, t_count, 0
  EXPECT_TRAP 5f
  GOTO_PRIV PRV_S, 6f
6:nop
  nop
  wfi                            /* pending and enabled in sie: returns */
  ecall
5:CHECK_TRAP 13, CAUSE_ECALL_S
  CHECK_VAR 14, s_count, 0
  /* ---- in U a delegated interrupt is taken whatever SIE is ---- */
  EXPECT_TRAP 7f
  SEXPECT_TRAP 8f
  GOTO_PRIV PRV_U, 9f
9:j 9b
8:li t0, MIP_SSIP                /* S handler resumed in S */
  csrc sip, t0
  ecall
7:CHECK_TRAP 15, CAUSE_ECALL_S
  CHECK_STRAP 16, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR_MASK 17, s_status, MSTATUS_SPP, 0
  CHECK_VAR_ADDR 18, s_epc, 9b
  /* ---- supervisor timer: M raises mip.STIP; S cannot clear it ---- */
  li t0, MIP_STIP
  csrs sie, t0
  csrs mip, t0
  EXPECT_TRAP 10f
  SEXPECT_TRAP 11f
  GOTO_PRIV PRV_S, 12f
12:li t0, MSTATUS_SIE
  csrs sstatus, t0
13:j 13b
11:li t0, MIP_STIP
  csrc sip, t0                   /* no effect: STIP is read-only in sip */
  ecall
10:CHECK_TRAP 19, CAUSE_ECALL_S
  CHECK_STRAP 20, CAUSE_INTR | IRQ_S_TIMER
  csrr a0, mip
  andi a0, a0, MIP_STIP
  CHECK 21, a0, MIP_STIP
  li t0, MIP_STIP
  csrc mip, t0
  csrr a0, mip
  andi a0, a0, MIP_STIP
  CHECK 22, a0, 0
  /* ---- SSI before STI when both are pending ---- */
  li t0, MIP_SSIP | MIP_STIP
  csrs mip, t0
  EXPECT_TRAP 14f
  SEXPECT_TRAP 15f
  GOTO_PRIV PRV_S, 16f
16:li t0, MSTATUS_SIE
  csrs sstatus, t0
17:j 17b
15:ecall
14:CHECK_STRAP 23, CAUSE_INTR | IRQ_S_SOFT
  li t0, MIP_SSIP
  csrc mip, t0
  EXPECT_TRAP 18f
  SEXPECT_TRAP 19f
  GOTO_PRIV PRV_S, 20f
20:li t0, MSTATUS_SIE
  csrs sstatus, t0
21:j 21b
19:ecall
18:CHECK_STRAP 24, CAUSE_INTR | IRQ_S_TIMER
  li t0, MIP_STIP
  csrc mip, t0
  /* ---- stvec vectored: interrupt n goes to BASE + 4n ---- */
  la t0, svec
  ori t0, t0, 1
  csrw stvec, t0
  la t0, vec_hit
  sd zero, 0(t0)
  li t0, MIP_STIP
  csrs mip, t0
  EXPECT_TRAP 22f
  SEXPECT_TRAP 23f
  GOTO_PRIV PRV_S, 24f
24:li t0, MSTATUS_SIE
  csrs sstatus, t0
25:j 25b
23:ecall
22:CHECK_STRAP 25, CAUSE_INTR | IRQ_S_TIMER
  CHECK_VAR 26, vec_hit, 5
  li t0, MIP_STIP
  csrc mip, t0
  li t0, MIP_SSIP
  csrs mip, t0
  EXPECT_TRAP 26f
  SEXPECT_TRAP 27f
  GOTO_PRIV PRV_S, 28f
28:li t0, MSTATUS_SIE
  csrs sstatus, t0
29:j 29b
27:li t0, MIP_SSIP
  csrc sip, t0
  ecall
26:CHECK_STRAP 27, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR 28, vec_hit, 1
  la t0, s_trap
  csrw stvec, t0
  /* ---- not delegated: SSIP in S goes to M (M-level enable rules: taken in
   * S whatever mstatus.MIE) ---- */
  csrw mideleg, zero
  li t0, MIP_SSIP
  csrs mip, t0
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  EXPECT_TRAP 30f
  GOTO_PRIV PRV_S, 31f
31:j 31b
30:CHECK_TRAP 29, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR_MASK 30, t_status, MSTATUS_MPP, MSTATUS_MPP_S
  li t0, MIP_SSIP
  csrc mip, t0
  /* ---- WFI in S woken by the machine timer (trap to M after the WFI) ---- */
  li t0, MIP_MTIP
  csrw mie, t0
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  addi t0, t0, 1000
  li t1, CLINT_MTIMECMP
  sd t0, 0(t1)
  EXPECT_TRAP 32f
  GOTO_PRIV PRV_S, 33f
33:wfi
34:j 33b
32:CHECK_TRAP 31, CAUSE_INTR | IRQ_M_TIMER
  la t0, t_epc
  ld t0, 0(t0)
  la t1, 33b
  beq t0, t1, 35f
  la t1, 34b
  beq t0, t1, 35f
  FAILNOW 32
35:TIMER_OFF
  csrw mie, zero
  /* ---- supervisor external: mip.SEIP is writable by M (priv spec 3.1.9) ---- */
  li t0, MIP_SEIP
  csrs mideleg, t0
  csrw mie, t0
  csrs mip, t0
  csrr a0, mip
  li t1, MIP_SEIP
  and a0, a0, t1
  CHECK 40, a0, MIP_SEIP
  EXPECT_TRAP 36f
  SEXPECT_TRAP 37f
  GOTO_PRIV PRV_S, 38f
38:li t0, MSTATUS_SIE
  csrs sstatus, t0
39:j 39b
37:ecall
36:CHECK_TRAP 41, CAUSE_ECALL_S
  CHECK_STRAP 42, CAUSE_INTR | 9
  li t0, MIP_SEIP
  csrc mip, t0
  csrr a0, mip
  li t1, MIP_SEIP
  and a0, a0, t1
  CHECK 43, a0, 0
  /* ---- bits of interrupts not delegated are read-only zero in sip/sie
   * (priv spec 4.1.3) ---- */
  csrw mideleg, zero
  csrw mie, zero
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrs sie, t0
  csrr a0, sie
  CHECK 60, a0, 0
  csrr a0, mie
  CHECK 61, a0, 0
  li t0, MIP_SSIP
  csrs mip, t0
  csrr a0, sip
  andi a0, a0, MIP_SSIP
  CHECK 62, a0, 0
  csrc mip, t0
  /* delegated but masked by sie: not taken in S with SIE = 1 */
  li t0, MIP_SSIP
  csrw mideleg, t0
  csrs mip, t0
  la t0, s_count
  sd zero, 0(t0)
  EXPECT_TRAP 50f
  GOTO_PRIV PRV_S, 51f
51:li t0, MSTATUS_SIE
  csrs sstatus, t0
  nop
  nop
  ecall
50:CHECK_TRAP 63, CAUSE_ECALL_S
  CHECK_VAR 64, s_count, 0
  li t0, MIP_SSIP
  csrc mip, t0
  csrw mideleg, zero
  /* ---- SRET that sets SIE with a delegated interrupt pending: taken at the
   * SRET target, sepc = that target ---- */
  li t0, MSTATUS_SIE
  csrc mstatus, t0               /* so S starts with interrupts masked */
  li t0, MIP_SSIP
  csrw mideleg, t0
  csrw mie, t0
  csrs mip, t0
  EXPECT_TRAP 52f
  SEXPECT_TRAP 53f
  GOTO_PRIV PRV_S, 54f
54:li t0, MSTATUS_SIE
  csrc sstatus, t0
  li t0, MSTATUS_SPIE | MSTATUS_SPP
  csrs sstatus, t0
  la t0, 55f
  csrw sepc, t0
  sret
55:FAILNOW 65
53:li t0, MIP_SSIP
  csrc sip, t0
  ecall
52:CHECK_TRAP 66, CAUSE_ECALL_S
  CHECK_STRAP 67, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR_ADDR 68, s_epc, 55b
  csrw mie, zero
  csrw mideleg, zero
  /* ---- priority among S interrupts: SEI > SSI > STI. Known QEMU 7.2
   * deviation: without AIA it takes the lowest-numbered (SSI), failing 91. ---- */
  li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  csrw mie, t0
  csrs mip, t0
  EXPECT_TRAP 40f
  SEXPECT_TRAP 41f
  GOTO_PRIV PRV_S, 42f
42:li t0, MSTATUS_SIE
  csrs sstatus, t0
43:j 43b
41:ecall
40:CHECK_TRAP 90, CAUSE_ECALL_S
  CHECK_STRAP 91, CAUSE_INTR | 9
  li t0, MIP_SEIP
  csrc mip, t0
  EXPECT_TRAP 44f
  SEXPECT_TRAP 45f
  GOTO_PRIV PRV_S, 46f
46:li t0, MSTATUS_SIE
  csrs sstatus, t0
47:j 47b
45:ecall
44:CHECK_STRAP 92, CAUSE_INTR | IRQ_S_SOFT
  li t0, MIP_SSIP | MIP_STIP
  csrc mip, t0
  csrw mie, zero
  csrw mideleg, zero
  j pass

.macro VSTUB n
vstub\n:
  csrrw sp, sscratch, sp
  sd t0, SAVE_T0(sp)
  sd t1, SAVE_T1(sp)
  la t0, vec_hit
  li t1, \n
  sd t1, 0(t0)
  ld t0, SAVE_T0(sp)
  ld t1, SAVE_T1(sp)
  csrrw sp, sscratch, sp
  j s_trap
.endm
  VSTUB 1
  VSTUB 5
  VSTUB 9

  .option push
  .option norvc
  .align 8
svec:
  j s_trap
  j vstub1
  j s_trap
  j s_trap
  j s_trap
  j vstub5
  j s_trap
  j s_trap
  j s_trap
  j vstub9
  .option pop

  .data
  .align 3
vec_hit: .dword 0
