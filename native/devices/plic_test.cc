// PLIC: priorities, pending, enables, thresholds, claim/complete, per context.
#include <vector>

#include "devices/plic.h"
#include "testing.h"

using namespace vmsup;

namespace {
struct Outputs {
  std::vector<bool> level = std::vector<bool>(16, false);
  int changes = 0;
};
uint32_t rd(Plic& p, uint64_t off) {
  uint64_t v = 0;
  p.read(off, 4, &v);
  return static_cast<uint32_t>(v);
}
void wr(Plic& p, uint64_t off, uint32_t v) { p.write(off, 4, v); }
constexpr uint64_t prio(uint32_t s) { return 4ULL * s; }
constexpr uint64_t enable(unsigned ctx) { return 0x2000 + 0x80ULL * ctx; }
constexpr uint64_t threshold(unsigned ctx) { return 0x200000 + 0x1000ULL * ctx; }
constexpr uint64_t claim(unsigned ctx) { return 0x200004 + 0x1000ULL * ctx; }
}  // namespace

TEST(line_with_priority_zero_never_interrupts) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, enable(1), 1u << 10);
  p.set_irq(10, true);
  CHECK(!o.level[1]);
  CHECK_EQ(rd(p, 0x1000) & (1u << 10), 1u << 10);  // pending all the same
  CHECK_EQ(rd(p, claim(1)), 0u);
}

TEST(enabled_line_above_threshold_interrupts_its_context_only) {
  Outputs o;
  Plic p(2, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(10), 3);
  wr(p, enable(3), 1u << 10);  // hart 1, S-mode
  p.set_irq(10, true);
  CHECK(o.level[3]);
  CHECK(!o.level[0] && !o.level[1] && !o.level[2]);
  wr(p, threshold(3), 3);  // priority must be strictly greater
  CHECK(!o.level[3]);
  wr(p, threshold(3), 2);
  CHECK(o.level[3]);
}

TEST(claim_returns_highest_priority_then_lowest_id) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(1), 2);
  wr(p, prio(5), 6);
  wr(p, prio(7), 6);
  wr(p, enable(1), (1u << 1) | (1u << 5) | (1u << 7));
  p.set_irq(1, true);
  p.set_irq(7, true);
  p.set_irq(5, true);
  CHECK_EQ(rd(p, claim(1)), 5u);
  CHECK_EQ(rd(p, claim(1)), 7u);
  CHECK_EQ(rd(p, claim(1)), 1u);
  CHECK_EQ(rd(p, claim(1)), 0u);
  CHECK(!o.level[1]);
}

TEST(level_line_still_high_is_pending_again_after_complete) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(10), 1);
  wr(p, enable(1), 1u << 10);
  p.set_irq(10, true);
  CHECK_EQ(rd(p, claim(1)), 10u);
  CHECK(!o.level[1]);  // claimed: not pending while in service
  wr(p, claim(1), 10);  // complete
  CHECK(o.level[1]);
  CHECK_EQ(rd(p, claim(1)), 10u);
  p.set_irq(10, false);
  wr(p, claim(1), 10);
  CHECK(!o.level[1]);
  CHECK_EQ(rd(p, claim(1)), 0u);
}

TEST(complete_of_a_source_not_enabled_is_ignored) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(4), 1);
  wr(p, enable(1), 1u << 4);
  p.set_irq(4, true);
  CHECK_EQ(rd(p, claim(1)), 4u);
  wr(p, enable(1), 0);
  wr(p, claim(1), 4);  // ignored: not enabled for this context
  wr(p, enable(1), 1u << 4);
  CHECK(!o.level[1]);  // still in service
  wr(p, claim(1), 4);
  CHECK(o.level[1]);
}

TEST(line_dropping_before_claim_withdraws_the_request) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(2), 1);
  wr(p, enable(0), 1u << 2);
  p.set_irq(2, true);
  CHECK(o.level[0]);
  p.set_irq(2, false);
  CHECK(!o.level[0]);
}

TEST(registers_are_warl_and_out_of_range_is_harmless) {
  Outputs o;
  Plic p(1, [&](unsigned c, bool l) { o.level[c] = l; });
  wr(p, prio(3), 0xffffffff);
  CHECK_EQ(rd(p, prio(3)), kPlicMaxPriority);
  wr(p, prio(0), 5);
  CHECK_EQ(rd(p, prio(0)), 0u);  // source 0 does not exist
  wr(p, enable(0), 0xffffffff);
  CHECK_EQ(rd(p, enable(0)) & 1u, 0u);
  wr(p, enable(5), 0xffffffff);  // context 5 does not exist with one hart
  CHECK_EQ(rd(p, enable(5)), 0u);
  CHECK_EQ(rd(p, claim(9)), 0u);
  p.set_irq(0, true);
  p.set_irq(5000, true);
  uint64_t v;
  CHECK(!p.read(0x2, 1, &v));  // not a 32-bit access
  CHECK(!o.level[0] && !o.level[1]);
}

TEST_MAIN()
