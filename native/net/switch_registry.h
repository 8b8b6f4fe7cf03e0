// The process's vmsup switches, by name. A switch spans the worker threads of
// every VM on it, so unlike the rest of the addon's state it is process-wide
// (one mutex-protected table), created and deleted by the daemon's thread and
// attached to by name from each VM's Machine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/switch.h"

namespace vmsup {

class BoardHost;
class NetBackend;
struct NicConfig;

// false with *err when the name exists.
bool switch_create(const std::string& name, bool locked_lladdr, std::string* err);
// false with *err when missing or when ports are attached.
bool switch_delete(const std::string& name, std::string* err);
std::vector<std::shared_ptr<Switch>> switch_list();

// A switch's uplink: a host tap (plain, or enslaved to a Linux bridge by the
// daemon) that is one more port of the switch. A thread of its own polls the
// tap and the port's eventfd: frames the host sends are read (at most
// kFramesPerWake per wake-up) into the port's ingress ring, where the
// switch's per-port budget applies as to any VM, so a flooding host cannot
// starve the VMs (what does not fit is dropped and counted); frames for the
// host are written to the tap (a full tap queue drops, counted).
struct UplinkInfo {
  std::string tap;
  uint64_t rx_frames = 0;  // host -> switch
  uint64_t tx_frames = 0;  // switch -> host
  uint64_t drops = 0;
};
// Takes ownership of `fd` (closed on failure too). false with *err when the
// switch is missing or already has an uplink.
bool switch_attach_uplink(const std::string& name, int fd, const std::string& tap, std::string* err);
// Stops the uplink's thread and closes its tap (a non-persistent tap then
// goes away); false when there is none.
bool switch_detach_uplink(const std::string& name);
bool switch_uplink_info(const std::string& name, UplinkInfo* out);

// The NIC backend of a port on switch `cfg.switch_name` (NicKind::kSwitch).
std::unique_ptr<NetBackend> make_switch_backend(const NicConfig& cfg, BoardHost& host, std::string* err);

}  // namespace vmsup
