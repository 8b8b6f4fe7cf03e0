// The virt board around the CPU: builds the devices of the memory-map table
// (memmap.h) on the Machine's bus — PLIC, NS16550A, goldfish RTC, syscon and
// the virtio-mmio slots, filled from the device list of device_manager.h
// (disks, then NICs, then entropy, then the keyboard) — wires
// the PLIC to the harts' MEIP/SEIP, loads a Linux Image or firmware with its
// initrd and FDT (boot.h), and implements the SBI for a direct kernel boot.
// The CLINT and HTIF belong to the Machine itself (machine.cc).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "devices/goldfish_rtc.h"
#include "devices/plic.h"
#include "devices/syscon.h"
#include "devices/uart16550.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "machine/boot.h"
#include "machine/device_manager.h"
#include "machine/machine.h"
#include "machine/sbi.h"

namespace vmsup {

class VirtioNet;

class Board : public SbiPlatform {
 public:
  // Creates the devices and opens the disks. When the configuration asks for a
  // Linux Image or firmware, also loads them and starts the harts, and sets
  // *booted; otherwise the Machine boots its bare-metal ELF itself.
  static std::unique_ptr<Board> attach(BoardHost& m, bool* booted, MachineError* err);
  ~Board() override;

  // Guest reboot: RAM cleared, images reloaded, devices and harts reset.
  bool reboot(std::string* err);
  void ctrl_alt_del();
  // Host keystrokes, queued and fed to the UART's receive FIFO as it drains.
  // Cap: kInputCap bytes, so a host pasting megabytes cannot grow memory; the
  // caller keeps what was not taken and offers it again.
  static constexpr size_t kInputCap = 4096;
  size_t console_input(const uint8_t* data, size_t len);

  // SbiPlatform.
  unsigned hart_count() override { return m_.num_harts(); }
  Hart& hart(unsigned id) override { return m_.hart(id); }
  void console_putchar(uint8_t c) override { uart_->console_put(c); }
  // The next console input byte, taken from the UART's receive FIFO (for the
  // SBI legacy getchar and HTIF, which bypass the UART registers), or -1.
  int console_getchar() override;
  void system_reset(ResetType t) override;

  Uart16550& uart() { return *uart_; }
  // Metrics: (name, value) pairs — console bytes each way, interrupts
  // delivered, and each virtio device's own counters prefixed with its kind
  // and index among its kind ("blk0_reads"). Read on the vCPU thread.
  void counters(std::vector<std::pair<std::string, uint64_t>>* out) const;
  // Where each virtio device went (the device manager's record).
  const std::vector<DeviceSlot>& device_slots() const { return slots_.slots(); }
  // Save/restore (native/snapshot) walks the devices in memory-map order.
  Plic& plic() { return *plic_; }
  GoldfishRtc& rtc() { return *rtc_; }
  std::vector<std::unique_ptr<VirtioMmio>>& virtio_transports() { return virtio_; }
  // The NICs, in -n/-i/-L/--nat order; their counters for stats().
  const std::vector<VirtioNet*>& nics() const { return nics_; }

 private:
  explicit Board(BoardHost& m) : m_(m) {}
  bool init(bool* booted, MachineError* err);
  bool create_devices(MachineError* err);
  bool boot(std::string* err);

  BoardHost& m_;
  VirtioSlotAllocator slots_;
  std::vector<VirtioNet*> nics_;
  std::unique_ptr<Plic> plic_;
  std::unique_ptr<Uart16550> uart_;
  std::unique_ptr<GoldfishRtc> rtc_;
  std::unique_ptr<Syscon> syscon_;
  std::vector<std::unique_ptr<VirtioMmio>> virtio_;
  VirtioInput* keyboard_ = nullptr;
  // Reads console_in_fd into input_; pauses polling while input_ is full.
  void read_console_fd();
  void feed_uart();

  std::deque<uint8_t> input_;
  uint64_t input_bytes_ = 0;  // console bytes received from the host
  bool input_eof_ = false;
  bool input_paused_ = false;
  // A pty master with no slave open reads EIO (and polls as hung up) until a
  // console attaches again: look again after a pause instead of spinning.
  std::chrono::steady_clock::time_point input_retry_{};
  BootRequest req_;
  bool linux_boot_ = false;
};

}  // namespace vmsup
