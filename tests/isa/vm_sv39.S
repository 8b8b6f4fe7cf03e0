/* vm_sv39.S - Sv39 address translation (priv spec 4.4, walk in 4.3.2):
 * 4 KiB, 2 MiB and 1 GiB pages; page faults at each level (invalid PTE,
 * W-without-R, non-leaf at the last level, misaligned superpages, non-canonical
 * addresses); U/S and R/W/X permissions, SUM, MXR, MPRV; A/D handling (either
 * hardware update or page fault, consistently); SFENCE.VMA after a PTE change;
 * instruction page faults; satp WARL. Faults are taken in M (mtval = VA),
 * plus one delegated to S (stval).
 *
 * Virtual map (built below):
 *   0x0000_1000..  4 KiB pages through pt_root[0] -> pt_l1[0] -> pt_l0[i]
 *   0x0020_0000    2 MiB page  -> PA 0x8020_0000 (pt_l1[1])
 *   0x0040_0000    invalid at level 1 (pt_l1[2])
 *   0x0060_0000    misaligned 2 MiB page (pt_l1[3])
 *   0x4000_0000    1 GiB -> PA 0x8000_0000, U=1 (U-mode alias of the program)
 *   0x8000_0000    1 GiB identity, U=0, G=1 (S-mode code and data)
 *   0xC000_0000    1 GiB -> PA 0x8000_0000, read/write only
 *   0x1_0000_0000  invalid at level 2 (pt_root[4])
 *   0x1_4000_0000  misaligned 1 GiB page (pt_root[5])
 */
#include "common.h"
#include "vm.h"

#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define MEGA_PA 0x80200000

main:
  /* ---- build the tables ---- */
  PTE_LBL pt_root, 0, pt_l1, PTE_V
  PTE_PA  pt_root, 1, 0x80000000, RWAD | PTE_X | PTE_U
  PTE_PA  pt_root, 2, 0x80000000, RWAD | PTE_X | PTE_G
  PTE_PA  pt_root, 3, 0x80000000, RWAD
  PTE_PA  pt_root, 5, MEGA_PA, RWAD                   /* PPN[1] != 0: misaligned */
  PTE_LBL pt_l1, 0, pt_l0, PTE_V
  PTE_PA  pt_l1, 1, MEGA_PA, RWAD
  PTE_PA  pt_l1, 3, MEGA_PA + 0x1000, RWAD            /* PPN[0] != 0: misaligned */
  PTE_LBL pt_l0, 1, page_a, RWAD
  PTE_LBL pt_l0, 2, page_b, RWAD | PTE_U
  PTE_LBL pt_l0, 4, page_a, PTE_V | PTE_W | PTE_A | PTE_D   /* W without R: reserved */
  PTE_LBL pt_l0, 5, page_a, PTE_V                           /* pointer at level 0 */
  PTE_LBL pt_l0, 6, page_a, PTE_V | PTE_R | PTE_A           /* read-only */
  PTE_LBL pt_l0, 7, page_a, PTE_V | PTE_X | PTE_A           /* execute-only */
  PTE_LBL pt_l0, 8, page_c, PTE_V | PTE_R | PTE_W           /* A = 0, D = 0 */
  PTE_LBL pt_l0, 9, page_d, PTE_V | PTE_R | PTE_W | PTE_A   /* D = 0 */
  PTE_LBL pt_l0, 10, page_a, RWAD                           /* remapped (sfence) */
  PTE_LBL pt_l0, 11, xpage, PTE_V | PTE_R | PTE_X | PTE_A   /* code */
  PTE_LBL pt_l0, 12, xpage, PTE_V | PTE_R | PTE_A           /* code, not executable */
  PTE_LBL pt_l0, 13, xpage, PTE_V | PTE_R | PTE_X | PTE_A | PTE_U  /* user code */
  PTE_LBL pt_l0, 14, page_b, RWAD | PTE_U | PTE_X           /* user data */
  /* data in the 2 MiB page, written physically */
  li t0, MEGA_PA
  li t1, 0x2222222222222222
  sd t1, 0(t0)
  li t0, MEGA_PA + 0x1ff008
  li t1, 0x3333333333333333
  sd t1, 0(t0)
  /* ---- satp: Sv39 accepted; an unsupported mode leaves satp unchanged ---- */
  SATP_SET SATP_SV39, pt_root
  csrr s0, satp
  srli a0, s0, 60
  CHECK 2, a0, 8
  li t0, (14 << 60) | 0x12345    /* reserved MODE */
  csrw satp, t0
  csrr a0, satp
  CHECKR 3, a0, s0
  li t0, (1 << 60) | 0x12345     /* Sv32's MODE value is not valid on RV64 */
  csrw satp, t0
  csrr a0, satp
  CHECKR 4, a0, s0
  /* M-mode is never translated (without MPRV) */
  la a1, page_a
  ld a0, 0(a1)
  CHECK 5, a0, 0xaaaaaaaaaaaaaaaa
  /* ---- translation at each level ---- */
  S_LOAD 10, 0x1000, 0xaaaaaaaaaaaaaaaa      /* 4 KiB */
  S_LOAD 12, 0x1008, 0xa1a1a1a1a1a1a1a1
  S_LOAD 14, 0x200000, 0x2222222222222222    /* 2 MiB */
  S_LOAD 16, 0x3ff008, 0x3333333333333333
  S_STORE 18, 0x1010, 0x1234, page_a, 16
  /* 1 GiB: VA 0xC000_0000 + (page_a - 0x8000_0000) */
  EXPECT_TRAP 1f
  la a1, page_a
  li t0, 0x40000000
  add a1, a1, t0
  GOTO_PRIV PRV_S, 2f
