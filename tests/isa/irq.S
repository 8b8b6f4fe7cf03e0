/* irq.S - interrupts (priv spec 3.1.9 mip/mie, 3.1.6.1 global enables,
 * 3.3.3 WFI, 3.1.7 mtvec vectored; CLINT msip/mtimecmp/mtime):
 * machine timer and software interrupts, mcause interrupt bit, mepc, WFI
 * wake-up with and without global enable, priority when several are pending,
 * interrupts disabled by MIE in M but always enabled in lower modes,
 * vectored mtvec. Delegation to S is in irq_deleg.S. */
#include "common.h"

/* reg = mtime */
.macro MTIME reg
  li \reg, CLINT_MTIME
  ld \reg, 0(\reg)
.endm
/* mtimecmp = mtime + delta (delta = -1 - mtime: never) */
.macro TIMER_IN delta
  li t0, CLINT_MTIME
  ld t0, 0(t0)
  li t1, \delta
  add t0, t0, t1
  li t1, CLINT_MTIMECMP
  sd t0, 0(t1)
.endm
.macro TIMER_OFF
  li t0, -1
  li t1, CLINT_MTIMECMP
  sd t0, 0(t1)
.endm
.macro MSIP_SET v
  li t0, CLINT_MSIP
  li t1, \v
  sw t1, 0(t0)
.endm
/* spin until an armed trap arrives; fail check n after ~0.5 s of mtime */
.macro WAIT_IRQ n
  MTIME s11
  li t0, 5000000
  add s11, s11, t0
.Lw\@:
  MTIME t0
  blt t0, s11, .Lw\@
  FAILNOW \n
.endm

main:
  TIMER_OFF
  MSIP_SET 0
  /* mip.MTIP follows mtime >= mtimecmp */
  csrr a0, mip
  andi a0, a0, MIP_MTIP | MIP_MSIP
  CHECK 2, a0, 0
  li t0, CLINT_MTIMECMP
  sd zero, 0(t0)
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK 3, a0, MIP_MTIP
  li t0, MIP_MTIP
  csrc mip, t0                   /* MTIP is read-only in mip */
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK 4, a0, MIP_MTIP
  TIMER_OFF
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK 5, a0, 0
  /* ---- machine timer interrupt, woken from WFI ---- */
  la t0, t_count
  sd zero, 0(t0)
  li t0, MIP_MTIP
  csrs mie, t0
  TIMER_IN 2000                  /* 200 us */
  EXPECT_TRAP 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
2:wfi
  j 2b
1:CHECK_TRAP 6, CAUSE_INTR | IRQ_M_TIMER
  la t0, t_epc                   /* mepc: the WFI or the jump after it */
  ld t0, 0(t0)
  la t1, 2b
  beq t0, t1, 3f
  addi t1, t1, 4
  beq t0, t1, 3f
  FAILNOW 7
3:CHECK_VAR_MASK 8, t_status, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MIE, MSTATUS_MPIE | MSTATUS_MPP_M
  CHECK_VAR 9, t_count, 1
  TIMER_OFF
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK 10, a0, 0
  /* ---- globally disabled in M: pending but not taken; WFI still wakes ---- */
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  li t0, CLINT_MTIMECMP
  sd zero, 0(t0)
  la t0, t_count
  sd zero, 0(t0)
  li t1, 1000
4:addi t1, t1, -1
  bnez t1, 4b
  wfi                            /* pending & enabled in mie: must not stall */
  CHECK_VAR 11, t_count, 0
  /* enabling MIE takes it at once: mepc = the instruction after the csrs */
  EXPECT_TRAP 5f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
6:FAILNOW 12
5:CHECK_TRAP 13, CAUSE_INTR | IRQ_M_TIMER
  CHECK_VAR_ADDR 14, t_epc, 6b
  /* mie.MTIE = 0: not taken even with MIE = 1 */
  li t0, MIP_MTIP
  csrc mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  nop
  nop
  csrc mstatus, t0
  CHECK_VAR 15, t_count, 1
  /* ---- lower privilege: M interrupts are taken regardless of MIE ---- */
  li t0, MSTATUS_MIE | MSTATUS_MPIE
  csrc mstatus, t0
  li t0, MIP_MTIP
  csrs mie, t0
  EXPECT_TRAP 7f
  GOTO_PRIV PRV_U, 8f
