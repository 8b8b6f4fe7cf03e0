/* vm_tlb.S - permission checks that must be made on every access, not only
 * when a translation is first cached (priv spec 4.3.2: SUM, MXR, the current
 * privilege and MPRV are inputs of each access; SFENCE.VMA is needed only
 * after page-table changes, 4.2.1):
 *  - SUM cleared after S used a U page: the next S access faults;
 *  - MXR cleared after a load from an execute-only page: the next load faults;
 *  - a page S used (U = 0) is not usable from U; a U page cached by U is not
 *    usable by S without SUM;
 *  - a PTE downgraded (RW -> R, then invalid) and fenced: stores/loads fault;
 *  - MPRV on and off around cached translations;
 *  - writes through a page first only read (D = 0 after a fence): hardware
 *    sets D or faults.
 */
#include "common.h"
#include "vm.h"

#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

main:
  PTE_LBL pt_root, 0, pt_l1, PTE_V
  PTE_PA  pt_root, 1, 0x80000000, RWAD | PTE_X | PTE_U
  PTE_PA  pt_root, 2, 0x80000000, RWAD | PTE_X | PTE_G
  PTE_LBL pt_l1, 0, pt_l0, PTE_V
  PTE_LBL pt_l0, 1, page_a, RWAD                    /* S page */
  PTE_LBL pt_l0, 2, page_b, RWAD | PTE_U            /* U page */
  PTE_LBL pt_l0, 3, page_a, PTE_V | PTE_X | PTE_A   /* execute-only */
  PTE_LBL pt_l0, 4, page_c, RWAD                    /* downgraded below */
  SATP_SET SATP_SV39, pt_root
  /* ---- SUM: allowed, then cleared without a fence ---- */
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_S, 2f
2:li a1, 0x2000
  ld a0, 0(a1)                   /* cached with SUM = 1 */
  sd a0, 8(a1)
  li t0, MSTATUS_SUM
  csrc sstatus, t0
  li a0, 0x77
  ld a0, 0(a1)                   /* must fault now */
  FAILNOW 2
1:CHECK_TRAP 3, CAUSE_LOAD_PAGE
  CHECK_VAR 4, t_tval, 0x2000
  CHECK 5, a0, 0x77
  EXPECT_TRAP 3f
  GOTO_PRIV PRV_S, 4f
4:li a1, 0x2000
  sd a0, 8(a1)                   /* store too */
  FAILNOW 6
3:CHECK_TRAP 7, CAUSE_STORE_PAGE
  /* ---- MXR: allowed, then cleared ---- */
  EXPECT_TRAP 5f
  GOTO_PRIV PRV_S, 6f
6:li t0, MSTATUS_MXR
  csrs sstatus, t0
  li a1, 0x3000
  ld a0, 0(a1)
  li t1, 0xaaaaaaaaaaaaaaaa
  bne a0, t1, 7f
  csrc sstatus, t0
  ld a0, 8(a1)
7:FAILNOW 8
5:CHECK_TRAP 9, CAUSE_LOAD_PAGE
  CHECK_VAR 10, t_tval, 0x3008
  /* ---- privilege: S caches its page, U then may not use it ---- */
  EXPECT_TRAP 8f
  GOTO_PRIV PRV_S, 9f
9:li a1, 0x1000
  ld a0, 0(a1)
  SRET_TO 0, 10f                 /* U, via the U alias below */
10:FAILNOW 11
8:CHECK_TRAP 12, CAUSE_FETCH_PAGE   /* SRET into S code address from U: not U code */
  /* (that was U fetching an S page: fetch permission is per access too) */
  EXPECT_TRAP 11f
  GOTO_PRIV PRV_S, 12f
12:li a1, 0x1000
  ld a0, 0(a1)
  la t0, 13f
  li t1, U_ALIAS_OFFSET
  sub t0, t0, t1
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  sret
13:ld a0, 0(a1)                  /* U: S page, cached by S a moment ago */
  FAILNOW 13
