// The qcow2 disk backend (QEMU's image format, versions 2 and 3), reading and
// writing the format as docs/interop/qcow2.txt ("Qcow2 Image File Format")
// describes it. References below are to that document's sections.
//
// What it supports: cluster sizes 512 B .. 2 MiB; the active L1 table (held in
// memory) and L2 tables (a bounded LRU cache, write-through); refcount blocks of
// any width 1..64 bits, read and written (a bounded LRU cache, write-through),
// and a refcount table that grows when the file outgrows it; a backing file
// (raw or qcow2, opened read-only, chains up to kMaxChainDepth images, loops
// refused); zero clusters (v3 L2 bit 0); compressed clusters (raw deflate, read;
// a write to one allocates a new cluster and drops the old references).
//
// What it refuses, naming the feature: encryption, an external data file,
// extended L2 entries, a compression type other than zlib, unknown incompatible
// feature bits. An image with the dirty bit (lazy refcounts, not closed cleanly)
// or the corrupt bit opens read-only only: its L1/L2 tables are trustworthy, its
// refcounts may not be, and `qemu-img check -r all` is the repair. An image with
// internal snapshots opens read-only only (shared clusters would need refcount
// bookkeeping across snapshot tables that we do not do).
//
// Allocation: new clusters are always taken at the end of the file, never
// reused, so no write can overwrite anything that an earlier (flushed) state of
// the image references. Write order for an allocating write:
//   1. the data cluster (whole cluster: new data + the rest copied from the old
//      cluster, the backing chain, or zeros),
//   2. its refcount (a new refcount block is written in full before the refcount
//      table entry that points at it),
//   3. the L2 entry (a new L2 table is written in full, refcounted, then linked),
//   4. the L1 entry (only when a new L2 table was made),
//   5. the old cluster's refcount is dropped (compressed / zero-allocated).
// Each step is a pwrite issued after the previous one completed, so a process
// crash at any point leaves at worst leaked clusters (refcount > 0, unreferenced)
// that `qemu-img check -r leaks` reclaims; nothing flushed is lost. The dirty bit
// is never set (lazy refcounts off). A guest flush is fdatasync(2).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <unordered_map>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"

namespace vmsup {
namespace block {
namespace {

constexpr uint32_t kMagic = 0x514649fb;               // "QFI\xfb"
constexpr uint64_t kOffsetMask = 0x00fffffffffffe00;  // L1/L2/reftable entry bits 9..55
constexpr uint64_t kCopied = 1ull << 63;              // refcount is exactly 1
constexpr uint64_t kCompressed = 1ull << 62;          // L2: compressed cluster descriptor
constexpr uint64_t kZeroFlag = 1ull;                  // L2 (v3): reads as zeros
constexpr uint64_t kMaxHostOffset = 1ull << 56;       // entries hold offsets below 2^56

// Incompatible feature bits (header bytes 72..79).
constexpr uint64_t kIncDirty = 1ull << 0;
constexpr uint64_t kIncCorrupt = 1ull << 1;
constexpr uint64_t kIncDataFile = 1ull << 2;
constexpr uint64_t kIncCompressionType = 1ull << 3;
constexpr uint64_t kIncExtendedL2 = 1ull << 4;
constexpr uint64_t kIncKnown = kIncDirty | kIncCorrupt | kIncDataFile | kIncCompressionType | kIncExtendedL2;

// Header extension types ("Header extensions").
constexpr uint32_t kExtEnd = 0;
constexpr uint32_t kExtBackingFormat = 0xe2792aca;
constexpr uint32_t kExtFeatureNames = 0x6803f857;

// Caps. Each blocks an image that asks us to allocate without bound:
// - the L1 table is read whole into memory: 32 MiB (QEMU's own limit), so an
//   l1_size of 2^32-1 cannot make us allocate 32 GiB;
// - the refcount table likewise, 8 MiB (QEMU's limit);
// - L2 tables and refcount blocks are cached, 16 MiB and 4 MiB of them at most
//   (but at least 4 tables so 2 MiB clusters still work), so random guest I/O
//   over a huge sparse disk cannot grow the cache;
// - internal snapshots are not read, but their count is checked against QEMU's
//   65536 so a later reader is not handed an absurd header.
constexpr uint64_t kMaxL1Bytes = 32ull << 20;
constexpr uint64_t kMaxReftableBytes = 8ull << 20;
constexpr uint64_t kL2CacheBytes = 16ull << 20;
constexpr uint64_t kRefblockCacheBytes = 4ull << 20;
constexpr uint32_t kMaxSnapshots = 65536;
constexpr uint32_t kMaxBackingNameLen = 1023;  // "Must not be longer than 1023 bytes"
// A virtual size beyond 2^56 cannot be mapped by 56-bit host offsets anyway.
constexpr uint64_t kMaxVirtualSize = 1ull << 56;

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint64_t be64(const uint8_t* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }
inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void put64(uint8_t* p, uint64_t v) { put32(p, uint32_t(v >> 32)); put32(p + 4, uint32_t(v)); }

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// A small LRU cache of tables keyed by their host offset. Values are vectors of T.
template <typename T>
class TableCache {
 public:
  explicit TableCache(size_t max_entries) : max_(max_entries) {}
  std::vector<T>* find(uint64_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return &it->second.first;
  }
  std::vector<T>* insert(uint64_t key, std::vector<T>&& v) {
    if (auto* p = find(key)) {
      *p = std::move(v);
      return p;
    }
    while (map_.size() >= max_ && !order_.empty()) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(key);
    auto& slot = map_[key];
    slot.first = std::move(v);
    slot.second = order_.begin();
    return &slot.first;
  }

