#include "devices/goldfish_rtc.h"

#include <time.h>

namespace vmsup {

namespace {
// Register offsets (rtc-goldfish.c).
constexpr uint64_t kTimeLow = 0x00, kTimeHigh = 0x04, kAlarmLow = 0x08, kAlarmHigh = 0x0c,
                   kIrqEnabled = 0x10, kClearAlarm = 0x14, kAlarmStatus = 0x18,
                   kClearInterrupt = 0x1c;

uint64_t host_realtime_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

GoldfishRtc::GoldfishRtc(IrqSink* irq, uint32_t line, std::function<uint64_t()> now_ns)
    : irq_(irq), line_(line), now_(now_ns ? std::move(now_ns) : host_realtime_ns) {}

uint64_t GoldfishRtc::guest_now() const { return now_() + static_cast<uint64_t>(offset_); }

void GoldfishRtc::update_irq() {
  if (irq_) irq_->set_irq(line_, irq_pending_ && irq_enabled_);
}

void GoldfishRtc::poll() {
  if (alarm_armed_ && guest_now() >= alarm_) {
    alarm_armed_ = false;
    irq_pending_ = true;
    update_irq();
  }
}

uint64_t GoldfishRtc::ns_until_alarm() const {
  if (!alarm_armed_) return UINT64_MAX;
  uint64_t now = guest_now();
  return alarm_ > now ? alarm_ - now : 0;
}

bool GoldfishRtc::read(uint64_t off, unsigned size, uint64_t* val) {
  if (size != 4) return false;
  uint64_t v = 0;
  switch (off) {
    case kTimeLow: {
      uint64_t t = guest_now();
      time_high_latch_ = static_cast<uint32_t>(t >> 32);  // reading LOW latches HIGH
      v = static_cast<uint32_t>(t);
      break;
    }
    case kTimeHigh: v = time_high_latch_; break;
    case kAlarmLow: v = static_cast<uint32_t>(alarm_); break;
    case kAlarmHigh: v = static_cast<uint32_t>(alarm_ >> 32); break;
    case kIrqEnabled: v = irq_enabled_; break;
    case kAlarmStatus: v = alarm_armed_; break;
    default: break;
  }
  *val = v;
  return true;
}

bool GoldfishRtc::write(uint64_t off, unsigned size, uint64_t val) {
  if (size != 4) return false;
  uint32_t v = static_cast<uint32_t>(val);
  switch (off) {
    case kTimeLow: {
      // The driver writes TIME_HIGH first, then TIME_LOW, which commits.
      uint64_t t = (static_cast<uint64_t>(set_high_) << 32) | v;
      offset_ = static_cast<int64_t>(t - now_());
      break;
    }
    case kTimeHigh: set_high_ = v; break;
    case kAlarmLow:
      // ALARM_LOW arms the alarm with the high half written before it.
      alarm_ = (alarm_ & 0xffffffff00000000ULL) | v;
      alarm_armed_ = true;
      poll();
      break;
    case kAlarmHigh: alarm_ = (alarm_ & 0xffffffffULL) | (static_cast<uint64_t>(v) << 32); break;
    case kIrqEnabled:
      irq_enabled_ = v & 1;
      update_irq();
      break;
    case kClearAlarm: alarm_armed_ = false; break;
    case kClearInterrupt:
      irq_pending_ = false;
      update_irq();
      break;
    default: break;
  }
  return true;
}

}  // namespace vmsup
