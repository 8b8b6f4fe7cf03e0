/* misaligned.S - misaligned loads and stores (unprivileged spec 2.6 "Load and
 * Store Instructions", priv spec 3.6.3.3): an implementation may perform them
 * (the result must then be exactly the little-endian value) or raise an
 * address-misaligned exception (4 load / 6 store) - or an access fault (5/7)
 * for accesses it will not emulate - with mtval = the faulting address, and no
 * register or memory change. Each check accepts either behaviour. */
#include "common.h"

/* op a0, off(mdata): emulated -> a0 == val; trapped -> cause 4/5, mtval, a0 kept */
.macro MLOAD n, op, off, val
  la a1, mdata
  addi a1, a1, \off
  li a0, 0x5555
  EXPECT_TRAP .Lt\@
  \op a0, 0(a1)
  la t6, m_save
  sd zero, SAVE_RESUME(t6)
  CHECK \n, a0, \val
  j .Ld\@
.Lt\@:
  call load_fault
  CHECK (\n + 1), a5, 1
  CHECK (\n + 2), a0, 0x5555
.Ld\@:
.endm
/* FP load: fa0 = flt/fld; checked through fmv.x.d */
.macro MFLOAD n, op, off, val
  la a1, mdata
  addi a1, a1, \off
  li a0, 0x5555
  fmv.d.x fa0, a0
  EXPECT_TRAP .Lt\@
  \op fa0, 0(a1)
  la t6, m_save
  sd zero, SAVE_RESUME(t6)
  fmv.x.d a0, fa0
  CHECK \n, a0, \val
  j .Ld\@
.Lt\@:
  call load_fault
  CHECK (\n + 1), a5, 1
  fmv.x.d a0, fa0
  CHECK (\n + 2), a0, 0x5555
.Ld\@:
.endm
/* store val at sbuf+off (sbuf zeroed first); emulated -> the two dwords are
 * lo/hi; trapped -> cause 6/7, mtval, memory still zero */
.macro MSTORE n, op, off, val, lo, hi
  la a1, sbuf
  sd zero, 0(a1)
  sd zero, 8(a1)
  addi a2, a1, \off
  li a0, \val
  EXPECT_TRAP .Lt\@
  \op a0, 0(a2)
  la t6, m_save
  sd zero, SAVE_RESUME(t6)
  ld a3, 0(a1)
  CHECK \n, a3, \lo
  ld a3, 8(a1)
  CHECK (\n + 1), a3, \hi
  j .Ld\@
.Lt\@:
  mv a1, a2
  call store_fault
  CHECK (\n + 2), a5, 1
  la a1, sbuf
  ld a3, 0(a1)
  CHECK (\n + 3), a3, 0
  ld a3, 8(a1)
  CHECK (\n + 4), a3, 0
.Ld\@:
.endm

main:
  MLOAD 2, lh, 1, 0xffffffffffff8281
  MLOAD 5, lhu, 1, 0x8281
  MLOAD 8, lh, 7, 0xffffffffffff8887
  MLOAD 11, lw, 1, 0xffffffff84838281
  MLOAD 14, lwu, 1, 0x84838281
  MLOAD 17, lw, 2, 0xffffffff85848382
  MLOAD 20, lw, 6, 0xffffffff89888786          /* crosses an 8-byte boundary */
  MLOAD 23, lwu, 7, 0x8a898887
  MLOAD 26, ld, 1, 0x8887868584838281
  MLOAD 29, ld, 4, 0x8b8a898887868584
  MLOAD 32, ld, 7, 0x8e8d8c8b8a898887
  MLOAD 35, c.lw, 2, 0xffffffff85848382
  MFLOAD 50, flw, 1, 0xffffffff84838281
  MFLOAD 53, fld, 3, 0x8a89888786858483
  MSTORE 60, sh, 1, 0xbeef, 0x0000000000beef00, 0
  MSTORE 65, sh, 7, 0xbeef, 0xef00000000000000, 0xbe
  MSTORE 70, sw, 3, 0x11223344, 0x0011223344000000, 0
  MSTORE 75, sw, 6, 0x11223344, 0x3344000000000000, 0x1122
  MSTORE 80, sd, 5, 0x1122334455667788, 0x6677880000000000, 0x0000001122334455
  MSTORE 85, sd, 1, 0x1122334455667788, 0x2233445566778800, 0x11
  MSTORE 90, sd, 4, -1, 0xffffffff00000000, 0xffffffff
  /* misaligned across a page boundary */
  la a1, pagebuf + 4096 - 3
  li a0, 0x5555
  EXPECT_TRAP 1f
  lw a0, 0(a1)
  la t6, m_save
  sd zero, SAVE_RESUME(t6)
  CHECK 100, a0, 0xffffffffb000a1a2
  j 2f
1:call load_fault
  CHECK 101, a5, 1
  CHECK 102, a0, 0x5555
2:
  j pass

/* mtval must be a1; a5 = 1 if the cause was load misaligned/access fault */
load_fault:
  la t0, m_save
  sd zero, SAVE_RESUME(t0)
  li a5, 0
  ld t1, SAVE_TVAL(t0)
  bne t1, a1, 2f
  ld t0, SAVE_CAUSE(t0)
  li t1, CAUSE_MISALIGNED_LOAD
  beq t0, t1, 1f
  li t1, CAUSE_LOAD_ACCESS
  bne t0, t1, 2f
1:li a5, 1
2:ret
store_fault:
  la t0, m_save
  sd zero, SAVE_RESUME(t0)
  li a5, 0
  ld t1, SAVE_TVAL(t0)
  bne t1, a1, 2f
  ld t0, SAVE_CAUSE(t0)
  li t1, CAUSE_MISALIGNED_STORE
  beq t0, t1, 1f
  li t1, CAUSE_STORE_ACCESS
  bne t0, t1, 2f
1:li a5, 1
2:ret

  .data
  .align 4
mdata: .byte 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87
       .byte 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f
       .byte 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97
sbuf:  .dword 0, 0, 0
  .align 12
pagebuf:
  .skip 4096 - 4
  .byte 0xa3, 0xa2, 0xa1, 0x00
  .byte 0xb0, 0xb1, 0xb2, 0xb3
