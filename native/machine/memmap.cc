#include "machine/memmap.h"

namespace vmsup {

#define VIRTIO_SLOT(n) \
  {Region::kVirtio, kVirtioBase + (n) * kVirtioStride, kVirtioStride, virtio_slot_irq(n), (n)}

const MemRegion kMemMap[] = {
    {Region::kSyscon, 0x00100000, 0x1000, 0, 0},
    {Region::kRtc, 0x00101000, 0x1000, 11, 0},
    {Region::kClint, 0x02000000, 0x10000, 0, 0},
    // Priorities 0x0, pending 0x1000, enables 0x2000 + 0x80*ctx, context
    // registers 0x200000 + 0x1000*ctx (PLIC spec §Memory map); 0x600000 as QEMU.
    {Region::kPlic, 0x0c000000, 0x600000, 0, 0},
    {Region::kUart, 0x10000000, 0x100, 10, 0},
    VIRTIO_SLOT(0), VIRTIO_SLOT(1), VIRTIO_SLOT(2), VIRTIO_SLOT(3),
    VIRTIO_SLOT(4), VIRTIO_SLOT(5), VIRTIO_SLOT(6), VIRTIO_SLOT(7),
    VIRTIO_SLOT(8), VIRTIO_SLOT(9), VIRTIO_SLOT(10), VIRTIO_SLOT(11),
    VIRTIO_SLOT(12), VIRTIO_SLOT(13), VIRTIO_SLOT(14), VIRTIO_SLOT(15),
    {Region::kDram, kDramBase, 0, 0, 0},
};
const size_t kMemMapCount = sizeof(kMemMap) / sizeof(kMemMap[0]);

#undef VIRTIO_SLOT

const MemRegion& memmap_region(Region kind) {
  for (size_t i = 0; i < kMemMapCount; i++)
    if (kMemMap[i].kind == kind) return kMemMap[i];
  return kMemMap[kMemMapCount - 1];  // unreachable: every kind is in the table
}

const MemRegion& memmap_virtio(unsigned n) {
  const MemRegion& first = memmap_region(Region::kVirtio);
  return (&first)[n < kVirtioSlots ? n : 0];
}

}  // namespace vmsup
