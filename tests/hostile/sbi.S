/* sbi.S - an S-mode kernel (booted as a Linux Image, --cpus 2) that makes
 * bad SBI calls (SBI v2.0): unknown extensions and functions, hart masks
 * naming harts that do not exist, HSM starts of invalid harts and at invalid
 * addresses, reserved suspend types and reset reasons. Each must be answered
 * with the error the spec names, and nothing may stop the machine; at the
 * end it prints "hostile-sbi: OK" and powers off through SRST. A failed check
 * prints "hostile-sbi: FAIL <n>" and powers off. */
#include "smode.h"

IMAGE_HEADER start

start:
  la sp, stack0_top
  WAIT_FOR_KEY key_msg
  /* Base: version and probing, unknown functions and extensions. */
  SBI SBI_BASE, 0
  EXPECT 1, SBI_SUCCESS
  SBI SBI_BASE, 99
  EXPECT 2, SBI_ERR_NOT_SUPPORTED
  SBI 0x0badc0de, 0
  EXPECT 3, SBI_ERR_NOT_SUPPORTED
  SBI -1, -1
  EXPECT 4, SBI_ERR_NOT_SUPPORTED
  SBI SBI_BASE, 3, 0x0badc0de          /* probe_extension: absent = 0 */
  EXPECT 5, SBI_SUCCESS
  li s11, 5
  bnez a1, fail
  SBI 0x4442434E, 0, 5, 0, 0           /* DBCN write: not offered */
  EXPECT 6, SBI_ERR_NOT_SUPPORTED
  SBI SBI_TIME, 1
  EXPECT 7, SBI_ERR_NOT_SUPPORTED
  SBI 3, 0                             /* legacy clear_ipi: not offered */
  EXPECT 8, SBI_ERR_NOT_SUPPORTED

  /* IPI and RFENCE masks naming harts that do not exist (2 harts here). */
  SBI SBI_IPI, 0, 0x4, 0
  EXPECT 10, SBI_ERR_INVALID_PARAM
  SBI SBI_IPI, 0, 1, 2
  EXPECT 11, SBI_ERR_INVALID_PARAM
  SBI SBI_IPI, 0, 0x8000000000000000, 1
  EXPECT 12, SBI_ERR_INVALID_PARAM
  SBI SBI_IPI, 0, -1, 0xfffffffffffffffe
  EXPECT 13, SBI_ERR_INVALID_PARAM
  SBI SBI_IPI, 0, 0, 0                 /* nobody: fine */
  EXPECT 14, SBI_SUCCESS
  SBI SBI_IPI, 1, 1, 0                 /* no such function */
  EXPECT 15, SBI_ERR_NOT_SUPPORTED
  SBI SBI_RFENCE, 1, 0x10, 0, 0x1000
  EXPECT 16, SBI_ERR_INVALID_PARAM
  SBI SBI_RFENCE, 2, 1, 0x7fffffffffffffff
  EXPECT 17, SBI_ERR_INVALID_PARAM
  SBI SBI_RFENCE, 6, 1, 0              /* HFENCE: no H extension */
  EXPECT 18, SBI_ERR_NOT_SUPPORTED
  SBI SBI_IPI, 0, 0, -1                /* everyone, this hart too */
  EXPECT 19, SBI_SUCCESS
  csrr t1, sip
  andi t1, t1, 2
  li s11, 19
  beqz t1, fail
  csrci sip, 2

  /* HSM: invalid harts, a hart that is already running, bad start addresses. */
  SBI SBI_HSM, 0, 2, 0x80200000, 0
  EXPECT 20, SBI_ERR_INVALID_PARAM
  SBI SBI_HSM, 0, -1, 0x80200000, 0
  EXPECT 21, SBI_ERR_INVALID_PARAM
  SBI SBI_HSM, 0, 0, 0x80200000, 0     /* this hart: started already */
  EXPECT 22, SBI_ERR_ALREADY_AVAILABLE
  SBI SBI_HSM, 0, 1, 0x0, 0            /* nowhere */
  EXPECT 23, SBI_ERR_INVALID_ADDRESS
  SBI SBI_HSM, 0, 1, 0x10000000, 0     /* the UART */
  EXPECT 24, SBI_ERR_INVALID_ADDRESS
  SBI SBI_HSM, 0, 1, 0xfffffffffffff000, 0
  EXPECT 25, SBI_ERR_INVALID_ADDRESS
  SBI SBI_HSM, 0, 1, 0x80200001, 0     /* not instruction-aligned */
  EXPECT 25, SBI_ERR_INVALID_ADDRESS
  SBI SBI_HSM, 2, 1                    /* still stopped */
  EXPECT 26, SBI_SUCCESS
  li s11, 26
  li t1, 1
  bne a1, t1, fail
  SBI SBI_HSM, 2, 7
  EXPECT 27, SBI_ERR_INVALID_PARAM
  SBI SBI_HSM, 3, 1                    /* reserved suspend type */
  EXPECT 28, SBI_ERR_INVALID_PARAM
  SBI SBI_HSM, 3, 0x80000000           /* non-retentive: not offered */
  EXPECT 29, SBI_ERR_NOT_SUPPORTED
  SBI SBI_HSM, 9
  EXPECT 30, SBI_ERR_NOT_SUPPORTED

  /* Start hart 1 properly, 200 times over: each time it checks in and stops itself. */
  li s2, 200
