/*
 * common.h - shared start-up code, trap handlers and check macros for the
 * bare-metal ISA test programs (tests/isa/<name>.S). Included first by every program.
 *
 * Conventions
 *   gp (x3)   number of the check being run; a failure reports it over HTIF as
 *             tohost = (gp << 1) | 1 ("FAIL test gp"). gp = 9999 means the
 *             program failed before its first numbered check.
 *   t5, t6    scratch of the CHECK* macros; tests keep nothing live in them
 *             across a macro.
 *   main      the program's entry, reached in M-mode with: mtvec = m_trap
 *             (direct), mscratch/sscratch -> handler save areas, PMP entry 0
 *             granting RWX on all of memory to S/U, satp = 0, no delegation,
 *             mstatus.FS = Initial, interrupts disabled, sp = a 4 KiB stack.
 *
 * Traps
 *   m_trap records mcause/mepc/mtval/mstatus (as they are right after trap
 *   entry) in t_cause/t_epc/t_tval/t_status and counts traps in t_count. If a
 *   test armed a resume address (EXPECT_TRAP label), the handler disarms it and
 *   mrets to that label in M-mode with MPIE cleared (so MIE stays 0 after the
 *   return). An unarmed trap is unexpected: it prints the cause and fails the
 *   current check. s_trap does the same for traps delegated to S-mode
 *   (s_cause/s_epc/s_tval/s_status/s_count, SEXPECT_TRAP), srets to the label
 *   in S-mode with SPIE cleared. Every register except the recorded CSRs is
 *   preserved, so a test can check that a faulting instruction left rd alone.
 *
 * HTIF (Spike/QEMU spike protocol): tohost = 1 -> PASS; (n << 1) | 1 -> FAIL n;
 * device 1 command 1 -> putchar. The host clears tohost after each request.
 */
#ifndef ISA_COMMON_H
#define ISA_COMMON_H

