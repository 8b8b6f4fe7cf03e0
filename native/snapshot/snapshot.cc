// Saving and restoring a whole Machine (format: snapshot.h). The machine walk
// lives here, not in machine.cc: the Machine, the Board and each device only
// provide their save_state/restore_state records.
#include "snapshot/snapshot.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "devices/clint.h"
#include "devices/virtio_blk.h"
#include "machine/board.h"
#include "machine/machine.h"
#include "snapshot/snap_io.h"

namespace vmsup {

namespace {

constexpr uint32_t tag(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) | static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24;
}
constexpr uint32_t kTagMeta = tag("META"), kTagMach = tag("MACH"), kTagDisk = tag("DISK"), kTagRam = tag("RAM "),
                   kTagHart = tag("HART"), kTagClint = tag("CLNT"), kTagUart = tag("UART"), kTagRtc = tag("RTC "),
                   kTagSyscon = tag("SYSC"), kTagVirtio = tag("VIRT"), kTagPlic = tag("PLIC"), kTagEnd = tag("END "),
                   kTagPass = tag("PASS");
constexpr uint32_t kSectionVersion = 1;
constexpr size_t kPage = GuestMemory::kPageSize;
constexpr size_t kChunkRaw = kSnapshotRamChunkPages * kPage;
constexpr size_t kPathCap = 4096;

std::string tag_name(uint32_t t) {
  std::string s;
  for (int i = 0; i < 4; i++) {
    char c = static_cast<char>((t >> (8 * i)) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The cap of each section's payload: a length field cannot make us allocate
// more than the largest honest record of its kind.
size_t section_cap(uint32_t t) {
  if (t == kTagMeta) return kSnapshotMetaCap + 4;
  if (t == kTagMach) return 4096;
  if (t == kTagDisk) return kPathCap + 256;
  if (t == kTagRam) return 64 + ZSTD_compressBound(kChunkRaw);
  if (t == kTagHart) return 4096;
  if (t == kTagClint) return 4096;
  if (t == kTagPlic) return 16384;
  if (t == kTagUart || t == kTagRtc || t == kTagSyscon) return 256;
  if (t == kTagVirtio) return 65536;
  if (t == kTagEnd) return kSnapshotEndBytes;
  if (t == kTagPass) return 4;
  return 0;
}

bool known_tag(uint32_t t) {
  return t == kTagMeta || t == kTagMach || t == kTagDisk || t == kTagRam || t == kTagHart || t == kTagClint ||
         t == kTagPlic || t == kTagUart || t == kTagRtc || t == kTagSyscon || t == kTagVirtio || t == kTagEnd || t == kTagPass;
}

bool write_all(int fd, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly n bytes; 0 = ok, 1 = end of file first, -1 = read error.
int read_all(int fd, void* p, size_t n) {
  uint8_t* b = static_cast<uint8_t*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 1;
    b += r;
    n -= static_cast<size_t>(r);
  }
  return 0;
}

class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}
  bool header(SnapshotError* err) {
    uint8_t h[16];
    int r = read_all(fd_, h, 16);
    if (r < 0) return fail(err, "ERR_VMSUP_SNAPSHOT_IO", std::string("cannot read the snapshot: ") + std::strerror(errno));
    if (r > 0 || std::memcmp(h, kSnapshotMagic, 8) != 0)
      return fail(err, "ERR_VMSUP_SNAPSHOT_FORMAT", "not a vmsup snapshot (bad magic)");
    uint32_t v, z;
    std::memcpy(&v, h + 8, 4);
    std::memcpy(&z, h + 12, 4);
    if (v < kSnapshotMinVersion || v > kSnapshotVersion)
      return fail(err, "ERR_VMSUP_SNAPSHOT_VERSION",
                  "snapshot format version " + std::to_string(v) + " is not supported (this build reads version " +
                      std::to_string(kSnapshotMinVersion) + ".." + std::to_string(kSnapshotVersion) + ")");
    if (z != 0) return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "snapshot header: reserved field is not zero");
    version_ = v;
    return true;
  }
  uint32_t version() const { return version_; }
  // Reads the next section into payload_ after checking tag, version, cap, CRC.
  bool next(uint32_t* t, SnapshotError* err) {
    uint32_t h[3];
    int r = read_all(fd_, h, sizeof(h));
    if (r != 0) return r < 0 ? io(err) : fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "snapshot truncated (a section is missing)");
    if (!known_tag(h[0]))
      return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "unknown section '" + tag_name(h[0]) + "'");
    if (h[1] != kSectionVersion)
      return fail(err, "ERR_VMSUP_SNAPSHOT_VERSION",
                  "section " + tag_name(h[0]) + " has version " + std::to_string(h[1]) + ", not supported");
    if (h[2] > section_cap(h[0]))
      return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT",
                  "section " + tag_name(h[0]) + " is longer than its cap (" + std::to_string(h[2]) + " bytes)");
    payload_.resize(h[2]);
    uint32_t crc_file;
    r = h[2] ? read_all(fd_, payload_.data(), h[2]) : 0;
    if (r == 0) r = read_all(fd_, &crc_file, 4);
    if (r != 0) return r < 0 ? io(err) : fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "snapshot truncated inside section " + tag_name(h[0]));
    uint32_t crc = snapshot_crc32(h, sizeof(h));
    crc = snapshot_crc32(payload_.data(), payload_.size(), crc);
    if (crc != crc_file)
      return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "section " + tag_name(h[0]) + ": CRC mismatch");
    *t = h[0];
    return true;
  }
  // Reads the next section and requires it to be `want`.
  bool expect(uint32_t want, SnapshotError* err) {
    uint32_t t;
    if (!next(&t, err)) return false;
    if (t != want)
      return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT",
                  "section " + tag_name(t) + " where " + tag_name(want) + " was expected");
    return true;
  }
  SnapIn in() const { return SnapIn(payload_.data(), payload_.size()); }
  const std::vector<uint8_t>& payload() const { return payload_; }

  static bool fail(SnapshotError* err, const char* code, const std::string& msg) {
    *err = {code, msg};
    return false;
  }

 private:
  bool io(SnapshotError* err) {
    return fail(err, "ERR_VMSUP_SNAPSHOT_IO", std::string("cannot read the snapshot: ") + std::strerror(errno));
  }
  int fd_;
  uint32_t version_ = 0;
  std::vector<uint8_t> payload_;
};

