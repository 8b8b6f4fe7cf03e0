// Disk-image functions for `vmsup create` and the tests: registered here.
#include "napi_bindings.h"

namespace vmsup {

void InitBlockBinding(Napi::Env env, Napi::Object exports, AddonData* data) {}

}  // namespace vmsup
