/* fail.S - exits through HTIF with (42 << 1) | 1: "FAIL test 42". */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  HTIF_EXIT(42)
  TOHOST_SECTION