bool corrupt(SnapshotError* err, const char* what, const SnapIn& in) {
  return Reader::fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", std::string(what) + ": " + in.error());
}

struct DiskId {
  uint64_t size = 0, dev = 0, ino = 0, mtime_s = 0, mtime_ns = 0, file_size = 0;
};

bool disk_identity(const std::string& path, DiskId* id) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  id->mtime_s = static_cast<uint64_t>(st.st_mtim.tv_sec);
  id->mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_nsec);
  id->file_size = static_cast<uint64_t>(st.st_size);
  return true;
}

VirtioBlk* disk_device(Board& b, unsigned index) {
  for (const DeviceSlot& s : b.device_slots())
    if (s.spec.kind == DeviceKind::kBlk && s.spec.index == index && s.slot < b.virtio_transports().size())
      return static_cast<VirtioBlk*>(b.virtio_transports()[s.slot]->device());
  return nullptr;
}

bool page_is_zero(const uint8_t* p) {
  uint64_t acc = 0;
  for (size_t i = 0; i < kPage; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  return acc == 0;
}

}  // namespace

// Appends the file header and CRC'd sections to a descriptor (format: snapshot.h).
class SnapWriter {
 public:
  explicit SnapWriter(int fd) : fd_(fd) {}
  bool header() {
    uint8_t h[16];
    std::memcpy(h, kSnapshotMagic, 8);
    uint32_t v = kSnapshotVersion, z = 0;
    std::memcpy(h + 8, &v, 4);
    std::memcpy(h + 12, &z, 4);
    return put(h, 16);
  }
  bool section(uint32_t t, SnapOut& body) {
    const std::vector<uint8_t>& p = body.buf();
    uint32_t h[3] = {t, kSectionVersion, static_cast<uint32_t>(p.size())};
    uint32_t crc = snapshot_crc32(h, sizeof(h));
    crc = snapshot_crc32(p.data(), p.size(), crc);
    return put(h, sizeof(h)) && put(p.data(), p.size()) && put(&crc, 4);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  bool put(const void* p, size_t n) {
    bytes_ += n;
    return n == 0 || write_all(fd_, p, n);
  }
  int fd_;
  uint64_t bytes_ = 0;
};

uint32_t snapshot_crc32(const void* p, size_t n, uint32_t crc) {
  if (n == 0) return crc;  // zlib's crc32(crc, NULL, 0) would return the seed 0
  return static_cast<uint32_t>(::crc32(crc, static_cast<const Bytef*>(p), static_cast<uInt>(n)));
}

bool snapshot_read_meta(int fd, std::string* meta, SnapshotError* err) {
  Reader r(fd);
  if (!r.header(err) || !r.expect(kTagMeta, err)) return false;
  SnapIn in = r.in();
  if (!in.str(meta, kSnapshotMetaCap) || !in.finish()) return corrupt(err, "section META", in);
  return true;
}

// ---------------------------------------------------------------------------
// Save

// Which RAM pages a RAM pass writes.
enum class RamPick {
  kTouched,  // written (dirty bitmap) or backed by the host (mincore), zero pages skipped: a whole save
  kBits,     // exactly the pages in a bitmap, zero pages included (a later pass: a page may have become zero)
};

// The pieces of a save, shared by Machine::save and the live pre-copy; a
// friend of Machine (machine.h) so that neither needs a public accessor.
struct SnapshotAccess {
  static bool fail(MachineError* err, const char* code, const std::string& m) {
    *err = {code, m};
    return false;
  }
  static bool io(MachineError* err) {
    return fail(err, "ERR_VMSUP_SNAPSHOT_IO", std::string("cannot write the snapshot: ") + std::strerror(errno));
  }

