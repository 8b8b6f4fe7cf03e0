#include "machine/board.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "machine/memmap.h"
#include "net/backend.h"

namespace vmsup {

std::unique_ptr<Board> Board::attach(BoardHost& m, bool* booted, MachineError* err) {
  std::unique_ptr<Board> b(new Board(m));
  if (!b->init(booted, err)) return nullptr;
  return b;
}

Board::~Board() = default;

// Builds the virtio devices from the device list (device_manager.h): each spec
// gets its slot from the one allocator, then every window of the memory-map
// table is mapped (slots without a device answer DeviceID 0, §4.2.3.1.1).
bool Board::create_devices(MachineError* err) {
  const MachineConfig& cfg = m_.config();
  std::vector<std::unique_ptr<VirtioDevice>> by_slot(kVirtioSlots);
  std::vector<std::pair<dev_t, ino_t>> seen;
  for (const DeviceSpec& spec : board_device_specs(static_cast<unsigned>(cfg.disks.size()),
                                                   static_cast<unsigned>(cfg.nics.size()))) {
    DeviceSlot slot;
    std::string e;
    if (!slots_.allocate(spec, &slot, &e)) {
      *err = {"ERR_VMSUP_BAD_CONFIG", e};
      return false;
    }
    std::unique_ptr<VirtioDevice> dev;
    switch (spec.kind) {
      case DeviceKind::kBlk: {
        const DiskConfig& d = cfg.disks[spec.index];
        // The daemon hands descriptors (the chain opened as the VM's owner);
        // `vmsup run` gives paths.
        struct stat st;
        int sr = d.files.empty() ? ::stat(d.path.c_str(), &st) : ::fstat(d.files[0].fd, &st);
        if (sr == 0) {
          for (auto& s : seen)
            if (s.first == st.st_dev && s.second == st.st_ino) {
              *err = {"ERR_VMSUP_DISK", "disk " + d.path + " is given twice"};
              return false;
            }
          seen.push_back({st.st_dev, st.st_ino});
        }
        std::unique_ptr<BlockBackend> backend;
        if (d.files.empty()) {
          backend = open_block_backend(d.path, d.format, d.read_only, &e);
        } else {
          FdTableOpener opener(d.files);
          backend = open_block_backend(d.path, d.format, d.read_only, &e, &opener);
        }
        if (!backend) {
          *err = {"ERR_VMSUP_DISK", e};
          return false;
        }
        dev = std::make_unique<VirtioBlk>(std::move(backend),
                                          "vmsup-vd" + std::string(1, static_cast<char>('a' + spec.index)));
        break;
      }
      case DeviceKind::kNet: {
        const NicConfig& n = cfg.nics[spec.index];
        std::unique_ptr<NetBackend> backend = make_net_backend(n, m_, &e);
        if (!backend) {
          *err = {"ERR_VMSUP_NET", e};
          return false;
        }
        auto net = std::make_unique<VirtioNet>(n.mac, std::move(backend));
        nics_.push_back(net.get());
        dev = std::move(net);
        break;
      }
      case DeviceKind::kRng:
        dev = std::make_unique<VirtioRng>();
        break;
      case DeviceKind::kInput: {
        auto kbd = std::make_unique<VirtioInput>();
        keyboard_ = kbd.get();
        dev = std::move(kbd);
        break;
      }
    }
    by_slot[slot.slot] = std::move(dev);
  }

  // Register every window of the memory-map table (the CLINT is the Machine's).
  for (size_t i = 0; i < kMemMapCount; i++) {
    const MemRegion& r = kMemMap[i];
    MmioDevice* dev = nullptr;
    switch (r.kind) {
      case Region::kSyscon: dev = syscon_.get(); break;
      case Region::kRtc: dev = rtc_.get(); break;
      case Region::kPlic: dev = plic_.get(); break;
      case Region::kUart: dev = uart_.get(); break;
      case Region::kVirtio:
        virtio_.push_back(std::make_unique<VirtioMmio>(m_.memory(), plic_.get(), r.irq, std::move(by_slot[r.index])));
        dev = virtio_.back().get();
        break;
      case Region::kClint: case Region::kDram: break;
    }
    if (dev && !m_.map_device(r.base, r.size, dev)) {
      *err = {"ERR_VMSUP_INTERNAL", "memory map overlap"};
      return false;
    }
  }
  return true;
}

bool Board::init(bool* booted, MachineError* err) {
  const MachineConfig& cfg = m_.config();
  *booted = false;

  // PLIC context 2h -> hart h MEIP, 2h+1 -> SEIP (the FDT says the same).
  plic_ = std::make_unique<Plic>(m_.num_harts(), [this](unsigned ctx, bool level) {
    m_.hart(ctx / 2).set_irq(ctx % 2 ? kMipSEIP : kMipMEIP, level);
  });
  const MemRegion& uart_r = memmap_region(Region::kUart);
  uart_ = std::make_unique<Uart16550>(plic_.get(), uart_r.irq, cfg.console_out_fd);
  rtc_ = std::make_unique<GoldfishRtc>(plic_.get(), memmap_region(Region::kRtc).irq);
  syscon_ = std::make_unique<Syscon>([this](SysconAction a, uint32_t) {
    if (a == SysconAction::kReset) m_.request_reset();
    else m_.request_power_off();
    for (unsigned h = 0; h < m_.num_harts(); h++) m_.hart(h).request_exit();
  });

  if (!create_devices(err)) return false;

  // Console input goes into the UART's receive FIFO; output is flushed in
  // batches once per scheduling round.
  // Input (console_in_fd or consoleInput()) waits in a bounded queue and
  // enters the UART's 16-byte FIFO as the guest drains it; while the queue is
  // full the fd is not polled, so an unread console cannot make the idle loop spin.
  if (cfg.console_in_fd >= 0) m_.add_poll_fd(cfg.console_in_fd, [this]() { read_console_fd(); });
  m_.add_tick([this]() {
    feed_uart();
    if (uart_->pending_output()) uart_->flush();
    rtc_->poll();
  });
  // An armed RTC alarm must fire on time even while every hart sleeps in WFI.
  m_.add_sleep_limit([this]() { return rtc_->ns_until_alarm(); });

  // What to boot: a Linux Image or firmware here; a bare-metal ELF in machine.cc.
  req_.bios = cfg.bios;
  req_.initrd = cfg.initrd;
  req_.bios_fd = cfg.bios_fd;
  req_.initrd_fd = cfg.initrd_fd;
  req_.cmdline = cfg.cmdline;
  req_.harts = m_.num_harts();
  if (!cfg.boot_device.empty() && cfg.boot_device != "disk" && cfg.boot_device != "cdrom" &&
      cfg.boot_device != "net") {
    *err = {"ERR_VMSUP_BAD_CONFIG", "invalid boot device: " + cfg.boot_device};
    return false;
  }
  req_.boot_net = cfg.boot_device == "net";
  if (!cfg.kernel.empty()) {
    std::string e;
    KernelKind k = detect_kernel_file(cfg.kernel, &e, cfg.kernel_fd);
    if (k == KernelKind::kUnknown) {
      bool readable = cfg.kernel_fd >= 0 || access(cfg.kernel.c_str(), R_OK) == 0;
      *err = {readable ? "ERR_VMSUP_BAD_KERNEL" : "ERR_VMSUP_NO_FILE", e};
      return false;
    }
    if (k == KernelKind::kLinuxImage || k == KernelKind::kRaw) {
      req_.kernel = cfg.kernel;
      req_.kernel_fd = cfg.kernel_fd;
      req_.kernel_raw = k == KernelKind::kRaw;
      // QEMU -M virt -kernel <raw binary> runs its default OpenSBI first.
      if (req_.kernel_raw && req_.bios.empty()) req_.bios = cfg.default_bios;
    } else if (!cfg.bios.empty()) {
      *err = {"ERR_VMSUP_BAD_CONFIG", "--bios needs a Linux Image kernel, not an ELF file"};
      return false;
    } else {
      if (!cfg.initrd.empty()) {
        *err = {"ERR_VMSUP_BAD_CONFIG", "--initrd needs a Linux Image kernel"};
        return false;
      }
      return true;  // bare-metal ELF: the Machine loads it
    }
  }
  linux_boot_ = true;
  std::string e;
  if (!boot(&e)) {
    *err = {"ERR_VMSUP_BAD_KERNEL", e};
    return false;
  }
  if (req_.bios.empty())
    m_.set_sbi_handler([this](Hart& h) { return sbi_handle_ecall(h, *this); });
  *booted = true;
  return true;
}

bool Board::boot(std::string* err) {
  BootPlan plan;
  if (!load_boot_images(req_, m_.memory(), &plan, err)) return false;
  for (unsigned h = 0; h < m_.num_harts(); h++) {
    start_hart(m_.hart(h), plan);
    if (!plan.firmware) sbi_prepare_supervisor(m_.hart(h));
  }
  return true;
}

bool Board::reboot(std::string* err) {
  // A reset of the whole board: RAM reads as zero again, every device back to
  // its power-on state, then the same boot as at power-on.
  m_.memory().discard();
  plic_->reset();
  uart_->reset();
  for (auto& v : virtio_) v->reset();
  if (!linux_boot_) {
    *err = "reboot of a bare-metal program is not supported";
    return false;
  }
  return boot(err);
}

size_t Board::console_input(const uint8_t* data, size_t len) {
  size_t n = 0;
  while (n < len && input_.size() < kInputCap) input_.push_back(data[n++]);
  input_bytes_ += n;
  feed_uart();
  return n;
}

int Board::console_getchar() {
  const int fd = m_.config().console_in_fd;
  if (fd >= 0 && !input_paused_ && !input_eof_) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP))) read_console_fd();
  }
  feed_uart();
  return uart_->pop_rx();
}

