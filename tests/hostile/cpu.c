/* cpu.c - a guest that attacks the vCPU's memory paths: loads, stores and
 * instruction fetches that straddle the end of RAM; AMOs, LR/SC and FP
 * accesses on MMIO and on vacant addresses; Sv39 page tables whose root or
 * next level lies in MMIO, in a hole or past RAM, and leaves that map MMIO
 * or nothing (walked from M-mode with mstatus.MPRV, priv spec §3.1.6.3); and
 * unsupported satp modes (§4.1.11: such a write has no effect). Every bad
 * access must trap with the cause the privileged spec names; none may stop
 * the machine. */
#define HOSTILE_CUSTOM_TRAP
#include "hostile.h"

#define RAM_END (0x80000000ul + (128ul << 20)) /* the test runs this VM with -m 128M */
#define UART 0x10000000ul
#define VIRTIO0 0x10001000ul
#define MSTATUS_MPRV (1ul << 17)
#define MSTATUS_MPP (3ul << 11)
#define MSTATUS_MPP_S (1ul << 11)
#define SATP_SV39 (8ul << 60)
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_A 0x40
#define PTE_D 0x80

static volatile u64 resume;

u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  trap_count++;
  trap_cause = cause;
  trap_tval = tval;
  if (resume) {
    u64 r = resume;
    resume = 0;
    return r;
  }
  u16 insn = *(volatile u16 *)epc;
  return epc + ((insn & 3) == 3 ? 4 : 2);
}

/* Runs `insn` (one instruction, operands a0/a1) and reports whether it trapped. */
#define TRY(insn, addr)                                                          \
  ({                                                                             \
    u64 before_ = trap_count;                                                    \
    register u64 a0_ __asm__("a0") = (addr);                                     \
    register u64 a1_ __asm__("a1") = 1;                                          \
    __asm__ volatile(insn : "+r"(a0_), "+r"(a1_)::"memory", "ft0");              \
    trap_count != before_;                                                       \
  })

/* A 32-bit load of `addr` with the S-mode translation (MPRV, MPP = S); 1 if it trapped. */
static int mprv_load(u64 addr, u64 *val) {
  u64 before = trap_count, v = 0;
  __asm__ volatile(
      "csrc mstatus, %2\n csrs mstatus, %3\n csrs mstatus, %4\n"
      "lwu %0, 0(%1)\n"
      "csrc mstatus, %4\n"
      : "+r"(v)
      : "r"(addr), "r"(MSTATUS_MPP), "r"(MSTATUS_MPP_S), "r"(MSTATUS_MPRV)
      : "memory");
  *val = v;
  return trap_count != before;
}

static u64 root[512] __attribute__((aligned(4096)));
static u64 l1[512] __attribute__((aligned(4096)));
static u64 l0[512] __attribute__((aligned(4096)));

static void set_satp(u64 v) { __asm__ volatile("csrw satp, %0\n sfence.vma" ::"r"(v) : "memory"); }
static u64 get_satp(void) {
  u64 v;
  __asm__ volatile("csrr %0, satp" : "=r"(v));
  return v;
}
static u64 pte(u64 pa, u64 flags) { return ((pa >> 12) << 10) | flags; }

