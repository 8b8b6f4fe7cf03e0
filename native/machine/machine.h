// The board: a RISC-V `virt`-like machine with QEMU's memory map, so stock
// OpenSBI and Linux images boot unchanged. One Machine = one VM; it lives in one
// thread (the VM's worker) and is driven in slices by run().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "block/backend.h"
#include "cpu/hart.h"
#include "machine/device_manager.h"
#include "machine/mmio.h"
#include "memory/guest_memory.h"
#include "net/net_config.h"

struct pollfd;

namespace vmsup {

struct DiskConfig {
  std::string path;
  DiskFormat format = DiskFormat::Raw;
  bool read_only = false;
  // Descriptors opened by the daemon with the owner's credentials (the image
  // and its whole backing chain, host/vmfiles.cc). When given, the disk is
  // built from them only (FdTableOpener) and `path` just names it.
  std::vector<FdTableOpener::Entry> files;
};

struct MachineConfig {
  uint64_t mem_size = 256ULL << 20;
  unsigned cpus = 1;
  std::string kernel;   // -b: bare-metal ELF or Linux Image
  std::string initrd;   // --initrd
  std::string cmdline = "console=ttyS0";
  std::string bios;     // --bios: firmware loaded at DRAM base, run in M-mode
  // Open descriptors for kernel/initrd/bios (-1: open the path). The machine
  // only duplicates them; their owner (machine_napi.cc) closes them.
  int kernel_fd = -1, initrd_fd = -1, bios_fd = -1;
  std::string default_bios;  // firmware for a raw -b binary given without --bios (QEMU's default OpenSBI)
  std::string boot_device;  // -B: "net" makes U-Boot boot over DHCP (FDT /config/bootcmd)
  std::vector<DiskConfig> disks;
  std::vector<NicConfig> nics;  // at most kDeviceLimits.nics
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

// A set of fds that changes from one sleep to the next, with its own timers
// (libslirp's sockets): the run loop asks it for the fds and the longest sleep
// before every poll, and hands the results back after it (also after a timeout,
// so its timers run).
class PollSource {
 public:
  virtual ~PollSource() = default;
  // Appends the fds to watch; may lower *timeout_ns.
  virtual void fill(std::vector<struct pollfd>* fds, uint64_t* timeout_ns) = 0;
  // `fds` are the ones fill() appended, with revents set (all 0 after a timeout).
  virtual void dispatch(const struct pollfd* fds, size_t n) = 0;
};

// What the board needs of the machine, and nothing more (the Machine
// implements it): guest RAM, the bus, the harts, power requests and the run
// loop's hooks for fds, ticks and sleep limits.
class BoardHost {
 public:
  virtual ~BoardHost() = default;
  virtual const MachineConfig& config() const = 0;
  virtual GuestMemory& memory() = 0;
  // Maps a device window; false when it overlaps another.
  virtual bool map_device(uint64_t base, uint64_t size, MmioDevice* dev) = 0;
  virtual unsigned num_harts() const = 0;
  virtual Hart& hart(unsigned i) = 0;
  virtual void request_power_off() = 0;
  virtual void request_reset() = 0;
  virtual void set_sbi_handler(std::function<bool(Hart&)> h) = 0;
  virtual void add_poll_fd(int fd, std::function<void()> on_readable) = 0;
  virtual void pause_poll_fd(int fd, bool paused) = 0;
  virtual void add_poll_source(PollSource* src) = 0;
  virtual void add_tick(std::function<void()> fn) = 0;
  virtual void add_sleep_limit(std::function<uint64_t()> fn) = 0;
};

// One VM. Owned by one thread; nothing here is thread-safe except
// request_exit()-style wake-ups through the wake fd.
struct LiveSave;
struct SnapshotAccess;

class Machine : public CpuHost, public BoardHost {
 public:
  // Physical addresses of the QEMU virt board (DESIGN.md).
  static constexpr uint64_t kClintBase = 0x02000000;
  static constexpr unsigned kMaxCpus = kDeviceLimits.cpus;
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
  // Metrics of the board's devices as (name, value) pairs (Board::counters);
  // empty for a bare-metal machine without a board.
  void counters(std::vector<std::pair<std::string, uint64_t>>* out) const;

