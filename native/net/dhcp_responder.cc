#include "net/dhcp_responder.h"

#include <cstring>

namespace vmsup {

namespace {
constexpr size_t kEth = 14, kIp = 20, kUdp = 8;
constexpr size_t kBootpFixed = 236;  // op .. file (RFC 2131 §2)
constexpr uint8_t kMagic[4] = {99, 130, 83, 99};
constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6;
constexpr uint32_t kLeaseSeconds = 86400;
// The source MAC of the server's frames (locally administered, vmd-style prefix).
constexpr uint8_t kServerMac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0xff, 0xfe};

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t ip_checksum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t{p[i]} << 8) | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}
}  // namespace

DhcpResponder::DhcpResponder(uint32_t host_addr, const uint8_t guest_mac[6]) : host_(host_addr) {
  std::memcpy(mac_, guest_mac, 6);
}

bool DhcpResponder::handle(const uint8_t* f, size_t len, std::vector<uint8_t>* reply) {
  reply->clear();
  if (len < kEth + kIp + kUdp || f[12] != 0x08 || f[13] != 0x00) return false;
  const uint8_t* ip = f + kEth;
  const size_t ihl = (ip[0] & 15) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < kIp || ip[9] != 17 || len < kEth + ihl + kUdp) return false;
  const uint8_t* udp = ip + ihl;
  if (udp[2] != 0 || udp[3] != 67) return false;  // not to the DHCP server port
  // From here on the frame is ours: malformed ones are consumed without answer.
  const uint8_t* b = udp + kUdp;
  const size_t blen = len - (b - f);
  if (blen < kBootpFixed + 4 || b[0] != 1 || b[1] != 1 || b[2] != 6) return true;
  if (std::memcmp(b + 28, mac_, 6) != 0) return true;  // someone else's MAC
  if (std::memcmp(b + kBootpFixed, kMagic, 4) != 0) return true;
  // Options (RFC 2132): find the message type (53) and the requested address (50).
  int type = -1;
  uint32_t requested = 0;
  for (size_t i = kBootpFixed + 4; i < blen;) {
    const uint8_t code = b[i];
    if (code == 255) break;
    if (code == 0) {
      i++;
      continue;
    }
    if (i + 1 >= blen || i + 2 + b[i + 1] > blen) break;
    const uint8_t olen = b[i + 1];
    if (code == 53 && olen == 1) type = b[i + 2];
    if (code == 50 && olen == 4) requested = get32(b + i + 2);
    i += 2 + olen;
  }
  const uint32_t ciaddr = get32(b + 12);
  uint8_t answer;
  if (type == kDiscover) {
    answer = kOffer;
  } else if (type == kRequest) {
    const uint32_t want = requested ? requested : ciaddr;
    answer = (want == 0 || want == guest_addr()) ? kAck : kNak;
  } else {
    return true;  // RELEASE, DECLINE, INFORM: nothing to say
  }

  std::vector<uint8_t>& r = *reply;
  const size_t opts = 3 + 6 + 6 + 6 + 6 + 6 + 1;
  size_t bootp = kBootpFixed + 4 + opts;
  if (bootp < 300) bootp = 300;  // the minimum BOOTP message (RFC 1542 §2.1)
  r.assign(kEth + kIp + kUdp + bootp, 0);
  std::memcpy(r.data(), mac_, 6);
  std::memcpy(r.data() + 6, kServerMac, 6);
  r[12] = 0x08;
  uint8_t* rip = r.data() + kEth;
  rip[0] = 0x45;
  const size_t iplen = kIp + kUdp + bootp;
  rip[2] = static_cast<uint8_t>(iplen >> 8);
  rip[3] = static_cast<uint8_t>(iplen);
  rip[8] = 64;
  rip[9] = 17;
  put32(rip + 12, host_);
  put32(rip + 16, 0xffffffff);  // the client has no address yet: broadcast
  const uint16_t ck = ip_checksum(rip, kIp);
  rip[10] = static_cast<uint8_t>(ck >> 8);
  rip[11] = static_cast<uint8_t>(ck);
  uint8_t* rudp = rip + kIp;
  rudp[1] = 67;
  rudp[3] = 68;
  rudp[4] = static_cast<uint8_t>((kUdp + bootp) >> 8);
  rudp[5] = static_cast<uint8_t>(kUdp + bootp);  // UDP checksum 0: none (RFC 768)
  uint8_t* rb = rudp + kUdp;
  rb[0] = 2;  // BOOTREPLY
  rb[1] = 1;
  rb[2] = 6;
  std::memcpy(rb + 4, b + 4, 4);    // xid
  std::memcpy(rb + 10, b + 10, 2);  // flags
  if (answer != kNak) put32(rb + 16, guest_addr());  // yiaddr
  std::memcpy(rb + 28, b + 28, 16);  // chaddr
  std::memcpy(rb + kBootpFixed, kMagic, 4);
  uint8_t* o = rb + kBootpFixed + 4;
  *o++ = 53; *o++ = 1; *o++ = answer;
  *o++ = 54; *o++ = 4; put32(o, host_); o += 4;
  if (answer != kNak) {
    *o++ = 51; *o++ = 4; put32(o, kLeaseSeconds); o += 4;
    *o++ = 1; *o++ = 4; put32(o, 0xfffffffe); o += 4;  // a /31
    *o++ = 3; *o++ = 4; put32(o, host_); o += 4;        // router
    *o++ = 6; *o++ = 4; put32(o, host_); o += 4;        // DNS
    if (answer == kAck) acks_++;
  }
  *o++ = 255;
  return true;
}

}  // namespace vmsup
