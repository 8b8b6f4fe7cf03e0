/* fp_f.S - the F extension (unprivileged spec ch. "F" Standard Extension):
 * NaN boxing, canonical NaN, every rounding mode (static rm and dynamic via
 * frm), each fflags bit, fcvt at the limits, fmin/fmax with signed zeros and
 * NaNs, fused multiply-add single rounding, fclass, compares, sign injection.
 * Values are bit patterns (binary32). */
#include "common.h"

#define S(x) (((x) ^ 0x80000000) - 0x80000000)   /* fmv.x.w sign-extends */
#define NV 16
#define DZ 8
#define OF 4
#define UF 2
#define NX 1

/* fd = op(a, b) [rm]: check n = result bits, n+1 = fflags */
.macro FOP2 n, op, res, flags, a, b, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  fsflags x0
  \op fa2, fa0, fa1, \rm
  fmv.x.w a0, fa2
  frflags a1
  CHECK \n, a0, S(\res)
  CHECK (\n + 1), a1, \flags
.endm
/* fd = op(a, b) for ops without a rounding mode (fmin/fmax/fsgnj) */
.macro FOP2N n, op, res, flags, a, b
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  fsflags x0
  \op fa2, fa0, fa1
  fmv.x.w a0, fa2
  frflags a1
  CHECK \n, a0, S(\res)
  CHECK (\n + 1), a1, \flags
.endm
.macro FOP3 n, op, res, flags, a, b, c
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  li t0, \c
  fmv.w.x fa3, t0
  fsflags x0
  \op fa2, fa0, fa1, fa3
  fmv.x.w a0, fa2
  frflags a1
  CHECK \n, a0, S(\res)
  CHECK (\n + 1), a1, \flags
.endm
.macro FOP1 n, op, res, flags, a, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  fsflags x0
  \op fa2, fa0, \rm
  fmv.x.w a0, fa2
  frflags a1
  CHECK \n, a0, S(\res)
  CHECK (\n + 1), a1, \flags
.endm
/* integer result: rd = op(fa0) */
.macro FCVTI n, op, res, flags, a, rm=dyn
  li t0, \a
  fmv.w.x fa0, t0
  fsflags x0
  \op a0, fa0, \rm
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
/* float result from integer: fd = op(a) */
.macro FCVTF n, op, res, flags, a, rm=dyn
  li t0, \a
  fsflags x0
  \op fa2, t0, \rm
  fmv.x.w a0, fa2
  frflags a1
  CHECK \n, a0, S(\res)
  CHECK (\n + 1), a1, \flags
.endm
/* compare: rd = op(a, b) */
.macro FCMP n, op, res, flags, a, b
  li t0, \a
  fmv.w.x fa0, t0
  li t0, \b
  fmv.w.x fa1, t0
  fsflags x0
  \op a0, fa0, fa1
  frflags a1
  CHECK \n, a0, \res
  CHECK (\n + 1), a1, \flags
.endm
.macro FCLASS n, res, a
  li t0, \a
  fmv.w.x fa0, t0
  fclass.s a0, fa0
  CHECK \n, a0, \res
.endm

#define ONE  0x3f800000
#define TWO  0x40000000
#define THREE 0x40400000
#define HALF 0x3f000000
#define MHALF 0xbf000000
#define MONE 0xbf800000
#define INF  0x7f800000
#define MINF 0xff800000
#define QNAN 0x7fc00000
#define SNAN 0x7f800001
#define MAXF 0x7f7fffff
#define PZERO 0
#define MZERO 0x80000000

