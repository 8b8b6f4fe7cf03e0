/* smc.S - self-modifying code (Zifencei): a routine is run, overwritten with
 * different instructions (32-bit and compressed), FENCE.I, run again: the new
 * instructions must execute. Also a 32-bit instruction that straddles a page
 * boundary (offset 0xffe) executes correctly. */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  li s11, 1
  call patchme
  li t0, 1
  bne a0, t0, fail
  /* overwrite "li a0, 1" (addi a0, zero, 1) with "addi a0, zero, 77" */
  la t0, patchme
  li t1, 0x04d00513
  sw t1, 0(t0)
  fence.i
  call patchme
  li t0, 77
  bne a0, t0, fail
  li s11, 2
  /* overwrite with c.li a0, 9 ; c.nop */
  la t0, patchme
  li t1, 0x00014525
  sw t1, 0(t0)
  fence.i
  call patchme
  li t0, 9
  bne a0, t0, fail
  li s11, 3
  call straddle
  li t0, 0x12345
  bne a0, t0, fail
  HTIF_EXIT(0)
fail:
  la t1, tohost
  slli t0, s11, 1
  ori t0, t0, 1
  sd t0, 0(t1)
1:j 1b

  .align 2
patchme:
  .option push
  .option norvc
  addi a0, zero, 1
  .option pop
  ret

  .option push
  .option norvc
  .balign 4096
  .space 4096 - 10
straddle:                  /* at page offset 0xff6 */
  lui a0, 0x12             /* 0xff6 */
  nop                      /* 0xffa */
  addi a0, a0, 0x345       /* 0xffe: crosses into the next page */
  ret
  .option pop
  TOHOST_SECTION
