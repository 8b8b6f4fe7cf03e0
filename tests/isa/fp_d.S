/* fp_d.S - the D extension (unprivileged spec ch. "D" Standard Extension):
 * binary64 arithmetic, rounding modes, flags, canonical NaN, conversions
 * between single and double (NaN boxing of the single results), fcvt at the
 * limits, fmin/fmax, fused multiply-add single rounding, fclass, loads/stores. */
#include "common.h"

#define NV 16
#define DZ 8
#define OF 4
#define UF 2
#define NX 1

.macro DOP2 n, op, res, flags, a, b, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  fsflags x0
  \op fa2, fa0, fa1, \rm
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DOP2N n, op, res, flags, a, b
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  fsflags x0
  \op fa2, fa0, fa1
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DOP3 n, op, res, flags, a, b, c
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  li t0, \c
  fmv.d.x fa3, t0
  fsflags x0
  \op fa2, fa0, fa1, fa3
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
/* fd = op(fa0 = a) with a 64-bit source pattern and a 64-bit result pattern */
.macro DOP1 n, op, res, flags, a, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  fsflags x0
  \op fa2, fa0, \rm
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
/* same without rm operand (fcvt.d.s is exact) */
.macro DOP1N n, op, res, flags, a
  li t0, \a
  fmv.d.x fa0, t0
  fsflags x0
  \op fa2, fa0
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DCVTI n, op, res, flags, a, rm=dyn
  li t0, \a
  fmv.d.x fa0, t0
  fsflags x0
  \op a0, fa0, \rm
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DCVTF n, op, res, flags, a, rm=dyn
  li t0, \a
  fsflags x0
  \op fa2, t0, \rm
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DCVTFN n, op, res, flags, a
  li t0, \a
  fsflags x0
  \op fa2, t0
  fmv.x.d a0, fa2
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DCMP n, op, res, flags, a, b
  li t0, \a
  fmv.d.x fa0, t0
  li t0, \b
  fmv.d.x fa1, t0
  fsflags x0
  \op a0, fa0, fa1
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro DCLASS n, res, a
  li t0, \a
  fmv.d.x fa0, t0
  fclass.d a0, fa0
  CHECK \n, a0, \res
.endm

#define ONE   0x3ff0000000000000
#define TWO   0x4000000000000000
#define THREE 0x4008000000000000
#define HALF  0x3fe0000000000000
#define MHALF 0xbfe0000000000000
#define MONE  0xbff0000000000000
#define INF   0x7ff0000000000000
#define MINF  0xfff0000000000000
#define QNAN  0x7ff8000000000000
#define SNAN  0x7ff0000000000001
#define MAXD  0x7fefffffffffffff
#define MZERO 0x8000000000000000

