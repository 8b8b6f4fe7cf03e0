// Tap devices for vmd's -i and -L interfaces (Linux tun/tap, IFF_TAP |
// IFF_NO_PI: the descriptor carries bare Ethernet frames). Needs root or
// CAP_NET_ADMIN.
#pragma once

#include <cstdint>
#include <string>

namespace vmsup {

// Opens a tap. `name` empty: the kernel picks "vmsupN"-style names from the
// template "vmsup%d". A name that exists and is not a tap we may attach to is
// refused (the kernel says EBUSY / EINVAL / EPERM). Returns the non-blocking,
// close-on-exec fd and sets *out_name; -1 with *err (one line) on failure.
int open_tap(const std::string& name, std::string* out_name, std::string* err);

// Gives the interface `name` the IPv4 address `addr`/`prefix` (host byte
// order) and brings it up. false with *err on failure.
bool set_interface_addr(const std::string& name, uint32_t addr, unsigned prefix, std::string* err);

}  // namespace vmsup
