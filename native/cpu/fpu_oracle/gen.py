#!/usr/bin/env python3
"""Generates native/cpu/fpu_test_vectors.h from QEMU's RISC-V FPU.

The expected values of fpu_test.cc's vector test come from an independent
implementation: QEMU 7.2's RISC-V target (softfloat), not from vmsup's code.
This script
  1. builds a list of cases: (instruction word, frm, a, b, c), where the
     instruction always uses rd = 14, rs1 = 11, rs2 = 12, rs3 = 13,
  2. assembles oracle.S + the case table with riscv64-linux-gnu-gcc,
  3. runs it bare-metal under `qemu-system-riscv64 -M spike -bios none`, which
     executes each instruction with f11 = x11 = a, f12 = b, f13 = c, fcsr =
     frm << 5, and prints f14, x14, fflags and whether it trapped (illegal),
  4. writes the header.
Run from the repository root:  python3 native/cpu/fpu_oracle/gen.py
(Needs gcc-riscv64-linux-gnu and qemu-system-misc; the test itself does not.)
For a larger one-off comparison, FPU_ORACLE_RANDOM=<cases per op> and
FPU_ORACLE_OUT=<dir>/cpu/fpu_test_vectors.h, then build fpu_test.cc with
-I<dir> ahead of -Inative.
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get('FPU_ORACLE_OUT', os.path.join(HERE, '..', 'fpu_test_vectors.h'))
RD, RS1, RS2, RS3 = 14, 11, 12, 13
S, D = 0, 1
BOX = 0xffffffff00000000
rnd = random.Random(int(os.environ.get('FPU_ORACLE_SEED', '20261128')))


def op_fp(funct5, fmt, rs2, rm):
    return (funct5 << 27) | (fmt << 25) | (rs2 << 20) | (RS1 << 15) | (rm << 12) | (RD << 7) | 0x53


def r4(opcode, fmt, rm):
    return (RS3 << 27) | (fmt << 25) | (RS2 << 20) | (RS1 << 15) | (rm << 12) | (RD << 7) | opcode


def d(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def s(x):
    return BOX | struct.unpack('<I', struct.pack('<f', x))[0]


def sb(bits):  # boxed single from raw 32 bits
    return BOX | bits


cases = []  # (insn, frm, a, b, c, comment)
rm_counter = [0]


def rm_pick():
    """Rotates through static RNE..RMM (with a different frm, so a decoder that
    wrongly used frm would fail) and DYN with frm 0..4."""
    i = rm_counter[0]
    rm_counter[0] += 1
    k = i % 10
    if k < 5:
        return k, (k + 2) % 5
    return 7, k - 5


def add_case(insn, frm, a=0, b=0, c=0):
    cases.append((insn & 0xffffffff, frm, a & (2**64 - 1), b & (2**64 - 1), c & (2**64 - 1)))


# ---- special values -------------------------------------------------------
D_SPECIAL = [0, 0x8000000000000000, 1, 0x800fffffffffffff, 0x0010000000000000,
             d(1.0), d(-1.0), d(1.5), 0x7fefffffffffffff, 0xffefffffffffffff,
             0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
             0xfff8000000000123, 0x7ff0000000000001, d(2.0), d(2.0**-53)]
S_SPECIAL = [sb(0), sb(0x80000000), sb(1), sb(0x807fffff), sb(0x00800000), s(1.0), s(-1.0),
             s(1.5), sb(0x7f7fffff), sb(0xff7fffff), sb(0x7f800000), sb(0xff800000),
             sb(0x7fc00000), sb(0xffc00123), sb(0x7f800001), s(2.0),
             0x000000003f800000,        # unboxed 1.0: reads as the canonical NaN
             0xfffffffe7f800000]        # upper half not all ones: canonical NaN
SPECIAL = {S: S_SPECIAL, D: D_SPECIAL}

for fmt in (S, D):
    sp = SPECIAL[fmt]
    for a in sp:
        for b in sp:
            for f5 in (0, 1, 2, 3):  # FADD FSUB FMUL FDIV
                rm, frm = rm_pick()
                add_case(op_fp(f5, fmt, RS2, rm), frm, a, b)
            add_case(op_fp(5, fmt, RS2, 0), 0, a, b)  # FMIN
            add_case(op_fp(5, fmt, RS2, 1), 0, a, b)  # FMAX
            for f3 in (0, 1, 2):                       # FLE FLT FEQ
                add_case(op_fp(0x14, fmt, RS2, f3), 0, a, b)
    sub = sp[::2] + sp[-2:]
    for a in sub:
        for b in sub:
            for f3 in (0, 1, 2):
                add_case(op_fp(4, fmt, RS2, f3), 0, a, b)  # FSGNJ[N|X]
    for a in sp:
        rm, frm = rm_pick()
        add_case(op_fp(0x0b, fmt, 0, rm), frm, a)          # FSQRT
        add_case(op_fp(0x1c, fmt, 0, 1), 0, a)             # FCLASS
        add_case(op_fp(0x1c, fmt, 0, 0), 0, a)             # FMV.X.W / FMV.X.D
    # three-operand specials (NaN, inf*0 + qNaN, inf - inf)
    trip = [sp[0], sp[1], sp[5], sp[10], sp[11], sp[12], sp[14], sp[4]]
    for a in trip:
        for b in trip:
            for c in trip:
                for op in (0x43, 0x47, 0x4b, 0x4f):
                    if rnd.random() < 0.35:
                        rm, frm = rm_pick()
                        add_case(r4(op, fmt, rm), frm, a, b, c)

# FCLASS of all ten classes (plus subnormal/normal of both signs).
for v in (0x8000000000000001, 0x0000000000000001, 0x8010000000000000, d(-3.5), d(7.25)):
    add_case(op_fp(0x1c, D, 0, 1), 0, v)
for v in (sb(0x80000001), sb(0x00000001), sb(0x80800000), s(-3.5), s(7.25)):
    add_case(op_fp(0x1c, S, 0, 1), 0, v)


# ---- random arithmetic ------------------------------------------------------
def rand_bits(fmt, kind):
    if fmt == D:
        mant, ebits, total = 52, 11, 64
    else:
        mant, ebits, total = 23, 8, 32
    emax_field = (1 << ebits) - 2
    bias = (1 << (ebits - 1)) - 1
    sign = rnd.getrandbits(1) << (total - 1)
    m = rnd.getrandbits(mant)
    if kind == 'any':
        e = rnd.randint(0, emax_field + 1)
        if e == emax_field + 1:
            e = rnd.randint(1, emax_field)
    elif kind == 'mid':
        e = bias + rnd.randint(-30, 30)
    elif kind == 'small':
        e = rnd.randint(0, mant + 4)
    elif kind == 'half':   # around sqrt(min normal): products near the underflow threshold
        e = bias // 2 + rnd.randint(-mant // 2 - 3, 3) - bias + 1 + bias // 2
        e = max(1, min(emax_field, bias - (bias // 2) - rnd.randint(0, mant + 2)))
    elif kind == 'big':
        e = rnd.randint(emax_field - 3, emax_field)
    elif kind == 'halfbig':
        e = rnd.randint(bias + bias // 2 - 2, bias + bias // 2 + 2)
    else:
        raise ValueError(kind)
    if kind == 'mid' and rnd.random() < 0.3:
        m &= ~((1 << rnd.randint(mant // 2, mant)) - 1)  # few significant bits: exact results and ties
    v = sign | (e << mant) | m
    return v if fmt == D else sb(v)


def box(fmt, v):
    return v if fmt == D else sb(v & 0xffffffff)


KINDS = ['any', 'mid', 'mid', 'small', 'half', 'big', 'halfbig']
N_RANDOM = int(os.environ.get('FPU_ORACLE_RANDOM', '110'))
for fmt in (S, D):
    for f5 in (0, 1, 2, 3, 0x0b):
        for i in range(N_RANDOM):
            ka = rnd.choice(KINDS)
            kb = ka if rnd.random() < 0.6 else rnd.choice(KINDS)
            a, b = rand_bits(fmt, ka), rand_bits(fmt, kb)
            rm, frm = rm_pick()
            add_case(op_fp(f5, fmt, 0 if f5 == 0x0b else RS2, rm), frm, a, b)
    for op in (0x43, 0x47, 0x4b, 0x4f):
        for i in range(N_RANDOM):
            ka = rnd.choice(KINDS)
            a, b, c = rand_bits(fmt, ka), rand_bits(fmt, ka), rand_bits(fmt, rnd.choice(KINDS))
            rm, frm = rm_pick()
            add_case(r4(op, fmt, rm), frm, a, b, c)

# Random operands for the non-arithmetic two-operand instructions and for the
# conversions (a few per 10 arithmetic cases).
for fmt in (S, D):
    for i in range(N_RANDOM // 4):
        ka = rnd.choice(KINDS)
        a, b = rand_bits(fmt, ka), rand_bits(fmt, ka if rnd.random() < 0.5 else rnd.choice(KINDS))
        if rnd.random() < 0.2:
            b = a ^ rnd.choice([1, 1 << 63 if fmt == D else 1 << 31])
        add_case(op_fp(5, fmt, RS2, rnd.randint(0, 1)), 0, a, b)
        add_case(op_fp(0x14, fmt, RS2, rnd.randint(0, 2)), 0, a, b)
    for i in range(N_RANDOM // 2):
        t = rnd.randint(0, 3)
        mant = 52 if fmt == D else 23
        bias = 1023 if fmt == D else 127
        e = bias + rnd.randint(-3, 66)
        v = (rnd.getrandbits(1) << (63 if fmt == D else 31)) | (e << mant) | rnd.getrandbits(mant)
        rm, frm = rm_pick()
        add_case(op_fp(0x18, fmt, t, rm), frm, v if fmt == D else sb(v))
        rm, frm = rm_pick()
        iv = rnd.getrandbits(rnd.choice([8, 24, 25, 31, 32, 33, 53, 54, 63, 64]))
        if rnd.random() < 0.5:
            iv = (-iv) & (2**64 - 1)
        add_case(op_fp(0x1a, fmt, rnd.randint(0, 3), rm), frm, iv)
for i in range(N_RANDOM // 2):
    rm, frm = rm_pick()
    add_case(op_fp(0x08, S, 1, rm), frm, d(rnd.uniform(-2, 2) * 2.0 ** rnd.randint(-160, 130)))

# Exact halfway cases in every rounding mode: x + half an ulp, x + 3 half ulps,
# and products of two odd integers that need exactly P+1 bits.
for fmt, p, conv in ((S, 24, s), (D, 53, d)):
    for i in range(12):
        base = rnd.randint(2**(p - 1), 2**p - 1)
        for half in (1, 3):
            a = conv(float(base))
            b = conv(half * 0.5 * (-1 if i % 3 == 0 else 1))
            for rm in range(5):
                add_case(op_fp(0, fmt, RS2, rm), 0, a, b)
                add_case(op_fp(0, fmt, RS2, rm), 0, conv(-float(base)), b)
    found = 0
    while found < 10:
        h = (p + 2) // 2
        m1, m2 = rnd.randint(2**(h - 1), 2**h - 1) | 1, rnd.randint(2**(h - 1), 2**h - 1) | 1
        if (m1 * m2).bit_length() != p + 1:
            continue
        found += 1
        for rm in range(5):
            add_case(op_fp(2, fmt, RS2, rm), 0, conv(float(m1)), conv(-float(m2) if found % 2 else float(m2)))

# Overflow to inf vs the largest finite value, per rounding mode and sign.
for fmt, big in ((S, sb(0x7f7fffff)), (D, 0x7fefffffffffffff)):
    two = s(2.0) if fmt == S else d(2.0)
    neg = (1 << 31) if fmt == S else (1 << 63)
    for rm in range(5):
        add_case(op_fp(2, fmt, RS2, rm), 0, big, two)
        add_case(op_fp(2, fmt, RS2, rm), 0, big | neg, two)
        add_case(op_fp(0, fmt, RS2, rm), 0, big, big)

# Underflow around the smallest normal (tininess after rounding).
for fmt in (S, D):
    if fmt == D:
        minn, one_minus, cands = 0x0010000000000000, 0x3fefffffffffffff, [0x3feffffffffffffe, 0x3fefffffffffffff, 0x3fe0000000000000, 0x3ff0000000000001]
    else:
        minn, one_minus, cands = sb(0x00800000), sb(0x3f7fffff), [sb(0x3f7ffffe), sb(0x3f7fffff), sb(0x3f000000), sb(0x3f800001)]
    neg = (1 << 31) if fmt == S else (1 << 63)
    for cnd in cands:
        for m in (minn, minn + 1, minn + 3):
            for rm in range(5):
                add_case(op_fp(2, fmt, RS2, rm), 0, m, cnd)
                add_case(op_fp(2, fmt, RS2, rm), 0, m | neg, cnd)
                add_case(op_fp(3, fmt, RS2, rm), 0, m, cnd)  # divide by ~1: just above/below

# x - x is +0, except -0 in RDN; (-0) + (-0) = -0.
for fmt, one in ((S, s(1.0)), (D, d(1.0))):
    for rm in range(5):
        add_case(op_fp(1, fmt, RS2, rm), 0, one, one)
        add_case(r4(0x47, fmt, rm), 0, one, one, one)  # 1*1 - 1

# Fused multiply-add: one rounding. (1 + 2^-27)(1 - 2^-27) - 1 = -2^-54 exactly
# (rounding the product first gives 0), and the classic double-rounding case.
add_case(r4(0x47, D, 0), 0, d(1 + 2**-27), d(1 - 2**-27), d(1.0))
add_case(r4(0x43, D, 0), 0, d(1 + 2**-52), d(1 + 2**-52), d(-1.0))
add_case(r4(0x43, S, 0), 0, s(1 + 2**-12), s(1 - 2**-12), s(-1.0))
for rm in range(5):
    add_case(r4(0x43, D, rm), 0, d(1 + 2**-30), d(1 + 2**-23), d(2**-60))
    add_case(r4(0x43, S, rm), 0, s(1 + 2**-12), s(1 + 2**-11), s(2**-30))

# ---- conversions --------------------------------------------------------------
FINT_D = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -1.5, -2.5, -1.0, 0.9999, -0.9999, 1.0, 3.7, -3.7,
          2.0**31 - 1, 2.0**31 - 0.5, 2.0**31, 2.0**31 + 0.5, -2.0**31, -2.0**31 - 0.5, -2.0**31 - 1,
          2.0**32 - 1, 2.0**32 - 0.5, 2.0**32, 2.0**63 - 1024, 2.0**63, -2.0**63, -2.0**63 - 2048,
          2.0**64 - 2048, 2.0**64, 1e300, -1e300, -0.25, 2.0**-1074]
FINT_D = [d(v) for v in FINT_D] + [0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
                                  0xfff8000000000000, 0x7ff0000000000001, 0x8000000000000001]
FINT_S = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -1.5, -2.5, -1.0, 0.9999, -0.9999, 1.0, 3.7, -3.7,
          2.0**31 - 128, 2.0**31, -2.0**31, -2.0**31 - 256, 2.0**32 - 256, 2.0**32,
          2.0**63 - 2.0**39, 2.0**63, -2.0**63, -2.0**63 - 2.0**40, 2.0**64 - 2.0**40, 2.0**64,
          1e30, -1e30, -0.25, 8388607.5, -8388607.5]
FINT_S = [s(v) for v in FINT_S] + [sb(0x7f800000), sb(0xff800000), sb(0x7fc00000), sb(0xffc00000),
                                  sb(0x7f800001), sb(0x80000001), 0x000000003f800000]
for fmt, vals in ((S, FINT_S), (D, FINT_D)):
    for v in vals:
        for t in range(4):  # W WU L LU
            for rm in (0, 1, 2, 3, 4):
                add_case(op_fp(0x18, fmt, t, rm), (rm + 1) % 5, v)
            add_case(op_fp(0x18, fmt, t, 7), rnd.randint(0, 4), v)

INTS = [0, 1, 2**64 - 1, 2**24 + 1, 2**24 + 3, 2**25 + 2, 2**53 + 1, 2**53 + 3, 2**31 - 1, 2**64 - 2**31,
        0xffffffff, 0x80000000, 2**63 - 1, 2**63, 2**63 + 1, 0x123456789abcdef0, 0xfedcba9876543211,
        0x00000000fffffff1, 0xffffffff7fffffc1, 0x0000000100000001]
INTS += [rnd.getrandbits(64) for _ in range(6)] + [rnd.getrandbits(33) for _ in range(4)]
for fmt in (S, D):
    for v in INTS:
        for t in range(4):
            for rm in (0, 1, 2, 3, 4):
                add_case(op_fp(0x1a, fmt, t, rm), (rm + 3) % 5, v)

# FCVT.S.D rounding, overflow and underflow; FCVT.D.S with NaNs and boxing.
SD = list(D_SPECIAL) + [d(1 + 2**-24), d(1 + 3 * 2**-24), d(1 + 2**-24 + 2**-60), d(-(1 + 2**-24)),
                        d(3.4028235677973366e38), d(3.4028235e38 * 1.0000001), d(1e39), d(-1e39),
                        d(2.0**-126), d(2.0**-126 * (1 - 2**-25)), d(2.0**-126 * (1 - 2**-24)),
                        d(2.0**-149), d(2.0**-150), d(2.0**-150 * 1.5), d(-2.0**-151), d(1e-50),
                        d(0.1), d(-0.1), d(1.0 / 3.0)]
for v in SD:
    for rm in range(5):
        add_case(op_fp(0x08, S, 1, rm), 0, v)
    add_case(op_fp(0x08, S, 1, 7), rnd.randint(0, 4), v)
for v in S_SPECIAL + [s(0.1), sb(0x00000003)]:
    add_case(op_fp(0x08, D, 0, 0), 0, v)

# FMV: raw moves, sign extension, boxing.
for v in (0x12345678_9abcdef0, 0xffffffff_80000000, 0x00000000_7fc00001, 0xfffffffe_ffffffff):
    add_case(op_fp(0x1c, S, 0, 0), 0, v)   # FMV.X.W
    add_case(op_fp(0x1c, D, 0, 0), 0, v)   # FMV.X.D
    add_case(op_fp(0x1e, S, 0, 0), 0, v)   # FMV.W.X
    add_case(op_fp(0x1e, D, 0, 0), 0, v)   # FMV.D.X
# FSGNJ.S boxes its result even from unboxed inputs.
add_case(op_fp(4, S, RS2, 0), 0, 0x00000000bf800000, s(1.0))
add_case(op_fp(4, S, RS2, 2), 0, s(2.0), 0x1234567880000000)

# ---- illegal encodings ----------------------------------------------------------
ILLEGAL = []
for fmt in (S, D):
    for rm in (5, 6):
        ILLEGAL += [(op_fp(0, fmt, RS2, rm), 0), (r4(0x43, fmt, rm), 0), (op_fp(0x18, fmt, 0, rm), 0),
                    (op_fp(0x1a, fmt, 0, rm), 0), (op_fp(0x0b, fmt, 0, rm), 0)]
    for frm in (5, 6, 7):
        ILLEGAL += [(op_fp(2, fmt, RS2, 7), frm), (op_fp(0x1a, fmt, 2, 7), frm), (r4(0x4f, fmt, 7), frm)]
    ILLEGAL += [(op_fp(0x0b, fmt, 1, 0), 0), (op_fp(0x18, fmt, 4, 0), 0), (op_fp(0x1a, fmt, 5, 0), 0),
                (op_fp(4, fmt, RS2, 3), 0), (op_fp(5, fmt, RS2, 2), 0), (op_fp(0x14, fmt, RS2, 3), 0),
                (op_fp(0x1c, fmt, 0, 2), 0), (op_fp(0x1c, fmt, 1, 0), 0), (op_fp(0x1e, fmt, 0, 1), 0),
                (op_fp(0x1e, fmt, 3, 0), 0), (op_fp(0x06, fmt, RS2, 0), 0), (op_fp(0x1f, fmt, 0, 0), 0),
                (op_fp(0x09, fmt, RS2, 0), 0)]
ILLEGAL += [(op_fp(0x08, S, 0, 0), 0), (op_fp(0x08, D, 1, 0), 0), (op_fp(0x08, S, 3, 0), 0),
            (op_fp(0, 3, RS2, 0), 0), (r4(0x43, 3, 0), 0), (op_fp(0x1c, 3, 0, 0), 0)]
for insn, frm in ILLEGAL:
    add_case(insn, frm, d(1.0), d(2.0), d(3.0))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tab = os.path.join(tmp, 'cases.S')
        with open(tab, 'w') as f:
            f.write('  .data\n  .align 3\n  .globl cases, cases_end\ncases:\n')
            for insn, frm, a, b, c in cases:
                f.write(f'  .dword {insn:#x}, {frm}, {a:#x}, {b:#x}, {c:#x}\n')
            f.write('cases_end:\n')
        elf = os.path.join(tmp, 'oracle.elf')
        subprocess.run(['riscv64-linux-gnu-gcc', '-march=rv64gc', '-mabi=lp64d', '-nostdlib',
                        '-nostartfiles', '-static', '-no-pie', '-Wl,--build-id=none',
                        '-T', os.path.join(HERE, 'link.ld'), os.path.join(HERE, 'oracle.S'), tab,
                        '-o', elf], check=True)
        out = subprocess.run(['timeout', str(60 + len(cases) // 1000), 'qemu-system-riscv64', '-M', 'spike', '-bios', 'none',
                              '-display', 'none', '-monitor', 'none', '-serial', 'stdio',
                              '-kernel', elf], check=True, capture_output=True, text=True).stdout
    lines = [l.split() for l in out.splitlines() if l.strip()]
    if len(lines) != len(cases):
        sys.exit(f'expected {len(cases)} results, got {len(lines)}')
    qver = subprocess.run(['qemu-system-riscv64', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
    with open(OUT, 'w') as f:
        f.write('// GENERATED by native/cpu/fpu_oracle/gen.py — do not edit.\n')
        f.write(f'// Expected results come from QEMU\'s RISC-V FPU ({qver}),\n')
        f.write('// running oracle.S bare-metal on `-M spike`: an independent implementation.\n')
        f.write('// Each row: insn (rd=f14/x14, rs1=f11/x11, rs2=f12, rs3=f13), frm, a, b, c,\n')
        f.write('// then f14 after (0x5555555555555555 = not written), x14 after (0 before),\n')
        f.write('// fflags after (0 before), illegal-instruction trap.\n')
        f.write('#pragma once\n#include <cstdint>\n\nstruct FpVector {\n  uint32_t insn, frm;\n'
                '  uint64_t a, b, c, f_out, x_out;\n  uint32_t fflags, illegal;\n};\n\n')
        f.write('static const FpVector kFpVectors[] = {\n')
        for (insn, frm, a, b, c), l in zip(cases, lines):
            fo, xo, fl, tr = (int(t, 16) for t in l)
            f.write(f'{{{insn:#010x},{frm},{a:#x},{b:#x},{c:#x},{fo:#x},{xo:#x},{fl:#x},{tr}}},\n')
        f.write('};\n')
    print(f'{len(cases)} vectors -> {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