main:
  /* ---- basic arithmetic, exact ---- */
  FOP2 2, fadd.s, THREE, 0, ONE, TWO
  FOP2 4, fsub.s, MONE, 0, ONE, TWO
  FOP2 6, fmul.s, 0x40c00000, 0, TWO, THREE
  FOP2 8, fdiv.s, 0x3fc00000, 0, THREE, TWO
  FOP1 10, fsqrt.s, TWO, 0, 0x40800000
  FOP1 12, fsqrt.s, MZERO, 0, MZERO            /* sqrt(-0) = -0 */
  FOP1 14, fsqrt.s, 0x3fb504f3, NX, TWO
  /* ---- each flag ---- */
  FOP2 16, fmul.s, QNAN, NV, PZERO, INF         /* 0 * inf: invalid, canonical NaN */
  FOP1 18, fsqrt.s, QNAN, NV, MONE
  FOP2 20, fadd.s, QNAN, NV, INF, MINF
  FOP2 22, fdiv.s, INF, DZ, ONE, PZERO
  FOP2 24, fdiv.s, MINF, DZ, MONE, PZERO
  FOP2 26, fdiv.s, QNAN, NV, PZERO, PZERO
  FOP2 28, fmul.s, INF, OF | NX, MAXF, TWO
  FOP2 30, fmul.s, 0x00400000, UF | NX, 0x00800001, HALF  /* tiny and inexact */
  FOP2 32, fmul.s, 0x00400000, 0, 0x00800000, HALF        /* tiny but exact: no UF */
  FOP2 34, fdiv.s, 0x3eaaaaab, NX, ONE, THREE
  /* ---- canonical NaN: NaN inputs never propagate their payload ---- */
  FOP2 36, fadd.s, QNAN, NV, SNAN, ONE
  FOP2 38, fadd.s, QNAN, 0, 0x7fc12345, ONE
  FOP2 40, fmul.s, QNAN, 0, 0xffc00001, TWO
  FOP1 42, fsqrt.s, QNAN, NV, SNAN
  /* ---- rounding modes, static rm: 1/3 and -1/3 ---- */
  FOP2 50, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rne
  FOP2 52, fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rtz
  FOP2 54, fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rdn
  FOP2 56, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rup
  FOP2 58, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rmm
  FOP2 60, fdiv.s, 0xbeaaaaab, NX, MONE, THREE, rne
  FOP2 62, fdiv.s, 0xbeaaaaaa, NX, MONE, THREE, rtz
  FOP2 64, fdiv.s, 0xbeaaaaab, NX, MONE, THREE, rdn
  FOP2 66, fdiv.s, 0xbeaaaaaa, NX, MONE, THREE, rup
  FOP2 68, fdiv.s, 0xbeaaaaab, NX, MONE, THREE, rmm
  /* ties: 1 + 2^-24 is half-way between 1 and 1 + 2^-23 */
  FOP2 70, fadd.s, ONE, NX, ONE, 0x33800000, rne
  FOP2 72, fadd.s, 0x3f800001, NX, ONE, 0x33800000, rmm
  FOP2 74, fadd.s, 0x3f800001, NX, ONE, 0x33800000, rup
  FOP2 76, fadd.s, ONE, NX, ONE, 0x33800000, rdn
  FOP2 78, fadd.s, ONE, NX, ONE, 0x33800000, rtz
  FOP2 80, fadd.s, 0x3f800002, NX, ONE, 0x34400000, rne    /* 1 + 3*2^-24: tie to even upward */
  /* overflow honours the rounding mode: RTZ/RDN give MAXF for positive */
  FOP2 82, fmul.s, MAXF, OF | NX, MAXF, TWO, rtz
  FOP2 84, fmul.s, MAXF, OF | NX, MAXF, TWO, rdn
  FOP2 86, fmul.s, INF, OF | NX, MAXF, TWO, rup
  FOP2 88, fmul.s, 0xff7fffff, OF | NX, 0xff7fffff, TWO, rup
  /* ---- dynamic rounding via frm ---- */
  li t1, 1                       /* RTZ */
  fsrm a2, t1
  CHECK 90, a2, 0                /* reset value of frm is RNE here */
  FOP2 91, fdiv.s, 0x3eaaaaaa, NX, ONE, THREE
  li t1, 2                       /* RDN */
  fsrm t1
  FOP2 93, fdiv.s, 0xbeaaaaab, NX, MONE, THREE
  li t1, 3                       /* RUP */
  fsrm t1
  FOP2 95, fdiv.s, 0x3eaaaaab, NX, ONE, THREE
  FOP2 97, fdiv.s, 0xbeaaaaaa, NX, MONE, THREE
  li t1, 4                       /* RMM */
  fsrm t1
  FOP2 99, fadd.s, 0x3f800001, NX, ONE, 0x33800000
  FCVTI 101, fcvt.w.s, 3, NX, 0x40200000        /* 2.5 -> 3 */
  li t1, 0                       /* RNE */
  fsrm t1
  FOP2 103, fadd.s, ONE, NX, ONE, 0x33800000
  FCVTI 105, fcvt.w.s, 2, NX, 0x40200000        /* 2.5 -> 2 */
  /* a static rm overrides frm */
  li t1, 1
  fsrm t1
  FOP2 107, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rne
  fsrm x0
  /* ---- fcsr layout: frm in 7:5, fflags in 4:0, upper bits read 0 ---- */
  li t1, 0xfff
  fscsr t1
  frcsr a0
  CHECK 110, a0, 0xff
  frrm a0
  CHECK 111, a0, 7
  frflags a0
  CHECK 112, a0, 0x1f
  li t1, 0x3
  fsflags a0, t1                 /* swap: old flags back */
  CHECK 113, a0, 0x1f
  frcsr a0
  CHECK 114, a0, 0xe3
  csrwi fflags, 0
  csrwi frm, 0
  frcsr a0
  CHECK 115, a0, 0
  /* ---- invalid rounding modes: static 5/6 reserved, dyn with frm >= 5 ---- */
  EXPECT_TRAP 1f
  .word 0x00b55653               /* fadd.s fa2, fa0, fa1, rm=5 */
  FAILNOW 116
