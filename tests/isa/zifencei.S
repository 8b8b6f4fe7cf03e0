/* zifencei.S - Zifencei (unprivileged spec ch. "Zifencei"): a store to
 * instruction memory followed by FENCE.I is seen by later instruction fetches
 * of the same hart. Code is executed first (so any decode cache holds the old
 * instruction), patched, fenced and executed again. */
#include "common.h"

#define ADDI_A0(imm) (((imm) << 20) | (10 << 7) | 0x13)      /* addi a0, x0, imm */
#define C_LI_A0(imm) (0x4001 | (10 << 7) | (((imm) & 0x1f) << 2) | ((((imm) >> 5) & 1) << 12))  /* c.li a0, imm */

main:
  /* 32-bit instruction in .text, same page as this code */
  call slot1
  CHECK 2, a0, 1
  la a1, slot1
  li a2, ADDI_A0(2)
  sw a2, 0(a1)
  fence.i
  call slot1
  CHECK 3, a0, 2
  li a2, ADDI_A0(-7)
  sw a2, 0(a1)
  fence.i
  call slot1
  CHECK 4, a0, -7
  /* a slot in a hot loop: patched between iterations */
  li s0, 0
  li s1, 0
  la a1, slot2
1:call slot2
  add s1, s1, a0
  li a2, ADDI_A0(10)
  sw a2, 0(a1)
  fence.i
  addi s0, s0, 1
  li t0, 3
  blt s0, t0, 1b
  CHECK 5, s1, 1 + 10 + 10
  /* code in .data (another page, written as data first), compressed
   * instructions patched with 16-bit stores */
  la a1, dslot
  li a2, C_LI_A0(5)
  sh a2, 0(a1)
  li a2, 0x8082                  /* c.jr ra (ret) */
  sh a2, 2(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK 6, a0, 5
  li a2, C_LI_A0(-3)
  sh a2, 0(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK 7, a0, -3
  /* replace a compressed instruction by a 32-bit one spanning the old two */
  li a2, ADDI_A0(300)
  sw a2, 0(a1)
  li a2, 0x8082
  sh a2, 4(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK 8, a0, 300
  /* ... and back to 16-bit */
  li a2, C_LI_A0(9)
  sh a2, 0(a1)
  li a2, 0x8082
  sh a2, 2(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK 9, a0, 9
  /* patch the instruction right after the fence.i itself */
  la a1, 2f
  li a2, ADDI_A0(42)
  sw a2, 0(a1)
  fence.i
  .option push
  .option norvc
2:addi a0, x0, 41
  .option pop
  CHECK 10, a0, 42
  j pass

  .option push
  .option norvc
  .align 2
slot1:
  addi a0, x0, 1
  ret
  .align 2
slot2:
  addi a0, x0, 1
  ret
  .option pop

  .data
  .align 6
dslot: .word 0, 0, 0, 0
