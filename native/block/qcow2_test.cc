// Unit tests of the qcow2 backend: create, write, read back, reopen, backing
// chains, refusal of loops, and `qemu-img check` on what we wrote (when
// qemu-img is installed, as scripts/install-deps.sh makes it).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"
#include "testing.h"

using namespace vmsup;
using namespace vmsup::block;

static std::string tmpdir() {
  static std::string d;
  if (d.empty()) {
    char t[] = "/tmp/vmsup-qcow2-test-XXXXXX";
    d = mkdtemp(t);
  }
  return d;
}

static bool qemu_img_check(const std::string& p) {
  if (system("command -v qemu-img >/dev/null 2>&1") != 0) return true;
  std::string cmd = "qemu-img check -q -f qcow2 '" + p + "' >/dev/null 2>&1";
  return system(cmd.c_str()) == 0;
}

// A reference model: the bytes the disk should hold.
struct Model {
  std::vector<uint8_t> bytes;
  explicit Model(size_t n) : bytes(n, 0) {}
};

static void fill(std::vector<uint8_t>& v, uint32_t seed) {
  std::mt19937 g(seed);
  for (auto& b : v) b = static_cast<uint8_t>(g());
}

static void exercise(uint32_t cluster, uint64_t disk, int ops, uint32_t seed) {
  std::string p = tmpdir() + "/img-" + std::to_string(cluster) + "-" + std::to_string(seed) + ".qcow2";
  unlink(p.c_str());
  std::string err;
  CHECK(create_image(p, DiskFormat::Qcow2, disk, "", DiskFormat::Raw, cluster, &err));
  Model m(disk);
  std::mt19937 g(seed);
  {
    auto b = open_block_backend(p, DiskFormat::Qcow2, false, &err);
    CHECK(b != nullptr);
    if (!b) { std::printf("  %s\n", err.c_str()); return; }
    CHECK_EQ(b->size(), disk);
    for (int i = 0; i < ops; i++) {
      uint64_t len = 1 + g() % (3 * cluster);
      uint64_t off = g() % (disk - len);
      std::vector<uint8_t> w(len);
      fill(w, g());
      CHECK_EQ(b->write(off, w.data(), len), 0);
      std::memcpy(&m.bytes[off], w.data(), len);
    }
    CHECK_EQ(b->flush(), 0);
    std::vector<uint8_t> r(disk);
    CHECK_EQ(b->read(0, r.data(), disk), 0);
    CHECK(r == m.bytes);
  }
  auto b = open_block_backend(p, DiskFormat::Qcow2, true, &err);
  CHECK(b != nullptr);
  if (!b) return;
  std::vector<uint8_t> r(disk);
  CHECK_EQ(b->read(0, r.data(), disk), 0);
  CHECK(r == m.bytes);
  b.reset();
  CHECK(qemu_img_check(p));
}

TEST(random_writes_read_back_64k) { exercise(65536, 8 << 20, 200, 1); }
TEST(random_writes_read_back_512) { exercise(512, 2 << 20, 300, 2); }  // grows the refcount table
TEST(random_writes_read_back_4k) { exercise(4096, 4 << 20, 300, 3); }
TEST(random_writes_read_back_2m) { exercise(2 << 20, 16 << 20, 40, 4); }

TEST(backing_chain_copy_on_write) {
  std::string base = tmpdir() + "/base.raw", mid = tmpdir() + "/mid.qcow2", top = tmpdir() + "/top.qcow2";
  unlink(base.c_str()); unlink(mid.c_str()); unlink(top.c_str());
  std::string err;
  const uint64_t disk = 4 << 20;
  CHECK(create_image(base, DiskFormat::Raw, disk, "", DiskFormat::Raw, 0, &err));
  std::vector<uint8_t> want(disk);
  fill(want, 9);
  {
    auto b = open_block_backend(base, DiskFormat::Raw, false, &err);
    CHECK_EQ(b->write(0, want.data(), disk), 0);
  }
  CHECK(create_image(mid, DiskFormat::Qcow2, 0, "base.raw", DiskFormat::Raw, 65536, &err));
  {
    auto b = open_block_backend(mid, DiskFormat::Qcow2, false, &err);
    CHECK(b != nullptr);
    if (!b) { std::printf("  %s\n", err.c_str()); return; }
    CHECK_EQ(b->size(), disk);
    std::vector<uint8_t> w(1000, 0xab);
    CHECK_EQ(b->write(70000, w.data(), w.size()), 0);  // partial: rest copied from base
    std::memcpy(&want[70000], w.data(), w.size());
  }
  CHECK(create_image(top, DiskFormat::Qcow2, 0, "mid.qcow2", DiskFormat::Qcow2, 4096, &err));
  auto t = open_block_backend(top, DiskFormat::Qcow2, false, &err);
  CHECK(t != nullptr);
  if (!t) { std::printf("  %s\n", err.c_str()); return; }
  std::vector<uint8_t> w(10, 0x5a);
  CHECK_EQ(t->write(4095, w.data(), w.size()), 0);  // crosses a 4 KiB cluster boundary
  std::memcpy(&want[4095], w.data(), w.size());
  std::vector<uint8_t> r(disk);
  CHECK_EQ(t->read(0, r.data(), disk), 0);
  CHECK(r == want);
  // The base is shared read-only while the chain is open: no writer may take it.
  CHECK(open_block_backend(mid, DiskFormat::Qcow2, false, &err) == nullptr);
  CHECK(open_block_backend(mid, DiskFormat::Qcow2, true, &err) != nullptr);
  t.reset();
  CHECK(qemu_img_check(mid));
  CHECK(qemu_img_check(top));
}