 private:
  size_t max_;
  std::list<uint64_t> order_;
  std::unordered_map<uint64_t, std::pair<std::vector<T>, std::list<uint64_t>::iterator>> map_;
};

// The header fields we use, validated.
struct Header {
  uint32_t version = 0;
  uint64_t backing_offset = 0;
  uint32_t backing_size = 0;
  uint32_t cluster_bits = 0;
  uint64_t size = 0;
  uint32_t l1_size = 0;
  uint64_t l1_offset = 0;
  uint64_t rt_offset = 0;
  uint32_t rt_clusters = 0;
  uint32_t nb_snapshots = 0;
  uint64_t incompatible = 0;
  uint64_t autoclear = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = 72;
  std::string backing;
  std::string backing_format;
};

// The names an image gives its own feature bits (feature name table extension),
// used only to make a refusal message more helpful.
std::string feature_name(const std::vector<uint8_t>& table, int bit) {
  for (size_t i = 0; i + 48 <= table.size(); i += 48) {
    if (table[i] == 0 && table[i + 1] == bit) {
      const char* s = reinterpret_cast<const char*>(&table[i + 2]);
      return std::string(s, strnlen(s, 46));
    }
  }
  return "";
}

// Parses and range-checks the header (qcow2.txt "Header") and its extensions.
// `first` holds the first cluster (or the whole file when shorter).
bool parse_header(const std::vector<uint8_t>& first, uint64_t file_size, Header* h,
                  std::string* err) {
  const uint8_t* p = first.data();
  if (first.size() < 72 || be32(p) != kMagic) {
    *err = "not a qcow2 image (no QFI\\xfb magic or file shorter than a header)";
    return false;
  }
  h->version = be32(p + 4);
  if (h->version != 2 && h->version != 3) {
    *err = "unsupported qcow2 version " + std::to_string(h->version) + " (2 and 3 are supported)";
    return false;
  }
  h->backing_offset = be64(p + 8);
  h->backing_size = be32(p + 16);
  h->cluster_bits = be32(p + 20);
  h->size = be64(p + 24);
  uint32_t crypt = be32(p + 32);
  h->l1_size = be32(p + 36);
  h->l1_offset = be64(p + 40);
  h->rt_offset = be64(p + 48);
  h->rt_clusters = be32(p + 56);
  h->nb_snapshots = be32(p + 60);
  uint64_t snap_offset = be64(p + 64);

  if (h->cluster_bits < 9 || h->cluster_bits > 21) {
    *err = "cluster_bits " + std::to_string(h->cluster_bits) + " out of range (9..21: 512 B to 2 MiB)";
    return false;
  }
  const uint64_t cs = 1ull << h->cluster_bits;
  if (crypt != 0) {
    *err = "encryption is not supported (crypt_method " + std::to_string(crypt) +
           (crypt == 1 ? ", AES" : crypt == 2 ? ", LUKS" : "") + ")";
    return false;
  }
  std::vector<uint8_t> names;
  uint32_t compression_type = 0;
  if (h->version == 3) {
    if (first.size() < 104) {
      *err = "truncated version 3 header";
      return false;
    }
    h->incompatible = be64(p + 72);
    h->autoclear = be64(p + 88);
    h->refcount_order = be32(p + 96);
    h->header_length = be32(p + 100);
    if (h->header_length < 104 || h->header_length % 8 != 0 || h->header_length > cs ||
        h->header_length > first.size()) {
      *err = "header_length " + std::to_string(h->header_length) +
             " invalid (at least 104, a multiple of 8, inside the first cluster)";
      return false;
    }
    if (h->header_length > 104) compression_type = p[104];
    if (h->refcount_order > 6) {
      *err = "refcount_order " + std::to_string(h->refcount_order) + " out of range (0..6: 1 to 64 bits)";
      return false;
    }
  }
  // Header extensions: after the header, inside the first cluster, each 8-byte
  // aligned; the end-of-extensions marker or the cluster end stops the walk.
  uint64_t ext = h->header_length;
  while (ext + 8 <= first.size()) {
    uint32_t type = be32(p + ext);
    uint32_t len = be32(p + ext + 4);
    if (type == kExtEnd) break;
    uint64_t padded = (uint64_t(len) + 7) & ~7ull;
    if (ext + 8 + len > first.size()) {
      *err = "header extension " + hex(type) + " overflows the first cluster";
      return false;
    }
    const uint8_t* d = p + ext + 8;
    if (type == kExtBackingFormat) {
      h->backing_format.assign(reinterpret_cast<const char*>(d), len);
    } else if (type == kExtFeatureNames) {
      names.assign(d, d + len);
    }
    ext += 8 + padded;
  }
  uint64_t inc = h->incompatible;
  if (inc & kIncDataFile) {
    *err = "external data files are not supported (incompatible feature bit 2)";
    return false;
  }
  if (inc & kIncExtendedL2) {
    *err = "extended L2 entries (subclusters) are not supported (incompatible feature bit 4)";
    return false;
  }
  if (compression_type != 0) {
    *err = "compression type " + std::to_string(compression_type) +
           (compression_type == 1 ? " (zstd)" : "") + " is not supported (only zlib)";
    return false;
  }
  if (inc & ~kIncKnown) {
    std::string which;
    for (int b = 0; b < 64; b++) {
      if (!((inc & ~kIncKnown) >> b & 1)) continue;
      std::string n = feature_name(names, b);
      which += (which.empty() ? "" : ", ") + std::string("bit ") + std::to_string(b) +
               (n.empty() ? "" : " (" + n + ")");
    }
    *err = "unknown incompatible feature: " + which;
    return false;
  }

  if (h->size > kMaxVirtualSize) {
    *err = "virtual size " + std::to_string(h->size) + " too large";
    return false;
  }
  // The L1 table must be able to map the whole virtual disk.
  const uint32_t l2_bits = h->cluster_bits - 3;
  const uint64_t per_l1 = 1ull << (h->cluster_bits + l2_bits);
  const uint64_t need_l1 = (h->size + per_l1 - 1) / per_l1;
  if (uint64_t(h->l1_size) * 8 > kMaxL1Bytes) {
    *err = "L1 table too large (l1_size " + std::to_string(h->l1_size) + ", limit 32 MiB)";
    return false;
  }
  if (h->l1_size < need_l1) {
    *err = "L1 table too small (l1_size " + std::to_string(h->l1_size) + " for a disk of " +
           std::to_string(h->size) + " bytes)";
    return false;
  }
  auto in_file = [&](uint64_t off, uint64_t len, const char* what) {
    if (off % cs != 0) {
      *err = std::string(what) + " offset " + hex(off) + " is not cluster-aligned";
      return false;
    }
    if (off < cs || off > file_size || len > file_size - off) {
      *err = std::string(what) + " at " + hex(off) + " (+" + std::to_string(len) +
             " bytes) is outside the file";
      return false;
    }
    return true;
  };
  const uint64_t l1_bytes = uint64_t(h->l1_size) * 8;
  if (h->l1_size > 0 && !in_file(h->l1_offset, l1_bytes, "L1 table")) return false;
  if (uint64_t(h->rt_clusters) * cs > kMaxReftableBytes) {
    *err = "refcount table too large (" + std::to_string(h->rt_clusters) + " clusters, limit 8 MiB)";
    return false;
  }
  if (h->rt_clusters == 0) {
    *err = "refcount table is empty (refcount_table_clusters 0)";
    return false;
  }
  const uint64_t rt_bytes = uint64_t(h->rt_clusters) * cs;
  if (!in_file(h->rt_offset, rt_bytes, "refcount table")) return false;
  if (h->l1_size > 0 && h->l1_offset < h->rt_offset + rt_bytes && h->rt_offset < h->l1_offset + l1_bytes) {
    *err = "L1 table and refcount table overlap";
    return false;
  }
  if (h->nb_snapshots > kMaxSnapshots) {
    *err = "too many internal snapshots (" + std::to_string(h->nb_snapshots) + ")";
    return false;
  }
  if (h->nb_snapshots > 0 && !in_file(snap_offset, 0, "snapshot table")) return false;

  if (h->backing_offset != 0) {
    if (h->backing_size == 0 || h->backing_size > kMaxBackingNameLen) {
      *err = "backing file name length " + std::to_string(h->backing_size) + " invalid (1..1023)";
      return false;
    }
    if (h->backing_offset >= cs || h->backing_offset + h->backing_size > first.size()) {
      *err = "backing file name at " + hex(h->backing_offset) + " lies outside the first cluster";
      return false;
    }
    h->backing.assign(reinterpret_cast<const char*>(p + h->backing_offset), h->backing_size);
    if (h->backing.find('\0') != std::string::npos) {
      *err = "backing file name contains a NUL byte";
      return false;
    }
  }
  return true;
}

class Qcow2Backend final : public BlockBackend {
 public:
  ~Qcow2Backend() override {
    if (fd_ >= 0) ::close(fd_);
  }

