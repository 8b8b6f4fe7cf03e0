// Bad-input tests of the qcow2 parser: named malformed headers (each a clear
// error), then a seeded random mutator over the seed corpus
// (native/fuzz/corpus/qcow2) and fresh images, run for a bounded number of
// iterations and seconds under ASan/UBSan (native/Makefile.tests builds it so).
// The same target runs under libFuzzer: see native/fuzz/qcow2_fuzz.cc.
//
// Run alone:  make -f native/Makefile.tests build/ntest/native/block/qcow2_fuzz_test &&
//             build/ntest/native/block/qcow2_fuzz_test          (from the repo root)
// Env: VMSUP_FUZZ_ITERS (default 3000), VMSUP_FUZZ_SECONDS (default 20), VMSUP_FUZZ_SEED.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"
#include "fuzz/qcow2_fuzz_target.h"
#include "testing.h"

using namespace vmsup;
using Bytes = std::vector<uint8_t>;

static std::string dir() {
  static std::string d;
  if (d.empty()) {
    char t[] = "/tmp/vmsup-qcow2-fuzz-XXXXXX";
    d = mkdtemp(t);
  }
  return d;
}

static Bytes slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

static void spit(const std::string& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

static void put32(Bytes& b, size_t o, uint32_t v) {
  if (o + 4 > b.size()) return;
  for (int i = 0; i < 4; i++) b[o + i] = uint8_t(v >> (24 - 8 * i));
}
static void put64(Bytes& b, size_t o, uint64_t v) {
  put32(b, o, uint32_t(v >> 32));
  put32(b, o + 4, uint32_t(v));
}

// A fresh valid image (64 KiB clusters unless asked) with some data in it.
static Bytes fresh(uint32_t cluster = 65536, uint64_t size = 1 << 20) {
  std::string p = dir() + "/fresh.qcow2";
  unlink(p.c_str());
  std::string err;
  if (!block::create_image(p, DiskFormat::Qcow2, size, "", DiskFormat::Raw, cluster, &err)) return {};
  {
    auto b = open_block_backend(p, DiskFormat::Qcow2, false, &err);
    Bytes w(10000, 0x3c);
    if (b) b->write(4096, w.data(), w.size());
  }
  return slurp(p);
}

// Opens `img` (written to a scratch file) and returns the error, "" if it opened.
static std::string open_error(const Bytes& img, bool ro = true, const std::string& name = "case.qcow2") {
  std::string p = dir() + "/" + name;
  spit(p, img);
  std::string err;
  auto b = open_block_backend(p, DiskFormat::Qcow2, ro, &err);
  return b ? "" : err;
}

static bool has(const std::string& s, const char* what) {
  bool ok = s.find(what) != std::string::npos;
  if (!ok) std::printf("  expected \"%s\" in \"%s\"\n", what, s.c_str());
  return ok;
}

TEST(fresh_image_opens) {
  Bytes b = fresh();
  CHECK(!b.empty());
  std::string e = open_error(b, false);
  if (!e.empty()) std::printf("  %s\n", e.c_str());
  CHECK(e.empty());
}

TEST(cluster_bits_out_of_range) {
  for (uint32_t cb : {0u, 8u, 22u, 63u, 0xffffffffu}) {
    Bytes b = fresh();
    put32(b, 20, cb);
    CHECK(has(open_error(b), "cluster_bits"));
  }
}

TEST(huge_l1_size) {
  Bytes b = fresh();
  put32(b, 36, 0xffffffff);
  CHECK(has(open_error(b), "L1 table too large"));
  b = fresh();
  put32(b, 36, 4000000);  // within the cap but past the end of the file
  CHECK(has(open_error(b), "outside the file"));
  b = fresh();
  put32(b, 36, 0);  // too small for the virtual size
  CHECK(has(open_error(b), "L1 table too small"));
}

TEST(table_offsets_past_eof_or_misaligned) {
  Bytes b = fresh();
  put64(b, 40, uint64_t(1) << 40);
  CHECK(has(open_error(b), "L1 table"));
  b = fresh();
  put64(b, 40, 3 * 65536 + 512);
  CHECK(has(open_error(b), "not cluster-aligned"));
  b = fresh();
  put64(b, 48, uint64_t(1) << 50);
  CHECK(has(open_error(b), "refcount table"));
  b = fresh();
  put64(b, 48, 65536 + 8);
  CHECK(has(open_error(b), "not cluster-aligned"));
  b = fresh();
  put64(b, 40, 0);  // the L1 table over the header
  CHECK(has(open_error(b), "outside the file"));
  b = fresh();
  put32(b, 56, 0xffffff);
  CHECK(has(open_error(b), "refcount table too large"));
  b = fresh();
  put64(b, 40, 65536);  // L1 on top of the refcount table
  CHECK(has(open_error(b), "overlap"));
}

TEST(refcount_order_out_of_range) {
  for (uint32_t o : {7u, 64u, 0xffffffffu}) {
    Bytes b = fresh();
    put32(b, 96, o);
    CHECK(has(open_error(b), "refcount_order"));
  }
}

TEST(bad_versions_and_header_lengths) {
  Bytes b = fresh();
  put32(b, 4, 4);
  CHECK(has(open_error(b), "unsupported qcow2 version 4"));
  b = fresh();
  put32(b, 100, 103);
  CHECK(has(open_error(b), "header_length"));
  b = fresh();
  put32(b, 100, 0x7ffffff8);
  CHECK(has(open_error(b), "header_length"));
  b = fresh();
  put64(b, 24, ~0ull);
  CHECK(has(open_error(b), "too large"));
  b = fresh();
  put32(b, 60, 1u << 30);
  CHECK(has(open_error(b), "snapshots"));
}

TEST(backing_name_too_long_or_self) {
  Bytes b = fresh();
  put64(b, 8, 1024);
  put32(b, 16, 1024);
  CHECK(has(open_error(b), "backing file name length 1024"));
  b = fresh();
  put64(b, 8, 65536 - 4);
  put32(b, 16, 100);
  CHECK(has(open_error(b), "outside the first cluster"));
  b = fresh();
  const char* self = "self.qcow2";
  std::memcpy(&b[2048], self, strlen(self));
  put64(b, 8, 2048);
  put32(b, 16, static_cast<uint32_t>(strlen(self)));
  CHECK(has(open_error(b, true, "self.qcow2"), "loops"));
  // A FIFO as the backing file must not hang the open.
  std::string fifo = dir() + "/fifo";
  unlink(fifo.c_str());
  CHECK(mkfifo(fifo.c_str(), 0600) == 0);
  b = fresh();
  std::memcpy(&b[2048], "fifo", 4);
  put64(b, 8, 2048);
  put32(b, 16, 4);
  CHECK(has(open_error(b), "not a regular file"));
}

TEST(truncated_files) {
  Bytes full = fresh();
  for (size_t len : {size_t(0), size_t(3), size_t(50), size_t(71), size_t(72), size_t(100), size_t(104),
                     size_t(4096), size_t(65536), size_t(65536 * 2 + 100), size_t(65536 * 3)}) {
    Bytes b(full.begin(), full.begin() + std::min(len, full.size()));
    std::string e = open_error(b);
    CHECK(!e.empty());
  }
  // Truncated after the tables: opens, but reads of data past the end are zeros
  // or errors, never garbage from outside the buffer.
  Bytes b(full.begin(), full.begin() + 65536 * 4);
  std::string p = dir() + "/trunc.qcow2";
  spit(p, b);
  std::string err;
  auto img = open_block_backend(p, DiskFormat::Qcow2, true, &err);
  if (img) {
    Bytes r(16384, 0xff);
    int rc = img->read(4096, r.data(), r.size());
    CHECK(rc == 0 || rc == -EIO);
  }
}

TEST(unsupported_features_named) {
  Bytes b = fresh();
  put32(b, 32, 1);
  CHECK(has(open_error(b), "encryption"));
  b = fresh();
  put64(b, 72, 1 << 2);
  CHECK(has(open_error(b), "external data file"));
  b = fresh();
  put64(b, 72, 1 << 4);
  CHECK(has(open_error(b), "extended L2"));
  b = fresh();
  put64(b, 72, 1 << 3);
  b[104] = 1;
  CHECK(has(open_error(b), "zstd"));
  b = fresh();
  put64(b, 72, 1ull << 40);
  CHECK(has(open_error(b), "unknown incompatible feature: bit 40"));
}

TEST(corrupt_l2_entries_are_io_errors) {
  // Point L2 entries at the header, past the end, misaligned: reads and
  // writes fail with EIO (or read zeros past EOF) and never touch the header.
  Bytes base = fresh();
  uint64_t l1_off = 0;
  for (int i = 0; i < 8; i++) l1_off = (l1_off << 8) | base[40 + i];
  uint64_t l2_off = 0;
  for (int i = 0; i < 8; i++) l2_off = (l2_off << 8) | base[l1_off + i];
  l2_off &= 0x00fffffffffffe00ull;
  CHECK(l2_off != 0);
  for (uint64_t bad : {0x8000000000000000ull, 0x8000000000000200ull, 0x80000000ffff0000ull, 0x8000000000010000ull}) {
    Bytes b = base;
    put64(b, l2_off, bad);  // guest cluster 0
    std::string p = dir() + "/l2.qcow2";
    spit(p, b);
    std::string err;
    auto img = open_block_backend(p, DiskFormat::Qcow2, false, &err);
    CHECK(img != nullptr);
    if (!img) continue;
    Bytes w(4096, 0x42);
    int rc = img->write(0, w.data(), w.size());
    img.reset();
    uint8_t after[104];
    int fd = open(p.c_str(), O_RDONLY);
    CHECK_EQ(pread(fd, after, sizeof after, 0), 104);
    close(fd);
    CHECK(std::memcmp(after, b.data(), 104) == 0);  // the header is intact
    if (bad != 0x8000000000000000ull) CHECK_EQ(rc, -EIO);  // misaligned, past EOF, over the refcount table
    struct stat st;
    CHECK(stat(p.c_str(), &st) == 0 && st.st_size < (1 << 22));  // nothing written far away
  }
}

static std::vector<Bytes> seeds() {
  std::vector<Bytes> out;
  const char* cdir = "native/fuzz/corpus/qcow2";
  if (DIR* d = opendir(cdir)) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      Bytes b = slurp(std::string(cdir) + "/" + e->d_name);
      if (!b.empty()) out.push_back(std::move(b));
    }
    closedir(d);
  }
  out.push_back(fresh(512, 1 << 20));
  out.push_back(fresh(4096, 4 << 20));
  return out;
}

