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
                   kTagSyscon = tag("SYSC"), kTagVirtio = tag("VIRT"), kTagPlic = tag("PLIC"), kTagEnd = tag("END ");
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
  if (t == kTagEnd) return 0;
  return 0;
}

bool known_tag(uint32_t t) {
  return t == kTagMeta || t == kTagMach || t == kTagDisk || t == kTagRam || t == kTagHart || t == kTagClint ||
         t == kTagPlic || t == kTagUart || t == kTagRtc || t == kTagSyscon || t == kTagVirtio || t == kTagEnd;
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

class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
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
    if (v != kSnapshotVersion)
      return fail(err, "ERR_VMSUP_SNAPSHOT_VERSION",
                  "snapshot format version " + std::to_string(v) + " is not supported (this build reads version " +
                      std::to_string(kSnapshotVersion) + ")");
    if (z != 0) return fail(err, "ERR_VMSUP_SNAPSHOT_CORRUPT", "snapshot header: reserved field is not zero");
    return true;
  }
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

bool Machine::save(int fd, const std::string& meta, MachineError* err) {
  auto fail = [&](const char* code, const std::string& m) {
    *err = {code, m};
    return false;
  };
  if (final_ != RunResult::kSlice) return fail("ERR_VMSUP_SNAPSHOT_STATE", "the machine has stopped; nothing to save");
  if (!board_) return fail("ERR_VMSUP_SNAPSHOT_STATE", "this machine has no board to save");
  if (meta.size() > kSnapshotMetaCap) return fail("ERR_VMSUP_BAD_ARGUMENT", "snapshot metadata is too long");
  Board& b = *board_;
  // Disk requests are served synchronously inside run(), so between slices
  // none is in flight: flush, then take each disk's identity.
  std::vector<DiskId> ids(cfg_.disks.size());
  for (unsigned i = 0; i < cfg_.disks.size(); i++) {
    VirtioBlk* blk = disk_device(b, i);
    if (!blk || !blk->backend()) return fail("ERR_VMSUP_INTERNAL", "disk " + std::to_string(i) + " has no device");
    if (!blk->backend()->read_only()) {
      int r = blk->backend()->flush();
      if (r < 0) return fail("ERR_VMSUP_SNAPSHOT_IO", "cannot flush disk " + cfg_.disks[i].path + ": " + std::strerror(-r));
    }
    ids[i].size = blk->backend()->size();
    if (!disk_identity(cfg_.disks[i].path, &ids[i]))
      return fail("ERR_VMSUP_SNAPSHOT_IO", "cannot stat disk " + cfg_.disks[i].path + ": " + std::strerror(errno));
  }
  b.uart().drain(500);  // the console output ring is not part of the state

  Writer w(fd);
  auto io = [&]() { return fail("ERR_VMSUP_SNAPSHOT_IO", std::string("cannot write the snapshot: ") + std::strerror(errno)); };
  if (!w.header()) return io();
  {
    SnapOut o;
    o.str(meta);
    if (!w.section(kTagMeta, o)) return io();
  }
  {
    SnapOut o;
    o.u64(mem_.size());
    o.u32(num_harts());
    o.u32(static_cast<uint32_t>(b.device_slots().size()));
    for (const DeviceSlot& s : b.device_slots()) {
      o.u32(static_cast<uint32_t>(s.spec.kind));
      o.u32(s.spec.index);
      o.u32(s.slot);
    }
    o.u32(static_cast<uint32_t>(b.virtio_transports().size()));
    if (!w.section(kTagMach, o)) return io();
  }
  for (unsigned i = 0; i < cfg_.disks.size(); i++) {
    SnapOut o;
    o.u32(i);
    o.str(cfg_.disks[i].path);
    const DiskId& d = ids[i];
    o.u64(d.size);
    o.u64(d.dev);
    o.u64(d.ino);
    o.u64(d.mtime_s);
    o.u64(d.mtime_ns);
    o.u64(d.file_size);
    if (!w.section(kTagDisk, o)) return io();
  }

  // RAM: pages that were ever written (dirty bitmap) or that the host backs
  // (mincore: catches any write path that did not mark), minus zero pages,
  // in zstd-compressed chunks.
  {
    const GuestMemory& cm = mem_;
    const uint64_t pages = cm.pages();
    const uint8_t* ram = cm.host_ptr(cm.base(), cm.size());
    std::vector<unsigned char> resident(kSnapshotRamChunkPages);
    std::vector<uint8_t> raw(kChunkRaw), packed(ZSTD_compressBound(kChunkRaw));
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!cctx) return fail("ERR_VMSUP_NO_MEMORY", "cannot create a zstd context");
    const long host_page = sysconf(_SC_PAGESIZE);
    for (uint64_t first = 0; first < pages; first += kSnapshotRamChunkPages) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(kSnapshotRamChunkPages, pages - first));
      bool have_resident = host_page == static_cast<long>(kPage) &&
                           mincore(const_cast<uint8_t*>(ram) + first * kPage, n * kPage, resident.data()) == 0;
      uint8_t bitmap[kSnapshotRamChunkPages / 8] = {};
      size_t used = 0;
      for (uint32_t k = 0; k < n; k++) {
        const bool touched = cm.page_dirty(first + k) || !have_resident || (resident[k] & 1);
        if (!touched) continue;
        const uint8_t* p = ram + (first + k) * kPage;
        if (page_is_zero(p)) continue;
        bitmap[k / 8] |= static_cast<uint8_t>(1u << (k % 8));
        std::memcpy(raw.data() + used, p, kPage);
        used += kPage;
      }
      if (used == 0) continue;
      size_t z = ZSTD_compressCCtx(cctx.get(), packed.data(), packed.size(), raw.data(), used, 1);
      if (ZSTD_isError(z)) return fail("ERR_VMSUP_INTERNAL", std::string("zstd: ") + ZSTD_getErrorName(z));
      SnapOut o;
      o.u64(first);
      o.u32(n);
      o.raw(bitmap, sizeof(bitmap));
      o.bytes(packed.data(), z);
      if (!w.section(kTagRam, o)) return io();
    }
  }

  for (auto& h : harts_) {
    SnapOut o;
    h->save_state(o);
    if (!w.section(kTagHart, o)) return io();
  }
  {
    SnapOut o;
    clint_->save_state(o);
    if (!w.section(kTagClint, o)) return io();
  }
  {
    SnapOut o;
    b.uart().save_state(o);
    if (!w.section(kTagUart, o)) return io();
  }
  {
    SnapOut o;
    b.rtc().save_state(o);
    if (!w.section(kTagRtc, o)) return io();
  }
  {
    SnapOut o;  // syscon has no state: an empty record keeps one per device
    if (!w.section(kTagSyscon, o)) return io();
  }
  for (size_t i = 0; i < b.virtio_transports().size(); i++) {
    SnapOut o;
    o.u32(static_cast<uint32_t>(i));
    b.virtio_transports()[i]->save_state(o);
    if (!w.section(kTagVirtio, o)) return io();
  }
  {
    SnapOut o;
    b.plic().save_state(o);
    if (!w.section(kTagPlic, o)) return io();
  }
  SnapOut end;
  if (!w.section(kTagEnd, end)) return io();
  return true;
}

