#include "machine/sbi.h"

#include "cpu/hart.h"

namespace vmsup {

namespace {

enum Reg : unsigned { kA0 = 10, kA1 = 11, kA2 = 12, kA3 = 13, kA4 = 14, kA5 = 15, kA6 = 16, kA7 = 17 };

struct Ret {
  int64_t error;
  uint64_t value;
};

// HSM hart states (spec §9, table "HSM Hart States").
constexpr uint64_t kHsmStarted = 0, kHsmStopped = 1, kHsmSuspended = 4;
constexpr uint32_t kSuspendRetentive = 0x00000000;

// Applies `fn` to each hart selected by (hart_mask, hart_mask_base) (spec §3.3:
// a base of -1 selects every hart and ignores the mask). A selection naming a
// hart that does not exist is SBI_ERR_INVALID_PARAM, and then nothing is done.
template <typename F>
int64_t apply_mask(SbiPlatform& p, uint64_t mask, uint64_t base, F fn) {
  const unsigned n = p.hart_count();
  if (base == ~0ULL) {
    for (unsigned h = 0; h < n; h++) fn(p.hart(h));
    return kSbiSuccess;
  }
  for (unsigned bit = 0; bit < 64; bit++)
    if (((mask >> bit) & 1) && (base >= n || bit >= n - base)) return kSbiErrInvalidParam;
  for (unsigned bit = 0; bit < 64; bit++)
    if ((mask >> bit) & 1) fn(p.hart(static_cast<unsigned>(base + bit)));
  return kSbiSuccess;
}

bool extension_present(uint64_t eid) {
  switch (eid) {
    case kSbiExtBase: case kSbiExtTime: case kSbiExtIpi: case kSbiExtRfence: case kSbiExtHsm:
    case kSbiExtSrst: case kSbiLegacySetTimer: case kSbiLegacyPutchar: case kSbiLegacyGetchar:
    case kSbiLegacyShutdown:
      return true;
    default:
      return false;
  }
}

void set_timer(Hart& h, uint64_t when) {
  // TIME set_timer (§6.1) clears the pending timer interrupt until mtime
  // reaches the new deadline: the hart re-evaluates STIP against it.
  h.set_stimecmp(when);
}

// An IPI is a supervisor software interrupt (§7.1): the SSIP bit of mip, which
// the receiving kernel clears itself through sip (privileged spec §4.1.3).
void raise_ssip(Hart& h) {
  h.raise_sw_irq(kMipSSIP);  // also wakes the hart from WFI
}

Ret base_call(uint64_t fid, uint64_t a0) {
  switch (fid) {
    case 0: return {kSbiSuccess, 2ULL << 24};  // spec version 2.0 (major << 24 | minor)
    case 1: return {kSbiSuccess, kSbiImplId};
    case 2: return {kSbiSuccess, kSbiImplVersion};
    case 3: return {kSbiSuccess, extension_present(a0) ? 1ULL : 0ULL};
    case 4: case 5: case 6: return {kSbiSuccess, 0};  // mvendorid, marchid, mimpid
    default: return {kSbiErrNotSupported, 0};
  }
}

Ret hsm_call(Hart& self, SbiPlatform& p, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
  switch (fid) {
    case 0: {  // hart_start(hartid, start_addr, opaque), §9.1
      if (a0 >= p.hart_count()) return {kSbiErrInvalidParam, 0};
      Hart& t = p.hart(static_cast<unsigned>(a0));
      if (t.state() != HartState::kStopped) return {kSbiErrAlreadyAvailable, 0};
      // §9.1: SBI_ERR_INVALID_ADDRESS when start_addr is not a valid physical
      // address the hart could execute from. Only RAM is executable here (a
      // fetch from MMIO or a hole faults), and an instruction needs 2 bytes.
      if ((a1 & 1) || !t.ram_contains(a1, 2)) return {kSbiErrInvalidAddress, 0};
      // The hart starts in S-mode at start_addr with satp = 0, a0 = hartid, a1 = opaque.
      t.reset(a1, kPrivS);
      sbi_prepare_supervisor(t);
      t.set_reg(kA0, a0);
      t.set_reg(kA1, a2);
      t.set_state(HartState::kRunning);
      return {kSbiSuccess, 0};
    }
    case 1:  // hart_stop(), §9.2: does not return on success
      self.set_state(HartState::kStopped);
      self.request_exit();
      return {kSbiSuccess, 0};
    case 2: {  // hart_get_status(hartid), §9.3
      if (a0 >= p.hart_count()) return {kSbiErrInvalidParam, 0};
      HartState s = p.hart(static_cast<unsigned>(a0)).state();
      return {kSbiSuccess, s == HartState::kStopped ? kHsmStopped : kHsmStarted};
    }
    case 3: {  // hart_suspend(type, resume_addr, opaque), §9.4
      // Only the default retentive suspend: it behaves as WFI, resuming after
      // the ECALL when an interrupt is pending.
      // Types (table "HSM Hart Suspend Types"): 0 default retentive,
      // 0x80000000 default non-retentive (defined, but not offered here:
      // NOT_SUPPORTED). Every other value is reserved or platform-specific and
      // unimplemented: INVALID_PARAM (§9.4, table of errors).
      const uint32_t type = static_cast<uint32_t>(a0);
      if (type != kSuspendRetentive)
        return {type == 0x80000000u ? kSbiErrNotSupported : kSbiErrInvalidParam, 0};
      if ((self.mip() & self.mie()) == 0) self.set_state(HartState::kWfi);
      (void)kHsmSuspended;
      return {kSbiSuccess, 0};
    }
    default:
      return {kSbiErrNotSupported, 0};
  }
}

}  // namespace

void sbi_prepare_supervisor(Hart& h) {
  // What an M-mode firmware leaves behind for an S-mode kernel (as OpenSBI
  // does): supervisor interrupts delegated (SSI, STI, SEI: mideleg bits 1, 5,
  // 9), every exception cause delegated except the ECALLs from S and M (the
  // emulator's SBI answers S-mode ECALLs; with no M-mode software, nothing else
  // could take a trap to M), and the counters readable from S- and U-mode
  // (mcounteren/scounteren CY, TM, IR; privileged spec §3.1.11, §4.1.5):
  // OpenSBI's hart init sets both, and user space reads `time` directly (vDSO).
  // Sstc is enabled as OpenSBI does when the hart has it (menvcfg.STCE).
  // Sstc: S-mode owns stimecmp (the FDT lists sstc).
  h.prepare_supervisor(kMipSSIP | kMipSTIP | kMipSEIP,
                       0xffff & ~((1u << 9) | (1u << 10) | (1u << 11) | (1u << 14)), 7, 7, true);
}

bool sbi_handle_ecall(Hart& hart, SbiPlatform& p) {
  const uint64_t eid = hart.reg(kA7), fid = hart.reg(kA6);
  const uint64_t a0 = hart.reg(kA0), a1 = hart.reg(kA1), a2 = hart.reg(kA2);
  Ret r = {kSbiErrNotSupported, 0};

  switch (eid) {
    // Legacy extensions (ch. 5) return their value in a0 only.
    case kSbiLegacySetTimer:
      set_timer(hart, a0);
      hart.set_reg(kA0, 0);
      return true;
    case kSbiLegacyPutchar:
      p.console_putchar(static_cast<uint8_t>(a0));
      hart.set_reg(kA0, 0);
      return true;
    case kSbiLegacyGetchar:
      hart.set_reg(kA0, static_cast<uint64_t>(static_cast<int64_t>(p.console_getchar())));
      return true;
    case kSbiLegacyShutdown:
      p.system_reset(SbiPlatform::ResetType::kShutdown);
      hart.request_exit();
      hart.set_reg(kA0, 0);
      return true;

    case kSbiExtBase:
      r = base_call(fid, a0);
      break;
    case kSbiExtTime:
      if (fid == 0) {
        set_timer(hart, a0);
        r = {kSbiSuccess, 0};
      }
      break;
    case kSbiExtIpi:
      if (fid == 0) {  // send_ipi(hart_mask, hart_mask_base), §7.1: a supervisor software interrupt
        r.error = apply_mask(p, a0, a1, raise_ssip);
        r.value = 0;
      }
      break;
    case kSbiExtRfence:
      // §8: remote FENCE.I (0), SFENCE.VMA (1), SFENCE.VMA.ASID (2). The harts
      // run one at a time in this thread, so the fence is complete on return.
      // Flushing a whole TLB is a valid (coarser) way to honour a ranged fence.
      if (fid == 0) {
        r.error = apply_mask(p, a0, a1, [](Hart& h) { h.flush_icache(); });
      } else if (fid == 1 || fid == 2) {
        r.error = apply_mask(p, a0, a1, [](Hart& h) { h.flush_tlb(); });
      }
      break;
    case kSbiExtHsm:
      r = hsm_call(hart, p, fid, a0, a1, a2);
      break;
    case kSbiExtSrst:
      if (fid == 0) {  // system_reset(reset_type, reset_reason), §10.1
        uint32_t type = static_cast<uint32_t>(a0);
        // reset_reason (a1): 0 no reason, 1 system failure; 0x2..0xDFFFFFFF
        // are reserved, and the SBI-specific (0xE...) and vendor-specific
        // (0xF...) ranges are unimplemented here: "at least one of reset_type
        // or reset_reason is reserved or is platform-specific and
        // unimplemented" is SBI_ERR_INVALID_PARAM (§10.1).
        if (static_cast<uint32_t>(a1) > 1) {
          r = {kSbiErrInvalidParam, 0};
          break;
        }
        if (type == 0) {
          p.system_reset(SbiPlatform::ResetType::kShutdown);
        } else if (type == 1) {
          p.system_reset(SbiPlatform::ResetType::kColdReboot);
        } else if (type == 2) {
          p.system_reset(SbiPlatform::ResetType::kWarmReboot);
        } else {
          r = {kSbiErrInvalidParam, 0};
          break;
        }
        hart.request_exit();
        r = {kSbiSuccess, 0};
      }
      break;
    default:
      break;
  }
  hart.set_reg(kA0, static_cast<uint64_t>(r.error));
  hart.set_reg(kA1, r.value);
  return true;
}

}  // namespace vmsup
