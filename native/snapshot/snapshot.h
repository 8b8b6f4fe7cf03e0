// The saved-machine file format (vmsup snapshot, format version 2; version 1
// files, which have no PASS section and an empty END, are still read).
//
//   header   "VMSUPSNP" (8 bytes), le32 format version, le32 reserved (0)
//   section  le32 tag, le32 section version, le32 payload length,
//            payload, le32 CRC-32 (zlib's) of the 12 header bytes + payload
//
// Sections, in this order (one record per device, as Firecracker's
// snapshot/mod.rs and vmd's per-device dump/restore):
//   META  the caller's opaque string (the run options), <= 64 KiB
//   MACH  memory size, hart count and the device list with each slot
//   (PASS RAM*)*  a live send's pre-copy (version 2): PASS carries le32 n, the
//         pass number (1, 2, ... at most kSnapshotMaxPasses); its RAM chunks
//         follow in page order. A page may appear in several passes and in
//         the final RAM: the last copy wins. Pass 1 has every touched non-zero
//         page, later passes the pages dirtied since the pass before (zero
//         pages included). The last pass is written while the guest is
//         paused: the pages dirtied since the pass before.
//   DISK  one per disk: index, path, virtual size, and the file's identity
//         (st_dev, st_ino, mtime, st_size) taken after a flush
//   RAM   (a whole save; absent after passes) pages in chunks of up to 256: first page, page count, a presence
//         bitmap, one zstd frame of the present pages. Only touched pages
//         (the dirty bitmap or resident in the host) that are not all zero
//   HART  one per hart (Hart::save_state)
//   CLNT, UART, RTC , SYSC
//   VIRT  one per virtio-mmio slot, empty slots included
//   PLIC  last, so its restored line levels win over the devices' re-driven lines
//   END   empty, or (a live send, version 2) le64 the sender's downtime so
//         far in microseconds (guest paused -> this record) and le64 the
//         number of passes, which must match the PASS sections
//
// Nothing in a file is trusted: every section length has a cap for its tag,
// every CRC is checked before the payload is parsed, every field is checked
// as the guest's own write would be, and a missing, repeated or out-of-order
// section, a truncation, an unknown tag or version each fail with a code:
//   ERR_VMSUP_SNAPSHOT_FORMAT    not a vmsup snapshot (bad magic)
//   ERR_VMSUP_SNAPSHOT_VERSION   a format or section version this build does not know
//   ERR_VMSUP_SNAPSHOT_CORRUPT   truncated, a CRC mismatch, a field out of range
//   ERR_VMSUP_SNAPSHOT_MISMATCH  the machine differs (memory, cpus, devices)
//   ERR_VMSUP_SNAPSHOT_DISK      a disk changed since the save (unless forced)
//   ERR_VMSUP_SNAPSHOT_IO        the file could not be read or written
#pragma once

#include <cstdint>
#include <string>

namespace vmsup {

constexpr char kSnapshotMagic[8] = {'V', 'M', 'S', 'U', 'P', 'S', 'N', 'P'};
constexpr uint32_t kSnapshotVersion = 2;
constexpr uint32_t kSnapshotMinVersion = 1;
constexpr uint32_t kSnapshotMaxPasses = 64;
constexpr size_t kSnapshotEndBytes = 16;
constexpr size_t kSnapshotMetaCap = 64 * 1024;
constexpr uint32_t kSnapshotRamChunkPages = 256;

struct SnapshotError {
  std::string code;
  std::string message;
};

// Reads only the header and the META section of a snapshot at `fd` (from
// its current offset): what `vmsup run --restore` needs to rebuild the
// machine's options before restoring into it.
bool snapshot_read_meta(int fd, std::string* meta, SnapshotError* err);

// CRC-32 as the file uses it (zlib polynomial).
uint32_t snapshot_crc32(const void* p, size_t n, uint32_t crc = 0);

}  // namespace vmsup
