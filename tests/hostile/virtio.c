/* virtio.c - a guest that breaks the virtio rules (virtio 1.2 §2.7, §4.2,
 * §5.2) against its virtio-blk disk, virtio-rng and virtio-input devices. Each
 * attack must put the device in DEVICE_NEEDS_RESET (Status bit 0x40) and leave
 * the machine running; after a reset (Status = 0) the device must work again.
 * Requests that are well-formed but impossible (past the end of the disk) must
 * complete with VIRTIO_BLK_S_IOERR instead. The test gives the VM one disk
 * whose sector 0 starts with "HOSTILE-DISK" and holds 64 sectors (32 KiB). */
#include "hostile.h"

#define VIRTIO_BASE 0x10001000ul
#define R_MAGIC 0x000
#define R_DEVID 0x008
#define R_DEVFEAT 0x010
#define R_DEVFEATSEL 0x014
#define R_DRVFEAT 0x020
#define R_DRVFEATSEL 0x024
#define R_QSEL 0x030
#define R_QMAX 0x034
#define R_QNUM 0x038
#define R_QREADY 0x044
#define R_NOTIFY 0x050
#define R_ISR 0x060
#define R_ACK 0x064
#define R_STATUS 0x070
#define R_DESC 0x080
#define R_DRIVER 0x090
#define R_DEVICE 0x0a0
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define F_INDIRECT (1u << 28)
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4
#define RAM_END (0x80000000ul + (128ul << 20)) /* the test runs this VM with -m 128M */

struct desc {
  u64 addr;
  u32 len;
  u16 flags, next;
};
struct blkhdr {
  u32 type, reserved;
  u64 sector;
};

static struct desc dt[256] __attribute__((aligned(4096)));
static struct {
  u16 flags, idx, ring[256], used_event;
} avail __attribute__((aligned(4096)));
static struct {
  u16 flags, idx;
  struct {
    u32 id, len;
  } ring[256];
  u16 avail_event;
} used __attribute__((aligned(4096)));
static struct desc itab[8] __attribute__((aligned(16)));
static struct desc itab2[2] __attribute__((aligned(16)));
static struct blkhdr hdr __attribute__((aligned(16)));
static u8 data[4096] __attribute__((aligned(4096)));
static volatile u8 st;

static u64 base;     /* the device under attack */
static u16 qsize;    /* its queue size */
static u16 next_avail;
static u32 qidx;     /* the queue under attack */

/* Finds the first virtio-mmio slot with device id `id`. */
static u64 find_dev(u32 id) {
  for (int i = 0; i < 8; i++) {
    u64 b = VIRTIO_BASE + 0x1000ul * i;
    if (rd32(b + R_MAGIC) == 0x74726976 && rd32(b + R_DEVID) == id) return b;
  }
  return 0;
}

static void zero(void *p, u64 n) {
  volatile u8 *b = p;
  while (n--) *b++ = 0;
}

static u32 status(void) { return rd32(base + R_STATUS); }
static int needs_reset(void) { return (status() & S_NEEDS_RESET) != 0; }

