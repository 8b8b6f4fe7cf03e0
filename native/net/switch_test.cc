// The in-process L2 learning switch: learning, flooding, locked lladdr,
// per-port budgets, wake-ups, and a two-thread run through the SPSC rings.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "net/switch.h"
#include "testing.h"

using namespace vmsup;

namespace {

const uint8_t kA[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0xa};
const uint8_t kB[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0xb};
const uint8_t kC[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0xc};
const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::vector<uint8_t> frame(const uint8_t dst[6], const uint8_t src[6], uint8_t tag, size_t len = 64) {
  std::vector<uint8_t> f(len, tag);
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

size_t drain(SwitchPort& p, std::vector<uint8_t>* last_tags = nullptr) {
  size_t n = 0, len;
  while (const uint8_t* f = p.peek_received(&len)) {
    if (last_tags) last_tags->push_back(f[20]);
    p.pop_received();
    n++;
  }
  return n;
}

}  // namespace

TEST(unknown_destinations_flood_then_the_switch_learns) {
  Switch sw("s0");
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, nullptr), c = sw.add_port(kC, nullptr);
  auto f = frame(kB, kA, 1);
  CHECK(a->send(f.data(), f.size()));
  CHECK_EQ(sw.forward(), 1u);
  CHECK_EQ(drain(*b), 1u);  // B unknown yet: flooded to B and C
  CHECK_EQ(drain(*c), 1u);
  CHECK_EQ(drain(*a), 0u);  // never back to the sender
  // B answers A: A is known now, only A gets it.
  auto g = frame(kA, kB, 2);
  b->send(g.data(), g.size());
  sw.forward();
  CHECK_EQ(drain(*a), 1u);
  CHECK_EQ(drain(*c), 0u);
  // And B is known too.
  a->send(f.data(), f.size());
  sw.forward();
  CHECK_EQ(drain(*b), 1u);
  CHECK_EQ(drain(*c), 0u);
  CHECK_EQ(a->counters().rx_frames.load(), 2u);
  CHECK_EQ(b->counters().tx_frames.load(), 2u);
}

TEST(broadcast_goes_to_every_other_port) {
  Switch sw("s0");
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, nullptr), c = sw.add_port(kC, nullptr);
  auto f = frame(kBcast, kA, 3);
  a->send(f.data(), f.size());
  sw.forward();
  CHECK_EQ(drain(*b), 1u);
  CHECK_EQ(drain(*c), 1u);
  CHECK_EQ(drain(*a), 0u);
}

TEST(locked_lladdr_drops_spoofed_source_macs) {
  Switch sw("s0", true);
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, nullptr);
  auto spoof = frame(kB, kC, 4);  // A pretends to be C
  a->send(spoof.data(), spoof.size());
  auto honest = frame(kB, kA, 5);
  a->send(honest.data(), honest.size());
  sw.forward();
  std::vector<uint8_t> tags;
  CHECK_EQ(drain(*b, &tags), 1u);
  CHECK_EQ(tags[0], 5);
  CHECK_EQ(a->counters().locked_dropped.load(), 1u);
  // Without the lock the same frame passes.
  Switch open("s1");
  auto x = open.add_port(kA, nullptr), y = open.add_port(kB, nullptr);
  x->send(spoof.data(), spoof.size());
  open.forward();
  CHECK_EQ(drain(*y), 1u);
}

TEST(a_flooding_port_cannot_starve_another) {
  Switch sw("s0");
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, nullptr), c = sw.add_port(kC, nullptr);
  // Teach the switch where C is.
  auto hello = frame(kBcast, kC, 0);
  c->send(hello.data(), hello.size());
  sw.forward();
  drain(*a);
  drain(*b);
  // A fills its ingress ring towards C; B sends a few frames to C too.
  auto fa = frame(kC, kA, 1), fb = frame(kC, kB, 2);
  size_t sent_a = 0;
  while (a->send(fa.data(), fa.size())) sent_a++;
  CHECK_EQ(sent_a, SwitchPort::kRingSlots);
  CHECK(a->counters().rx_dropped.load() >= 1u);  // the full ring refused, counted
  for (int i = 0; i < 4; i++) b->send(fb.data(), fb.size());
  // One round: A gets its budget, B gets all of its 4 frames through.
  sw.forward();
  std::vector<uint8_t> tags;
  drain(*c, &tags);
  size_t from_b = 0, from_a = 0;
  for (uint8_t t : tags) (t == 2 ? from_b : from_a)++;
  CHECK_EQ(from_b, 4u);
  CHECK(from_a <= Switch::kPortBudget);
  CHECK(sw.has_work());  // A still has frames waiting
}

