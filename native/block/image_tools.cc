// Image tools behind `vmsup create`: making raw and qcow2 images, converting
// one into the other (sparse), and describing an image. The qcow2 layout made
// here follows qcow2.txt: header cluster, refcount table, refcount blocks, L1.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"

namespace vmsup {
namespace block {
namespace {

inline void put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void put64(uint8_t* p, uint64_t v) { put32(p, uint32_t(v >> 32)); put32(p + 4, uint32_t(v)); }
inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }

const char* format_name(DiskFormat f) { return f == DiskFormat::Raw ? "raw" : "qcow2"; }

bool all_zero(const uint8_t* p, size_t n) {
  if (n == 0) return true;
  return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Writes a fresh qcow2 v3 image into the (empty, just created) file `fd`.
bool write_qcow2(int fd, uint64_t size, uint32_t cluster_bits, const std::string& backing,
                 DiskFormat backing_format, std::string* err) {
  const uint64_t cs = 1ull << cluster_bits;
  const uint64_t l2_entries = cs / 8;
  const uint64_t per_l1 = cs * l2_entries;
  const uint64_t l1_entries = std::max<uint64_t>(1, div_up(size, per_l1));
  if (l1_entries * 8 > (32ull << 20)) {
    *err = "disk too large for this cluster size (the L1 table would exceed 32 MiB)";
    return false;
  }
  const uint64_t l1_clusters = div_up(l1_entries * 8, cs);
  const uint32_t refcount_order = 4;  // 16-bit refcounts, QEMU's default
  const uint64_t rb_entries = cs * 8 / 16;
  // Size the refcount table for a fully allocated disk (data clusters + L2
  // tables + metadata), capped at 8 MiB; a larger need grows it at run time.
  uint64_t worst = div_up(size, cs) + l1_entries + l1_clusters + 64;
  worst += div_up(worst, rb_entries);
  uint64_t rt_clusters = div_up(div_up(worst, rb_entries) * 8, cs);
  rt_clusters = std::min<uint64_t>(rt_clusters, (8ull << 20) / cs);
  // Refcount blocks covering the metadata itself (header, table, blocks, L1).
  uint64_t rb_count = 1;
  for (;;) {
    uint64_t meta = 1 + rt_clusters + rb_count + l1_clusters;
    uint64_t need = div_up(meta, rb_entries);
    if (need <= rb_count) break;
    rb_count = need;
  }
  const uint64_t meta = 1 + rt_clusters + rb_count + l1_clusters;
  const uint64_t rt_off = cs;
  const uint64_t rb_off = cs * (1 + rt_clusters);
  const uint64_t l1_off = cs * (1 + rt_clusters + rb_count);

  std::vector<uint8_t> h(cs, 0);
  put32(&h[0], 0x514649fb);
  put32(&h[4], 3);
  put32(&h[20], cluster_bits);
  put64(&h[24], size);
  put32(&h[32], 0);  // no encryption
  put32(&h[36], static_cast<uint32_t>(l1_entries));
  put64(&h[40], l1_off);
  put64(&h[48], rt_off);
  put32(&h[56], static_cast<uint32_t>(rt_clusters));
  put32(&h[96], refcount_order);
  put32(&h[100], 112);  // header_length: includes compression_type (byte 104) + padding
  uint64_t pos = 112;
  if (!backing.empty()) {
    // Backing file format name extension (0xe2792aca), so the base's format is
    // recorded and never probed.
    const char* f = format_name(backing_format);
    uint32_t flen = static_cast<uint32_t>(std::strlen(f));
    put32(&h[pos], 0xe2792aca);
    put32(&h[pos + 4], flen);
    std::memcpy(&h[pos + 8], f, flen);
    pos += 8 + ((flen + 7) & ~7u);
  }
  pos += 8;  // end-of-extensions marker (type 0, length 0): already zeros
  if (!backing.empty()) {
    if (backing.size() > 1023 || pos + backing.size() > cs) {
      *err = "backing file name too long (" + std::to_string(backing.size()) +
             " bytes; at most 1023 and it must fit in the first cluster)";
      return false;
    }
    put64(&h[8], pos);
    put32(&h[16], static_cast<uint32_t>(backing.size()));
    std::memcpy(&h[pos], backing.data(), backing.size());
  }
  if (ftruncate(fd, static_cast<off_t>(meta * cs)) != 0) {
    *err = std::strerror(errno);
    return false;
  }
  int r = pwrite_full(fd, h.data(), cs, 0);
  // Refcount table entries for the refcount blocks.
  std::vector<uint8_t> rt(rt_clusters * cs, 0);
  for (uint64_t i = 0; i < rb_count; i++) put64(&rt[i * 8], rb_off + i * cs);
  if (r == 0) r = pwrite_full(fd, rt.data(), rt.size(), rt_off);
  // Every metadata cluster has refcount 1.
  std::vector<uint8_t> rb(rb_count * cs, 0);
  for (uint64_t c = 0; c < meta; c++) put16(&rb[c * 2], 1);
  if (r == 0) r = pwrite_full(fd, rb.data(), rb.size(), rb_off);
  if (r != 0) {
    *err = std::strerror(-r);
    return false;
  }
  return true;
}

}  // namespace

std::string resolve_backing(const std::string& image_path, const std::string& name) {
  if (!name.empty() && name[0] == '/') return name;
  auto slash = image_path.rfind('/');
  if (slash == std::string::npos) return name;
  return image_path.substr(0, slash + 1) + name;
}

bool image_info(const std::string& path, DiskFormat format, ImageInfo* info, std::string* err) {
  if (format == DiskFormat::Qcow2) return qcow2_info(path, info, err);
  auto b = open_block_backend(path, format, true, err);
  if (!b) return false;
  info->format = "raw";
  info->virtual_size = b->size();
  struct stat st;
  info->file_size = stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

bool create_image(const std::string& path, DiskFormat format, uint64_t size,
                  const std::string& backing, DiskFormat backing_format, uint32_t cluster_size,
                  std::string* err) {
  if (format == DiskFormat::Raw && !backing.empty()) {
    *err = "base images require qcow2 disk format";
    return false;
  }
  uint32_t cluster_bits = 0;
  if (format == DiskFormat::Qcow2) {
    if (cluster_size == 0) cluster_size = 65536;
    while ((1u << cluster_bits) < cluster_size && cluster_bits < 31) cluster_bits++;
    if ((1u << cluster_bits) != cluster_size || cluster_bits < 9 || cluster_bits > 21) {
      *err = "invalid cluster size " + std::to_string(cluster_size) + " (a power of two, 512 to 2M)";
      return false;
    }
  }
  if (!backing.empty()) {
    // The base must open as the start of a valid chain (exists, readable, its own
    // chain not looping nor too deep: the new image adds one level).
    std::string bpath = resolve_backing(path, backing);
    ChainContext chain;
    chain.depth = 1;
    std::string berr;
    std::unique_ptr<BlockBackend> base = backing_format == DiskFormat::Raw
                                             ? open_raw(bpath, true, &berr, &chain)
                                             : open_qcow2(bpath, true, &berr, &chain);
    if (!base) {
      *err = "base image " + bpath + ": " + berr;
      return false;
    }
    if (size == 0) size = base->size();
  }
  if (size == 0) {
    *err = "missing size argument";
    return false;
  }
  if (size > (1ull << 56)) {
    *err = "size too large";
    return false;
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = std::strerror(errno);
    return false;
  }
  bool ok;
  if (format == DiskFormat::Raw) {
    ok = ftruncate(fd, static_cast<off_t>(size)) == 0;  // sparse: no blocks written
    if (!ok) *err = std::strerror(errno);
  } else {
    ok = write_qcow2(fd, size, cluster_bits, backing, backing_format, err);
  }
  if (ok && fsync(fd) != 0) {
    *err = std::strerror(errno);
    ok = false;
  }
  ::close(fd);
  if (!ok) unlink(path.c_str());
  return ok;
}

bool convert_image(const std::string& src, DiskFormat src_format, const std::string& dst,
                   DiskFormat dst_format, uint64_t dst_size,
                   void (*progress)(void* ctx, uint64_t done, uint64_t total), void* ctx,
                   std::string* err) {
  std::string e;
  auto in = open_block_backend(src, src_format, true, &e);
  if (!in) {
    *err = "failed to open source image file: " + e;
    return false;
  }
  const uint64_t src_size = in->size();
  if (dst_size == 0) dst_size = src_size;
  if (dst_size < src_size) {
    *err = "size cannot be smaller than input disk size";
    return false;
  }
  if (!create_image(dst, dst_format, dst_size, "", DiskFormat::Raw, 0, &e)) {
    *err = "could not create " + dst + ": " + e;
    return false;
  }
  auto out = open_block_backend(dst, dst_format, false, &e);
  if (!out) {
    *err = "failed to open destination image file: " + e;
    unlink(dst.c_str());
    return false;
  }
  // Read 1 MiB at a time; write only the 64 KiB pieces that hold a non-zero
  // byte (neighbouring ones in one write), so the copy stays sparse.
  constexpr uint64_t kChunk = 1 << 20, kPiece = 64 << 10;
  std::vector<uint8_t> buf(kChunk);
  uint64_t off = 0;
  if (progress) progress(ctx, 0, src_size);
  while (off < src_size) {
    uint64_t n = std::min(kChunk, src_size - off);
    int r = in->read(off, buf.data(), n);
    if (r < 0) {
      *err = "failed to read from source: " + std::string(std::strerror(-r));
      out.reset();
      unlink(dst.c_str());
      return false;
    }
    uint64_t p = 0;
    while (p < n) {
      uint64_t len = std::min(kPiece, n - p);
      if (all_zero(&buf[p], len)) {
        p += len;
        continue;
      }
      uint64_t start = p;
      p += len;
      while (p < n) {
        uint64_t l2 = std::min(kPiece, n - p);
        if (all_zero(&buf[p], l2)) break;
        p += l2;
      }
      r = out->write(off + start, &buf[start], p - start);
      if (r < 0) {
        *err = "failed to write to destination: " + std::string(std::strerror(-r));
        out.reset();
        unlink(dst.c_str());
        return false;
      }
    }
    off += n;
    if (progress) progress(ctx, off, src_size);
  }
  int r = out->flush();
  if (r < 0) {
    *err = "failed to write to destination: " + std::string(std::strerror(-r));
    return false;
  }
  return true;
}

}  // namespace block
}  // namespace vmsup
