/* htif.h - HTIF helpers for the tests/cpu smoke programs (see devices/htif.h). */
#define HTIF_EXIT(code)  /* tohost = (code << 1) | 1; code 0 = PASS */ \
  li t0, ((code) << 1) | 1; la t1, tohost; sd t0, 0(t1); 1: j 1b

  .macro TOHOST_SECTION
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
  .type tohost, @object
  .size tohost, 8
tohost: .dword 0
  .align 6
  .globl fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost: .dword 0
  .endm