TEST(a_full_egress_ring_drops_and_counts_instead_of_blocking) {
  Switch sw("s0");
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, nullptr);
  auto f = frame(kBcast, kA, 1);
  for (int round = 0; round < 20; round++) {
    while (a->send(f.data(), f.size())) {}
    while (sw.has_work()) sw.forward();
  }
  CHECK(b->counters().tx_dropped.load() > 0u);
  CHECK_EQ(drain(*b), SwitchPort::kRingSlots);
}

TEST(a_sleeping_vm_is_woken_once_when_frames_arrive) {
  Switch sw("s0");
  int wakes_b = 0;
  auto a = sw.add_port(kA, nullptr), b = sw.add_port(kB, [&] { wakes_b++; });
  auto f = frame(kB, kA, 1);
  a->send(f.data(), f.size());
  sw.forward();
  CHECK_EQ(wakes_b, 0);  // B was running: it looks at its ring by itself
  drain(*b);
  b->set_sleeping(true);
  for (int i = 0; i < 5; i++) a->send(f.data(), f.size());
  sw.forward();
  CHECK_EQ(wakes_b, 1);  // one wake for the batch, not one per frame
  CHECK_EQ(drain(*b), 5u);
}

TEST(frames_cross_between_threads_through_the_rings) {
  Switch sw("s0");
  std::atomic<bool> kicked{false};
  auto a = sw.add_port(kA, nullptr, [&] { kicked = true; });
  auto b = sw.add_port(kB, nullptr);
  constexpr int kFrames = 20000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (int i = 0; i < kFrames; i++) {
      auto f = frame(kB, kA, static_cast<uint8_t>(i));
      f[30] = static_cast<uint8_t>(i >> 8);
      while (!a->send(f.data(), f.size())) std::this_thread::yield();
    }
  });
  std::thread fwd([&] {
    while (!done) {
      if (sw.forward() == 0) std::this_thread::yield();
    }
  });
  // The VM side: takes frames until every frame is accounted for (received,
  // or dropped by the switch at a full egress ring, counted), bounded in time.
  int got = 0, last = -1;
  bool in_order = true;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    size_t len;
    const uint8_t* f = b->peek_received(&len);
    if (!f) {
      if (got + static_cast<int>(b->counters().tx_dropped.load()) >= kFrames) break;
      std::this_thread::yield();
      continue;
    }
    const int seq = f[20] | (f[30] << 8);
    if (seq <= last) in_order = false;
    last = seq;
    b->pop_received();
    got++;
  }
  producer.join();
  done = true;
  fwd.join();
  CHECK_EQ(got + b->counters().tx_dropped.load(), static_cast<uint64_t>(kFrames));
  CHECK_EQ(a->counters().rx_frames.load(), static_cast<uint64_t>(kFrames));
  CHECK(got > 0);
  CHECK(in_order);  // what arrives, arrives in order
  CHECK(kicked.load());
}

TEST(senders_forward_themselves_and_strand_no_frame) {
  // No forwarding thread: each sender's kick() forwards (as VMs do). Two
  // senders race for the switch; every frame is delivered or counted.
  Switch sw("s0");
  Switch* swp = &sw;
  auto a = sw.add_port(kA, nullptr, [swp] { swp->kick(); });
  auto b = sw.add_port(kB, nullptr, [swp] { swp->kick(); });
  auto c = sw.add_port(kC, nullptr);
  auto learn = frame(kBcast, kC, 0);
  c->send(learn.data(), learn.size());
  sw.forward();
  constexpr int kEach = 5000;
  std::atomic<int> got{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    size_t len;
    while (!stop) {
      if (c->peek_received(&len)) {
        c->pop_received();
        got++;
      } else {
        std::this_thread::yield();
      }
    }
  });
  auto run = [&](std::shared_ptr<SwitchPort> p, const uint8_t* src) {
    auto f = frame(kC, src, 1);
    for (int i = 0; i < kEach; i++) p->send(f.data(), f.size());
  };
  std::thread ta(run, a, kA), tb(run, b, kB);
  ta.join();
  tb.join();
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
    const uint64_t accounted = got + c->counters().tx_dropped.load() + a->counters().rx_dropped.load() +
                               b->counters().rx_dropped.load();
    if (accounted >= 2u * kEach) break;
    std::this_thread::yield();
  }
  stop = true;
  reader.join();
  CHECK(!sw.has_work());
  CHECK_EQ(got + c->counters().tx_dropped.load() + a->counters().rx_dropped.load() + b->counters().rx_dropped.load(),
           2u * kEach);
  CHECK(got > 0);
}

TEST_MAIN()
