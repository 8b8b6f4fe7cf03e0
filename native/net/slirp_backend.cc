#include "net/slirp_backend.h"

#include <arpa/inet.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "machine/machine.h"

namespace vmsup {

namespace {

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

in_addr in4(uint32_t host_order) {
  in_addr a;
  a.s_addr = htonl(host_order);
  return a;
}

std::string dotted(uint32_t a) {
  char b[32];
  std::snprintf(b, sizeof(b), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return b;
}

class SlirpBackend : public NetBackend, public PollSource {
 public:
  SlirpBackend(unsigned cap) : cap_(cap) {}
  ~SlirpBackend() override {
    if (slirp_) slirp_cleanup(slirp_);
  }

  bool init(const NicConfig& cfg, std::string* err) {
    SlirpConfig c;
    std::memset(&c, 0, sizeof(c));
    c.version = 4;
    c.restricted = 0;
    c.in_enabled = true;
    c.vnetwork = in4(kSlirpNetwork);
    c.vnetmask = in4(0xffffff00);
    c.vhost = in4(kSlirpHost);
    c.in6_enabled = false;
    c.vhostname = "vmsup";
    c.vdhcp_start = in4(kSlirpGuest);
    c.vnameserver = in4(kSlirpDns);
    c.if_mtu = 1500;
    c.if_mru = 1500;
    c.disable_host_loopback = false;  // the gateway reaches the host
    c.enable_emu = false;             // slirp's own words: not safe
    static const SlirpCb cb = {
        &SlirpBackend::send_packet, &SlirpBackend::guest_error, &SlirpBackend::clock_ns,
        nullptr, &SlirpBackend::timer_free, &SlirpBackend::timer_mod,
        &SlirpBackend::register_fd, &SlirpBackend::unregister_fd, &SlirpBackend::notify,
        nullptr, &SlirpBackend::timer_new_opaque,
    };
    slirp_ = slirp_new(&c, &cb, this);
    if (!slirp_) {
      *err = "cannot start user-mode networking (libslirp)";
      return false;
    }
    for (const HostForward& f : cfg.forwards) {
      errno = 0;
      if (slirp_add_hostfwd(slirp_, 0, in4(f.host_addr), f.host_port, in4(kSlirpGuest), f.guest_port) < 0) {
        const int e = errno;
        *err = "cannot forward tcp:" + dotted(f.host_addr) + ":" + std::to_string(f.host_port) + ":" +
               std::to_string(f.guest_port) + ": " +
               (e == EADDRINUSE ? std::string("port already in use")
                : e != 0       ? std::string(strerror(e))
                               : std::string("cannot listen on that address"));
        return false;
      }
    }
    return true;
  }

  const char* kind() const override { return "nat"; }

  void send(const uint8_t* f, size_t len) override {
    if (over_cap(f, len)) {
      dropped_++;
      return;
    }
    slirp_input(slirp_, f, static_cast<int>(len));
  }

  // PollSource.
  void fill(std::vector<struct pollfd>* fds, uint64_t* timeout_ns) override {
    fds_ = fds;
    base_ = fds->size();
    uint32_t ms = UINT32_MAX;
    slirp_pollfds_fill(slirp_, &ms, &SlirpBackend::add_poll, this);
    sockets_ = static_cast<unsigned>(fds->size() - base_);
    if (ms != UINT32_MAX) *timeout_ns = std::min<uint64_t>(*timeout_ns, uint64_t{ms} * 1'000'000ULL);
    const int64_t now = now_ns() / 1'000'000;
    for (const auto& t : timers_) {
      if (t->expire_ms < 0) continue;
      const uint64_t d = t->expire_ms > now ? static_cast<uint64_t>(t->expire_ms - now) * 1'000'000ULL : 0;
      *timeout_ns = std::min(*timeout_ns, d);
    }
    fds_ = nullptr;
  }

  void dispatch(const struct pollfd* fds, size_t n) override {
    polled_ = fds;
    polled_n_ = n;
    slirp_pollfds_poll(slirp_, 0, &SlirpBackend::get_revents, this);
    polled_ = nullptr;
    const int64_t now = now_ns() / 1'000'000;
    for (size_t i = 0; i < timers_.size(); i++) {
      Timer* t = timers_[i].get();
      if (t->expire_ms >= 0 && t->expire_ms <= now) {
        t->expire_ms = -1;
        slirp_handle_timer(slirp_, t->id, t->cb_opaque);
      }
    }
  }

 private:
  struct Timer {
    SlirpTimerId id;
    void* cb_opaque;
    int64_t expire_ms = -1;
  };

  // The per-VM connection cap: once slirp holds `cap_` sockets, new TCP
  // connections (a SYN without ACK) and UDP other than DHCP are dropped.
  bool over_cap(const uint8_t* f, size_t len) const {
    if (sockets_ < cap_ || len < 14 + 20) return false;
    if (f[12] != 0x08 || f[13] != 0x00) return false;  // IPv4 only (IPv6 is off)
    const uint8_t* ip = f + 14;
    const size_t ihl = (ip[0] & 15) * 4u;
    if (ihl < 20 || len < 14 + ihl + 14) return false;
    const uint8_t* l4 = ip + ihl;
    if (ip[9] == 6) return (l4[13] & 0x12) == 0x02;  // SYN, not SYN+ACK
    if (ip[9] == 17) return !(l4[2] == 0 && l4[3] == 67);
    return false;
  }

  static int add_poll(int fd, int events, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    self->fds_->push_back({fd, ev, 0});
    return static_cast<int>(self->fds_->size() - 1 - self->base_);
  }
  static int get_revents(int idx, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    if (idx < 0 || static_cast<size_t>(idx) >= self->polled_n_) return 0;
    const short r = self->polled_[idx].revents;
    int out = 0;
    if (r & POLLIN) out |= SLIRP_POLL_IN;
    if (r & POLLOUT) out |= SLIRP_POLL_OUT;
    if (r & POLLPRI) out |= SLIRP_POLL_PRI;
    if (r & POLLERR) out |= SLIRP_POLL_ERR;
    if (r & POLLHUP) out |= SLIRP_POLL_HUP;
    return out;
  }
  static ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    static_cast<SlirpBackend*>(opaque)->to_guest(static_cast<const uint8_t*>(buf), len);
    return static_cast<ssize_t>(len);
  }
  static void guest_error(const char* msg, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    if (self->errors_logged_ < 5) {
      self->errors_logged_++;
      std::fprintf(stderr, "vmsup: nat: guest error: %s\n", msg);
    }
  }
  static int64_t clock_ns(void*) { return now_ns(); }
  static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    self->timers_.push_back(std::make_unique<Timer>(Timer{id, cb_opaque, -1}));
    return self->timers_.back().get();
  }
  static void timer_free(void* timer, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    auto& v = self->timers_;
    v.erase(std::remove_if(v.begin(), v.end(), [timer](const auto& t) { return t.get() == timer; }), v.end());
  }
  static void timer_mod(void* timer, int64_t expire_ms, void*) { static_cast<Timer*>(timer)->expire_ms = expire_ms; }
  static void register_fd(int, void*) {}
  static void unregister_fd(int, void*) {}
  static void notify(void*) {}

  Slirp* slirp_ = nullptr;
  unsigned cap_;
  unsigned sockets_ = 0;
  std::vector<struct pollfd>* fds_ = nullptr;
  size_t base_ = 0;
  const struct pollfd* polled_ = nullptr;
  size_t polled_n_ = 0;
  std::vector<std::unique_ptr<Timer>> timers_;
  int errors_logged_ = 0;
};

}  // namespace

std::unique_ptr<NetBackend> make_slirp_backend(const NicConfig& cfg, BoardHost& host, std::string* err) {
  auto b = std::make_unique<SlirpBackend>(cfg.max_connections);
  if (!b->init(cfg, err)) return nullptr;
  host.add_poll_source(b.get());
  return b;
}

}  // namespace vmsup