  // Header, META, MACH.
  static bool head(Machine& m, SnapWriter& w, const std::string& meta, MachineError* err) {
    Board& b = *m.board_;
    if (!w.header()) return io(err);
    {
      SnapOut o;
      o.str(meta);
      if (!w.section(kTagMeta, o)) return io(err);
    }
    SnapOut o;
    o.u64(m.mem_.size());
    o.u32(m.num_harts());
    o.u32(static_cast<uint32_t>(b.device_slots().size()));
    for (const DeviceSlot& s : b.device_slots()) {
      o.u32(static_cast<uint32_t>(s.spec.kind));
      o.u32(s.spec.index);
      o.u32(s.slot);
    }
    o.u32(static_cast<uint32_t>(b.virtio_transports().size()));
    if (!w.section(kTagMach, o)) return io(err);
    return true;
  }

  // Disk requests are served synchronously inside run(), so between slices
  // none is in flight: flush each writable disk, then take its identity.
  static bool identify_disks(Machine& m, std::vector<DiskId>* ids, MachineError* err) {
    ids->assign(m.cfg_.disks.size(), DiskId{});
    for (unsigned i = 0; i < m.cfg_.disks.size(); i++) {
      VirtioBlk* blk = disk_device(*m.board_, i);
      if (!blk || !blk->backend()) return fail(err, "ERR_VMSUP_INTERNAL", "disk " + std::to_string(i) + " has no device");
      if (!blk->backend()->read_only()) {
        int r = blk->backend()->flush();
        if (r < 0) return fail(err, "ERR_VMSUP_SNAPSHOT_IO", "cannot flush disk " + m.cfg_.disks[i].path + ": " + std::strerror(-r));
      }
      (*ids)[i].size = blk->backend()->size();
      if (!disk_identity(m.cfg_.disks[i].path, &(*ids)[i]))
        return fail(err, "ERR_VMSUP_SNAPSHOT_IO", "cannot stat disk " + m.cfg_.disks[i].path + ": " + std::strerror(errno));
    }
    return true;
  }

  static bool disks(Machine& m, SnapWriter& w, const std::vector<DiskId>& ids, MachineError* err) {
    for (unsigned i = 0; i < m.cfg_.disks.size(); i++) {
      SnapOut o;
      o.u32(i);
      o.str(m.cfg_.disks[i].path);
      const DiskId& d = ids[i];
      o.u64(d.size);
      o.u64(d.dev);
      o.u64(d.ino);
      o.u64(d.mtime_s);
      o.u64(d.mtime_ns);
      o.u64(d.file_size);
      if (!w.section(kTagDisk, o)) return io(err);
    }
    return true;
  }

