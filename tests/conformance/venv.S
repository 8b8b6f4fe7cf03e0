/* venv.S - the shape of the riscv-tests "v" environment: an S-mode kernel at
 * the top of an Sv48 address space (one 2 MiB megapage at VA
 * 0xffffffffffe00000 mapping the start of RAM, reached through three levels
 * of the last root/L2/L3 entries) and a U-mode program at low virtual
 * addresses (VA = PA - 0x80000000) whose 4 KiB pages are mapped on demand by
 * the kernel's page-fault handler (priv spec 4.3.2, 4.4, 4.5). The M-mode
 * boot enters U with an SRET executed in M-mode (3.3.2). Page faults,
 * illegal instructions and U ECALLs are delegated to S (medeleg). The kernel
 * maps pages without A/D and accepts either hardware A/D updates or a second
 * fault it resolves itself; at the end the PTEs must show A on both pages, D
 * on the written one and not on the code page. The S handler reports through
 * HTIF at its own virtual addresses. */
#include "common.h"

#define DRAM_BASE  0x80000000
#define KVA_BASE   0xffffffffffe00000
#define KOFF       (KVA_BASE - DRAM_BASE)   /* kernel VA = PA + KOFF */
#define PTE_TABLE  PTE_V
#define PTE_URWX   (PTE_V | PTE_U | PTE_R | PTE_W | PTE_X)

/* t0 = the PTE pointing at page-table label lbl */
.macro PT_PTR lbl
  la t0, \lbl
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_TABLE
.endm

