// --nat: user-mode NAT through libslirp, the library QEMU's `-netdev user`
// uses. The guest network is 10.0.2.0/24: slirp answers DHCP (the guest gets
// 10.0.2.15), the gateway 10.0.2.2 is the host itself (its loopback), and
// 10.0.2.3 forwards DNS to the host's resolvers. Host ports are forwarded to
// the guest with `tcp:[HOSTADDR:]HOSTPORT:GUESTPORT` (127.0.0.1 by default).
//
// slirp's sockets and timers join the machine's poll loop as a PollSource:
// an idle VM sleeps in ppoll on them and wakes when a socket is ready or the
// next slirp timer is due, never on a fixed tick.
#pragma once

#include <memory>
#include <string>

#include "net/backend.h"

namespace vmsup {

class BoardHost;

constexpr uint32_t kSlirpNetwork = 0x0a000200;  // 10.0.2.0/24
constexpr uint32_t kSlirpHost = 0x0a000202;     // 10.0.2.2: the host
constexpr uint32_t kSlirpDns = 0x0a000203;      // 10.0.2.3
constexpr uint32_t kSlirpGuest = 0x0a00020f;    // 10.0.2.15: the first DHCP lease

std::unique_ptr<NetBackend> make_slirp_backend(const NicConfig& cfg, BoardHost& host, std::string* err);

}  // namespace vmsup
