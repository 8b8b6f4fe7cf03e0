// Save/restore of a whole machine (native/snapshot): a round trip continues
// the guest where it was; named malformed files are each refused with their
// code (bad magic, unknown format or section version, truncation, a CRC
// mismatch, a section over its cap, a pc in MMIO, a queue outside RAM, a PLIC
// priority out of range, a different machine); then a seeded mutator over a
// valid snapshot (with and without fixed-up CRCs, so mutations reach the
// field validators) runs for a bounded number of iterations and seconds
// under ASan/UBSan. The same target runs under libFuzzer: native/fuzz/snapshot_fuzz.cc.
//
// Run alone:  make -f native/Makefile.tests build/ntest/native/snapshot/snapshot_test &&
//             build/ntest/native/snapshot/snapshot_test          (from the repo root)
// Env: VMSUP_FUZZ_ITERS (default 400), VMSUP_FUZZ_SECONDS (default 20), VMSUP_FUZZ_SEED.
#include <chrono>
#include <cstdlib>
#include <random>

#include "fuzz/snapshot_fuzz_target.h"
#include "testing.h"

using namespace vmsup;
using namespace vmsup_fuzz;

#define CHECK_STR(a, b)                                                          \
  do {                                                                           \
    const std::string va_ = (a), vb_ = (b);                                      \
    if (va_ != vb_) {                                                            \
      std::printf("  %s:%d: %s is \"%s\", not \"%s\"\n", __FILE__, __LINE__, #a, \
                  va_.c_str(), vb_.c_str());                                     \
      vmsup_test::failures()++;                                                  \
    }                                                                            \
  } while (0)

namespace {

std::string restore_code(const Bytes& f, std::string* msg = nullptr) {
  MachineError err;
  if (restore_bytes(f, &err)) return "ok";
  if (msg) *msg = err.message;
  return err.code;
}

void put32(Bytes* f, size_t at, uint32_t v) { std::memcpy(&(*f)[at], &v, 4); }
void put64(Bytes* f, size_t at, uint64_t v) { std::memcpy(&(*f)[at], &v, 8); }

}  // namespace

TEST(round_trip_continues_the_guest_where_it_was) {
  MachineError err;
  auto a = Machine::create(loop_config(), &err);
  CHECK(a != nullptr);
  if (!a) return;
  a->run(5);
  const uint64_t count = a->hart(0).reg(10), pc = a->hart(0).pc();
  CHECK(count > 0);
  Bytes file = save_bytes(*a);
  CHECK(!file.empty());
  // The loop stores its count at pc-of-auipc + 256 in RAM: the save holds it.
  auto b = Machine::create(loop_config(), &err);
  CHECK(b != nullptr);
  if (!b) return;
  int fd = memfile(file);
  std::string meta;
  CHECK(b->restore(fd, false, &meta, &err));
  ::close(fd);
  CHECK_STR(meta, "{}");
  CHECK_EQ(b->hart(0).reg(10), count);
  CHECK_EQ(b->hart(0).pc(), pc);
  CHECK(b->hart(1).state() == a->hart(1).state());
  uint64_t stored_a = 0, stored_b = 0;
  const uint64_t at = GuestMemory::kBase + 0x200000 + 64 + 4 + 256;
  CHECK(a->memory().read_obj(at, &stored_a));
  CHECK(b->memory().read_obj(at, &stored_b));
  CHECK_EQ(stored_a, stored_b);
  CHECK(stored_b > 0);
  b->run(3);
  CHECK(b->hart(0).reg(10) > count);
  // Only touched pages are kept: a 16 MiB machine that ran a loop saves a few KiB.
  CHECK(file.size() < (1u << 20));
}