TEST(seeded_mutator) {
  const int iters = getenv("VMSUP_FUZZ_ITERS") ? atoi(getenv("VMSUP_FUZZ_ITERS")) : 3000;
  const int secs = getenv("VMSUP_FUZZ_SECONDS") ? atoi(getenv("VMSUP_FUZZ_SECONDS")) : 20;
  const uint32_t seed = getenv("VMSUP_FUZZ_SEED") ? uint32_t(atoi(getenv("VMSUP_FUZZ_SEED"))) : 20261128;
  std::vector<Bytes> corpus = seeds();
  CHECK(corpus.size() >= 8);  // the checked-in seed corpus was found
  std::mt19937_64 g(seed);
  const uint64_t interesting[] = {0, 1, 7, 8, 9, 21, 22, 511, 512, 65535, 65536, 65536 + 512, 1ull << 20,
                                  0x7fffffff, 0xffffffff, 1ull << 32, 1ull << 56, ~0ull,
                                  0x8000000000000000ull, 0x4000000000000000ull, 0xc000000000000000ull,
                                  0x8000000000000001ull};
  const size_t header_fields[] = {4, 8, 16, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88, 96, 100, 104, 112, 116};
  const auto start = std::chrono::steady_clock::now();
  std::string scratch = dir() + "/mut.qcow2";
  int n = 0, opened = 0;
  for (; n < iters; n++) {
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(secs)) break;
    Bytes b = corpus[g() % corpus.size()];
    int muts = 1 + int(g() % 8);
    for (int m = 0; m < muts && !b.empty(); m++) {
      switch (g() % 7) {
        case 0: b[g() % b.size()] = uint8_t(g()); break;
        case 1: b[g() % b.size()] ^= uint8_t(1u << (g() % 8)); break;
        case 2: {
          size_t o = header_fields[g() % (sizeof header_fields / sizeof header_fields[0])];
          uint64_t v = interesting[g() % (sizeof interesting / sizeof interesting[0])];
          if (g() & 1) put32(b, o, uint32_t(v)); else put64(b, o, v);
          break;
        }
        case 3: {  // a table entry somewhere: L1/L2/refcount table/blocks
          size_t o = (g() % b.size()) & ~size_t(7);
          uint64_t v = interesting[g() % (sizeof interesting / sizeof interesting[0])];
          if (g() & 1) v = (v & 0xc000000000000001ull) | ((g() % (b.size() + 4096)) & ~uint64_t(511));
          put64(b, o, v);
          break;
        }
        case 4: b.resize(g() % (b.size() + 1)); break;
        case 5: b.resize(b.size() + g() % 4096, 0); break;
        case 6: {  // a header extension with a random type/length
          size_t o = 104 + (g() % 64) * 8;
          put32(b, o, uint32_t(g()));
          put32(b, o + 4, uint32_t(g() % 70000));
          break;
        }
      }
    }
    opened += vmsup_fuzz::qcow2_fuzz_one(b.data(), b.size(), scratch);
  }
  std::printf("  %d mutated images, %d successful opens\n", n, opened);
  CHECK(n > 100);
  CHECK(opened > n / 20);  // the mutator reaches past the header checks
}

TEST(cleanup) {
  std::string cmd = "rm -rf '" + dir() + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_MAIN()