  // Save/restore (native/snapshot/snapshot.h; machine_snapshot.cc). save()
  // writes the whole machine to `fd` between two run() slices (disks
  // flushed, console output drained first); `meta` is an opaque string of
  // the caller's (the run options), kept in the file. restore() loads a
  // file into this freshly created machine (same memory, cpus and device
  // list); on failure it returns false with *err and the machine is left
  // unusable (run() reports the error). `force` accepts disks that changed.
  bool save(int fd, const std::string& meta, MachineError* err);
  bool restore(int fd, bool force, std::string* meta, MachineError* err);
  // Live migration's pre-copy step: moves the dirty-page bitmap out of RAM
  // (GuestMemory::take_dirty) and flushes every hart's TLB, so the next store
  // to any page refills its entry and marks the page again.
  void take_dirty_pages(std::vector<uint64_t>* bits);
  // Live send (snapshot.h, PASS sections), between run() slices: live_begin
  // writes the head and starts pass 1 (every page touched so far);
  // live_step writes about `budget` bytes more of the current pass (*done at
  // its end) and the guest may run in between; live_collect takes the pages
  // dirtied since and returns how many are waiting; live_pass starts a pass
  // over them; live_finish (the guest no longer runs) writes the disks, the
  // pages still dirty, every device and the END record with the downtime
  // (`paused_us` before the call plus the call's own time). After a failure,
  // live_abort; the guest is untouched either way.
  bool live_begin(int fd, const std::string& meta, MachineError* err);
  bool live_step(uint64_t budget, bool* done, MachineError* err);
  uint64_t live_collect();
  bool live_pass(MachineError* err);
  bool live_finish(uint64_t paused_us, uint64_t* bytes, MachineError* err);
  void live_abort();
  uint64_t live_bytes() const;
  uint32_t live_pass_number() const;
  // The engine the harts run (the JIT only where the host has one).
  bool jit_enabled() const;
  // Host bytes of translated code held by all harts (each hart's cache is capped).
  uint64_t code_cache_bytes() const;
  // Whether a machine whose config leaves `jit` at -1 gets the JIT: yes on
  // hosts that have one, unless VMSUP_JIT=0 is in the environment.
  static bool default_jit();

  // --- hooks for the board (devices, SBI, boot) ---
  // (BoardHost)
  const MachineConfig& config() const override { return cfg_; }
  GuestMemory& memory() override { return mem_; }
  bool map_device(uint64_t base, uint64_t size, MmioDevice* dev) override { return bus_.add(base, size, dev); }
  Bus& bus() { return bus_; }
  TimeBase& timebase() { return *time_; }
  Clint& clint() { return *clint_; }
  unsigned num_harts() const override { return static_cast<unsigned>(harts_.size()); }
  Hart& hart(unsigned i) override { return *harts_[i]; }
  // The SBI, when the board implements it (direct Linux boot): called for an
  // ECALL from S-mode; return false to let the ECALL trap as usual.
  void set_sbi_handler(std::function<bool(Hart&)> h) override { sbi_ = std::move(h); }
  void set_ctrl_alt_del_handler(std::function<void()> h) { cad_ = std::move(h); }
  // `on_readable` runs (in run()) whenever `fd` is readable, also while idle.
  void add_poll_fd(int fd, std::function<void()> on_readable) override;
  // Pauses / resumes polling `fd` (e.g. while its consumer is full, or for
  // good at end of input); safe inside its callback.
  void pause_poll_fd(int fd, bool paused) override;
  // A changing set of fds with timers (see PollSource); it must outlive the Machine's runs.
  void add_poll_source(PollSource* src) override { poll_sources_.push_back(src); }
  // Runs once per scheduling round (every kQuantum instructions per hart).
  void add_tick(std::function<void()> fn) override { ticks_.push_back(std::move(fn)); }
  // Bounds an idle sleep: `fn` returns the host ns until a device needs a
  // tick again (e.g. an RTC alarm), or UINT64_MAX for no limit.
  void add_sleep_limit(std::function<uint64_t()> fn) override { sleep_limits_.push_back(std::move(fn)); }
  // Device-initiated ends of the run (syscon, SBI SRST).
  void request_power_off() override { pending_ = RunResult::kPowerOff; }
  void request_reset() override { pending_ = RunResult::kReset; }
  // The board (devices), or null for a bare HTIF machine.
  Board* board() { return board_.get(); }
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
  std::vector<PollSource*> poll_sources_;
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
  std::shared_ptr<LiveSave> live_;  // a live send in progress (snapshot.cc)
  friend struct SnapshotAccess;     // the save walk (snapshot.cc)
};

}  // namespace vmsup
