// GuestMemory: the guest's RAM, and the only way device code reaches it.
//
// RAM is one anonymous mapping (MAP_NORESERVE, so untouched pages cost no host
// memory) placed at guest-physical kBase. Every accessor takes a guest-physical
// address and a length, checks the whole range with overflow-safe arithmetic and
// returns a status; nothing here aborts on a bad address. A host pointer handed out
// by host_ptr() is valid only for the range that was checked and must not outlive
// the call that obtained it (rust-vmm vm-memory's checked_offset/check_range idea).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace vmsup {

// Told when guest code pages change (the JIT of each hart, native/cpu/jit).
class CodeWatcher {
 public:
  virtual ~CodeWatcher() = default;
  // Page `pfn` (guest-physical address >> 12) now holds translated code: drop
  // any write fast path to it, so every store to it reaches note_write().
  virtual void code_page_added(uint64_t pfn) = 0;
  // Page `pfn` was written: its translations are stale. pfn == ~0 means all RAM.
  virtual void code_page_written(uint64_t pfn) = 0;
};

class GuestMemory {
 public:
  static constexpr uint64_t kBase = 0x80000000ULL;
  // Smallest and largest RAM we accept (16 MiB .. 64 GiB).
  static constexpr uint64_t kMinSize = 16ULL << 20;
  static constexpr uint64_t kMaxSize = 64ULL << 30;

  GuestMemory() = default;
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Maps `size` bytes (a multiple of 4 KiB within [kMinSize, kMaxSize]).
  bool init(uint64_t size, std::string* err);

  uint64_t base() const { return kBase; }
  uint64_t size() const { return size_; }
  uint64_t end() const { return kBase + size_; }

  // True when [gpa, gpa+len) lies entirely in RAM. len == 0 is in range when gpa is.
  bool check_range(uint64_t gpa, uint64_t len) const {
    if (gpa < kBase) return false;
    uint64_t off = gpa - kBase;
    if (off > size_) return false;
    return len <= size_ - off;
  }

  // Host pointer for [gpa, gpa+len), or nullptr when the range is not all RAM.
  // A writable pointer may be written through: the range is marked dirty,
  // and counts as written for code-page tracking.
  uint8_t* host_ptr(uint64_t gpa, uint64_t len) {
    if (!check_range(gpa, len)) return nullptr;
    mark_dirty_off(gpa - kBase, len);
    note_write(gpa, len);
    return ram_ + (gpa - kBase);
  }
  const uint8_t* host_ptr(uint64_t gpa, uint64_t len) const {
    return check_range(gpa, len) ? ram_ + (gpa - kBase) : nullptr;
  }

  bool read(uint64_t gpa, void* dst, uint64_t len) const {
    const uint8_t* p = host_ptr(gpa, len);
    if (!p) return false;
    std::memcpy(dst, p, len);
    return true;
  }
  bool write(uint64_t gpa, const void* src, uint64_t len) {
    uint8_t* p = host_ptr(gpa, len);  // marks the range dirty, notes the write
    if (!p) return false;
    std::memcpy(p, src, len);
    return true;
  }
  bool fill(uint64_t gpa, uint8_t byte, uint64_t len) {
    uint8_t* p = host_ptr(gpa, len);
    if (!p) return false;
    std::memset(p, byte, len);
    return true;
  }
  // Little-endian scalar accessors (the host is little-endian, as RISC-V is).
  template <typename T>
  bool read_obj(uint64_t gpa, T* out) const { return read(gpa, out, sizeof(T)); }
  template <typename T>
  bool write_obj(uint64_t gpa, const T& v) { return write(gpa, &v, sizeof(T)); }

  // The CPU's fast path. The CPU bounds-checks every physical address itself
  // against base()/size() before using this pointer; device code must not use it.
  uint8_t* cpu_ram() { return ram_; }

  // Bytes of guest RAM the host has really backed (mincore), for CURMEM.
  uint64_t resident_bytes() const;

  // Drops all RAM contents (reboot): the pages go back to the host and read as zero.
  void discard();

  // --- Dirty-page tracking (save/restore now, live migration later) ---
  // One bit per 4 KiB guest page, set where RAM is written other than by a
  // CPU store through its TLB: device writes through write()/fill()/host_ptr(),
  // and the CPU where it fills a writable TLB entry or writes a PTE's A/D bits
  // (cpu/mmu.cc), as TinyEMU marks in its write-TLB fill. A page therefore
  // stays dirty only until take_dirty(); after that, every hart's TLB must be
  // flushed (Hart::flush_tlb) so that the next store refills and marks again.
  // Kept apart from any other per-page bitmap (code pages for a JIT).
  static constexpr uint64_t kPageSize = 4096;
  uint64_t pages() const { return size_ / kPageSize; }
  // Marks [gpa, gpa+len) dirty; ignores what is not RAM.
  void mark_dirty(uint64_t gpa, uint64_t len) {
    if (check_range(gpa, len)) mark_dirty_off(gpa - kBase, len);
  }
  bool page_dirty(uint64_t page) const {
    return page < pages() && (dirty_[page >> 6] >> (page & 63)) & 1;
  }
  // Moves the bitmap out (one bit per page, 64 pages a word) and clears it.
  void take_dirty(std::vector<uint64_t>* out);

  // --- Code pages (for the JIT): one bit per 4 KiB page of RAM. ---
  // A page is marked when a translation is made from it; the first write to a
  // marked page (CPU slow path, device DMA through write/fill/host_ptr) clears
  // the mark and tells every watcher. Cheap when no page is marked.
  void add_code_watcher(CodeWatcher* w);
  void remove_code_watcher(CodeWatcher* w);
  void mark_code_page(uint64_t gpa);  // gpa must be in RAM
  bool is_code_page(uint64_t gpa) const {
    if (code_pages_ == 0 || !check_range(gpa, 1)) return false;
    const uint64_t i = (gpa - kBase) >> 12;
    return (code_bits_[i >> 6] >> (i & 63)) & 1;
  }
  // Called for every write to [gpa, gpa+len) that bypasses the CPU's TLB.
  void note_write(uint64_t gpa, uint64_t len) {
    if (code_pages_ != 0 && len != 0) note_write_slow(gpa, len);
  }
  uint64_t code_pages() const { return code_pages_; }

 private:
  void mark_dirty_off(uint64_t off, uint64_t len) {
    const uint64_t first = off / kPageSize;
    const uint64_t last = (len ? off + len - 1 : off) / kPageSize;
    for (uint64_t p = first; p <= last && p < pages(); p++) dirty_[p >> 6] |= 1ULL << (p & 63);
  }

  uint8_t* ram_ = nullptr;
  uint64_t size_ = 0;
  void note_write_slow(uint64_t gpa, uint64_t len);

  std::vector<uint64_t> dirty_;  // pages() bits
  std::vector<uint64_t> code_bits_;
  uint64_t code_pages_ = 0;  // bits set in code_bits_
  std::vector<CodeWatcher*> watchers_;
};

}  // namespace vmsup
