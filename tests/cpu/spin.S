/* spin.S - never ends (for --timeout). */
#include "htif.h"
  .section .text.init
  .globl _start
_start:
  j _start
  TOHOST_SECTION
