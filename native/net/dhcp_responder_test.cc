// The built-in DHCP server of -L (RFC 2131 on a /31).
#include <cstring>
#include <vector>

#include "net/dhcp_responder.h"
#include "testing.h"

using namespace vmsup;

namespace {

const uint8_t kMac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x07};
constexpr uint32_t kHost = 0x64400004;  // 100.64.0.4

// A client message as udhcpc sends it: broadcast, 0.0.0.0:68 -> 255.255.255.255:67.
std::vector<uint8_t> client(uint8_t type, const uint8_t mac[6], uint32_t requested = 0) {
  std::vector<uint8_t> f(14 + 20 + 8 + 236 + 4, 0);
  std::memset(f.data(), 0xff, 6);
  std::memcpy(f.data() + 6, mac, 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[9] = 17;
  std::memset(ip + 16, 0xff, 4);
  uint8_t* udp = ip + 20;
  udp[1] = 68;
  udp[3] = 67;
  uint8_t* b = udp + 8;
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b[4] = 0xde; b[5] = 0xad; b[6] = 0xbe; b[7] = 0xef;
  std::memcpy(b + 28, mac, 6);
  const uint8_t magic[4] = {99, 130, 83, 99};
  std::memcpy(b + 236, magic, 4);
  f.push_back(53); f.push_back(1); f.push_back(type);
  if (requested) {
    f.push_back(50); f.push_back(4);
    for (int i = 3; i >= 0; i--) f.push_back(static_cast<uint8_t>(requested >> (8 * i)));
  }
  f.push_back(255);
  return f;
}

// The value of option `code` in a reply, or -1.
long long option(const std::vector<uint8_t>& r, uint8_t code) {
  const size_t start = 14 + 20 + 8 + 240;
  for (size_t i = start; i + 1 < r.size();) {
    if (r[i] == 255) break;
    if (r[i] == 0) { i++; continue; }
    if (r[i] == code) {
      long long v = 0;
      for (unsigned k = 0; k < r[i + 1]; k++) v = (v << 8) | r[i + 2 + k];
      return v;
    }
    i += 2 + r[i + 1];
  }
  return -1;
}

uint32_t yiaddr(const std::vector<uint8_t>& r) {
  const uint8_t* p = r.data() + 14 + 20 + 8 + 16;
  return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

}  // namespace

TEST(discover_gets_an_offer_of_the_second_address_of_the_31) {
  DhcpResponder d(kHost, kMac);
  std::vector<uint8_t> r;
  CHECK(d.handle(client(1, kMac).data(), client(1, kMac).size(), &r));
  CHECK(r.size() >= 14 + 20 + 8 + 300);
  CHECK_EQ(option(r, 53), 2);  // OFFER
  CHECK_EQ(yiaddr(r), kHost + 1);
  CHECK_EQ(option(r, 1), 0xfffffffeLL);  // /31
  CHECK_EQ(option(r, 3), static_cast<long long>(kHost));  // router
  CHECK_EQ(option(r, 6), static_cast<long long>(kHost));  // DNS
  CHECK_EQ(option(r, 54), static_cast<long long>(kHost));
  CHECK(std::memcmp(r.data(), kMac, 6) == 0);
  CHECK_EQ(r[14 + 20 + 8 + 4], 0xde);  // xid echoed
}

TEST(request_for_the_offered_address_is_acked_and_another_is_naked) {
  DhcpResponder d(kHost, kMac);
  std::vector<uint8_t> r;
  auto req = client(3, kMac, kHost + 1);
  CHECK(d.handle(req.data(), req.size(), &r));
  CHECK_EQ(option(r, 53), 5);
  CHECK_EQ(d.leases(), 1u);
  auto wrong = client(3, kMac, 0x0a000005);
  CHECK(d.handle(wrong.data(), wrong.size(), &r));
  CHECK_EQ(option(r, 53), 6);
}

TEST(other_macs_and_malformed_messages_get_no_answer) {
  DhcpResponder d(kHost, kMac);
  std::vector<uint8_t> r;
  const uint8_t other[6] = {0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x08};
  auto f = client(1, other);
  CHECK(d.handle(f.data(), f.size(), &r));
  CHECK(r.empty());
  auto g = client(1, kMac);
  g.resize(14 + 20 + 8 + 100);  // truncated BOOTP
  CHECK(d.handle(g.data(), g.size(), &r));
  CHECK(r.empty());
  auto h = client(1, kMac);
  h[14 + 20 + 3] = 53;  // UDP to port 53: not DHCP, passes through
  CHECK(!d.handle(h.data(), h.size(), &r));
  // Options running off the end are not read past it.
  auto k = client(1, kMac);
  k.back() = 61;
  k.push_back(200);
  CHECK(d.handle(k.data(), k.size(), &r));
}

TEST_MAIN()
