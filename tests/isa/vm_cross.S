/* vm_cross.S - accesses that straddle a page boundary under Sv39, with the
 * two virtual pages mapped to physical pages that are NOT adjacent:
 *  - a 32-bit instruction split over two pages executes with both halves;
 *  - a misaligned load split over two pages reads both (or traps misaligned);
 *  - an instruction whose second half is on an invalid page raises an
 *    instruction page fault with mepc = the instruction and mtval = the
 *    address of the part that faulted (priv spec 3.1.16: "mtval will contain
 *    the virtual address of the portion of the instruction that caused the
 *    fault, while mepc will point to the beginning of the instruction");
 *  - a misaligned load/store into an invalid page: misaligned trap (mtval =
 *    the address), or a page fault whose mtval lies in the faulting part.
 *
 *   VA 0x10000 -> page_p, VA 0x11000 -> page_q (page_q is below page_p in RAM)
 *   VA 0x12000 -> page_r, VA 0x13000 invalid
 */
#include "common.h"
#include "vm.h"

#define RWXAD (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define ADDI_A0_123 0x12350513     /* addi a0, a0, 0x123 */

main:
  PTE_LBL pt_root, 0, pt_l1, PTE_V
  PTE_PA  pt_root, 2, 0x80000000, RWXAD | PTE_G
  PTE_LBL pt_l1, 0, pt_l0, PTE_V
  PTE_LBL pt_l0, 0x10, page_p, RWXAD
  PTE_LBL pt_l0, 0x11, page_q, RWXAD
  PTE_LBL pt_l0, 0x12, page_r, RWXAD
  PTE_LBL pt_l0, 0x14, page_q, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D   /* data alias of page_q */
  PTE_LBL pt_l0, 0x15, page_r, RWXAD                                   /* page_r again ... */
  PTE_LBL pt_l0, 0x16, page_q, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D   /* ... then no X */
  PTE_LBL pt_l0, 0x17, page_s, PTE_V | PTE_R | PTE_X                   /* code, A = 0 */
  /* code: c.nop at p+0xffc, addi a0 split at p+0xffe / q+0, c.jr ra at q+2 */
  la t0, page_p + 0xffc
  li t1, 0x0001
  sh t1, 0(t0)
  li t1, ADDI_A0_123 & 0xffff
  sh t1, 2(t0)
  la t0, page_q
  li t1, ADDI_A0_123 >> 16
  sh t1, 0(t0)
  li t1, 0x8082
  sh t1, 2(t0)
  li t1, 0x5a5a5a5a
  sw t1, 4(t0)
  /* page_r: the first half of the same instruction in its last two bytes */
  la t0, page_r + 0xffc
  li t1, 0x0001
  sh t1, 0(t0)
  li t1, ADDI_A0_123 & 0xffff
  sh t1, 2(t0)
  /* page_s: li a0, 0x5b; ret */
  la t0, page_s
  li t1, 0x05b00513              /* addi a0, x0, 0x5b */
  sw t1, 0(t0)
  li t1, 0x8082
  sh t1, 4(t0)
  fence.i
  SATP_SET SATP_SV39, pt_root
  /* ---- the split instruction executes with both halves ---- */
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_S, 2f
2:li a0, 0
  li t0, 0x10ffc
  jalr ra, 0(t0)
  ecall
1:CHECK_TRAP 2, CAUSE_ECALL_S
  CHECK 3, a0, 0x123
  /* patch the second half through its physical page, fence.i, run again */
  la t0, page_q
  li t1, 0x7ff5                   /* addi a0, a0, 0x7ff high half */
  sh t1, 0(t0)
  fence.i
  sfence.vma
  EXPECT_TRAP 3f
  GOTO_PRIV PRV_S, 4f
4:li a0, 0
  li t0, 0x10ffe
  jalr ra, 0(t0)
  ecall
3:CHECK_TRAP 4, CAUSE_ECALL_S
  CHECK 5, a0, 0x7ff
  la t0, page_q
  li t1, ADDI_A0_123 >> 16
  sh t1, 0(t0)
  fence.i
  /* ---- second half on an invalid page: fetch page fault ---- */
  EXPECT_TRAP 5f
  GOTO_PRIV PRV_S, 6f
6:li t0, 0x12ffe
  jalr ra, 0(t0)
  FAILNOW 6
5:CHECK_TRAP 7, CAUSE_FETCH_PAGE
  CHECK_VAR 8, t_epc, 0x12ffe
  CHECK_VAR 9, t_tval, 0x13000
  /* the same when the split instruction is reached by falling through */
  EXPECT_TRAP 7f
  GOTO_PRIV PRV_S, 8f
8:li t0, 0x12ffc
  jalr ra, 0(t0)
  FAILNOW 10
