#include "devices/htif.h"

namespace vmsup {

Htif::Htif(GuestMemory& mem, uint64_t tohost, uint64_t fromhost, Output out, Input in)
    : mem_(mem), tohost_(tohost), fromhost_(fromhost), out_(std::move(out)), in_(std::move(in)) {}

void Htif::respond(uint64_t dev, uint64_t cmd, uint64_t payload) {
  if (fromhost_ == 0) return;
  const uint64_t v = (dev << 56) | (cmd << 48) | (payload & 0xffffffffffffULL);
  mem_.write_obj<uint64_t>(fromhost_, v);
}

Htif::Event Htif::syscall(uint64_t block, uint64_t* code) {
  uint64_t args[4];
  if (!mem_.read(block, args, sizeof(args))) return Event::kNone;  // outside RAM: ignored
  uint64_t ret = static_cast<uint64_t>(-38);  // -ENOSYS
  switch (args[0]) {
    case 64: {  // write(fd, buf, len): fd 1 and 2 go to the console
      // Cap one request at 1 MiB so a guest cannot make one poll block for long.
      const uint64_t len = args[3] > (1u << 20) ? (1u << 20) : args[3];
      const uint8_t* p = mem_.host_ptr(args[2], len);
      if (!p || (args[1] != 1 && args[1] != 2)) {
        ret = static_cast<uint64_t>(-14);  // -EFAULT / -EBADF
      } else {
        out_(p, len);
        ret = len;
      }
      break;
    }
    case 93:  // exit(status)
      if (args[1] == 0) return Event::kPass;
      *code = args[1];
      return Event::kFail;
  }
  mem_.write_obj<uint64_t>(block, ret);
  respond(0, 0, 1);
  return Event::kNone;
}

Htif::Event Htif::poll(uint64_t* code) {
  uint64_t req = 0;
  if (!mem_.read_obj<uint64_t>(tohost_, &req) || req == 0) return Event::kNone;
  const uint64_t dev = req >> 56, cmd = (req >> 48) & 0xff, payload = req & 0xffffffffffffULL;
  if (dev == 0 && cmd == 0) {
    if (payload & 1) {
      const uint64_t status = payload >> 1;
      if (status == 0) return Event::kPass;
      *code = status;
      return Event::kFail;
    }
    mem_.write_obj<uint64_t>(tohost_, 0);
    return syscall(payload, code);
  }
  if (dev == 1 && cmd == 1) {
    const uint8_t ch = static_cast<uint8_t>(payload);
    out_(&ch, 1);
    mem_.write_obj<uint64_t>(tohost_, 0);
    respond(1, 1, 0);
    return Event::kNone;
  }
  if (dev == 1 && cmd == 0) {
    const int ch = in_();
    if (ch < 0) return Event::kNone;  // stays pending until the host has a byte
    mem_.write_obj<uint64_t>(tohost_, 0);
    respond(1, 0, 0x100 | static_cast<uint64_t>(ch & 0xff));
    return Event::kNone;
  }
  // Unknown device or command: acknowledge it so the guest does not wait forever.
  mem_.write_obj<uint64_t>(tohost_, 0);
  respond(dev, cmd, 0);
  return Event::kNone;
}

}  // namespace vmsup