  // RAM sections from page *cursor on, one zstd frame per chunk of 256 pages,
  // until the end of RAM or until `budget` bytes were written (then *cursor is
  // where the next call goes on). `bits` is the bitmap kBits uses; kTouched
  // also takes a page whose bit is set there (pass 1 of a live send: the
  // pages dirtied before its start).
  static bool ram(Machine& m, SnapWriter& w, RamPick pick, const std::vector<uint64_t>* bits, ZSTD_CCtx* cctx,
                  uint64_t* cursor, uint64_t budget, MachineError* err) {
    const GuestMemory& cm = m.mem_;
    const uint64_t pages = cm.pages();
    const uint8_t* ram = cm.host_ptr(cm.base(), cm.size());
    std::vector<unsigned char> resident(kSnapshotRamChunkPages);
    std::vector<uint8_t> raw(kChunkRaw), packed(ZSTD_compressBound(kChunkRaw));
    const long host_page = sysconf(_SC_PAGESIZE);
    auto in_bits = [&](uint64_t p) {
      return bits && (p >> 6) < bits->size() && (((*bits)[p >> 6] >> (p & 63)) & 1);
    };
    const uint64_t start_bytes = w.bytes();
    for (uint64_t first = *cursor; first < pages; first += kSnapshotRamChunkPages) {
      if (budget && w.bytes() - start_bytes >= budget) {
        *cursor = first;
        return true;
      }
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(kSnapshotRamChunkPages, pages - first));
      bool have_resident = pick == RamPick::kTouched && host_page == static_cast<long>(kPage) &&
                           mincore(const_cast<uint8_t*>(ram) + first * kPage, n * kPage, resident.data()) == 0;
      uint8_t bitmap[kSnapshotRamChunkPages / 8] = {};
      size_t used = 0;
      for (uint32_t k = 0; k < n; k++) {
        const uint64_t pg = first + k;
        const uint8_t* p = ram + pg * kPage;
        if (pick == RamPick::kTouched) {
          const bool touched = cm.page_dirty(pg) || in_bits(pg) || !have_resident || (resident[k] & 1);
          if (!touched || page_is_zero(p)) continue;
        } else if (!in_bits(pg)) {
          continue;
        }
        bitmap[k / 8] |= static_cast<uint8_t>(1u << (k % 8));
        std::memcpy(raw.data() + used, p, kPage);
        used += kPage;
      }
      if (used == 0) continue;
      size_t z = ZSTD_compressCCtx(cctx, packed.data(), packed.size(), raw.data(), used, 1);
      if (ZSTD_isError(z)) return fail(err, "ERR_VMSUP_INTERNAL", std::string("zstd: ") + ZSTD_getErrorName(z));
      SnapOut o;
      o.u64(first);
      o.u32(n);
      o.raw(bitmap, sizeof(bitmap));
      o.bytes(packed.data(), z);
      if (!w.section(kTagRam, o)) return io(err);
    }
    *cursor = pages;
    return true;
  }

  // HART ... PLIC (the console output ring is drained first: it is not part of the state).
  static bool devices(Machine& m, SnapWriter& w, MachineError* err) {
    Board& b = *m.board_;
    b.uart().drain(500);
    for (auto& h : m.harts_) {
      SnapOut o;
      h->save_state(o);
      if (!w.section(kTagHart, o)) return io(err);
    }
    {
      SnapOut o;
      m.clint_->save_state(o);
      if (!w.section(kTagClint, o)) return io(err);
    }
    {
      SnapOut o;
      b.uart().save_state(o);
      if (!w.section(kTagUart, o)) return io(err);
    }
    {
      SnapOut o;
      b.rtc().save_state(o);
      if (!w.section(kTagRtc, o)) return io(err);
    }
    {
      SnapOut o;  // syscon has no state: an empty record keeps one per device
      if (!w.section(kTagSyscon, o)) return io(err);
    }
    for (size_t i = 0; i < b.virtio_transports().size(); i++) {
      SnapOut o;
      o.u32(static_cast<uint32_t>(i));
      b.virtio_transports()[i]->save_state(o);
      if (!w.section(kTagVirtio, o)) return io(err);
    }
    SnapOut o;
    b.plic().save_state(o);
    if (!w.section(kTagPlic, o)) return io(err);
    return true;
  }