8:j 8b
7:CHECK_TRAP 16, CAUSE_INTR | IRQ_M_TIMER
  CHECK_VAR_MASK 17, t_status, MSTATUS_MPP, 0
  EXPECT_TRAP 9f
  GOTO_PRIV PRV_S, 10f
10:j 10b
9:CHECK_TRAP 18, CAUSE_INTR | IRQ_M_TIMER
  CHECK_VAR_MASK 19, t_status, MSTATUS_MPP, MSTATUS_MPP_S
  TIMER_OFF
  /* ---- machine software interrupt through CLINT msip ---- */
  MSIP_SET 1
  csrr a0, mip
  andi a0, a0, MIP_MSIP
  CHECK 20, a0, MIP_MSIP
  li t0, MIP_MSIP
  csrs mie, t0
  EXPECT_TRAP 11f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 21
11:CHECK_TRAP 22, CAUSE_INTR | IRQ_M_SOFT
  MSIP_SET 0
  csrr a0, mip
  andi a0, a0, MIP_MSIP
  CHECK 23, a0, 0
  /* ---- priority: MSI before MTI; then MTI ---- */
  csrw mie, zero
  MSIP_SET 1
  li t0, CLINT_MTIMECMP
  sd zero, 0(t0)
  li t0, MIP_MSIP | MIP_MTIP
  csrs mie, t0
  EXPECT_TRAP 12f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 24
12:CHECK_TRAP 25, CAUSE_INTR | IRQ_M_SOFT
  MSIP_SET 0
  EXPECT_TRAP 13f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 26
13:CHECK_TRAP 27, CAUSE_INTR | IRQ_M_TIMER
  TIMER_OFF
  /* ---- vectored mtvec: interrupt n goes to BASE + 4n ---- */
  la t0, mvec
  ori t0, t0, 1
  csrw mtvec, t0
  la t0, vec_hit
  sd zero, 0(t0)
  csrw mie, zero
  li t0, MIP_MTIP
  csrs mie, t0
  TIMER_IN 1000
  EXPECT_TRAP 17f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
18:wfi
  j 18b
17:CHECK_TRAP 40, CAUSE_INTR | IRQ_M_TIMER
  CHECK_VAR 41, vec_hit, 7
  TIMER_OFF
  csrw mie, zero
  li t0, MIP_MSIP
  csrs mie, t0
  MSIP_SET 1
  EXPECT_TRAP 19f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 42
19:CHECK_TRAP 43, CAUSE_INTR | IRQ_M_SOFT
  CHECK_VAR 44, vec_hit, 3
  MSIP_SET 0
  /* exceptions still use BASE in vectored mode */
  la t0, vec_hit
  sd zero, 0(t0)
  EXPECT_TRAP 20f
  ecall
20:CHECK_TRAP 45, CAUSE_ECALL_M
  CHECK_VAR 46, vec_hit, 0
  la t0, m_trap
  csrw mtvec, t0
  csrw mie, zero
  /* ---- WFI sleeping with MIE = 0 wakes when the timer fires later ---- */
  la t0, t_count
  sd zero, 0(t0)
  csrw mie, zero
  li t0, MIP_MTIP
  csrs mie, t0
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  TIMER_IN 200000                /* 20 ms; a host stall that long only makes
                                    the wait shorter, it cannot fail the test */
  MTIME s11
  li t0, 200000
  add s11, s11, t0
21:wfi                           /* returns once MTIP is pending (or spuriously) */
  MTIME t0
  bltu t0, s11, 21b
  csrr a0, mip
  andi a0, a0, MIP_MTIP
  CHECK 51, a0, MIP_MTIP
  CHECK_VAR 52, t_count, 0       /* no trap with MIE = 0 */
  TIMER_OFF
  /* ---- a CSR write that makes an enabled interrupt pending traps at once,
   * mepc = the next instruction ---- */
  li t0, MIP_SSIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  EXPECT_TRAP 22f
  li t0, MIP_SSIP
  csrs mip, t0
