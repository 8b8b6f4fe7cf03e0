/* crt.S - start-up for the hostile M-mode guests (tests/hostile/<name>.c).
 * Hart 0 runs main() in M-mode with mtvec = trap_entry, a 16 KiB stack, the FPU on and a
 * PMP entry granting everything to S/U; other harts park in WFI. main returns
 * 0 (HTIF PASS) or the number of the failed check (HTIF FAIL n). Every trap
 * goes to the C function trap_handler(cause, epc, tval), whose return value
 * becomes the new mepc (hostile.h has the default: count and skip). Before
 * the run ends, before_exit() (hostile.h) waits for a key. */
  .section .text.init, "ax"
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  la sp, stack_top
  la t0, trap_entry
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f           /* NAPOT, R W X */
  csrw pmpcfg0, t0
  li t0, 1 << 13        /* mstatus.FS = Initial: the FPU is on */
  csrs mstatus, t0
  call main
  mv s0, a0
  call before_exit      /* the test reads the report while the VM still runs */
  mv a0, s0
  la t0, tohost
  li t1, 1
  beqz a0, 1f
  slli t1, a0, 1
  ori t1, t1, 1
1:
  sd t1, 0(t0)
2:
  j 2b
park:
  wfi
  j park

  .align 4
trap_entry:
  addi sp, sp, -144
  sd ra, 0(sp)
  sd t0, 8(sp)
  sd t1, 16(sp)
  sd t2, 24(sp)
  sd t3, 32(sp)
  sd t4, 40(sp)
  sd t5, 48(sp)
  sd t6, 56(sp)
  sd a0, 64(sp)
  sd a1, 72(sp)
  sd a2, 80(sp)
  sd a3, 88(sp)
  sd a4, 96(sp)
  sd a5, 104(sp)
  sd a6, 112(sp)
  sd a7, 120(sp)
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call trap_handler
  csrw mepc, a0
  ld ra, 0(sp)
  ld t0, 8(sp)
  ld t1, 16(sp)
  ld t2, 24(sp)
  ld t3, 32(sp)
  ld t4, 40(sp)
  ld t5, 48(sp)
  ld t6, 56(sp)
  ld a0, 64(sp)
  ld a1, 72(sp)
  ld a2, 80(sp)
  ld a3, 88(sp)
  ld a4, 96(sp)
  ld a5, 104(sp)
  ld a6, 112(sp)
  ld a7, 120(sp)
  addi sp, sp, 144
  mret

  .section .tohost, "aw"
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0

  .bss
  .align 4
  .space 16384
stack_top:
