#include "net/switch_registry.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "machine/machine.h"
#include "net/backend.h"

namespace vmsup {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Switch>> switches;
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

std::unique_ptr<NetBackend> make_switch_backend(const NicConfig& cfg, BoardHost& host, std::string* err) {
  auto b = std::make_unique<SwitchBackend>();
  if (!b->init(cfg, host, err)) return nullptr;
  return b;
}

}  // namespace vmsup