main:
  /* root[0] -> u_l2 -> u_l3 -> u_ll (4 KiB leaves, filled on demand) */
  PT_PTR u_l2
  la t1, root
  sd t0, 0(t1)
  PT_PTR u_l3
  la t1, u_l2
  sd t0, 0(t1)
  PT_PTR u_ll
  la t1, u_l3
  sd t0, 0(t1)
  /* root[511] -> k_l2[511] -> k_l3[511] = 2 MiB leaf at DRAM_BASE, RWX A D, not U */
  PT_PTR k_l2
  la t1, root
  li t2, 511 * 8
  add t1, t1, t2
  sd t0, 0(t1)
  PT_PTR k_l3
  la t1, k_l2
  li t2, 511 * 8
  add t1, t1, t2
  sd t0, 0(t1)
  li t0, ((DRAM_BASE >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  la t1, k_l3
  li t2, 511 * 8
  add t1, t1, t2
  sd t0, 0(t1)

  la t0, root
  srli t0, t0, 12
  li t1, SATP_SV48
  or t0, t0, t1
  csrw satp, t0
  csrr a0, satp
  CHECKR 2, a0, t0                /* Sv48 is supported */
  sfence.vma

  li t1, KOFF
  la t0, kernel_trap
  add t0, t0, t1
  csrw stvec, t0
  li t0, (1 << CAUSE_ECALL_U) | (1 << CAUSE_FETCH_PAGE) | (1 << CAUSE_LOAD_PAGE) | \
         (1 << CAUSE_STORE_PAGE) | (1 << CAUSE_ILLEGAL)
  csrw medeleg, t0
  li t0, MSTATUS_FS | (3 << 15) | (3 << 9)   /* FS, XS, VS: what is not there stays 0 */
  csrs mstatus, t0
  csrw mie, zero
  /* pop_tf: SRET from M-mode with SPP = 0 enters U at sepc */
  li t0, MSTATUS_SPP
  csrc mstatus, t0
  la t0, user_entry
  li t1, DRAM_BASE
  sub t0, t0, t1
  csrw sepc, t0
  li gp, 3
  sret

/* ------------------------------------------------------------------ */
/* The S-mode kernel (runs at PA + KOFF; la/j are pc-relative). */
  .align 6
kernel_trap:
  csrw sscratch, t0
  la t0, k_save                   /* pc-relative: its kernel address */
  sd t1, 8(t0)
  sd t2, 16(t0)
  sd t3, 24(t0)
  csrr t1, sscratch
  sd t1, 0(t0)
  csrr t0, scause
  li t1, CAUSE_FETCH_PAGE
  beq t0, t1, k_fault
  li t1, CAUSE_LOAD_PAGE
  beq t0, t1, k_fault
  li t1, CAUSE_STORE_PAGE
  beq t0, t1, k_fault
  li t1, CAUSE_ILLEGAL
  beq t0, t1, k_illegal
  li t1, CAUSE_ECALL_U
  beq t0, t1, k_ecall
  FAILNOW 4

k_fault:
  csrr t2, stval
  li t1, 0x200000
  li gp, 5
  bgeu t2, t1, fail               /* only the low 2 MiB is the program */
  srli t2, t2, 12                 /* vpn */
  la t3, u_ll
  slli t1, t2, 3
  add t3, t3, t1                  /* &u_ll[vpn], kernel VA */
  ld t1, 0(t3)
  bnez t1, k_ad                   /* mapped already: A/D left to software */
  /* first fault on this page: log the cause, map VA -> VA + DRAM_BASE */
  la t1, fault_log
  ld t0, 0(t1)                    /* count */
  slli t0, t0, 3
  add t0, t0, t1
  csrr t1, scause
  sd t1, 8(t0)
  la t1, fault_log
  ld t0, 0(t1)
  addi t0, t0, 1
  sd t0, 0(t1)
  li t1, DRAM_BASE >> 12
  add t1, t1, t2
  slli t1, t1, 10
  ori t1, t1, PTE_URWX
  sd t1, 0(t3)
  j k_fence
k_ad:
  ori t1, t1, PTE_A
  csrr t0, scause
  li t2, CAUSE_STORE_PAGE
  bne t0, t2, 1f
  ori t1, t1, PTE_D
1:sd t1, 0(t3)
k_fence:
  csrr t0, stval
  sfence.vma t0, zero
  j k_return

k_illegal:
  /* the U program's `csrr a1, mstatus`: stval is 0 or its bits */
  csrr t0, stval
  beqz t0, 1f
  li t1, 0x300025f3
  li gp, 6
  bne t0, t1, fail
1:la t1, illegal_count
  ld t0, 0(t1)
  addi t0, t0, 1
  sd t0, 0(t1)
  csrr t0, sepc
  addi t0, t0, 4
  csrw sepc, t0
k_return:
  la t0, k_save
  ld t1, 8(t0)
  ld t2, 16(t0)
  ld t3, 24(t0)
  ld t0, 0(t0)
  sret

k_ecall:
  CHECK 7, a0, 1                  /* the U program's verdict */
  CHECK_VAR 8, fault_log, 2
  CHECK_VAR 9, fault_log + 8, CAUSE_FETCH_PAGE
  CHECK_VAR 10, fault_log + 16, CAUSE_STORE_PAGE
  CHECK_VAR 11, illegal_count, 1
  /* A/D of the two pages */
  la t0, user_entry               /* kernel VA; its U VA = kernel VA - KVA_BASE */
  li t1, KVA_BASE
  sub t0, t0, t1
  srli t0, t0, 12
  slli t0, t0, 3
  la t1, u_ll
  add t1, t1, t0
  ld a0, 0(t1)
  andi a0, a0, PTE_A | PTE_D
  CHECK 12, a0, PTE_A
  la t0, user_data
  li t1, KVA_BASE
  sub t0, t0, t1
  srli t0, t0, 12
  slli t0, t0, 3
  la t1, u_ll
  add t1, t1, t0
  ld a0, 0(t1)
  andi a0, a0, PTE_A | PTE_D
  CHECK 13, a0, PTE_A | PTE_D
  /* the store reached the physical page */
  la t0, user_data
  ld a0, 0(t0)
  CHECK 14, a0, 0x55
  /* the kernel runs translated: its view of tohost is the megapage */
  auipc t0, 0
  srli t0, t0, 21
  li t1, KVA_BASE
  srli t1, t1, 21
  CHECKR 15, t0, t1
  j pass

/* ------------------------------------------------------------------ */
/* The U-mode program (runs at PA - DRAM_BASE). */
  .align 12
user_entry:
  la t0, user_data                /* pc-relative: its U address */
  li t1, 0x55
  sd t1, 0(t0)
  ld t2, 0(t0)
  bne t1, t2, 1f
  ld t3, 8(t0)
  csrr a1, mstatus                /* illegal in U: the kernel skips it */
  li a0, 1
  ecall
1:li a0, 3
  ecall
  .align 12
user_data: .dword 0, 0
  .align 12

  .data
  .align 12
root: .skip 4096
u_l2: .skip 4096
u_l3: .skip 4096
u_ll: .skip 4096
k_l2: .skip 4096
k_l3: .skip 4096
fault_log: .dword 0, 0, 0, 0, 0, 0, 0, 0
illegal_count: .dword 0
k_save: .skip 64
