// The device manager: the board's virtio devices come from ONE typed list of
// device specs (blk, net, rng, input), and ONE allocator hands each of them a
// virtio-mmio slot and its PLIC line from the memory-map table (memmap.h), as
// Firecracker's MMIODeviceManager does. The allocator is also the single
// source of the device limits (kDeviceLimits); the N-API layer exports them to
// TypeScript as addon().limits, so no other layer writes them down again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "machine/memmap.h"

namespace vmsup {

// What a VM may have. vmd's limits: 4 disks and 4 NICs per VM; 8 harts (the
// guest kernel's NR_CPUS and the PLIC contexts the FDT describes).
struct DeviceLimits {
  unsigned disks;
  unsigned nics;
  unsigned cpus;
  unsigned virtio_slots;
};
constexpr DeviceLimits kDeviceLimits{4, 4, kMaxHarts, kVirtioSlots};

enum class DeviceKind { kBlk, kNet, kRng, kInput };
const char* device_kind_name(DeviceKind k);

// One device of the board: its kind and its index among devices of that kind
// (disk 0 = the first -d, NIC 0 = the first interface). `config` indexes the
// matching list of the MachineConfig (disks or nics).
struct DeviceSpec {
  DeviceKind kind;
  unsigned index;
};

// Where a device went: its slot and the MMIO window and interrupt line of it.
struct DeviceSlot {
  DeviceSpec spec;
  unsigned slot;
  uint64_t base;
  uint32_t irq;
};

// Hands out virtio-mmio slots in list order (so the first disk is /dev/vda and
// the first NIC eth0) and enforces the per-kind limits.
class VirtioSlotAllocator {
 public:
  // false with *err (one line, ERR_VMSUP_BAD_CONFIG material) when a limit or
  // the slot count is exceeded.
  bool allocate(const DeviceSpec& spec, DeviceSlot* out, std::string* err);
  const std::vector<DeviceSlot>& slots() const { return slots_; }
  unsigned used() const { return static_cast<unsigned>(slots_.size()); }

 private:
  std::vector<DeviceSlot> slots_;
  unsigned count_[4] = {};
};

// The board's device list for `disks` disks and `nics` NICs: the disks first,
// then the NICs, then the entropy device and the keyboard.
std::vector<DeviceSpec> board_device_specs(unsigned disks, unsigned nics);

}  // namespace vmsup
