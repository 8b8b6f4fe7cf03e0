#include "devices/uart16550.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace vmsup {

namespace {
// Register offsets (PC16550D datasheet, Table II).
constexpr uint64_t kRbrThrDll = 0, kIerDlm = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5,
                   kMsr = 6, kScr = 7;
// IER bits.
constexpr uint8_t kIerRda = 0x01, kIerThre = 0x02, kIerRls = 0x04;
// IIR interrupt identification (datasheet Table IV).
constexpr uint8_t kIirNone = 0x01, kIirRls = 0x06, kIirRda = 0x04, kIirTimeout = 0x0c,
                  kIirThre = 0x02, kIirFifoOn = 0xc0;
// LSR bits.
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
// LCR / MCR / FCR bits.
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08,
                  kMcrLoop = 0x10;
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02;
}  // namespace

Uart16550::Uart16550(IrqSink* irq, uint32_t line, int out_fd)
    : irq_(irq), line_(line), out_fd_(out_fd), out_(kOutCap) {}

void Uart16550::reset() {
  ier_ = lcr_ = mcr_ = scr_ = fcr_ = 0;
  dll_ = 0x0c;
  dlm_ = 0;
  lsr_extra_ = 0;
  thre_pending_ = false;
  rx_head_ = rx_count_ = 0;
  update_irq();
}

void Uart16550::out_push(uint8_t b) {
  tx_bytes_++;
  if (out_len_ == kOutCap) {  // full: drop the oldest byte
    out_head_ = (out_head_ + 1) % kOutCap;
    out_len_--;
    dropped_++;
  }
  out_[(out_head_ + out_len_) % kOutCap] = b;
  out_len_++;
}

void Uart16550::drain(int timeout_ms) {
  if (out_fd_ < 0) {
    out_head_ = out_len_ = 0;
    return;
  }
  while (out_len_ > 0) {
    // poll() first so a blocking fd (a terminal, a pipe) never blocks us: after
    // POLLOUT, a write of at most PIPE_BUF bytes does not block (pipe(7)).
    struct pollfd p = {out_fd_, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) != 1 || !(p.revents & POLLOUT)) return;
    size_t chunk = out_len_;
    if (out_head_ + chunk > kOutCap) chunk = kOutCap - out_head_;
    if (chunk > PIPE_BUF) chunk = PIPE_BUF;
    ssize_t n = ::write(out_fd_, out_.data() + out_head_, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      // The reader is gone (EPIPE, EIO on a closed pty): discard, keep running.
      out_head_ = out_len_ = 0;
      return;
    }
    out_head_ = (out_head_ + static_cast<size_t>(n)) % kOutCap;
    out_len_ -= static_cast<size_t>(n);
  }
  out_head_ = 0;
}

std::vector<uint8_t> Uart16550::take_output() {
  std::vector<uint8_t> v;
  v.reserve(out_len_);
  for (size_t i = 0; i < out_len_; i++) v.push_back(out_[(out_head_ + i) % kOutCap]);
  out_head_ = out_len_ = 0;
  return v;
}

void Uart16550::push_rx(uint8_t b) {
  if (rx_count_ == kFifo) {
    lsr_extra_ |= kLsrOe;  // overrun: the new character is lost (datasheet, LSR bit 1)
  } else {
    rx_[(rx_head_ + rx_count_) % kFifo] = b;
    rx_count_++;
  }
  update_irq();
}

int Uart16550::pop_rx() {
  if (rx_count_ == 0) return -1;
  uint8_t b = rx_[rx_head_];
  rx_head_ = (rx_head_ + 1) % kFifo;
  rx_count_--;
  update_irq();
  return b;
}

bool Uart16550::poll_input(int fd) {
  if (fd < 0) return true;
  size_t space = rx_space();
  if (space == 0) return true;
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) != 1) return true;
  if (!(p.revents & (POLLIN | POLLHUP))) return !(p.revents & (POLLERR | POLLNVAL));
  uint8_t buf[kFifo];
  ssize_t n = ::read(fd, buf, space);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  for (ssize_t i = 0; i < n; i++) push_rx(buf[i]);
  return true;
}

