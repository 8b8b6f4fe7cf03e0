// The N-API surface, nothing else: each area registers its own functions.
#include <napi.h>

#include "napi_bindings.h"

namespace vmsup {

Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // freed by N-API when this environment goes away
  InitMachineBinding(env, exports, data);
  InitHostBinding(env, exports, data);
  InitBlockBinding(env, exports, data);
  return exports;
}

}  // namespace vmsup

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return vmsup::Init(env, exports); }

NODE_API_MODULE(vmsup, InitAddon)
