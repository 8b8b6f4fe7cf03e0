/* reboot.S - an S-mode kernel (booted as a Linux Image) that reboots the
 * system through SBI SRST as soon as it starts, alternating cold and warm
 * reboots: a reboot storm. The daemon's restart-loop rule must stop the VM
 * with its reason ("restart loop: ..."); the board reloads the images on
 * each reboot, so nothing may grow with the count. */
#include "smode.h"

IMAGE_HEADER start

start:
  la t0, count
  ld t1, 0(t0)                         /* RAM is reloaded: always 0 here */
  addi t1, t1, 1
  sd t1, 0(t0)
  andi t1, t1, 1
  addi a0, t1, 1                       /* reset_type 1 (cold) or 2 (warm) */
  li a1, 0
  li a6, 0
  li a7, SBI_SRST
  ecall
1:
  wfi                                  /* not reached: SRST does not return */
  j 1b

  .data
  .balign 8
count: .dword 0