7:CHECK_TRAP 11, CAUSE_FETCH_PAGE
  CHECK_VAR 12, t_epc, 0x12ffe
  CHECK_VAR 13, t_tval, 0x13000
  /* ---- misaligned load across the two non-adjacent pages ---- */
  EXPECT_TRAP 9f
  GOTO_PRIV PRV_S, 10f
10:li a0, 0x77
  li t0, 0x10ffc
  ld a0, 0(t0)
  ecall
9:la t0, t_cause
  ld t0, 0(t0)
  li t1, CAUSE_ECALL_S
  bne t0, t1, 11f
  CHECK 14, a0, 0x8082123505130001
  j 12f
11:CHECK 15, t0, CAUSE_MISALIGNED_LOAD
  CHECK_VAR 16, t_tval, 0x10ffc
  CHECK 17, a0, 0x77
12:
  /* ---- misaligned load / store into the invalid page ---- */
  EXPECT_TRAP 13f
  GOTO_PRIV PRV_S, 14f
14:li a0, 0x77
  li a1, 0x12ffc
  ld a0, 0(a1)
  FAILNOW 18
13:la t0, m_save
  ld t1, SAVE_CAUSE(t0)
  ld t2, SAVE_TVAL(t0)
  CHECK 19, a0, 0x77
  li t3, CAUSE_MISALIGNED_LOAD
  bne t1, t3, 15f
  CHECK 20, t2, 0x12ffc
  j 16f
15:CHECK 21, t1, CAUSE_LOAD_PAGE
  li t3, 0x13000                 /* mtval within the part on the invalid page */
  li gp, 22
  bltu t2, t3, fail
  li t3, 0x13003
  bgtu t2, t3, fail
16:
  EXPECT_TRAP 17f
  GOTO_PRIV PRV_S, 18f
18:li a1, 0x12ffe
  li a0, -1
  sw a0, 0(a1)
  FAILNOW 23
17:la t0, m_save
  ld t1, SAVE_CAUSE(t0)
  ld t2, SAVE_TVAL(t0)
  li t3, CAUSE_MISALIGNED_STORE
  bne t1, t3, 19f
  CHECK 24, t2, 0x12ffe
  j 20f
19:CHECK 25, t1, CAUSE_STORE_PAGE
  li t3, 0x13000
  li gp, 26
  bltu t2, t3, fail
  li t3, 0x13001
  bgtu t2, t3, fail
20:
  /* ---- self-modifying code through another virtual alias: S writes the
   * second half of the split instruction via the data-only VA 0x14000, then
   * FENCE.I, then runs it via VA 0x10ffe ---- */
  EXPECT_TRAP 21f
  GOTO_PRIV PRV_S, 22f
22:li a0, 0
  li t0, 0x10ffe
  jalr ra, 0(t0)                 /* warm any decode cache: a0 = 0x123 */
  li t1, 0x123
  bne a0, t1, 23f
  li t0, 0x14000
  li t1, 0x0015                  /* high half of addi a0, a0, 1 */
  sh t1, 0(t0)
  fence.i
  li a0, 0
  li t0, 0x10ffe
  jalr ra, 0(t0)
  ecall
23:FAILNOW 30
21:CHECK_TRAP 31, CAUSE_ECALL_S
  CHECK 32, a0, 1
  la t0, page_q
  li t1, ADDI_A0_123 >> 16
  sh t1, 0(t0)
  fence.i
  /* ---- second half on a valid page without X: fetch page fault there ---- */
  EXPECT_TRAP 24f
  GOTO_PRIV PRV_S, 25f
25:li t0, 0x15ffe
  jalr ra, 0(t0)
  FAILNOW 33
24:CHECK_TRAP 34, CAUSE_FETCH_PAGE
  CHECK_VAR 35, t_epc, 0x15ffe
  CHECK_VAR 36, t_tval, 0x16000
  /* ---- fetch through a PTE with A = 0: A set by hardware, or a fetch page
   * fault that leaves the PTE alone ---- */
  EXPECT_TRAP 26f
  GOTO_PRIV PRV_S, 27f
27:li a0, 0
  li t0, 0x17000
  jalr ra, 0(t0)
  ecall
26:PTE_GET a2, pt_l0, 0x17
  andi a2, a2, PTE_A
  la t0, t_cause
  ld t0, 0(t0)
  li t1, CAUSE_ECALL_S
  bne t0, t1, 28f
  CHECK 37, a0, 0x5b
  CHECK 38, a2, PTE_A
  j 29f
28:CHECK 39, t0, CAUSE_FETCH_PAGE
  CHECK_VAR 40, t_tval, 0x17000
  CHECK 41, a2, 0
29:
  csrw satp, zero
  sfence.vma
  j pass

  .data
  .align 12
pt_root: .skip 4096
pt_l1:   .skip 4096
pt_l0:   .skip 4096
page_q:  .skip 4096
page_gap: .skip 4096
page_p:  .skip 4096
page_r:  .skip 4096
page_s:  .skip 4096