/* ---- CSR field constants (RISC-V privileged spec, 3.1.6 mstatus) ---- */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP_M (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MSTATUS_SD    (1 << 63)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mip/mie bits (3.1.9) */
#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

/* Exception codes (3.1.15, table "Machine cause register values") */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15
#define CAUSE_INTR             (1 << 63)
#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7

/* CLINT (SiFive layout, same address on QEMU spike/virt and vmsup) */
#define CLINT_BASE     0x02000000
#define CLINT_MSIP     (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME    (CLINT_BASE + 0xbff8)

/* Sv39/Sv48 PTE bits (4.3.1) */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* Offsets in a handler save area (m_save / s_save). */
#define SAVE_T0     0
#define SAVE_T1     8
#define SAVE_CAUSE  16
#define SAVE_EPC    24
#define SAVE_TVAL   32
#define SAVE_STATUS 40
#define SAVE_COUNT  48
#define SAVE_RESUME 56

/* ---------------------------- check macros ---------------------------- */

/* Check n: register reg must equal the constant val. */
.macro CHECK n, reg, val
  li gp, \n
  li t6, \val
  beq \reg, t6, .Lok\@
  j fail
.Lok\@:
.endm

/* Check n: registers a and b must be equal. */
.macro CHECKR n, a, b
  li gp, \n
  beq \a, \b, .Lok\@
  j fail
.Lok\@:
.endm

/* Check n: register reg must differ from the constant val. */
.macro CHECKNE n, reg, val
  li gp, \n
  li t6, \val
  bne \reg, t6, .Lok\@
  j fail
.Lok\@:
.endm

/* Check n: the 64-bit variable at symbol var must equal val. */
.macro CHECK_VAR n, var, val
  li gp, \n
  la t6, \var
  ld t6, 0(t6)
  li t5, \val
  beq t6, t5, .Lok\@
  j fail
.Lok\@:
.endm

/* Check n: the variable at symbol var must equal the address of label lbl. */
.macro CHECK_VAR_ADDR n, var, lbl
  li gp, \n
  la t6, \var
  ld t6, 0(t6)
  la t5, \lbl
  beq t6, t5, .Lok\@
  j fail
.Lok\@:
.endm

/* Check n: (variable var & mask) == val. */
.macro CHECK_VAR_MASK n, var, mask, val
  li gp, \n
  la t6, \var
  ld t6, 0(t6)
  li t5, \mask
  and t6, t6, t5
  li t5, \val
  beq t6, t5, .Lok\@
  j fail
.Lok\@:
.endm

/* Unconditional failure of check n. */
.macro FAILNOW n
  li gp, \n
  j fail
.endm

/* Arm the M-mode handler: the next trap resumes at lbl (M-mode). Clears t_cause to -1
 * so a missing trap is detected. Clobbers t5, t6. */
.macro EXPECT_TRAP lbl
  la t6, m_save
  li t5, -1
  sd t5, SAVE_CAUSE(t6)
  sd t5, SAVE_TVAL(t6)
  la t5, \lbl
  sd t5, SAVE_RESUME(t6)
.endm

/* Same for the S-mode handler (call from S-mode, or from M-mode before going down). */
.macro SEXPECT_TRAP lbl
  la t6, s_save
  li t5, -1
  sd t5, SAVE_CAUSE(t6)
  sd t5, SAVE_TVAL(t6)
  la t5, \lbl
  sd t5, SAVE_RESUME(t6)
.endm

/* Check n: the last M-mode trap had cause c (and disarm the handler). */
.macro CHECK_TRAP n, c
  la t6, m_save
  sd zero, SAVE_RESUME(t6)
  CHECK_VAR \n, t_cause, \c
.endm

.macro CHECK_STRAP n, c
  la t6, s_save
  sd zero, SAVE_RESUME(t6)
  CHECK_VAR \n, s_cause, \c
.endm

/* From M-mode: enter privilege mode prv (PRV_U/PRV_S/PRV_M) at label lbl via MRET. */
.macro GOTO_PRIV prv, lbl
  li t6, MSTATUS_MPP
  csrc mstatus, t6
  li t6, (\prv << 11)
  csrs mstatus, t6
  la t6, \lbl
  csrw mepc, t6
  mret
.endm

/* From S-mode: enter U (spp=0) or S (spp=1) at lbl via SRET. */
.macro SRET_TO spp, lbl
  li t6, MSTATUS_SPP
  csrc sstatus, t6
  li t6, (\spp << 8)
  csrs sstatus, t6
  la t6, \lbl
  csrw sepc, t6
  sret
.endm

/* ---------------------------- start-up code ---------------------------- */
  .section .text.init, "ax", @progbits
  /* 32-bit encodings only, so the handlers still run if a test clears misa.C */
  .option push
  .option norvc
  .globl _start
_start:
  li gp, 0
  la t0, m_trap
  csrw mtvec, t0
  la t0, m_save
  csrw mscratch, t0
  la t0, s_save
  csrw sscratch, t0
  la sp, stack_top
  /* PMP entry 0: NAPOT over the whole address space, RWX, so S/U may access
   * memory (priv spec 3.7: with PMP implemented, S/U accesses matching no
   * entry fail). */
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  csrw satp, zero
  csrw medeleg, zero
  csrw mideleg, zero
  csrw mie, zero
  li t0, MSTATUS_MIE | MSTATUS_SIE | MSTATUS_MPRV | MSTATUS_FS
  csrc mstatus, t0
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  j main

/* Machine-mode trap handler (mtvec direct mode). */
  .align 6
  .globl m_trap
m_trap:
  csrrw sp, mscratch, sp
  sd t0, SAVE_T0(sp)
  sd t1, SAVE_T1(sp)
  csrr t0, mcause
  sd t0, SAVE_CAUSE(sp)
  csrr t0, mepc
  sd t0, SAVE_EPC(sp)
  csrr t0, mtval
  sd t0, SAVE_TVAL(sp)
  csrr t0, mstatus
  sd t0, SAVE_STATUS(sp)
  ld t0, SAVE_COUNT(sp)
  addi t0, t0, 1
  sd t0, SAVE_COUNT(sp)
  ld t0, SAVE_RESUME(sp)
  beqz t0, m_unexpected
  sd zero, SAVE_RESUME(sp)
  csrw mepc, t0
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  li t0, MSTATUS_MPIE
  csrc mstatus, t0
  ld t0, SAVE_T0(sp)
  ld t1, SAVE_T1(sp)
  csrrw sp, mscratch, sp
  mret

m_unexpected:
  li a0, 'M'
  ld a1, SAVE_CAUSE(sp)
  ld a2, SAVE_EPC(sp)
  ld a3, SAVE_TVAL(sp)
  j report_trap

/* Supervisor-mode trap handler (stvec direct mode). */
  .align 6
  .globl s_trap
s_trap:
  csrrw sp, sscratch, sp
  sd t0, SAVE_T0(sp)
  sd t1, SAVE_T1(sp)
  csrr t0, scause
  sd t0, SAVE_CAUSE(sp)
  csrr t0, sepc
  sd t0, SAVE_EPC(sp)
  csrr t0, stval
  sd t0, SAVE_TVAL(sp)
  csrr t0, sstatus
  sd t0, SAVE_STATUS(sp)
  ld t0, SAVE_COUNT(sp)
  addi t0, t0, 1
  sd t0, SAVE_COUNT(sp)
  ld t0, SAVE_RESUME(sp)
  beqz t0, s_unexpected
  sd zero, SAVE_RESUME(sp)
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrs sstatus, t0
  li t0, MSTATUS_SPIE
  csrc sstatus, t0
  ld t0, SAVE_T0(sp)
  ld t1, SAVE_T1(sp)
  csrrw sp, sscratch, sp
  sret

s_unexpected:
  li a0, 'S'
  ld a1, SAVE_CAUSE(sp)
  ld a2, SAVE_EPC(sp)
  ld a3, SAVE_TVAL(sp)
  /* fall through */

/* Print "<M|S> trap cause=.. epc=.. tval=.. check=..\n" and fail the current check. */
report_trap:
  mv s1, a1
  mv s2, a2
  mv s3, a3
  jal putc
  la s4, msg_cause
  jal puts
  mv a0, s1
  jal puthex
  la s4, msg_epc
  jal puts
  mv a0, s2
  jal puthex
  la s4, msg_tval
  jal puts
  mv a0, s3
  jal puthex
  li a0, '\n'
  jal putc
  j fail

/* puts: string at s4. Clobbers a0, s4, s5, t5, t6. */
puts:
  mv s5, ra
1:lbu a0, 0(s4)
  beqz a0, 2f
  jal putc
  addi s4, s4, 1
  j 1b
2:mv ra, s5
  ret

/* puthex: a0 as 16 hex digits. Clobbers a0, s5-s8, t5, t6. */
puthex:
  mv s5, ra
  mv s6, a0
  li s7, 60
1:srl a0, s6, s7
  andi a0, a0, 15
  li s8, 10
  blt a0, s8, 2f
  addi a0, a0, 'a' - '0' - 10
2:addi a0, a0, '0'
  jal putc
  addi s7, s7, -4
  bgez s7, 1b
  mv ra, s5
  ret

/* putdec: a0 in decimal. Clobbers a0, s5-s8, t5, t6. */
putdec:
  mv s5, ra
  mv s6, a0
  li s7, 1
  li s8, 10
1:mul a0, s7, s8
  bgtu a0, s6, 2f
  mv s7, a0
  j 1b
2:divu a0, s6, s7
  remu s6, s6, s7
  addi a0, a0, '0'
  jal putc
  divu s7, s7, s8
  bnez s7, 2b
  mv ra, s5
  ret

/* putc: HTIF console putchar of a0 (device 1, command 1); waits for the host to
 * clear tohost, then acknowledges fromhost. Clobbers t5, t6. */
  .globl putc
putc:
  li t6, (1 << 56) | (1 << 48)
  or t6, t6, a0
  la t5, tohost
  sd t6, 0(t5)
1:ld t6, 0(t5)
  bnez t6, 1b
  la t5, fromhost
  sd zero, 0(t5)
  ret

  .globl pass
pass:
  fence
  li t6, 1
  la t5, tohost
  sd t6, 0(t5)
1:j 1b

  .globl fail
fail:
  fence
  bnez gp, 1f
  li gp, 9999
1:/* print "check <n in hex> failed" first: QEMU's exit status keeps only 8 bits */
  la s4, msg_check
  jal puts
  mv a0, gp
  jal putdec
  la s4, msg_failed
  jal puts
  slli t6, gp, 1
  ori t6, t6, 1
  la t5, tohost
  sd t6, 0(t5)
2:j 2b

  .option pop

  .section .rodata
msg_cause: .asciz " trap cause="
msg_epc:   .asciz " epc="
msg_tval:  .asciz " tval="
msg_check: .asciz "check "
msg_failed: .asciz " failed\n"

/* HTIF mailbox: tohost then fromhost, 8-byte aligned, own section. */
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8

  .data
  .align 6
  .globl m_save, t_cause, t_epc, t_tval, t_status, t_count
m_save:   .dword 0, 0
t_cause:  .dword 0
t_epc:    .dword 0
t_tval:   .dword 0
t_status: .dword 0
t_count:  .dword 0
t_resume: .dword 0
  .align 6
  .globl s_save, s_cause, s_epc, s_tval, s_status, s_count
s_save:   .dword 0, 0
s_cause:  .dword 0
s_epc:    .dword 0
s_tval:   .dword 0
s_status: .dword 0
s_count:  .dword 0
s_resume: .dword 0
  .align 12
stack:    .skip 4096
stack_top:

  .text
#endif
