#include "net/switch.h"

#include <algorithm>
#include <cstring>

namespace vmsup {

SwitchPort::SwitchPort(unsigned id, const uint8_t mac[6], std::function<void()> wake)
    : id_(id), wake_(std::move(wake)) {
  std::memcpy(mac_, mac, 6);
}

bool SwitchPort::send(const uint8_t* f, size_t len) {
  if (!ingress_.push(f, len)) {
    c_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (kick_) kick_();  // a try-lock, no system call
  return true;
}

std::shared_ptr<SwitchPort> Switch::add_port(const uint8_t mac[6], std::function<void()> wake,
                                             std::function<void()> kick, bool uplink) {
  std::lock_guard<std::mutex> g(ports_mu_);
  auto p = std::make_shared<SwitchPort>(next_id_++, mac, std::move(wake));
  p->kick_ = std::move(kick);
  p->uplink_ = uplink;
  ports_.push_back(p);
  return p;
}

void Switch::remove_port(unsigned id) {
  std::lock_guard<std::mutex> f(fwd_mu_);
  std::lock_guard<std::mutex> g(ports_mu_);
  ports_.erase(std::remove_if(ports_.begin(), ports_.end(), [id](const auto& p) { return p->id() == id; }),
               ports_.end());
  table_.erase(std::remove_if(table_.begin(), table_.end(), [id](const MacEntry& e) { return e.port == id; }),
               table_.end());
}

size_t Switch::ports() const {
  std::lock_guard<std::mutex> g(ports_mu_);
  return static_cast<size_t>(std::count_if(ports_.begin(), ports_.end(), [](const auto& p) { return !p->uplink(); }));
}

SwitchTotals Switch::totals() const {
  std::lock_guard<std::mutex> g(ports_mu_);
  SwitchTotals t;
  for (const auto& p : ports_) {
    t.rx_frames += p->c_.rx_frames.load(std::memory_order_relaxed);
    t.tx_frames += p->c_.tx_frames.load(std::memory_order_relaxed);
    t.drops += p->c_.rx_dropped.load(std::memory_order_relaxed) + p->c_.tx_dropped.load(std::memory_order_relaxed);
    t.locked_drops += p->c_.locked_dropped.load(std::memory_order_relaxed);
  }
  return t;
}

int Switch::lookup(const uint8_t mac[6]) const {
  for (const auto& e : table_)
    if (std::memcmp(e.mac, mac, 6) == 0) return static_cast<int>(e.port);
  return -1;
}

void Switch::learn(const uint8_t mac[6], unsigned port) {
  if (mac[0] & 1) return;  // a multicast source is bogus: never learned
  clock_++;
  for (auto& e : table_)
    if (std::memcmp(e.mac, mac, 6) == 0) {
      e.port = port;
      e.stamp = clock_;
      return;
    }
  // The table is capped: a guest making up source MACs evicts its own oldest
  // entries rather than growing memory.
  if (table_.size() >= kMacTable) {
    auto oldest = std::min_element(table_.begin(), table_.end(),
                                   [](const MacEntry& a, const MacEntry& b) { return a.stamp < b.stamp; });
    table_.erase(oldest);
  }
  MacEntry e;
  std::memcpy(e.mac, mac, 6);
  e.port = port;
  e.stamp = clock_;
  table_.push_back(e);
}

void Switch::deliver(SwitchPort& to, const uint8_t* f, size_t len) {
  const bool was_empty = to.egress_.empty();
  if (!to.egress_.push(f, len)) {
    to.c_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  to.c_.tx_frames.fetch_add(1, std::memory_order_relaxed);
  // Pairs with the fence in SwitchPort::set_sleeping: either the VM sees this
  // frame when it looks after saying it sleeps, or we see that it sleeps.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (was_empty && to.sleeping_.load(std::memory_order_acquire) && to.wake_) to.wake_();
}

size_t Switch::forward() {
  std::lock_guard<std::mutex> f(fwd_mu_);
  return forward_locked();
}

void Switch::kick() {
  for (int guard = 0; guard < 1'000'000; guard++) {
    if (!fwd_mu_.try_lock()) return;
    while (has_work()) forward_locked();
    fwd_mu_.unlock();
    if (!has_work()) return;
  }
}

size_t Switch::forward_locked() {
  std::vector<std::shared_ptr<SwitchPort>> ports;
  {
    std::lock_guard<std::mutex> g(ports_mu_);
    ports = ports_;
  }
  if (ports.empty()) return 0;
  size_t moved = 0;
  const size_t n = ports.size();
  rr_ = rr_ % n;
  // One round: each port in turn, at most kPortBudget frames each.
  for (size_t k = 0; k < n; k++) {
    SwitchPort& src = *ports[(rr_ + k) % n];
    for (unsigned b = 0; b < kPortBudget; b++) {
      size_t len;
      const uint8_t* f = src.ingress_.front(&len);
      if (!f) break;
      src.c_.rx_frames.fetch_add(1, std::memory_order_relaxed);
      if (len < 14) {
        src.c_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
      } else if (locked_ && !src.uplink_ && std::memcmp(f + 6, src.mac_, 6) != 0) {
        src.c_.locked_dropped.fetch_add(1, std::memory_order_relaxed);
      } else {
        learn(f + 6, src.id());
        const int dst = (f[0] & 1) ? -1 : lookup(f);
        for (auto& p : ports) {
          if (p.get() == &src) continue;
          if (dst >= 0 && p->id() != static_cast<unsigned>(dst)) continue;
          deliver(*p, f, len);
        }
        moved++;
      }
      src.ingress_.pop();
    }
  }
  rr_ = (rr_ + 1) % n;  // the next round starts one port later
  return moved;
}

bool Switch::has_work() const {
  std::lock_guard<std::mutex> g(ports_mu_);
  for (const auto& p : ports_)
    if (!p->ingress_.empty()) return true;
  return false;
}

}  // namespace vmsup
