/* hostile.h - helpers for the hostile M-mode guests: MMIO accessors of every
 * width, HTIF console output, and the default trap handler (count the trap,
 * remember its cause, skip the faulting instruction). Included by each
 * tests/hostile/<name>.c, which is one translation unit with crt.S. */
#ifndef HOSTILE_H
#define HOSTILE_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

extern volatile u64 tohost;

static inline u64 rd(u64 a, int w) {
  switch (w) {
    case 1: return *(volatile u8 *)a;
    case 2: return *(volatile u16 *)a;
    case 4: return *(volatile u32 *)a;
    default: return *(volatile u64 *)a;
  }
}
static inline void wr(u64 a, int w, u64 v) {
  switch (w) {
    case 1: *(volatile u8 *)a = (u8)v; break;
    case 2: *(volatile u16 *)a = (u16)v; break;
    case 4: *(volatile u32 *)a = (u32)v; break;
    default: *(volatile u64 *)a = v; break;
  }
}
static inline u32 rd32(u64 a) { return *(volatile u32 *)a; }
static inline void wr32(u64 a, u32 v) { *(volatile u32 *)a = v; }
#define fence() __asm__ volatile("fence" ::: "memory")

/* HTIF console: device 1, command 1; the host clears tohost when done. */
static void putc_(char c) {
  tohost = 0x0101000000000000ul | (u8)c;
  while (tohost) {
  }
}
static void puts_(const char *s) {
  while (*s) putc_(*s++);
}
static __attribute__((unused)) void puthex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

/* Prints "<name>: press a key" and waits for one console byte (HTIF device
 * 1, command 0: the host answers in fromhost once it has a byte), so the
 * test's console is attached before the attack runs and its result is seen. */
extern volatile u64 fromhost;
static void read_key(void) {
  tohost = 0x0100000000000000ul;
  while (tohost) {
  }
  fromhost = 0;
}
static __attribute__((unused)) void wait_for_key(const char *name) {
  puts_(name);
  puts_(": press a key\n");
  read_key();
}

/* Called by crt.S when main returns: the VM's last output would be lost if
 * it stopped at once (the console is closed with the VM), so wait for a key. */
void before_exit(void) {
  puts_("hostile: report printed; to stop, press a key\n");
  read_key();
}

/* Traps: the default handler counts them and resumes after the instruction. */
volatile u64 trap_count, trap_cause, trap_tval;
#ifndef HOSTILE_CUSTOM_TRAP
u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  trap_count++;
  trap_cause = cause;
  trap_tval = tval;
  if ((i64)cause < 0) return epc; /* an interrupt: nothing is enabled here */
  u16 insn = *(volatile u16 *)epc;
  return epc + ((insn & 3) == 3 ? 4 : 2);
}
#endif

#define CAUSE_LOAD_ACCESS 5
#define CAUSE_STORE_ACCESS 7

/* Fails check n (returns n from main) unless cond holds, printing why. */
#define CHECK(n, cond)                      \
  do {                                      \
    if (!(cond)) {                          \
      puts_("hostile: check " #n " failed: " #cond "\n"); \
      return n;                             \
    }                                       \
  } while (0)

#endif
