// The host side of a NIC: where the frames a guest sends go, and where the
// frames for it come from. One backend per NIC, living in the VM's thread:
//   - NAT (net/slirp_backend.cc): libslirp, user-mode, no root;
//   - tap (net/tap_backend.cc): a tap device opened by the host code.
// A backend hands frames for the guest to the sink the NIC sets; it never
// blocks, and drops (counting) what the NIC cannot take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/net_config.h"

namespace vmsup {

class BoardHost;

class NetBackend {
 public:
  virtual ~NetBackend() = default;
  using Sink = std::function<void(const uint8_t* frame, size_t len)>;
  // Frames for the guest (complete Ethernet frames, no FCS).
  void set_sink(Sink s) { sink_ = std::move(s); }
  // One frame from the guest; the backend copies what it keeps.
  virtual void send(const uint8_t* frame, size_t len) = 0;
  virtual const char* kind() const = 0;
  // Frames the backend itself refused (e.g. over the NAT connection cap).
  uint64_t dropped() const { return dropped_; }

 protected:
  void to_guest(const uint8_t* frame, size_t len) {
    if (sink_) sink_(frame, len);
  }
  Sink sink_;
  uint64_t dropped_ = 0;
};

// The backend `cfg` asks for, registered with the machine's poll loop.
// nullptr with *err (one line) when it cannot be set up (a forwarded port in
// use, a bad tap fd, ...).
std::unique_ptr<NetBackend> make_net_backend(const NicConfig& cfg, BoardHost& host, std::string* err);

}  // namespace vmsup