2:ld a0, 0(a1)
  ecall
1:CHECK_TRAP 20, CAUSE_ECALL_S
  CHECK 21, a0, 0xaaaaaaaaaaaaaaaa
  /* S code runs translated (identity gigapage) and through a 4 KiB X page */
  EXPECT_TRAP 3f
  GOTO_PRIV PRV_S, 4f
4:li a0, 0
  li t0, 0xb000
  jalr ra, 0(t0)                 /* xfunc at VA 0xb000 */
  ecall
3:CHECK_TRAP 22, CAUSE_ECALL_S
  CHECK 23, a0, 0x5a
  /* ---- faults at each level (load 13, store 15, fetch 12) ---- */
  S_FAULT 30, CAUSE_LOAD_PAGE, 0x100000000, ld a0, 0(a1)     /* level 2 invalid */
  S_FAULT 33, CAUSE_STORE_PAGE, 0x100000000, sd a0, 0(a1)
  S_FAULT 36, CAUSE_LOAD_PAGE, 0x400000, ld a0, 0(a1)        /* level 1 invalid */
  S_FAULT 39, CAUSE_STORE_PAGE, 0x400008, sw a0, 0(a1)
  S_FAULT 42, CAUSE_LOAD_PAGE, 0x3000, lbu a0, 0(a1)         /* level 0 invalid */
  S_FAULT 45, CAUSE_FETCH_PAGE, 0x3000, jalr ra, 0(a1)
  S_FAULT 48, CAUSE_LOAD_PAGE, 0x4000, ld a0, 0(a1)          /* W without R */
  S_FAULT 51, CAUSE_STORE_PAGE, 0x4000, sd a0, 0(a1)
  S_FAULT 54, CAUSE_LOAD_PAGE, 0x5000, ld a0, 0(a1)          /* non-leaf at level 0 */
  S_FAULT 57, CAUSE_LOAD_PAGE, 0x600000, ld a0, 0(a1)        /* misaligned 2 MiB */
  S_FAULT 60, CAUSE_LOAD_PAGE, 0x140000000, ld a0, 0(a1)     /* misaligned 1 GiB */
  S_FAULT 63, CAUSE_FETCH_PAGE, 0x140000000, jalr ra, 0(a1)
  S_FAULT 66, CAUSE_LOAD_PAGE, 0x8000000000, ld a0, 0(a1)    /* non-canonical (bit 39) */
  S_FAULT 69, CAUSE_STORE_PAGE, 0xffffff0000000000, sd a0, 0(a1)  /* non-canonical */
  /* mepc of a faulting load is the load; the destination is not written */
  EXPECT_TRAP 5f
  li a1, 0x3000
  li a0, 0x777
  GOTO_PRIV PRV_S, 6f
