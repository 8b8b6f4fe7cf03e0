# Generates a random RV64GC test program for run.sh (see there). Not a test
# by itself: the same program must print the same thing on vmsup and QEMU.
# Usage: gen.py SEED INSNS [DUMP_EVERY] [mem] > prog.S
import random, sys
seed = int(sys.argv[1]); n = int(sys.argv[2]); dump_every = int(sys.argv[3]) if len(sys.argv) > 3 else 0
MEM = len(sys.argv) > 4 and sys.argv[4] == 'mem' 
rnd = random.Random(seed)
OPS = [0x13, 0x33, 0x1b, 0x3b, 0x37, 0x17, 0x53, 0x43, 0x47, 0x4b, 0x4f, 0x0f]
W = [0x13]*3 + [0x33]*4 + [0x1b]*2 + [0x3b]*3 + [0x37, 0x17] + [0x53]*6 + [0x43, 0x47, 0x4b, 0x4f] + [0x0f]
def rand_insn():
    op = rnd.choice(W)
    r = rnd.getrandbits(32)
    r = (r & ~0x7f) | op
    # keep rd away from gp/sp/tp/t5/t6? we keep x2(sp), x3(gp), x4(tp) untouched
    rd = (r >> 7) & 31
    if op in (0x13, 0x33, 0x1b, 0x3b, 0x37, 0x17) or (op == 0x53 and ((r >> 25) in (0x70, 0x71, 0x50, 0x51, 0x60, 0x61, 0x72, 0x73) )):
        if rd in (2, 3, 4, 9):
            r = (r & ~(31 << 7)) | (rnd.choice([5,6,7,8,10,11,12]) << 7)
    if op == 0x13 or op == 0x33:
        # bias funct7 toward legal values
        if rnd.random() < 0.7:
            f7 = rnd.choice([0, 0x20, 0x01]) if op == 0x33 else rnd.choice([0, 0x20, 0x00])
            if op == 0x13 and ((r >> 12) & 7) in (1, 5):
                r = (r & 0x03ffffff) | ((rnd.choice([0, 0x10]) ) << 26)
            elif op == 0x33:
                r = (r & 0x01ffffff) | (f7 << 25)
    if op in (0x1b, 0x3b) and rnd.random() < 0.7:
        r = (r & 0x01ffffff) | (rnd.choice([0, 0x20, 0x01]) << 25)
    if op == 0x53 and rnd.random() < 0.8:
        f7 = rnd.choice([0x00,0x01,0x04,0x05,0x08,0x09,0x0c,0x0d,0x2c,0x2d,0x10,0x11,0x14,0x15,0x20,0x21,0x50,0x51,0x60,0x61,0x68,0x69,0x70,0x71,0x78,0x79,0x72,0x73])
        r = (r & 0x01ffffff) | (f7 << 25)
        if f7 in (0x60,0x61,0x68,0x69):  # fcvt: rs2 selects 0..3
            r = (r & ~(31 << 20)) | (rnd.randrange(4) << 20)
        if f7 in (0x20, 0x21):
            r = (r & ~(31 << 20)) | ((1 if f7 == 0x20 else 0) << 20)
        if f7 in (0x2c, 0x2d, 0x70, 0x71, 0x78, 0x79, 0x72, 0x73):
            r = r & ~(31 << 20)
        if f7 in (0x60,0x61,0x70,0x71,0x50,0x51,0x72,0x73):
            rd = (r >> 7) & 31
            if rd in (2,3,4,9): r = (r & ~(31 << 7)) | (10 << 7)
        if rnd.random() < 0.8:   # mostly valid rounding modes
            r = (r & ~(7 << 12)) | (rnd.choice([0,1,2,3,4,7]) << 12) if f7 not in (0x10,0x11,0x14,0x15,0x50,0x51,0x70,0x71,0x78,0x79,0x72,0x73) else r
    if op in (0x43,0x47,0x4b,0x4f) and rnd.random() < 0.8:
        r = (r & ~(3 << 25)) | (rnd.randrange(2) << 25)
        r = (r & ~(7 << 12)) | (rnd.choice([0,1,2,3,4,7]) << 12)
    if op == 0x0f:
        r = r & ~(0x7 << 12) | (rnd.choice([0, 1]) << 12)
    return r & 0xffffffff
print('#include "common.h"')
print('main:')
print('  li t0, MSTATUS_FS\n  csrs mstatus, t0\n  la t0, fz_trap\n  csrw mtvec, t0\n  li s11, 0')
for i in range(1, 32):
    if i in (2, 3, 4, 9): continue
    print(f'  li x{i}, {rnd.getrandbits(64) if rnd.random() < 0.7 else rnd.choice([0,1,-1,0x7fffffff,0x80000000,0xffffffff,1<<63,(1<<63)-1,31,32,63,64])}')
for i in range(32):
    print(f'  li t0, {rnd.choice([rnd.getrandbits(64), 0x7ff8000000000000, 0xffffffff7fc00000, 0xffffffff00000000 | rnd.getrandbits(32), 0x3ff0000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xffffffff80000000])}')
    print(f'  fmv.d.x f{i}, t0')