  static bool check(Machine& m, const std::string& meta, MachineError* err) {
    if (m.final_ != RunResult::kSlice) return fail(err, "ERR_VMSUP_SNAPSHOT_STATE", "the machine has stopped; nothing to save");
    if (!m.board_) return fail(err, "ERR_VMSUP_SNAPSHOT_STATE", "this machine has no board to save");
    if (meta.size() > kSnapshotMetaCap) return fail(err, "ERR_VMSUP_BAD_ARGUMENT", "snapshot metadata is too long");
    return true;
  }
};

bool Machine::save(int fd, const std::string& meta, MachineError* err) {
  using S = SnapshotAccess;
  if (!S::check(*this, meta, err)) return false;
  std::vector<DiskId> ids;
  if (!S::identify_disks(*this, &ids, err)) return false;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) return S::fail(err, "ERR_VMSUP_NO_MEMORY", "cannot create a zstd context");
  SnapWriter w(fd);
  uint64_t cursor = 0;
  SnapOut end;
  return S::head(*this, w, meta, err) && S::disks(*this, w, ids, err) &&
         S::ram(*this, w, RamPick::kTouched, nullptr, cctx.get(), &cursor, 0, err) && S::devices(*this, w, err) &&
         (w.section(kTagEnd, end) || S::io(err));
}

void Machine::take_dirty_pages(std::vector<uint64_t>* bits) {
  mem_.take_dirty(bits);
  for (auto& h : harts_) h->flush_tlb();
}

// ---------------------------------------------------------------------------
// Live pre-copy (snapshot.h: PASS sections)

