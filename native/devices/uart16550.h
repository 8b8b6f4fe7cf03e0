// NS16550A UART (National Semiconductor PC16550D datasheet), the console of
// QEMU virt at 0x10000000, PLIC source 10, registers one byte apart.
//
// Transmit: THR writes go to a bounded output ring that flush() drains to the
// console fd in batches (not one write(2) per byte). flush() never blocks: it
// writes only what poll() says fits, and when the ring is full the oldest
// bytes are dropped, so a guest flooding a console nobody reads keeps running.
// Receive: a 16-byte FIFO the machine fills from the console input fd
// (push_rx / rx_space), so input is back-pressured in the fd, not buffered here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "machine/mmio.h"

namespace vmsup {

class SnapOut;
class SnapIn;

class Uart16550 : public MmioDevice {
 public:
  // Output ring capacity. Cap: a guest writing faster than the console reader
  // cannot grow host memory beyond this; older bytes are dropped instead.
  static constexpr size_t kOutCap = 64 * 1024;
  static constexpr size_t kFifo = 16;

  Uart16550(IrqSink* irq, uint32_t line, int out_fd);

  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;
  void reset();

  // Receive side: bytes the FIFO can take now, and one received byte.
  size_t rx_space() const { return kFifo - rx_count_; }
  void push_rx(uint8_t b);
  // Takes the oldest received byte (as an RBR read would), or -1 when empty.
  int pop_rx();
  // Reads what fits from a (possibly blocking) fd without blocking.
  // Returns false at end of file or on a read error.
  bool poll_input(int fd);

  // Transmit side: the bytes not yet written to out_fd.
  size_t pending_output() const { return out_len_; }
  // Writes buffered output to out_fd as far as it goes without blocking.
  void flush() { drain(0); }
  // The same, waiting up to `timeout_ms` in total for a slow reader (used at
  // power-off, so the guest's last lines are not lost).
  void drain(int timeout_ms);
  // Copies buffered output (for tests with out_fd = -1) and empties the ring.
  std::vector<uint8_t> take_output();
  uint64_t dropped_bytes() const { return dropped_; }

  // Registers, the receive FIFO and the pending interrupt conditions (the
  // transmit ring is drained to the console before a save, not saved).
  // Save/restore (native/snapshot; devices/persist.cc): the device's
  // architectural state; restore validates every field as the guest's register
  // writes would be, and returns false with in.error() set otherwise.
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in);

  // Direct console output that bypasses the registers (SBI legacy putchar).
  void console_put(uint8_t b) { out_push(b); }
  // Metrics: bytes the guest transmitted (including any later dropped).
  uint64_t tx_bytes() const { return tx_bytes_; }

 private:
  void out_push(uint8_t b);
  void update_irq();
  uint8_t iir() const;

  IrqSink* irq_;
  uint32_t line_;
  int out_fd_;

  // Registers (datasheet Table II).
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0;
  uint8_t dll_ = 0x0c, dlm_ = 0;  // 9600 baud at 1.8432 MHz until the driver sets it
  uint8_t lsr_extra_ = 0;         // overrun error (OE), cleared by reading LSR
  bool thre_pending_ = false;     // THRE interrupt condition (cleared by IIR read / THR write)
  bool irq_level_ = false;

  uint8_t rx_[kFifo] = {};
  size_t rx_head_ = 0, rx_count_ = 0;

  std::vector<uint8_t> out_;  // ring of kOutCap bytes
  size_t out_head_ = 0, out_len_ = 0;
  uint64_t tx_bytes_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace vmsup
