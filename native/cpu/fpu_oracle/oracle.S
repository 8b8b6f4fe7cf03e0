# Bare-metal riscv64 program that runs F/D instructions on QEMU's RISC-V FPU
# (the oracle for native/cpu/fpu_test_vectors.h; see gen.py).
# For every case of the table `cases` (insn, frm, a, b, c: 5 x 8 bytes) it
#   - loads f11 = x11 = a, f12 = b, f13 = c (raw 64-bit patterns, fld/ld),
#     f14 = 0x5555555555555555 and x14 = 0 as "not written" markers,
#   - writes fcsr = frm << 5 (fflags cleared),
#   - patches the instruction into `slot`, fence.i, executes it,
#   - prints "<f14> <x14> <fflags> <trapped>" in hex on the HTIF console.
# An illegal-instruction trap is caught by `trap`, which records it and skips.
  .option norvc             # `slot` must be a 4-byte instruction
  .section .text.init
  .globl _start
_start:
  la sp, stack_top
  la t0, trap
  csrw mtvec, t0
  li t0, (1 << 13)          # mstatus.FS = Initial
  csrs mstatus, t0
  la s0, cases
  la s1, cases_end
1:
  bgeu s0, s1, done
  ld t0, 0(s0)              # insn
  la t1, slot
  sw t0, 0(t1)
  fence.i
  ld t0, 8(s0)
  slli t0, t0, 5
  csrw fcsr, t0
  fld f11, 16(s0)
  fld f12, 24(s0)
  fld f13, 32(s0)
  ld x11, 16(s0)
  li t0, 0x5555555555555555
  fmv.d.x f14, t0
  li x14, 0
  li s2, 0                  # trap flag
slot:
  nop
  fmv.x.d a0, f14
  call puthex64
  li a0, ' '
  call putch
  mv a0, x14
  call puthex64
  li a0, ' '
  call putch
  csrr a0, fflags
  call puthex64
  li a0, ' '
  call putch
  mv a0, s2
  call puthex64
  li a0, '\n'
  call putch
  addi s0, s0, 40
  j 1b
done:
  li t0, 1
  la t1, tohost
  sd t0, 0(t1)
2: j 2b

  .align 4
trap:
  li s2, 1
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret

# a0 = value; prints 16 hex digits. Clobbers t0-t3, a0-a1.
puthex64:
  mv t3, ra
  mv t2, a0
  li t1, 60
3:
  srl a0, t2, t1
  andi a0, a0, 15
  li t0, 10
  blt a0, t0, 4f
  addi a0, a0, 'a' - 10
  j 5f
4:
  addi a0, a0, '0'
5:
  call putch
  addi t1, t1, -4
  bgez t1, 3b
  mv ra, t3
  ret

# HTIF console putchar: device 1, command 1 (as QEMU's/Spike's HTIF).
putch:
  li t0, 0x0101000000000000
  or t0, t0, a0
  la t4, tohost
  sd t0, 0(t4)
6:
  ld t0, 0(t4)
  bnez t0, 6b
  la t4, fromhost
  sd zero, 0(t4)
  ret

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
  .type tohost, @object
  .size tohost, 8
tohost: .dword 0
  .globl fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost: .dword 0

  .bss
  .align 4
  .space 4096
stack_top:
