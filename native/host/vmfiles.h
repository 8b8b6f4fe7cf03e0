// Opening a VM's files once, as its owner (see vmfiles.cc for why and how).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vmsup {
namespace host {

struct OpenFileReq {
  std::string path, what;  // kernel, initrd, bios: read-only, regular files only
};
struct OpenDiskReq {
  std::string path, format;  // format: "raw", "qcow2" or "probe"
  bool read_only = false;
  bool chain = false;  // open the whole backing chain through the block layer
};
struct OpenRequest {
  uint32_t uid = 0, gid = 0;
  std::vector<gid_t> groups;
  bool switch_creds = false;   // take uid/gid/groups on the opening thread
  bool allow_devices = false;  // block devices accepted (root's VMs)
  std::vector<OpenFileReq> files;
  std::vector<OpenDiskReq> disks;
};

struct OpenedFile {
  std::string path;
  int fd;
  bool read_only;
};
struct OpenedDisk {
  std::string format;     // what is used: the given format, or the probed one
  std::string signature;  // what the file's first bytes say: "qcow2" or "raw"
  std::vector<OpenedFile> files;
};
struct OpenResult {
  std::vector<int> files;  // one per request file, in order
  std::vector<OpenedDisk> disks;
  bool ok = false;
  std::string code, message;  // when !ok (ERR_VMSUP_*)
  void close_all();
};

// Opens everything in `rq` on a new thread (joined before returning) that has
// taken the owner's credentials. On failure nothing stays open.
void open_vm_files(const OpenRequest& rq, OpenResult* res);

}  // namespace host
}  // namespace vmsup
