/* vm_sv48.S - Sv48 (priv spec 4.5): four-level walk, 4 KiB / 2 MiB / 1 GiB /
 * 512 GiB pages, faults at each of the four levels, misaligned 512 GiB page,
 * canonical-address rule for 48-bit VAs, and the satp MODE value 9.
 *
 *   0x0000_8000_0000     1 GiB identity (via l3[0] -> l2a[2]): code and data
 *   0x0000_4000_0000     1 GiB U alias (l2a[1])
 *   0x0080_0000_1000     4 KiB page_a (l3[1] -> l2b[0] -> l1b[0] -> l0b[1])
 *   0x0080_0000_2000     invalid at level 0;  ..._3000 pointer at level 0
 *   0x0080_0020_0000     2 MiB -> PA 0x8020_0000 (l1b[1])
 *   0x0080_0040_0000     invalid at level 1
 *   0x0080_4000_0000     1 GiB -> PA 0x8000_0000 (l2b[1])
 *   0x0080_8000_0000     invalid at level 2
 *   0x0100_0000_0000     512 GiB -> PA 0 (l3[2])
 *   0x0180_0000_0000     misaligned 512 GiB page (l3[3])
 *   0x0200_0000_0000     invalid at level 3 (l3[4])
 */
#include "common.h"
#include "vm.h"

#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define MEGA_PA 0x80200000

main:
  PTE_LBL l3, 0, l2a, PTE_V
  PTE_PA  l2a, 1, 0x80000000, RWAD | PTE_X | PTE_U
  PTE_PA  l2a, 2, 0x80000000, RWAD | PTE_X | PTE_G
  PTE_LBL l3, 1, l2b, PTE_V
  PTE_LBL l2b, 0, l1b, PTE_V
  PTE_PA  l2b, 1, 0x80000000, RWAD
  PTE_LBL l1b, 0, l0b, PTE_V
  PTE_PA  l1b, 1, MEGA_PA, RWAD
  PTE_LBL l0b, 1, page_a, RWAD
  PTE_LBL l0b, 3, page_a, PTE_V
  PTE_PA  l3, 2, 0, RWAD
  PTE_PA  l3, 3, 0x80000000, RWAD
  li t0, MEGA_PA + 0x1ff000
  li t1, 0x4444444444444444
  sd t1, 0(t0)
  /* satp accepts Sv48 (mode 9) */
  SATP_SET SATP_SV48, l3
  csrr s0, satp
  srli a0, s0, 60
  CHECK 2, a0, 9
  li t0, (15 << 60)
  csrw satp, t0
  csrr a0, satp
  CHECKR 3, a0, s0
  /* ---- each page size ---- */
  S_LOAD 10, 0x8000001000, 0xaaaaaaaaaaaaaaaa
  S_LOAD 12, 0x80003ff000, 0x4444444444444444
  S_STORE 14, 0x8000001008, 0x77, page_a, 8
  /* 1 GiB and 512 GiB pages: VA base + (page_a - PA base) */
  EXPECT_TRAP 1f
  la a1, page_a
  li t0, 0x8000000000 + 0x40000000 - 0x80000000
  add a1, a1, t0
  la a2, page_a
  li t0, 0x10000000000
  add a2, a2, t0
  GOTO_PRIV PRV_S, 2f
2:ld a0, 0(a1)
  ld a3, 8(a2)
  ecall
1:CHECK_TRAP 16, CAUSE_ECALL_S
  CHECK 17, a0, 0xaaaaaaaaaaaaaaaa
  CHECK 18, a3, 0x77
  /* U through the alias */
  EXPECT_TRAP 3f
  GOTO_U 4f
4:ecall
3:CHECK_TRAP 19, CAUSE_ECALL_U
  /* ---- faults at each level ---- */
  S_FAULT 20, CAUSE_LOAD_PAGE, 0x20000000000, ld a0, 0(a1)     /* level 3 invalid */
  S_FAULT 23, CAUSE_LOAD_PAGE, 0x8080000000, ld a0, 0(a1)      /* level 2 invalid */
  S_FAULT 26, CAUSE_STORE_PAGE, 0x8000400000, sd a0, 0(a1)     /* level 1 invalid */
  S_FAULT 29, CAUSE_FETCH_PAGE, 0x8000002000, jalr ra, 0(a1)   /* level 0 invalid */
  S_FAULT 32, CAUSE_LOAD_PAGE, 0x8000003000, ld a0, 0(a1)      /* pointer at level 0 */
  S_FAULT 35, CAUSE_LOAD_PAGE, 0x18000000000, ld a0, 0(a1)     /* misaligned 512 GiB */
  S_FAULT 38, CAUSE_LOAD_PAGE, 0x800000000000, ld a0, 0(a1)    /* bit 47 set, 63:48 clear */
  S_FAULT 41, CAUSE_STORE_PAGE, 0x0001000000000000, sd a0, 0(a1)  /* bit 48 set */
  S_FAULT 44, CAUSE_FETCH_PAGE, 0x800000000000, jalr ra, 0(a1)
  /* the same table is not Sv39: with Sv39, VA 0x80_0000_1000 is non-canonical */
  SATP_SET SATP_SV39, l2a
  S_FAULT 47, CAUSE_LOAD_PAGE, 0x8000001000, ld a0, 0(a1)
  csrw satp, zero
  sfence.vma
  j pass

  .data
  .align 12
l3:  .skip 4096
l2a: .skip 4096
l2b: .skip 4096
l1b: .skip 4096
l0b: .skip 4096
page_a: .dword 0xaaaaaaaaaaaaaaaa, 0
  .align 12
