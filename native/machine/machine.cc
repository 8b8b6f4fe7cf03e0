// The Machine: RAM, harts, the physical bus, the CLINT, HTIF for bare-metal
// tests, and the run loop that schedules the harts round-robin in one thread
// and sleeps when all of them idle.
#include "machine/machine.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "devices/clint.h"
#include "devices/htif.h"
#include "machine/board.h"
#include "machine/boot.h"
#include "machine/elf.h"

namespace vmsup {

namespace {

uint64_t host_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

// ---------------------------------------------------------------------------
// Bus

bool Bus::add(uint64_t base, uint64_t size, MmioDevice* dev) {
  if (size == 0 || base + size < base || dev == nullptr) return false;
  for (const auto& w : windows_)
    if (base < w.base + w.size && w.base < base + size) return false;
  windows_.push_back({base, size, dev});
  return true;
}

MmioDevice* Bus::find(uint64_t pa, unsigned size, uint64_t* off) {
  if (last_ < windows_.size()) {
    const Window& w = windows_[last_];
    if (pa >= w.base && pa - w.base < w.size && size <= w.size - (pa - w.base)) {
      *off = pa - w.base;
      return w.dev;
    }
  }
  for (size_t i = 0; i < windows_.size(); i++) {
    const Window& w = windows_[i];
    if (pa >= w.base && pa - w.base < w.size && size <= w.size - (pa - w.base)) {
      last_ = i;
      *off = pa - w.base;
      return w.dev;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Construction and boot

Machine::Machine(const MachineConfig& cfg) : cfg_(cfg) {}
Machine::~Machine() = default;

std::unique_ptr<Machine> Machine::create(const MachineConfig& cfg, MachineError* err) {
  std::unique_ptr<Machine> m(new Machine(cfg));
  if (!m->init(err)) return nullptr;
  return m;
}

bool Machine::init(MachineError* err) {
  if (cfg_.cpus < 1 || cfg_.cpus > kMaxCpus) {
    *err = {"ERR_VMSUP_BAD_CONFIG", "invalid number of cpus: " + std::to_string(cfg_.cpus) + " (1 to " +
                                        std::to_string(kMaxCpus) + ")"};
    return false;
  }
  std::string e;
  if (!mem_.init(cfg_.mem_size, &e)) {
    *err = {"ERR_VMSUP_BAD_SIZE", "invalid memory size " + std::to_string(cfg_.mem_size) + ": " + e};
    return false;
  }
  time_ = std::make_unique<TimeBase>();
  std::vector<Hart*> hp;
  for (unsigned i = 0; i < cfg_.cpus; i++) {
    harts_.push_back(std::make_unique<Hart>(i, mem_, *this));
    hp.push_back(harts_.back().get());
    if (cfg_.jit == 1 || (cfg_.jit < 0 && default_jit())) harts_.back()->set_jit(true);
  }
  clint_ = std::make_unique<Clint>(*time_, hp);
  bus_.add(kClintBase, Clint::kSize, clint_.get());
  // The rest of the board; it boots Linux Images and firmware itself.
  bool booted = false;
  board_ = Board::attach(*this, &booted, err);
  if (!board_) return false;
  if (booted) {
    cad_ = [this]() { board_->ctrl_alt_del(); };
    return true;
  }
  return load_kernel(err);
}

// Bare-metal boot (issue 2): the ELF's segments at their physical addresses,
// every hart at the entry in M-mode with a0 = its hart id and a1 = the board
// FDT, as QEMU starts M-mode firmware (0 when the ELF fills the end of RAM).
// `tohost`/`fromhost` in the symbol table turn HTIF on.
bool Machine::load_kernel(MachineError* err) {
  if (cfg_.kernel.empty()) {
    *err = {"ERR_VMSUP_BAD_CONFIG", "no kernel given"};
    return false;
  }
  std::vector<uint8_t> file;
  std::string e;
  if (!read_file(cfg_.kernel, kMaxElfFile, &file, &e, cfg_.kernel_fd)) {
    *err = {"ERR_VMSUP_NO_FILE", e};
    return false;
  }
  ElfImage img;
  if (!load_elf(file, cfg_.kernel, mem_, &img, &e)) {
    *err = {"ERR_VMSUP_BAD_KERNEL", e};
    return false;
  }
  has_signature_ = img.has_signature;
  sig_begin_ = img.sig_begin;
  sig_end_ = img.sig_end;
  const uint64_t fdt = place_board_fdt(mem_, num_harts(), cfg_.cmdline, img.top);
  for (auto& h : harts_) {
    h->reset(img.entry, kPrivM);
    h->set_reg(10, h->hartid());
    h->set_reg(11, fdt);
    h->set_state(HartState::kRunning);
  }
  if (img.tohost) {
    htif_ = std::make_unique<Htif>(
        mem_, img.tohost, img.fromhost, [this](const uint8_t* p, size_t n) { console_write(p, n); },
        [this]() { return console_read_byte(); });
  }
  return true;
}

bool Machine::signature(std::vector<uint8_t>* out, std::string* err) const {
  char range[64];
  snprintf(range, sizeof(range), "0x%llx..0x%llx", static_cast<unsigned long long>(sig_begin_),
           static_cast<unsigned long long>(sig_end_));
  if (!has_signature_) {
    *err = cfg_.kernel.empty() ? "no signature: the machine was not started from an ELF (-b)"
                               : cfg_.kernel + ": no signature: the ELF lacks the symbols begin_signature and end_signature";
    return false;
  }
  if (sig_end_ < sig_begin_) {
    *err = cfg_.kernel + ": bad signature region " + range + " (end_signature before begin_signature)";
    return false;
  }
  const uint64_t len = sig_end_ - sig_begin_;
  // The symbols come from an untrusted file: the cap keeps a forged region from
  // making us copy (and print) gigabytes of guest RAM. Real arch-test
  // signatures are a few KiB.
  if (len > kMaxSignature) {
    *err = cfg_.kernel + ": signature region " + range + " is larger than " +
           std::to_string(kMaxSignature >> 20) + " MiB";
    return false;
  }
  if (!mem_.check_range(sig_begin_, len)) {
    *err = cfg_.kernel + ": signature region " + range + " lies outside RAM";
    return false;
  }
  out->resize(static_cast<size_t>(len));
  return len == 0 || mem_.read(sig_begin_, out->data(), len);
}

// ---------------------------------------------------------------------------
// CpuHost

bool Machine::mmio_read(uint64_t pa, unsigned size, uint64_t* val) {
  uint64_t off;
  MmioDevice* d = bus_.find(pa, size, &off);
  return d && d->read(off, size, val);
}

bool Machine::mmio_write(uint64_t pa, unsigned size, uint64_t val) {
  uint64_t off;
  MmioDevice* d = bus_.find(pa, size, &off);
  return d && d->write(off, size, val);
}

uint64_t Machine::mtime() { return time_->now(); }

bool Machine::sbi_ecall(Hart& hart) { return sbi_ ? sbi_(hart) : false; }

// ---------------------------------------------------------------------------
// Console

void Machine::console_write(const uint8_t* data, size_t len) {
  const int fd = cfg_.console_out_fd;
  if (fd < 0) return;
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // A full non-blocking pty: wait a little for the reader, then drop the
      // rest rather than stall the guest forever.
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, 100) > 0) continue;
    }
    return;
  }
}

void Machine::counters(std::vector<std::pair<std::string, uint64_t>>* out) const {
  if (board_) board_->counters(out);
}

int Machine::console_read_byte() {
  // With the board present, all console input (fd or consoleInput()) flows
  // through its bounded queue and the UART FIFO; take the next byte there.
  if (board_) return board_->console_getchar();
  const int fd = cfg_.console_in_fd;
  if (fd < 0) return -1;
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return -1;
  uint8_t b;
  ssize_t n = ::read(fd, &b, 1);
  return n == 1 ? b : -1;
}

void Machine::add_poll_fd(int fd, std::function<void()> on_readable) {
  if (fd >= 0) poll_fds_.push_back({fd, false, std::move(on_readable)});
}

void Machine::pause_poll_fd(int fd, bool paused) {
  // Flagged, not erased: ppoll ignores negative fds, and a callback running now
  // stays alive.
  for (auto& p : poll_fds_)
    if (p.fd == fd) p.paused = paused;
}

size_t Machine::console_input(const uint8_t* data, size_t len) {
  return board_ ? board_->console_input(data, len) : 0;
}

void Machine::ctrl_alt_del() {
  if (cad_) cad_();
}

uint64_t Machine::instret() const {
  uint64_t n = 0;
  for (const auto& h : harts_) n += h->instret();
  return n;
}

// ---------------------------------------------------------------------------
// The run loop

void Machine::service_timers() {
  clint_->update();
  const uint64_t now = time_->now();
  for (auto& h : harts_) h->update_time(now);
}

bool Machine::idle_wait(uint64_t deadline_ns, bool sleep) {
  uint64_t sleep_ns = 0;
  if (sleep) {
    uint64_t wake = clint_->next_deadline();
    for (auto& h : harts_) wake = std::min(wake, h->timer_deadline());
    const uint64_t now = host_ns();
    sleep_ns = deadline_ns > now ? deadline_ns - now : 0;
    if (wake != ~0ULL) sleep_ns = std::min(sleep_ns, time_->ns_until(wake));
    for (auto& limit : sleep_limits_) sleep_ns = std::min(sleep_ns, limit());
  }
  std::vector<struct pollfd> pfds;
  if (cfg_.wake_fd >= 0) pfds.push_back({cfg_.wake_fd, POLLIN, 0});
  for (const auto& p : poll_fds_) pfds.push_back({p.paused ? -1 : p.fd, POLLIN, 0});
  // Poll sources (slirp) add their fds and may shorten the sleep for their timers.
  std::vector<size_t> src_at(poll_sources_.size() + 1);
  for (size_t k = 0; k < poll_sources_.size(); k++) {
    src_at[k] = pfds.size();
    uint64_t limit = sleep_ns;
    poll_sources_[k]->fill(&pfds, &limit);
    sleep_ns = std::min(sleep_ns, limit);
  }
  src_at[poll_sources_.size()] = pfds.size();
  struct timespec ts = {static_cast<time_t>(sleep_ns / 1'000'000'000ULL),
                        static_cast<long>(sleep_ns % 1'000'000'000ULL)};
  int r = ppoll(pfds.data(), pfds.size(), &ts, nullptr);
  if (r <= 0) {
    for (auto& p : pfds) p.revents = 0;
  }
  size_t i = 0;
  bool woke = false;
  if (cfg_.wake_fd >= 0) {
    if (pfds[0].revents & POLLIN) {
      uint64_t v;
      ssize_t n = ::read(cfg_.wake_fd, &v, sizeof(v));
      (void)n;
      woke = true;
    }
    i = 1;
  }
  for (size_t k = 0; k < poll_fds_.size(); k++, i++)
    if (!poll_fds_[k].paused && (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) poll_fds_[k].fn();
  for (size_t k = 0; k < poll_sources_.size(); k++)
    poll_sources_[k]->dispatch(pfds.data() + src_at[k], src_at[k + 1] - src_at[k]);
  return woke;
}

RunResult Machine::run(uint32_t max_millis) {
  if (final_ != RunResult::kSlice) return final_;
  const uint64_t deadline = host_ns() + static_cast<uint64_t>(max_millis) * 1'000'000ULL;
  for (;;) {
    bool any_running = false;
    for (auto& h : harts_) {
      if (h->state() != HartState::kRunning) continue;
      h->run(kQuantum);
      if (h->state() == HartState::kRunning) any_running = true;
      if (htif_) {
        uint64_t code = 0;
        Htif::Event ev = htif_->poll(&code);
        if (ev == Htif::Event::kPass) return final_ = RunResult::kHtifPass;
        if (ev == Htif::Event::kFail) {
          exit_code_ = code;
          return final_ = RunResult::kHtifFail;
        }
      }
      if (pending_ != RunResult::kSlice) {
        RunResult r = pending_;
        pending_ = RunResult::kSlice;
        if (r == RunResult::kReset && board_) {
          // Guest reboot: the board reloads the images and restarts the harts.
          std::string e;
          if (!board_->reboot(&e)) {
            error_ = e;
            return final_ = RunResult::kError;
          }
        }
        if (r != RunResult::kReset) final_ = r;
        if (board_) board_->uart().drain(r == RunResult::kReset ? 0 : 500);
        return r;
      }
    }
    service_timers();
    for (auto& t : ticks_) t();
    // A tick (console input, a device) may have woken a hart from WFI.
    for (auto& h : harts_) any_running |= h->state() == HartState::kRunning;
    if (!any_running) {
      // Every hart waits (WFI) or is stopped: sleep until a timer deadline, a
      // polled fd (console input), the wake fd or the end of the slice.
      if (idle_wait(deadline, true)) return RunResult::kSlice;
      service_timers();
    } else if (!poll_fds_.empty() || !poll_sources_.empty() || cfg_.wake_fd >= 0) {
      // While the guest computes, look at the fds about once a millisecond.
      const uint64_t now = host_ns();
      if (now - last_fd_poll_ns_ >= 1'000'000ULL) {
        last_fd_poll_ns_ = now;
        if (idle_wait(0, false)) return RunResult::kSlice;
      }
    }
    if (host_ns() >= deadline) return RunResult::kSlice;
  }
}

}  // namespace vmsup

namespace vmsup {

bool Machine::jit_enabled() const { return !harts_.empty() && harts_[0]->jit_enabled(); }

uint64_t Machine::code_cache_bytes() const {
  uint64_t n = 0;
  for (const auto& h : harts_) n += h->code_cache_bytes();
  return n;
}

bool Machine::default_jit() {
  const char* v = std::getenv("VMSUP_JIT");
  if (v && v[0] == '0') return false;
  if (v && v[0] == '1') return true;
#if defined(__x86_64__)
  return true;  // it passes the ISA, conformance, CPU and boot suites (native/cpu/jit/README.md)
#else
  return false;  // no translator for this host
#endif
}

}  // namespace vmsup
