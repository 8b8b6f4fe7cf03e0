// The host (x86-64) build of the same workload: runs it, prints the result and
// the time it took in nanoseconds.
#include <stdint.h>
#include <stdio.h>
#include <time.h>
uint64_t bench_run(unsigned rounds);
int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t r = bench_run(BENCH_ROUNDS);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%016llx %lld\n", (unsigned long long)r,
         (long long)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)));
  return 0;
}