  bool open(const std::string& path, bool read_only, std::string* err, ChainContext* chain);

  int read(uint64_t offset, void* buf, size_t len) override;
  int write(uint64_t offset, const void* buf, size_t len) override;
  int flush() override {
    if (ro_) return 0;
    return fdatasync(fd_) == 0 ? 0 : -errno;
  }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return ro_; }

  void describe(ImageInfo* info) const {
    info->format = "qcow2";
    info->virtual_size = size_;
    info->version = h_.version;
    info->cluster_size = static_cast<uint32_t>(cs_);
    info->refcount_bits = 1u << h_.refcount_order;
    info->backing_file = h_.backing;
    info->backing_format = h_.backing_format;
    int64_t fs = file_size(fd_);
    info->file_size = fs > 0 ? static_cast<uint64_t>(fs) : 0;
  }

 private:
  // How a guest cluster is stored, from its L2 entry.
  enum class Kind { Unallocated, Zero, Normal, Compressed };
  Kind classify(uint64_t e) const {
    if (e & kCompressed) return Kind::Compressed;
    if (h_.version >= 3 && (e & kZeroFlag)) return Kind::Zero;
    if ((e & kOffsetMask) == 0) return Kind::Unallocated;
    return Kind::Normal;
  }
  // A Normal cluster we may write in place: refcount exactly 1.
  bool writable_in_place(uint64_t e) const { return classify(e) == Kind::Normal && (e & kCopied); }

  int l2_lookup(uint64_t guest, uint64_t* entry);
  int load_l2(uint64_t off, std::vector<uint64_t>** tab);
  int l2_for_write(uint64_t guest, uint64_t* l2_off);
  int set_l2_entries(uint64_t l2_off, uint32_t idx, const uint64_t* vals, uint32_t n);
  int read_unallocated(uint64_t guest, uint8_t* buf, size_t len);
  int read_compressed(uint64_t entry, uint64_t guest_cluster, const uint8_t** data);
  int old_contents(uint64_t guest_cluster_off, uint64_t entry, uint8_t* cluster);
  int release(uint64_t entry);
  bool hits_metadata(uint64_t off, uint64_t len) const;

  int reserve(uint64_t n, uint64_t* off);
  int load_refblock(uint64_t off, std::vector<uint8_t>** blk);
  uint64_t rc_get(const uint8_t* b, uint64_t i) const;
  void rc_put(uint8_t* b, uint64_t i, uint64_t v) const;
  int refblock_for(uint64_t cluster, bool create, uint64_t* off);
  int get_refcount(uint64_t cluster, uint64_t* v);
  int set_refcounts(uint64_t first, uint64_t n, uint64_t v);
  int grow_reftable(uint64_t need_index);

  std::string path_;
  int fd_ = -1;
  bool ro_ = true;
  Header h_;
  uint64_t cs_ = 0;
  uint32_t l2_bits_ = 0;
  uint64_t size_ = 0;
  std::vector<uint64_t> l1_;
  std::vector<uint64_t> reftable_;
  // Writable opens: the sorted host offsets of every L2 table and refcount
  // block (from L1 and the refcount table, plus the ones we make). An in-place
  // data write that would land on one is refused (QEMU's "metadata overlap
  // check"), so a corrupt L2 entry cannot turn guest data into table entries.
  // Bounded by the L1 and refcount table caps (at most 5M offsets, 40 MiB).
  std::vector<uint64_t> meta_;
  void add_meta(uint64_t off) { meta_.insert(std::lower_bound(meta_.begin(), meta_.end(), off), off); }
  uint64_t rb_shift_ = 0;  // log2(refcount entries per refcount block)
  bool reftable_in_memory_only_ = false;
  // Set when a refcount-table switch failed half-way: the in-memory tables no
  // longer match the file, so every later write is refused (reads still work).
  bool broken_ = false;
  uint64_t next_alloc_ = 0;  // end of the file, cluster-aligned: where new clusters go
  std::unique_ptr<BlockBackend> backing_;
  std::unique_ptr<TableCache<uint64_t>> l2_cache_;
  std::unique_ptr<TableCache<uint8_t>> rb_cache_;
  // The last decompressed cluster (guest cluster index), so small sequential
  // reads of a compressed cluster inflate it once.
  uint64_t zcache_cluster_ = ~0ull;
  std::vector<uint8_t> zcache_;
  std::vector<uint8_t> zin_;
  std::vector<uint8_t> scratch_;
};

bool Qcow2Backend::open(const std::string& path, bool read_only, std::string* err,
                        ChainContext* chain) {
  path_ = path;
  ro_ = read_only;
  fd_ = open_locked(path, read_only, err, chain ? chain->opener : nullptr);
  if (fd_ < 0) return false;
  if (!chain_enter(chain, fd_, path, err)) return false;
  int64_t fsz = file_size(fd_);
  if (fsz < 0) {
    *err = path + ": " + std::strerror(static_cast<int>(-fsz));
    return false;
  }
  // Read the header, learn the cluster size, then read the whole first cluster
  // (extensions and the backing file name live there).
  std::vector<uint8_t> first(std::min<uint64_t>(static_cast<uint64_t>(fsz), 4096));
  ssize_t n = pread_full(fd_, first.data(), first.size(), 0);
  if (n < 0) {
    *err = path + ": " + std::strerror(static_cast<int>(-n));
    return false;
  }
  first.resize(static_cast<size_t>(n));
  if (first.size() >= 24 && be32(first.data()) == kMagic) {
    uint32_t cb = be32(first.data() + 20);
    if (cb >= 9 && cb <= 21) {
      uint64_t want = std::min<uint64_t>(static_cast<uint64_t>(fsz), 1ull << cb);
      if (want > first.size()) {
        first.resize(want);
        n = pread_full(fd_, first.data(), want, 0);
        if (n < 0) {
          *err = path + ": " + std::strerror(static_cast<int>(-n));
          return false;
        }
        first.resize(static_cast<size_t>(n));
      } else {
        first.resize(want);
      }
    }
  }
  std::string perr;
  if (!parse_header(first, static_cast<uint64_t>(fsz), &h_, &perr)) {
    *err = path + ": " + perr;
    return false;
  }
  cs_ = 1ull << h_.cluster_bits;
  l2_bits_ = h_.cluster_bits - 3;
  size_ = h_.size;
  rb_shift_ = h_.cluster_bits + 3 - h_.refcount_order;
  if (!ro_) {
    if (h_.incompatible & kIncDirty) {
      *err = path + ": image is dirty (lazy refcounts, not closed cleanly); run `qemu-img check -r all` on it before writing";
      return false;
    }
    if (h_.incompatible & kIncCorrupt) {
      *err = path + ": image is marked corrupt; it can only be opened read-only (repair it with `qemu-img check -r all`)";
      return false;
    }
    if (h_.nb_snapshots > 0) {
      *err = path + ": image has " + std::to_string(h_.nb_snapshots) +
             " internal snapshot(s); writing such images is not supported (open it read-only)";
      return false;
    }
  }

  l1_.resize(h_.l1_size);
  if (h_.l1_size > 0) {
    std::vector<uint8_t> raw(uint64_t(h_.l1_size) * 8);
    n = pread_full(fd_, raw.data(), raw.size(), h_.l1_offset);
    if (n != static_cast<ssize_t>(raw.size())) {
      *err = path + ": cannot read the L1 table";
      return false;
    }
    for (uint32_t i = 0; i < h_.l1_size; i++) l1_[i] = be64(&raw[i * 8ull]);
  }
  if (!ro_) {
    std::vector<uint8_t> raw(uint64_t(h_.rt_clusters) * cs_);
    n = pread_full(fd_, raw.data(), raw.size(), h_.rt_offset);
    if (n != static_cast<ssize_t>(raw.size())) {
      *err = path + ": cannot read the refcount table";
      return false;
    }
    reftable_.resize(raw.size() / 8);
    for (size_t i = 0; i < reftable_.size(); i++) reftable_[i] = be64(&raw[i * 8]);
  }
  next_alloc_ = (static_cast<uint64_t>(fsz) + cs_ - 1) & ~(cs_ - 1);
  if (!ro_) {
    // Every L2 table and refcount block must be cluster-aligned and inside the
    // file before we write: a pointer past the end would later alias the
    // clusters we allocate there.
    auto check = [&](const std::vector<uint64_t>& t, const char* what) {
      for (size_t i = 0; i < t.size(); i++) {
        uint64_t o = t[i] & kOffsetMask;
        if (o == 0) continue;
        if (o % cs_ != 0 || o < cs_ || o + cs_ > next_alloc_) {
          *err = path + ": " + what + " entry " + std::to_string(i) + " points outside the file (" + hex(o) +
                 "); the image is corrupt: run `qemu-img check -r all` on it";
          return false;
        }
        meta_.push_back(o);
      }
      return true;
    };
    if (!check(l1_, "L1 table") || !check(reftable_, "refcount table")) return false;
    std::sort(meta_.begin(), meta_.end());
  }
  l2_cache_ = std::make_unique<TableCache<uint64_t>>(std::max<uint64_t>(4, kL2CacheBytes / cs_));
  rb_cache_ = std::make_unique<TableCache<uint8_t>>(std::max<uint64_t>(4, kRefblockCacheBytes / cs_));

  if (!h_.backing.empty()) {
    std::string bpath = resolve_backing(path, h_.backing);
    std::string berr;
    // The format recorded in the backing-format extension decides; an image
    // without one (older qemu-img) gets its base probed by magic, as QEMU does.
    // Bases are opened read-only and share their lock with other readers.
    std::string fmt = h_.backing_format;
    if (fmt.empty()) {
      std::string perr;
      int pfd = chain && chain->opener ? chain->opener->open(bpath, true, &perr)
                                       : ::open(bpath.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
      uint8_t m[4] = {0, 0, 0, 0};
      struct stat pst;
      if (pfd >= 0 && (fstat(pfd, &pst) != 0 || !S_ISREG(pst.st_mode))) {
        ::close(pfd);
        pfd = -1;
      }
      if (pfd >= 0) {
        if (pread_full(pfd, m, 4, 0) == 4 && be32(m) == kMagic) fmt = "qcow2";
        ::close(pfd);
      }
      if (fmt.empty()) fmt = "raw";
    }
    if (fmt == "raw")
      backing_ = open_raw(bpath, true, &berr, chain);
    else if (fmt == "qcow2")
      backing_ = open_qcow2(bpath, true, &berr, chain);
    else {
      *err = path + ": backing file format '" + fmt + "' is not supported (raw or qcow2)";
      return false;
    }
    if (!backing_) {
      *err = path + ": backing file: " + berr;
      return false;
    }
  }
  // Autoclear bits (header bytes 88..95) describe extensions a writer that does
  // not understand them must invalidate by clearing the bit (e.g. bitmaps).
  if (!ro_ && h_.version >= 3 && h_.autoclear != 0) {
    uint8_t z[8] = {0};
    int r = pwrite_full(fd_, z, 8, 88);
    if (r < 0) {
      *err = path + ": cannot update the header: " + std::strerror(-r);
      return false;
    }
    h_.autoclear = 0;
  }
  return true;
}

bool Qcow2Backend::hits_metadata(uint64_t off, uint64_t len) const {
  auto overlap = [&](uint64_t a, uint64_t alen) { return off < a + alen && a < off + len; };
  if (overlap(0, cs_)) return true;
  if (!l1_.empty() && overlap(h_.l1_offset, l1_.size() * 8ull)) return true;
  if (overlap(h_.rt_offset, uint64_t(h_.rt_clusters) * cs_)) return true;
  auto it = std::lower_bound(meta_.begin(), meta_.end(), off >= cs_ ? off - cs_ + 1 : 0);
  return it != meta_.end() && *it < off + len;
}

int Qcow2Backend::load_l2(uint64_t off, std::vector<uint64_t>** tab) {
  if (auto* t = l2_cache_->find(off)) {
    *tab = t;
    return 0;
  }
  // "L2 tables are always cluster-aligned"; one outside the file or over the
  // header is corruption: an I/O error for this request, not a crash.
  if (off % cs_ != 0 || off < cs_ || off + cs_ > next_alloc_) return -EIO;
  if (scratch_.size() < cs_) scratch_.resize(cs_);
  ssize_t n = pread_full(fd_, scratch_.data(), cs_, off);
  if (n < 0) return static_cast<int>(n);
  if (static_cast<uint64_t>(n) < cs_) std::memset(scratch_.data() + n, 0, cs_ - n);
  std::vector<uint64_t> t(cs_ / 8);
  for (size_t i = 0; i < t.size(); i++) t[i] = be64(&scratch_[i * 8]);
  *tab = l2_cache_->insert(off, std::move(t));
  return 0;
}

int Qcow2Backend::l2_lookup(uint64_t guest, uint64_t* entry) {
  uint64_t l1i = guest >> (h_.cluster_bits + l2_bits_);
  if (l1i >= l1_.size()) return -EIO;
  uint64_t l2off = l1_[l1i] & kOffsetMask;
  if (l2off == 0) {
    *entry = 0;
    return 0;
  }
  std::vector<uint64_t>* tab;
  int r = load_l2(l2off, &tab);
  if (r < 0) return r;
  *entry = (*tab)[(guest >> h_.cluster_bits) & ((1ull << l2_bits_) - 1)];
  return 0;
}

int Qcow2Backend::read_unallocated(uint64_t guest, uint8_t* buf, size_t len) {
  if (!backing_) {
    std::memset(buf, 0, len);
    return 0;
  }
  // A base smaller than this image reads as zeros past its end.
  uint64_t bsz = backing_->size();
  size_t have = guest >= bsz ? 0 : static_cast<size_t>(std::min<uint64_t>(len, bsz - guest));
  if (have > 0) {
    int r = backing_->read(guest, buf, have);
    if (r < 0) return r;
  }
  if (have < len) std::memset(buf + have, 0, len - have);
  return 0;
}

// Inflates a compressed cluster ("Compressed Clusters Descriptor": host offset in
// bits 0..x-1, x = 62 - (cluster_bits - 8); the number of additional 512-byte
// sectors in bits x..61). The compressed stream is raw deflate.
int Qcow2Backend::read_compressed(uint64_t entry, uint64_t guest_cluster, const uint8_t** data) {
  if (zcache_cluster_ == guest_cluster && zcache_.size() == cs_) {
    *data = zcache_.data();
    return 0;
  }
  const uint32_t x = 62 - (h_.cluster_bits - 8);
  uint64_t coff = entry & ((1ull << x) - 1);
  uint64_t nsec = ((entry >> x) & ((1ull << (h_.cluster_bits - 8)) - 1)) + 1;
  uint64_t clen = nsec * 512 - (coff & 511);  // at most 2 clusters
  if (coff < cs_) return -EIO;
  zin_.resize(clen);
  ssize_t n = pread_full(fd_, zin_.data(), clen, coff);
  if (n < 0) return static_cast<int>(n);
  zcache_.resize(cs_);
  zcache_cluster_ = ~0ull;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -15) != Z_OK) return -ENOMEM;
  zs.next_in = zin_.data();
  zs.avail_in = static_cast<uInt>(n);
  zs.next_out = zcache_.data();
  zs.avail_out = static_cast<uInt>(cs_);
  int zr = inflate(&zs, Z_FINISH);
  uint64_t out = cs_ - zs.avail_out;
  inflateEnd(&zs);
  // The stream may end exactly at the cluster's end without a final block
  // marker inside the sectors we read (Z_BUF_ERROR); a short cluster is corrupt.
  if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) || out != cs_) return -EIO;
  zcache_cluster_ = guest_cluster;
  *data = zcache_.data();
  return 0;
}

