// virtio input device (virtio 1.2 §5.8) presenting a keyboard. The host sends
// key events through it; the one the project needs is Ctrl-Alt-Del, which
// Linux's keyboard handler turns into the "ctrl_alt_del" request (SIGINT to
// init once init has disabled CAD), the guest's graceful shutdown.
//
// eventq (queue 0) carries device -> driver events in buffers the driver
// posts; statusq (queue 1) carries driver -> device events (LEDs), which are
// consumed and ignored.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "devices/virtio_mmio.h"

namespace vmsup {

struct InputEvent {
  uint16_t type;
  uint16_t code;
  uint32_t value;
};

class VirtioInput : public VirtioDevice {
 public:
  // Cap on events waiting for eventq buffers. The host is the only source,
  // but a guest that never posts buffers must not make them pile up forever:
  // beyond the cap the oldest are dropped.
  static constexpr size_t kMaxPending = 256;

  uint32_t device_id() const override { return 18; }
  uint64_t device_features() const override { return 0; }
  unsigned num_queues() const override { return 2; }
  uint16_t queue_max_size(unsigned q) const override { return 64; }
  bool read_config(uint64_t off, unsigned size, uint64_t* val) override;
  void write_config(uint64_t off, unsigned size, uint64_t val) override;
  void queue_notify(unsigned q) override;
  void reset() override;

  // Queues one event (delivered as soon as the driver has posted buffers).
  void send(uint16_t type, uint16_t code, uint32_t value);
  // Press Ctrl, Alt, Delete, then release them, each followed by EV_SYN.
  void ctrl_alt_del();
  size_t pending_events() const { return pending_.size(); }
  void save_state(SnapOut& out) const override;
  bool restore_state(SnapIn& in) override;

 private:
  void deliver();
  void build_config();

  uint8_t select_ = 0, subsel_ = 0;
  uint8_t cfg_[136] = {};  // select, subsel, size, reserved[5], union u[128] (§5.8.4)
  std::deque<InputEvent> pending_;
  FillScratch fill_;
};

}  // namespace vmsup