void Board::counters(std::vector<std::pair<std::string, uint64_t>>* out) const {
  out->emplace_back("console_out_bytes", uart_->tx_bytes());
  out->emplace_back("console_in_bytes", input_bytes_);
  out->emplace_back("interrupts", plic_->claims());
  std::vector<std::pair<std::string, unsigned>> seen;  // prefix -> next index
  std::vector<std::pair<std::string, uint64_t>> dev;
  for (const auto& v : virtio_) {
    const VirtioDevice* d = v->device();
    if (!d || !*d->counter_prefix()) continue;
    std::string prefix = d->counter_prefix();
    unsigned idx = 0;
    bool found = false;
    for (auto& s : seen)
      if (s.first == prefix) {
        idx = s.second++;
        found = true;
      }
    if (!found) seen.push_back({prefix, 1});
    dev.clear();
    d->counters(&dev);
    for (auto& c : dev) out->emplace_back(prefix + std::to_string(idx) + "_" + c.first, c.second);
  }
}

void Board::read_console_fd() {
  const int fd = m_.config().console_in_fd;
  size_t room = kInputCap - input_.size();
  if (room > 0) {
    uint8_t buf[512];
    ssize_t n = ::read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
    bool retry_later = false;
    if (n > 0) {
      input_.insert(input_.end(), buf, buf + n);
      input_bytes_ += static_cast<uint64_t>(n);
    } else if (n < 0 && errno == EIO) {
      retry_later = true;  // pty without a reader on the other side
      input_retry_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      input_eof_ = true;  // end of input
    }
    if (retry_later && !input_paused_) {
      input_paused_ = true;
      m_.pause_poll_fd(fd, true);
      return;
    }
  }
  feed_uart();
  bool pause = input_eof_ || input_.size() >= kInputCap;
  if (pause != input_paused_) {
    input_paused_ = pause;
    m_.pause_poll_fd(fd, pause);
  }
}

void Board::feed_uart() {
  while (!input_.empty() && uart_->rx_space() > 0) {
    uart_->push_rx(input_.front());
    input_.pop_front();
  }
  // Room again: look at the fd again (not after end of input).
  if (input_paused_ && !input_eof_ && input_.size() < kInputCap &&
      std::chrono::steady_clock::now() >= input_retry_) {
    input_paused_ = false;
    m_.pause_poll_fd(m_.config().console_in_fd, false);
  }
}

void Board::ctrl_alt_del() {
  if (keyboard_) keyboard_->ctrl_alt_del();
}

void Board::system_reset(ResetType t) {
  if (t == ResetType::kShutdown) m_.request_power_off();
  else m_.request_reset();
}

}  // namespace vmsup
