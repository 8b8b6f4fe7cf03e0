#include "memory/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace vmsup {

GuestMemory::~GuestMemory() {
  if (ram_) munmap(ram_, size_);
}

bool GuestMemory::init(uint64_t size, std::string* err) {
  if (size < kMinSize || size > kMaxSize || (size & 0xfff) != 0) {
    *err = "memory size must be a multiple of 4 KiB between 16 MiB and 64 GiB";
    return false;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    *err = "cannot map guest memory";
    return false;
  }
  ram_ = static_cast<uint8_t*>(p);
  size_ = size;
  dirty_.assign((pages() + 63) / 64, 0);
  code_bits_.assign(((size >> 12) + 63) / 64, 0);
  code_pages_ = 0;
  return true;
}

uint64_t GuestMemory::resident_bytes() const {
  if (!ram_) return 0;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t chunk_pages = 1 << 16;
  std::vector<unsigned char> vec(chunk_pages);
  uint64_t resident = 0;
  for (uint64_t off = 0; off < size_; off += chunk_pages * page) {
    uint64_t len = std::min<uint64_t>(chunk_pages * page, size_ - off);
    if (mincore(ram_ + off, len, vec.data()) != 0) return 0;
    uint64_t n = (len + page - 1) / page;
    for (uint64_t i = 0; i < n; i++) resident += vec[i] & 1;
  }
  return resident * page;
}

void GuestMemory::discard() {
  if (ram_) madvise(ram_, size_, MADV_DONTNEED);
  if (code_pages_ != 0) {
    std::fill(code_bits_.begin(), code_bits_.end(), 0);
    code_pages_ = 0;
    for (CodeWatcher* w : watchers_) w->code_page_written(~0ULL);
  }
}

void GuestMemory::add_code_watcher(CodeWatcher* w) { watchers_.push_back(w); }

void GuestMemory::remove_code_watcher(CodeWatcher* w) {
  for (size_t i = 0; i < watchers_.size(); i++) {
    if (watchers_[i] == w) {
      watchers_.erase(watchers_.begin() + static_cast<long>(i));
      return;
    }
  }
}

void GuestMemory::mark_code_page(uint64_t gpa) {
  if (!check_range(gpa, 1)) return;
  const uint64_t i = (gpa - kBase) >> 12;
  uint64_t& word = code_bits_[i >> 6];
  const uint64_t bit = 1ULL << (i & 63);
  if (word & bit) return;
  word |= bit;
  code_pages_++;
  for (CodeWatcher* w : watchers_) w->code_page_added(gpa >> 12);
}

void GuestMemory::note_write_slow(uint64_t gpa, uint64_t len) {
  // The caller has range-checked [gpa, gpa+len) against RAM.
  const uint64_t first = (gpa - kBase) >> 12, last = (gpa - kBase + len - 1) >> 12;
  for (uint64_t i = first; i <= last && code_pages_ != 0; i++) {
    uint64_t& word = code_bits_[i >> 6];
    const uint64_t bit = 1ULL << (i & 63);
    if (!(word & bit)) continue;
    word &= ~bit;
    code_pages_--;
    for (CodeWatcher* w : watchers_) w->code_page_written((kBase >> 12) + i);
  }
}

void GuestMemory::take_dirty(std::vector<uint64_t>* out) {
  *out = dirty_;
  std::fill(dirty_.begin(), dirty_.end(), 0);
}

}  // namespace vmsup