main:
  DOP2 2, fadd.d, THREE, 0, ONE, TWO
  DOP2 4, fsub.d, MONE, 0, ONE, TWO
  DOP2 6, fmul.d, 0x4018000000000000, 0, TWO, THREE
  DOP2 8, fdiv.d, 0x3ff8000000000000, 0, THREE, TWO
  DOP1 10, fsqrt.d, TWO, 0, 0x4010000000000000
  DOP1 12, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO
  DOP1 14, fsqrt.d, QNAN, NV, MONE
  /* flags */
  DOP2 16, fmul.d, QNAN, NV, 0, INF
  DOP2 18, fdiv.d, INF, DZ, ONE, 0
  DOP2 20, fdiv.d, QNAN, NV, 0, 0
  DOP2 22, fmul.d, INF, OF | NX, MAXD, TWO
  DOP2 24, fmul.d, 0x0008000000000000, UF | NX, 0x0010000000000001, HALF
  DOP2 26, fmul.d, 0x0008000000000000, 0, 0x0010000000000000, HALF
  DOP2 28, fadd.d, QNAN, NV, SNAN, ONE
  DOP2 30, fadd.d, QNAN, 0, 0x7ff8000000001234, ONE
  DOP2 32, fsub.d, QNAN, NV, INF, INF
  /* rounding: 1/3 = 0x3fd5555555555555 + 1/3 ulp */
  DOP2 40, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rne
  DOP2 42, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rtz
  DOP2 44, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rdn
  DOP2 46, fdiv.d, 0x3fd5555555555556, NX, ONE, THREE, rup
  DOP2 48, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rmm
  DOP2 50, fdiv.d, 0xbfd5555555555556, NX, MONE, THREE, rdn
  DOP2 52, fdiv.d, 0xbfd5555555555555, NX, MONE, THREE, rup
  /* ties: 1 + 2^-53 */
  DOP2 54, fadd.d, ONE, NX, ONE, 0x3ca0000000000000, rne
  DOP2 56, fadd.d, 0x3ff0000000000001, NX, ONE, 0x3ca0000000000000, rmm
  DOP2 58, fadd.d, ONE, NX, ONE, 0x3ca0000000000000, rtz
  DOP2 60, fadd.d, 0x3ff0000000000001, NX, ONE, 0x3ca0000000000000, rup
  DOP2 62, fmul.d, MAXD, OF | NX, MAXD, TWO, rtz
  DOP2 64, fmul.d, 0xffefffffffffffff, OF | NX, 0xffefffffffffffff, TWO, rup
  DOP2 66, fmul.d, MINF, OF | NX, 0xffefffffffffffff, TWO, rdn
  /* dynamic */
  li t1, 3
  fsrm t1
  DOP2 70, fdiv.d, 0x3fd5555555555556, NX, ONE, THREE
  li t1, 2
  fsrm t1
  DOP2 72, fdiv.d, 0xbfd5555555555556, NX, MONE, THREE
  DOP2 74, fsub.d, MZERO, 0, ONE, ONE        /* x - x = -0 in RDN */
  fsrm x0
  DOP2 76, fsub.d, 0, 0, ONE, ONE            /* +0 otherwise */
  /* fused multiply-add: single rounding */
  DOP3 80, fmadd.d, 0x3c90000000000000, 0, 0x3ff0000002000000, 0x3ff0000002000000, 0xbff0000004000000
  DOP3 82, fmsub.d, 0x4014000000000000, 0, TWO, THREE, ONE
  DOP3 84, fnmadd.d, 0xc01c000000000000, 0, TWO, THREE, ONE
  DOP3 86, fnmsub.d, 0xc014000000000000, 0, TWO, THREE, ONE
  DOP3 88, fmadd.d, QNAN, NV, INF, 0, QNAN
  DOP3 90, fnmadd.d, QNAN, NV, SNAN, ONE, ONE
  /* fmin/fmax */
  DOP2N 100, fmin.d, MZERO, 0, 0, MZERO
  DOP2N 102, fmax.d, 0, 0, MZERO, 0
  DOP2N 104, fmin.d, ONE, 0, QNAN, ONE
  DOP2N 106, fmax.d, ONE, NV, SNAN, ONE
  DOP2N 108, fmax.d, QNAN, 0, 0x7ff8000000000001, QNAN
  DOP2N 110, fmin.d, MONE, 0, MONE, TWO
  /* sign injection keeps payloads */
  DOP2N 112, fsgnjn.d, 0xfff8000000000123, 0, 0x7ff8000000000123, ONE
  DOP2N 114, fsgnjx.d, TWO, 0, 0xc000000000000000, MONE
  DOP2N 116, fsgnj.d, MONE, 0, ONE, MZERO
  /* compares */
  DCMP 120, feq.d, 1, 0, MZERO, 0
  DCMP 122, flt.d, 0, NV, QNAN, ONE
  DCMP 124, feq.d, 0, NV, SNAN, ONE
  DCMP 126, feq.d, 0, 0, QNAN, ONE
  DCMP 128, fle.d, 1, 0, ONE, TWO
  DCMP 130, fle.d, 0, NV, ONE, QNAN
  DCMP 132, flt.d, 1, 0, MINF, MAXD
  /* conversions to integer at the limits */
  DCVTI 140, fcvt.w.d, 0x7fffffff, NV, 0x41e0000000000000           /* 2^31 */
  DCVTI 142, fcvt.w.d, 0xffffffff80000000, 0, 0xc1e0000000000000    /* -2^31 */
  DCVTI 144, fcvt.w.d, 0xffffffff80000000, NV, 0xc1e0000000200000   /* -2^31 - 1 */
  DCVTI 146, fcvt.w.d, 0x7fffffff, NV, QNAN
  DCVTI 148, fcvt.w.d, 0xffffffff80000000, NV, MINF
  DCVTI 150, fcvt.w.d, 0x7fffffff, NX, 0x41dfffffffe00000 + 1, rtz  /* just above 2^31-1 */
  DCVTI 152, fcvt.wu.d, 0, NX, MHALF
  DCVTI 154, fcvt.wu.d, -1, 0, 0x41efffffffe00000                   /* 2^32-1 exact, sign-extended */
  DCVTI 156, fcvt.wu.d, -1, NV, 0x41f0000000000000                  /* 2^32 */
  DCVTI 158, fcvt.wu.d, 0, NV, MONE
  DCVTI 160, fcvt.wu.d, -1, NV, QNAN
  DCVTI 162, fcvt.l.d, 0x7fffffffffffffff, NV, 0x43e0000000000000   /* 2^63 */
  DCVTI 164, fcvt.l.d, 0x8000000000000000, 0, 0xc3e0000000000000    /* -2^63 */
  DCVTI 166, fcvt.l.d, 0x8000000000000000, NV, MINF
  DCVTI 168, fcvt.l.d, 0x7fffffffffffffff, NV, SNAN
  DCVTI 170, fcvt.l.d, -3, NX, 0xc004000000000000, rmm              /* -2.5 */
  DCVTI 172, fcvt.l.d, -2, NX, 0xc004000000000000, rne
  DCVTI 174, fcvt.lu.d, 0, NV, MONE
  DCVTI 176, fcvt.lu.d, -1, NV, 0x43f0000000000000                  /* 2^64 */
  DCVTI 178, fcvt.lu.d, 0, NX, MHALF
  DCVTI 180, fcvt.lu.d, 0, 0, MZERO
  DCVTI 182, fcvt.lu.d, 0xfffffffffffff800, 0, 0x43efffffffffffff   /* largest double < 2^64 */
  DCVTI 184, fcvt.lu.d, -1, NV, INF
  /* conversions from integer */
  DCVTF 190, fcvt.d.l, 0x4340000000000000, NX, 0x20000000000001     /* 2^53 + 1: tie to even */
  DCVTF 192, fcvt.d.l, 0x4340000000000001, NX, 0x20000000000001, rup
  DCVTF 194, fcvt.d.lu, 0x43f0000000000000, NX, -1
  DCVTF 196, fcvt.d.l, 0xc3e0000000000000, 0, 0x8000000000000000
  DCVTFN 198, fcvt.d.w, MONE, 0, -1
  DCVTFN 200, fcvt.d.w, 0x4014000000000000, 0, 0x100000005         /* low 32 bits only */
  DCVTFN 202, fcvt.d.wu, 0x41efffffffe00000, 0, 0xffffffffffffffff
  DCVTFN 204, fcvt.d.wu, 0, 0, 0x100000000
  /* double <-> single; single results are NaN-boxed */
  DOP1 210, fcvt.s.d, 0xffffffff3eaaaaab, NX, 0x3fd5555555555555
  DOP1 212, fcvt.s.d, 0xffffffff3eaaaaaa, NX, 0x3fd5555555555555, rtz
  DOP1 214, fcvt.s.d, 0xffffffff7f800000, OF | NX, MAXD
  DOP1 216, fcvt.s.d, 0xffffffff7f7fffff, OF | NX, MAXD, rtz
  DOP1 218, fcvt.s.d, 0xffffffff7fc00000, NV, SNAN
  DOP1 220, fcvt.s.d, 0xffffffff7fc00000, 0, 0x7ff8000012345678
  DOP1 222, fcvt.s.d, 0xffffffff80000000, 0, MZERO
  DOP1 224, fcvt.s.d, 0xffffffff00000001, UF | NX, 0x36a0000000000000 + 1   /* just above 2^-149 */
  DOP1 226, fcvt.s.d, 0xffffffff00000000, UF | NX, 0x3690000000000000       /* 2^-150: tie to even 0 */
  DOP1N 230, fcvt.d.s, ONE, 0, 0xffffffff3f800000
  DOP1N 232, fcvt.d.s, QNAN, NV, 0xffffffff7f800001
  DOP1N 234, fcvt.d.s, QNAN, 0, 0x000000003f800000      /* not boxed: canonical NaN, no flag */
  DOP1N 236, fcvt.d.s, 0x36a0000000000000, 0, 0xffffffff00000001  /* subnormal single, exact */
  DOP1N 238, fcvt.d.s, MINF, 0, 0xffffffffff800000
  /* fclass.d */
  DCLASS 240, 0x001, MINF
  DCLASS 241, 0x002, 0xc000000000000000
  DCLASS 242, 0x004, 0x800fffffffffffff
  DCLASS 243, 0x008, MZERO
  DCLASS 244, 0x010, 0
  DCLASS 245, 0x020, 1
  DCLASS 246, 0x040, MAXD
  DCLASS 247, 0x080, INF
  DCLASS 248, 0x100, SNAN
  DCLASS 249, 0x200, QNAN
  /* loads/stores and moves keep every bit */
  la a1, ddata
  li t0, 0x7ff0000000000001
  sd t0, 0(a1)
  fld fa0, 0(a1)
  fsd fa0, 8(a1)
  ld a0, 8(a1)
  CHECK 250, a0, 0x7ff0000000000001
  fmv.x.d a0, fa0
  CHECK 251, a0, 0x7ff0000000000001
  li t0, 0x123456789abcdef0
  fmv.d.x fa1, t0
  fsd fa1, 16(a1)
  ld a0, 16(a1)
  CHECK 252, a0, 0x123456789abcdef0
  /* flw into a register then read as double: boxed */
  flw fa2, 16(a1)
  fsd fa2, 24(a1)
  ld a0, 24(a1)
  CHECK 253, a0, 0xffffffff9abcdef0
  /* ---- every rounding mode on more operations ---- */
  DOP1 300, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rne
  DOP1 302, fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, rtz
  DOP1 304, fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, rdn
  DOP1 306, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rup
  DOP1 308, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rmm
  DOP3 310, fmadd.d, ONE, NX, ONE, ONE, 0x3ca0000000000000
  li t1, 4
  fsrm t1
  DOP3 312, fmadd.d, 0x3ff0000000000001, NX, ONE, ONE, 0x3ca0000000000000
  li t1, 2
  fsrm t1
  DOP3 314, fnmsub.d, MZERO, 0, ONE, ONE, ONE      /* -(1*1) + 1 = -0 in RDN */
  fsrm x0
  DCVTF 320, fcvt.d.l, 0x4340000000000000, NX, 0x20000000000001, rdn
  DCVTF 322, fcvt.d.l, 0x4340000000000000, NX, 0x20000000000001, rtz
  DCVTF 324, fcvt.d.l, 0x4340000000000001, NX, 0x20000000000001, rmm
  DCVTF 326, fcvt.d.l, 0xc340000000000001, NX, -0x20000000000001, rdn
  DCVTF 328, fcvt.d.l, 0xc340000000000000, NX, -0x20000000000001, rup
  DCVTF 330, fcvt.d.lu, 0x43efffffffffffff, NX, -1, rtz
  DOP1 340, fcvt.s.d, 0xffffffff3eaaaaaa, NX, 0x3fd5555555555555, rdn
  DOP1 342, fcvt.s.d, 0xffffffff3eaaaaab, NX, 0x3fd5555555555555, rup
  DOP1 344, fcvt.s.d, 0xffffffff3eaaaaab, NX, 0x3fd5555555555555, rmm
  DOP1 346, fcvt.s.d, 0xffffffffbeaaaaab, NX, 0xbfd5555555555555, rdn
  DCVTI 350, fcvt.w.d, 3, NX, 0x4004000000000000, rup       /* 2.5 */
  DCVTI 352, fcvt.w.d, 2, NX, 0x4004000000000000, rdn
  DCVTI 354, fcvt.w.d, 3, NX, 0x4004000000000000, rmm
  DCVTI 356, fcvt.w.d, 2, NX, 0x4004000000000000, rne
  DCVTI 358, fcvt.wu.d, 0, NV, MHALF, rdn
  j pass

  .data
  .align 3
ddata: .dword 0, 0, 0, 0
