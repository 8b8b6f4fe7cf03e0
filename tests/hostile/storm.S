/* storm.S - an S-mode kernel (booted as a Linux Image, --cpus 4) that
 * storms the interrupt paths: every hart takes 20000 supervisor timer
 * interrupts with the deadline always in the past (re-armed from the handler
 * alternately through the Sstc stimecmp CSR and the SBI TIME call), then
 * sends 3000 IPIs to all harts (hart_mask_base = -1) while taking the ones the
 * others send. Hart 0 prints "hostile-storm: OK" when every hart is done and
 * powers off through SRST; a failure prints "hostile-storm: FAIL <n>". */
#include "smode.h"

#define HARTS 4
#define TIMER_IRQS 20000
#define IPIS 3000
#define CSR_STIMECMP 0x14d

IMAGE_HEADER start

start:                                 /* hart 0 */
  WAIT_FOR_KEY key_msg
  li s1, 1
1:                                     /* start the others at `hart` */
  la a1, hart
  li a7, SBI_HSM
  li a6, 0
  mv a0, s1
  li a2, 0
  ecall
  li s11, 1
  bnez a0, fail
  addi s1, s1, 1
  li t1, HARTS
  bltu s1, t1, 1b
  li a0, 0

hart:                                  /* every hart, a0 = hart id */
  mv s0, a0
  addi t1, a0, 1
  slli t1, t1, 12
  la sp, stacks
  add sp, sp, t1
  la t1, counters                      /* s1 = this hart's counters: */
  slli t2, s0, 5                       /* [0] timer interrupts left, [8] IPIs taken */
  add s1, t1, t2
  li t1, TIMER_IRQS
  sd t1, 0(s1)
  csrw sscratch, s1
  la t1, handler
  csrw stvec, t1
  li t1, (1 << 5) | (1 << 1)           /* STIE, SSIE */
  csrs sie, t1
  csrw CSR_STIMECMP, zero              /* due now */
  csrsi sstatus, 2                     /* SIE */
  li s3, 50000000                      /* bounded: the storm must end */
2:
  ld t1, 0(s1)
  beqz t1, 3f
  addi s3, s3, -1
  li s11, 2
  beqz s3, fail
  j 2b
3:
  li s2, IPIS
4:
  li a7, SBI_IPI
  li a6, 0
  li a0, 0
  li a1, -1
  ecall
  li s11, 3
  bnez a0, fail
  addi s2, s2, -1
  bnez s2, 4b
  csrci sstatus, 2
  la t1, done
  li t2, 1
  amoadd.d zero, t2, (t1)
  bnez s0, park
  li s3, 50000000                      /* hart 0: wait for everyone */
5:
  la t1, done
  ld t2, 0(t1)
  li t3, HARTS
  beq t2, t3, 6f
  addi s3, s3, -1
  li s11, 4
  beqz s3, fail
  j 5b
6:
  la t1, counters                      /* every hart took IPIs */
  li t2, HARTS
7:
  ld t3, 8(t1)
  li s11, 5
  beqz t3, fail
  addi t1, t1, 32
  addi t2, t2, -1
  bnez t2, 7b
  la s0, ok_msg
  call puts
  WAIT_FOR_KEY stop_msg
  SBI SBI_SRST, 0, 0, 0
park:
  SBI SBI_HSM, 1                       /* hart_stop */
8:
  wfi
  j 8b

/* The supervisor trap handler: sscratch = this hart's counters. */
  .balign 4
handler:
  csrrw t6, sscratch, t6               /* t6 = counters; sscratch = old t6 */
  sd t0, 16(t6)
  sd a0, 24(t6)
  csrr t0, scause
  bgez t0, fatal                       /* an exception: not expected */
  andi t0, t0, 0xff
  li a0, 5
  beq t0, a0, timer
  li a0, 1
  beq t0, a0, soft
  j fatal
timer:
  ld t0, 0(t6)
  addi t0, t0, -1
  sd t0, 0(t6)
  beqz t0, timer_off
  andi t0, t0, 1
  bnez t0, timer_sbi
  csrw CSR_STIMECMP, zero              /* due again at once */
  j out
timer_sbi:                             /* the same through SBI TIME set_timer */
  addi sp, sp, -32
  sd a1, 0(sp)
  sd a6, 8(sp)
  sd a7, 16(sp)
  li a7, SBI_TIME
  li a6, 0
  li a0, 0
  ecall
  ld a1, 0(sp)
  ld a6, 8(sp)
  ld a7, 16(sp)
  addi sp, sp, 32
  j out
timer_off:
  li t0, -1
  csrw CSR_STIMECMP, t0
  j out
soft:
  csrci sip, 2
  ld t0, 8(t6)
  addi t0, t0, 1
  sd t0, 8(t6)
out:
  ld t0, 16(t6)
  ld a0, 24(t6)
  csrrw t6, sscratch, t6
  sret
fatal:
  li s11, 9
  j fail

fail:
  la s0, fail_msg
  call puts
  li t1, 10
  divu a0, s11, t1
  addi a0, a0, '0'
  li a7, 1
  ecall
  remu a0, s11, t1
  addi a0, a0, '0'
  li a7, 1
  ecall
  li a0, '\n'
  li a7, 1
  ecall
  WAIT_FOR_KEY stop_msg
  SBI SBI_SRST, 0, 0, 0
9:
  wfi
  j 9b

puts:
  lbu a0, 0(s0)
  beqz a0, 1f
  li a7, 1
  ecall
  addi s0, s0, 1
  j puts
1:
  ret

  .data
  .balign 8
done: .dword 0
counters: .space 32 * HARTS
ok_msg: .asciz "hostile-storm: OK\n"
key_msg: .asciz "hostile-storm: press a key\n"
stop_msg: .asciz "hostile: report printed; to stop, press a key\n"
fail_msg: .asciz "hostile-storm: FAIL "
  .balign 16
stacks: .space 4096 * HARTS
