#include "machine/device_manager.h"

namespace vmsup {

const char* device_kind_name(DeviceKind k) {
  switch (k) {
    case DeviceKind::kBlk: return "disk";
    case DeviceKind::kNet: return "network interface";
    case DeviceKind::kRng: return "entropy device";
    case DeviceKind::kInput: return "input device";
  }
  return "device";
}

bool VirtioSlotAllocator::allocate(const DeviceSpec& spec, DeviceSlot* out, std::string* err) {
  const unsigned k = static_cast<unsigned>(spec.kind);
  unsigned limit = kDeviceLimits.virtio_slots;
  if (spec.kind == DeviceKind::kBlk) limit = kDeviceLimits.disks;
  else if (spec.kind == DeviceKind::kNet) limit = kDeviceLimits.nics;
  else limit = 1;  // one entropy device, one keyboard
  if (count_[k] >= limit) {
    *err = std::string("too many ") + (spec.kind == DeviceKind::kBlk   ? "disks"
                                       : spec.kind == DeviceKind::kNet ? "network interfaces"
                                                                       : device_kind_name(spec.kind)) +
           " (at most " + std::to_string(limit) + ")";
    return false;
  }
  if (slots_.size() >= kDeviceLimits.virtio_slots) {
    *err = "no free virtio-mmio slot for the " + std::string(device_kind_name(spec.kind));
    return false;
  }
  const unsigned n = static_cast<unsigned>(slots_.size());
  const MemRegion& r = memmap_virtio(n);
  count_[k]++;
  slots_.push_back({spec, n, r.base, r.irq});
  *out = slots_.back();
  return true;
}

std::vector<DeviceSpec> board_device_specs(unsigned disks, unsigned nics) {
  std::vector<DeviceSpec> v;
  for (unsigned i = 0; i < disks; i++) v.push_back({DeviceKind::kBlk, i});
  for (unsigned i = 0; i < nics; i++) v.push_back({DeviceKind::kNet, i});
  v.push_back({DeviceKind::kRng, 0});
  v.push_back({DeviceKind::kInput, 0});
  return v;
}

}  // namespace vmsup