int Qcow2Backend::read(uint64_t offset, void* buf_, size_t len) {
  if (offset > size_ || len > size_ - offset) return -EINVAL;
  auto* buf = static_cast<uint8_t*>(buf_);
  // Host-contiguous normal clusters are merged into one pread, and runs of
  // unallocated clusters into one read of the backing file.
  uint64_t run_host = 0, run_len = 0;
  uint8_t* run_buf = nullptr;
  auto flush_run = [&]() -> int {
    if (run_len == 0) return 0;
    ssize_t n = pread_full(fd_, run_buf, run_len, run_host);
    if (n < 0) return static_cast<int>(n);
    // Past the end of the file reads as zeros (a sparse tail).
    if (static_cast<uint64_t>(n) < run_len) std::memset(run_buf + n, 0, run_len - n);
    run_len = 0;
    return 0;
  };
  uint64_t hole_guest = 0, hole_len = 0;
  uint8_t* hole_buf = nullptr;
  auto flush_hole = [&]() -> int {
    if (hole_len == 0) return 0;
    int r = read_unallocated(hole_guest, hole_buf, hole_len);
    hole_len = 0;
    return r;
  };
  while (len > 0) {
    uint64_t in = offset & (cs_ - 1);
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, cs_ - in));
    uint64_t e;
    int r = l2_lookup(offset, &e);
    if (r < 0) return r;
    Kind k = classify(e);
    if (k != Kind::Unallocated && (r = flush_hole()) < 0) return r;
    if (k != Kind::Normal && (r = flush_run()) < 0) return r;
    if (k == Kind::Normal) {
      uint64_t host = e & kOffsetMask;
      if (host % cs_ != 0) return -EIO;
      if (run_len > 0 && run_host + run_len == host + in && run_buf + run_len == buf) {
        run_len += n;
      } else {
        if ((r = flush_run()) < 0) return r;
        run_host = host + in;
        run_buf = buf;
        run_len = n;
      }
    } else if (k == Kind::Unallocated) {
      if (hole_len == 0) {
        hole_guest = offset;
        hole_buf = buf;
      }
      hole_len += n;
    } else if (k == Kind::Zero) {
      std::memset(buf, 0, n);
    } else {
      const uint8_t* d;
      if ((r = read_compressed(e, offset >> h_.cluster_bits, &d)) < 0) return r;
      std::memcpy(buf, d + in, n);
    }
    offset += n;
    buf += n;
    len -= n;
  }
  int r = flush_hole();
  if (r < 0) return r;
  return flush_run();
}

