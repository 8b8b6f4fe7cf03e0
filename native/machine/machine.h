// The board: a RISC-V `virt`-like machine with QEMU's memory map, so stock
// OpenSBI and Linux images boot unchanged. One Machine = one VM; it lives in one
// thread (the VM's worker) and is driven in slices by run().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "block/backend.h"
#include "cpu/hart.h"
#include "machine/mmio.h"
#include "memory/guest_memory.h"

namespace vmsup {

struct DiskConfig {
  std::string path;
  DiskFormat format = DiskFormat::Raw;
  bool read_only = false;
};

struct MachineConfig {
  uint64_t mem_size = 256ULL << 20;
  unsigned cpus = 1;
  std::string kernel;   // -b: bare-metal ELF or Linux Image
  std::string initrd;   // --initrd
  std::string cmdline = "console=ttyS0";
  std::string bios;     // --bios: firmware loaded at DRAM base, run in M-mode
  std::vector<DiskConfig> disks;
  int console_in_fd = -1;   // UART input (stdin or a pty master); -1 = none
  int console_out_fd = -1;  // UART output (stdout or a pty master); -1 = discard
  int wake_fd = -1;         // an eventfd the supervisor writes to interrupt an idle sleep
  // Execution engine: 1 = the JIT (where the host has one), 0 = the
  // interpreter, -1 = the default (Machine::default_jit()).
  int jit = -1;
};

enum class RunResult {
  kSlice,     // the time slice ended; call run() again
  kPowerOff,  // the guest powered off (syscon, SBI SRST, HTIF exit)
  kReset,     // the guest asked for a reboot; a Linux/firmware machine has already reset
              // itself (RAM, devices, harts) and boots again on the next run() — the
              // caller may also rebuild the VM instead
  kHtifPass,  // HTIF tohost = 1
  kHtifFail,  // HTIF tohost = (n << 1) | 1; exit_code() = n
  kError,     // an emulator-side error; error() says which
};

// Why a machine could not be built: a stable ERR_VMSUP_* code and one line.
struct MachineError {
  std::string code;
  std::string message;
};

// The physical bus outside RAM: device windows, each [base, base + size).
class Bus {
 public:
  // Maps a device window. false when it is empty, wraps or overlaps another.
  bool add(uint64_t base, uint64_t size, MmioDevice* dev);
  // The device whose window holds all of [pa, pa + size), with *off set to the
  // offset inside it; nullptr when none does (an access fault).
  MmioDevice* find(uint64_t pa, unsigned size, uint64_t* off);

 private:
  struct Window {
    uint64_t base, size;
    MmioDevice* dev;
  };
  std::vector<Window> windows_;
  size_t last_ = 0;  // the window that answered last (devices are hit in bursts)
};

class TimeBase;
class Clint;
class Htif;
class Board;

// One VM. Owned by one thread; nothing here is thread-safe except
// request_exit()-style wake-ups through the wake fd.
class Machine : public CpuHost {
 public:
  // Physical addresses of the QEMU virt board (DESIGN.md).
  static constexpr uint64_t kClintBase = 0x02000000;
  static constexpr unsigned kMaxCpus = 8;
  // Instructions a hart runs before the next one gets its turn.
  static constexpr uint64_t kQuantum = 10000;

  // Builds the machine and loads what `cfg` names. nullptr with *err on failure.
  static std::unique_ptr<Machine> create(const MachineConfig& cfg, MachineError* err);
  ~Machine() override;

  // Runs for at most `max_millis` of host time; sleeps while every hart idles.
  RunResult run(uint32_t max_millis);
  uint64_t exit_code() const { return exit_code_; }  // kHtifFail: the test number
  const std::string& error() const { return error_; }  // kError: what went wrong

  // Host-side Ctrl-Alt-Del. The board's virtio keyboard provides the handler
  // (set_ctrl_alt_del_handler); a machine without one ignores the request.
  void ctrl_alt_del();
  // Host keystrokes for the console UART (when the host, not console_in_fd,
  // supplies input). Returns how many bytes were queued (the queue is bounded).
  size_t console_input(const uint8_t* data, size_t len);
  uint64_t instret() const;
  // The riscv-arch-test signature of a bare-metal ELF: a copy of guest RAM
  // [begin_signature, end_signature). false with *err (one line) when the ELF
  // lacks either symbol, they are reversed, the region is not all RAM or it is
  // larger than kMaxSignature.
  static constexpr uint64_t kMaxSignature = 64ULL << 20;
  bool signature(std::vector<uint8_t>* out, std::string* err) const;
  uint64_t resident_bytes() const { return mem_.resident_bytes(); }
  // The engine the harts run (the JIT only where the host has one).
  bool jit_enabled() const;
  // Host bytes of translated code held by all harts (each hart's cache is capped).
  uint64_t code_cache_bytes() const;
  // Whether a machine whose config leaves `jit` at -1 gets the JIT: yes on
  // hosts that have one, unless VMSUP_JIT=0 is in the environment.
  static bool default_jit();

