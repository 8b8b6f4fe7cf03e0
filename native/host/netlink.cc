#include "host/netlink.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmsup {

namespace {

// One rtnetlink request and its answer (an RTM_NEWLINK or an NLMSG_ERROR).
// Returns the netlink error (0 ok, negative errno) or -EIO on a transport
// failure; *reply gets the answer's bytes.
int rtnl_call(const void* req, size_t len, std::vector<char>* reply) {
  int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return -errno;
  struct timeval tv = {2, 0};  // the kernel answers at once; bound it anyway
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_nl sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.nl_family = AF_NETLINK;
  if (::sendto(s, req, len, 0, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) < 0) {
    const int e = errno;
    ::close(s);
    return -e;
  }
  reply->assign(16384, 0);
  ssize_t n = ::recv(s, reply->data(), reply->size(), 0);
  const int e = errno;
  ::close(s);
  if (n < static_cast<ssize_t>(sizeof(struct nlmsghdr))) return n < 0 ? -e : -EIO;
  reply->resize(static_cast<size_t>(n));
  auto* h = reinterpret_cast<struct nlmsghdr*>(reply->data());
  if (!NLMSG_OK(h, static_cast<unsigned>(n))) return -EIO;
  if (h->nlmsg_type == NLMSG_ERROR) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EIO;
    return reinterpret_cast<struct nlmsgerr*>(NLMSG_DATA(h))->error;
  }
  return 0;
}

void add_attr(std::vector<char>* m, unsigned short type, const void* data, size_t len) {
  const size_t at = NLMSG_ALIGN(m->size());
  m->resize(at + RTA_SPACE(len), 0);
  auto* rta = reinterpret_cast<struct rtattr*>(m->data() + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  reinterpret_cast<struct nlmsghdr*>(m->data())->nlmsg_len = static_cast<uint32_t>(m->size());
}

std::vector<char> link_msg(unsigned short type, unsigned short flags, int index) {
  std::vector<char> m(NLMSG_SPACE(sizeof(struct ifinfomsg)), 0);
  auto* h = reinterpret_cast<struct nlmsghdr*>(m.data());
  h->nlmsg_len = static_cast<uint32_t>(m.size());
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<unsigned short>(NLM_F_REQUEST | flags);
  h->nlmsg_seq = 1;
  auto* ifi = reinterpret_cast<struct ifinfomsg*>(NLMSG_DATA(h));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return m;
}

std::string attr_string(const struct rtattr* a) {
  const char* p = static_cast<const char*>(RTA_DATA(a));
  const size_t n = RTA_PAYLOAD(a);
  return std::string(p, strnlen(p, n));
}

bool ifreq_for(const std::string& name, struct ifreq* ifr, std::string* err) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    *err = "invalid interface name: " + name;
    return false;
  }
  std::memset(ifr, 0, sizeof(*ifr));
  std::strncpy(ifr->ifr_name, name.c_str(), IFNAMSIZ - 1);
  return true;
}

}  // namespace

bool link_info(const std::string& name, LinkInfo* out, std::string* err) {
  *out = LinkInfo{};
  if (name.empty() || name.size() >= IFNAMSIZ) {
    *err = "invalid interface name: " + name;
    return false;
  }
  std::vector<char> m = link_msg(RTM_GETLINK, 0, 0);
  add_attr(&m, IFLA_IFNAME, name.c_str(), name.size() + 1);
  const uint32_t mask = RTEXT_FILTER_VF;  // keeps the answer small
  add_attr(&m, IFLA_EXT_MASK, &mask, sizeof(mask));
  std::vector<char> r;
  const int e = rtnl_call(m.data(), m.size(), &r);
  if (e == -ENODEV) return true;
  if (e < 0) {
    *err = "netlink: cannot look up " + name + ": " + strerror(-e);
    return false;
  }
  auto* h = reinterpret_cast<struct nlmsghdr*>(r.data());
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len > r.size() || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
    *err = "netlink: unexpected answer for " + name;
    return false;
  }
  out->exists = true;
  auto* ifi = reinterpret_cast<struct ifinfomsg*>(NLMSG_DATA(h));
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
  for (auto* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_IFALIAS) out->alias = attr_string(a);
    if (a->rta_type == IFLA_LINKINFO) {
      int l2 = static_cast<int>(RTA_PAYLOAD(a));
      for (auto* b = static_cast<struct rtattr*>(RTA_DATA(a)); RTA_OK(b, l2); b = RTA_NEXT(b, l2))
        if (b->rta_type == IFLA_INFO_KIND) out->kind = attr_string(b);
    }
  }
  return true;
}

bool link_set_alias(const std::string& name, const std::string& alias, std::string* err) {
  const unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) {
    *err = "no interface " + name;
    return false;
  }
  std::vector<char> m = link_msg(RTM_SETLINK, NLM_F_ACK, static_cast<int>(idx));
  add_attr(&m, IFLA_IFALIAS, alias.c_str(), alias.size() + 1);
  std::vector<char> r;
  const int e = rtnl_call(m.data(), m.size(), &r);
  if (e < 0) {
    *err = "cannot set the alias of " + name + ": " + strerror(-e);
    return false;
  }
  return true;
}

bool link_set_up(const std::string& name, std::string* err) {
  struct ifreq ifr;
  if (!ifreq_for(name, &ifr, err)) return false;
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return false;
  }
  bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags |= IFF_UP;
    ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  if (!ok) *err = "cannot bring " + name + " up: " + strerror(errno);
  ::close(s);
  return ok;
}

bool bridge_add_if(const std::string& bridge, const std::string& ifname, std::string* err) {
  struct ifreq ifr;
  if (!ifreq_for(bridge, &ifr, err)) return false;
  const unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) {
    *err = "no interface " + ifname;
    return false;
  }
  ifr.ifr_ifindex = static_cast<int>(idx);
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return false;
  }
  const bool ok = ioctl(s, SIOCBRADDIF, &ifr) == 0;
  const int e = errno;
  ::close(s);
  if (!ok) {
    if (e == ENODEV) *err = "bridge " + bridge + " not found";
    else if (e == EOPNOTSUPP || e == EINVAL) *err = bridge + " is not a bridge";
    else *err = "cannot add " + ifname + " to bridge " + bridge + ": " + strerror(e);
  }
  return ok;
}

}  // namespace vmsup