uint8_t Uart16550::iir() const {
  uint8_t fifo = (fcr_ & kFcrEnable) ? kIirFifoOn : 0;
  // Priority order of datasheet Table IV: line status, received data, THRE, modem status.
  if ((ier_ & kIerRls) && (lsr_extra_ & kLsrOe)) return fifo | kIirRls;
  if ((ier_ & kIerRda) && rx_count_ > 0) {
    // Below the FIFO trigger level the 16550 reports a character timeout
    // instead of "data available"; either way the driver drains the FIFO.
    static const size_t kTrigger[4] = {1, 4, 8, 14};
    size_t trig = (fcr_ & kFcrEnable) ? kTrigger[fcr_ >> 6] : 1;
    return fifo | (rx_count_ >= trig ? kIirRda : kIirTimeout);
  }
  if ((ier_ & kIerThre) && thre_pending_) return fifo | kIirThre;
  return fifo | kIirNone;
}

void Uart16550::update_irq() {
  // OUT2 gates the interrupt line on PC-style boards; QEMU (and Linux's
  // 8250 driver on virt) do not rely on it, so neither do we.
  bool level = (iir() & kIirNone) == 0;
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) irq_->set_irq(line_, level);
  }
}

bool Uart16550::read(uint64_t off, unsigned size, uint64_t* val) {
  if (size != 1) {  // reg-io-width = 1; wider reads see the byte register only
    if (off & (size - 1)) return false;
  }
  uint8_t v = 0;
  switch (off) {
    case kRbrThrDll:
      if (lcr_ & kLcrDlab) {
        v = dll_;
      } else if (rx_count_ > 0) {
        v = rx_[rx_head_];
        rx_head_ = (rx_head_ + 1) % kFifo;
        rx_count_--;
      }
      break;
    case kIerDlm:
      v = (lcr_ & kLcrDlab) ? dlm_ : ier_;
      break;
    case kIirFcr:
      v = iir();
      // Reading IIR while it reports THRE clears that condition (datasheet Table IV).
      if ((v & 0x0f) == kIirThre) thre_pending_ = false;
      break;
    case kLcr: v = lcr_; break;
    case kMcr: v = mcr_; break;
    case kLsr:
      // The transmitter is always empty: bytes leave THR at once.
      v = kLsrThre | kLsrTemt | (rx_count_ ? kLsrDr : 0) | lsr_extra_;
      lsr_extra_ = 0;
      break;
    case kMsr:
      if (mcr_ & kMcrLoop) {
        // Loopback: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2 (datasheet, MCR bit 4).
        v = ((mcr_ & kMcrRts) ? 0x10 : 0) | ((mcr_ & kMcrDtr) ? 0x20 : 0) |
            ((mcr_ & kMcrOut1) ? 0x40 : 0) | ((mcr_ & kMcrOut2) ? 0x80 : 0);
      } else {
        v = 0xb0;  // DCD, DSR, CTS asserted: a connected terminal
      }
      break;
    case kScr: v = scr_; break;
    default: v = 0; break;
  }
  *val = v;
  update_irq();
  return true;
}

bool Uart16550::write(uint64_t off, unsigned size, uint64_t val) {
  if (size != 1 && (off & (size - 1))) return false;
  uint8_t v = static_cast<uint8_t>(val);
  switch (off) {
    case kRbrThrDll:
      if (lcr_ & kLcrDlab) {
        dll_ = v;
      } else {
        if (mcr_ & kMcrLoop) push_rx(v);  // loopback: THR feeds RBR, nothing leaves
        else out_push(v);
        // The byte left THR at once, so THR is empty again: the THRE interrupt
        // condition is re-armed (it was cleared by this write, then set).
        thre_pending_ = true;
      }
      break;
    case kIerDlm:
      if (lcr_ & kLcrDlab) {
        dlm_ = v;
      } else {
        uint8_t old = ier_;
        ier_ = v & 0x0f;
        // Enabling ETBEI while THR is empty raises THRE at once.
        if ((ier_ & kIerThre) && !(old & kIerThre)) thre_pending_ = true;
      }
      break;
    case kIirFcr:
      fcr_ = v & 0xc9;
      if (v & kFcrClearRx) rx_head_ = rx_count_ = 0;
      break;
    case kLcr: lcr_ = v; break;
    case kMcr: mcr_ = v & 0x1f; break;
    case kLsr: case kMsr: break;  // read-only (factory test registers)
    case kScr: scr_ = v; break;
    default: break;
  }
  update_irq();
  return true;
}

}  // namespace vmsup
