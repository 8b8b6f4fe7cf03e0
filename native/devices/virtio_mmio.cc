#include "devices/virtio_mmio.h"

#include <cstdio>

namespace vmsup {

namespace {
// Register offsets, virtio 1.2 §4.2.2 table "MMIO Device Register Layout".
constexpr uint64_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c,
                   kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020,
                   kDriverFeaturesSel = 0x024, kQueueSel = 0x030, kQueueNumMax = 0x034,
                   kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
                   kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
                   kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090,
                   kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4,
                   kShmSel = 0x0ac, kShmLenLow = 0x0b0, kShmLenHigh = 0x0b4,
                   kShmBaseLow = 0x0b8, kShmBaseHigh = 0x0bc, kConfigGeneration = 0x0fc,
                   kConfig = 0x100;
constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kVendor = 0x7573766d;  // "vmsu"
// InterruptStatus bits (§4.2.2): used buffer, configuration change.
constexpr uint32_t kIsrUsed = 1, kIsrConfig = 2;
// Transport features offered with every device (virtio 1.2 §6).
constexpr uint64_t kTransportFeatures = kVirtioFVersion1 | kVirtioFIndirectDesc | kVirtioFEventIdx;

void set_low(uint64_t* r, uint64_t v) { *r = (*r & ~0xffffffffULL) | (v & 0xffffffffULL); }
void set_high(uint64_t* r, uint64_t v) { *r = (*r & 0xffffffffULL) | ((v & 0xffffffffULL) << 32); }
}  // namespace

VirtioMmio::VirtioMmio(GuestMemory& mem, IrqSink* irq, uint32_t line,
                       std::unique_ptr<VirtioDevice> dev, LogFn log)
    : mem_(mem), irq_(irq), line_(line), dev_(std::move(dev)), log_(std::move(log)) {
  if (dev_) {
    for (unsigned q = 0; q < dev_->num_queues(); q++) queues_.emplace_back(dev_->queue_max_size(q));
    dev_->attach(this);
  }
}

void VirtioMmio::log(const char* what) {
  auto now = std::chrono::steady_clock::now();
  if (now - log_window_ > std::chrono::minutes(1)) {
    log_window_ = now;
    log_count_ = 0;
  }
  if (log_count_++ >= kLogBurst) return;
  std::string line = "virtio device " + std::to_string(dev_ ? dev_->device_id() : 0) + " at irq " +
                     std::to_string(line_) + ": " + what;
  if (log_) log_(line);
  else std::fprintf(stderr, "vmsup: %s\n", line.c_str());
}

void VirtioMmio::reset() {
  // §2.1.2 / §4.2.3.1: writing 0 to Status resets the device and its queues.
  status_ = 0;
  isr_ = 0;
  device_features_sel_ = driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  for (auto& q : queues_) q.reset();
  if (dev_) dev_->reset();
  update_irq();
}

void VirtioMmio::update_irq() {
  bool level = isr_ != 0;
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) irq_->set_irq(line_, level);
  }
}

bool VirtioMmio::live() const {
  return (status_ & kStatusDriverOk) && !(status_ & (kStatusNeedsReset | kStatusFailed));
}

void VirtioMmio::notify_used(unsigned q) {
  if (q >= queues_.size()) return;
  if (queues_[q].wants_interrupt(mem_)) {
    isr_ |= kIsrUsed;
    update_irq();
  }
}

void VirtioMmio::needs_reset(const char* why) {
  log(why);
  if (status_ & kStatusNeedsReset) return;
  // §2.1.2: the device sets DEVICE_NEEDS_RESET and, if DRIVER_OK is set,
  // sends a configuration-change notification.
  status_ |= kStatusNeedsReset;
  for (auto& q : queues_) q.disable();
  if (status_ & kStatusDriverOk) {
    isr_ |= kIsrConfig;
    config_generation_++;
    update_irq();
  }
}

bool VirtioMmio::read(uint64_t off, unsigned size, uint64_t* val) {
  *val = 0;
  if (off >= kConfig) {
    if (dev_ && !dev_->read_config(off - kConfig, size, val)) *val = 0;
    return true;
  }
  // §4.2.2: the control registers are 32 bits wide; other widths read as 0.
  if (size != 4) return true;
  uint64_t v = 0;
  VirtQueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  switch (off) {
    case kMagicValue: v = kMagic; break;
    case kVersion: v = 2; break;
    case kDeviceId: v = dev_ ? dev_->device_id() : 0; break;
    case kVendorId: v = kVendor; break;
    case kDeviceFeatures: {
      if (!dev_) break;
      uint64_t f = dev_->device_features() | kTransportFeatures;
      v = device_features_sel_ == 0 ? (f & 0xffffffff) : device_features_sel_ == 1 ? f >> 32 : 0;
      break;
    }
    case kQueueNumMax: v = q ? q->max_size() : 0; break;  // 0 = queue not available
    case kQueueNum: v = q ? q->size() : 0; break;
    case kQueueReady: v = q && q->ready(); break;
    case kInterruptStatus: v = isr_; break;
    case kStatus: v = status_; break;
    case kQueueDescLow: v = q ? q->desc_addr & 0xffffffff : 0; break;
    case kQueueDescHigh: v = q ? q->desc_addr >> 32 : 0; break;
    case kQueueDriverLow: v = q ? q->avail_addr & 0xffffffff : 0; break;
    case kQueueDriverHigh: v = q ? q->avail_addr >> 32 : 0; break;
    case kQueueDeviceLow: v = q ? q->used_addr & 0xffffffff : 0; break;
    case kQueueDeviceHigh: v = q ? q->used_addr >> 32 : 0; break;
    case kShmLenLow: case kShmLenHigh: v = 0xffffffff; break;  // no shared memory regions
    case kShmBaseLow: case kShmBaseHigh: v = 0xffffffff; break;
    case kConfigGeneration: v = config_generation_; break;
    default: break;
  }
  *val = v;
  return true;
}

