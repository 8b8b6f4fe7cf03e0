// The CPU benchmark's workload: integer ALU work, loads and stores, branches
// and calls, with a deterministic result. The same source is built for the
// guest (bare metal, riscv64, -O2) and for the host (x86-64, -O2) so the
// slowdown factor is visible. No libc: everything it uses is here.
#include <stdint.h>

#define N_ARRAY 4096
#define N_SIEVE 32768

static uint32_t array[N_ARRAY];
static uint8_t sieve[N_SIEVE];

static uint32_t xorshift(uint32_t* s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return x;
}

// Calls: a recursive function that the compiler cannot turn into a loop.
__attribute__((noinline)) static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

// Loads, stores and branches: an insertion sort of a small window plus a
// shell sort of the whole array.
__attribute__((noinline)) static void shell_sort(uint32_t* a, int n) {
  static const int gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
    int gap = gaps[g];
    for (int i = gap; i < n; i++) {
      uint32_t t = a[i];
      int j = i;
      for (; j >= gap && a[j - gap] > t; j -= gap) a[j] = a[j - gap];
      a[j] = t;
    }
  }
}

// Byte loads and stores, nested loops.
__attribute__((noinline)) static uint32_t primes(int n) {
  for (int i = 0; i < n; i++) sieve[i] = 1;
  sieve[0] = sieve[1] = 0;
  for (int i = 2; i * i < n; i++)
    if (sieve[i])
      for (int j = i * i; j < n; j += i) sieve[j] = 0;
  uint32_t count = 0;
  for (int i = 0; i < n; i++) count += sieve[i];
  return count;
}

// ALU: a bitwise CRC-32 (shifts, xors, data-dependent branches).
__attribute__((noinline)) static uint32_t crc32(const uint8_t* p, int n) {
  uint32_t crc = 0xffffffffu;
  for (int i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

// 64-bit multiply and divide.
__attribute__((noinline)) static uint64_t mix64(uint64_t seed, int n) {
  uint64_t h = seed;
  for (int i = 1; i <= n; i++) {
    h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    h ^= h >> 29;
    h += h / (uint64_t)(i | 1);
  }
  return h;
}

uint64_t bench_run(unsigned rounds) {
  uint64_t acc = 0;
  uint32_t seed = 2463534242u;
  for (unsigned r = 0; r < rounds; r++) {
    for (int i = 0; i < N_ARRAY; i++) array[i] = xorshift(&seed);
    shell_sort(array, N_ARRAY);
    for (int i = 1; i < N_ARRAY; i++)
      if (array[i - 1] > array[i]) return 0;  // not sorted: the CPU is wrong
    acc = acc * 31 + array[N_ARRAY / 2];
    acc = acc * 31 + primes(N_SIEVE);
    acc = acc * 31 + crc32((const uint8_t*)array, (int)sizeof(array));
    acc = acc * 31 + fib(20 + (r & 3));
    acc = acc * 31 + mix64(acc, 20000);
  }
  return acc;
}