/* The driver initialization of §3.1.1, queue 0 of size n. Returns 0 on success. */
static int setup(u32 n, int indirect) {
  wr32(base + R_STATUS, 0);
  if (status() != 0) return 1;
  wr32(base + R_STATUS, S_ACK);
  wr32(base + R_STATUS, S_ACK | S_DRIVER);
  wr32(base + R_DRVFEATSEL, 1);
  wr32(base + R_DRVFEAT, 1); /* VIRTIO_F_VERSION_1 (bit 32) */
  wr32(base + R_DRVFEATSEL, 0);
  wr32(base + R_DRVFEAT, indirect ? F_INDIRECT : 0);
  wr32(base + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
  if (!(status() & S_FEATURES_OK)) return 2;
  zero(dt, sizeof(dt));
  zero(&avail, sizeof(avail));
  zero(&used, sizeof(used));
  wr32(base + R_QSEL, qidx);
  if (rd32(base + R_QMAX) < n) return 3;
  wr32(base + R_QNUM, n);
  wr32(base + R_DESC, (u32)(u64)dt);
  wr32(base + R_DESC + 4, (u32)((u64)dt >> 32));
  wr32(base + R_DRIVER, (u32)(u64)&avail);
  wr32(base + R_DRIVER + 4, 0);
  wr32(base + R_DEVICE, (u32)(u64)&used);
  wr32(base + R_DEVICE + 4, 0);
  wr32(base + R_QREADY, 1);
  if (rd32(base + R_QREADY) != 1) return 4;
  wr32(base + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  qsize = (u16)n;
  next_avail = 0;
  return needs_reset() ? 5 : 0;
}

/* Makes chain `head` available and notifies queue 0. The device handles the
 * notification synchronously, so the used ring is up to date on return. */
static void submit(u16 head) {
  avail.ring[next_avail % qsize] = head;
  fence();
  avail.idx = ++next_avail;
  fence();
  wr32(base + R_NOTIFY, qidx);
  fence();
}

static void desc(int i, void *addr, u32 len, u16 flags, u16 next) {
  dt[i].addr = (u64)addr;
  dt[i].len = len;
  dt[i].flags = flags;
  dt[i].next = next;
}

/* A three-part virtio-blk request (header, data, status); returns the status byte. */
static int blk(u32 type, u64 sector, void *buf, u32 len) {
  hdr.type = type;
  hdr.sector = sector;
  st = 0xee;
  u16 u0 = used.idx;
  desc(0, &hdr, 16, D_NEXT, 1);
  desc(1, buf, len, D_NEXT | (type == 0 ? D_WRITE : 0), 2);
  desc(2, (void *)&st, 1, D_WRITE, 0);
  submit(0);
  if (used.idx != (u16)(u0 + 1)) return -1;
  return st;
}

static int memeq(const void *a, const char *b, int n) {
  const u8 *p = a;
  for (int i = 0; i < n; i++)
    if (p[i] != (u8)b[i]) return 0;
  return 1;
}

/* Every attack below: a fresh device, one rule broken, NEEDS_RESET expected. */
#define ATTACK(n, setup_args, ...)           \
  do {                                       \
    CHECK(n, setup setup_args == 0);         \
    __VA_ARGS__;                             \
    CHECK(n, needs_reset());                 \
    attacks++;                               \
  } while (0)

int main(void) {
  wait_for_key("hostile-virtio");
  int attacks = 0;
  base = find_dev(2);
  CHECK(1, base != 0);

  /* The device works: read sector 0, write sector 1 and read it back. */
  CHECK(2, setup(8, 0) == 0);
  CHECK(3, blk(0, 0, data, 512) == 0);
  CHECK(4, memeq(data, "HOSTILE-DISK", 12));
  for (int i = 0; i < 512; i++) data[i] = (u8)i;
  CHECK(5, blk(1, 1, data, 512) == 0);
  zero(data, 512);
  CHECK(6, blk(0, 1, data, 512) == 0 && data[7] == 7 && data[511] == 255);

  /* Impossible but well-formed requests: IOERR (1), the device stays usable. */
  CHECK(10, blk(0, 64, data, 512) == 1);              /* the first sector past the end */
  CHECK(11, blk(0, 63, data, 1024) == 1);             /* runs past the end */
  CHECK(12, blk(1, 1ul << 63, data, 512) == 1);       /* a sector number near 2^64 */
  CHECK(13, blk(0, ~0ul, data, 512) == 1);            /* sector * 512 overflows */
  CHECK(14, blk(0, 0, data, 100) == 1);               /* not a whole sector */
  CHECK(15, blk(1, 0xffffffffffffff, data, 4096) == 1);
  CHECK(16, blk(0, 0, (void *)0x80000000ul, 24u << 20) == 1); /* 24 MiB: a huge count, past the end */
  CHECK(17, blk(99, 0, data, 512) == 2);              /* unknown type: UNSUPP */
  CHECK(18, !needs_reset());

  /* Descriptor chains. */
  ATTACK(20, (8, 0), { desc(0, &hdr, 16, D_NEXT, 1); desc(1, data, 512, D_NEXT | D_WRITE, 0); submit(0); });
  ATTACK(21, (8, 0), { desc(3, &hdr, 16, D_NEXT, 3); submit(3); }); /* a one-descriptor loop */
  ATTACK(22, (8, 0), { desc(0, &hdr, 16, D_NEXT, 200); submit(0); }); /* next >= queue size */
  ATTACK(23, (8, 0), { blk(0, 0, data, 0xffffffffu); });            /* a 4 GiB buffer */
  ATTACK(24, (8, 0), { blk(0, 0, (void *)0x10000ul, 512); });       /* below RAM */
  ATTACK(25, (8, 0), { blk(0, 0, (void *)(RAM_END - 256), 512); }); /* straddles the end of RAM */
  ATTACK(26, (8, 0), { blk(0, 0, (void *)0xfffffffffffff000ul, 0x2000); }); /* wraps */
  ATTACK(27, (8, 0), {                                              /* status byte outside RAM */
    desc(0, &hdr, 16, D_NEXT, 1); desc(1, data, 512, D_NEXT | D_WRITE, 2);
    desc(2, (void *)0x1000ul, 1, D_WRITE, 0); hdr.type = 0; hdr.sector = 0; submit(0); });
  ATTACK(28, (8, 0), { desc(0, &hdr, 16, 0, 0); submit(0); });      /* no status byte at all */
  ATTACK(29, (8, 0), { desc(0, &hdr, 8, D_NEXT | D_WRITE, 1); desc(1, (void *)&st, 1, D_WRITE, 0); submit(0); }); /* no readable header */
  ATTACK(30, (8, 0), {                                              /* readable after writable */
    desc(0, &hdr, 16, D_NEXT, 1); desc(1, data, 512, D_NEXT | D_WRITE, 2);
    desc(2, data + 512, 512, D_NEXT, 3); desc(3, (void *)&st, 1, D_WRITE, 0); submit(0); });
  /* 48 MiB of data: more than the 32 MiB a request may carry (the host buffer cap). */
  ATTACK(31, (8, 0), { blk(0, 0, (void *)0x80000000ul, 48u << 20); });

  /* Indirect tables (§2.7.5.3). */
  ATTACK(40, (8, 0), { desc(0, itab, 32, D_INDIRECT, 0); submit(0); }); /* not negotiated */
  ATTACK(41, (8, 1), {                                              /* nested */
    itab[0] = (struct desc){(u64)itab2, 32, D_INDIRECT, 0};
    desc(0, itab, 16, D_INDIRECT, 0); submit(0); });
  ATTACK(42, (8, 1), { desc(0, itab, 1u << 20, D_INDIRECT, 0); submit(0); }); /* 65536 entries */
  ATTACK(43, (8, 1), { desc(0, itab, 24, D_INDIRECT, 0); submit(0); });       /* not n*16 */
  ATTACK(44, (8, 1), { desc(0, itab, 0, D_INDIRECT, 0); submit(0); });        /* empty */
  ATTACK(45, (8, 1), { desc(0, itab, 32, D_INDIRECT | D_NEXT, 1); submit(0); }); /* with NEXT */
  ATTACK(46, (8, 1), { desc(0, (void *)(RAM_END - 16), 64, D_INDIRECT, 0); submit(0); });
  ATTACK(47, (8, 1), {                                              /* a loop inside the table */
    itab[0] = (struct desc){(u64)&hdr, 16, D_NEXT, 1};
    itab[1] = (struct desc){(u64)data, 512, D_NEXT | D_WRITE, 0};
    desc(0, itab, 2 * 16, D_INDIRECT, 0); submit(0); });
  ATTACK(48, (8, 1), {                                              /* next past the table */
    itab[0] = (struct desc){(u64)&hdr, 16, D_NEXT, 7};
    desc(0, itab, 2 * 16, D_INDIRECT, 0); submit(0); });

  /* Rings and queue registers (§2.7, §4.2.3.2). */
  ATTACK(50, (8, 0), { avail.idx = next_avail + 9; wr32(base + R_NOTIFY, 0); }); /* idx past size */
  ATTACK(51, (8, 0), { avail.ring[0] = 0xffff; avail.idx = 1; wr32(base + R_NOTIFY, 0); });
  ATTACK(52, (8, 0), { wr32(base + R_NOTIFY, 7); });                /* no such queue */
  ATTACK(53, (8, 0), { wr32(base + R_NOTIFY, 0xffffffffu); });
  ATTACK(54, (8, 0), { wr32(base + R_QNUM, 4); });                  /* while ready */
  ATTACK(55, (8, 0), { wr32(base + R_QSEL, 1000); wr32(base + R_QNUM, 8); });
  ATTACK(56, (8, 0), { wr32(base + R_QSEL, 1000); wr32(base + R_QREADY, 1); });
  ATTACK(57, (8, 0), { *(volatile u8 *)(base + R_STATUS) = 0x0f; }); /* not 32 bits wide */
  ATTACK(58, (8, 0), { *(volatile u64 *)(base + R_QSEL) = 0; });
  ATTACK(59, (8, 0), { wr32(base + R_DRVFEAT, 0xffffffffu); });      /* after FEATURES_OK */

  /* Queue set-up: each broken value is refused and the device needs a reset. */
#define QSETUP(n, num, d, a, u)                                                       \
  do {                                                                                \
    wr32(base + R_STATUS, 0);                                                         \
    wr32(base + R_STATUS, S_ACK | S_DRIVER);                                          \
    wr32(base + R_DRVFEATSEL, 1);                                                     \
    wr32(base + R_DRVFEAT, 1);                                                        \
    wr32(base + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);                          \
    wr32(base + R_QSEL, 0);                                                           \
    wr32(base + R_QNUM, num);                                                         \
    wr32(base + R_DESC, (u32)(d)); wr32(base + R_DESC + 4, (u32)((u64)(d) >> 32));    \
    wr32(base + R_DRIVER, (u32)(a)); wr32(base + R_DRIVER + 4, (u32)((u64)(a) >> 32)); \
    wr32(base + R_DEVICE, (u32)(u)); wr32(base + R_DEVICE + 4, (u32)((u64)(u) >> 32)); \
    wr32(base + R_QREADY, 1);                                                         \
    CHECK(n, needs_reset());                                                          \
    CHECK(n, rd32(base + R_QREADY) == 0);                                             \
    attacks++;                                                                        \
  } while (0)
  u64 D = (u64)dt, A = (u64)&avail, U = (u64)&used;
  QSETUP(60, 3, D, A, U);                        /* not a power of two */
  QSETUP(61, 0, D, A, U);
  QSETUP(62, 512, D, A, U);                      /* above QueueNumMax */
  QSETUP(63, 0x10000, D, A, U);
  QSETUP(64, 8, D + 8, A, U);                    /* descriptor table not 16-aligned */
  QSETUP(65, 8, D, A + 1, U);                    /* available ring not 2-aligned */
  QSETUP(66, 8, D, A, U + 2);                    /* used ring not 4-aligned */
  QSETUP(67, 8, 0x40000000ul, A, U);             /* rings outside RAM */
  QSETUP(68, 8, D, 0xfffffffffffffff0ul, U);
  QSETUP(69, 8, D, A, RAM_END - 8);              /* straddles the end of RAM */
  QSETUP(70, 256, RAM_END - 4096 + 16 * 128, A, U);
  QSETUP(71, 8, 0x10001000ul, A, U);             /* rings in MMIO space */

  /* The device's own writes move the available index: an IN request whose
   * data lands on the available ring, setting idx far ahead. */
  ATTACK(80, (8, 0), {
    for (int i = 0; i < 512; i++) data[i] = 0xff;
    blk(1, 2, data, 512);                          /* sector 2 = all 0xff */
    desc(0, &hdr, 16, D_NEXT, 1); desc(1, &avail, 512, D_NEXT | D_WRITE, 2);
    desc(2, (void *)&st, 1, D_WRITE, 0); hdr.type = 0; hdr.sector = 2; submit(0); });

  /* The other devices on the board get the same treatment. */
  u64 blkbase = base;
  base = find_dev(4); /* virtio-rng */
  CHECK(90, base != 0);
  ATTACK(91, (8, 0), { desc(0, data, 16, D_NEXT | D_WRITE, 0); submit(0); });
  ATTACK(92, (8, 0), { desc(0, data, 0xffffffffu, D_WRITE, 0); submit(0); });
  ATTACK(93, (8, 0), { desc(0, data, 16, 0, 0); submit(0); });     /* readable buffer */
  CHECK(94, setup(8, 0) == 0);
  desc(0, data, 4096, D_WRITE, 0); submit(0);
  CHECK(95, used.idx == 1 && used.ring[0].len > 0 && !needs_reset());
  base = find_dev(18); /* virtio-input: its status queue (the event queue is read only when an event is sent) */
  qidx = 1;
  CHECK(96, base != 0);
  ATTACK(97, (8, 0), { desc(0, data, 8, D_NEXT | D_WRITE, 0); submit(0); });
  ATTACK(98, (8, 0), { wr32(base + R_NOTIFY, 5); });

  /* After all that, a reset disk works again. */
  base = blkbase;
  qidx = 0;
  CHECK(99, setup(8, 0) == 0);
  zero(data, 512);
  CHECK(100, blk(0, 0, data, 512) == 0 && memeq(data, "HOSTILE-DISK", 12));
  CHECK(101, trap_count == 0);
  puts_("hostile-virtio: ");
  puthex((u64)attacks);
  puts_(" attacks, each ended in NEEDS_RESET\n");
  return 0;
}
