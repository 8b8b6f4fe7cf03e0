// A NIC whose frames go to a tap device (IFF_TAP | IFF_NO_PI): the host code
// (host/tap.cc) opened it; the backend owns the descriptor from then on.
// Reads are bounded per wake-up so a busy tap cannot starve the vCPU.
#include <unistd.h>

#include <cerrno>

#include "machine/machine.h"
#include "net/backend.h"
#include "net/dhcp_responder.h"

namespace vmsup {

namespace {

class TapBackend : public NetBackend {
 public:
  static constexpr int kFramesPerWake = 64;

  TapBackend(int fd, const NicConfig& cfg) : fd_(fd) {
    if (cfg.kind == NicKind::kLocal) dhcp_ = std::make_unique<DhcpResponder>(cfg.local_host_addr, cfg.mac);
  }
  ~TapBackend() override {
    if (fd_ >= 0) ::close(fd_);
  }
  const char* kind() const override { return dhcp_ ? "local" : "tap"; }

  void send(const uint8_t* f, size_t len) override {
    // -L: the built-in DHCP server answers the guest's DHCP itself.
    if (dhcp_ && dhcp_->handle(f, len, &reply_)) {
      if (!reply_.empty()) to_guest(reply_.data(), reply_.size());
      return;
    }
    ssize_t n;
    do n = ::write(fd_, f, len);
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(len)) dropped_++;  // EAGAIN: the host side is full
  }

  void readable() {
    uint8_t buf[65536];
    for (int i = 0; i < kFramesPerWake; i++) {
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) return;
      to_guest(buf, static_cast<size_t>(n));
    }
  }

  int fd() const { return fd_; }

 private:
  int fd_;
  std::unique_ptr<DhcpResponder> dhcp_;
  std::vector<uint8_t> reply_;
};

}  // namespace

std::unique_ptr<NetBackend> make_tap_backend(const NicConfig& cfg, BoardHost& host, std::string* err) {
  if (cfg.tap_fd < 0) {
    *err = "a tap interface needs an open tap descriptor";
    return nullptr;
  }
  auto b = std::make_unique<TapBackend>(cfg.tap_fd, cfg);
  TapBackend* raw = b.get();
  host.add_poll_fd(cfg.tap_fd, [raw]() { raw->readable(); });
  return b;
}

}  // namespace vmsup
