/* pmp.S - physical memory protection CSRs (priv spec 3.7.1): the 16 pmpaddr
 * CSRs and pmpcfg0/pmpcfg2 are readable and writable (enforcement is in
 * pmp_enforce.S). Entry 0 (all memory, RWX) is left as common.h set it. */
#include "common.h"

#define CFG_R 0x01
#define CFG_W 0x02
#define CFG_X 0x04
#define CFG_TOR 0x08
#define CFG_NAPOT 0x18


main:
  /* ---- pmpaddr1..15 hold what is written (bits 53:0 at most) ---- */
  li a1, 0x0000123456789abc
  .set pn, 2
  .irp r, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  addi a2, a1, \r
  csrw pmpaddr\r, a2
  csrr a0, pmpaddr\r
  CHECKR pn, a0, a2
  csrw pmpaddr\r, zero
  .set pn, pn + 1
  .endr
  /* pmpcfg0 entries 1..7 and pmpcfg2 entries 8..15 (A = OFF: no effect) */
  li a2, 0x0707070707070700 | 0x1f
  csrw pmpcfg0, a2
  csrr a0, pmpcfg0
  CHECKR 20, a0, a2
  li a2, 0x0503070105030701
  csrw pmpcfg2, a2
  csrr a0, pmpcfg2
  CHECKR 21, a0, a2
  csrw pmpcfg2, zero
  li a2, 0x1f
  csrw pmpcfg0, a2
  j pass