int Qcow2Backend::reserve(uint64_t n, uint64_t* off) {
  if (n > kMaxHostOffset / cs_ || next_alloc_ > kMaxHostOffset - n * cs_) return -ENOSPC;
  *off = next_alloc_;
  next_alloc_ += n * cs_;
  return 0;
}

// Refcount block entries: refcount_bits = 1 << refcount_order wide. Widths of
// 8..64 bits are big-endian; narrower ones are packed starting at the least
// significant bits of each byte (as QEMU lays them out).
uint64_t Qcow2Backend::rc_get(const uint8_t* b, uint64_t i) const {
  switch (h_.refcount_order) {
    case 0: return (b[i / 8] >> (i % 8)) & 1;
    case 1: return (b[i / 4] >> (2 * (i % 4))) & 3;
    case 2: return (b[i / 2] >> (4 * (i % 2))) & 15;
    case 3: return b[i];
    case 4: return be16(b + 2 * i);
    case 5: return be32(b + 4 * i);
    default: return be64(b + 8 * i);
  }
}

void Qcow2Backend::rc_put(uint8_t* b, uint64_t i, uint64_t v) const {
  switch (h_.refcount_order) {
    case 0: b[i / 8] = uint8_t((b[i / 8] & ~(1u << (i % 8))) | ((v & 1) << (i % 8))); break;
    case 1: b[i / 4] = uint8_t((b[i / 4] & ~(3u << (2 * (i % 4)))) | ((v & 3) << (2 * (i % 4)))); break;
    case 2: b[i / 2] = uint8_t((b[i / 2] & ~(15u << (4 * (i % 2)))) | ((v & 15) << (4 * (i % 2)))); break;
    case 3: b[i] = uint8_t(v); break;
    case 4: put16(b + 2 * i, uint16_t(v)); break;
    case 5: put32(b + 4 * i, uint32_t(v)); break;
    default: put64(b + 8 * i, v); break;
  }
}

int Qcow2Backend::load_refblock(uint64_t off, std::vector<uint8_t>** blk) {
  if (auto* b = rb_cache_->find(off)) {
    *blk = b;
    return 0;
  }
  if (off % cs_ != 0 || off < cs_ || off + cs_ > next_alloc_) return -EIO;
  std::vector<uint8_t> b(cs_);
  ssize_t n = pread_full(fd_, b.data(), cs_, off);
  if (n < 0) return static_cast<int>(n);
  if (static_cast<uint64_t>(n) < cs_) std::memset(b.data() + n, 0, cs_ - n);
  *blk = rb_cache_->insert(off, std::move(b));
  return 0;
}

// Finds (and with `create`, makes) the refcount block covering host cluster
// index `cluster`. A new block is written in full (zeros, or with its own
// refcount when it covers itself) before the refcount table entry points at it.
int Qcow2Backend::refblock_for(uint64_t cluster, bool create, uint64_t* off) {
  uint64_t ti = cluster >> rb_shift_;
  if (ti >= reftable_.size()) {
    if (!create) {
      *off = 0;
      return 0;
    }
    int r = grow_reftable(ti);
    if (r < 0) return r;
  }
  uint64_t rb = reftable_[ti] & kOffsetMask;
  if (rb != 0 || !create) {
    *off = rb;
    return 0;
  }
  uint64_t nb;
  int r = reserve(1, &nb);
  if (r < 0) return r;
  std::vector<uint8_t> blk(cs_, 0);
  uint64_t nb_cluster = nb >> h_.cluster_bits;
  bool self = (nb_cluster >> rb_shift_) == ti;
  if (self) rc_put(blk.data(), nb_cluster & ((1ull << rb_shift_) - 1), 1);
  if ((r = pwrite_full(fd_, blk.data(), cs_, nb)) < 0) return r;
  rb_cache_->insert(nb, std::move(blk));
  add_meta(nb);
  reftable_[ti] = nb;
  if (!reftable_in_memory_only_) {
    uint8_t e[8];
    put64(e, nb);
    if ((r = pwrite_full(fd_, e, 8, h_.rt_offset + ti * 8)) < 0) return r;
  }
  if (!self) {
    // The new block lies in the next block's range: refcount it there (that
    // block, if new, is placed after it and covers itself).
    if ((r = set_refcounts(nb_cluster, 1, 1)) < 0) return r;
  }
  *off = nb;
  return 0;
}

