/* vm.h - page-table helpers for the virtual-memory test programs (priv spec
 * 4.3 Sv32 concepts, 4.4 Sv39, 4.5 Sv48). Included after common.h.
 * PTEs are built at run time by M-mode code, which runs untranslated. */
#ifndef ISA_VM_H
#define ISA_VM_H

#define U_ALIAS_OFFSET 0x40000000   /* VA = PA - this, mapped with U=1 */

/* table[index] = PTE for the page at label lbl with flags */
.macro PTE_LBL table, index, lbl, flags
  la t0, \table
  li t1, (\index) * 8
  add t0, t0, t1
  la t1, \lbl
  srli t1, t1, 12
  slli t1, t1, 10
  li t2, \flags
  or t1, t1, t2
  sd t1, 0(t0)
.endm
/* table[index] = PTE for the physical address pa with flags */
.macro PTE_PA table, index, pa, flags
  la t0, \table
  li t1, (\index) * 8
  add t0, t0, t1
  li t1, ((\pa) >> 12) << 10
  li t2, \flags
  or t1, t1, t2
  sd t1, 0(t0)
.endm
/* reg = table[index] */
.macro PTE_GET reg, table, index
  la t0, \table
  ld \reg, (\index) * 8(t0)
.endm
/* satp = mode | root PPN (asid 0), then flush */
.macro SATP_SET mode, root
  la t0, \root
  srli t0, t0, 12
  li t1, \mode
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
.endm
/* From M: enter U-mode at the U alias of label lbl. */
.macro GOTO_U lbl
  li t6, MSTATUS_MPP
  csrc mstatus, t6
  la t6, \lbl
  li t5, U_ALIAS_OFFSET
  sub t6, t6, t5
  csrw mepc, t6
  mret
.endm

/* From M: with a1 = va, run insn in S; it must raise cause c with mtval = va;
 * checks n (no trap), n+1 (cause), n+2 (mtval). */
.macro S_FAULT n, c, va, insn:vararg
  EXPECT_TRAP .Lb\@
  li a1, \va
  GOTO_PRIV PRV_S, .Lg\@
.Lg\@:
  \insn
  FAILNOW \n
.Lb\@:
  CHECK_TRAP (\n + 1), \c
  CHECK_VAR (\n + 2), t_tval, \va
.endm
/* Same in U-mode (code runs through the U alias). */
.macro U_FAULT n, c, va, insn:vararg
  EXPECT_TRAP .Lb\@
  li a1, \va
  GOTO_U .Lg\@
.Lg\@:
  \insn
  FAILNOW \n
.Lb\@:
  CHECK_TRAP (\n + 1), \c
  CHECK_VAR (\n + 2), t_tval, \va
.endm
/* From M: ld a0 from va in S; check n: a0 == val; n+1: returned by ecall */
.macro S_LOAD n, va, val
  EXPECT_TRAP .Lb\@
  li a1, \va
  li a0, 0
  GOTO_PRIV PRV_S, .Lg\@
.Lg\@:
  ld a0, 0(a1)
  ecall
.Lb\@:
  CHECK_TRAP (\n + 1), CAUSE_ECALL_S
  CHECK \n, a0, \val
.endm
.macro U_LOAD n, va, val
  EXPECT_TRAP .Lb\@
  li a1, \va
  li a0, 0
  GOTO_U .Lg\@
.Lg\@:
  ld a0, 0(a1)
  ecall
.Lb\@:
  CHECK_TRAP (\n + 1), CAUSE_ECALL_U
  CHECK \n, a0, \val
.endm
/* From M: sd a2=val to va in S, then read it back in M through pa_lbl (+off) */
.macro S_STORE n, va, val, pa_lbl, off=0
  EXPECT_TRAP .Lb\@
  li a1, \va
  li a2, \val
  GOTO_PRIV PRV_S, .Lg\@
.Lg\@:
  sd a2, 0(a1)
  ecall
.Lb\@:
  CHECK_TRAP \n, CAUSE_ECALL_S
  la t0, \pa_lbl
  ld a0, \off(t0)
  CHECK (\n + 1), a0, \val
.endm
#endif
