/* dirty.S - the riscv-tests "dirty" checks, done the way its current version
 * does them: M-mode loads/stores translated through MPRV with MPP = S (priv
 * spec 3.1.6.3) over an Sv39 1 GiB U page without D:
 *  - with SUM = 0 a store to the U page is a store page fault (15) with
 *    mtval = the address, and D stays clear (4.3.2: no A/D update on a fault);
 *  - with SUM = 1 the store succeeds and D becomes set (the hardware updates
 *    it here; a PTE without D never lets a store through silently);
 *  - a 1 GiB leaf whose PPN has low bits set is a misaligned superpage: page
 *    fault after SFENCE.VMA (4.3.2 step 6). */
#include "common.h"

#define DRAM_BASE 0x80000000

main:
  /* root[0]: VA [0, 1 GiB) -> PA DRAM_BASE, U R W X A, no D */
  li t0, ((DRAM_BASE >> 12) << 10) | PTE_V | PTE_U | PTE_R | PTE_W | PTE_X | PTE_A
  la t1, root
  sd t0, 0(t1)
  la t0, root
  srli t0, t0, 12
  li t1, SATP_SV39
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  la s1, dummy
  li t0, DRAM_BASE
  sub s1, s1, t0                  /* s1: VA of dummy */
  li s2, 7

  /* MPRV with MPP = S, SUM = 0 */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  EXPECT_TRAP 1f                  /* (its own stores must precede MPRV) */
  li t0, MSTATUS_MPP_S | MSTATUS_MPRV
  csrs mstatus, t0
  sw s2, 0(s1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  FAILNOW 2
1:li t0, MSTATUS_MPRV             /* the MRET back to M left MPP = U */
  csrc mstatus, t0
  CHECK_TRAP 3, CAUSE_STORE_PAGE
  la t6, t_tval
  ld a0, 0(t6)
  CHECKR 4, a0, s1
  la t0, root
  ld a0, 0(t0)
  andi a0, a0, PTE_D
  CHECK 5, a0, 0

  /* SUM = 1: the store goes through and sets D */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S | MSTATUS_MPRV | MSTATUS_SUM
  csrs mstatus, t0
  sw s2, 0(s1)
  lw a1, 0(s1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK 6, a1, 7
  la t0, dummy
  lw a0, 0(t0)
  CHECK 7, a0, 7
  la t0, root
  ld a0, 0(t0)
  andi a0, a0, PTE_A | PTE_D
  CHECK 8, a0, PTE_A | PTE_D

  /* a misaligned 1 GiB superpage (PPN bit 0 set) faults once flushed */
  la t0, root
  ld a0, 0(t0)
  ori a0, a0, 1 << 10
  sd a0, 0(t0)
  sfence.vma
  EXPECT_TRAP 1f
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPP_S | MSTATUS_MPRV
  csrs mstatus, t0
  sw s2, 0(s1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  FAILNOW 9
1:li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK_TRAP 10, CAUSE_STORE_PAGE
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  csrw satp, zero
  sfence.vma
  j pass

  .data
  .align 12
root: .skip 4096
dummy: .dword 0
