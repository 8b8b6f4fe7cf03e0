#include "host/tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmsup {

int open_tap(const std::string& name, std::string* out_name, std::string* err) {
  if (name.size() >= IFNAMSIZ) {
    *err = "tap name too long: " + name;
    return -1;
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *err = std::string("cannot open /dev/net/tun: ") + strerror(errno);
    return -1;
  }
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.empty() ? "vmsup%d" : name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd);
    if (e == EPERM) *err = "creating a tap needs root or CAP_NET_ADMIN (try --nat)";
    else if (!name.empty() && (e == EBUSY || e == EINVAL))
      *err = "tap " + name + " exists and belongs to something else";
    else *err = std::string("cannot create a tap: ") + strerror(e);
    return -1;
  }
  *out_name = ifr.ifr_name;
  return fd;
}

bool set_interface_addr(const std::string& name, uint32_t addr, unsigned prefix, std::string* err) {
  if (name.size() >= IFNAMSIZ || prefix > 32) {
    *err = "bad interface or prefix";
    return false;
  }
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return false;
  }
  struct ifreq ifr;
  auto set = [&](unsigned long req, uint32_t a) {
    std::memset(&ifr, 0, sizeof(ifr));
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(a);
    return ioctl(s, req, &ifr) == 0;
  };
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  bool ok = set(SIOCSIFADDR, addr) && set(SIOCSIFNETMASK, mask);
  if (ok) {
    std::memset(&ifr, 0, sizeof(ifr));
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    if (ok) {
      ifr.ifr_flags |= IFF_UP;
      ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    }
  }
  if (!ok) *err = "cannot configure " + name + ": " + strerror(errno);
  ::close(s);
  return ok;
}

}  // namespace vmsup
