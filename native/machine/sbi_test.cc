// The emulator's SBI (direct Linux boot), called as a kernel would: a7/a6/a0..
// in the registers of a real Hart, answers read back from a0/a1.
#include <string>
#include <vector>

#include "cpu/hart.h"
#include "machine/sbi.h"
#include "testing.h"

using namespace vmsup;

namespace {

// The board side of a hart, as little as a hart needs: no devices, a clock.
struct Host : CpuHost {
  uint64_t now = 1000;
  bool mmio_read(uint64_t, unsigned, uint64_t*) override { return false; }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }
  uint64_t mtime() override { return now; }
  bool sbi_ecall(Hart&) override { return false; }
};

struct Platform : SbiPlatform {
  std::vector<Hart*> harts;
  std::string out;
  std::string in;
  std::vector<ResetType> resets;
  unsigned hart_count() override { return static_cast<unsigned>(harts.size()); }
  Hart& hart(unsigned id) override { return *harts[id]; }
  void console_putchar(uint8_t c) override { out.push_back(static_cast<char>(c)); }
  int console_getchar() override {
    if (in.empty()) return -1;
    int c = static_cast<unsigned char>(in[0]);
    in.erase(0, 1);
    return c;
  }
  void system_reset(ResetType t) override { resets.push_back(t); }
};

struct Rig {
  GuestMemory mem;
  Host host;
  std::vector<std::unique_ptr<Hart>> harts;
  Platform p;
  explicit Rig(unsigned n = 2) {
    std::string err;
    mem.init(16 << 20, &err);
    for (unsigned i = 0; i < n; i++) {
      harts.push_back(std::make_unique<Hart>(i, mem, host));
      p.harts.push_back(harts.back().get());
    }
    harts[0]->reset(0x80200000, kPrivS);
    harts[0]->set_state(HartState::kRunning);
    sbi_prepare_supervisor(*harts[0]);
  }
  struct Ret {
    int64_t error;
    uint64_t value;
  };
  Ret call(uint64_t eid, uint64_t fid, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, unsigned h = 0) {
    Hart& t = *harts[h];
    t.set_reg(17, eid);
    t.set_reg(16, fid);
    t.set_reg(10, a0);
    t.set_reg(11, a1);
    t.set_reg(12, a2);
    CHECK(sbi_handle_ecall(t, p));
    return {static_cast<int64_t>(t.reg(10)), t.reg(11)};
  }
};

}  // namespace

TEST(base_reports_version_implementation_and_extensions) {
  Rig r;
  auto v = r.call(kSbiExtBase, 0);
  CHECK_EQ(v.error, 0);
  CHECK_EQ(v.value, 2ULL << 24);
  CHECK_EQ(r.call(kSbiExtBase, 1).value, kSbiImplId);
  for (uint64_t eid : {kSbiExtTime, kSbiExtIpi, kSbiExtRfence, kSbiExtHsm, kSbiExtSrst, kSbiExtBase}) {
    auto p = r.call(kSbiExtBase, 3, eid);
    CHECK_EQ(p.error, 0);
    CHECK_EQ(p.value, 1u);
  }
  CHECK_EQ(r.call(kSbiExtBase, 3, 0x4442434E).value, 0u);  // DBCN: not implemented
  CHECK_EQ(r.call(kSbiExtBase, 4).error, 0);
  CHECK_EQ(r.call(kSbiExtBase, 99).error, kSbiErrNotSupported);
}

TEST(unknown_extension_is_not_supported) {
  Rig r;
  CHECK_EQ(r.call(0x0a000000, 0).error, kSbiErrNotSupported);
  CHECK_EQ(r.call(kSbiExtTime, 7).error, kSbiErrNotSupported);
  CHECK_EQ(r.call(5, 0).error, kSbiErrNotSupported);  // legacy remote fence.i: not offered
}

TEST(set_timer_programs_the_supervisor_timer) {
  Rig r;
  CHECK_EQ(r.call(kSbiExtTime, 0, 5000).error, 0);
  CHECK_EQ(r.harts[0]->stimecmp(), 5000u);
  CHECK(!(r.harts[0]->mip() & kMipSTIP));
  r.host.now = 6000;
  r.harts[0]->update_time(6000);
  CHECK(r.harts[0]->mip() & kMipSTIP);
  r.call(kSbiExtTime, 0, 9000);  // a new deadline clears the pending interrupt
  CHECK(!(r.harts[0]->mip() & kMipSTIP));
  r.call(kSbiLegacySetTimer, 0, 7000);
  CHECK_EQ(r.harts[0]->stimecmp(), 7000u);
}

TEST(send_ipi_raises_ssip_on_the_selected_harts_only) {
  Rig r(3);
  CHECK_EQ(r.call(kSbiExtIpi, 0, 0b10, 0).error, 0);
  CHECK(!(r.harts[0]->mip() & kMipSSIP));
  CHECK(r.harts[1]->mip() & kMipSSIP);
  CHECK(!(r.harts[2]->mip() & kMipSSIP));
  CHECK_EQ(r.call(kSbiExtIpi, 0, 0b1, 2).error, 0);  // base 2: hart 2
  CHECK(r.harts[2]->mip() & kMipSSIP);
  CHECK_EQ(r.call(kSbiExtIpi, 0, 0, ~0ULL).error, 0);  // base -1: every hart
  CHECK(r.harts[0]->mip() & kMipSSIP);
  CHECK_EQ(r.call(kSbiExtIpi, 0, 0b1000, 0).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtIpi, 0, 1, 1ULL << 40).error, kSbiErrInvalidParam);
}