11:CHECK_TRAP 14, CAUSE_LOAD_PAGE
  CHECK_VAR 15, t_tval, 0x1000
  CHECK_VAR_MASK 16, t_status, MSTATUS_MPP, 0
  /* U caches a U page; S (SUM = 0) may not use it */
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  EXPECT_TRAP 14f
  GOTO_U 15f
15:li a1, 0x2000
  ld a0, 0(a1)
  ecall
14:CHECK_TRAP 17, CAUSE_ECALL_U
  EXPECT_TRAP 16f
  GOTO_PRIV PRV_S, 17f
17:li a1, 0x2000
  ld a0, 0(a1)
  FAILNOW 18
16:CHECK_TRAP 19, CAUSE_LOAD_PAGE
  /* ---- MPRV: M-mode translation switched on and off ---- */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S
  csrs mstatus, t0
  li a1, 0x1000
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)                   /* S view: page_a */
  csrc mstatus, t0
  CHECK 20, a0, 0xaaaaaaaaaaaaaaaa
  la a1, page_b                  /* now untranslated: a physical address */
  ld a0, 0(a1)
  CHECK 21, a0, 0xbbbbbbbbbbbbbbbb
  EXPECT_TRAP 18f                /* MPP = U with MPRV: the S page faults */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li a1, 0x1000
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  FAILNOW 22
18:li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK_TRAP 23, CAUSE_LOAD_PAGE
  /* ---- PTE downgrades, fenced ---- */
  EXPECT_TRAP 19f
  GOTO_PRIV PRV_S, 20f
20:li a1, 0x4000
  li a0, 0x44
  sd a0, 0(a1)                   /* writable and cached */
  la t0, pt_l0
  la t1, page_c
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, PTE_V | PTE_R | PTE_A | PTE_D
  sd t1, 4 * 8(t0)               /* now read-only */
  sfence.vma a1, zero
  ld a0, 0(a1)
  li t2, 0x44
  bne a0, t2, 21f
  sd a0, 0(a1)                   /* must fault */
21:FAILNOW 24
19:CHECK_TRAP 25, CAUSE_STORE_PAGE
  CHECK_VAR 26, t_tval, 0x4000
  EXPECT_TRAP 22f
  GOTO_PRIV PRV_S, 23f
23:li a1, 0x4000
  la t0, pt_l0
  sd zero, 4 * 8(t0)             /* now invalid */
  sfence.vma
  ld a0, 0(a1)
  FAILNOW 27
22:CHECK_TRAP 28, CAUSE_LOAD_PAGE
  /* ---- D = 0 after the fence: a store sets D again or faults ---- */
  PTE_LBL pt_l0, 4, page_c, PTE_V | PTE_R | PTE_W | PTE_A
  sfence.vma
  EXPECT_TRAP 24f
  GOTO_PRIV PRV_S, 25f
25:li a1, 0x4000
  ld a0, 0(a1)
  li a0, 0x55
  sd a0, 0(a1)
  ecall
24:PTE_GET a2, pt_l0, 4
  andi a2, a2, PTE_D
  la t0, t_cause
  ld t0, 0(t0)
  li t1, CAUSE_ECALL_S
  bne t0, t1, 26f
  CHECK 29, a2, PTE_D
  la t0, page_c
  ld a0, 0(t0)
  CHECK 30, a0, 0x55
  j 27f
26:CHECK 31, t0, CAUSE_STORE_PAGE
  CHECK 32, a2, 0
27:
  csrw satp, zero
  sfence.vma
  j pass

  .data
  .align 12
pt_root: .skip 4096
pt_l1:   .skip 4096
pt_l0:   .skip 4096
page_a:  .dword 0xaaaaaaaaaaaaaaaa, 0xa1a1a1a1a1a1a1a1
  .align 12
page_b:  .dword 0xbbbbbbbbbbbbbbbb, 0
  .align 12
page_c:  .dword 0
  .align 12
