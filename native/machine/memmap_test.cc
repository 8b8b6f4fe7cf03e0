// The memory-map table: sorted, non-overlapping, QEMU virt's addresses.
#include "machine/memmap.h"
#include "testing.h"

using namespace vmsup;

TEST(regions_are_sorted_and_do_not_overlap) {
  for (size_t i = 0; i + 1 < kMemMapCount; i++) {
    const MemRegion& a = kMemMap[i];
    const MemRegion& b = kMemMap[i + 1];
    CHECK(a.base < b.base);
    CHECK(a.base + a.size <= b.base);
  }
}

TEST(virt_board_addresses_and_interrupts) {
  CHECK_EQ(memmap_region(Region::kUart).base, 0x10000000u);
  CHECK_EQ(memmap_region(Region::kUart).irq, 10u);
  CHECK_EQ(memmap_region(Region::kPlic).base, 0x0c000000u);
  CHECK_EQ(memmap_region(Region::kClint).base, 0x02000000u);
  CHECK_EQ(memmap_region(Region::kSyscon).base, 0x100000u);
  CHECK_EQ(memmap_region(Region::kRtc).base, 0x101000u);
  CHECK_EQ(memmap_region(Region::kDram).base, 0x80000000u);
  for (unsigned n = 0; n < kVirtioSlots; n++) {
    CHECK_EQ(memmap_virtio(n).base, 0x10001000u + 0x1000u * n);
    CHECK_EQ(memmap_virtio(n).irq, n < 8 ? 1u + n : 12u + (n - 8));
    CHECK(memmap_virtio(n).irq != 10u && memmap_virtio(n).irq != 11u);
    CHECK_EQ(memmap_virtio(n).index, n);
  }
  // Every PLIC source named by the table exists.
  for (size_t i = 0; i < kMemMapCount; i++) CHECK(kMemMap[i].irq < kPlicSources);
}

TEST_MAIN()
