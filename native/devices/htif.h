// HTIF, the Berkeley host-target interface that Spike and QEMU's `spike` board
// offer bare-metal test programs: the guest writes a request to the 64-bit word
// `tohost` in RAM; the host picks it up, clears `tohost` and answers in
// `fromhost`. A request is dev[63:56] | cmd[55:48] | payload[47:0]:
//   dev 0, payload odd          exit: payload >> 1 is the status (0 = pass)
//   dev 0, payload even, != 0   a pointer to a syscall block (riscv-tests'
//                               "magic_mem": which, arg0, arg1, arg2, ...);
//                               write (64) and exit (93) are served
//   dev 1, cmd 1                console putchar: payload & 0xff
//   dev 1, cmd 0                console getchar: answered with 0x100 | byte
//                               when the host has a byte
// The host polls `tohost` (it is ordinary RAM), so requests are seen at the
// next time-slice boundary.
#pragma once

#include <cstdint>
#include <functional>

#include "memory/guest_memory.h"

namespace vmsup {

class Htif {
 public:
  enum class Event { kNone, kPass, kFail };
  using Output = std::function<void(const uint8_t* data, size_t len)>;
  using Input = std::function<int()>;  // next console byte, or -1

  // `tohost`/`fromhost` are guest-physical (fromhost 0 = none).
  Htif(GuestMemory& mem, uint64_t tohost, uint64_t fromhost, Output out, Input in);

  // Serves a pending request, if any. On kFail, *code is the test number.
  Event poll(uint64_t* code);

 private:
  void respond(uint64_t dev, uint64_t cmd, uint64_t payload);
  Event syscall(uint64_t block, uint64_t* code);

  GuestMemory& mem_;
  uint64_t tohost_, fromhost_;
  Output out_;
  Input in_;
};

}  // namespace vmsup