6:ld a0, 0(a1)
  FAILNOW 74
5:CHECK_TRAP 75, CAUSE_LOAD_PAGE
  CHECK_VAR_ADDR 76, t_epc, 6b
  CHECK 77, a0, 0x777
  CHECK_VAR_MASK 78, t_status, MSTATUS_MPP, MSTATUS_MPP_S
  /* ---- R/W/X permissions ---- */
  S_LOAD 80, 0x6000, 0xaaaaaaaaaaaaaaaa                     /* read-only: loads ok */
  S_FAULT 82, CAUSE_STORE_PAGE, 0x6000, sd a0, 0(a1)        /* ... stores fault */
  S_FAULT 85, CAUSE_STORE_PAGE, 0x6008, amoadd.d a0, a0, (a1)  /* AMO: store fault */
  S_FAULT 88, CAUSE_LOAD_PAGE, 0x7000, ld a0, 0(a1)         /* execute-only, MXR = 0 */
  S_FAULT 91, CAUSE_STORE_PAGE, 0x7000, sd a0, 0(a1)
  S_FAULT 94, CAUSE_FETCH_PAGE, 0xc000, jalr ra, 0(a1)      /* not executable */
  CHECK_VAR 97, t_epc, 0xc000                               /* mepc = the target */
  S_FAULT 98, CAUSE_FETCH_PAGE, 0x1000, jalr ra, 0(a1)      /* data page */
  /* MXR = 1: loads from execute-only pages succeed */
  li t0, MSTATUS_MXR
  csrs mstatus, t0
  S_LOAD 101, 0x7000, 0xaaaaaaaaaaaaaaaa
  S_FAULT 103, CAUSE_STORE_PAGE, 0x7000, sd a0, 0(a1)       /* MXR is read-only */
  li t0, MSTATUS_MXR
  csrc mstatus, t0
  /* ---- U/S: S may not touch U pages unless SUM, never execute them ---- */
  S_FAULT 110, CAUSE_LOAD_PAGE, 0x2000, ld a0, 0(a1)
  S_FAULT 113, CAUSE_STORE_PAGE, 0x2000, sd a0, 0(a1)
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  S_LOAD 116, 0x2000, 0xbbbbbbbbbbbbbbbb
  S_STORE 118, 0x2008, 0x5678, page_b, 8
  S_FAULT 120, CAUSE_FETCH_PAGE, 0xd000, jalr ra, 0(a1)     /* even with SUM */
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  /* U may use U pages, not S pages */
  U_LOAD 123, 0x2000, 0xbbbbbbbbbbbbbbbb
  U_FAULT 125, CAUSE_LOAD_PAGE, 0x1000, ld a0, 0(a1)
  U_FAULT 128, CAUSE_STORE_PAGE, 0x1000, sd a0, 0(a1)
  U_FAULT 131, CAUSE_FETCH_PAGE, 0xb000, jalr ra, 0(a1)     /* S code page */
  EXPECT_TRAP 7f                                            /* U code page runs in U */
  li a0, 0
  GOTO_U 8f
8:li t0, 0xd000
  jalr ra, 0(t0)
  ecall
7:CHECK_TRAP 134, CAUSE_ECALL_U
  CHECK 135, a0, 0x5a
  /* ---- A and D: hardware update or page fault, consistently ---- */
  /* load through a PTE with A = 0 */
  li s4, 0                       /* 1 = hardware set A */
  EXPECT_TRAP 9f
  li a1, 0x8000
  GOTO_PRIV PRV_S, 10f
