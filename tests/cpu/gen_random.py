"""Writes a random bare-metal RV64GC test program (for diff-qemu.sh): random
register values, then 400 random integer, M, compressed and load/store
instructions (including misaligned accesses into a buffer), then it prints
x5..x31 (x30 holds a checksum of the buffer) in hex over the HTIF console.
Usage: gen_random.py SEED > prog.S"""
import random, sys
seed = int(sys.argv[1]); random.seed(seed)
regs = [f"x{i}" for i in range(5, 32)]
ops3 = "add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw".split()
opsi = "addi slti sltiu xori ori andi addiw".split()
shi = "slli srli srai".split(); shiw = "slliw srliw sraiw".split()
cops = ["c.add", "c.mv", "c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw", "c.addi", "c.li", "c.slli", "c.srli", "c.srai", "c.andi", "c.addiw", "c.lui"]
creg = [f"x{i}" for i in range(8, 16)]
L = []
L.append("la x4, buf")
for r in regs:
    L.append(f"li {r}, {random.choice([0, 1, -1, 2**63-1, -2**63, random.getrandbits(64) - 2**63, random.getrandbits(32), random.randint(-100,100)])}")
for _ in range(400):
    k = random.random()
    if k < 0.45:
        L.append(f"{random.choice(ops3)} {random.choice(regs)}, {random.choice(regs)}, {random.choice(regs)}")
    elif k < 0.6:
        L.append(f"{random.choice(opsi)} {random.choice(regs)}, {random.choice(regs)}, {random.randint(-2048, 2047)}")
    elif k < 0.7:
        L.append(f"{random.choice(shi)} {random.choice(regs)}, {random.choice(regs)}, {random.randint(0, 63)}")
    elif k < 0.75:
        L.append(f"{random.choice(shiw)} {random.choice(regs)}, {random.choice(regs)}, {random.randint(0, 31)}")
    elif k < 0.8:
        L.append(f"lui {random.choice(regs)}, {random.randint(0, 0xfffff)}")
    elif k < 0.9:
        op = random.choice("lb lh lw ld lbu lhu lwu sb sh sw sd".split())
        L.append(f"{op} {random.choice(regs)}, {random.randint(0, 2000)}(x4)")
    else:
        op = random.choice(cops)
        if op in ("c.add", "c.mv"):
            L.append(f"{op} {random.choice(regs)}, {random.choice(regs)}")
        elif op in ("c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"):
            L.append(f"{op} {random.choice(creg)}, {random.choice(creg)}")
        elif op in ("c.addi", "c.addiw"):
            v = random.choice([i for i in range(-32, 32) if i != 0]); L.append(f"{op} {random.choice(regs)}, {v}")
        elif op == "c.li":
            L.append(f"{op} {random.choice(regs)}, {random.randint(-32, 31)}")
        elif op == "c.slli":
            L.append(f"{op} {random.choice(regs)}, {random.randint(1, 63)}")
        elif op in ("c.srli", "c.srai"):
            L.append(f"{op} {random.choice(creg)}, {random.randint(1, 63)}")
        elif op == "c.andi":
            L.append(f"{op} {random.choice(creg)}, {random.randint(-32, 31)}")
        elif op == "c.lui":
            L.append(f"{op} {random.choice([r for r in regs if r != 'x2'])}, {random.choice([i for i in range(1, 32)] + [i for i in range(0xfffe0, 0x100000)])}")
print('#include "htif.h"')
print("  .section .text.init\n  .globl _start\n_start:")
for l in L: print("  " + l)
# dump x5..x31 via HTIF: store to memory then print
print("  la x1, buf\n  li x30, 0\n  li x29, 2048\n7:\n  ld x28, 0(x1)\n  xor x30, x30, x28\n  slli x28, x30, 7\n  srli x30, x30, 57\n  or x30, x30, x28\n  addi x1, x1, 8\n  addi x29, x29, -8\n  bnez x29, 7b")
print("  la x1, dump")
for i in range(5, 32): print(f"  sd x{i}, {(i-5)*8}(x1)")
print("""  la s0, dump
  li s1, 27*8
  la s2, tohost
1:
  ld t3, 0(s0)
  li t4, 60
2:
  srl t5, t3, t4
  andi t5, t5, 15
  addi t5, t5, 48
  li t6, 58
  blt t5, t6, 3f
  addi t5, t5, 39
3:
  li t6, 0x0101000000000000
  or t6, t6, t5
  sd t6, 0(s2)
4:
  ld t6, 0(s2)
  bnez t6, 4b
  addi t4, t4, -4
  bgez t4, 2b
  li t6, 0x010100000000000a
  sd t6, 0(s2)
5:
  ld t6, 0(s2)
  bnez t6, 5b
  addi s0, s0, 8
  addi s1, s1, -8
  bnez s1, 1b
  li t6, 1
  sd t6, 0(s2)
6: j 6b
  .data
  .align 3
dump: .space 27*8
buf: .space 4096
  TOHOST_SECTION""")
