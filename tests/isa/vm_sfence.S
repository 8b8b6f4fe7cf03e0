/* vm_sfence.S - SFENCE.VMA forms and ASIDs (priv spec 4.2.1), global
 * mappings, satp.ASID WARL (4.1.11: implemented ASID bits are the low ones),
 * and PTE bits that must fault when their extension is absent (4.4.1: bits
 * 63:54 reserved, N and PBMT without Svnapot/Svpbmt -> page fault).
 *
 *   root_a (ASID A) and root_b (ASID B) share l1/l0 for VA 0..2 MiB, except
 *   VA 0x30000000 which each maps privately (root_a -> l1_a, root_b -> l1_b).
 */
#include "common.h"
#include "vm.h"

#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

/* PTE value for label lbl with flags into reg */
.macro PTE_VAL reg, lbl, flags
  la \reg, \lbl
  srli \reg, \reg, 12
  slli \reg, \reg, 10
  ori \reg, \reg, \flags
.endm

main:
  PTE_LBL root_a, 0, pt_l1, PTE_V
  PTE_PA  root_a, 2, 0x80000000, RWAD | PTE_X | PTE_G
  PTE_LBL root_b, 0, pt_l1, PTE_V
  PTE_PA  root_b, 2, 0x80000000, RWAD | PTE_X | PTE_G
  PTE_LBL pt_l1, 0, pt_l0, PTE_V
  PTE_LBL pt_l0, 0xa, page_a, RWAD                 /* VA 0xa000, not global */
  PTE_LBL pt_l0, 0xb, page_a, RWAD | PTE_G         /* VA 0xb000, global */
  /* private: VA 0x4000_0000 (root index 1) -> l1_a / l1_b -> l0_a / l0_b */
  PTE_LBL root_a, 1, l1_a, PTE_V
  PTE_LBL l1_a, 0, l0_a, PTE_V
  PTE_LBL l0_a, 0, page_a, RWAD
  PTE_LBL root_b, 1, l1_b, PTE_V
  PTE_LBL l1_b, 0, l0_b, PTE_V
  PTE_LBL l0_b, 0, page_b, RWAD
  /* ---- satp.ASID: the implemented bits are the low ASIDLEN bits ---- */
  la t0, root_a
  srli t0, t0, 12
  li t1, SATP_SV39 | (0xffff << 44)
  or t0, t0, t1
  csrw satp, t0
  csrr a0, satp
  srli s0, a0, 44
  li t0, 0xffff
  and s0, s0, t0                 /* s0 = mask of implemented ASID bits */
  addi t0, s0, 1
  and t0, t0, s0
  CHECK 2, t0, 0                 /* of the form 2^k - 1 */
  /* s1 = ASID A, s2 = ASID B (both 0 when ASIDs are not implemented) */
  andi s1, s0, 1
  andi s2, s0, 2
  /* satp_a = Sv39 | A | root_a ; satp_b likewise */
  la t0, root_a
  srli t0, t0, 12
  li t1, SATP_SV39
  or t0, t0, t1
  slli t1, s1, 44
  or s3, t0, t1
  la t0, root_b
  srli t0, t0, 12
  li t1, SATP_SV39
  or t0, t0, t1
  slli t1, s2, 44
  or s4, t0, t1
  csrw satp, s3
  sfence.vma
  /* ---- SFENCE.VMA rs1 = x0, rs2 = ASID: non-global entries of that ASID ---- */
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_S, 2f
2:li a1, 0xa000
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 3f
  PTE_VAL t1, page_b, RWAD
  la t0, pt_l0
  sd t1, 0xa * 8(t0)
  sfence.vma zero, s1
  ld a0, 0(a1)
  li t0, 0xbbbbbbbbbbbbbbbb
  bne a0, t0, 4f
  /* rs1 = VA, rs2 = ASID */
  PTE_VAL t1, page_a, RWAD
  la t0, pt_l0
  sd t1, 0xa * 8(t0)
  sfence.vma a1, s1
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 5f
  /* global page: rs1 = VA, rs2 = x0 */
  li a1, 0xb000
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 6f
  PTE_VAL t1, page_b, RWAD | PTE_G
  la t0, pt_l0
  sd t1, 0xb * 8(t0)
  sfence.vma a1, zero
  ld a0, 0(a1)
  li t0, 0xbbbbbbbbbbbbbbbb
  bne a0, t0, 7f
  /* global page again, everything flushed */
  PTE_VAL t1, page_a, RWAD | PTE_G
  la t0, pt_l0
  sd t1, 0xb * 8(t0)
  sfence.vma
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 8f
  ecall
3:FAILNOW 3
4:FAILNOW 4
5:FAILNOW 5
6:FAILNOW 6
7:FAILNOW 7
8:FAILNOW 8
1:CHECK_TRAP 9, CAUSE_ECALL_S
  /* ---- two address spaces: VA 0x4000_0000 is page_a in A, page_b in B ---- */
  EXPECT_TRAP 9f
  GOTO_PRIV PRV_S, 10f