1:CHECK_TRAP 117, CAUSE_ILLEGAL
  EXPECT_TRAP 2f
  .word 0x00b56653               /* rm=6 */
  FAILNOW 118
2:CHECK_TRAP 119, CAUSE_ILLEGAL
  li t1, 5
  fsrm t1
  EXPECT_TRAP 3f
  fadd.s fa2, fa0, fa1           /* dyn with frm = 5 */
  FAILNOW 120
3:CHECK_TRAP 121, CAUSE_ILLEGAL
  li t1, 7
  fsrm t1
  EXPECT_TRAP 4f
  fcvt.w.s a0, fa0               /* dyn with frm = 7 */
  FAILNOW 122
4:CHECK_TRAP 123, CAUSE_ILLEGAL
  /* rm is ignored where it has no effect: fsgnj/fmin/fmv do not trap */
  fsgnj.s fa2, fa0, fa1
  fmin.s fa2, fa0, fa1
  fsrm x0
  /* ---- fused multiply-add: one rounding ---- */
  FOP3 130, fmadd.s, 0x33800000, 0, 0x3f800800, 0x3f800800, 0xbf801000
  FOP3 132, fmadd.s, 0x40e00000, 0, TWO, THREE, ONE
  FOP3 134, fmsub.s, 0x40a00000, 0, TWO, THREE, ONE
  FOP3 136, fnmadd.s, 0xc0e00000, 0, TWO, THREE, ONE
  FOP3 138, fnmsub.s, 0xc0a00000, 0, TWO, THREE, ONE
  FOP3 140, fmadd.s, QNAN, NV, INF, PZERO, 0x7fc00000   /* inf*0 + qNaN: still invalid */
  FOP3 142, fmadd.s, QNAN, 0, ONE, ONE, 0x7fc00000
  FOP3 144, fmadd.s, QNAN, NV, INF, ONE, MINF
  FOP3 146, fmsub.s, MZERO, 0, MZERO, ONE, PZERO        /* -0 - +0 = -0 */
  /* ---- sign injection ---- */
  FOP2N 150, fsgnj.s, MONE, 0, ONE, MZERO
  FOP2N 152, fsgnjn.s, MONE, 0, ONE, PZERO
  FOP2N 154, fsgnjx.s, ONE, 0, MONE, MONE
  FOP2N 156, fsgnjx.s, MONE, 0, ONE, MONE
  FOP2N 158, fsgnj.s, 0xffc00001, 0, 0x7fc00001, MONE  /* NaN payload kept: sign ops are not arithmetic */
  /* ---- fmin / fmax ---- */
  FOP2N 160, fmin.s, MZERO, 0, PZERO, MZERO
  FOP2N 162, fmin.s, MZERO, 0, MZERO, PZERO
  FOP2N 164, fmax.s, PZERO, 0, MZERO, PZERO
  FOP2N 166, fmax.s, PZERO, 0, PZERO, MZERO
  FOP2N 168, fmin.s, ONE, 0, QNAN, ONE        /* one NaN: the other operand */
  FOP2N 170, fmax.s, ONE, 0, ONE, QNAN
  FOP2N 172, fmin.s, ONE, NV, SNAN, ONE       /* sNaN: also invalid */
  FOP2N 174, fmax.s, QNAN, 0, QNAN, 0x7fc12345   /* both NaN: canonical */
  FOP2N 176, fmin.s, QNAN, NV, SNAN, QNAN
  FOP2N 178, fmin.s, MINF, 0, MINF, ONE
  FOP2N 180, fmax.s, TWO, 0, MONE, TWO
  /* ---- compares: feq quiet, flt/fle signaling ---- */
  FCMP 190, feq.s, 1, 0, MZERO, PZERO
  FCMP 192, fle.s, 1, 0, MZERO, PZERO
  FCMP 194, flt.s, 0, 0, MZERO, PZERO
  FCMP 196, feq.s, 0, 0, QNAN, ONE
  FCMP 198, feq.s, 0, NV, SNAN, ONE
  FCMP 200, flt.s, 0, NV, QNAN, ONE
  FCMP 202, fle.s, 0, NV, ONE, QNAN
  FCMP 204, flt.s, 1, 0, MONE, ONE
  FCMP 206, fle.s, 1, 0, ONE, ONE
  FCMP 208, feq.s, 0, 0, QNAN, QNAN
  /* ---- conversions to integer at the limits ---- */
  FCVTI 220, fcvt.w.s, 0x7fffffff, NV, 0x4f32d05e         /* 3e9 */
  FCVTI 222, fcvt.w.s, 0xffffffff80000000, NV, 0xcf32d05e /* -3e9 */
  FCVTI 224, fcvt.w.s, 0x7fffffff, NV, QNAN
  FCVTI 226, fcvt.w.s, 0x7fffffff, NV, INF
  FCVTI 228, fcvt.w.s, 0xffffffff80000000, NV, MINF
  FCVTI 230, fcvt.w.s, 0xffffffff80000000, 0, 0xcf000000  /* -2^31 exactly */
  FCVTI 232, fcvt.w.s, -1, NX, 0xbfc00000, rtz            /* -1.5 */
  FCVTI 234, fcvt.w.s, -2, NX, 0xbfc00000, rne
  FCVTI 236, fcvt.w.s, -2, NX, 0xc0200000, rne            /* -2.5 */
  FCVTI 238, fcvt.w.s, -3, NX, 0xc0200000, rmm
  FCVTI 240, fcvt.w.s, -3, NX, 0xc0200000, rdn
  FCVTI 242, fcvt.w.s, -2, NX, 0xc0200000, rup
  FCVTI 244, fcvt.w.s, 0, 0, MZERO
  FCVTI 250, fcvt.wu.s, 0, NX, MHALF, rne                 /* -0.5 rounds to 0: inexact only */
  FCVTI 252, fcvt.wu.s, 0, NX, MHALF, rtz
  FCVTI 254, fcvt.wu.s, 0, NV, MONE
  FCVTI 256, fcvt.wu.s, -1, NV, QNAN                      /* 0xffffffff sign-extended */
  FCVTI 258, fcvt.wu.s, -1, NV, INF
  FCVTI 260, fcvt.wu.s, 0, NV, MINF
  FCVTI 262, fcvt.wu.s, 0xffffffffb2d05e00, 0, 0x4f32d05e /* 3e9 fits, result sign-extended */
  FCVTI 264, fcvt.wu.s, 0, NV, MHALF, rdn                 /* rounds to -1 */
  FCVTI 270, fcvt.l.s, 0x7fffffffffffffff, NV, 0x5f0ac723 /* 1e19 */
  FCVTI 272, fcvt.l.s, 0x8000000000000000, NV, 0xdf0ac723
  FCVTI 274, fcvt.l.s, 0x7fffffffffffffff, NV, QNAN
  FCVTI 276, fcvt.l.s, 0x8000000000000000, 0, 0xdf000000  /* -2^63 exactly */
  FCVTI 278, fcvt.l.s, 0x7fffffffffffffff, NV, INF
  FCVTI 280, fcvt.l.s, 0x8000000000000000, NV, MINF
  FCVTI 282, fcvt.lu.s, 0, NV, MONE
  FCVTI 284, fcvt.lu.s, -1, NV, QNAN
  FCVTI 286, fcvt.lu.s, 0, NX, MHALF
  FCVTI 288, fcvt.lu.s, 0x8ac7230000000000, 0, 0x5f0ac723  /* 1e19 fits as unsigned */
  FCVTI 290, fcvt.lu.s, -1, NV, INF
  /* ---- conversions from integer ---- */
  FCVTF 300, fcvt.s.w, 0x4b800000, NX, 16777217          /* 2^24 + 1: tie to even */
  FCVTF 302, fcvt.s.w, 0xcf000000, 0, 0xffffffff80000000
  FCVTF 304, fcvt.s.w, 0x40a00000, 0, 0x100000005        /* only the low 32 bits */
  FCVTF 306, fcvt.s.wu, 0x4f800000, NX, 0xffffffff
  FCVTF 308, fcvt.s.l, MONE, 0, -1
  FCVTF 310, fcvt.s.lu, 0x5f800000, NX, -1
  FCVTF 312, fcvt.s.w, 0x4b800001, NX, 16777219, rtz     /* 2^24 + 3 */
  FCVTF 314, fcvt.s.w, 0x4b800002, NX, 16777219, rne
  FCVTF 316, fcvt.s.w, PZERO, 0, 0                        /* +0, not -0 */
  /* ---- NaN boxing ---- */
  li t0, ONE
  fmv.w.x fa0, t0
  fmv.x.d a0, fa0
  CHECK 320, a0, 0xffffffff3f800000       /* single writes are boxed */
  la a1, fdata
  li t0, 0x12345678cafef00d
  sd t0, 0(a1)
  flw fa0, 0(a1)
  fmv.x.d a0, fa0
  CHECK 321, a0, 0xffffffffcafef00d
  fadd.s fa1, fa0, fa0
  fmv.x.d a0, fa1
  srli a0, a0, 32
  CHECK 322, a0, 0xffffffff
  li t0, 0x000000003f800000      /* not a valid boxed single */
  fmv.d.x fa0, t0
  fsflags x0
  fadd.s fa1, fa0, fa0           /* read as the canonical NaN */
  fmv.x.w a0, fa1
  frflags a1
  CHECK 323, a0, S(QNAN)
  CHECK 324, a1, 0               /* a quiet NaN: no invalid */
  fclass.s a0, fa0
  CHECK 325, a0, 0x200
  li t0, ONE
  fmv.w.x fa1, t0
  fsgnj.s fa2, fa0, fa1
  fmv.x.d a0, fa2
  CHECK 326, a0, 0xffffffff7fc00000
  fsgnjn.s fa2, fa0, fa1
  fmv.x.d a0, fa2
  CHECK 327, a0, 0xffffffffffc00000
  fmin.s fa2, fa0, fa1           /* unboxed acts as NaN: the other operand */
  fmv.x.w a0, fa2
  CHECK 328, a0, ONE
  fmv.x.w a0, fa0                /* FMV.X.W moves the low bits as they are */
  CHECK 329, a0, 0x3f800000
  la a1, fdata
  fsw fa0, 8(a1)                 /* so does FSW */
  lwu a0, 8(a1)
  CHECK 330, a0, 0x3f800000
  li t0, 0xfffffffe3f800000      /* upper bits not all ones */
  fmv.d.x fa0, t0
  feq.s a0, fa0, fa0
  CHECK 331, a0, 0
  /* ---- fclass.s: one bit per class ---- */
  FCLASS 340, 0x001, MINF
  FCLASS 341, 0x002, MONE
  FCLASS 342, 0x004, 0x807fffff
  FCLASS 343, 0x008, MZERO
  FCLASS 344, 0x010, PZERO
  FCLASS 345, 0x020, 0x00000001
  FCLASS 346, 0x040, ONE
  FCLASS 347, 0x080, INF
  FCLASS 348, 0x100, SNAN
  FCLASS 349, 0x200, QNAN
  FCLASS 350, 0x200, 0xffc00000
  /* ---- fmv.w.x / fmv.x.w / loads and stores ---- */
  li t0, 0xdeadbeef7f800001
  fmv.w.x fa0, t0                /* low 32 bits, no canonicalisation */
  fmv.x.w a0, fa0
  CHECK 360, a0, S(0x7f800001)
  la a1, fdata
  fsw fa0, 4(a1)
  lw a0, 4(a1)
  CHECK 361, a0, S(0x7f800001)
  /* ---- underflow: tininess is detected after rounding (IEEE 754 option
   * RISC-V uses): (1 + 2^-23) * 2^-126 (1 - 2^-23) = 2^-126 (1 - 2^-46) rounds
   * to 2^-126, the smallest normal, so it is not tiny: NX only. 0x00ffffff / 2
   * is tiny even after rounding (to 2^-126 - 2^-150), so UF | NX, and the
   * subnormal rounding gives 0x00800000 too. ---- */
  FOP2 400, fmul.s, 0x00800000, NX, 0x3f800001, 0x007fffff
  FOP2 402, fdiv.s, 0x00800000, UF | NX, 0x00ffffff, TWO
  FOP2 404, fmul.s, 0x007fffff, UF | NX, 0x3f800001, 0x007fffff, rtz
  FOP2 406, fmul.s, 0x00000001, UF | NX, 0x00000001, HALF, rup   /* 2^-150 up */
  FOP2 408, fmul.s, PZERO, UF | NX, 0x00000001, HALF, rne        /* tie to even 0 */
  FOP2 410, fmul.s, MZERO, UF | NX, 0x80000001, HALF, rne        /* signed zero */
  FOP2 412, fadd.s, 0x00000002, 0, 0x00000001, 0x00000001        /* exact subnormal: no UF */
  /* ---- the sign of an exact zero sum ---- */
  FOP2 420, fadd.s, MZERO, 0, MZERO, MZERO
  FOP2 422, fadd.s, PZERO, 0, PZERO, MZERO
  FOP2 424, fadd.s, MZERO, 0, PZERO, MZERO, rdn
  FOP2 426, fsub.s, PZERO, 0, ONE, ONE
  FOP2 428, fsub.s, MZERO, 0, ONE, ONE, rdn
  FOP3 430, fmadd.s, MZERO, 0, MZERO, ONE, MZERO
  FOP3 432, fnmsub.s, MZERO, 0, PZERO, ONE, MZERO   /* -(+0 * 1) + -0 = -0 */
  /* ---- infinities ---- */
  FOP2 440, fdiv.s, PZERO, 0, ONE, INF
  FOP2 442, fmul.s, MINF, 0, INF, MONE
  FOP2 444, fdiv.s, QNAN, NV, INF, INF
  FOP1 446, fsqrt.s, INF, 0, INF
  FOP1 448, fsqrt.s, QNAN, NV, MINF
  FOP3 450, fmadd.s, QNAN, NV, INF, ONE, MINF
  FOP2 452, fadd.s, INF, 0, INF, MAXF
  /* ---- every rounding mode on more operations ---- */
  FOP1 500, fsqrt.s, 0x3fb504f3, NX, TWO, rne
  FOP1 502, fsqrt.s, 0x3fb504f3, NX, TWO, rtz
  FOP1 504, fsqrt.s, 0x3fb504f3, NX, TWO, rdn
  FOP1 506, fsqrt.s, 0x3fb504f4, NX, TWO, rup
  FOP1 508, fsqrt.s, 0x3fb504f3, NX, TWO, rmm
  FOP3 510, fmadd.s, ONE, NX, ONE, ONE, 0x33800000
  li t1, 4
  fsrm t1
  FOP3 512, fmadd.s, 0x3f800001, NX, ONE, ONE, 0x33800000     /* dyn = RMM */
  fsrm x0
  FCVTF 520, fcvt.s.w, 0x4b800000, NX, 16777217, rne
  FCVTF 522, fcvt.s.w, 0x4b800001, NX, 16777217, rmm
  FCVTF 524, fcvt.s.w, 0x4b800001, NX, 16777217, rup
  FCVTF 526, fcvt.s.w, 0x4b800000, NX, 16777217, rdn
  FCVTF 528, fcvt.s.w, 0x4b800000, NX, 16777217, rtz
  FCVTF 530, fcvt.s.w, 0xcb800000, NX, -16777217, rne
  FCVTF 532, fcvt.s.w, 0xcb800001, NX, -16777217, rmm
  FCVTF 534, fcvt.s.w, 0xcb800000, NX, -16777217, rup
  FCVTF 536, fcvt.s.w, 0xcb800001, NX, -16777217, rdn
  FCVTF 538, fcvt.s.w, 0xcb800000, NX, -16777217, rtz
  FCVTF 540, fcvt.s.lu, 0x5f800000, NX, -1, rne
  FCVTF 542, fcvt.s.lu, 0x5f7fffff, NX, -1, rtz
  FCVTI 550, fcvt.w.s, 2, NX, 0x40200000, rtz
  FCVTI 552, fcvt.w.s, 2, NX, 0x40200000, rdn
  FCVTI 554, fcvt.w.s, 3, NX, 0x40200000, rup
  FCVTI 556, fcvt.w.s, 3, NX, 0x40200000, rmm
  FCVTI 558, fcvt.l.s, 0, NX, HALF, rne
  FCVTI 560, fcvt.l.s, 1, NX, HALF, rmm
  FCVTI 562, fcvt.l.s, 1, NX, HALF, rup
  FCVTI 564, fcvt.l.s, 0, NX, HALF, rdn
  FCVTI 566, fcvt.l.s, 0, NX, MHALF, rne
  FCVTI 568, fcvt.l.s, -1, NX, MHALF, rmm
  FCVTI 570, fcvt.l.s, -1, NX, MHALF, rdn
  FCVTI 572, fcvt.l.s, 0, NX, MHALF, rup
  FCVTI 574, fcvt.lu.s, 1, NX, HALF, rup
  FCVTI 576, fcvt.lu.s, 0, NV, MHALF, rmm      /* rounds to -1: invalid */
  j pass

  .data
  .align 3
fdata: .dword 0, 0, 0
