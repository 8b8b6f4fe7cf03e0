/* smode.h - for the S-mode hostile payloads (tests/hostile/<name>.S): the
 * Linux riscv Image header (Documentation/riscv/boot-image-header.rst) that
 * makes vmsup boot the file in S-mode with its own SBI, SBI call macros, and
 * console output through the legacy SBI putchar. Entry: a0 = hart id, a1 = FDT. */
#ifndef HOSTILE_SMODE_H
#define HOSTILE_SMODE_H

#define SBI_BASE 0x10
#define SBI_TIME 0x54494D45
#define SBI_IPI 0x735049
#define SBI_RFENCE 0x52464E43
#define SBI_HSM 0x48534D
#define SBI_SRST 0x53525354
#define SBI_SUCCESS 0
#define SBI_ERR_NOT_SUPPORTED -2
#define SBI_ERR_INVALID_PARAM -3
#define SBI_ERR_INVALID_ADDRESS -5
#define SBI_ERR_ALREADY_AVAILABLE -6

/* The 64-byte header: code0 jumps over it; image_size 0 = "the file size". */
.macro IMAGE_HEADER entry
  .section .text.head, "ax"
  .globl _start
_start:
  j \entry
  .balign 8
  .dword 0x200000         /* text_offset */
  .dword 0                /* image_size */
  .dword 0                /* flags */
  .word 2                 /* version 0.2 */
  .word 0
  .dword 0
  .ascii "RISCV\0\0\0"    /* magic (deprecated) */
  .ascii "RSC\x05"        /* magic2 */
  .word 0
  .text
.endm

/* a0, a1 = SBI call (eid, fid, arg0, arg1, arg2). Clobbers a0-a2, a6, a7. */
.macro SBI eid, fid, x0=0, x1=0, x2=0
  li a7, \eid
  li a6, \fid
  li a0, \x0
  li a1, \x1
  li a2, \x2
  ecall
.endm

/* Check n: a0 (the SBI error) must be err; else print "FAIL n" and stop. */
.macro EXPECT n, err
  li t0, \err
  li s11, \n
  bne a0, t0, fail
.endm

/* Prints the NUL-terminated string at `msg` and waits for one console byte
 * (legacy SBI getchar), so the test's console is attached before the attack.
 * Clobbers t0, t1, a0, a6, a7. */
.macro WAIT_FOR_KEY msg
  la t1, \msg
1:
  lbu a0, 0(t1)
  beqz a0, 2f
  li a7, 1
  ecall
  addi t1, t1, 1
  j 1b
2:
  li a7, 2
  ecall
  bltz a0, 2b
.endm

#endif