TEST(named_malformed_files_are_refused_with_their_code) {
  const Bytes& good = seed_snapshot();
  CHECK(!good.empty());
  if (good.empty()) return;
  CHECK_STR(restore_code(good), "ok");

  Bytes f = good;
  std::memcpy(f.data(), "NOTASNAP", 8);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_FORMAT");

  f = good;
  put32(&f, 8, kSnapshotVersion + 1);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_VERSION");
  f = good;
  put32(&f, 8, 0);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_VERSION");

  // Truncation anywhere: at each section boundary, inside each, and the empty file.
  for (size_t off : section_offsets(good)) {
    for (size_t cut : {off, off + 5, off + 13}) {
      if (cut >= good.size()) continue;
      Bytes t(good.begin(), good.begin() + static_cast<long>(cut));
      CHECK_STR(restore_code(t), "ERR_VMSUP_SNAPSHOT_CORRUPT");
    }
  }
  CHECK_STR(restore_code(Bytes()), "ERR_VMSUP_SNAPSHOT_FORMAT");

  size_t p;
  uint32_t len;
  std::string msg;
  // A flipped payload byte: the CRC catches it.
  CHECK(find_section(good, "HART", &p, &len));
  f = good;
  f[p + 40] ^= 1;
  CHECK_STR(restore_code(f, &msg), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  CHECK(msg.find("CRC") != std::string::npos);

  // A section version this build does not know.
  f = good;
  put32(&f, p - 12 + 4, 7);
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_VERSION");

  // A length over the section's cap (the file is not read that far).
  f = good;
  put32(&f, p - 12 + 8, 1u << 30);
  CHECK_STR(restore_code(f, &msg), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  CHECK(msg.find("cap") != std::string::npos);

  // The pc in MMIO (the UART), with a valid CRC: the validator, not the CRC, refuses it.
  f = good;
  put64(&f, p + 8 + 32 * 8, 0x10000000);
  fix_crcs(&f);
  CHECK_STR(restore_code(f, &msg), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  CHECK(msg.find("pc") != std::string::npos);

  // A reserved privilege level.
  f = good;
  f[p + 8 + 32 * 8 + 8] = 2;
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");

  // Slot 0 (the entropy device): a ready queue whose descriptor table is outside RAM.
  CHECK(find_section(good, "VIRT", &p, &len));
  f = good;
  f[p + 48] = 1;                 // ready
  put64(&f, p + 49, 0x1000);     // desc
  fix_crcs(&f);
  CHECK_STR(restore_code(f, &msg), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  CHECK(msg.find("outside guest RAM") != std::string::npos);
  // A queue size that is not a power of two.
  f = good;
  f[p + 46] = 3;
  f[p + 47] = 0;
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  // Driver features never offered.
  f = good;
  put64(&f, p + 24, 1ULL << 40);
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");

  // A PLIC priority above 7.
  CHECK(find_section(good, "PLIC", &p, &len));
  f = good;
  put32(&f, p + 12, 9);
  fix_crcs(&f);
  CHECK_STR(restore_code(f, &msg), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  CHECK(msg.find("priority") != std::string::npos);

  // RAM pages beyond the end of RAM.
  CHECK(find_section(good, "RAM ", &p, &len));
  f = good;
  put64(&f, p, 1ULL << 40);
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");
}

TEST(a_different_machine_is_a_mismatch) {
  const Bytes& good = seed_snapshot();
  MachineError err;
  MachineConfig cfg = loop_config();
  cfg.mem_size = 32ULL << 20;
  auto m = Machine::create(cfg, &err);
  CHECK(m != nullptr);
  if (!m) return;
  int fd = memfile(good);
  std::string meta;
  CHECK(!m->restore(fd, false, &meta, &err));
  ::close(fd);
  CHECK_STR(err.code, "ERR_VMSUP_SNAPSHOT_MISMATCH");
  CHECK(m->run(1) == RunResult::kError);

  cfg = loop_config();
  cfg.cpus = 1;
  m = Machine::create(cfg, &err);
  fd = memfile(good);
  CHECK(!m->restore(fd, false, &meta, &err));
  ::close(fd);
  CHECK_STR(err.code, "ERR_VMSUP_SNAPSHOT_MISMATCH");
}

TEST(dirty_bitmap_marks_cpu_and_device_writes) {
  MachineError err;
  auto m = Machine::create(loop_config(), &err);
  CHECK(m != nullptr);
  if (!m) return;
  std::vector<uint64_t> bits;
  m->take_dirty_pages(&bits);  // the boot loader's writes
  const uint64_t page = (0x200000 + 64 + 4 + 256) / GuestMemory::kPageSize;
  CHECK((bits[page / 64] >> (page % 64)) & 1);
  CHECK(!m->memory().page_dirty(page));
  m->run(2);  // the loop's store fills a writable TLB entry
  CHECK(m->memory().page_dirty(page));
  // After a take, the TLB is flushed: the same store marks the page again.
  m->take_dirty_pages(&bits);
  CHECK((bits[page / 64] >> (page % 64)) & 1);
  CHECK(!m->memory().page_dirty(page));
  m->run(2);
  CHECK(m->memory().page_dirty(page));
  CHECK(!m->memory().page_dirty(page + 100));
  uint32_t v = 1;
  CHECK(m->memory().write_obj(GuestMemory::kBase + (page + 100) * GuestMemory::kPageSize, v));
  CHECK(m->memory().page_dirty(page + 100));
}

TEST(a_live_send_restores_with_its_last_pass_winning) {
  MachineError err;
  auto a = Machine::create(loop_config(), &err);
  CHECK(a != nullptr);
  if (!a) return;
  a->run(3);
  int fd = memfd_create("vmsup-live", MFD_CLOEXEC);
  bool done = false;
  uint64_t bytes = 0;
  CHECK(a->live_begin(fd, "{\"live\":1}", &err));
  while (!done && a->live_step(4096, &done, &err)) {
  }
  CHECK(done);
  a->run(2);  // the loop keeps storing: its page is dirty again
  CHECK(a->live_collect() >= 1);
  CHECK(a->live_pass(&err));
  done = false;
  while (!done && a->live_step(4096, &done, &err)) {
  }
  a->run(2);
  const uint64_t count = a->hart(0).reg(10);
  CHECK(a->live_finish(0, &bytes, &err));
  Bytes file = read_back(fd);
  ::close(fd);
  CHECK_EQ(bytes, file.size());
  size_t p;
  uint32_t len;
  CHECK(find_section(file, "PASS", &p, &len, 1));
  CHECK(find_section(file, "END ", &p, &len));
  CHECK_EQ(len, 16u);
  auto b = Machine::create(loop_config(), &err);
  fd = memfile(file);
  std::string meta;
  if (!b->restore(fd, false, &meta, &err)) {
    std::printf("  restore: %s %s\n", err.code.c_str(), err.message.c_str());
    vmsup_test::failures()++;
  }
  ::close(fd);
  CHECK_STR(meta, "{\"live\":1}");
  CHECK_EQ(b->hart(0).reg(10), count);
  uint64_t stored_a = 0, stored_b = 0;
  const uint64_t at = GuestMemory::kBase + 0x200000 + 64 + 4 + 256;
  CHECK(a->memory().read_obj(at, &stored_a));
  CHECK(b->memory().read_obj(at, &stored_b));
  CHECK_EQ(stored_a, stored_b);

  // A pass out of sequence, an END whose pass count differs, PASS in a version 1 file.
  Bytes f = file;
  CHECK(find_section(f, "PASS", &p, &len, 1));
  put32(&f, p, 3);
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  f = file;
  CHECK(find_section(f, "END ", &p, &len));
  put64(&f, p + 8, 5);
  fix_crcs(&f);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");
  f = file;
  put32(&f, 8, 1);
  CHECK_STR(restore_code(f), "ERR_VMSUP_SNAPSHOT_CORRUPT");
}

TEST(seeded_mutations_never_crash) {
  const char* it_env = std::getenv("VMSUP_FUZZ_ITERS");
  const char* sec_env = std::getenv("VMSUP_FUZZ_SECONDS");
  const char* seed_env = std::getenv("VMSUP_FUZZ_SEED");
  const long iters = it_env ? std::atol(it_env) : 400;
  const long secs = sec_env ? std::atol(sec_env) : 20;
  const unsigned seed = seed_env ? static_cast<unsigned>(std::atol(seed_env)) : 20261206u;
  std::mt19937 rng(seed);
  const auto t0 = std::chrono::steady_clock::now();
  long accepted = 0, n = 0;
  for (; n < iters; n++) {
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(secs)) break;
    Bytes prog(1 + rng() % 40);
    for (auto& b : prog) b = static_cast<uint8_t>(rng());
    if (prog[0] == 0xff) prog[0] = 0;
    if (n % 4 != 0) prog[0] |= 1;  // most runs fix the CRCs, to reach the validators
    MachineError err;
    if (restore_bytes(mutate(prog.data(), prog.size()), &err)) accepted++;
    else CHECK(err.code.rfind("ERR_VMSUP_SNAPSHOT_", 0) == 0);
  }
  std::printf("  %ld mutated snapshots (seed %u), %ld accepted\n", n, seed, accepted);
  CHECK(n > 0);
}

TEST_MAIN()
