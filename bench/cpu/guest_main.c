#include <stdint.h>
uint64_t bench_run(unsigned rounds);
uint64_t bench_main(void) { return bench_run(BENCH_ROUNDS); }
