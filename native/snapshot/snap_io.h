// The two byte streams every save/restore method is written against: SnapOut
// appends little-endian fields to a section's payload, SnapIn reads them back
// with a bounds check on every field. Nothing in a snapshot file is trusted:
// SnapIn never reads past the payload, every variable-length field has a cap
// given by its reader, and the first failure latches an error message that the
// snapshot loader turns into ERR_VMSUP_SNAPSHOT_* (snapshot.h). Devices and the
// hart only see these two classes, never the file format.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace vmsup {

class SnapOut {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  // A length-prefixed (u32) byte string.
  void bytes(const void* p, size_t n) {
    u32(static_cast<uint32_t>(n));
    raw(p, n);
  }
  void str(const std::string& s) { bytes(s.data(), s.size()); }
  void raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  std::vector<uint8_t>& buf() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

class SnapIn {
 public:
  SnapIn(const uint8_t* p, size_t n) : p_(p), n_(n) {}

  uint8_t u8() { uint8_t v = 0; raw(&v, 1); return v; }
  uint16_t u16() { uint16_t v = 0; raw(&v, 2); return v; }
  uint32_t u32() { uint32_t v = 0; raw(&v, 4); return v; }
  uint64_t u64() { uint64_t v = 0; raw(&v, 8); return v; }
  bool boolean() {
    uint8_t v = u8();
    if (v > 1) fail("a boolean field is neither 0 nor 1");
    return v == 1;
  }
  // A length-prefixed byte string of at most `cap` bytes.
  bool bytes(std::vector<uint8_t>* out, size_t cap) {
    uint32_t n = u32();
    if (!ok_) return false;
    if (n > cap) return fail("a field is longer than its cap (" + std::to_string(n) + " > " + std::to_string(cap) + ")");
    if (n > n_ - off_) return fail("truncated field");
    out->assign(p_ + off_, p_ + off_ + n);
    off_ += n;
    return true;
  }
  bool str(std::string* out, size_t cap) {
    std::vector<uint8_t> b;
    if (!bytes(&b, cap)) return false;
    out->assign(b.begin(), b.end());
    return true;
  }
  bool raw(void* dst, size_t n) {
    if (!ok_) return false;
    if (n > n_ - off_) return fail("truncated section");
    std::memcpy(dst, p_ + off_, n);
    off_ += n;
    return true;
  }
  // A direct view of the next n bytes (valid while the section buffer lives).
  const uint8_t* view(size_t n) {
    if (!ok_) return nullptr;
    if (n > n_ - off_) {
      fail("truncated section");
      return nullptr;
    }
    const uint8_t* p = p_ + off_;
    off_ += n;
    return p;
  }

  // Latches the first error; always returns false so callers can `return in.fail(...)`.
  bool fail(const std::string& why) {
    if (ok_) {
      ok_ = false;
      err_ = why;
    }
    return false;
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return err_; }
  size_t remaining() const { return n_ - off_; }
  // A section must be consumed exactly: trailing bytes mean a different layout.
  bool finish() {
    if (ok_ && off_ != n_) fail("trailing bytes in section");
    return ok_;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
  bool ok_ = true;
  std::string err_;
};

}  // namespace vmsup