  // --- hooks for the board (devices, SBI, boot) ---
  const MachineConfig& config() const { return cfg_; }
  GuestMemory& memory() { return mem_; }
  Bus& bus() { return bus_; }
  TimeBase& timebase() { return *time_; }
  Clint& clint() { return *clint_; }
  unsigned num_harts() const { return static_cast<unsigned>(harts_.size()); }
  Hart& hart(unsigned i) { return *harts_[i]; }
  // The SBI, when the board implements it (direct Linux boot): called for an
  // ECALL from S-mode; return false to let the ECALL trap as usual.
  void set_sbi_handler(std::function<bool(Hart&)> h) { sbi_ = std::move(h); }
  void set_ctrl_alt_del_handler(std::function<void()> h) { cad_ = std::move(h); }
  // `on_readable` runs (in run()) whenever `fd` is readable, also while idle.
  void add_poll_fd(int fd, std::function<void()> on_readable);
  // Pauses / resumes polling `fd` (e.g. while its consumer is full, or for
  // good at end of input); safe inside its callback.
  void pause_poll_fd(int fd, bool paused);
  // Runs once per scheduling round (every kQuantum instructions per hart).
  void add_tick(std::function<void()> fn) { ticks_.push_back(std::move(fn)); }
  // Bounds an idle sleep: `fn` returns the host ns until a device needs a
  // tick again (e.g. an RTC alarm), or UINT64_MAX for no limit.
  void add_sleep_limit(std::function<uint64_t()> fn) { sleep_limits_.push_back(std::move(fn)); }
  // Device-initiated ends of the run (syscon, SBI SRST).
  void request_power_off() { pending_ = RunResult::kPowerOff; }
  void request_reset() { pending_ = RunResult::kReset; }
  // Console output (HTIF, UART): to console_out_fd, or discarded.
  void console_write(const uint8_t* data, size_t len);
  // One byte of console input if available now (non-blocking), else -1.
  int console_read_byte();

  // CpuHost.
  bool mmio_read(uint64_t pa, unsigned size, uint64_t* val) override;
  bool mmio_write(uint64_t pa, unsigned size, uint64_t val) override;
  uint64_t mtime() override;
  bool sbi_ecall(Hart& hart) override;

 private:
  explicit Machine(const MachineConfig& cfg);
  bool init(MachineError* err);
  bool load_kernel(MachineError* err);
  // Sleeps (when `sleep`; else only looks) until a timer deadline, a polled fd,
  // the wake fd or `deadline_ns`, and serves the readable fds. Returns true
  // when the wake fd fired.
  bool idle_wait(uint64_t deadline_ns, bool sleep);
  void service_timers();

  MachineConfig cfg_;
  GuestMemory mem_;
  Bus bus_;
  std::unique_ptr<TimeBase> time_;
  std::unique_ptr<Clint> clint_;
  std::unique_ptr<Htif> htif_;
  std::vector<std::unique_ptr<Hart>> harts_;
  struct PollFd {
    int fd;
    bool paused;
    std::function<void()> fn;
  };
  std::vector<PollFd> poll_fds_;
  std::vector<std::function<void()>> ticks_;
  std::vector<std::function<uint64_t()>> sleep_limits_;
  std::function<bool(Hart&)> sbi_;
  std::function<void()> cad_;
  RunResult pending_ = RunResult::kSlice;  // kSlice = nothing pending
  RunResult final_ = RunResult::kSlice;    // latched end of the run
  uint64_t exit_code_ = 0;
  bool has_signature_ = false;  // the kernel ELF names begin/end_signature
  uint64_t sig_begin_ = 0, sig_end_ = 0;
  uint64_t last_fd_poll_ns_ = 0;
  std::string error_;
  std::unique_ptr<Board> board_;  // devices, Linux/firmware boot, SBI (machine/board.h)
};

}  // namespace vmsup
