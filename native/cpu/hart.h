// One RV64GC hardware thread. The CPU is written once, behind this small API;
// the decoder, the decoded-instruction cache and the TLB are internal
// (see cpu/*.cc). The board (machine/) drives it through run() and set_irq().
//
// NOTE for CPU implementers: the public API below is the contract the board,
// the SBI and the devices are written against. Private members are free to change.
#pragma once

#include <cstdint>
#include <memory>

#include "memory/guest_memory.h"

namespace vmsup {

class Hart;
class SnapOut;
class SnapIn;

// Privilege levels (RISC-V privileged spec §1.2).
enum Priv : int { kPrivU = 0, kPrivS = 1, kPrivM = 3 };

// mip/mie bits (privileged spec §3.1.9).
constexpr uint64_t kMipSSIP = 1ULL << 1;
constexpr uint64_t kMipMSIP = 1ULL << 3;
constexpr uint64_t kMipSTIP = 1ULL << 5;
constexpr uint64_t kMipMTIP = 1ULL << 7;
constexpr uint64_t kMipSEIP = 1ULL << 9;
constexpr uint64_t kMipMEIP = 1ULL << 11;

// What a hart needs from the board it sits on.
class CpuHost {
 public:
  virtual ~CpuHost() = default;
  // A physical access that is not RAM. size is 1, 2, 4 or 8. false = access fault.
  virtual bool mmio_read(uint64_t pa, unsigned size, uint64_t* val) = 0;
  virtual bool mmio_write(uint64_t pa, unsigned size, uint64_t val) = 0;
  // The platform timer (mtime), ticking at 10 MHz.
  virtual uint64_t mtime() = 0;
  // ECALL from S-mode when the board implements the SBI itself (direct kernel
  // boot, as KVM does). Return true when handled: the host has set a0/a1 and the
  // hart resumes after the ECALL. Return false to take the ordinary trap.
  virtual bool sbi_ecall(Hart& hart) = 0;
};

enum class HartState {
  kRunning,  // executing instructions
  kWfi,      // in WFI, waiting for an interrupt (mip & mie != 0 wakes it)
  kStopped,  // SBI HSM STOPPED (or a secondary hart not yet started)
};

struct CpuImpl;  // the interpreter's state (cpu/*.cc)

class Hart {
 public:
  Hart(uint32_t hartid, GuestMemory& mem, CpuHost& host);
  ~Hart();
  Hart(const Hart&) = delete;
  Hart& operator=(const Hart&) = delete;

  // Power-on reset: integer and FP registers zero, CSRs at their reset values,
  // privilege `priv`, pc = `pc`. Also empties the TLB and decode caches.
  // PMP is enforced (16 entries); a hart reset below M-mode gets PMP entry 0 =
  // all memory RWX, as M-mode firmware would leave it, so S/U can run.
  void reset(uint64_t pc, Priv priv);

  // Executes at most `budget` instructions. Returns early when the hart enters
  // WFI with nothing pending, is stopped, or request_exit() was called.
  // Returns the number of instructions retired.
  uint64_t run(uint64_t budget);

  // Drives a level-sensitive interrupt-pending bit (kMipMEIP, kMipSEIP from the
  // PLIC; kMipMTIP, kMipMSIP from the CLINT; kMipSTIP from the SBI timer).
  // Wakes the hart from WFI when the interrupt is enabled.
  void set_irq(uint64_t mip_bit, bool level);
  uint64_t mip() const;
  uint64_t mie() const;

  HartState state() const;
  void set_state(HartState s);  // SBI HSM start/stop

  uint32_t hartid() const;
  uint64_t reg(unsigned i) const;
  void set_reg(unsigned i, uint64_t v);  // x0 writes are ignored
  uint64_t pc() const;
  void set_pc(uint64_t pc);
  Priv priv() const;
  void set_priv(Priv p);

  // Sstc stimecmp / SBI set_timer deadline in mtime ticks (UINT64_MAX = none).
  // The hart raises STIP itself when mtime reaches it.
  void set_stimecmp(uint64_t deadline);
  uint64_t stimecmp() const;

  // Remote fences (SBI RFENCE): empty this hart's TLB (all, or one page / ASID)
  // and, for fence.i, its decoded-instruction cache.
  void flush_tlb();
  void flush_icache();

  // Makes run() return at the next instruction boundary (thread-safe).
  void request_exit();

  uint64_t instret() const;

  // Additions for the board (machine/):
  // Re-evaluates the Sstc / SBI timer against mtime `now` (raises or lowers
  // STIP), for a hart that sleeps in WFI outside run().
  void update_time(uint64_t now);
  // The mtime at which this hart's stimecmp will next raise STIP, or UINT64_MAX.
  uint64_t timer_deadline() const;
  // Drops the LR reservation (the board calls it when a device writes RAM).
  void clear_reservation();

  // Narrow accessors for the board's SBI (machine/sbi.cc), so it no longer
  // reaches into CpuImpl:
  // Sets a software-pending mip bit (SSIP for an SBI IPI) and wakes the hart.
  void raise_sw_irq(uint64_t mip_bit);
  // What M-mode firmware leaves behind for an S-mode kernel: the interrupt
  // and exception delegation, the counter enables and menvcfg.STCE (Sstc).
  void prepare_supervisor(uint64_t mideleg, uint64_t medeleg, uint32_t mcounteren,
                          uint32_t scounteren, bool sstc);
  // Whether [pa, pa+len) is RAM this hart could fetch from (SBI HSM checks a
  // start address with it, §9.1): MMIO and holes are not.
  bool ram_contains(uint64_t pa, uint64_t len) const;

  // Save/restore (native/snapshot, cpu/hart_state.cc): architectural state
  // only (registers, CSRs, privilege, run state, timers); no TLB, no decode
  // cache, no LR reservation (an SC after a restore fails, as after any
  // trap-induced loss of the reservation, unprivileged spec §8.3).
  void save_state(SnapOut& out) const;
  // Validates every field as a CSR write would (WARL values, a legal
  // privilege, satp modes the MMU has, a pc in RAM) and applies them only when
  // all are valid; false with in.error() set otherwise.
  bool restore_state(SnapIn& in);
  // Execution engine (DESIGN.md "Execution engines"): the dynamic binary
  // translator (native/cpu/jit) or the interpreter. Returns false when the JIT
  // is asked for but this host has none (only x86-64 has one); the interpreter
  // then stays. Both give identical architectural state.
  bool set_jit(bool on);
  bool jit_enabled() const;
  // Host bytes of generated code held by this hart's code cache (capped).
  uint64_t code_cache_bytes() const;

  CpuImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<CpuImpl> impl_;
};

}  // namespace vmsup