start_again:
  la a1, secondary
  li a7, SBI_HSM
  li a6, 0
  li a0, 1
  li a2, 0x1234
  ecall
  EXPECT 31, SBI_SUCCESS
  li s3, 2000000                       /* bounded wait for the check-in */
1:
  la t1, checkin
  ld t2, 0(t1)
  bnez t2, 2f
  addi s3, s3, -1
  li s11, 32
  beqz s3, fail
  j 1b
2:
  sd zero, 0(t1)
  li s3, 2000000                       /* and for it to be STOPPED again */
3:
  SBI SBI_HSM, 2, 1
  li t1, 1
  beq a1, t1, 4f
  addi s3, s3, -1
  li s11, 33
  beqz s3, fail
  j 3b
4:
  addi s2, s2, -1
  bnez s2, start_again

  /* SRST: reserved types and reasons are refused, and do not reset. */
  SBI SBI_SRST, 0, 3, 0
  EXPECT 40, SBI_ERR_INVALID_PARAM
  SBI SBI_SRST, 0, 0xeeeeeeee, 0
  EXPECT 41, SBI_ERR_INVALID_PARAM
  SBI SBI_SRST, 0, 0, 2
  EXPECT 42, SBI_ERR_INVALID_PARAM
  SBI SBI_SRST, 0, 0, 0xf0000000
  EXPECT 43, SBI_ERR_INVALID_PARAM
  SBI SBI_SRST, 1, 0, 0
  EXPECT 44, SBI_ERR_NOT_SUPPORTED

  la s0, ok_msg
  call puts
  WAIT_FOR_KEY stop_msg
  SBI SBI_SRST, 0, 0, 0                /* shutdown: does not return */
5:
  wfi
  j 5b

fail:
  la s0, fail_msg
  call puts
  /* the check number, in decimal (two digits) */
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
6:
  wfi
  j 6b

/* Prints the NUL-terminated string at s0 (legacy console_putchar). */
puts:
  lbu a0, 0(s0)
  beqz a0, 1f
  li a7, 1
  ecall
  addi s0, s0, 1
  j puts
1:
  ret

/* Hart 1: a0 = 1, a1 = the opaque value; checks in, then stops. */
secondary:
  li t1, 1
  bne a0, t1, 1f
  li t1, 0x1234
  bne a1, t1, 1f
  la t1, checkin
  li t2, 1
  sd t2, 0(t1)
1:
  SBI SBI_HSM, 1                       /* hart_stop: does not return */
2:
  j 2b

  .data
  .balign 8
checkin: .dword 0
ok_msg: .asciz "hostile-sbi: OK\n"
key_msg: .asciz "hostile-sbi: press a key\n"
stop_msg: .asciz "hostile: report printed; to stop, press a key\n"
fail_msg: .asciz "hostile-sbi: FAIL "
  .balign 16
  .space 4096
stack0_top:
