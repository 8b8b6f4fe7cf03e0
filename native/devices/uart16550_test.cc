// NS16550A: registers, DLAB, FIFO, loopback, LSR, interrupt identification.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "devices/uart16550.h"
#include "testing.h"

using namespace vmsup;

namespace {
struct Irq : IrqSink {
  bool level = false;
  void set_irq(uint32_t line, bool l) override { level = l; }
};
uint8_t rd(Uart16550& u, uint64_t off) {
  uint64_t v = 0;
  u.read(off, 1, &v);
  return static_cast<uint8_t>(v);
}
void wr(Uart16550& u, uint64_t off, uint8_t v) { u.write(off, 1, v); }
}  // namespace

TEST(thr_bytes_reach_the_output_buffer) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  for (char c : std::string("hello")) wr(u, 0, c);
  auto out = u.take_output();
  CHECK(std::string(out.begin(), out.end()) == "hello");
  CHECK_EQ(rd(u, 5) & 0x60, 0x60);  // THRE and TEMT
}

TEST(dlab_switches_to_the_divisor_latch) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 3, 0x80);
  wr(u, 0, 0x01);
  wr(u, 1, 0x02);
  CHECK_EQ(u.take_output().size(), 0u);
  CHECK_EQ(rd(u, 0), 1);
  CHECK_EQ(rd(u, 1), 2);
  wr(u, 3, 0x03);
  CHECK_EQ(rd(u, 1), 0);  // IER untouched
  CHECK_EQ(rd(u, 3), 3);
}

TEST(loopback_feeds_thr_into_rbr) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 4, 0x10 | 0x02);  // LOOP, RTS
  wr(u, 0, 'x');
  CHECK_EQ(u.take_output().size(), 0u);
  CHECK_EQ(rd(u, 5) & 1, 1);  // DR
  CHECK_EQ(rd(u, 0), 'x');
  CHECK_EQ(rd(u, 5) & 1, 0);
  CHECK_EQ(rd(u, 6) & 0x10, 0x10);  // CTS follows RTS
}

TEST(received_data_interrupts_until_drained) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 2, 0x01);  // FIFO on, trigger 1
  u.push_rx('a');
  CHECK(!irq.level);  // ERBFI off
  wr(u, 1, 0x01);
  CHECK(irq.level);
  CHECK_EQ(rd(u, 2) & 0x0f, 0x04);
  CHECK_EQ(rd(u, 2) & 0xc0, 0xc0);  // FIFOs enabled
  CHECK_EQ(rd(u, 0), 'a');
  CHECK(!irq.level);
  CHECK_EQ(rd(u, 2) & 0x0f, 0x01);
}

TEST(below_trigger_level_reports_character_timeout) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 2, 0xc1);  // trigger 14
  wr(u, 1, 0x01);
  u.push_rx('a');
  CHECK(irq.level);
  CHECK_EQ(rd(u, 2) & 0x0f, 0x0c);
}

TEST(fifo_overrun_sets_oe_and_keeps_sixteen_bytes) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  for (int i = 0; i < 20; i++) u.push_rx(static_cast<uint8_t>(i));
  CHECK_EQ(u.rx_space(), 0u);
  CHECK_EQ(rd(u, 5) & 0x02, 0x02);
  CHECK_EQ(rd(u, 5) & 0x02, 0);  // cleared by reading LSR
  for (int i = 0; i < 16; i++) CHECK_EQ(rd(u, 0), i);
}

TEST(thre_interrupt_on_enable_cleared_by_iir_read_rearmed_by_thr_write) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 1, 0x02);
  CHECK(irq.level);
  CHECK_EQ(rd(u, 2) & 0x0f, 0x02);
  CHECK(!irq.level);
  wr(u, 0, 'z');
  CHECK(irq.level);
  wr(u, 1, 0x00);
  CHECK(!irq.level);
}

TEST(pop_rx_takes_bytes_in_order_and_drops_the_interrupt) {
  Irq irq;
  Uart16550 u(&irq, 10, -1);
  wr(u, 1, 0x01);
  u.push_rx('a');
  u.push_rx('b');
  CHECK(irq.level);
  CHECK_EQ(u.pop_rx(), 'a');
  CHECK_EQ(u.pop_rx(), 'b');
  CHECK_EQ(u.pop_rx(), -1);
  CHECK(!irq.level);
}

TEST(scratch_register_holds_a_byte) {
  Uart16550 u(nullptr, 10, -1);
  wr(u, 7, 0xa5);
  CHECK_EQ(rd(u, 7), 0xa5);
}

TEST(output_ring_is_bounded_and_drops_the_oldest) {
  Uart16550 u(nullptr, 10, -1);
  for (size_t i = 0; i < Uart16550::kOutCap + 10; i++) wr(u, 0, static_cast<uint8_t>(i));
  CHECK_EQ(u.pending_output(), Uart16550::kOutCap);
  CHECK_EQ(u.dropped_bytes(), 10u);
  auto out = u.take_output();
  CHECK_EQ(out[0], 10);
}

TEST(flush_writes_in_batches_and_never_blocks_on_a_full_pipe) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  Uart16550 u(nullptr, 10, fds[1]);
  for (char c : std::string("batch")) wr(u, 0, c);
  u.flush();
  char buf[16] = {};
  CHECK_EQ(read(fds[0], buf, sizeof(buf)), 5);
  CHECK(std::string(buf) == "batch");
  // Nobody reads: fill far beyond the pipe's capacity; flush must return.
  for (int round = 0; round < 8; round++) {
    for (size_t i = 0; i < Uart16550::kOutCap; i++) wr(u, 0, 'x');
    u.flush();
  }
  CHECK(u.pending_output() > 0);
  CHECK(u.dropped_bytes() > 0);
  close(fds[0]);
  close(fds[1]);
}

TEST(poll_input_reads_only_what_the_fifo_takes) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  Uart16550 u(nullptr, 10, -1);
  std::string in(40, 'k');
  CHECK_EQ(write(fds[1], in.data(), in.size()), 40);
  CHECK(u.poll_input(fds[0]));
  CHECK_EQ(u.rx_space(), 0u);
  for (int i = 0; i < 16; i++) rd(u, 0);
  CHECK(u.poll_input(fds[0]));
  CHECK_EQ(u.rx_space(), 0u);
  CHECK_EQ(rd(u, 5) & 0x02, 0);  // nothing was lost
  close(fds[1]);
  for (int i = 0; i < 16; i++) rd(u, 0);
  CHECK(u.poll_input(fds[0]));   // the last 8 bytes
  for (int i = 0; i < 8; i++) rd(u, 0);
  CHECK(!u.poll_input(fds[0]));  // end of file
  close(fds[0]);
}

TEST_MAIN()