void Machine::take_dirty_pages(std::vector<uint64_t>* bits) {
  mem_.take_dirty(bits);
  for (auto& h : harts_) h->flush_tlb();
}

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
  for (unsigned i = 0; i < cfg_.disks.size(); i++) {
    if (!r.expect(kTagDisk, &se)) return done(false);
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
  }

  // RAM: everything the boot loaded is dropped; absent pages read as zero.
  mem_.discard();
  uint32_t t;
  {
    std::vector<uint8_t> raw(kChunkRaw);
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!dctx) return bad("ERR_VMSUP_NO_MEMORY", "cannot create a zstd context");
    uint64_t next_page = 0;
    for (;;) {
      if (!r.next(&t, &se)) return done(false);
      if (t != kTagRam) break;
      SnapIn in = r.in();
      const uint64_t first = in.u64();
      const uint32_t n = in.u32();
      const uint8_t* bitmap = in.view(kSnapshotRamChunkPages / 8);
      std::vector<uint8_t> packed;
      in.bytes(&packed, section_cap(kTagRam));
      if (!in.finish()) return done(corrupt(&se, "section RAM", in));
      if (n == 0 || n > kSnapshotRamChunkPages || first % kSnapshotRamChunkPages || first < next_page ||
          first >= mem_.pages() || n > mem_.pages() - first)
        return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: pages outside RAM or out of order");
      size_t present = 0;
      for (uint32_t k = 0; k < kSnapshotRamChunkPages; k++)
        if (bitmap[k / 8] & (1u << (k % 8))) {
          if (k >= n) return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: page bitmap beyond the chunk");
          present++;
        }
      const unsigned long long content = ZSTD_getFrameContentSize(packed.data(), packed.size());
      if (content != present * kPage)
        return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: compressed size does not match the page bitmap");
      size_t got = ZSTD_decompressDCtx(dctx.get(), raw.data(), present * kPage, packed.data(), packed.size());
      if (ZSTD_isError(got) || got != present * kPage)
        return bad("ERR_VMSUP_SNAPSHOT_CORRUPT", "section RAM: bad compressed data");
      size_t at = 0;
      for (uint32_t k = 0; k < n; k++) {
        if (!(bitmap[k / 8] & (1u << (k % 8)))) continue;
        mem_.write(mem_.base() + (first + k) * kPage, raw.data() + at, kPage);
        at += kPage;
      }
      next_page = first + n;
    }
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
  // Timers against the restored mtime; every hart re-evaluates its STIP.
  service_timers();
  return done(true);
}

}  // namespace vmsup
