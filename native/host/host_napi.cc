// Host helpers Node lacks (openpty, SO_PEERCRED, eventfd): registered here.
#include "napi_bindings.h"

namespace vmsup {

void InitHostBinding(Napi::Env env, Napi::Object exports, AddonData* data) {}

}  // namespace vmsup
