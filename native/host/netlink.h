// The few link operations a switch uplink needs that have no ioctl: read an
// interface's kind and alias (rtnetlink RTM_GETLINK: IFLA_LINKINFO /
// IFLA_INFO_KIND, IFLA_IFALIAS) and set its alias (RTM_SETLINK), plus the
// ioctls to bring a link up and to enslave it to a Linux bridge
// (SIOCBRADDIF). All act in the calling thread's network namespace.
#pragma once

#include <string>

namespace vmsup {

struct LinkInfo {
  bool exists = false;
  std::string kind;   // IFLA_INFO_KIND: "tun" for a tap, "bridge", "veth", "" for a physical NIC
  std::string alias;  // IFLA_IFALIAS, "" when unset
};

// false with *err on a netlink failure; a missing interface is exists=false.
bool link_info(const std::string& name, LinkInfo* out, std::string* err);
bool link_set_alias(const std::string& name, const std::string& alias, std::string* err);
bool link_set_up(const std::string& name, std::string* err);
// Enslaves `ifname` to the bridge `bridge` (which must exist and be a bridge).
bool bridge_add_if(const std::string& bridge, const std::string& ifname, std::string* err);

}  // namespace vmsup
