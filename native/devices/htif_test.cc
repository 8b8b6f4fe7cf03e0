// HTIF (devices/htif.h): exit codes, console putchar with tohost cleared and
// fromhost answered, the riscv-tests syscall block (write, exit), getchar
// staying pending until the host has a byte, and guest pointers outside RAM.
#include "devices/htif.h"

#include <memory>
#include <string>

#include "testing.h"

using namespace vmsup;

namespace {

constexpr uint64_t B = GuestMemory::kBase;
constexpr uint64_t kTo = B + 0x1000, kFrom = B + 0x1040;

struct Rig {
  GuestMemory mem;
  std::string out;
  int next_in = -1;
  std::unique_ptr<Htif> htif;
  Rig() {
    std::string err;
    mem.init(16 << 20, &err);
    htif = std::make_unique<Htif>(
        mem, kTo, kFrom, [this](const uint8_t* p, size_t n) { out.append(reinterpret_cast<const char*>(p), n); },
        [this]() { return next_in; });
  }
  void request(uint64_t v) { mem.write_obj<uint64_t>(kTo, v); }
  uint64_t to() {
    uint64_t v = 0;
    mem.read_obj<uint64_t>(kTo, &v);
    return v;
  }
  uint64_t from() {
    uint64_t v = 0;
    mem.read_obj<uint64_t>(kFrom, &v);
    return v;
  }
};

}  // namespace

TEST(exit_codes) {
  Rig r;
  uint64_t code = 0;
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);  // tohost = 0: nothing
  r.request(1);
  CHECK(r.htif->poll(&code) == Htif::Event::kPass);
  r.request((42 << 1) | 1);
  CHECK(r.htif->poll(&code) == Htif::Event::kFail);
  CHECK_EQ(code, 42u);
}

TEST(putchar_clears_tohost_and_answers_in_fromhost) {
  Rig r;
  uint64_t code;
  r.request((1ULL << 56) | (1ULL << 48) | 'x');
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  CHECK(r.out == "x");
  CHECK_EQ(r.to(), 0u);
  CHECK_EQ(r.from(), (1ULL << 56) | (1ULL << 48));
}

TEST(syscall_write_and_exit) {
  Rig r;
  uint64_t code;
  const uint64_t blk = B + 0x2000, buf = B + 0x3000;
  r.mem.write(buf, "hello", 5);
  const uint64_t args[4] = {64, 1, buf, 5};
  r.mem.write(blk, args, sizeof(args));
  r.request(blk);
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  CHECK(r.out == "hello");
  uint64_t ret = 0;
  r.mem.read_obj<uint64_t>(blk, &ret);
  CHECK_EQ(ret, 5u);
  CHECK_EQ(r.from(), 1u);
  // A buffer outside RAM is refused with -EFAULT, nothing is written.
  const uint64_t bad[4] = {64, 1, 0x1000, 5};
  r.mem.write(blk, bad, sizeof(bad));
  r.request(blk);
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  r.mem.read_obj<uint64_t>(blk, &ret);
  CHECK_EQ(ret, static_cast<uint64_t>(-14));
  CHECK(r.out == "hello");
  const uint64_t ex[4] = {93, 3, 0, 0};
  r.mem.write(blk, ex, sizeof(ex));
  r.request(blk);
  CHECK(r.htif->poll(&code) == Htif::Event::kFail);
  CHECK_EQ(code, 3u);
  // A syscall block outside RAM is ignored (tohost is still cleared).
  r.request(0x10);
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  CHECK_EQ(r.to(), 0u);
}

TEST(getchar_stays_pending_until_a_byte_arrives) {
  Rig r;
  uint64_t code;
  r.mem.write_obj<uint64_t>(kFrom, 0);
  r.request(1ULL << 56);
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  CHECK(r.to() != 0);
  CHECK_EQ(r.from(), 0u);
  r.next_in = 'k';
  CHECK(r.htif->poll(&code) == Htif::Event::kNone);
  CHECK_EQ(r.to(), 0u);
  CHECK_EQ(r.from(), (1ULL << 56) | 0x100 | 'k');
}

TEST_MAIN()
