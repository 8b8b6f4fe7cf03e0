// A switch's uplink (net/switch_registry.h) without root: a SOCK_SEQPACKET
// socketpair stands in for the tap (one read, one frame, as with IFF_TAP |
// IFF_NO_PI), the test holding the host's end. Frames cross both ways through
// the uplink's thread, `locked lladdr` does not apply to the uplink (it carries
// the host's MACs) but still to a VM, delete closes the descriptor, and a host
// flooding the uplink does not keep a VM's frames from being forwarded.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "net/switch_registry.h"
#include "testing.h"

using namespace vmsup;

namespace {

const uint8_t kA[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0xa};
const uint8_t kB[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0xb};
const uint8_t kHost[6] = {0x02, 0, 0, 0, 0, 0x11};
const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::vector<uint8_t> frame(const uint8_t dst[6], const uint8_t src[6], uint8_t tag, size_t len = 64) {
  std::vector<uint8_t> f(len, tag);
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

std::shared_ptr<Switch> find(const std::string& name) {
  for (auto& s : switch_list())
    if (s->name() == name) return s;
  return nullptr;
}

// The uplink's end non-blocking (as open_tap's is); the test keeps the other.
void pair(int fds[2]) {
  CHECK(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
  CHECK(::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
}

// Waits (bounded) for a frame on `p`'s egress ring; returns its tag or -1.
int wait_frame(SwitchPort& p) {
  for (int i = 0; i < 500; i++) {
    size_t len;
    if (const uint8_t* f = p.peek_received(&len)) {
      const int tag = f[20];
      p.pop_received();
      return tag;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace

TEST(frames_cross_the_uplink_both_ways_and_locked_lladdr_spares_it) {
  std::string err;
  CHECK(switch_create("u1", /*locked=*/true, &err));
  int fds[2];
  pair(fds);
  CHECK(switch_attach_uplink("u1", fds[0], "test0", &err));
  CHECK(!switch_attach_uplink("u1", ::dup(fds[1]), "test1", &err));  // one uplink per switch
  auto sw = find("u1");
  CHECK(sw != nullptr);
  Switch* s = sw.get();
  auto a = sw->add_port(kA, nullptr, [s]() { s->kick(); });
  CHECK_EQ(sw->ports(), 1u);  // the uplink's port is not a VM's

  // Host -> VM: a source MAC that is not the uplink port's own, on a locked switch.
  auto h = frame(kA, kHost, 7);
  CHECK(::send(fds[1], h.data(), h.size(), 0) == static_cast<ssize_t>(h.size()));
  CHECK_EQ(wait_frame(*a), 7);
  // VM -> host: the switch learned where kHost is.
  auto v = frame(kHost, kA, 8);
  CHECK(a->send(v.data(), v.size()));
  struct pollfd pf = {fds[1], POLLIN, 0};
  CHECK(::poll(&pf, 1, 5000) == 1);
  uint8_t buf[2048];
  CHECK_EQ(::recv(fds[1], buf, sizeof(buf), 0), static_cast<ssize_t>(v.size()));
  CHECK_EQ(buf[20], 8);
  // A VM sending from another MAC is still dropped, and counted.
  auto spoof = frame(kHost, kB, 9);
  CHECK(a->send(spoof.data(), spoof.size()));
  for (int i = 0; i < 500 && a->counters().locked_dropped.load() == 0; i++) {
    s->kick();  // the uplink's thread may hold the forwarding lock: it forwards then, or we do
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(a->counters().locked_dropped.load() == 1u);
  UplinkInfo u;
  // The thread counts a frame after its write returns: the reader may be first.
  for (int i = 0; i < 500 && switch_uplink_info("u1", &u) && u.tx_frames == 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(switch_uplink_info("u1", &u));
  CHECK(u.tap == "test0");
  CHECK(u.rx_frames == 1u && u.tx_frames == 1u);

  // Delete: refused while the VM's port is there; then the uplink's descriptor is closed.
  CHECK(!switch_delete("u1", &err));
  sw->remove_port(a->id());
  a.reset();
  sw.reset();
  CHECK(switch_delete("u1", &err));
  CHECK(::send(fds[1], h.data(), h.size(), MSG_NOSIGNAL) < 0);  // the peer is gone
  CHECK(!switch_uplink_info("u1", &u));
  ::close(fds[1]);
}

TEST(a_flooding_host_does_not_keep_a_vm_from_forwarding) {
  std::string err;
  CHECK(switch_create("u2", false, &err));
  int fds[2];
  pair(fds);
  CHECK(::fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
  CHECK(switch_attach_uplink("u2", fds[0], "test2", &err));
  auto sw = find("u2");
  Switch* s = sw.get();
  auto a = sw->add_port(kA, nullptr, [s]() { s->kick(); });
  auto b = sw->add_port(kB, nullptr, [s]() { s->kick(); });
  // The host floods broadcasts as fast as the socket takes them.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flooded{0};
  std::thread host([&]() {
    auto f = frame(kBcast, kHost, 1);
    while (!stop.load()) {
      if (::send(fds[1], f.data(), f.size(), MSG_NOSIGNAL) > 0) flooded++;
      else std::this_thread::yield();
    }
  });
  for (int i = 0; i < 1000 && flooded.load() < 1000; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(flooded.load() >= 1000u);  // the flood is on
  // Meanwhile A sends 200 frames to B (a full ingress ring: A retries, as the guest's queue would).
  auto fa = frame(kB, kA, 2);
  size_t sent = 0, from_a = 0;
  for (int spins = 0; sent < 200 && spins < 2'000'000; spins++) {
    if (a->send(fa.data(), fa.size())) sent++;
    else std::this_thread::yield();
    size_t len;
    while (const uint8_t* f = b->peek_received(&len)) {
      if (f[20] == 2) from_a++;
      b->pop_received();
    }
    while (a->peek_received(&len)) a->pop_received();
  }
  for (int i = 0; i < 200 && a->counters().rx_frames.load() < sent; i++) {
    s->kick();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  host.join();
  size_t len;
  while (const uint8_t* f = b->peek_received(&len)) {
    if (f[20] == 2) from_a++;
    b->pop_received();
  }
  CHECK_EQ(sent, 200u);
  // Every frame A sent was taken and forwarded, flood or not, and reached B.
  CHECK_EQ(a->counters().rx_frames.load(), 200u);
  CHECK(from_a > 0u);
  UplinkInfo u;
  CHECK(switch_uplink_info("u2", &u));
  CHECK(u.rx_frames > 200u);  // the uplink took more of the flood than A sent, in the same time
  std::fprintf(stderr, "  flood: %llu host frames, %zu of A's 200 reached B (B's egress drops: %llu)\n",
               static_cast<unsigned long long>(flooded.load()), from_a,
               static_cast<unsigned long long>(b->counters().tx_dropped.load()));
  sw->remove_port(a->id());
  sw->remove_port(b->id());
  a.reset();
  b.reset();
  sw.reset();
  CHECK(switch_delete("u2", &err));
  ::close(fds[1]);
}

TEST_MAIN()
