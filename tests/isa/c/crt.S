/* crt.S - start-up for the C test programs (tests/isa/<name>.c): the common.h
 * environment (M-mode, traps armed, FS = Initial), then c_main(), which
 * returns 0 for PASS or the number of the failing check. */
#include "common.h"

main:
  call c_main
  beqz a0, pass
  mv gp, a0
  j fail
