# Bare-metal start-up for the benchmark: FP on, stack, call bench_main, report the
# result (16 hex digits and a newline) through the HTIF console, then exit
# through HTIF with status 0.
  .section .text.init
  .globl _start
_start:
  li t0, 1 << 13         # mstatus.FS = Initial: FP instructions would trap while it is Off
  csrs mstatus, t0       # (privileged spec §3.1.6.6); the fp small program needs them
  la sp, stack_top
  call bench_main        # a0 = result
  mv s0, a0
  li s1, 60
1:
  srl t0, s0, s1
  andi t0, t0, 15
  li t1, 10
  blt t0, t1, 2f
  addi t0, t0, 'a' - 10
  j 3f
2:
  addi t0, t0, '0'
3:
  mv a0, t0
  call putc
  addi s1, s1, -4
  bgez s1, 1b
  li a0, '\n'
  call putc
  la t0, tohost
  li t1, 1
  sd t1, 0(t0)
4:
  j 4b

putc:                    # HTIF device 1 (console), command 1 (putchar)
  li t0, 0x0101000000000000
  or t0, t0, a0
  la t1, tohost
  sd t0, 0(t1)
5:
  ld t2, 0(t1)
  bnez t2, 5b
  ret

  .bss
  .align 4
  .space 65536
stack_top:

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
