/* trigger.S - the trigger CSRs (debug spec 1.0 §5.7, Sdtrig) as software
 * probes them: tselect, tdata1-3 and tinfo must exist in M-mode (a probe
 * must not trap), tselect reads back 0 after writing 0, and tdata1.type
 * (bits 63:60) says what the trigger is. A machine without triggers reports
 * type 0 ("no trigger at this tselect") or 15 (disabled); one with an
 * address/data match trigger (type 2) must take a breakpoint exception
 * (cause 3) with mepc at the matched instruction before it executes.
 * The trigger CSRs are M-mode CSRs (priv spec 2.2: 0x7a0-0x7af), so
 * S-mode access is illegal. */
#include "common.h"

#define TDATA1_TYPE_SHIFT 60
#define MCONTROL_M       (1 << 6)
#define MCONTROL_EXECUTE (1 << 2)

main:
  li gp, 2
  csrw tselect, zero
  csrr a0, tselect
  CHECK 3, a0, 0
  li gp, 4
  csrr a1, tdata1
  csrr a2, tdata2
  csrr a3, tdata3
  csrr a4, tinfo
  srli a0, a1, TDATA1_TYPE_SHIFT
  li t0, 2
  bne a0, t0, no_mcontrol

  /* type 2: an execute breakpoint on label 5 in M-mode */
  la a2, 5f
  csrw tdata2, a2
  li a0, MCONTROL_M | MCONTROL_EXECUTE
  csrw tdata1, a0
  csrr a1, tdata1
  andi a1, a1, 0x7ff
  bne a0, a1, no_exec_bp          /* this trigger cannot do it: nothing to test */
  EXPECT_TRAP 6f
5:nop
  FAILNOW 5
6:CHECK_TRAP 6, CAUSE_BREAKPOINT
  CHECK_VAR_ADDR 7, t_epc, 5b
no_exec_bp:
  csrw tdata1, zero
  j 9f

no_mcontrol:
  /* no usable trigger: type 0 (none) or 15 (disabled) */
  beqz a0, 9f
  CHECK 8, a0, 15

9:/* from S-mode the trigger CSRs are illegal */
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_S, 2f
2:csrr a0, tselect
  FAILNOW 10
1:CHECK_TRAP 11, CAUSE_ILLEGAL
  EXPECT_TRAP 1f
  GOTO_PRIV PRV_S, 2f
2:csrw tdata1, zero
  FAILNOW 12
1:CHECK_TRAP 13, CAUSE_ILLEGAL
  j pass
