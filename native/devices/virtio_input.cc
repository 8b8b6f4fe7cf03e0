#include "devices/virtio_input.h"

#include <cstring>

namespace vmsup {

namespace {
// Config selectors (§5.8.4).
constexpr uint8_t kCfgIdName = 0x01, kCfgIdSerial = 0x02, kCfgIdDevids = 0x03,
                  kCfgEvBits = 0x11;
// Linux input-event-codes.h (the event layout virtio-input reuses, §5.8.6).
constexpr uint16_t kEvSyn = 0x00, kEvKey = 0x01, kEvRep = 0x14;
constexpr uint16_t kKeyLeftCtrl = 29, kKeyLeftAlt = 56, kKeyDelete = 111;
constexpr uint16_t kBusVirtual = 0x06;
constexpr uint16_t kKeyCount = 128;  // KEY_ESC (1) .. 127: a standard keyboard
}  // namespace

void VirtioInput::build_config() {
  std::memset(cfg_, 0, sizeof(cfg_));
  cfg_[0] = select_;
  cfg_[1] = subsel_;
  uint8_t* u = cfg_ + 8;
  uint8_t size = 0;
  switch (select_) {
    case kCfgIdName:
      if (subsel_ == 0) {
        static const char kName[] = "vmsup virtio keyboard";
        size = sizeof(kName) - 1;
        std::memcpy(u, kName, size);
      }
      break;
    case kCfgIdSerial:
      if (subsel_ == 0) {
        static const char kSerial[] = "vmsup-kbd0";
        size = sizeof(kSerial) - 1;
        std::memcpy(u, kSerial, size);
      }
      break;
    case kCfgIdDevids: {
      if (subsel_ == 0) {
        // struct virtio_input_devids: bustype, vendor, product, version (le16).
        uint16_t ids[4] = {kBusVirtual, 0x0627, 0x0001, 0x0001};
        std::memcpy(u, ids, sizeof(ids));
        size = sizeof(ids);
      }
      break;
    }
    case kCfgEvBits:
      if (subsel_ == kEvKey) {
        // Keys 1..127: enough for Linux's keyboard handler to bind (it wants
        // EV_KEY with keys below BTN_MISC).
        for (uint16_t k = 1; k < kKeyCount; k++) u[k / 8] |= 1u << (k % 8);
        size = kKeyCount / 8;
      } else if (subsel_ == kEvRep) {
        size = 0;  // no autorepeat events from the device
      }
      break;
    default:
      break;
  }
  cfg_[2] = size;
}

bool VirtioInput::read_config(uint64_t off, unsigned size, uint64_t* val) {
  if (off + size > sizeof(cfg_) || off + size < off) return false;
  uint64_t v = 0;
  std::memcpy(&v, cfg_ + off, size);
  *val = v;
  return true;
}

void VirtioInput::write_config(uint64_t off, unsigned size, uint64_t val) {
  // Only select (@0) and subsel (@1) are driver-writable (§5.8.4).
  for (unsigned i = 0; i < size; i++) {
    uint64_t o = off + i;
    uint8_t b = static_cast<uint8_t>(val >> (8 * i));
    if (o == 0) select_ = b;
    else if (o == 1) subsel_ = b;
  }
  build_config();
}

void VirtioInput::reset() {
  select_ = subsel_ = 0;
  build_config();
  pending_.clear();
}

void VirtioInput::send(uint16_t type, uint16_t code, uint32_t value) {
  if (pending_.size() >= kMaxPending) pending_.pop_front();
  pending_.push_back({type, code, value});
  deliver();
}

void VirtioInput::ctrl_alt_del() {
  const uint16_t keys[3] = {kKeyLeftCtrl, kKeyLeftAlt, kKeyDelete};
  for (uint16_t k : keys) {
    send(kEvKey, k, 1);
    send(kEvSyn, 0, 0);
  }
  for (int i = 2; i >= 0; i--) {
    send(kEvKey, keys[i], 0);
    send(kEvSyn, 0, 0);
  }
}

void VirtioInput::deliver() {
  if (!transport_ || !transport_->live()) return;
  VirtQueue& q = transport_->queue(0);
  GuestMemory& mem = transport_->mem();
  // One struct virtio_input_event (8 bytes, §5.8.6) per buffer, through the
  // transport's one device-to-driver path.
  FillRequest req;
  req.byte_cap = 4096;
  bool used = false;
  while (!pending_.empty()) {
    const InputEvent& e = pending_.front();
    uint8_t raw[8];
    std::memcpy(raw, &e.type, 2);
    std::memcpy(raw + 2, &e.code, 2);
    std::memcpy(raw + 4, &e.value, 4);
    const char* err = nullptr;
    FillStatus st = fill_posted(mem, q, raw, sizeof(raw), req, &fill_, &err);
    if (st == FillStatus::kNoBuffers) break;
    if (st == FillStatus::kError || st == FillStatus::kTooSmall) {
      transport_->needs_reset(st == FillStatus::kTooSmall ? "virtio-input event buffer too small" : err);
      return;
    }
    pending_.pop_front();
    used = true;
  }
  if (used) transport_->notify_used(0);
}

void VirtioInput::queue_notify(unsigned qi) {
  if (qi == 0) {
    deliver();  // new event buffers: send what is waiting
    return;
  }
  // statusq: consume the driver's LED / repeat events and give the buffers back.
  serve_queue(qi, 4096, [](const std::vector<DescBuf>&, uint32_t*) -> const char* { return nullptr; });
}

}  // namespace vmsup
