/* amo_misaligned.S - misaligned LR/SC/AMO (unprivileged spec, Zaamo/Zalrsc:
 * "If the address is not naturally aligned, an address-misaligned exception or
 * an access-fault exception will be generated"). An AMO or SC is a store/AMO
 * access, so the cause is 6 (or 7); LR is a load, so 4 (or 5). mtval holds the
 * faulting address; neither rd nor memory changes.
 * Known QEMU 7.2 deviation: QEMU raises cause 4 (load misaligned) for a
 * misaligned AMO, so this program fails check 101 there (run-on-qemu.sh
 * reports it as a known deviation). Spike converts the AMO's load trap into a
 * store trap, as the spec requires. */
#include "common.h"

main:
  /* ---- misaligned LR/SC/AMO: address-misaligned (or access-fault) trap with
   * mtval = the address; no register or memory update ---- */
  la a1, amo
  li a2, 0x1122334455667788
  sd a2, 0(a1)
  sd a2, 8(a1)
  addi a4, a1, 4                 /* 4-aligned, not 8-aligned */
  li a0, 0xabc
  li a2, 1
  EXPECT_TRAP 3f
  amoadd.d a0, a2, (a4)
  FAILNOW 100
3:call amo_fault_cause
  CHECK 101, a5, 1
  CHECK 102, a0, 0xabc
  la t0, t_tval
  ld t0, 0(t0)
  CHECKR 103, t0, a4
  ld a3, 0(a1)
  CHECK 104, a3, 0x1122334455667788
  ld a3, 8(a1)
  CHECK 105, a3, 0x1122334455667788
  addi a4, a1, 2
  EXPECT_TRAP 4f
  amoswap.w a0, a2, (a4)
  FAILNOW 106
4:call amo_fault_cause
  CHECK 107, a5, 1
  CHECK 108, a0, 0xabc
  la t0, t_tval
  ld t0, 0(t0)
  CHECKR 109, t0, a4
  ld a3, 0(a1)
  CHECK 110, a3, 0x1122334455667788
  addi a4, a1, 1
  EXPECT_TRAP 5f
  amomaxu.w a0, a2, (a4)
  FAILNOW 111
5:call amo_fault_cause
  CHECK 112, a5, 1
  /* misaligned SC with no reservation: a trap (6 or 7), or - since an SC
   * that fails need not touch memory - a failure code in rd; never a write */
  addi a4, a1, 4
  EXPECT_TRAP 6f
  sc.d a0, a2, (a4)
  la t0, m_save
  sd zero, SAVE_RESUME(t0)
  CHECKNE 113, a0, 0
  j 10f
6:call amo_fault_cause
  CHECK 114, a5, 1
  CHECK 115, a0, 0xabc
10:ld a3, 0(a1)
  CHECK 120, a3, 0x1122334455667788
  ld a3, 8(a1)
  CHECK 121, a3, 0x1122334455667788
  /* misaligned LR: load address-misaligned (or load access-fault) */
  addi a4, a1, 2
  li a0, 0xabc
  EXPECT_TRAP 7f
  lr.w a0, (a4)
  FAILNOW 116
7:la t0, t_cause
  ld t0, 0(t0)
  li a5, 0
  li t1, CAUSE_MISALIGNED_LOAD
  bne t0, t1, 8f
  li a5, 1
8:li t1, CAUSE_LOAD_ACCESS
  bne t0, t1, 9f
  li a5, 1
9:CHECK 117, a5, 1
  CHECK 118, a0, 0xabc
  la t0, t_tval
  ld t0, 0(t0)
  CHECKR 119, t0, a4
  j pass

/* a5 = 1 if the last trap was a store/AMO address-misaligned or access fault
 * (both allowed for a misaligned AMO, Zaamo: "an address-misaligned exception
 * or an access-fault exception will be generated"). */
amo_fault_cause:
  la t0, m_save
  sd zero, SAVE_RESUME(t0)
  ld t0, SAVE_CAUSE(t0)
  li a5, 0
  li t1, CAUSE_MISALIGNED_STORE
  beq t0, t1, 1f
  li t1, CAUSE_STORE_ACCESS
  beq t0, t1, 1f
  ret
1:li a5, 1
  ret

  .data
  .align 6
amo:  .dword 0, 0