int main(void) {
  wait_for_key("hostile-cpu");
  /* 1. Loads and stores that run over the end of RAM: a misaligned-access
   * or access-fault trap, never a host read past the mapping. */
  CHECK(1, TRY("ld a1, 0(a0)", RAM_END - 4));
  CHECK(1, trap_cause == 4 || trap_cause == 5);
  CHECK(2, TRY("lw a1, 0(a0)", RAM_END - 2));
  CHECK(3, TRY("lh a1, 0(a0)", RAM_END - 1));
  CHECK(4, TRY("sd a1, 0(a0)", RAM_END - 7));
  CHECK(4, trap_cause == 6 || trap_cause == 7);
  CHECK(5, TRY("fld ft0, 0(a0)", RAM_END - 4));
  CHECK(6, TRY("fsd ft0, 0(a0)", RAM_END - 4));
  CHECK(7, TRY("amoadd.w a1, a1, (a0)", RAM_END));
  CHECK(7, trap_cause == 7);
  CHECK(8, !TRY("ld a1, 0(a0)", RAM_END - 8)); /* the last dword is RAM */

  /* 2. Fetches at the end of RAM: a compressed `ret` in the last halfword
   * runs; a 32-bit instruction there faults (instruction access fault). */
  volatile u16 *last = (volatile u16 *)(RAM_END - 2);
  *last = 0x8082; /* c.jr ra */
  __asm__ volatile("fence.i");
  u64 before = trap_count;
  ((void (*)(void))(RAM_END - 2))();
  CHECK(10, trap_count == before);
  *last = 0x0013; /* the first parcel of addi x0, x0, 0 */
  __asm__ volatile("fence.i");
  __asm__ volatile("la t0, 1f\n sd t0, %0\n jalr ra, 0(%1)\n 1:"
                   : "=m"(resume)
                   : "r"(RAM_END - 2)
                   : "t0", "ra", "memory");
  CHECK(11, trap_cause == 1 && (trap_tval == RAM_END - 2 || trap_tval == RAM_END));

  /* 3. AMOs, LR/SC and FP accesses on device registers and on holes. Devices
   * may refuse them (access fault) or act on them; holes always fault. */
  static const u64 mmio[] = {VIRTIO0, VIRTIO0 + 0x70, 0x02000000, 0x0200bff8, UART + 4, 0x0c000004, 0x00101000};
  for (unsigned i = 0; i < sizeof(mmio) / sizeof(mmio[0]); i++) {
    u64 a = mmio[i];
    TRY("amoadd.w a1, a1, (a0)", a);
    TRY("amoswap.d a1, a1, (a0)", a);
    TRY("lr.w a1, (a0)", a);
    TRY("sc.w a1, a1, (a0)", a);
    TRY("lr.d a1, (a0)\n sc.d a1, a1, (a0)", a);
    TRY("flw ft0, 0(a0)", a);
    TRY("fsw ft0, 0(a0)", a);
    TRY("fld ft0, 0(a0)", a);
  }
  static const u64 holes[] = {0x0, 0x20000000, 0x10011000, RAM_END + 0x100000};  /* past the 16 virtio slots */
  for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
    u64 a = holes[i];
    CHECK(20, TRY("amoor.d a1, a1, (a0)", a) && trap_cause == 7);
    CHECK(21, TRY("lr.d a1, (a0)", a) && trap_cause == 5);
    CHECK(22, TRY("sc.d a1, a1, (a0)", a) && trap_cause == 7);
    CHECK(23, TRY("fld ft0, 0(a0)", a) && trap_cause == 5);
    CHECK(24, TRY("fsd ft0, 0(a0)", a) && trap_cause == 7);
  }

  /* 4. Page tables (Sv39), walked from M-mode with MPRV and MPP = S. A PTE
   * that is not in RAM is an access fault of the access (§4.3.2 step 2). */
  u64 v;
  static const u64 bad_roots[] = {UART, VIRTIO0, 0x0, 0x20000000, RAM_END, 0xfffffffffff000ul};
  for (unsigned i = 0; i < sizeof(bad_roots) / sizeof(bad_roots[0]); i++) {
    set_satp(SATP_SV39 | (bad_roots[i] >> 12));
    CHECK(30, mprv_load(0x1000, &v) && trap_cause == 5);
  }
  /* A sane root whose next level points into MMIO, a hole, past RAM. */
  static const u64 bad_next[] = {0x0c000000, 0x02000000, 0x40000000, RAM_END, 0x3ffffffffff000ul};
  set_satp(SATP_SV39 | ((u64)root >> 12));
  for (unsigned i = 0; i < sizeof(bad_next) / sizeof(bad_next[0]); i++) {
    root[0] = pte(bad_next[i], PTE_V);
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECK(31, mprv_load(0x1000, &v) && trap_cause == 5);
  }
  /* Leaves: VA 0x1000 -> the virtio slot (a device behind a page: works),
   * VA 0x2000 -> a hole (access fault), VA 0x3000 -> RAM. */
  root[0] = pte((u64)l1, PTE_V);
  l1[0] = pte((u64)l0, PTE_V);
  l0[1] = pte(VIRTIO0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0[2] = pte(0x30000000, PTE_V | PTE_R | PTE_A);
  l0[3] = pte((u64)l0, PTE_V | PTE_R | PTE_A);
  __asm__ volatile("sfence.vma" ::: "memory");
  CHECK(32, !mprv_load(0x1000, &v) && (u32)v == 0x74726976);
  CHECK(33, mprv_load(0x2000, &v) && trap_cause == 5 && trap_tval == 0x2000);
  CHECK(34, !mprv_load(0x3008, &v) && v == (u32)l0[1]);
  /* A gigapage leaf over the whole MMIO region, and a misaligned superpage. */
  root[1] = pte(0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D); /* VA 1 GiB -> PA 0 */
  root[2] = pte(0x10001000, PTE_V | PTE_R | PTE_A);          /* misaligned: page fault */
  __asm__ volatile("sfence.vma" ::: "memory");
  CHECK(35, !mprv_load(0x40000000ul + VIRTIO0, &v) && (u32)v == 0x74726976);
  CHECK(36, mprv_load(0x40000000ul + 0x30000000, &v) && trap_cause == 5);
  CHECK(37, mprv_load(0x80000000ul, &v) && trap_cause == 13);
  /* 5. Unsupported translation modes leave satp unchanged (§4.1.11). */
  u64 good = SATP_SV39 | ((u64)root >> 12);
  set_satp(good);
  static const u64 modes[] = {1, 7, 10, 11, 15};
  for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    set_satp((modes[i] << 60) | ((u64)root >> 12));
    u64 s = get_satp();
    CHECK(40, s == good || (s >> 60) == modes[i]);
    set_satp(good);
  }
  set_satp(0);

  /* 6. Every CSR number, written with hostile values through a generated
   * `csrrw a0, csr, a0; csrw csr, a0; ret` (old value restored at once).
   * Unimplemented ones raise illegal instruction; the rest are WARL. Skipped:
   * the ones that would break this program between the two instructions
   * (mstatus, mie, mtvec, PMP, mseccfg, debug/trigger). */
  static u32 code[4] __attribute__((aligned(16)));
  static const u64 vals[] = {~0ul, 0, 0x5555555555555555ul, 0x8000000000000001ul};
  u64 lcg = 12345, csrs_ok = 0;
  for (u32 csr = 0; csr < 0x1000; csr++) {
    if (csr == 0x300 || csr == 0x304 || csr == 0x305 || (csr >= 0x3a0 && csr <= 0x3ef) ||
        csr == 0x747 || csr == 0x757 || (csr >= 0x7a0 && csr <= 0x7bf))
      continue;
    code[0] = (csr << 20) | (10 << 15) | (1 << 12) | (10 << 7) | 0x73; /* csrrw a0, csr, a0 */
    code[1] = (csr << 20) | (10 << 15) | (1 << 12) | (0 << 7) | 0x73;  /* csrrw x0, csr, a0 */
    code[2] = 0x00008067;                                              /* jalr x0, 0(ra) */
    __asm__ volatile("fence.i" ::: "memory");
    u64 before_csr = trap_count;
    for (int k = 0; k < 5; k++) {
      lcg = lcg * 6364136223846793005ul + 1442695040888963407ul;
      register u64 a0 __asm__("a0") = k < 4 ? vals[k] : lcg;
      __asm__ volatile("jalr ra, 0(%1)" : "+r"(a0) : "r"(code) : "ra", "memory");
    }
    if (trap_count == before_csr) csrs_ok++;
  }
  CHECK(50, csrs_ok > 20); /* the machine has CSRs, and they took the writes */
  set_satp(0);
  puts_("hostile-cpu: every bad access trapped; ");
  puthex(csrs_ok);
  puts_(" CSRs took hostile writes\n");
  return 0;
}
