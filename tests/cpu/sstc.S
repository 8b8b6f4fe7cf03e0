/* sstc.S - (not checkable on QEMU 7.2 -M spike, whose CLINT gives no `time` CSR)
 * the Sstc extension: with menvcfg.STCE set, S-mode reads and writes
 * stimecmp (CSR 0x14d) and mip.STIP follows (time >= stimecmp): a supervisor
 * timer interrupt delegated to S arrives once time passes stimecmp, and
 * writing a future value clears STIP again. With STCE clear, stimecmp is
 * illegal from S-mode (privileged spec, Sstc chapter). */
#include "htif.h"
#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG 0x30a
  .section .text.init
  .globl _start
_start:
  la t0, m_trap
  csrw mtvec, t0
  li t0, -1                /* PMP: S-mode may access everything (NAPOT, RWX) */
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  la t0, s_trap
  csrw stvec, t0
  li t0, 1 << 5            /* delegate STI */
  csrw mideleg, t0
  li t0, 3                 /* time and cycle readable from S */
  csrw mcounteren, t0
  /* 1: with STCE = 0, stimecmp from S traps to M as illegal */
  li s11, 1
  la t0, s_code1
  csrw mepc, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0         /* MPP = S */
  mret
s_code1:
  csrr t0, CSR_STIMECMP    /* must trap */
  j fail
after1:
  /* 2: STCE = 1: S sets stimecmp in the near future, enables STIE/SIE, waits */
  li s11, 2
  li t0, 1 << 63
  csrs CSR_MENVCFG, t0
  csrr t0, CSR_MENVCFG
  li s11, 4
  bgez t0, fail            /* STCE must read back as 1 */
  li s11, 2
  la t0, s_code2
  csrw mepc, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  mret
s_code2:
  li t0, -1
  csrw CSR_STIMECMP, t0    /* far future: STIP clear */
  li s11, 5
  csrr t1, sip
  andi t1, t1, 1 << 5
  bnez t1, fail_s
  li s11, 6
  li t0, 1 << 5
  csrs sie, t0
  csrr t0, time
  addi t0, t0, 1000        /* 100 us at 10 MHz */
  csrw CSR_STIMECMP, t0
  li s10, 0
  csrsi sstatus, 2         /* SIE */
1:beqz s10, 1b             /* spin until the handler has run */
  /* 3: the handler re-armed stimecmp far in the future: STIP is clear again */
  li s11, 3
  csrr t1, sip
  andi t1, t1, 1 << 5
  bnez t1, fail_s
  ecall                    /* back to M: pass */

s_trap:
  li s11, 7
  csrr t0, scause
  li t1, (1 << 63) | 5
  bne t0, t1, fail_s
  li s11, 2
  li t0, -1
  csrw CSR_STIMECMP, t0
  li s10, 1
  sret

m_trap:
  csrr t0, mcause
  li t1, 2
  beq t0, t1, m_illegal
  li t1, 9                 /* ecall from S: done */
  beq t0, t1, pass
  j fail
m_illegal:
  li t1, 1
  bne s11, t1, fail
  la t0, after1
  csrw mepc, t0
  li t0, 3 << 11
  csrs mstatus, t0         /* back to M */
  mret
fail_s:
  ecall                    /* s11 != any pass state: m_trap sees cause 9 only when done */
fail:
  la t1, tohost
  slli t0, s11, 1
  ori t0, t0, 1
  sd t0, 0(t1)
2:j 2b
pass:
  li t1, 3
  bne s11, t1, fail
  HTIF_EXIT(0)
  TOHOST_SECTION
