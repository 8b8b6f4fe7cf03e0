// The device manager: one allocator, the limits in one place, slots and IRQs
// from the memory-map table.
#include <set>
#include <string>

#include "machine/device_manager.h"
#include "testing.h"

using namespace vmsup;

TEST(board_list_is_disks_then_nics_then_rng_and_keyboard) {
  auto v = board_device_specs(2, 1);
  CHECK_EQ(v.size(), 5u);
  CHECK(v[0].kind == DeviceKind::kBlk && v[0].index == 0);
  CHECK(v[1].kind == DeviceKind::kBlk && v[1].index == 1);
  CHECK(v[2].kind == DeviceKind::kNet && v[2].index == 0);
  CHECK(v[3].kind == DeviceKind::kRng);
  CHECK(v[4].kind == DeviceKind::kInput);
}

TEST(a_full_board_fits_with_distinct_slots_and_irqs) {
  VirtioSlotAllocator a;
  std::set<uint32_t> irqs;
  std::set<uint64_t> bases;
  for (const auto& s : board_device_specs(kDeviceLimits.disks, kDeviceLimits.nics)) {
    DeviceSlot d;
    std::string err;
    CHECK(a.allocate(s, &d, &err));
    CHECK(irqs.insert(d.irq).second);
    CHECK(bases.insert(d.base).second);
    CHECK(d.irq != 10 && d.irq != 11);  // the UART and the RTC
  }
  CHECK_EQ(a.used(), kDeviceLimits.disks + kDeviceLimits.nics + 2);
  CHECK(a.used() <= kVirtioSlots);
  // The first disk is in QEMU's first slot (so it is /dev/vda).
  CHECK_EQ(a.slots()[0].base, 0x10001000u);
  CHECK_EQ(a.slots()[0].irq, 1u);
}

TEST(limits_are_enforced_by_the_allocator) {
  VirtioSlotAllocator a;
  DeviceSlot d;
  std::string err;
  for (unsigned i = 0; i < kDeviceLimits.disks; i++) CHECK(a.allocate({DeviceKind::kBlk, i}, &d, &err));
  CHECK(!a.allocate({DeviceKind::kBlk, 4}, &d, &err));
  CHECK(err == "too many disks (at most 4)");
  for (unsigned i = 0; i < kDeviceLimits.nics; i++) CHECK(a.allocate({DeviceKind::kNet, i}, &d, &err));
  CHECK(!a.allocate({DeviceKind::kNet, 4}, &d, &err));
  CHECK(err == "too many network interfaces (at most 4)");
  CHECK(a.allocate({DeviceKind::kRng, 0}, &d, &err));
  CHECK(!a.allocate({DeviceKind::kRng, 1}, &d, &err));
  CHECK_EQ(kDeviceLimits.cpus, 8u);
}

TEST_MAIN()
