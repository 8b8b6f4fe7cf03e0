#include "devices/syscon.h"

namespace vmsup {

namespace {
constexpr uint32_t kFail = 0x3333, kPass = 0x5555, kReset = 0x7777;
}

bool Syscon::read(uint64_t off, unsigned size, uint64_t* val) {
  *val = 0;
  return true;
}

bool Syscon::write(uint64_t off, unsigned size, uint64_t val) {
  if (off != 0 || size < 2) return true;  // other offsets / widths: ignored
  uint32_t v = static_cast<uint32_t>(val);
  switch (v & 0xffff) {
    case kPass: on_action_(SysconAction::kPowerOff, 0); break;
    case kReset: on_action_(SysconAction::kReset, 0); break;
    case kFail: on_action_(SysconAction::kFail, size >= 4 ? v >> 16 : 0); break;
    default: break;  // unknown commands do nothing, as on the SiFive test device
  }
  return true;
}

}  // namespace vmsup