print(f'  li t0, {rnd.randrange(5) if rnd.random() < 0.8 else rnd.randrange(5, 8)}\n  csrw frm, t0')
print('  la s1, buf + 2048')
print('  .option push\n  .option rvc')
def rand_mem():
    kind = rnd.choice(['ld']*4 + ['st']*4 + ['fld', 'fst', 'amo'])
    r = rnd.getrandbits(32)
    r = (r & ~(31 << 15)) | (9 << 15)
    if kind == 'ld':
        r = (r & ~0x707f) | 0x03 | (rnd.choice([0,1,2,3,4,5,6]) << 12)
    elif kind == 'st':
        r = (r & ~0x707f) | 0x23 | (rnd.choice([0,1,2,3]) << 12)
    elif kind == 'fld':
        r = (r & ~0x707f) | 0x07 | (rnd.choice([2,3]) << 12)
    elif kind == 'fst':
        r = (r & ~0x707f) | 0x27 | (rnd.choice([2,3]) << 12)
    else:
        f5 = rnd.choice([0x01,0x00,0x04,0x0c,0x08,0x10,0x14,0x18,0x1c])
        r = (r & 0x07ffffff & ~0x707f) | 0x2f | (rnd.choice([2,3]) << 12) | (f5 << 27)
        r = r & ~(0x7ff00000 & ~(31 << 20) & ~(3 << 25) & ~(0x1f << 27))
    if kind in ('ld', 'amo'):
        rd = (r >> 7) & 31
        if rd in (2, 3, 4, 9): r = (r & ~(31 << 7)) | (10 << 7)
    return r & 0xffffffff

def rand_c():
    while True:
        h = rnd.getrandbits(16)
        q = h & 3; f3 = h >> 13
        if q == 3: continue
        if q == 0 and f3 != 0: continue                 # loads/stores
        if q == 1 and f3 in (5, 6, 7): continue         # c.j, c.beqz, c.bnez
        if q == 2 and f3 != 0 and f3 != 4: continue     # sp loads/stores
        if q == 2 and f3 == 4:
            rs2 = (h >> 2) & 31
            if rs2 == 0: continue                       # c.jr / c.jalr / c.ebreak
        rd = (h >> 7) & 31
        if q in (1, 2) and f3 in (0, 1, 2, 3, 4) and rd in (3, 4, 9) and not (q == 1 and f3 == 4): continue
        if q == 1 and f3 == 4 and ((h >> 7) & 7) == 1: continue   # rd' = x9
        if q == 0 and ((h >> 2) & 7) == 1: continue              # c.addi4spn rd' = x9
        return h
for k in range(n):
    if MEM and rnd.random() < 0.3:
        print(f'  .word 0x{rand_mem():08x}')
        continue
    if rnd.random() < 0.3:
        print(f'  .half 0x{rand_c():04x}')
        continue
    print(f'  .word 0x{rand_insn():08x}')
    if dump_every and (k + 1) % dump_every == 0:
        print('  jal tp, dump')
print('  .option pop')
print('  jal tp, dump')
print('  j pass')
print('''
dump:
  /* print x1..x31 (except x3,x4), f0..f31, fcsr, s11 (trap hash) */
  la t0, save
  .irp r, 1,2,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\\r, \\r*8(t0)
  .endr
  .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  fsd f\\r, (32+\\r)*8(t0)
  .endr
  csrr t1, fcsr
  sd t1, 64*8(t0)
  sd s11, 65*8(t0)
  li s9, 0
1:la t0, save
  slli t1, s9, 3
  add t0, t0, t1
  ld a0, 0(t0)
  jal puthex
  li a0, '\\n'
  jal putc
  addi s9, s9, 1
  li t1, 66
  blt s9, t1, 1b
  li s9, 0
1:la t0, buf
  slli t1, s9, 3
  add t0, t0, t1
  ld a0, 0(t0)
  jal puthex
  li a0, '\\n'
  jal putc
  addi s9, s9, 1
  li t1, 512
  blt s9, t1, 1b
  li a0, '-'
  jal putc
  li a0, '\\n'
  jal putc
  la t0, save                     /* restore everything the dump used, t0 last */
  .irp r, 1,2,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\\r, \\r*8(t0)
  .endr
  ld t0, 5*8(t0)
  jr tp

  .align 2
fz_trap:
  csrw mscratch, t0
  csrr t0, mcause
  add s11, s11, t0
  slli s11, s11, 5
  csrr t0, mtval
  xor s11, s11, t0
  csrr t0, mepc
  lhu s10, 0(t0)
  andi s10, s10, 3
  addi s10, s10, -3
  bnez s10, 1f
  addi t0, t0, 2
1:addi t0, t0, 2
  csrw mepc, t0
  csrr t0, mscratch
  mret

  .data
  .align 3
save: .skip 8*70
  .align 12
buf:
  .rept 512
  .dword 0x0123456789abcdef
  .endr
''')
