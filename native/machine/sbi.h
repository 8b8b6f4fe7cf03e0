// The Supervisor Binary Interface implemented by the emulator itself, for a
// Linux Image booted directly in S-mode (as KVM does): RISC-V SBI
// specification v2.0 — Base (ch. 4), legacy v0.1 (ch. 5: set_timer,
// console_putchar/getchar, shutdown), TIME (ch. 6), IPI (ch. 7), RFENCE (ch. 8),
// HSM (ch. 9), SRST (ch. 10). Anything else returns SBI_ERR_NOT_SUPPORTED.
#pragma once

#include <cstdint>

namespace vmsup {

class Hart;

// SBI return codes (spec §3.2, table "Standard SBI Errors").
constexpr int64_t kSbiSuccess = 0, kSbiErrFailed = -1, kSbiErrNotSupported = -2,
                  kSbiErrInvalidParam = -3, kSbiErrDenied = -4, kSbiErrInvalidAddress = -5,
                  kSbiErrAlreadyAvailable = -6, kSbiErrAlreadyStarted = -7,
                  kSbiErrAlreadyStopped = -8;

// Extension ids (a7).
constexpr uint64_t kSbiExtBase = 0x10, kSbiExtTime = 0x54494D45, kSbiExtIpi = 0x735049,
                   kSbiExtRfence = 0x52464E43, kSbiExtHsm = 0x48534D, kSbiExtSrst = 0x53525354;
// Legacy extensions (v0.1, ch. 5).
constexpr uint64_t kSbiLegacySetTimer = 0, kSbiLegacyPutchar = 1, kSbiLegacyGetchar = 2,
                   kSbiLegacyShutdown = 8;

// Our implementation id (spec §4.9 lists the assigned ones; this is not one of them).
constexpr uint64_t kSbiImplId = 0x766d7375;  // "vmsu"
constexpr uint64_t kSbiImplVersion = 1;

// What the SBI needs from the board.
class SbiPlatform {
 public:
  virtual ~SbiPlatform() = default;
  virtual unsigned hart_count() = 0;
  virtual Hart& hart(unsigned id) = 0;  // id < hart_count()
  virtual void console_putchar(uint8_t c) = 0;
  virtual int console_getchar() = 0;  // -1 when no input is waiting
  enum class ResetType { kShutdown, kColdReboot, kWarmReboot };
  virtual void system_reset(ResetType t) = 0;
};

// Handles an ECALL from S-mode on `hart`: reads a7 (extension), a6 (function)
// and a0..a5, writes a0 (error) and a1 (value) — or only a0 for the legacy
// calls. Returns true (the call is always answered, if only with an error).
bool sbi_handle_ecall(Hart& hart, SbiPlatform& platform);

// Puts a hart that was just reset into the state an S-mode kernel expects from
// its M-mode firmware (interrupt and exception delegation, counter access).
void sbi_prepare_supervisor(Hart& hart);

}  // namespace vmsup
