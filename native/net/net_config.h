// How one NIC of a VM is configured (MachineConfig::nics): its MAC and what
// its frames go to on the host side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmsup {

enum class NicKind {
  kNat,    // user-mode NAT through libslirp (--nat): no root needed
  kTap,    // a tap device the caller opened (-i), frames as they are
  kLocal,  // vmd's -L: a tap whose host side is the first address of a /31; the
           // guest gets the second one from the built-in DHCP responder
  kSwitch, // a port on one of vmsup's own switches (net/switch.h), by name
};

// --forward tcp:[HOSTADDR:]HOSTPORT:GUESTPORT. Addresses in host byte order.
struct HostForward {
  uint32_t host_addr = 0x7f000001;  // 127.0.0.1 unless given
  uint16_t host_port = 0;
  uint16_t guest_port = 0;
};

struct NicConfig {
  NicKind kind = NicKind::kNat;
  uint8_t mac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 0};
  // kNat.
  std::vector<HostForward> forwards;
  // Cap on the host sockets slirp may hold for this NIC (connections, UDP
  // flows, listeners): blocks a guest that opens thousands of connections
  // from exhausting the daemon's descriptors. SYNs and new flows beyond it are
  // dropped and counted.
  unsigned max_connections = 256;
  // kTap / kLocal: the tap's descriptor (IFF_TAP | IFF_NO_PI), owned by the NIC.
  int tap_fd = -1;
  // kLocal: the /31, host byte order; guest = host + 1.
  uint32_t local_host_addr = 0;
  // kSwitch.
  std::string switch_name;
};

}  // namespace vmsup