TEST(backing_loop_is_refused) {
  std::string a = tmpdir() + "/loop-a.qcow2", b = tmpdir() + "/loop-b.qcow2";
  unlink(a.c_str()); unlink(b.c_str());
  std::string err;
  CHECK(create_image(b, DiskFormat::Qcow2, 1 << 20, "", DiskFormat::Raw, 65536, &err));
  CHECK(create_image(a, DiskFormat::Qcow2, 0, "loop-b.qcow2", DiskFormat::Qcow2, 65536, &err));
  // Rewrite b's header to point back at a: make b by hand as an overlay of a.
  unlink(b.c_str());
  CHECK(create_image(b, DiskFormat::Qcow2, 1 << 20, "", DiskFormat::Raw, 65536, &err));
  {
    // Patch b: backing name "loop-a.qcow2" at offset 1024, qcow2 format probed by magic.
    int fd = open(b.c_str(), O_RDWR);
    const char* name = "loop-a.qcow2";
    uint8_t hdr[12] = {0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, (uint8_t)strlen(name)};
    CHECK_EQ(pwrite(fd, name, strlen(name), 1024), (ssize_t)strlen(name));
    CHECK_EQ(pwrite(fd, hdr, 12, 8), 12);
    close(fd);
  }
  auto x = open_block_backend(a, DiskFormat::Qcow2, true, &err);
  CHECK(x == nullptr);
  CHECK(err.find("loop") != std::string::npos);
  // Pointing to itself.
  {
    int fd = open(b.c_str(), O_RDWR);
    const char* name = "loop-b.qcow2";
    CHECK_EQ(pwrite(fd, name, strlen(name), 1024), (ssize_t)strlen(name));
    close(fd);
  }
  x = open_block_backend(b, DiskFormat::Qcow2, true, &err);
  CHECK(x == nullptr);
  CHECK(err.find("loop") != std::string::npos);
}

TEST(chain_deeper_than_limit_is_refused) {
  std::string err;
  std::string prev = "deep-0.qcow2";
  unlink((tmpdir() + "/" + prev).c_str());
  CHECK(create_image(tmpdir() + "/" + prev, DiskFormat::Qcow2, 1 << 20, "", DiskFormat::Raw, 65536, &err));
  for (int i = 1; i < kMaxChainDepth; i++) {
    std::string cur = "deep-" + std::to_string(i) + ".qcow2";
    unlink((tmpdir() + "/" + cur).c_str());
    CHECK(create_image(tmpdir() + "/" + cur, DiskFormat::Qcow2, 0, prev, DiskFormat::Qcow2, 65536, &err));
    prev = cur;
  }
  auto ok = open_block_backend(tmpdir() + "/" + prev, DiskFormat::Qcow2, true, &err);
  CHECK(ok != nullptr);  // exactly the limit opens
  ok.reset();
  std::string over = tmpdir() + "/deep-over.qcow2";
  unlink(over.c_str());
  CHECK(!create_image(over, DiskFormat::Qcow2, 0, prev, DiskFormat::Qcow2, 65536, &err));
  CHECK(err.find("too deep") != std::string::npos);
}

TEST(raw_create_is_sparse_and_exclusive) {
  std::string p = tmpdir() + "/sparse.raw";
  unlink(p.c_str());
  std::string err;
  CHECK(create_image(p, DiskFormat::Raw, 64 << 20, "", DiskFormat::Raw, 0, &err));
  struct stat st;
  CHECK(stat(p.c_str(), &st) == 0);
  CHECK_EQ(st.st_size, 64 << 20);
  CHECK(st.st_blocks < 64);
  CHECK(!create_image(p, DiskFormat::Raw, 64 << 20, "", DiskFormat::Raw, 0, &err));
  CHECK(err.find("exists") != std::string::npos);
}

TEST(cleanup) {
  std::string cmd = "rm -rf '" + tmpdir() + "'";
  CHECK(system(cmd.c_str()) == 0);
}

TEST_MAIN()