10:ld a0, 0(a1)
  ecall
9:la t0, t_cause
  ld t0, 0(t0)
  li t1, CAUSE_ECALL_S
  bne t0, t1, 11f
  li s4, 1
  CHECK 140, a0, 0xcccccccccccccccc
  PTE_GET a2, pt_l0, 8
  andi a3, a2, PTE_A
  CHECK 141, a3, PTE_A           /* A now set */
  andi a3, a2, PTE_D
  CHECK 142, a3, 0               /* a load does not set D */
  j 12f
11:CHECK 143, t0, CAUSE_LOAD_PAGE
  CHECK_VAR 144, t_tval, 0x8000
  PTE_GET a2, pt_l0, 8
  andi a3, a2, PTE_A | PTE_D
  CHECK 145, a3, 0               /* a faulting walk leaves the PTE alone */
12:
  /* store through a PTE with A = 1, D = 0 */
  li s5, 0
  EXPECT_TRAP 13f
  li a1, 0x9000
  li a2, 0x99
  GOTO_PRIV PRV_S, 14f
14:ld a0, 0(a1)                  /* a load is fine (A = 1) */
  sd a2, 0(a1)
  ecall
13:la t0, t_cause
  ld t0, 0(t0)
  li t1, CAUSE_ECALL_S
  bne t0, t1, 15f
  li s5, 1
  la t0, page_d
  ld a3, 0(t0)
  CHECK 146, a3, 0x99
  PTE_GET a2, pt_l0, 9
  andi a3, a2, PTE_D
  CHECK 147, a3, PTE_D
  j 16f
15:CHECK 148, t0, CAUSE_STORE_PAGE
  CHECK_VAR 149, t_tval, 0x9000
  PTE_GET a2, pt_l0, 9
  andi a3, a2, PTE_D
  CHECK 150, a3, 0
  la t0, page_d
  ld a3, 0(t0)
  CHECK 151, a3, 0xdddddddddddddddd   /* the store did not happen */
16:CHECKR 152, s4, s5            /* the same policy for A and D */
  /* a store through A = 0, D = 0: both set, or a store page fault */
  PTE_LBL pt_l0, 8, page_c, PTE_V | PTE_R | PTE_W
  sfence.vma
  EXPECT_TRAP 17f
  li a1, 0x8000
  GOTO_PRIV PRV_S, 18f
18:sd a1, 0(a1)
  ecall
17:PTE_GET a2, pt_l0, 8
  andi a3, a2, PTE_A | PTE_D
  beqz s4, 19f
  CHECK_TRAP 153, CAUSE_ECALL_S
  CHECK 154, a3, PTE_A | PTE_D
  j 20f
19:CHECK_TRAP 155, CAUSE_STORE_PAGE
  CHECK 156, a3, 0
20:
  /* ---- SFENCE.VMA after changing a PTE (S edits its own page table) ---- */
  EXPECT_TRAP 21f
  GOTO_PRIV PRV_S, 22f
22:li a1, 0xa000
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 23f
  la t0, pt_l0
  la t1, page_b
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, RWAD
  sd t1, 10 * 8(t0)
  sfence.vma a1, zero            /* by address */
  ld a0, 0(a1)
  li t0, 0xbbbbbbbbbbbbbbbb
  bne a0, t0, 24f
  la t0, pt_l0
  la t1, page_a
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, RWAD
  sd t1, 10 * 8(t0)
  sfence.vma                     /* everything */
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 25f
  /* invalidate the PTE: the next access faults */
  la t0, pt_l0
  sd zero, 10 * 8(t0)
  sfence.vma a1, zero
  li a1, 0xa000
  ld a0, 0(a1)                   /* faults: caught in M (not delegated yet) */
  FAILNOW 159
