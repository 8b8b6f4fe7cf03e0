/* access.S - access faults on addresses outside the physical address space
 * (priv spec 3.7, 3.1.16): flipping bit 63 of a RAM address gives such an
 * address. A JALR to it commits (rd is written) and the fetch at the target
 * raises an instruction access fault (1) with mepc = the target; a load from
 * it raises a load access fault (5) with mtval = the address and leaves rd
 * unchanged; a store raises a store access fault (7). */
#include "common.h"

main:
  la t2, pass
  li t0, 1
  slli t0, t0, 63
  xor s2, t0, t2                 /* s2: pass with bit 63 flipped */

  EXPECT_TRAP 1f
  li t2, 0
  la s1, 3f
  jalr t2, s2
3:FAILNOW 2
1:CHECK_TRAP 3, CAUSE_FETCH_ACCESS
  CHECKR 4, t2, s1
  la t6, t_epc
  ld a0, 0(t6)
  CHECKR 5, a0, s2

  EXPECT_TRAP 1f
  li t2, 1234
  lb t2, 0(s2)
  FAILNOW 6
1:CHECK_TRAP 7, CAUSE_LOAD_ACCESS
  CHECK 8, t2, 1234
  la t6, t_tval
  ld a0, 0(t6)
  CHECKR 9, a0, s2

  EXPECT_TRAP 1f
  sd zero, 0(s2)
  FAILNOW 10
1:CHECK_TRAP 11, CAUSE_STORE_ACCESS
  la t6, t_tval
  ld a0, 0(t6)
  CHECKR 12, a0, s2
  j pass
