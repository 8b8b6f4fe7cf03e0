#include "net/switch_registry.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include "machine/machine.h"
#include "net/backend.h"

namespace vmsup {

namespace {

class Uplink {
 public:
  static constexpr int kFramesPerWake = 64;

  Uplink(std::shared_ptr<Switch> sw, int fd, std::string tap) : sw_(std::move(sw)), fd_(fd), tap_(std::move(tap)) {}
  ~Uplink() {
    if (thread_.joinable()) {
      stop_.store(true);
      wake();
      thread_.join();
    }
    if (port_) sw_->remove_port(port_->id());
    if (efd_ >= 0) ::close(efd_);
    if (fd_ >= 0) ::close(fd_);
  }

  bool start(std::string* err) {
    efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd_ < 0) {
      *err = "eventfd failed";
      return false;
    }
    static const uint8_t kNoMac[6] = {0, 0, 0, 0, 0, 0};
    Switch* sw = sw_.get();
    port_ = sw_->add_port(kNoMac, [this]() { wake(); }, [sw]() { sw->kick(); }, /*uplink=*/true);
    thread_ = std::thread([this]() { loop(); });
    return true;
  }

  UplinkInfo info() const {
    UplinkInfo i;
    i.tap = tap_;
    i.rx_frames = rx_.load(std::memory_order_relaxed);
    i.tx_frames = tx_.load(std::memory_order_relaxed);
    i.drops = drops_.load(std::memory_order_relaxed) + port_->counters().tx_dropped.load(std::memory_order_relaxed) +
              port_->counters().rx_dropped.load(std::memory_order_relaxed);
    return i;
  }

 private:
  void wake() {
    const uint64_t one = 1;
    ssize_t n = ::write(efd_, &one, sizeof(one));
    (void)n;
  }

  void loop() {
    pthread_setname_np(pthread_self(), "vmsup-uplink");
    std::vector<uint8_t> buf(65536);
    while (!stop_.load()) {
      // Sleep until the host sends or the switch has frames for the host
      // (the switch rings efd_ only while we said we sleep).
      port_->set_sleeping(true);
      size_t len;
      const bool pending = port_->peek_received(&len) != nullptr;
      struct pollfd fds[2] = {{fd_, POLLIN, 0}, {efd_, POLLIN, 0}};
      const int r = ::poll(fds, 2, pending ? 0 : -1);
      port_->set_sleeping(false);
      if (r < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) {
        uint64_t v;
        ssize_t n = ::read(efd_, &v, sizeof(v));
        (void)n;
      }
      // Switch -> host.
      for (int i = 0; i < kFramesPerWake; i++) {
        const uint8_t* f = port_->peek_received(&len);
        if (!f) break;
        if (::write(fd_, f, len) == static_cast<ssize_t>(len)) tx_.fetch_add(1, std::memory_order_relaxed);
        else drops_.fetch_add(1, std::memory_order_relaxed);
        port_->pop_received();
      }
      // Host -> switch: a budget per wake-up; the ring's refusals are counted by the port.
      if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) break;  // the tap went away
      bool gone = false;
      for (int i = 0; i < kFramesPerWake; i++) {
        const ssize_t n = ::read(fd_, buf.data(), buf.size());
        if (n < 0 && errno != EAGAIN && errno != EINTR) gone = true;  // e.g. EBADFD: the tap was deleted
        if (n <= 0) break;
        rx_.fetch_add(1, std::memory_order_relaxed);
        port_->send(buf.data(), static_cast<size_t>(n));
      }
      if (gone) break;  // the port stays (counted as the uplink) until the switch goes
    }
  }

  std::shared_ptr<Switch> sw_;
  int fd_;
  std::string tap_;
  int efd_ = -1;
  std::shared_ptr<SwitchPort> port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rx_{0}, tx_{0}, drops_{0};
};

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Switch>> switches;
  std::map<std::string, std::unique_ptr<Uplink>> uplinks;
};
Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: worker threads may outlive static teardown
  return *r;
}

// A NIC on a switch. Frames from the guest go into the port's ingress ring;
// frames for it are taken from the egress ring on every scheduling round
// (tick) and before and after every sleep (PollSource). While the VM sleeps in
// ppoll the switch may ring the port's eventfd; while it runs, nothing wakes it.
class SwitchBackend : public NetBackend, public PollSource {
 public:
  static constexpr int kFramesPerRound = 64;

