/* bigmem.c - a guest that touches all of its RAM: it writes the address of
 * every 4 KiB page into that page, from the end of the program up to the
 * first store that faults (the end of RAM), then reads every page back. The
 * test runs it with -m 2G and checks that the daemon gives the memory back
 * when the VM stops. Prints the number of MiB touched. */
#include "hostile.h"

extern char _end[];

int main(void) {
  wait_for_key("hostile-bigmem");
  u64 start = ((u64)_end + 4095) & ~4095ul, a;
  for (a = start; trap_count == 0; a += 4096) *(volatile u64 *)a = a;
  CHECK(1, trap_cause == CAUSE_STORE_ACCESS);
  u64 end = a - 4096; /* the store at `end` faulted */
  CHECK(2, trap_tval == end);
  for (a = start; a < end; a += 4096) CHECK(3, *(volatile u64 *)a == a);
  puts_("hostile-bigmem: touched ");
  puthex((end - 0x80000000ul) >> 20);
  puts_(" MiB\n");
  return 0;
}
