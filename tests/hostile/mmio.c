/* mmio.c - a guest that pokes at every device window of the board (syscon,
 * goldfish RTC, CLINT, PLIC, UART, the sixteen virtio-mmio slots) with loads and
 * stores of every width, aligned and not, at registers that exist and at
 * reserved offsets; touches addresses where nothing is mapped; jumps into
 * MMIO; and ends with M-mode timer and software-interrupt storms (mtimecmp in
 * the past, MSIP set again from the handler), and bad HTIF requests. Unmapped accesses must raise
 * access faults (priv spec §3.7.1 PMAs: a "vacant" region faults), nothing may
 * stop the machine, and the CLINT must still count time afterwards. */
#define HOSTILE_CUSTOM_TRAP
#include "hostile.h"

#define RAM_END (0x80000000ul + (128ul << 20)) /* the test runs this VM with -m 128M */
#define CLINT 0x02000000ul
#define MTIMECMP (CLINT + 0x4000)
#define MTIME (CLINT + 0xbff8)
#define MIE_MSIE (1u << 3)
#define MIE_MTIE (1u << 7)

static volatile u64 resume;      /* where a trap resumes, if set (fetch faults) */
static volatile u64 timer_irqs, soft_irqs, storm_left;

u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  trap_count++;
  trap_cause = cause;
  trap_tval = tval;
  if ((i64)cause < 0) {
    u64 code = cause & 0xff;
    if (code == 7) { /* machine timer: due again at once, until the storm ends */
      timer_irqs++;
      wr(MTIMECMP, 8, storm_left ? (storm_left--, 0) : ~0ul);
    } else if (code == 3) { /* machine software: raise it again from the handler */
      soft_irqs++;
      wr32(CLINT, storm_left ? (storm_left--, 1) : 0);
    }
    return epc;
  }
  if (resume) {
    u64 r = resume;
    resume = 0;
    return r;
  }
  u16 insn = *(volatile u16 *)epc;
  return epc + ((insn & 3) == 3 ? 4 : 2);
}

/* A value whose low 16 bits are none of the syscon commands (0x3333 fail,
 * 0x5555 power off, 0x7777 reset), so the sweep cannot end the run itself. */
#define POKE 0x5a5aa5a500001234ul

struct region {
  u64 base, size;
};
static const struct region regions[] = {
    {0x00100000, 0x1000},  /* syscon */
    {0x00101000, 0x1000},  /* goldfish RTC */
    {0x02000000, 0x10000}, /* CLINT */
    {0x0c000000, 0x600000}, /* PLIC */
    {0x10000000, 0x100},   /* UART */
    {0x10001000, 0x10000}, /* virtio-mmio slots 0..15 (the device manager's 16) */
};
static const u64 vacant[] = {
    0x0, 0x1000, 0xff000, 0x102000, 0x1000000, 0x2010000, 0xbfff000, 0xc600000,
    0x10000100, 0x10000ff8, 0x10011000, 0x20000000, 0x7ffffff8, RAM_END, RAM_END + 0x1000,
    0x100000000ul, 0x4000000000ul, 0x7ffffffffffffff8ul, 0x8000000000000000ul, 0xfffffffffffffff8ul,
};

/* Reads and writes at `a` with every width; returns how many of the 8 accesses trapped. */
static int poke(u64 a, int write) {
  u64 before = trap_count;
  for (int w = 1; w <= 8; w <<= 1) {
    (void)rd(a, w);
    if (write) wr(a, w, POKE);
  }
  return (int)(trap_count - before);
}