23:FAILNOW 53
22:CHECK_TRAP 54, CAUSE_INTR | IRQ_S_SOFT
  CHECK_VAR_ADDR 55, t_epc, 23b
  li t0, MIP_SSIP
  csrc mip, t0
  csrw mie, zero
  /* ---- CLINT msip: only bit 0 is implemented (the rest reads 0) ---- */
  li t0, CLINT_MSIP
  li t1, -1
  sw t1, 0(t0)
  lw a0, 0(t0)
  CHECK 56, a0, 1
  csrr a0, mip
  andi a0, a0, MIP_MSIP
  CHECK 57, a0, MIP_MSIP
  sw zero, 0(t0)
  lw a0, 0(t0)
  CHECK 58, a0, 0
  /* mtimecmp reads back what was written */
  li t0, CLINT_MTIMECMP
  li t1, 0x123456789abcdef0
  sd t1, 0(t0)
  ld a0, 0(t0)
  CHECK 59, a0, 0x123456789abcdef0
  TIMER_OFF
  /* ---- MRET that sets MIE (MPIE = 1) with an enabled interrupt pending:
   * taken before the first instruction at mepc, which becomes the new mepc ---- */
  MSIP_SET 1
  li t0, MIP_MSIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  li t0, MSTATUS_MPIE | MSTATUS_MPP
  csrs mstatus, t0
  la t0, 24f
  csrw mepc, t0
  EXPECT_TRAP 25f
  mret
24:FAILNOW 60
25:CHECK_TRAP 61, CAUSE_INTR | IRQ_M_SOFT
  CHECK_VAR_ADDR 62, t_epc, 24b
  MSIP_SET 0
  csrw mie, zero
  /* ---- priority MEI > MSI > MTI > SEI > SSI > STI (priv spec 3.1.9): MTI
   * before SSI and STI (not delegated: they go to M too); SSI before STI.
   * Known QEMU 7.2 deviation: without AIA it takes the lowest-numbered
   * pending interrupt (SSI first), failing check 91. ---- */
  li t0, CLINT_MTIMECMP
  sd zero, 0(t0)
  li t0, MIP_SSIP | MIP_STIP
  csrs mip, t0
  li t0, MIP_SSIP | MIP_STIP | MIP_MTIP
  csrw mie, t0
  EXPECT_TRAP 914f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 90
914:CHECK_TRAP 91, CAUSE_INTR | IRQ_M_TIMER
  TIMER_OFF
  EXPECT_TRAP 915f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 92
915:CHECK_TRAP 93, CAUSE_INTR | IRQ_S_SOFT
  li t0, MIP_SSIP
  csrc mip, t0
  EXPECT_TRAP 916f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  WAIT_IRQ 94
916:CHECK_TRAP 95, CAUSE_INTR | IRQ_S_TIMER
  li t0, MIP_STIP
  csrc mip, t0
  csrr a0, mip
  andi a0, a0, MIP_SSIP | MIP_STIP | MIP_MTIP | MIP_MSIP
  CHECK 96, a0, 0
  csrw mie, zero
  j pass

/* Vector stubs: note which entry was used in vec_hit, then the common handler. */
.macro VSTUB n
vstub\n:
  csrrw sp, mscratch, sp
  sd t0, SAVE_T0(sp)
  sd t1, SAVE_T1(sp)
  la t0, vec_hit
  li t1, \n
  sd t1, 0(t0)
  ld t0, SAVE_T0(sp)
  ld t1, SAVE_T1(sp)
  csrrw sp, mscratch, sp
  j m_trap
.endm
  VSTUB 1
  VSTUB 3
  VSTUB 5
  VSTUB 7
  VSTUB 9
  VSTUB 11

  .option push
  .option norvc
  .align 8
mvec:
  j m_trap                       /* 0: exceptions */
  j vstub1
  j m_trap
  j vstub3
  j m_trap
  j vstub5
  j m_trap
  j vstub7
  j m_trap
  j vstub9
  j m_trap
  j vstub11
  .option pop

  .data
  .align 3
vec_hit: .dword 0
