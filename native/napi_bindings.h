// Registration functions of the N-API surface, one per area. addon.cc calls them.
#pragma once

#include <napi.h>

namespace vmsup {

// Per-environment (per worker thread) state: the addon is context-aware and
// keeps no mutable globals (better-sqlite3's InitAll does the same).
struct AddonData {
  Napi::FunctionReference machine_ctor;
};

void InitMachineBinding(Napi::Env env, Napi::Object exports, AddonData* data);  // machine/machine_napi.cc
void InitHostBinding(Napi::Env env, Napi::Object exports, AddonData* data);     // host/host_napi.cc
void InitBlockBinding(Napi::Env env, Napi::Object exports, AddonData* data);    // block/block_napi.cc

// Throws a JS Error with a stable `code` property (ERR_VMSUP_...) and returns
// undefined; the caller returns that value straight away.
Napi::Value ThrowError(Napi::Env env, const char* code, const std::string& message);

}  // namespace vmsup
