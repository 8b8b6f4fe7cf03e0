// The qcow2 fuzz target: one input = the bytes of an image file. It is written
// to a scratch file and opened read-only and read-write through
// open_block_backend(), then read and written at offsets the input itself picks
// (so the fuzzer steers the header, the L1/L2 tables, the refcount table and
// blocks, compressed descriptors, backing names). Every outcome must be an
// error message or a status, never a crash, hang or unbounded allocation.
//
// Used by native/fuzz/qcow2_fuzz.cc (libFuzzer) and by
// native/block/qcow2_fuzz_test.cc (a seeded mutator run by the unit tests).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "block/backend.h"

namespace vmsup_fuzz {

// Returns how many opens succeeded (0..2): handy for the tests' statistics.
inline int qcow2_fuzz_one(const uint8_t* data, size_t size, const std::string& scratch) {
  int fd = ::open(scratch.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  // Offsets derived from the input so that mutations move them too.
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < std::min<size_t>(size, 256); i++) h = (h ^ data[i]) * 1099511628211ull;
  int opened = 0;
  std::vector<uint8_t> buf(256 * 1024);
  for (int ro = 1; ro >= 0; ro--) {
    std::string err;
    auto b = vmsup::open_block_backend(scratch, vmsup::DiskFormat::Qcow2, ro != 0, &err);
    if (!b) {
      // A refusal must say something.
      if (err.empty()) __builtin_trap();
      continue;
    }
    opened++;
    uint64_t vs = b->size();
    auto pick = [&](uint64_t salt, uint64_t len) -> uint64_t {
      if (vs <= len) return 0;
      uint64_t x = (h ^ (salt * 0x9e3779b97f4a7c15ull));
      x ^= x >> 29;
      return x % (vs - len);
    };
    for (uint64_t i = 0; i < 6; i++) {
      uint64_t len = std::min<uint64_t>(vs, i == 0 ? buf.size() : 4096 + 777 * i);
      uint64_t off = i == 0 ? 0 : pick(i, len);
      (void)b->read(off, buf.data(), len);
    }
    if (!ro) {
      for (uint64_t i = 0; i < 4; i++) {
        uint64_t len = std::min<uint64_t>(vs, 512 + 3000 * i);
        uint64_t off = pick(100 + i, len);
        std::memset(buf.data(), int(0xa5 + i), len);
        // (No read-back check: a hostile image may map two guest clusters to
        // one host cluster, as QEMU would also honour; what must hold is no
        // crash, hang or runaway allocation, and no write into metadata.)
        if (len > 0 && b->write(off, buf.data(), len) == 0) (void)b->read(off, buf.data(), len);
      }
      (void)b->flush();
    }
  }
  return opened;
}

}  // namespace vmsup_fuzz
