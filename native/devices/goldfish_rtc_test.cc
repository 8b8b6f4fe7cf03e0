// Goldfish RTC: latched 64-bit time, setting the clock, the alarm interrupt.
#include "devices/goldfish_rtc.h"
#include "testing.h"

using namespace vmsup;

namespace {
struct Irq : IrqSink {
  bool level = false;
  void set_irq(uint32_t, bool l) override { level = l; }
};
uint32_t rd(GoldfishRtc& r, uint64_t off) {
  uint64_t v = 0;
  r.read(off, 4, &v);
  return static_cast<uint32_t>(v);
}
void wr(GoldfishRtc& r, uint64_t off, uint32_t v) { r.write(off, 4, v); }
}  // namespace

TEST(time_low_latches_time_high) {
  uint64_t host = 0x0000000500000010ULL;
  GoldfishRtc r(nullptr, 11, [&]() { return host; });
  CHECK_EQ(rd(r, 0x00), 0x10u);
  host = 0x0000000600000000ULL;  // HIGH changes after LOW was read
  CHECK_EQ(rd(r, 0x04), 5u);     // but the latched half is returned
}

TEST(writing_the_time_sets_an_offset_from_the_host_clock) {
  uint64_t host = 1000;
  GoldfishRtc r(nullptr, 11, [&]() { return host; });
  wr(r, 0x04, 0x1);         // TIME_HIGH
  wr(r, 0x00, 0x20);        // TIME_LOW commits
  host += 50;
  CHECK_EQ(rd(r, 0x00), 0x20u + 50);
  CHECK_EQ(rd(r, 0x04), 1u);
}

TEST(alarm_raises_the_line_when_enabled_and_due) {
  uint64_t host = 1000;
  Irq irq;
  GoldfishRtc r(&irq, 11, [&]() { return host; });
  wr(r, 0x10, 1);     // IRQ_ENABLED
  wr(r, 0x0c, 0);     // ALARM_HIGH
  wr(r, 0x08, 1500);  // ALARM_LOW arms
  CHECK_EQ(rd(r, 0x18), 1u);
  CHECK_EQ(r.ns_until_alarm(), 500u);
  r.poll();
  CHECK(!irq.level);
  host = 1500;
  r.poll();
  CHECK(irq.level);
  CHECK_EQ(rd(r, 0x18), 0u);
  CHECK_EQ(r.ns_until_alarm(), UINT64_MAX);
  wr(r, 0x1c, 1);  // CLEAR_INTERRUPT
  CHECK(!irq.level);
}

TEST(cleared_alarm_does_not_fire) {
  uint64_t host = 0;
  Irq irq;
  GoldfishRtc r(&irq, 11, [&]() { return host; });
  wr(r, 0x10, 1);
  wr(r, 0x08, 100);
  wr(r, 0x14, 1);  // CLEAR_ALARM
  host = 200;
  r.poll();
  CHECK(!irq.level);
  uint64_t v;
  CHECK(!r.read(0, 1, &v));  // 32-bit registers only
}

TEST_MAIN()
