// Unit tests of host/vmfiles.cc (opening a VM's files once, as its owner) and
// of the block layer's FdTableOpener: a chain opened once is rebuilt from its
// descriptors even after every path is gone. The credential tests need root
// (they switch to nobody, 65534) and are skipped otherwise.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"
#include "host/vmfiles.h"
#include "testing.h"

using namespace vmsup;
using namespace vmsup::host;

static std::string tmpdir() {
  char t[] = "/tmp/vmsup-vmfiles-test-XXXXXX";
  if (!mkdtemp(t)) return "/tmp";
  chmod(t, 0755);
  return t;
}

static std::string file_of(const std::string& dir, const char* name, size_t size, mode_t mode) {
  std::string p = dir + "/" + name;
  int fd = open(p.c_str(), O_CREAT | O_TRUNC | O_WRONLY, mode);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return "";
  fchmod(fd, mode);
  close(fd);
  return p;
}

static OpenRequest as_nobody() {
  OpenRequest rq;
  rq.uid = 65534;
  rq.gid = 65534;
  rq.groups = {65534};
  rq.switch_creds = true;
  return rq;
}

TEST(nobody_cannot_open_a_root_only_file_and_the_caller_keeps_its_credentials) {
  if (geteuid() != 0) return;
  std::string d = tmpdir();
  std::string secret = file_of(d, "secret", 4096, 0600);
  std::string open_to_all = file_of(d, "public", 4096, 0644);
  OpenRequest rq = as_nobody();
  rq.files.push_back({secret, "kernel"});
  OpenResult res;
  open_vm_files(rq, &res);
  CHECK(!res.ok);
  CHECK(res.code == "ERR_VMSUP_PERMISSION");
  CHECK(res.message == "cannot open kernel '" + secret + "': Permission denied");
  CHECK(res.files.empty());
  // Only the dedicated thread changed: this thread is still root for the fs.
  CHECK_EQ(static_cast<long>(syscall(SYS_setfsuid, -1)), 0L);
  CHECK_EQ(static_cast<long>(syscall(SYS_setfsgid, -1)), 0L);

  OpenRequest ok = as_nobody();
  ok.files.push_back({open_to_all, "kernel"});
  OpenResult r2;
  open_vm_files(ok, &r2);
  CHECK(r2.ok);
  CHECK_EQ(r2.files.size(), 1u);
  r2.close_all();
  unlink(secret.c_str());
  unlink(open_to_all.c_str());
  rmdir(d.c_str());
}

TEST(a_backing_file_is_opened_as_the_owner_too) {
  if (geteuid() != 0) return;
  std::string d = tmpdir();
  std::string base = file_of(d, "base.img", 1 << 20, 0600);  // root's
  std::string top = d + "/top.qcow2";
  std::string err;
  CHECK(block::create_image(top, DiskFormat::Qcow2, 1 << 20, base, DiskFormat::Raw, 65536, &err));
  chown(top.c_str(), 65534, 65534);
  OpenRequest rq = as_nobody();
  rq.disks.push_back({top, "qcow2", false, true});
  OpenResult res;
  open_vm_files(rq, &res);
  CHECK(!res.ok);
  CHECK(res.code == "ERR_VMSUP_PERMISSION");
  CHECK(res.message.find("backing file: cannot open disk '" + base + "': Permission denied") != std::string::npos);
  unlink(top.c_str());
  unlink(base.c_str());
  rmdir(d.c_str());
}

TEST(a_chain_is_rebuilt_from_its_descriptors_after_every_path_is_gone) {
  std::string d = tmpdir();
  std::string base = file_of(d, "base.img", 1 << 20, 0644);
  int fd = open(base.c_str(), O_WRONLY);
  CHECK_EQ(pwrite(fd, "BASEDATA", 8, 4096), 8);
  close(fd);
  std::string top = d + "/top.qcow2";
  std::string err;
  CHECK(block::create_image(top, DiskFormat::Qcow2, 1 << 20, base, DiskFormat::Raw, 65536, &err));
  OpenRequest rq;  // no credential switch: as whoever runs the test
  rq.disks.push_back({top, "probe", false, true});
  OpenResult res;
  open_vm_files(rq, &res);
  CHECK(res.ok);
  if (!res.ok) return;
  CHECK(res.disks[0].format == "qcow2");
  CHECK(res.disks[0].signature == "qcow2");
  CHECK_EQ(res.disks[0].files.size(), 2u);  // the overlay and its base
  unlink(top.c_str());
  unlink(base.c_str());
  rmdir(d.c_str());

  std::vector<FdTableOpener::Entry> table;
  for (auto& f : res.disks[0].files) table.push_back({f.path, f.fd, f.read_only});
  FdTableOpener opener(table);
  auto b = open_block_backend(top, DiskFormat::Qcow2, false, &err, &opener);
  CHECK(b != nullptr);
  if (b) {
    char buf[8] = {};
    CHECK_EQ(b->read(4096, buf, 8), 0);
    CHECK(std::memcmp(buf, "BASEDATA", 8) == 0);
  }
  b.reset();
  // A path the table does not know is an error, never an open.
  FdTableOpener other(table);
  auto c = open_block_backend("/etc/passwd", DiskFormat::Raw, true, &err, &other);
  CHECK(c == nullptr);
  CHECK(err.find("it was not opened when the vm was started") != std::string::npos);
  res.close_all();
}

TEST(fifos_devices_and_magic_links_are_refused_without_blocking) {
  std::string d = tmpdir();
  std::string fifo = d + "/fifo";
  CHECK_EQ(mkfifo(fifo.c_str(), 0666), 0);
  OpenRequest rq;
  rq.files.push_back({fifo, "kernel"});
  OpenResult res;
  open_vm_files(rq, &res);  // would block for ever without O_NONBLOCK
  CHECK(!res.ok);
  CHECK(res.message == "kernel '" + fifo + "' must be a regular file, not a FIFO");

  OpenRequest dev;
  dev.disks.push_back({"/dev/null", "raw", true, true});
  OpenResult r2;
  open_vm_files(dev, &r2);
  CHECK(!r2.ok);
  CHECK(r2.code == "ERR_VMSUP_NOT_REGULAR");

  std::string f = file_of(d, "f", 4096, 0644);
  int held = open(f.c_str(), O_RDONLY);
  OpenRequest magic;
  magic.files.push_back({"/proc/self/fd/" + std::to_string(held), "kernel"});
  OpenResult r3;
  open_vm_files(magic, &r3);
  CHECK(!r3.ok);
  CHECK(r3.message.find("magic link") != std::string::npos);
  close(held);

  OpenRequest rel;
  rel.files.push_back({"relative/kernel", "kernel"});
  OpenResult r4;
  open_vm_files(rel, &r4);
  CHECK(!r4.ok);
  CHECK(r4.code == "ERR_VMSUP_BAD_PATH");
  unlink(f.c_str());
  unlink(fifo.c_str());
  rmdir(d.c_str());
}

TEST_MAIN()
