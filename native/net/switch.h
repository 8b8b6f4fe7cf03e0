// vmsup's own L2 learning switch (vmd's `switch` blocks), in the daemon
// process: frames between VMs on one switch go from one VM's worker thread to
// another's through lock-free SPSC rings, with no tap, no kernel bridge and
// no system call on the fast path.
//
// Every port has two rings: ingress (producer: the VM's thread, consumer: the
// switch) and egress (producer: the switch, consumer: the VM's thread). The
// switch forwards in rounds (forward()): ports are served round-robin, each
// at most kPortBudget frames per round, so a port that floods frames cannot
// starve another; what does not fit a full egress ring is dropped and counted.
// The switch learns source MACs (up to kMacTable entries, oldest evicted),
// floods unknown and broadcast/multicast destinations to every other port,
// and with `locked lladdr` (vmd's name) drops frames whose source MAC is not
// the port's own.
//
// Wake-ups: a port whose egress ring goes from empty to non-empty calls its
// `wake` callback (the VM's existing eventfd) only while that VM said it was
// sleeping, so a busy VM is not woken per frame and an idle one costs nothing.
// forward() must be called by one thread at a time (the switch's owner: the
// daemon's switch thread, or a test).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/spsc_ring.h"

namespace vmsup {

struct SwitchPortCounters {
  std::atomic<uint64_t> rx_frames{0};     // taken from the port (VM -> switch)
  std::atomic<uint64_t> tx_frames{0};     // delivered to the port (switch -> VM)
  std::atomic<uint64_t> rx_dropped{0};    // ingress ring full, or frame too big
  std::atomic<uint64_t> tx_dropped{0};    // egress ring full
  std::atomic<uint64_t> locked_dropped{0};  // source MAC not the port's (locked lladdr)
};

class SwitchPort {
 public:
  static constexpr size_t kRingSlots = 256;

  SwitchPort(unsigned id, const uint8_t mac[6], std::function<void()> wake);

  // --- the VM's thread ---
  // One frame from the VM into the switch; false (counted) when the ingress ring is full.
  bool send(const uint8_t* f, size_t len);
  // The next frame for the VM, or nullptr; then pop_received().
  const uint8_t* peek_received(size_t* len) { return egress_.front(len); }
  void pop_received() { egress_.pop(); }
  // Whether the VM is about to sleep (true) or running (false): only a
  // sleeping VM gets a wake-up when frames arrive.
  // After set_sleeping(true) the VM must look at its ring once more before it
  // sleeps (the fence pairs with the one in Switch::deliver).
  void set_sleeping(bool s) {
    sleeping_.store(s, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  unsigned id() const { return id_; }
  const uint8_t* mac() const { return mac_; }
  // The switch's uplink (a host tap): it carries many MACs, so `locked
  // lladdr` does not apply to it, and it is not counted as a VM port.
  bool uplink() const { return uplink_; }
  SwitchPortCounters& counters() { return c_; }

 private:
  friend class Switch;
  unsigned id_;
  uint8_t mac_[6];
  std::function<void()> wake_;
  std::atomic<bool> sleeping_{false};
  bool uplink_ = false;
  FrameRing ingress_{kRingSlots};
  FrameRing egress_{kRingSlots};
  SwitchPortCounters c_;
  std::function<void()> kick_;  // tells the switch's owner there is ingress work
};

// Sums over a switch's ports (frames in from VMs, out to VMs, drops).
struct SwitchTotals {
  uint64_t rx_frames = 0, tx_frames = 0, drops = 0, locked_drops = 0;
};

class Switch {
 public:
  // Frames one port may forward per round (fair scheduling).
  static constexpr unsigned kPortBudget = 32;
  static constexpr size_t kMacTable = 1024;

  explicit Switch(std::string name, bool locked_lladdr = false) : name_(std::move(name)), locked_(locked_lladdr) {}

  // Adds a port for a VM NIC with MAC `mac`; `wake` rings the VM's eventfd.
  // `kick` (optional) is called when a port's ingress ring becomes non-empty,
  // so the switch's owner can run forward(). Ports live until remove_port.
  // `uplink`: the port of the switch's host tap (see SwitchPort::uplink).
  std::shared_ptr<SwitchPort> add_port(const uint8_t mac[6], std::function<void()> wake,
                                       std::function<void()> kick = nullptr, bool uplink = false);
  void remove_port(unsigned id);

  // One forwarding round over every port; returns the frames forwarded.
  // Ports with work left make has_work() true.
  size_t forward();
  // Forwards until no port has work, if no other thread is forwarding now;
  // a thread that finds the switch busy leaves its frames to the one that is,
  // which looks again after letting go (so no frame is stranded). This is
  // what a port's sender calls: forwarding runs in the VMs' own threads.
  void kick();
  bool has_work() const;

  const std::string& name() const { return name_; }
  bool locked_lladdr() const { return locked_; }
  // VM ports (the uplink's is not counted).
  size_t ports() const;
  SwitchTotals totals() const;

 private:
  size_t forward_locked();
  void deliver(SwitchPort& to, const uint8_t* f, size_t len);
  int lookup(const uint8_t mac[6]) const;
  void learn(const uint8_t mac[6], unsigned port);

  std::string name_;
  bool locked_;
  std::mutex fwd_mu_;            // one forwarding thread at a time; also guards table_ and rr_
  mutable std::mutex ports_mu_;  // add/remove vs forward (not per frame: forward copies the list)
  std::vector<std::shared_ptr<SwitchPort>> ports_;
  unsigned next_id_ = 1;
  size_t rr_ = 0;  // round-robin start
  struct MacEntry {
    uint8_t mac[6];
    unsigned port;
    uint64_t stamp;
  };
  std::vector<MacEntry> table_;
  uint64_t clock_ = 0;
};

}  // namespace vmsup