int main(void) {
  wait_for_key("hostile-mmio");
  /* 1. Vacant addresses: every access is an access fault, with mtval = the address. */
  for (unsigned i = 0; i < sizeof(vacant) / sizeof(vacant[0]); i++) {
    u64 a = vacant[i];
    CHECK(1, poke(a, 1) == 8);
    CHECK(2, trap_cause == 7 && trap_tval == a);
  }
  /* A fetch from MMIO or from nowhere: an instruction access fault (cause 1). */
  static const u64 fetch[] = {0x10000000, 0x10001000, 0x02000000, 0x0, RAM_END};
  for (unsigned i = 0; i < sizeof(fetch) / sizeof(fetch[0]); i++) {
    u64 t = fetch[i];
    __asm__ volatile("la t0, 1f\n sd t0, %0\n jalr ra, 0(%1)\n 1:"
                     : "=m"(resume)
                     : "r"(t)
                     : "t0", "ra", "memory");
    CHECK(3, trap_cause == 1 && trap_tval == t);
  }

  /* 2. Every device window: the first 0x200 bytes densely, then a spread of
   * offsets to the end, every width, aligned and misaligned; plus accesses that
   * run over the end of the window. Faults are allowed (a device may refuse a
   * width); what matters is that the machine and the other devices live on. */
  u64 total = 0;
  for (unsigned r = 0; r < sizeof(regions) / sizeof(regions[0]); r++) {
    u64 b = regions[r].base, n = regions[r].size;
    /* Skip the syscon command register and the UART's transmit/receive
     * registers (those writes act: print, or end the run); they are reached
     * with safe values below. */
    for (u64 off = 0; off < n; off += off < 0x200 ? 1 : (n >> 6) + 3) {
      u64 a = b + off;
      int w = !(b == 0x00100000 && off < 4) && !(b == 0x10000000 && off < 8);
      total += poke(a, w);
    }
    total += poke(b + n - 4, 1); /* 8-byte accesses run past the end */
    total += poke(b + n - 1, 1);
  }
  /* The syscon command register with harmless commands and widths. */
  wr(0x00100000, 4, 0x1234);
  wr(0x00100000, 1, 0x55);
  wr(0x00100000, 2, 0);
  (void)rd(0x00100000, 8);
  /* The PLIC completing sources that do not exist, claim with no interrupt. */
  wr32(0x0c200004, 0xffffffffu);
  wr32(0x0c200004, 1024);
  (void)rd32(0x0c200004);
  (void)rd32(0x0c3ffffc);
  /* 3. M-mode interrupt storms: 20000 timer interrupts with mtimecmp in the
   * past, then 20000 software interrupts raised from their own handler. */
  storm_left = 20000;
  wr(MTIMECMP, 8, 0);
  __asm__ volatile("csrw mie, %0\n csrsi mstatus, 8" ::"r"(MIE_MTIE));
  while (storm_left) {
  }
  __asm__ volatile("csrci mstatus, 8");
  CHECK(10, timer_irqs >= 20000);
  storm_left = 20000;
  wr32(CLINT, 1);
  __asm__ volatile("csrw mie, %0\n csrsi mstatus, 8" ::"r"(MIE_MSIE));
  while (storm_left) {
  }
  __asm__ volatile("csrci mstatus, 8\n csrw mie, zero");
  wr32(CLINT, 0);
  CHECK(11, soft_irqs >= 20000);

  /* 4. HTIF, the host interface of this test machine: syscalls with a block
   * outside RAM, a bad fd, a buffer over the end of RAM, unknown numbers;
   * unknown devices and commands. Each is answered (tohost cleared) or
   * ignored; none may reach the host beyond the console. */
  static volatile u64 sysblk[8] __attribute__((aligned(64)));
  static const struct { u64 args[4]; i64 ret; } calls[] = {
      {{64, 3, 0x80000000ul, 16}, -14},                /* write to fd 3: refused */
      {{64, 1, RAM_END - 8, 1ul << 40}, -14},          /* over the end of RAM */
      {{64, 1, 0x10000000ul, 8}, -14},                 /* from MMIO */
      {{999, 0, 0, 0}, -38},                           /* no such syscall */
      {{64, 2, (u64)"", 0}, 0},                        /* an empty write */
  };
  for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
    for (int k = 0; k < 4; k++) sysblk[k] = calls[i].args[k];
    fence();
    tohost = (u64)sysblk; /* device 0, command 0, an even payload: a syscall */
    for (int spin = 0; tohost && spin < 10000000; spin++) {
    }
    CHECK(30, tohost == 0 && (i64)sysblk[0] == calls[i].ret);
  }
  tohost = 0x1000; /* a syscall block outside RAM: dropped */
  for (int spin = 0; tohost && spin < 10000000; spin++) {
  }
  CHECK(31, tohost == 0);
  tohost = 0x0703000000000000ul; /* device 7, command 3: acknowledged */
  for (int spin = 0; tohost && spin < 10000000; spin++) {
  }
  CHECK(32, tohost == 0);

  /* 5. The board still works: time advances, the virtio slots answer. */
  u64 t0 = rd(MTIME, 8);
  for (volatile int i = 0; i < 100000; i++) {
  }
  CHECK(20, rd(MTIME, 8) > t0);
  CHECK(21, rd32(0x10001000) == 0x74726976);
  puts_("hostile-mmio: ");
  puthex(total);
  puts_(" faults in the device windows, every vacant access faulted\n");
  return 0;
}
