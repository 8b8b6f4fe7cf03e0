// The Machine class as JS sees it (native/index.ts declares its shape).
#include "napi_bindings.h"

namespace vmsup {

void InitMachineBinding(Napi::Env env, Napi::Object exports, AddonData* data) {}

}  // namespace vmsup