23:FAILNOW 160
24:FAILNOW 161
25:FAILNOW 162
21:CHECK_TRAP 163, CAUSE_LOAD_PAGE
  CHECK_VAR 158, t_tval, 0xa000
  /* ---- a page fault delegated to S: scause/stval/sepc ---- */
  li t0, 1 << CAUSE_LOAD_PAGE
  csrw medeleg, t0
  la t0, s_trap
  csrw stvec, t0
  EXPECT_TRAP 27f
  SEXPECT_TRAP 26f
  li a1, 0xa008
  GOTO_PRIV PRV_S, 28f
28:ld a0, 0(a1)
  FAILNOW 164
26:ecall                         /* back to M from the S handler's resume */
27:CHECK_TRAP 165, CAUSE_ECALL_S
  CHECK_STRAP 166, CAUSE_LOAD_PAGE
  CHECK_VAR 167, s_tval, 0xa008
  CHECK_VAR_ADDR 168, s_epc, 28b
  csrw medeleg, zero
  /* ---- MPRV: M-mode loads and stores translated with MPP's privilege ---- */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S
  csrs mstatus, t0
  li a1, 0x1000
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)                   /* VA 0x1000 -> page_a */
  csrc mstatus, t0
  CHECK 170, a0, 0xaaaaaaaaaaaaaaaa
  /* MPRV with MPP = S and SUM = 0: a U page faults (in M) */
  EXPECT_TRAP 29f
  li a1, 0x2000
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S
  csrs mstatus, t0
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  FAILNOW 171
29:li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK_TRAP 172, CAUSE_LOAD_PAGE
  CHECK_VAR 173, t_tval, 0x2000
  CHECK_VAR_MASK 174, t_status, MSTATUS_MPP, MSTATUS_MPP_M   /* trapped from M */
  /* MPP = U: U pages readable, S pages not */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li a1, 0x2000
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)
  csrc mstatus, t0
  CHECK 175, a0, 0xbbbbbbbbbbbbbbbb
  EXPECT_TRAP 30f
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li a1, 0x1000
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  sd a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  FAILNOW 176
30:li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK_TRAP 177, CAUSE_STORE_PAGE
  CHECK_VAR 178, t_tval, 0x1000
  /* MPRV with MXR and with SUM */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S
  csrs mstatus, t0
  li a1, 0x7000
  li t0, MSTATUS_MPRV | MSTATUS_MXR
  csrs mstatus, t0
  ld a0, 0(a1)
  li a1, 0x2008
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  ld a2, 0(a1)
  li t0, MSTATUS_MPRV | MSTATUS_MXR | MSTATUS_SUM
  csrc mstatus, t0
  CHECK 179, a0, 0xaaaaaaaaaaaaaaaa
  CHECK 180, a2, 0x5678
  /* MPRV with MPP = M: no translation */
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  la a1, page_b
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ld a0, 0(a1)
  csrc mstatus, t0
  CHECK 181, a0, 0xbbbbbbbbbbbbbbbb
  /* ---- Bare again: S is untranslated ---- */
  csrw satp, zero
  sfence.vma
  EXPECT_TRAP 31f
  la a1, page_a
  GOTO_PRIV PRV_S, 32f
32:ld a0, 0(a1)
  ecall
31:CHECK_TRAP 190, CAUSE_ECALL_S
  CHECK 191, a0, 0xaaaaaaaaaaaaaaaa
  j pass

  /* a 4 KiB page of code mapped at VA 0xb000 (X), 0xc000 (no X), 0xd000 (U) */
  .align 12
xpage:
  li a0, 0x5a
  ret
  .align 12

  .data
  .align 12
pt_root: .skip 4096
pt_l1:   .skip 4096
pt_l0:   .skip 4096
page_a:  .dword 0xaaaaaaaaaaaaaaaa, 0xa1a1a1a1a1a1a1a1
  .align 12
page_b:  .dword 0xbbbbbbbbbbbbbbbb, 0
  .align 12
page_c:  .dword 0xcccccccccccccccc
  .align 12
page_d:  .dword 0xdddddddddddddddd
  .align 12
