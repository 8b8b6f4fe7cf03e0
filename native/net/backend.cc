#include "net/backend.h"

#include "net/slirp_backend.h"
#include "net/switch_registry.h"

namespace vmsup {

std::unique_ptr<NetBackend> make_tap_backend(const NicConfig& cfg, BoardHost& host, std::string* err);

std::unique_ptr<NetBackend> make_net_backend(const NicConfig& cfg, BoardHost& host, std::string* err) {
  switch (cfg.kind) {
    case NicKind::kNat: return make_slirp_backend(cfg, host, err);
    case NicKind::kTap:
    case NicKind::kLocal: return make_tap_backend(cfg, host, err);
    case NicKind::kSwitch: return make_switch_backend(cfg, host, err);
  }
  *err = "unknown interface kind";
  return nullptr;
}

}  // namespace vmsup
