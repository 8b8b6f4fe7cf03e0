/* c_workload.c - compiled code as a program would run it: calls, recursion,
 * jump tables, 64-bit multiply/divide, byte/halfword accesses, compressed
 * instructions as gcc -O2 emits them, and double arithmetic. Each result is
 * a known value (the CRC-32 check value, the prime count below 100000, the
 * closed form of a sum) or an exact binary64 bit pattern. Returns 0 or the
 * failing check number. */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef unsigned char u8;

static u32 crc32(const u8 *p, u64 n) {
  u32 c = 0xffffffffu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static u8 sieve_buf[100000];
static int count_primes(int n) {
  for (int i = 0; i < n; i++) sieve_buf[i] = 1;
  sieve_buf[0] = sieve_buf[1] = 0;
  for (int i = 2; (i64)i * i < n; i++)
    if (sieve_buf[i])
      for (int j = i * i; j < n; j += i) sieve_buf[j] = 0;
  int c = 0;
  for (int i = 0; i < n; i++) c += sieve_buf[i];
  return c;
}

static void quicksort(i64 *a, i64 lo, i64 hi) {
  while (lo < hi) {
    i64 p = a[(lo + hi) / 2], i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { i64 t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
}

static u64 fib(u64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* a tiny stack machine: a switch the compiler turns into a jump table */
enum { PUSH, MUL, DEC, DUP, JNZ, SWAP, DROP, HALT, OVER, ADD, ROT, NOP };
static i64 run(const i64 *code) {
  i64 st[16];
  int sp = 0;
  for (int pc = 0;;) {
    switch (code[pc++]) {
      case PUSH: st[sp++] = code[pc++]; break;
      case MUL: sp--; st[sp - 1] *= st[sp]; break;
      case ADD: sp--; st[sp - 1] += st[sp]; break;
      case DEC: st[sp - 1]--; break;
      case DUP: st[sp] = st[sp - 1]; sp++; break;
      case OVER: st[sp] = st[sp - 2]; sp++; break;
      case SWAP: { i64 t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
      case ROT: { i64 t = st[sp - 3]; st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = t; break; }
      case DROP: sp--; break;
      case JNZ: { i64 t = code[pc++]; if (st[sp - 1]) pc = (int)t; break; }
      case NOP: break;
      case HALT: return st[sp - 1];
      default: return -1;
    }
  }
}

static i64 arr[3000];

int c_main(void) {
  /* 1: CRC-32 check value */
  if (crc32((const u8 *)"123456789", 9) != 0xcbf43926u) return 1;
  /* 2: primes below 100000 */
  if (count_primes(100000) != 9592) return 2;
  /* 3-5: sort 3000 pseudo-random values; order and content kept */
  u64 x = 88172645463325252ul, sum = 0, xr = 0;
  for (int i = 0; i < 3000; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;   /* xorshift64 */
    arr[i] = (i64)x;
    sum += x; xr ^= x;
  }
  quicksort(arr, 0, 2999);
  u64 sum2 = 0, xr2 = 0;
  for (int i = 0; i < 3000; i++) {
    if (i && arr[i - 1] > arr[i]) return 3;
    sum2 += (u64)arr[i]; xr2 ^= (u64)arr[i];
  }
  if (sum2 != sum) return 4;
  if (xr2 != xr) return 5;
  /* 6: recursion */
  if (fib(25) != 75025) return 6;
  /* 7: sum of cubes = (n(n+1)/2)^2 */
  u64 cubes = 0;
  for (u64 i = 1; i <= 1000; i++) cubes += i * i * i;
  if (cubes != 250500250000ul) return 7;
  /* 8: 20! through the stack machine: n=20, acc=1; loop acc*=n, n-- */
  static const i64 prog[] = {PUSH, 1, PUSH, 20,            /* acc n */
                             DUP, ROT, MUL, SWAP, DEC,     /* 4: acc*n n-1 */
                             JNZ, 4, DROP, HALT};
  if (run(prog) != 2432902008176640000l) return 8;
  /* 9-10: division and remainder, signed and unsigned, in a loop */
  i64 q = 0;
  for (i64 i = -500; i <= 500; i++) q += (i * 7919) / 13 + (i * 7919) % 13;
  if (q != 0) return 9;   /* odd symmetry: each term pairs with its negative */
  u64 uq = 0;
  for (u64 i = 1; i <= 1000; i++) uq += (i * 1000003u) / i - 1000003u + (i * 1000003u) % i;
  if (uq != 0) return 10;
  /* 11: double, summed in order: exact binary64 result */
  volatile double s = 0.0;
  for (int i = 1; i <= 1000; i++) s += 1.0 / ((double)i * i);
  union { double d; u64 u; } v = {.d = s};
  if (v.u != 0x3ffa4d8e550a946eul) return 11;
  return 0;
}