int Qcow2Backend::get_refcount(uint64_t cluster, uint64_t* v) {
  uint64_t rb;
  int r = refblock_for(cluster, false, &rb);
  if (r < 0) return r;
  if (rb == 0) {
    *v = 0;
    return 0;
  }
  std::vector<uint8_t>* blk;
  if ((r = load_refblock(rb, &blk)) < 0) return r;
  *v = rc_get(blk->data(), cluster & ((1ull << rb_shift_) - 1));
  return 0;
}

// Sets the refcount of host clusters [first, first+n) to v, one pwrite per
// refcount block touched.
int Qcow2Backend::set_refcounts(uint64_t first, uint64_t n, uint64_t v) {
  const uint64_t per = 1ull << rb_shift_;
  const uint64_t bits = 1ull << h_.refcount_order;
  while (n > 0) {
    uint64_t rb;
    int r = refblock_for(first, true, &rb);
    if (r < 0) return r;
    std::vector<uint8_t>* blk;
    if ((r = load_refblock(rb, &blk)) < 0) return r;
    uint64_t i0 = first & (per - 1);
    uint64_t cnt = std::min(n, per - i0);
    for (uint64_t i = 0; i < cnt; i++) rc_put(blk->data(), i0 + i, v);
    uint64_t b0 = (i0 * bits) / 8;
    uint64_t b1 = ((i0 + cnt) * bits + 7) / 8;
    if ((r = pwrite_full(fd_, blk->data() + b0, b1 - b0, rb + b0)) < 0) return r;
    first += cnt;
    n -= cnt;
  }
  return 0;
}

// Grows the refcount table so index `need` exists: the new table goes at the
// end of the file, sized to at least double; its clusters and any refcount
// blocks they need are refcounted against the new in-memory table; then the
// new table is written, the header switched to it (one 12-byte pwrite of
// offset + cluster count), and the old table's clusters are freed.
int Qcow2Backend::grow_reftable(uint64_t need) {
  if (reftable_in_memory_only_) return -EIO;  // no nesting: the new table is sized with room
  const uint64_t per_cluster = cs_ / 8;
  uint64_t entries = std::max<uint64_t>(need + 1, reftable_.size() * 2);
  uint64_t clusters = (entries + per_cluster - 1) / per_cluster;
  if (clusters * cs_ > kMaxReftableBytes) {
    clusters = kMaxReftableBytes / cs_;
    if (clusters * per_cluster <= need) return -ENOSPC;  // the image cannot grow further
  }
  uint64_t old_off = h_.rt_offset, old_clusters = h_.rt_clusters;
  uint64_t noff;
  int r = reserve(clusters, &noff);
  if (r < 0) return r;
  const size_t old_entries = reftable_.size();
  reftable_.resize(clusters * per_cluster, 0);
  if ((((next_alloc_ >> h_.cluster_bits) + 4) >> rb_shift_) >= reftable_.size()) {
    reftable_.resize(old_entries);
    return -ENOSPC;
  }
  reftable_in_memory_only_ = true;
  r = set_refcounts(noff >> h_.cluster_bits, clusters, 1);
  reftable_in_memory_only_ = false;
  std::vector<uint8_t> raw(clusters * cs_);
  if (r >= 0) {
    for (size_t i = 0; i < reftable_.size(); i++) put64(&raw[i * 8], reftable_[i]);
    r = pwrite_full(fd_, raw.data(), raw.size(), noff);
  }
  uint8_t hdr[12];
  put64(hdr, noff);
  put32(hdr + 8, static_cast<uint32_t>(clusters));
  if (r >= 0) r = pwrite_full(fd_, hdr, 12, 48);
  if (r < 0) {
    broken_ = true;
    return r;
  }
  h_.rt_offset = noff;
  h_.rt_clusters = static_cast<uint32_t>(clusters);
  return set_refcounts(old_off >> h_.cluster_bits, old_clusters, 0);
}

// Drops one reference held by an L2 entry that is being replaced.
int Qcow2Backend::release(uint64_t e) {
  Kind k = classify(e);
  uint64_t first, count;
  if (k == Kind::Compressed) {
    const uint32_t x = 62 - (h_.cluster_bits - 8);
    uint64_t coff = e & ((1ull << x) - 1);
    uint64_t nsec = ((e >> x) & ((1ull << (h_.cluster_bits - 8)) - 1)) + 1;
    uint64_t start = coff & ~511ull;
    first = start >> h_.cluster_bits;
    count = ((start + nsec * 512 - 1) >> h_.cluster_bits) - first + 1;
  } else {
    uint64_t host = e & kOffsetMask;
    if (host == 0) return 0;
    first = host >> h_.cluster_bits;
    count = 1;
  }
  for (uint64_t c = first; c < first + count; c++) {
    if ((c << h_.cluster_bits) < cs_) continue;  // never the header cluster
    uint64_t v;
    int r = get_refcount(c, &v);
    if (r < 0) return r;
    if (v == 0) continue;  // already free: a corrupt count, leave it
    if ((r = set_refcounts(c, 1, v - 1)) < 0) return r;
  }
  return 0;
}

// The L2 table a write to `guest` goes into: made if missing (written as zeros,
// refcounted, then linked from L1), copied if shared (L1 entry without COPIED).
int Qcow2Backend::l2_for_write(uint64_t guest, uint64_t* l2_off) {
  uint64_t l1i = guest >> (h_.cluster_bits + l2_bits_);
  if (l1i >= l1_.size()) return -EIO;
  uint64_t e = l1_[l1i];
  uint64_t old = e & kOffsetMask;
  if (old != 0 && (e & kCopied)) {
    *l2_off = old;
    return 0;
  }
  std::vector<uint64_t> t(cs_ / 8, 0);
  if (old != 0) {
    std::vector<uint64_t>* ot;
    int r = load_l2(old, &ot);
    if (r < 0) return r;
    t = *ot;
  }
  uint64_t nt;
  int r = reserve(1, &nt);
  if (r < 0) return r;
  std::vector<uint8_t> raw(cs_);
  for (size_t i = 0; i < t.size(); i++) put64(&raw[i * 8], t[i]);
  if ((r = pwrite_full(fd_, raw.data(), cs_, nt)) < 0) return r;
  l2_cache_->insert(nt, std::move(t));
  add_meta(nt);
  if ((r = set_refcounts(nt >> h_.cluster_bits, 1, 1)) < 0) return r;
  uint8_t be[8];
  put64(be, nt | kCopied);
  if ((r = pwrite_full(fd_, be, 8, h_.l1_offset + l1i * 8)) < 0) return r;
  l1_[l1i] = nt | kCopied;
  *l2_off = nt;
  return 0;
}