bool VirtioMmio::write(uint64_t off, unsigned size, uint64_t val) {
  if (!dev_) return true;
  if (off >= kConfig) {
    dev_->write_config(off - kConfig, size, val);
    return true;
  }
  if (size != 4) {
    needs_reset("control register access that is not 32 bits wide");
    return true;
  }
  uint32_t v = static_cast<uint32_t>(val);
  VirtQueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  // Queue registers may only change while the queue is not ready (§4.2.3.2).
  auto queue_writable = [&]() {
    if (!q) {
      needs_reset("queue register written with QueueSel out of range");
      return false;
    }
    if (q->ready()) {
      needs_reset("queue register written while the queue is ready");
      return false;
    }
    return true;
  };
  switch (off) {
    case kDeviceFeaturesSel: device_features_sel_ = v; break;
    case kDriverFeaturesSel: driver_features_sel_ = v; break;
    case kDriverFeatures:
      if (status_ & kStatusFeaturesOk) {
        needs_reset("features written after FEATURES_OK");
        break;
      }
      if (driver_features_sel_ == 0) set_low(&driver_features_, v);
      else if (driver_features_sel_ == 1) set_high(&driver_features_, v);
      break;
    case kQueueSel:
      // Select is validated on use (the driver probes QueueNumMax of queues
      // that do not exist and reads 0, §4.2.3.2); writes through it are checked.
      queue_sel_ = v;
      break;
    case kQueueNum:
      if (queue_writable() && !q->set_size(v)) needs_reset("queue size not a power of two <= QueueNumMax");
      break;
    case kQueueDescLow: if (queue_writable()) set_low(&q->desc_addr, v); break;
    case kQueueDescHigh: if (queue_writable()) set_high(&q->desc_addr, v); break;
    case kQueueDriverLow: if (queue_writable()) set_low(&q->avail_addr, v); break;
    case kQueueDriverHigh: if (queue_writable()) set_high(&q->avail_addr, v); break;
    case kQueueDeviceLow: if (queue_writable()) set_low(&q->used_addr, v); break;
    case kQueueDeviceHigh: if (queue_writable()) set_high(&q->used_addr, v); break;
    case kQueueReady:
      if (!q) {
        needs_reset("QueueReady with QueueSel out of range");
      } else if (v == 1 && !q->ready()) {
        // A device in DEVICE_NEEDS_RESET keeps its queues disabled until the
        // driver resets it (§2.1.2): after a refused QueueNum or address, a
        // queue must not go live with the values that were left behind.
        if (status_ & kStatusNeedsReset) break;
        const char* err = nullptr;
        q->indirect_ok = driver_features_ & kVirtioFIndirectDesc;
        q->event_idx = driver_features_ & kVirtioFEventIdx;
        if (!q->enable(mem_, &err)) needs_reset(err);
      } else if (v == 0) {
        q->disable();
      }
      break;
    case kQueueNotify:
      if (v >= queues_.size()) {
        needs_reset("notify for a queue that does not exist");
      } else if (live() && queues_[v].ready()) {
        dev_->queue_notify(v);
      }
      break;
    case kInterruptAck:
      isr_ &= ~v;
      update_irq();
      break;
    case kStatus:
      if (v == 0) {
        reset();
        break;
      }
      if (v & ~status_ & kStatusFeaturesOk) {
        // §2.2.2 / §3.1.1: accept only features we offered, and VERSION_1
        // (this is a modern-only transport). Otherwise FEATURES_OK stays clear.
        uint64_t offered = dev_->device_features() | kTransportFeatures;
        if ((driver_features_ & ~offered) || !(driver_features_ & kVirtioFVersion1))
          v &= ~kStatusFeaturesOk;
      }
      // The driver sets bits; it cannot clear them except by reset (§2.1.2).
      status_ |= v & ~kStatusNeedsReset;
      break;
    default: break;
  }
  return true;
}

}  // namespace vmsup
