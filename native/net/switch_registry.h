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

// The NIC backend of a port on switch `cfg.switch_name` (NicKind::kSwitch).
std::unique_ptr<NetBackend> make_switch_backend(const NicConfig& cfg, BoardHost& host, std::string* err);

}  // namespace vmsup
