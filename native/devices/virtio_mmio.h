// The ONE virtio-mmio transport, modern interface only (virtio 1.2 §4.2.2,
// Version 2). Devices (virtio_blk, virtio_rng, virtio_input) implement the
// narrow VirtioDevice interface and never decode MMIO themselves.
//
// Every guest-written register is validated when written: QueueSel < the
// device's queue count, QueueNum a non-zero power of two <= QueueNumMax,
// QueueReady only with rings in RAM and aligned, features only those offered.
// A guest that breaks the rules gets the device put in DEVICE_NEEDS_RESET
// (status bit 64) and a configuration-change interrupt (§2.1.2, §4.2.3.4), with
// a rate-limited line on stderr; the device then ignores its queues until the
// driver resets it by writing 0 to Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "devices/virtio_queue.h"
#include "machine/mmio.h"
#include "memory/guest_memory.h"

namespace vmsup {

class SnapOut;
class SnapIn;

// Feature bits of the transport (virtio 1.2 §6).
constexpr uint64_t kVirtioFIndirectDesc = 1ULL << 28;
constexpr uint64_t kVirtioFEventIdx = 1ULL << 29;
constexpr uint64_t kVirtioFVersion1 = 1ULL << 32;

// Device status bits (§2.1).
constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4,
                   kStatusFeaturesOk = 8, kStatusNeedsReset = 64, kStatusFailed = 128;

class VirtioMmio;

// What a device model sees of its transport.
class VirtioTransport {
 public:
  virtual ~VirtioTransport() = default;
  virtual GuestMemory& mem() = 0;
  virtual VirtQueue& queue(unsigned q) = 0;
  // Puts the used buffers of queue q in view: raises the used-buffer interrupt
  // if the driver wants one.
  virtual void notify_used(unsigned q) = 0;
  // The device found the guest breaking the rules: DEVICE_NEEDS_RESET.
  virtual void needs_reset(const char* why) = 0;
  // True once the driver has set DRIVER_OK and the device is not broken.
  virtual bool live() const = 0;
  virtual uint64_t driver_features() const = 0;
};

// The narrow interface of a virtio device model.
class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;
  virtual uint32_t device_id() const = 0;  // §5: 2 block, 4 entropy, 18 input
  // Device-specific feature bits (the transport adds VERSION_1, INDIRECT_DESC
  // and EVENT_IDX).
  virtual uint64_t device_features() const = 0;
  virtual unsigned num_queues() const = 0;
  virtual uint16_t queue_max_size(unsigned q) const { return VirtQueue::kMaxSize; }
  // Device configuration space (§4.2.2 offset 0x100+); off is relative to it.
  // Returns false for an access outside the space (it reads as 0).
  virtual bool read_config(uint64_t off, unsigned size, uint64_t* val) = 0;
  virtual void write_config(uint64_t off, unsigned size, uint64_t val) {}
  // The driver notified queue q (already checked < num_queues and ready).
  virtual void queue_notify(unsigned q) = 0;
  // Device reset (Status = 0): forget all request state.
  virtual void reset() = 0;
  // Called once by the transport it is attached to.
  virtual void attach(VirtioTransport* t) { transport_ = t; }
  // Metrics: appends this device's counters as (name, value) pairs, names
  // without a prefix (e.g. "read_bytes"); the board prefixes the device kind
  // and slot ("blk0_read_bytes"). Counters are plain integers bumped on the
  // vCPU thread and read by stats() on the same thread: no atomics needed.
  // A device with nothing to count (rng, keyboard) adds nothing.
  virtual void counters(std::vector<std::pair<std::string, uint64_t>>* out) const {}
  // The prefix of this device's counters ("blk", "net", ...); empty = none.
  virtual const char* counter_prefix() const { return ""; }
  // Device-specific save/restore (devices/persist.cc): most devices have no
  // state between requests beyond their queues. Restore validates and returns
  // false with in.error() set on a bad field.
  virtual void save_state(SnapOut& out) const {}
  virtual bool restore_state(SnapIn& in) { return true; }

