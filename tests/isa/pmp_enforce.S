/* pmp_enforce.S - PMP enforcement (priv spec 3.7.1-3.7.2): S/U accesses are
 * checked against TOR and NAPOT entries (the lowest-numbered matching entry
 * decides, no match denies S/U), for loads, stores, AMOs and fetches, with
 * access faults and mtval = the address; unlocked entries do not restrict M.
 * SFENCE.VMA x0, x0 after each change (3.7.2). Entry 0 is restored to all
 * memory, RWX, before the program ends. */
#include "common.h"

#define CFG_R 0x01
#define CFG_W 0x02
#define CFG_X 0x04
#define CFG_TOR 0x08
#define CFG_NAPOT 0x18

/* From M: run insn in S with a1 = address; expect cause c (or ecall if c = 9) */
.macro S_TRY n, c, insn:vararg
  EXPECT_TRAP .Lb\@
  GOTO_PRIV PRV_S, .Lg\@
.Lg\@:
  \insn
  ecall
.Lb\@:
  CHECK_TRAP \n, \c
.endm

main:
  /* ---- enforcement: entry 0 TOR [0, page_r) RWX, entry 1 TOR [page_r,
   * page_r + 4 KiB) R only, entry 2 TOR [.., top) RWX ---- */
  la t0, page_r
  srli t0, t0, 2
  csrw pmpaddr0, t0
  addi t0, t0, 1024
  csrw pmpaddr1, t0
  li t0, -1
  csrw pmpaddr2, t0
  li t0, (CFG_TOR | CFG_R | CFG_W | CFG_X) | ((CFG_TOR | CFG_R) << 8) | ((CFG_TOR | CFG_R | CFG_W | CFG_X) << 16)
  csrw pmpcfg0, t0
  sfence.vma
  la a1, page_r
  S_TRY 30, CAUSE_ECALL_S, ld a0, 0(a1)
  CHECK 31, a0, 0x1111111111111111
  S_TRY 32, CAUSE_STORE_ACCESS, sd a0, 8(a1)
  CHECK_VAR_ADDR 33, t_tval, page_r + 8
  S_TRY 34, CAUSE_STORE_ACCESS, amoadd.d a0, a0, (a1)
  S_TRY 35, CAUSE_FETCH_ACCESS, jalr ra, 0(a1)
  CHECK_VAR_ADDR 36, t_tval, page_r
  /* U as well */
  S_TRY 37, CAUSE_ECALL_S, nop    /* (S reaches the rest) */
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_U, 2f
2:sd a0, 0(a1)
  ecall
1:CHECK_TRAP 38, CAUSE_STORE_ACCESS
  /* M is not restricted by unlocked entries */
  li t0, 0x2222
  sd t0, 16(a1)
  ld a0, 16(a1)
  CHECK 39, a0, 0x2222
  /* ---- NAPOT 4 KiB over page_r with no permission, matched before entry 1 ---- */
  la t0, page_r
  srli t0, t0, 2
  ori t0, t0, 0x1ff              /* NAPOT: base | (size/8 - 1) */
  csrw pmpaddr0, t0
  csrr a0, pmpaddr0
  CHECKR 40, a0, t0
  li t0, -1
  csrw pmpaddr1, t0
  li t0, CFG_NAPOT | ((CFG_NAPOT | CFG_R | CFG_W | CFG_X) << 8)   /* entry 1: all memory */
  csrw pmpcfg0, t0
  sfence.vma
  la a1, page_r
  S_TRY 41, CAUSE_LOAD_ACCESS, ld a0, 0(a1)
  la a1, page_r + 4096           /* just past the NAPOT region: entry 1 matches */
  S_TRY 42, CAUSE_ECALL_S, ld a0, 0(a1)
  la a1, page_r - 8
  S_TRY 43, CAUSE_ECALL_S, ld a0, 0(a1)
  /* ---- no entry matches: S/U denied (entry 0 covers page_r only) ---- */
  la t0, page_r
  srli t0, t0, 2
  ori t0, t0, 0x1ff
  csrw pmpaddr0, t0
  li t0, CFG_NAPOT | CFG_R | CFG_W | CFG_X
  csrw pmpcfg0, t0
  sfence.vma
  /* S code is outside every entry now: its first fetch faults */
  EXPECT_TRAP 3f
  GOTO_PRIV PRV_S, 4f
4:nop
  ecall
3:CHECK_TRAP 45, CAUSE_FETCH_ACCESS
  /* ... while M still runs and reaches all memory */
  la a1, page_r + 4096
  ld a0, 0(a1)
  /* restore: entry 0 NAPOT over everything, RWX */
  li t0, -1
  csrw pmpaddr0, t0
  csrw pmpaddr1, zero
  csrw pmpaddr2, zero
  li t0, 0x1f
  csrw pmpcfg0, t0
  sfence.vma
  j pass

  .data
  .align 12
  .skip 4096
page_r: .dword 0x1111111111111111, 0, 0
  .align 12
  .skip 4096
