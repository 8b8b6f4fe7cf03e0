// The built-in DHCP server of vmd's local interface (-L), as vmd's vionet has
// one: it answers the guest's DHCPDISCOVER / DHCPREQUEST (RFC 2131) on the
// frames of a tap backend, handing out the second address of the /31 whose
// first address is the tap's host side, with that host address as router and
// DNS server (RFC 3021 /31). Only the NIC's own MAC gets a lease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vmsup {

class DhcpResponder {
 public:
  // host_addr in host byte order; the guest gets host_addr + 1.
  DhcpResponder(uint32_t host_addr, const uint8_t guest_mac[6]);
  // True when `frame` is a DHCP client message (IPv4/UDP to port 67): it is
  // consumed, and *reply holds the answer frame (empty: no answer). False for
  // every other frame.
  bool handle(const uint8_t* frame, size_t len, std::vector<uint8_t>* reply);
  uint32_t guest_addr() const { return host_ + 1; }
  uint64_t leases() const { return acks_; }

 private:
  uint32_t host_;
  uint8_t mac_[6];
  uint64_t acks_ = 0;
};

}  // namespace vmsup