TEST(remote_fences_succeed_for_valid_masks) {
  Rig r;
  CHECK_EQ(r.call(kSbiExtRfence, 0, 0b11, 0).error, 0);
  CHECK_EQ(r.call(kSbiExtRfence, 1, 0b11, 0, 0x1000).error, 0);
  CHECK_EQ(r.call(kSbiExtRfence, 2, 0, ~0ULL).error, 0);
  CHECK_EQ(r.call(kSbiExtRfence, 1, 0b100, 0).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtRfence, 3, 0b1, 0).error, kSbiErrNotSupported);  // HFENCE: no H extension
}

TEST(hsm_starts_a_stopped_hart_in_s_mode_with_its_arguments) {
  Rig r;
  CHECK(r.harts[1]->state() == HartState::kStopped);
  CHECK_EQ(r.call(kSbiExtHsm, 2, 1).value, 1u);  // STOPPED
  CHECK_EQ(r.call(kSbiExtHsm, 0, 1, 0x80400000, 0xabcd).error, 0);
  Hart& h = *r.harts[1];
  CHECK(h.state() == HartState::kRunning);
  CHECK_EQ(h.pc(), 0x80400000u);
  CHECK(h.priv() == kPrivS);
  CHECK_EQ(h.reg(10), 1u);
  CHECK_EQ(h.reg(11), 0xabcdu);
  CHECK_EQ(r.call(kSbiExtHsm, 2, 1).value, 0u);  // STARTED
  CHECK_EQ(r.call(kSbiExtHsm, 0, 1, 0x80400000, 0).error, kSbiErrAlreadyAvailable);
  CHECK_EQ(r.call(kSbiExtHsm, 0, 7, 0x80400000, 0).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtHsm, 2, 7).error, kSbiErrInvalidParam);
  // The started hart stops itself.
  r.call(kSbiExtHsm, 1, 0, 0, 0, 1);
  CHECK(h.state() == HartState::kStopped);
  CHECK_EQ(r.call(kSbiExtHsm, 2, 1).value, 1u);
}

TEST(srst_shuts_down_or_reboots) {
  Rig r;
  CHECK_EQ(r.call(kSbiExtSrst, 0, 0, 0).error, 0);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 1, 0).error, 0);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 2, 0).error, 0);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 77, 0).error, kSbiErrInvalidParam);
  CHECK_EQ(r.p.resets.size(), 3u);
  CHECK(r.p.resets[0] == SbiPlatform::ResetType::kShutdown);
  CHECK(r.p.resets[1] == SbiPlatform::ResetType::kColdReboot);
  CHECK(r.p.resets[2] == SbiPlatform::ResetType::kWarmReboot);
  r.call(kSbiLegacyShutdown, 0);
  CHECK(r.p.resets.back() == SbiPlatform::ResetType::kShutdown);
}

TEST(legacy_console_putchar_and_getchar) {
  Rig r;
  r.call(kSbiLegacyPutchar, 0, 'o');
  r.call(kSbiLegacyPutchar, 0, 'k');
  CHECK(r.p.out == "ok");
  CHECK_EQ(static_cast<int64_t>(r.call(kSbiLegacyGetchar, 0).error), -1);
  r.p.in = "z";
  CHECK_EQ(r.call(kSbiLegacyGetchar, 0).error, 'z');
}

// Found by tests/hostile/sbi.S: hart_start at an address that is not RAM used
// to succeed and leave the hart faulting at it for ever (§9.1 wants
// SBI_ERR_INVALID_ADDRESS); reserved suspend types and reset reasons were
// not refused (§9.4, §10.1), and a reserved reason even shut the system down.
TEST(hsm_start_refuses_addresses_outside_ram) {
  Rig r;
  for (uint64_t a : {0ULL, 0x10000000ULL, 0x7ffffffeULL, 0x80000000ULL + (16ULL << 20),
                     0x80000000ULL + (16ULL << 20) - 1, 0x80200001ULL, ~0ULL}) {
    CHECK_EQ(r.call(kSbiExtHsm, 0, 1, a, 0).error, kSbiErrInvalidAddress);
    CHECK(r.harts[1]->state() == HartState::kStopped);
  }
  CHECK_EQ(r.call(kSbiExtHsm, 0, 1, 0x80000000ULL + (16ULL << 20) - 2, 0).error, 0);
  CHECK(r.harts[1]->state() == HartState::kRunning);
  CHECK_EQ(r.call(kSbiExtHsm, 0, 7, 0x80200000, 0).error, kSbiErrInvalidParam);
}

TEST(hsm_suspend_refuses_reserved_types) {
  Rig r;
  CHECK_EQ(r.call(kSbiExtHsm, 3, 1).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtHsm, 3, 0x10000000).error, kSbiErrInvalidParam);  // platform-specific: none
  CHECK_EQ(r.call(kSbiExtHsm, 3, 0x80000001).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtHsm, 3, 0x80000000).error, kSbiErrNotSupported);  // default non-retentive
  CHECK(r.harts[0]->state() == HartState::kRunning);
}

TEST(srst_refuses_reserved_types_and_reasons_without_resetting) {
  Rig r;
  CHECK_EQ(r.call(kSbiExtSrst, 0, 3, 0).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 0, 2).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 0, 0xE0000000).error, kSbiErrInvalidParam);
  CHECK_EQ(r.call(kSbiExtSrst, 0, 1, 0xFFFFFFFF).error, kSbiErrInvalidParam);
  CHECK(r.p.resets.empty());
  CHECK_EQ(r.call(kSbiExtSrst, 0, 0, 1).error, 0);  // shutdown for a system failure
  CHECK_EQ(r.p.resets.size(), 1u);
}

TEST_MAIN()
