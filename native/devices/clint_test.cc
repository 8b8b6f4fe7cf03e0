// The CLINT (devices/clint.h): msip drives MSIP, mtimecmp drives MTIP against
// mtime, 32-bit halves of the 64-bit registers, mtime writes, and accesses
// the device does not decode.
#include "devices/clint.h"

#include <string>

#include "testing.h"

using namespace vmsup;

namespace {

class NullHost : public CpuHost {
 public:
  bool mmio_read(uint64_t, unsigned, uint64_t*) override { return false; }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }
  uint64_t mtime() override { return 0; }
  bool sbi_ecall(Hart&) override { return false; }
};

struct Rig {
  GuestMemory mem;
  NullHost host;
  TimeBase time;
  std::unique_ptr<Hart> h0, h1;
  std::unique_ptr<Clint> clint;
  Rig() {
    std::string err;
    mem.init(16 << 20, &err);
    h0 = std::make_unique<Hart>(0, mem, host);
    h1 = std::make_unique<Hart>(1, mem, host);
    clint = std::make_unique<Clint>(time, std::vector<Hart*>{h0.get(), h1.get()});
  }
};

}  // namespace

TEST(msip_raises_and_lowers_the_software_interrupt_of_its_hart) {
  Rig r;
  CHECK(r.clint->write(4, 4, 1));
  CHECK(r.h1->mip() & kMipMSIP);
  CHECK_EQ(r.h0->mip() & kMipMSIP, 0u);
  uint64_t v = 0;
  CHECK(r.clint->read(4, 4, &v));
  CHECK_EQ(v, 1u);
  CHECK(r.clint->write(4, 4, 0xfffffffe));  // only bit 0 exists
  CHECK_EQ(r.h1->mip() & kMipMSIP, 0u);
  CHECK(r.clint->read(4, 4, &v));
  CHECK_EQ(v, 0u);
}

TEST(mtimecmp_in_the_past_raises_mtip_and_a_future_one_clears_it) {
  Rig r;
  r.time.set(1000);
  CHECK_EQ(r.h0->mip() & kMipMTIP, 0u);  // reset value: never
  CHECK(r.clint->write(0x4000, 8, 500));
  CHECK(r.h0->mip() & kMipMTIP);
  CHECK_EQ(r.h1->mip() & kMipMTIP, 0u);
  CHECK(r.clint->write(0x4000, 8, ~0ULL));
  CHECK_EQ(r.h0->mip() & kMipMTIP, 0u);
  // Halves: the high word (to zero), then the low word.
  CHECK(r.clint->write(0x4008 + 4, 4, 0));
  CHECK(r.clint->write(0x4008, 4, 10));
  uint64_t v = 0;
  CHECK(r.clint->read(0x4008, 8, &v));
  CHECK_EQ(v, 10u);
  CHECK(r.h1->mip() & kMipMTIP);
  CHECK_EQ(r.clint->next_deadline(), ~0ULL);  // both reached or never
}

TEST(mtime_counts_at_10_mhz_and_can_be_written) {
  Rig r;
  CHECK(r.clint->write(0xbff8, 8, 1ULL << 40));
  uint64_t a = 0, b = 0;
  CHECK(r.clint->read(0xbff8, 8, &a));
  CHECK(a >= (1ULL << 40));
  CHECK(a < (1ULL << 40) + 10'000'000);  // well under a second has passed
  CHECK(r.clint->read(0xbffc, 4, &b));
  CHECK_EQ(b, a >> 32);
  CHECK(r.clint->write(0x4000, 8, a + 10'000'000));
  CHECK_EQ(r.clint->next_deadline(), a + 10'000'000);
  CHECK(r.time.ns_until(a + 10'000'000) <= 1'000'000'000ULL);
}

TEST(accesses_the_clint_does_not_decode_fail) {
  Rig r;
  uint64_t v;
  CHECK(!r.clint->read(0, 1, &v));       // byte access
  CHECK(!r.clint->read(0, 8, &v));       // msip is 32-bit
  CHECK(!r.clint->read(0x4002, 4, &v));  // misaligned
  CHECK(!r.clint->write(0x4000, 2, 0));
  // A hart that does not exist: reads zero, writes are ignored.
  CHECK(r.clint->read(4 * 7, 4, &v));
  CHECK_EQ(v, 0u);
  CHECK(r.clint->write(0x4000 + 8 * 7, 8, 0));
  CHECK_EQ(r.h0->mip() & kMipMTIP, 0u);
}

TEST_MAIN()
