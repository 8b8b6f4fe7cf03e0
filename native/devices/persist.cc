// Save/restore of the device models (the "persist" half of each device, as
// Firecracker splits devices/virtio/*/persist.rs from the device). Each
// restore reads every field first, checks it exactly as the guest's register
// write would be checked (WARL masks, a queue size that set_size() accepts,
// rings that enable() accepts, features that were offered), and changes the
// device only when all of it is valid. A bad field fails the restore with
// SnapIn::error(); nothing here aborts on file contents.
#include "devices/clint.h"
#include "devices/goldfish_rtc.h"
#include "devices/plic.h"
#include "devices/uart16550.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_queue.h"
#include "snapshot/snap_io.h"

namespace vmsup {

// ---------------------------------------------------------------------------
// CLINT: mtime, msip[h], mtimecmp[h].

void Clint::save_state(SnapOut& o) const {
  o.u64(time_.now());
  o.u32(static_cast<uint32_t>(harts_.size()));
  for (size_t h = 0; h < harts_.size(); h++) {
    o.u32(msip_[h]);
    o.u64(mtimecmp_[h]);
  }
}

bool Clint::restore_state(SnapIn& in) {
  const uint64_t mtime = in.u64();
  const uint32_t n = in.u32();
  if (!in.ok()) return false;
  if (n != harts_.size()) return in.fail("clint: hart count differs");
  std::vector<uint32_t> msip(n);
  std::vector<uint64_t> cmp(n);
  for (uint32_t h = 0; h < n; h++) {
    msip[h] = in.u32();
    cmp[h] = in.u64();
    if (msip[h] > 1) return in.fail("clint: msip other than 0 or 1");
  }
  if (!in.ok()) return false;
  // mtime continues from the saved value: to the guest the save looks like a
  // suspend (no time passed on the platform timer).
  time_.set(mtime);
  msip_ = msip;
  mtimecmp_ = cmp;
  for (size_t h = 0; h < harts_.size(); h++) harts_[h]->set_irq(kMipMSIP, msip_[h] & 1);
  update();
  return true;
}

// ---------------------------------------------------------------------------
// PLIC.

void Plic::save_state(SnapOut& o) const {
  o.u32(kPlicSources);
  o.u32(contexts_);
  for (uint32_t s = 0; s < kPlicSources; s++) o.u32(priority_[s]);
  for (unsigned i = 0; i < kWords; i++) {
    o.u32(level_[i]);
    o.u32(pending_[i]);
    o.u32(claimed_[i]);
  }
  for (uint32_t e : enable_) o.u32(e);
  for (uint32_t t : threshold_) o.u32(t);
}

bool Plic::restore_state(SnapIn& in) {
  if (in.u32() != kPlicSources) return in.fail("plic: source count differs");
  if (in.u32() != contexts_) return in.fail("plic: context count differs");
  uint32_t prio[kPlicSources], lvl[kWords], pend[kWords], clm[kWords];
  for (uint32_t s = 0; s < kPlicSources; s++) prio[s] = in.u32();
  for (unsigned i = 0; i < kWords; i++) {
    lvl[i] = in.u32();
    pend[i] = in.u32();
    clm[i] = in.u32();
  }
  std::vector<uint32_t> en(enable_.size()), th(threshold_.size());
  for (auto& e : en) e = in.u32();
  for (auto& t : th) t = in.u32();
  if (!in.ok()) return false;
  if (prio[0] != 0) return in.fail("plic: source 0 has a priority");
  for (uint32_t s = 1; s < kPlicSources; s++)
    if (prio[s] > kPlicMaxPriority) return in.fail("plic: priority out of range");
  for (uint32_t t : th)
    if (t > kPlicMaxPriority) return in.fail("plic: threshold out of range");
  // Source 0 does not exist, nor do the bits past the last source.
  auto bad_bits = [](const uint32_t* w, unsigned words) {
    if (w[0] & 1) return true;
    const unsigned tail = kPlicSources % 32;
    return tail != 0 && (w[words - 1] >> tail) != 0;
  };
  if (bad_bits(lvl, kWords) || bad_bits(pend, kWords) || bad_bits(clm, kWords))
    return in.fail("plic: interrupt bits for sources that do not exist");
  for (unsigned c = 0; c < contexts_; c++)
    if (bad_bits(&en[c * kWords], kWords)) return in.fail("plic: enable bits for sources that do not exist");
  for (uint32_t s = 0; s < kPlicSources; s++) priority_[s] = prio[s];
  for (unsigned i = 0; i < kWords; i++) {
    level_[i] = lvl[i];
    pending_[i] = pend[i];
    claimed_[i] = clm[i];
  }
  enable_ = en;
  threshold_ = th;
  // Drive every context output afresh (the harts' MEIP/SEIP follow).
  for (unsigned c = 0; c < contexts_; c++) {
    out_[c] = best_pending(c) != 0;
    if (output_) output_(c, out_[c]);
  }
  return true;
}

// ---------------------------------------------------------------------------
// NS16550A.

void Uart16550::save_state(SnapOut& o) const {
  o.u8(ier_);
  o.u8(lcr_);
  o.u8(mcr_);
  o.u8(scr_);
  o.u8(fcr_);
  o.u8(dll_);
  o.u8(dlm_);
  o.u8(lsr_extra_);
  o.boolean(thre_pending_);
  o.u8(static_cast<uint8_t>(rx_count_));
  for (size_t i = 0; i < rx_count_; i++) o.u8(rx_[(rx_head_ + i) % kFifo]);
}

bool Uart16550::restore_state(SnapIn& in) {
  const uint8_t ier = in.u8(), lcr = in.u8(), mcr = in.u8(), scr = in.u8(), fcr = in.u8(), dll = in.u8(),
                dlm = in.u8(), lsr_extra = in.u8();
  const bool thre = in.boolean();
  const uint8_t count = in.u8();
  if (!in.ok()) return false;
  // The WARL masks of the register writes (uart16550.cc).
  if ((ier & ~0x0f) || (mcr & ~0x1f) || (fcr & ~0xc9)) return in.fail("uart: reserved register bits set");
  if (lsr_extra & ~0x02) return in.fail("uart: line status bits other than overrun");
  if (count > kFifo) return in.fail("uart: receive FIFO longer than 16 bytes");
  uint8_t rx[kFifo] = {};
  if (!in.raw(rx, count)) return false;
  ier_ = ier;
  lcr_ = lcr;
  mcr_ = mcr;
  scr_ = scr;
  fcr_ = fcr;
  dll_ = dll;
  dlm_ = dlm;
  lsr_extra_ = lsr_extra;
  thre_pending_ = thre;
  std::memcpy(rx_, rx, sizeof(rx_));
  rx_head_ = 0;
  rx_count_ = count;
  irq_level_ = false;
  if (irq_) irq_->set_irq(line_, false);
  update_irq();
  return true;
}

// ---------------------------------------------------------------------------
// Goldfish RTC.

void GoldfishRtc::save_state(SnapOut& o) const {
  o.u64(static_cast<uint64_t>(offset_));
  o.u32(time_high_latch_);
  o.u32(set_high_);
  o.u64(alarm_);
  o.boolean(alarm_armed_);
  o.boolean(irq_enabled_);
  o.boolean(irq_pending_);
}

bool GoldfishRtc::restore_state(SnapIn& in) {
  const uint64_t off = in.u64();
  const uint32_t latch = in.u32(), set_high = in.u32();
  const uint64_t alarm = in.u64();
  const bool armed = in.boolean(), en = in.boolean(), pend = in.boolean();
  if (!in.ok()) return false;
  offset_ = static_cast<int64_t>(off);  // any offset is a clock the guest could set
  time_high_latch_ = latch;
  set_high_ = set_high;
  alarm_ = alarm;
  alarm_armed_ = armed;
  irq_enabled_ = en;
  irq_pending_ = pend;
  if (irq_) irq_->set_irq(line_, false);
  update_irq();
  return true;
}

// ---------------------------------------------------------------------------
// Split virtqueue.

void VirtQueue::save_state(SnapOut& o) const {
  o.u16(max_size_);
  o.u16(size_);
  o.boolean(ready_);
  o.u64(desc_addr);
  o.u64(avail_addr);
  o.u64(used_addr);
  o.u16(last_avail_);
  o.u16(used_idx_);
  o.u16(signalled_used_);
  o.boolean(indirect_ok);
  o.boolean(event_idx);
}

bool VirtQueue::restore_state(SnapIn& in, const GuestMemory& mem) {
  const uint16_t max = in.u16(), size = in.u16();
  const bool ready = in.boolean();
  const uint64_t desc = in.u64(), avail = in.u64(), used = in.u64();
  const uint16_t last_avail = in.u16(), used_idx = in.u16(), signalled = in.u16();
  const bool indirect = in.boolean(), evidx = in.boolean();
  if (!in.ok()) return false;
  if (max != max_size_) return in.fail("virtqueue: maximum size differs from the device's");
  // QueueNum as set_size() accepts it (virtio 1.2 §4.2.2).
  VirtQueue probe(max_size_);
  if (!probe.set_size(size)) return in.fail("virtqueue: size not a power of two <= QueueNumMax");
  probe.desc_addr = desc;
  probe.avail_addr = avail;
  probe.used_addr = used;
  if (ready) {
    // The rings as QueueReady checks them: aligned and in RAM (§2.7).
    const char* err = nullptr;
    if (!probe.enable(mem, &err)) return in.fail(std::string("virtqueue: ") + err);
  }
  *this = probe;
  max_size_ = max;
  ready_ = ready;
  last_avail_ = last_avail;
  used_idx_ = used_idx;
  signalled_used_ = signalled;
  indirect_ok = indirect;
  event_idx = evidx;
  return true;
}

// ---------------------------------------------------------------------------
// virtio-mmio transport.

namespace {
constexpr uint64_t kTransportOffered = kVirtioFVersion1 | kVirtioFIndirectDesc | kVirtioFEventIdx;
constexpr uint32_t kStatusKnown = kStatusAcknowledge | kStatusDriver | kStatusDriverOk | kStatusFeaturesOk |
                                  kStatusNeedsReset | kStatusFailed;
}  // namespace

void VirtioMmio::save_state(SnapOut& o) const {
  o.u32(dev_ ? dev_->device_id() : 0);
  o.u32(status_);
  o.u32(isr_);
  o.u32(device_features_sel_);
  o.u32(driver_features_sel_);
  o.u64(driver_features_);
  o.u32(queue_sel_);
  o.u32(config_generation_);
  o.u32(static_cast<uint32_t>(queues_.size()));
  for (const auto& q : queues_) q.save_state(o);
  if (dev_) dev_->save_state(o);
}

bool VirtioMmio::restore_state(SnapIn& in) {
  const uint32_t id = in.u32(), status = in.u32(), isr = in.u32(), dfsel = in.u32(), drfsel = in.u32();
  const uint64_t features = in.u64();
  const uint32_t qsel = in.u32(), gen = in.u32(), nq = in.u32();
  if (!in.ok()) return false;
  if (id != (dev_ ? dev_->device_id() : 0)) return in.fail("virtio: device id differs from this slot's device");
  if (nq != queues_.size()) return in.fail("virtio: queue count differs");
  if (status & ~kStatusKnown) return in.fail("virtio: unknown device status bits");
  if (isr & ~3u) return in.fail("virtio: unknown interrupt status bits");
  const uint64_t offered = dev_ ? dev_->device_features() | kTransportOffered : 0;
  if (features & ~offered) return in.fail("virtio: driver features that were never offered");
  if ((status & kStatusFeaturesOk) && !(features & kVirtioFVersion1))
    return in.fail("virtio: FEATURES_OK without VERSION_1");
  std::vector<VirtQueue> qs;
  for (uint32_t i = 0; i < nq; i++) {
    VirtQueue q(queues_[i].max_size());
    if (!q.restore_state(in, mem_)) return false;
    if (q.indirect_ok != bool(features & kVirtioFIndirectDesc) && q.ready())
      return in.fail("virtio: queue ring features differ from the negotiated ones");
    if (q.event_idx != bool(features & kVirtioFEventIdx) && q.ready())
      return in.fail("virtio: queue ring features differ from the negotiated ones");
    qs.push_back(q);
  }
  if (dev_ && !dev_->restore_state(in)) return false;
  status_ = status;
  isr_ = isr;
  device_features_sel_ = dfsel;
  driver_features_sel_ = drfsel;
  driver_features_ = features;
  queue_sel_ = qsel;  // validated on use, as a written QueueSel is
  config_generation_ = gen;
  queues_ = std::move(qs);
  irq_level_ = false;
  if (irq_) irq_->set_irq(line_, false);
  update_irq();
  return true;
}

// ---------------------------------------------------------------------------
// virtio-input: select/subsel (the config space is rebuilt from them) and the
// events still waiting for buffers (at most kMaxPending, as at run time).

void VirtioInput::save_state(SnapOut& o) const {
  o.u8(select_);
  o.u8(subsel_);
  o.u32(static_cast<uint32_t>(pending_.size()));
  for (const auto& e : pending_) {
    o.u16(e.type);
    o.u16(e.code);
    o.u32(e.value);
  }
}

bool VirtioInput::restore_state(SnapIn& in) {
  const uint8_t sel = in.u8(), sub = in.u8();
  const uint32_t n = in.u32();
  if (!in.ok()) return false;
  if (n > kMaxPending) return in.fail("virtio-input: more pending events than the cap");
  std::deque<InputEvent> ev;
  for (uint32_t i = 0; i < n; i++) {
    InputEvent e;
    e.type = in.u16();
    e.code = in.u16();
    e.value = in.u32();
    ev.push_back(e);
  }
  if (!in.ok()) return false;
  select_ = sel;
  subsel_ = sub;
  build_config();
  pending_ = std::move(ev);
  return true;
}

}  // namespace vmsup
