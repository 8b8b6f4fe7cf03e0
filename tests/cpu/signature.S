/* signature.S - a riscv-arch-test style signature region for `vmsup run
 * --signature` (tests/cpu/signature.test.ts). The region starts as six words of
 * 0xdeadbeef (the suite's canary fill) and the program overwrites part of it
 * with stores of every width, so the dump shows memory at the end of the run,
 * not the file's bytes. Variants (-D): FAIL ends with "FAIL test 7" instead of
 * PASS; NO_SIG leaves the symbols out; REVERSED swaps them; OUTSIDE puts the
 * region below RAM. */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  la t1, sig_area
  li t0, 0x01234567
  sw t0, 0(t1)                  /* bytes 0..3 */
  li t0, 0x89abcdeffedcba98
  sd t0, 8(t1)                  /* bytes 8..15 */
  li t0, 0x5a
  sb t0, 17(t1)                 /* byte 17 of the canary word at 16 */
  li t0, -2
  sh t0, 20(t1)                 /* bytes 20..21 of the canary word at 20 */
#ifdef FAIL
  HTIF_EXIT(7)
#else
  HTIF_EXIT(0)
#endif
  TOHOST_SECTION

  .data
  .align 4
#if defined(OUTSIDE)
  .globl begin_signature, end_signature
  .set begin_signature, 0x1000
  .set end_signature, 0x1018
#elif defined(REVERSED)
  .globl end_signature
end_signature:
#elif !defined(NO_SIG)
  .globl begin_signature
begin_signature:
#endif
sig_area:
  .fill 6, 4, 0xdeadbeef
#if defined(REVERSED)
  .globl begin_signature
begin_signature:
#elif !defined(NO_SIG) && !defined(OUTSIDE)
  .globl end_signature
end_signature:
#endif
  .word 0x0badf00d              /* just past the region: must not be dumped */