10:li a1, 0x40000000
  ld a0, 0(a1)                   /* A: page_a */
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 11f
  csrw satp, s4
  sfence.vma zero, s2
  ld a0, 0(a1)                   /* B: page_b */
  li t0, 0xbbbbbbbbbbbbbbbb
  bne a0, t0, 12f
  /* with distinct ASIDs, switching back needs no fence */
  beq s1, s2, 13f
  csrw satp, s3
  ld a0, 0(a1)
  li t0, 0xaaaaaaaaaaaaaaaa
  bne a0, t0, 14f
  csrw satp, s4
  ld a0, 0(a1)
  li t0, 0xbbbbbbbbbbbbbbbb
  bne a0, t0, 15f
13:ecall
11:FAILNOW 10
12:FAILNOW 11
14:FAILNOW 12
15:FAILNOW 13
9:CHECK_TRAP 14, CAUSE_ECALL_S
  csrw satp, s3
  sfence.vma
  /* ---- PTE bits of absent extensions fault ---- */
  PTE_LBL pt_l0, 0x20, page_a, RWAD
  li t1, 1 << 54                 /* reserved bit 54 */
  la t0, pt_l0
  ld t2, 0x20 * 8(t0)
  or t2, t2, t1
  sd t2, 0x20 * 8(t0)
  sfence.vma
  S_FAULT 20, CAUSE_LOAD_PAGE, 0x20000, ld a0, 0(a1)
  PTE_LBL pt_l0, 0x21, page_a, RWAD
  li t1, 1 << 60                 /* reserved bit 60 */
  la t0, pt_l0
  ld t2, 0x21 * 8(t0)
  or t2, t2, t1
  sd t2, 0x21 * 8(t0)
  sfence.vma
  S_FAULT 23, CAUSE_STORE_PAGE, 0x21000, sd a0, 0(a1)
  /* the same PTE without the bit works */
  PTE_LBL pt_l0, 0x21, page_a, RWAD
  sfence.vma
  S_LOAD 26, 0x21000, 0xaaaaaaaaaaaaaaaa
  /* Svpbmt PBMT (62:61) and Svnapot N (63) are not implemented: reserved */
  PTE_LBL pt_l0, 0x22, page_a, RWAD
  li t1, 1 << 61
  la t0, pt_l0
  ld t2, 0x22 * 8(t0)
  or t2, t2, t1
  sd t2, 0x22 * 8(t0)
  PTE_LBL pt_l0, 0x23, page_a, RWAD
  li t1, 1 << 63
  la t0, pt_l0
  ld t2, 0x23 * 8(t0)
  or t2, t2, t1
  sd t2, 0x23 * 8(t0)
  sfence.vma
  S_FAULT 30, CAUSE_LOAD_PAGE, 0x22000, ld a0, 0(a1)
  S_FAULT 33, CAUSE_LOAD_PAGE, 0x23000, ld a0, 0(a1)
  /* ---- S turns translation on and off itself (TVM = 0), and sets SUM in
   * sstatus to reach a U page ---- */
  PTE_LBL pt_l0, 0x25, page_b, RWAD | PTE_U
  csrw satp, zero
  sfence.vma
  EXPECT_TRAP 60f
  mv a2, s3
  GOTO_PRIV PRV_S, 61f
61:csrw satp, a2                 /* identity-mapped code keeps running */
  sfence.vma
  csrr a3, satp
  li t0, MSTATUS_SUM
  csrs sstatus, t0
  li a1, 0x25000
  ld a0, 0(a1)
  csrc sstatus, t0
  csrw satp, zero
  sfence.vma
  ecall
60:CHECK_TRAP 62, CAUSE_ECALL_S
  CHECKR 63, a3, s3
  CHECK 64, a0, 0xbbbbbbbbbbbbbbbb
  csrw satp, s3
  sfence.vma
  /* ---- translation succeeds but the physical address is unmapped: an
   * access fault of the access type, mtval = the virtual address (priv spec
   * 3.1.16 "even for physical-memory access-fault exceptions") ---- */
  PTE_PA pt_l0, 0x24, 0x0, RWAD | PTE_X
  sfence.vma
  S_FAULT 40, CAUSE_LOAD_ACCESS, 0x24010, ld a0, 0(a1)
  S_FAULT 43, CAUSE_STORE_ACCESS, 0x24010, sd a0, 0(a1)
  S_FAULT 46, CAUSE_FETCH_ACCESS, 0x24010, jalr ra, 0(a1)
  /* a page-table walk that reads an unmapped physical address: access fault
   * too (4.3.2 step 2: "If accessing pte violates a PMA or PMP check, raise an
   * access-fault exception corresponding to the original access type").
   * Known QEMU 7.2 deviation: it raises a page fault, failing check 51. */
  PTE_PA pt_l1, 0x10, 0x0, PTE_V                    /* VA 0x0200_0000.. */
  sfence.vma
  S_FAULT 50, CAUSE_LOAD_ACCESS, 0x2000000, ld a0, 0(a1)
  S_FAULT 53, CAUSE_STORE_ACCESS, 0x2000008, sd a0, 0(a1)
  csrw satp, zero
  sfence.vma
  j pass

  .data
  .align 12
root_a: .skip 4096
root_b: .skip 4096
pt_l1:  .skip 4096
pt_l0:  .skip 4096
l1_a:   .skip 4096
l0_a:   .skip 4096
l1_b:   .skip 4096
l0_b:   .skip 4096
page_a: .dword 0xaaaaaaaaaaaaaaaa
  .align 12
page_b: .dword 0xbbbbbbbbbbbbbbbb
  .align 12
