// Unit tests of the raw backend and of open_block_backend's locking.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "block/backend.h"
#include "testing.h"

using namespace vmsup;

static std::string tmpfile_of(size_t size) {
  char tmpl[] = "/tmp/vmsup-raw-test-XXXXXX";
  int fd = mkstemp(tmpl);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return "";
  close(fd);
  return tmpl;
}

TEST(raw_reads_back_what_it_wrote) {
  std::string p = tmpfile_of(1 << 20);
  std::string err;
  auto b = open_block_backend(p, DiskFormat::Raw, false, &err);
  CHECK(b != nullptr);
  if (!b) return;
  CHECK_EQ(b->size(), 1u << 20);
  std::vector<uint8_t> w(4096), r(4096);
  for (size_t i = 0; i < w.size(); i++) w[i] = static_cast<uint8_t>(i * 7 + 1);
  CHECK_EQ(b->write(8192, w.data(), w.size()), 0);
  CHECK_EQ(b->flush(), 0);
  CHECK_EQ(b->read(8192, r.data(), r.size()), 0);
  CHECK(w == r);
  CHECK_EQ(b->write((1 << 20) - 100, w.data(), 200), -EINVAL);  // past the end
  b.reset();
  unlink(p.c_str());
}

TEST(raw_with_a_qcow2_header_stays_raw) {
  std::string p = tmpfile_of(1 << 20);
  int fd = open(p.c_str(), O_WRONLY);
  const uint8_t magic[] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
  CHECK_EQ(pwrite(fd, magic, sizeof magic, 0), (ssize_t)sizeof magic);
  close(fd);
  std::string err;
  auto b = open_block_backend(p, DiskFormat::Raw, true, &err);
  CHECK(b != nullptr);
  if (!b) return;
  CHECK_EQ(b->size(), 1u << 20);  // the file's size, not a qcow2 virtual size
  uint8_t r[8];
  CHECK_EQ(b->read(0, r, 8), 0);
  CHECK(std::memcmp(r, magic, 8) == 0);
  CHECK(b->read_only());
  CHECK_EQ(b->write(0, r, 8), -EROFS);
  unlink(p.c_str());
}

TEST(second_writer_is_refused_naming_the_file) {
  std::string p = tmpfile_of(1 << 20);
  std::string err;
  auto a = open_block_backend(p, DiskFormat::Raw, false, &err);
  CHECK(a != nullptr);
  auto b = open_block_backend(p, DiskFormat::Raw, false, &err);
  CHECK(b == nullptr);
  CHECK(err.find(p) != std::string::npos);
  CHECK(err.find("in use") != std::string::npos);
  auto c = open_block_backend(p, DiskFormat::Raw, true, &err);
  CHECK(c == nullptr);  // a reader cannot share a file that is being written
  a.reset();
  auto d = open_block_backend(p, DiskFormat::Raw, true, &err);
  auto e = open_block_backend(p, DiskFormat::Raw, true, &err);
  CHECK(d != nullptr && e != nullptr);  // readers share
  auto f = open_block_backend(p, DiskFormat::Raw, false, &err);
  CHECK(f == nullptr);  // no writer while it is someone's base
  unlink(p.c_str());
}

TEST(missing_file_is_a_clear_error) {
  std::string err;
  auto b = open_block_backend("/nonexistent/disk.img", DiskFormat::Raw, false, &err);
  CHECK(b == nullptr);
  CHECK(err.find("/nonexistent/disk.img") != std::string::npos);
}

TEST_MAIN()
