/* rv64m.S - the M extension (unprivileged spec ch. 13): MUL/MULH/MULHSU/MULHU,
 * DIV/DIVU/REM/REMU and the W forms, including division by zero and the
 * signed-overflow case (table "Semantics for division by zero and division
 * overflow"). */
#include "common.h"

.macro TRR n, op, res, a, b
  li a1, \a
  li a2, \b
  \op a0, a1, a2
  CHECK \n, a0, \res
.endm

#define MIN 0x8000000000000000
#define MAX 0x7fffffffffffffff

main:
  TRR 2, mul, 21, 3, 7
  TRR 3, mul, 1, -1, -1
  TRR 4, mul, 0xfffffffffffffffe, MAX, 2
  TRR 5, mul, MIN, MIN, -1
  TRR 6, mul, 0xfffffffe00000001, 0xffffffff, 0xffffffff
  TRR 10, mulh, 0, -1, -1
  TRR 11, mulh, 0x4000000000000000, MIN, MIN
  TRR 12, mulh, -1, -1, 1
  TRR 13, mulh, 0x3fffffffffffffff, MAX, MAX
  TRR 14, mulh, 0, 3, 7
  TRR 15, mulh, 0xe000000000000000, MIN, 0x4000000000000000   /* MIN * 2^62 = -2^125 */
  TRR 20, mulhu, 0xfffffffffffffffe, -1, -1
  TRR 21, mulhu, 1, MIN, 2
  TRR 22, mulhu, 0, 3, 7
  TRR 23, mulhu, 0x00000000ffffffff, 0x0000000100000000, 0xffffffff00000000
  TRR 30, mulhsu, -1, -1, -1
  TRR 31, mulhsu, -2, -2, -1
  TRR 32, mulhsu, 0, 1, -1
  TRR 33, mulhsu, -1, MIN, 2
  TRR 34, mulhsu, 0x7ffffffffffffffe, MAX, -1
  TRR 40, mulw, -2, 0x7fffffff, 2
  TRR 41, mulw, 15, 0x100000003, 0x100000005
  TRR 42, mulw, 0xffffffff80000000, 0x10000, 0x8000
  TRR 43, mulw, 1, -1, -1
  /* division: rounds toward zero */
  TRR 50, div, 3, 20, 6
  TRR 51, div, -3, -20, 6
  TRR 52, div, -3, 20, -6
  TRR 53, div, 3, -20, -6
  TRR 54, div, -1, 20, 0            /* by zero: all ones */
  TRR 55, div, -1, MIN, 0
  TRR 56, div, MIN, MIN, -1         /* overflow: dividend */
  TRR 60, divu, 3, 20, 6
  TRR 61, divu, MAX, -1, 2
  TRR 62, divu, -1, 20, 0           /* by zero: 2^64 - 1 */
  TRR 63, divu, 0, 1, -1
  TRR 70, rem, 2, 20, 6
  TRR 71, rem, -2, -20, 6           /* sign of the dividend */
  TRR 72, rem, 2, 20, -6
  TRR 73, rem, -2, -20, -6
  TRR 74, rem, 20, 20, 0            /* by zero: dividend */
  TRR 75, rem, -20, -20, 0
  TRR 76, rem, 0, MIN, -1           /* overflow: 0 */
  TRR 80, remu, 1, -1, 2
  TRR 81, remu, 2, 20, 6
  TRR 82, remu, -1, -1, 0           /* by zero: dividend */
  TRR 83, remu, 20, 20, -1
  /* W forms: operate on the low 32 bits, sign-extend the 32-bit result */
  TRR 90, divw, 3, 0x100000014, 6
  TRR 91, divw, -3, 0xffffffec, 6
  TRR 92, divw, 0xffffffff80000000, 0x80000000, -1   /* overflow */
  TRR 93, divw, -1, 5, 0x100000000                    /* divisor low 32 bits = 0 */
  TRR 94, divuw, 0x7fffffff, 0xffffffff, 2
  TRR 95, divuw, -1, 7, 0                             /* 0xffffffff sign-extended */
  TRR 96, divuw, 0xffffffff80000000, 0x80000000, 1
  TRR 97, divuw, 0, 3, 0xfffffffff
  TRR 100, remw, -2, 0xffffffec, 6
  TRR 101, remw, 0, 0x80000000, -1                    /* overflow: 0 */
  TRR 102, remw, 0x23456789, 0x123456789, 0           /* by zero: sext(low 32 of dividend) */
  TRR 103, remw, 0xffffffff80000000, 0x80000000, 0
  TRR 110, remuw, -1, 0xffffffff, 0                   /* by zero: sext(0xffffffff) */
  TRR 111, remuw, 1, 7, 0x100000003
  TRR 112, remuw, 5, 0x80000005, 0x10
  TRR 113, remuw, 0xffffffff80000001, 0x80000001, 0x80000002
  /* rd equal to a source */
  li a1, 6
  li a2, 7
  mul a1, a1, a2
  CHECK 120, a1, 42
  div a2, a1, a2
  CHECK 121, a2, 6
  j pass