  ~SwitchBackend() override {
    if (port_) sw_->remove_port(port_->id());
    if (efd_ >= 0) ::close(efd_);
  }

  bool init(const NicConfig& cfg, BoardHost& host, std::string* err) {
    {
      Registry& r = registry();
      std::lock_guard<std::mutex> g(r.mu);
      auto it = r.switches.find(cfg.switch_name);
      if (it == r.switches.end()) {
        *err = "no such switch: " + cfg.switch_name;
        return false;
      }
      sw_ = it->second;
    }
    efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd_ < 0) {
      *err = "eventfd failed";
      return false;
    }
    const int fd = efd_;
    Switch* sw = sw_.get();
    port_ = sw_->add_port(
        cfg.mac,
        [fd]() {
          const uint64_t one = 1;
          ssize_t n = ::write(fd, &one, sizeof(one));
          (void)n;
        },
        [sw]() { sw->kick(); });
    host.add_poll_source(this);
    host.add_tick([this]() { drain(); });
    return true;
  }

  const char* kind() const override { return "switch"; }

  void send(const uint8_t* f, size_t len) override {
    if (!port_->send(f, len)) dropped_++;
  }

  void fill(std::vector<struct pollfd>* fds, uint64_t* timeout_ns) override {
    drain();
    if (*timeout_ns > 0) {
      port_->set_sleeping(true);
      size_t len;
      if (port_->peek_received(&len)) *timeout_ns = 0;  // arrived meanwhile: do not sleep
    }
    fds->push_back({efd_, POLLIN, 0});
  }
  void dispatch(const struct pollfd* fds, size_t n) override {
    port_->set_sleeping(false);
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      ssize_t r = ::read(efd_, &v, sizeof(v));
      (void)r;
    }
    drain();
  }

  std::shared_ptr<SwitchPort> port() { return port_; }

 private:
  void drain() {
    size_t len;
    for (int i = 0; i < kFramesPerRound; i++) {
      const uint8_t* f = port_->peek_received(&len);
      if (!f) return;
      to_guest(f, len);
      port_->pop_received();
    }
  }

  std::shared_ptr<Switch> sw_;
  std::shared_ptr<SwitchPort> port_;
  int efd_ = -1;
};

}  // namespace

bool switch_create(const std::string& name, bool locked, std::string* err) {
  if (name.empty() || name.size() > 63) {
    *err = "invalid switch name";
    return false;
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  if (r.switches.count(name)) {
    *err = "switch " + name + " exists";
    return false;
  }
  r.switches[name] = std::make_shared<Switch>(name, locked);
  return true;
}

bool switch_delete(const std::string& name, std::string* err) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.switches.find(name);
  if (it == r.switches.end()) {
    *err = "no such switch: " + name;
    return false;
  }
  if (it->second->ports() > 0) {
    *err = "switch " + name + " has " + std::to_string(it->second->ports()) + " ports in use";
    return false;
  }
  r.uplinks.erase(name);  // stops its thread, closes its tap
  r.switches.erase(it);
  return true;
}

std::vector<std::shared_ptr<Switch>> switch_list() {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  std::vector<std::shared_ptr<Switch>> v;
  for (auto& kv : r.switches) v.push_back(kv.second);
  return v;
}

bool switch_attach_uplink(const std::string& name, int fd, const std::string& tap, std::string* err) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.switches.find(name);
  if (it == r.switches.end() || r.uplinks.count(name)) {
    ::close(fd);
    *err = it == r.switches.end() ? "no such switch: " + name : "switch " + name + " has an uplink";
    return false;
  }
  auto u = std::make_unique<Uplink>(it->second, fd, tap);
  if (!u->start(err)) return false;
  r.uplinks[name] = std::move(u);
  return true;
}

bool switch_detach_uplink(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  return r.uplinks.erase(name) > 0;
}

bool switch_uplink_info(const std::string& name, UplinkInfo* out) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.uplinks.find(name);
  if (it == r.uplinks.end()) return false;
  *out = it->second->info();
  return true;
}

std::unique_ptr<NetBackend> make_switch_backend(const NicConfig& cfg, BoardHost& host, std::string* err) {
  auto b = std::make_unique<SwitchBackend>();
  if (!b->init(cfg, host, err)) return nullptr;
  return b;
}

}  // namespace vmsup