 protected:
  // Serves every chain the driver has made available on queue `qi` (virtio 1.2
  // §2.7.13): each is walked by the one chain walker (at most `byte_cap` bytes,
  // readable and writable together) into bufs_, handed to
  // `serve(bufs, &written)`, and returned on the used ring with the bytes the
  // device wrote; one used-buffer notification covers the batch. `serve`
  // returns nullptr, or why the request breaks the rules. A broken rule puts the
  // device in NEEDS_RESET and leaves the remaining chains alone.
  template <typename Serve>
  void serve_queue(unsigned qi, uint64_t byte_cap, Serve&& serve);

  VirtioTransport* transport_ = nullptr;
  std::vector<DescBuf> bufs_;  // reused between requests; bounded by the chain walker
};

template <typename Serve>
void VirtioDevice::serve_queue(unsigned qi, uint64_t byte_cap, Serve&& serve) {
  VirtQueue& q = transport_->queue(qi);
  GuestMemory& mem = transport_->mem();
  bool used = false;
  for (;;) {
    uint16_t head;
    const char* err = nullptr;
    VqStatus st = q.pop(mem, &head, &err);
    if (st == VqStatus::kEmpty) break;
    if (st == VqStatus::kOk) st = collect_chain(mem, q, head, byte_cap, &bufs_, &err);
    uint32_t written = 0;
    if (st == VqStatus::kOk) err = serve(static_cast<const std::vector<DescBuf>&>(bufs_), &written);
    if (st == VqStatus::kOk && err == nullptr && !q.push_used(mem, head, written))
      err = "used ring unwritable";
    if (st != VqStatus::kOk || err != nullptr) {
      transport_->needs_reset(err != nullptr ? err : "bad descriptor chain");
      return;
    }
    used = true;
  }
  if (used) transport_->notify_used(qi);
}

class VirtioMmio : public MmioDevice, public VirtioTransport {
 public:
  // `dev` may be null: an empty slot (DeviceID 0, which Linux skips, §4.2.3.1.1).
  // `log` receives the (rate-limited) misbehaviour lines; null = stderr.
  using LogFn = std::function<void(const std::string&)>;
  VirtioMmio(GuestMemory& mem, IrqSink* irq, uint32_t line, std::unique_ptr<VirtioDevice> dev,
             LogFn log = nullptr);

  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;

  GuestMemory& mem() override { return mem_; }
  VirtQueue& queue(unsigned q) override { return queues_[q < queues_.size() ? q : 0]; }
  void notify_used(unsigned q) override;
  void needs_reset(const char* why) override;
  bool live() const override;
  uint64_t driver_features() const override { return driver_features_; }

  VirtioDevice* device() { return dev_.get(); }
  uint32_t status() const { return status_; }
  uint32_t interrupt_status() const { return isr_; }
  void reset();
  // The transport registers, every queue, then the device's own state.
  // Restore checks the device id, that the features are ones offered, the
  // status bits and each queue (VirtQueue::restore_state), then drives the
  // interrupt line from the restored InterruptStatus.
  // Save/restore (native/snapshot; devices/persist.cc): the device's
  // architectural state; restore validates every field as the guest's register
  // writes would be, and returns false with in.error() set otherwise.
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in);

 private:
  void update_irq();
  void log(const char* what);

  GuestMemory& mem_;
  IrqSink* irq_;
  uint32_t line_;
  std::unique_ptr<VirtioDevice> dev_;
  LogFn log_;
  std::vector<VirtQueue> queues_;

  uint32_t status_ = 0;
  uint32_t isr_ = 0;
  uint32_t device_features_sel_ = 0, driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t config_generation_ = 0;
  bool irq_level_ = false;

  // Rate limit of the misbehaviour log: at most kLogBurst lines per minute.
  static constexpr int kLogBurst = 5;
  std::chrono::steady_clock::time_point log_window_{};
  int log_count_ = 0;
};

}  // namespace vmsup