int Qcow2Backend::set_l2_entries(uint64_t l2_off, uint32_t idx, const uint64_t* vals, uint32_t n) {
  std::vector<uint64_t>* tab;
  int r = load_l2(l2_off, &tab);
  if (r < 0) return r;
  uint8_t raw[8 * 64];
  uint32_t done = 0;
  while (done < n) {
    uint32_t k = std::min<uint32_t>(n - done, 64);
    for (uint32_t i = 0; i < k; i++) {
      (*tab)[idx + done + i] = vals[done + i];
      put64(raw + 8 * i, vals[done + i]);
    }
    if ((r = pwrite_full(fd_, raw, 8ull * k, l2_off + 8ull * (idx + done))) < 0) return r;
    done += k;
  }
  return 0;
}

// The current contents of a guest cluster, for a partial allocating write.
int Qcow2Backend::old_contents(uint64_t guest_cluster_off, uint64_t e, uint8_t* cluster) {
  switch (classify(e)) {
    case Kind::Zero:
      std::memset(cluster, 0, cs_);
      return 0;
    case Kind::Unallocated:
      return read_unallocated(guest_cluster_off, cluster, cs_);
    case Kind::Compressed: {
      const uint8_t* d;
      int r = read_compressed(e, guest_cluster_off >> h_.cluster_bits, &d);
      if (r < 0) return r;
      std::memcpy(cluster, d, cs_);
      return 0;
    }
    case Kind::Normal: {
      ssize_t n = pread_full(fd_, cluster, cs_, e & kOffsetMask);
      if (n < 0) return static_cast<int>(n);
      if (static_cast<uint64_t>(n) < cs_) std::memset(cluster + n, 0, cs_ - n);
      return 0;
    }
  }
  return -EIO;
}

int Qcow2Backend::write(uint64_t offset, const void* buf_, size_t len) {
  if (ro_) return -EROFS;
  if (offset > size_ || len > size_ - offset) return -EINVAL;
  if (broken_) return -EIO;
  auto* buf = static_cast<const uint8_t*>(buf_);
  const uint64_t l2_entries = 1ull << l2_bits_;
  std::vector<uint64_t> olds, news;
  while (len > 0) {
    uint64_t l2off = 0;
    int r = l2_for_write(offset, &l2off);
    if (r < 0) return r;
    std::vector<uint64_t>* tab;
    if ((r = load_l2(l2off, &tab)) < 0) return r;
    uint32_t idx = static_cast<uint32_t>((offset >> h_.cluster_bits) & (l2_entries - 1));
    uint64_t in = offset & (cs_ - 1);
    uint64_t e = (*tab)[idx];
    if (writable_in_place(e)) {
      // Overwrite in place; extend over following clusters of this L2 table
      // that are writable and host-contiguous.
      uint64_t host = e & kOffsetMask;
      // A data cluster past the end of the file is corrupt: writing there would
      // later collide with the clusters we allocate at the end.
      if (host % cs_ != 0 || host + cs_ > next_alloc_) return -EIO;
      uint64_t total = std::min<uint64_t>(len, cs_ - in);
      for (uint32_t k = 1; total < len && idx + k < l2_entries; k++) {
        uint64_t e2 = (*tab)[idx + k];
        if (!writable_in_place(e2) || (e2 & kOffsetMask) != host + k * cs_) break;
        total += std::min<uint64_t>(len - total, cs_);
      }
      // A corrupt L2 entry must not aim guest data at the header or tables.
      if (hits_metadata(host + in, total)) return -EIO;
      if ((r = pwrite_full(fd_, buf, total, host + in)) < 0) return r;
      offset += total;
      buf += total;
      len -= total;
      continue;
    }
    // Allocating write. Whole clusters are batched (up to the L2 table's end);
    // a partial cluster is merged with its old contents first.
    uint32_t count = 1;
    if (in == 0 && len >= cs_) {
      while (idx + count < l2_entries && len >= (count + 1) * cs_ &&
             !writable_in_place((*tab)[idx + count]) && count < 256)
        count++;
    }
    olds.assign(tab->begin() + idx, tab->begin() + idx + count);
    uint64_t host;
    if ((r = reserve(count, &host)) < 0) return r;
    uint64_t n;
    if (in == 0 && len >= cs_) {
      n = count * cs_;
      if ((r = pwrite_full(fd_, buf, n, host)) < 0) return r;
    } else {
      n = std::min<uint64_t>(len, cs_ - in);
      std::vector<uint8_t> cl(cs_);
      if ((r = old_contents(offset - in, e, cl.data())) < 0) return r;
      std::memcpy(cl.data() + in, buf, n);
      if ((r = pwrite_full(fd_, cl.data(), cs_, host)) < 0) return r;
    }
    if ((r = set_refcounts(host >> h_.cluster_bits, count, 1)) < 0) return r;
    news.resize(count);
    for (uint32_t k = 0; k < count; k++) news[k] = (host + k * cs_) | kCopied;
    if ((r = set_l2_entries(l2off, idx, news.data(), count)) < 0) return r;
    for (uint64_t o : olds)
      if ((r = release(o)) < 0) return r;
    if (zcache_cluster_ >= (offset >> h_.cluster_bits) &&
        zcache_cluster_ < (offset >> h_.cluster_bits) + count)
      zcache_cluster_ = ~0ull;
    offset += n;
    buf += n;
    len -= n;
  }
  return 0;
}

}  // namespace

std::unique_ptr<BlockBackend> open_qcow2(const std::string& path, bool read_only,
                                         std::string* err, ChainContext* chain) {
  auto b = std::make_unique<Qcow2Backend>();
  if (!b->open(path, read_only, err, chain)) return nullptr;
  return b;
}

bool qcow2_info(const std::string& path, ImageInfo* info, std::string* err) {
  ChainContext chain;
  Qcow2Backend q;
  if (!q.open(path, true, err, &chain)) return false;
  q.describe(info);
  return true;
}

}  // namespace block
}  // namespace vmsup
