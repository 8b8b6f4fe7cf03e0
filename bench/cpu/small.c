// Small programs for bench/cpu, each stressing one thing (issue 11): pick one
// with -DKERNEL=n. Built like bench.c, for the guest (bare metal) and the host.
//   1 calls     recursive calls and returns (fib)
//   2 indirect  indirect calls through a table of functions
//   3 sort      quicksort of pseudo-random 32-bit keys
//   4 matmul    64x64 integer matrix multiply
//   5 fp        double-precision arithmetic (a series and a Newton square root)
//   6 memcpy    byte and doubleword copies between two buffers
//   7 crc       the loops of the guest's cpubench (guest/cpubench.c): xorshift64
//               bytes into a 64 KiB block, then a byte-table CRC-32 over it
#include <stdint.h>

#ifndef KERNEL
#define KERNEL 1
#endif

static uint32_t rng = 2463534242u;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

#if KERNEL == 1
static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
uint64_t bench_run(unsigned rounds) {
  uint64_t s = 0;
  for (unsigned r = 0; r < rounds; r++) s += fib(24 + (r & 1));
  return s;
}
#elif KERNEL == 2
typedef uint64_t (*op_fn)(uint64_t, uint64_t);
static uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ (b << 1); }
static uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static uint64_t op_rot(uint64_t a, uint64_t b) { return (a << 7) | (a >> 57) | b; }
static uint64_t op_sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t op_shr(uint64_t a, uint64_t b) { return (a >> 3) + b; }
static uint64_t op_and(uint64_t a, uint64_t b) { return (a & ~b) + 1; }
static uint64_t op_or(uint64_t a, uint64_t b) { return a | (b >> 2); }
static op_fn volatile table[8] = {op_add, op_xor, op_mul, op_rot, op_sub, op_shr, op_and, op_or};
uint64_t bench_run(unsigned rounds) {
  uint64_t acc = 1;
  for (unsigned r = 0; r < rounds * 200000u; r++) acc = table[next() & 7](acc, r);
  return acc;
}
#elif KERNEL == 3
#define N 20000
static uint32_t keys[N];
static void qsort32(uint32_t* a, long lo, long hi) {
  while (lo < hi) {
    uint32_t p = a[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) {
        uint32_t t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (j - lo < hi - i) {
      qsort32(a, lo, j);
      lo = i;
    } else {
      qsort32(a, i, hi);
      hi = j;
    }
  }
}
uint64_t bench_run(unsigned rounds) {
  uint64_t s = 0;
  for (unsigned r = 0; r < rounds; r++) {
    for (long i = 0; i < N; i++) keys[i] = next();
    qsort32(keys, 0, N - 1);
    for (long i = 0; i < N; i += 97) s = s * 31 + keys[i];
  }
  return s;
}
#elif KERNEL == 4
#define M 64
static int64_t A[M][M], B[M][M], C[M][M];
uint64_t bench_run(unsigned rounds) {
  uint64_t s = 0;
  for (unsigned r = 0; r < rounds; r++) {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < M; j++) {
        A[i][j] = (int64_t)(next() & 0xffff) - 0x8000;
        B[i][j] = (int64_t)(next() & 0xffff) - 0x8000;
      }
    for (int i = 0; i < M; i++)
      for (int j = 0; j < M; j++) {
        int64_t t = 0;
        for (int k = 0; k < M; k++) t += A[i][k] * B[k][j];
        C[i][j] = t;
      }
    for (int i = 0; i < M; i++) s = s * 1000003u + (uint64_t)C[i][(i * 7) % M];
  }
  return s;
}
#elif KERNEL == 5
uint64_t bench_run(unsigned rounds) {
  double sum = 0;
  for (unsigned r = 0; r < rounds; r++) {
    for (int i = 1; i < 20000; i++) sum += 1.0 / ((double)i * (double)i + r);
    double x = sum + r, y = x;
    for (int k = 0; k < 20; k++) y = 0.5 * (y + x / y);
    sum += y * 1e-9;
  }
  uint64_t bits;
  __builtin_memcpy(&bits, &sum, 8);
  return bits;
}
#elif KERNEL == 6
#define L 65536
static uint8_t src[L], dst[L];
static void copy_bytes(uint8_t* d, const uint8_t* s, unsigned n) {
  for (unsigned i = 0; i < n; i++) d[i] = s[i];
}
static void copy_words(uint64_t* d, const uint64_t* s, unsigned n) {
  for (unsigned i = 0; i < n; i++) d[i] = s[i];
}
uint64_t bench_run(unsigned rounds) {
  uint64_t s = 0;
  for (unsigned i = 0; i < L; i++) src[i] = (uint8_t)next();
  for (unsigned r = 0; r < rounds; r++) {
    copy_bytes(dst + (r & 7), src, L - 8);
    copy_words((uint64_t*)dst, (const uint64_t*)src, L / 8);
    s = s * 131 + dst[(r * 977) % L] + src[r % L];
    src[r % L] ^= (uint8_t)r;
  }
  return s;
}
#elif KERNEL == 7
#define CB (64u * 1024u)
static uint32_t crc_table[256];
static uint8_t crc_block[CB];
uint64_t bench_run(unsigned rounds) {  // rounds: 64 KiB blocks
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t r = n;
    for (int bit = 0; bit < 8; bit++) r = (r >> 1) ^ ((r & 1u) ? 0xEDB88320u : 0u);
    crc_table[n] = r;
  }
  uint64_t x = 0x9E3779B97F4A7C15ull;
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned b = 0; b < rounds; b++) {
    for (unsigned i = 0; i < CB; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      uint64_t v = x;
      for (unsigned k = 0; k < 8; k++, v >>= 8) crc_block[i + k] = (uint8_t)v;
    }
    for (unsigned i = 0; i < CB; i++) crc = crc_table[(uint8_t)(crc ^ crc_block[i])] ^ (crc >> 8);
  }
  return ~crc;
}
#endif
