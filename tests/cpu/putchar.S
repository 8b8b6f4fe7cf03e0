/* putchar.S - prints "hi vmsup\n" with HTIF console putchar (device 1,
 * command 1), waiting each time for the host to clear tohost and to answer in
 * fromhost, then exits with PASS. */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  la s0, msg
  la s1, tohost
  la s2, fromhost
1:lbu a0, 0(s0)
  beqz a0, 3f
  li t0, 0x0101000000000000
  or t0, t0, a0
  sd t0, 0(s1)
2:ld t1, 0(s1)            /* the host clears tohost ... */
  bnez t1, 2b
4:ld t2, 0(s2)            /* ... and answers in fromhost */
  beqz t2, 4b
  sd zero, 0(s2)
  addi s0, s0, 1
  j 1b
3:HTIF_EXIT(0)
  .data
msg: .asciz "hi vmsup\n"
  TOHOST_SECTION
