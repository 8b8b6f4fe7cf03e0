// One fuzz input against the snapshot restore path (native/snapshot): a valid
// snapshot of a small two-hart machine running a loop is taken once; each
// input is a little program of mutations applied to it (set, flip, truncate,
// write a 64-bit value), optionally followed by re-computing every section's
// CRC so that the mutation reaches the field validators and not only the CRC
// check; input byte 0 = 0xff instead means "the rest is the whole file". The
// result is restored into a fresh machine; a restore that succeeds is run
// for a moment, so a state that validation let through cannot crash the
// emulator either. Nothing may crash, hang or leak whatever the bytes are.
// Used by native/fuzz/snapshot_fuzz.cc (libFuzzer) and, with a seeded
// generator, by native/snapshot/snapshot_test.cc.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "machine/machine.h"
#include "snapshot/snapshot.h"

namespace vmsup_fuzz {

using namespace vmsup;
using Bytes = std::vector<uint8_t>;

inline uint32_t insn_jal(unsigned rd, int32_t imm) {
  uint32_t i = static_cast<uint32_t>(imm) & 0x1fffff;
  return (((i >> 20) & 1) << 31) | (((i >> 1) & 0x3ff) << 21) | (((i >> 11) & 1) << 20) | (((i >> 12) & 0xff) << 12) |
         (rd << 7) | 0x6f;
}

// A Linux riscv Image (64-byte header, then code) whose code counts in a0
// and stores the count to memory: `j 64` over the header, then
//   loop: addi a0,a0,1; auipc t0,0; sd a0,256(t0); j loop
inline const std::string& loop_image_path() {
  static std::string path = [] {
    Bytes f(64 + 16 + 512, 0);
    const uint32_t code[] = {0x00150513, 0x00000297, 0x10a2b023, insn_jal(0, -12)};
    const uint32_t j64 = insn_jal(0, 64);
    std::memcpy(&f[0], &j64, 4);
    const uint64_t text_offset = 0x200000, image_size = f.size();
    std::memcpy(&f[8], &text_offset, 8);
    std::memcpy(&f[16], &image_size, 8);
    std::memcpy(&f[48], "RISCV\0\0\0", 8);
    std::memcpy(&f[56], "RSC\x05", 4);
    std::memcpy(&f[64], code, sizeof(code));
    char tmpl[] = "/tmp/vmsup-snapshot-loop-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return std::string();
    bool ok = ::write(fd, f.data(), f.size()) == static_cast<ssize_t>(f.size());
    ::close(fd);
    return ok ? std::string(tmpl) : std::string();
  }();
  return path;
}

inline MachineConfig loop_config() {
  MachineConfig cfg;
  cfg.mem_size = 16ULL << 20;
  cfg.cpus = 2;
  cfg.kernel = loop_image_path();
  cfg.cmdline = "";
  return cfg;
}

// An anonymous in-memory file holding `b`, positioned at 0.
inline int memfile(const Bytes& b) {
  int fd = memfd_create("vmsup-snapshot", MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::write(fd, b.data() + off, b.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

inline Bytes read_back(int fd) {
  Bytes out;
  lseek(fd, 0, SEEK_SET);
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// Saves `m` into a byte vector; empty on failure.
inline Bytes save_bytes(Machine& m, const std::string& meta = "{}") {
  int fd = memfd_create("vmsup-snapshot", MFD_CLOEXEC);
  if (fd < 0) return {};
  MachineError err;
  Bytes out;
  if (m.save(fd, meta, &err)) out = read_back(fd);
  ::close(fd);
  return out;
}

// The file's sections: offset of each 12-byte section header.
inline std::vector<size_t> section_offsets(const Bytes& f) {
  std::vector<size_t> at;
  size_t off = 16;
  while (off + 12 <= f.size()) {
    uint32_t len;
    std::memcpy(&len, &f[off + 8], 4);
    if (len > f.size() - off - 12 || f.size() - off - 12 - len < 4) break;
    at.push_back(off);
    off += 12 + static_cast<size_t>(len) + 4;
  }
  return at;
}

// Recomputes the CRC of every section that still parses.
inline void fix_crcs(Bytes* f) {
  for (size_t off : section_offsets(*f)) {
    uint32_t len;
    std::memcpy(&len, &(*f)[off + 8], 4);
    uint32_t crc = snapshot_crc32(&(*f)[off], 12 + len);
    std::memcpy(&(*f)[off + 12 + len], &crc, 4);
  }
}

// The first section with tag `t` (4 chars): its payload offset and length.
inline bool find_section(const Bytes& f, const char* t, size_t* payload, uint32_t* len, unsigned nth = 0) {
  for (size_t off : section_offsets(f)) {
    if (std::memcmp(&f[off], t, 4) != 0) continue;
    if (nth--) continue;
    std::memcpy(len, &f[off + 8], 4);
    *payload = off + 12;
    return true;
  }
  return false;
}

// The seed: a snapshot of the loop machine after it ran a little.
inline const Bytes& seed_snapshot() {
  static Bytes seed = [] {
    MachineError err;
    auto m = Machine::create(loop_config(), &err);
    if (!m) return Bytes();
    m->run(2);
    return save_bytes(*m);
  }();
  return seed;
}

// The live seed: a live send of the loop machine (native/snapshot/snapshot.h:
// three PASS sections, the last one written paused, an END with a pass count),
// so that mutations reach the pass validators too.
inline const Bytes& live_seed_snapshot() {
  static Bytes seed = [] {
    MachineError err;
    auto m = Machine::create(loop_config(), &err);
    if (!m) return Bytes();
    m->run(2);
    int fd = memfd_create("vmsup-snapshot", MFD_CLOEXEC);
    if (fd < 0) return Bytes();
    Bytes out;
    bool done = false;
    uint64_t bytes = 0;
    bool ok = m->live_begin(fd, "{}", &err);
    while (ok && !done) ok = m->live_step(1 << 16, &done, &err);
    if (ok) m->run(1);
    if (ok) m->live_collect();
    if (ok) ok = m->live_pass(&err);
    done = false;
    while (ok && !done) ok = m->live_step(1 << 16, &done, &err);
    if (ok) m->run(1);
    if (ok) ok = m->live_finish(0, &bytes, &err);
    if (ok) out = read_back(fd);
    ::close(fd);
    return out;
  }();
  return seed;
}

// Restores `file` into a fresh loop machine; runs it briefly when accepted.
// Returns true when the restore was accepted.
inline bool restore_bytes(const Bytes& file, MachineError* err) {
  auto m = Machine::create(loop_config(), err);
  if (!m) return false;
  int fd = memfile(file);
  if (fd < 0) return false;
  std::string meta;
  bool ok = m->restore(fd, false, &meta, err);
  ::close(fd);
  if (ok) m->run(1);
  else if (m->run(1) != RunResult::kError) std::abort();  // a failed restore must leave the machine unusable
  return ok;
}

// Applies the mutation program in `data` to the seed (see the top comment).
inline Bytes mutate(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == 0xff) return Bytes(data + 1, data + size);
  // Bit 1 of the first byte picks the live send's stream as the seed.
  Bytes f = size > 0 && (data[0] & 2) ? live_seed_snapshot() : seed_snapshot();
  if (f.empty()) return f;
  bool fix = size > 0 && (data[0] & 1);
  size_t i = 1;
  auto take32 = [&]() {
    uint32_t v = 0;
    for (int k = 0; k < 4 && i < size; k++) v |= static_cast<uint32_t>(data[i++]) << (8 * k);
    return v;
  };
  while (i < size && !f.empty()) {
    const uint8_t op = data[i++] % 5;
    const size_t off = take32() % f.size();
    switch (op) {
      case 0: f[off] = i < size ? data[i++] : 0; break;
      case 1: f[off] ^= static_cast<uint8_t>(1u << ((i < size ? data[i++] : 0) & 7)); break;
      case 2: f.resize(off); break;
      case 3: {
        uint64_t v = take32();
        v |= static_cast<uint64_t>(take32()) << 32;
        for (int k = 0; k < 8 && off + k < f.size(); k++) f[off + k] = static_cast<uint8_t>(v >> (8 * k));
        break;
      }
      case 4: {  // aim at a section payload: pick the nth section, then a byte in it
        std::vector<size_t> at = section_offsets(f);
        if (at.empty()) break;
        size_t s = at[off % at.size()];
        uint32_t len;
        std::memcpy(&len, &f[s + 8], 4);
        if (len == 0) break;
        f[s + 12 + (take32() % len)] = i < size ? data[i++] : 0;
        break;
      }
    }
  }
  if (fix) fix_crcs(&f);
  return f;
}

inline void snapshot_fuzz_one(const uint8_t* data, size_t size) {
  MachineError err;
  restore_bytes(mutate(data, size), &err);
}

}  // namespace vmsup_fuzz