struct LiveSave {
  explicit LiveSave(int fd) : w(fd) {}
  SnapWriter w;
  uint32_t pass = 0;
  RamPick pick = RamPick::kTouched;
  std::vector<uint64_t> bits;     // the current pass's pages (pass 1: dirtied before it began)
  std::vector<uint64_t> pending;  // collected for the next pass or the final RAM
  uint64_t cursor = 0;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

namespace {
bool write_pass(LiveSave& l, MachineError* err) {
  SnapOut o;
  o.u32(l.pass);
  if (!l.w.section(kTagPass, o)) return SnapshotAccess::io(err);
  return true;
}
uint64_t count_bits(const std::vector<uint64_t>& v) {
  uint64_t n = 0;
  for (uint64_t x : v) n += static_cast<uint64_t>(__builtin_popcountll(x));
  return n;
}
}  // namespace

bool Machine::live_begin(int fd, const std::string& meta, MachineError* err) {
  using S = SnapshotAccess;
  if (live_) return S::fail(err, "ERR_VMSUP_BUSY", "a live send is already in progress");
  if (!S::check(*this, meta, err)) return false;
  auto l = std::make_shared<LiveSave>(fd);
  if (!l->cctx) return S::fail(err, "ERR_VMSUP_NO_MEMORY", "cannot create a zstd context");
  // Pass 1 covers every page touched so far; from here on, stores mark again.
  take_dirty_pages(&l->bits);
  l->pass = 1;
  l->pick = RamPick::kTouched;
  if (!S::head(*this, l->w, meta, err) || !write_pass(*l, err)) return false;
  live_ = l;
  return true;
}

bool Machine::live_step(uint64_t budget, bool* done, MachineError* err) {
  if (!live_) return SnapshotAccess::fail(err, "ERR_VMSUP_BAD_ARGUMENT", "no live send in progress");
  LiveSave& l = *live_;
  if (!SnapshotAccess::ram(*this, l.w, l.pick, &l.bits, l.cctx.get(), &l.cursor, budget ? budget : 1, err)) return false;
  *done = l.cursor >= mem_.pages();
  return true;
}

uint64_t Machine::live_collect() {
  if (!live_) return 0;
  std::vector<uint64_t> now;
  take_dirty_pages(&now);
  if (live_->pending.size() < now.size()) live_->pending.resize(now.size(), 0);
  for (size_t i = 0; i < now.size(); i++) live_->pending[i] |= now[i];
  return count_bits(live_->pending);
}

bool Machine::live_pass(MachineError* err) {
  if (!live_) return SnapshotAccess::fail(err, "ERR_VMSUP_BAD_ARGUMENT", "no live send in progress");
  LiveSave& l = *live_;
  if (l.cursor < mem_.pages()) return SnapshotAccess::fail(err, "ERR_VMSUP_BAD_ARGUMENT", "the current pass is not done");
  l.bits.swap(l.pending);
  l.pending.assign(l.bits.size(), 0);
  l.pick = RamPick::kBits;
  l.cursor = 0;
  l.pass++;
  return write_pass(l, err);
}

bool Machine::live_finish(uint64_t paused_us, uint64_t* bytes, MachineError* err) {
  using S = SnapshotAccess;
  if (!live_) return S::fail(err, "ERR_VMSUP_BAD_ARGUMENT", "no live send in progress");
  LiveSave& l = *live_;
  if (l.cursor < mem_.pages()) return S::fail(err, "ERR_VMSUP_BAD_ARGUMENT", "the current pass is not done");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<DiskId> ids;
  if (!S::identify_disks(*this, &ids, err)) return false;
  live_collect();  // devices may have written during the flush
  // The last pass, written while the guest is paused: what it dirtied since
  // the pass before. Then the disks, as flushed, and every device.
  uint64_t cursor = 0;
  l.pass++;
  if (!write_pass(l, err) || !S::ram(*this, l.w, RamPick::kBits, &l.pending, l.cctx.get(), &cursor, 0, err) ||
      !S::disks(*this, l.w, ids, err) || !S::devices(*this, l.w, err))
    return false;
  const uint64_t us =
      paused_us + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
  SnapOut end;
  end.u64(us);
  end.u64(l.pass);
  if (!l.w.section(kTagEnd, end)) return S::io(err);
  if (bytes) *bytes = l.w.bytes();
  live_.reset();
  return true;
}

void Machine::live_abort() { live_.reset(); }

uint64_t Machine::live_bytes() const { return live_ ? live_->w.bytes() : 0; }
uint32_t Machine::live_pass_number() const { return live_ ? live_->pass : 0; }

// ---------------------------------------------------------------------------
// Restore

bool Machine::restore(int fd, bool force, std::string* meta, MachineError* err) {
  SnapshotError se;
  auto done = [&](bool ok) {
    if (!ok) {
      *err = {se.code, se.message};
      // Half a restore is no machine: it must not run.
      error_ = "restore failed: " + se.message;
      final_ = RunResult::kError;
    }
    return ok;
  };
  auto bad = [&](const char* code, const std::string& m) {
    se = {code, m};
    return done(false);
  };
  if (!board_) return bad("ERR_VMSUP_SNAPSHOT_STATE", "this machine has no board to restore into");
  Board& b = *board_;
  Reader r(fd);
  if (!r.header(&se) || !r.expect(kTagMeta, &se)) return done(false);
  {
    SnapIn in = r.in();
    std::string m;
    if (!in.str(&m, kSnapshotMetaCap) || !in.finish()) return done(corrupt(&se, "section META", in));
    if (meta) *meta = m;
  }
  if (!r.expect(kTagMach, &se)) return done(false);
  {
    SnapIn in = r.in();
    const uint64_t mem = in.u64();
    const uint32_t harts = in.u32(), ndev = in.u32();
    if (!in.ok()) return done(corrupt(&se, "section MACH", in));
    if (mem != mem_.size())
      return bad("ERR_VMSUP_SNAPSHOT_MISMATCH", "the snapshot has " + std::to_string(mem >> 20) + " MiB of memory, this machine " +
                                                    std::to_string(mem_.size() >> 20) + " MiB");
    if (harts != num_harts())
      return bad("ERR_VMSUP_SNAPSHOT_MISMATCH", "the snapshot has " + std::to_string(harts) + " cpus, this machine " +
                                                    std::to_string(num_harts()));
    if (ndev != b.device_slots().size())
      return bad("ERR_VMSUP_SNAPSHOT_MISMATCH", "the snapshot has " + std::to_string(ndev) + " virtio devices, this machine " +
                                                    std::to_string(b.device_slots().size()));
    for (const DeviceSlot& s : b.device_slots()) {
      const uint32_t kind = in.u32(), index = in.u32(), slot = in.u32();
      if (!in.ok()) return done(corrupt(&se, "section MACH", in));
      if (kind != static_cast<uint32_t>(s.spec.kind) || index != s.spec.index || slot != s.slot)
        return bad("ERR_VMSUP_SNAPSHOT_MISMATCH", "the snapshot's device list differs from this machine's (slot " +
                                                      std::to_string(s.slot) + ")");
    }
    if (in.u32() != b.virtio_transports().size()) in.fail("virtio slot count differs");
    if (!in.finish()) return done(corrupt(&se, "section MACH", in));
  }
  // RAM: everything the boot loaded is dropped; absent pages read as zero.
  mem_.discard();
  std::vector<uint8_t> raw(kChunkRaw);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return bad("ERR_VMSUP_NO_MEMORY", "cannot create a zstd context");
  uint64_t next_page = 0;
  // One RAM chunk: in RAM, after the previous chunk of the same run (a pass,
  // or the final RAM), a bitmap inside the chunk, a frame of that many pages.
  // A later chunk for the same page overwrites it: the last pass wins.
  auto ram_chunk = [&]() {
    SnapIn in = r.in();
    const uint64_t first = in.u64();
    const uint32_t n = in.u32();
    const uint8_t* bitmap = in.view(kSnapshotRamChunkPages / 8);
    std::vector<uint8_t> packed;
    in.bytes(&packed, section_cap(kTagRam));
    if (!in.finish()) return corrupt(&se, "section RAM", in);
    if (n == 0 || n > kSnapshotRamChunkPages || first % kSnapshotRamChunkPages || first < next_page ||
        first >= mem_.pages() || n > mem_.pages() - first)
      return Reader::fail(&se, "ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: pages outside RAM or out of order");
    size_t present = 0;
    for (uint32_t k = 0; k < kSnapshotRamChunkPages; k++)
      if (bitmap[k / 8] & (1u << (k % 8))) {
        if (k >= n) return Reader::fail(&se, "ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: page bitmap beyond the chunk");
        present++;
      }
    const unsigned long long content = ZSTD_getFrameContentSize(packed.data(), packed.size());
    if (content != present * kPage)
      return Reader::fail(&se, "ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: compressed size does not match the page bitmap");
    size_t got = ZSTD_decompressDCtx(dctx.get(), raw.data(), present * kPage, packed.data(), packed.size());
    if (ZSTD_isError(got) || got != present * kPage)
      return Reader::fail(&se, "ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: bad compressed data");
    size_t at = 0;
    for (uint32_t k = 0; k < n; k++) {
      if (!(bitmap[k / 8] & (1u << (k % 8)))) continue;
      mem_.write(mem_.base() + (first + k) * kPage, raw.data() + at, kPage);
      at += kPage;
    }
    next_page = first + n;
    return true;
  };

  uint32_t t;
  if (!r.next(&t, &se)) return done(false);
  // A live send's pre-copy passes (format version 2): PASS n, then its RAM
  // chunks in order; passes are numbered 1, 2, ... with no gap.
  uint32_t passes = 0;
  while (t == kTagPass) {
    if (r.version() < 2) return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section PASS in a version 1 snapshot");
    SnapIn in = r.in();
    const uint32_t n = in.u32();
    if (!in.finish()) return done(corrupt(&se, "section PASS", in));
    if (n != passes + 1 || n > kSnapshotMaxPasses)
      return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section PASS: pass " + std::to_string(n) + " after pass " + std::to_string(passes));
    passes = n;
    next_page = 0;
    if (!r.next(&t, &se)) return done(false);
    while (t == kTagRam) {
      if (!ram_chunk() || !r.next(&t, &se)) return done(false);
    }
  }

  for (unsigned i = 0; i < cfg_.disks.size(); i++) {
    if (t != kTagDisk) return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section " + tag_name(t) + " where DISK was expected");
    SnapIn in = r.in();
    DiskId want;
    std::string path;
    const uint32_t index = in.u32();
    in.str(&path, kPathCap);
    want.size = in.u64();
    want.dev = in.u64();
    want.ino = in.u64();
    want.mtime_s = in.u64();
    want.mtime_ns = in.u64();
    want.file_size = in.u64();
    if (!in.finish()) return done(corrupt(&se, "section DISK", in));
    if (index != i) return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section DISK: disks out of order");
    VirtioBlk* blk = disk_device(b, i);
    DiskId now;
    if (!blk || !blk->backend() || !disk_identity(cfg_.disks[i].path, &now))
      return bad("ERR_VMSUP_SNAPSHOT_DISK", "cannot stat disk " + cfg_.disks[i].path);
    now.size = blk->backend()->size();
    std::string why;
    if (now.size != want.size) why = "its virtual size changed";
    else if (now.dev != want.dev || now.ino != want.ino) why = "it is a different file";
    else if (now.mtime_s != want.mtime_s || now.mtime_ns != want.mtime_ns || now.file_size != want.file_size)
      why = "it was modified after the save";
    if (!why.empty() && (!force || now.size != want.size))
      return bad("ERR_VMSUP_SNAPSHOT_DISK", "disk " + cfg_.disks[i].path + " (saved as " + path + ") changed since the save: " +
                                                why + (now.size == want.size ? " (force to accept it)" : ""));
    if (!r.next(&t, &se)) return done(false);
  }

  // RAM of a whole save (a live send has sent its pages in passes).
  next_page = 0;
  while (t == kTagRam) {
    if (!ram_chunk() || !r.next(&t, &se)) return done(false);
  }

  auto section = [&](uint32_t want, const char* what, auto&& restore_fn) {
    if (t != want) {
      se = {"ERR_VMSUP_SNAPSHOT_CORRUPT", "section " + tag_name(t) + " where " + tag_name(want) + " was expected"};
      return false;
    }
    SnapIn in = r.in();
    if (!restore_fn(in) || !in.finish()) {
      corrupt(&se, what, in);
      return false;
    }
    return r.next(&t, &se);
  };
  for (auto& h : harts_)
    if (!section(kTagHart, "section HART", [&](SnapIn& in) { return h->restore_state(in); })) return done(false);
  if (!section(kTagClint, "section CLNT", [&](SnapIn& in) { return clint_->restore_state(in); })) return done(false);
  if (!section(kTagUart, "section UART", [&](SnapIn& in) { return b.uart().restore_state(in); })) return done(false);
  if (!section(kTagRtc, "section RTC", [&](SnapIn& in) { return b.rtc().restore_state(in); })) return done(false);
  if (!section(kTagSyscon, "section SYSC", [&](SnapIn& in) { return true; })) return done(false);
  for (size_t i = 0; i < b.virtio_transports().size(); i++) {
    auto fn = [&](SnapIn& in) {
      if (in.u32() != i) return in.fail("virtio slot out of order");
      return b.virtio_transports()[i]->restore_state(in);
    };
    if (!section(kTagVirtio, "section VIRT", fn)) return done(false);
  }
  // The PLIC last: its saved line levels and pending bits are the truth, over
  // whatever the devices' restores drove in the meantime.
  if (t != kTagPlic) return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section " + tag_name(t) + " where PLIC was expected");
  {
    SnapIn in = r.in();
    if (!b.plic().restore_state(in) || !in.finish()) return done(corrupt(&se, "section PLIC", in));
  }
  if (!r.expect(kTagEnd, &se)) return done(false);
  {
    // END: empty, or (a live send) the sender's downtime so far and its pass count.
    SnapIn in = r.in();
    if (in.remaining() != 0) {
      in.u64();
      const uint64_t n = in.u64();
      if (!in.finish() || r.version() < 2 || n != passes)
        return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section END does not match the passes sent");
    }
  }
  // Timers against the restored mtime; every hart re-evaluates its STIP.
  service_timers();
  return done(true);
}

}  // namespace vmsup
