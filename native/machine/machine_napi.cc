// The Machine class as JS sees it (native/index.ts declares its shape):
//   new Machine(options)   builds the VM; throws an Error with code ERR_VMSUP_*
//   run(maxMillis)         runs a slice: { reason, exitCode?, message? }
//   ctrlAltDel()           the guest's graceful-shutdown request (the board's virtio keyboard)
//   consoleInput(bytes)    host keystrokes for the UART; returns how many were taken
//   stats()                { instret, residentBytes, jit, codeCacheBytes }
//   signature()            a Buffer copy of [begin_signature, end_signature) (riscv-arch-test)
//   close()                frees RAM and fds now
// Options are checked by the TypeScript wrapper; they are checked here again,
// since anything can call the addon.
#include <cmath>

#include "machine/machine.h"
#include "napi_bindings.h"

namespace vmsup {

namespace {

class MachineWrap : public Napi::ObjectWrap<MachineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Machine",
                       {InstanceMethod<&MachineWrap::Run>("run"),
                        InstanceMethod<&MachineWrap::CtrlAltDel>("ctrlAltDel"),
                        InstanceMethod<&MachineWrap::ConsoleInput>("consoleInput"),
                        InstanceMethod<&MachineWrap::Stats>("stats"),
                        InstanceMethod<&MachineWrap::Signature>("signature"),
                        InstanceMethod<&MachineWrap::Close>("close")});
  }

  explicit MachineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MachineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "Machine options must be an object");
      return;
    }
    MachineConfig cfg;
    if (!Parse(env, info[0].As<Napi::Object>(), &cfg)) return;
    MachineError err;
    machine_ = Machine::create(cfg, &err);
    if (!machine_) ThrowError(env, err.code.c_str(), err.message);
  }

 private:
  static bool GetString(Napi::Env env, Napi::Object o, const char* key, std::string* out) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return true;
    if (!v.IsString()) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", std::string("option ") + key + " must be a string");
      return false;
    }
    *out = v.As<Napi::String>().Utf8Value();
    return true;
  }

  static bool GetInt(Napi::Env env, Napi::Object o, const char* key, double lo, double hi, double* out) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return true;
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d != std::floor(d) || d < lo || d > hi) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", std::string("option ") + key + " is out of range");
      return false;
    }
    *out = d;
    return true;
  }

  static bool Parse(Napi::Env env, Napi::Object o, MachineConfig* cfg) {
    double mem = static_cast<double>(cfg->mem_size), cpus = cfg->cpus;
    Napi::Value mv = o.Get("memory");
    if (!mv.IsUndefined()) {
      double d = mv.IsNumber() ? mv.As<Napi::Number>().DoubleValue() : NAN;
      if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 9007199254740991.0) {
        ThrowError(env, "ERR_VMSUP_BAD_SIZE", "invalid memory size");
        return false;
      }
      mem = d;
    }
    if (!GetInt(env, o, "cpus", 1, Machine::kMaxCpus, &cpus)) return false;
    cfg->mem_size = static_cast<uint64_t>(mem);
    cfg->cpus = static_cast<unsigned>(cpus);
    if (!GetString(env, o, "kernel", &cfg->kernel) || !GetString(env, o, "initrd", &cfg->initrd) ||
        !GetString(env, o, "cmdline", &cfg->cmdline) || !GetString(env, o, "bios", &cfg->bios))
      return false;
    double fd = -1;
    if (!GetInt(env, o, "consoleIn", -1, 1 << 30, &fd)) return false;
    cfg->console_in_fd = static_cast<int>(fd);
    fd = -1;
    if (!GetInt(env, o, "consoleOut", -1, 1 << 30, &fd)) return false;
    cfg->console_out_fd = static_cast<int>(fd);
    fd = -1;
    if (!GetInt(env, o, "wakeFd", -1, 1 << 30, &fd)) return false;
    cfg->wake_fd = static_cast<int>(fd);
    Napi::Value dv = o.Get("disks");
    if (!dv.IsUndefined() && !dv.IsNull()) {
      if (!dv.IsArray()) {
        ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "option disks must be an array");
        return false;
      }
      Napi::Array arr = dv.As<Napi::Array>();
      if (arr.Length() > 64) {
        ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "too many disks");
        return false;
      }
      for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value e = arr.Get(i);
        if (!e.IsObject()) {
          ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "each disk must be an object");
          return false;
        }
        Napi::Object d = e.As<Napi::Object>();
        DiskConfig dc;
        std::string fmt = "raw";
        if (!GetString(env, d, "path", &dc.path) || !GetString(env, d, "format", &fmt)) return false;
        if (dc.path.empty()) {
          ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "a disk needs a path");
          return false;
        }
        if (fmt == "raw") dc.format = DiskFormat::Raw;
        else if (fmt == "qcow2") dc.format = DiskFormat::Qcow2;
        else {
          ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "unknown disk format: " + fmt);
          return false;
        }
        Napi::Value ro = d.Get("readOnly");
        dc.read_only = ro.IsBoolean() && ro.As<Napi::Boolean>().Value();
        cfg->disks.push_back(dc);
      }
    }
    Napi::Value jv = o.Get("jit");
    if (!jv.IsUndefined()) {
      if (!jv.IsBoolean()) {
        ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "option jit must be a boolean");
        return false;
      }
      cfg->jit = jv.As<Napi::Boolean>().Value() ? 1 : 0;
    }
    return true;
  }

  bool Alive(Napi::Env env) {
    if (machine_) return true;
    ThrowError(env, "ERR_VMSUP_CLOSED", "the machine is closed");
    return false;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    double ms = 50;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      ms = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
      if (!std::isfinite(ms) || ms < 0 || ms > 3600 * 1000) {
        return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "run(maxMillis): maxMillis out of range");
      }
    }
    RunResult r = machine_->run(static_cast<uint32_t>(ms));
    Napi::Object res = Napi::Object::New(env);
    const char* reason = "slice";
    switch (r) {
      case RunResult::kSlice: reason = "slice"; break;
      case RunResult::kPowerOff: reason = "poweroff"; break;
      case RunResult::kReset: reason = "reset"; break;
      case RunResult::kHtifPass: reason = "pass"; break;
      case RunResult::kHtifFail:
        reason = "fail";
        res.Set("exitCode", Napi::Number::New(env, static_cast<double>(machine_->exit_code())));
        break;
      case RunResult::kError:
        reason = "error";
        res.Set("message", Napi::String::New(env, machine_->error()));
        break;
    }
    res.Set("reason", Napi::String::New(env, reason));
    return res;
  }

  Napi::Value CtrlAltDel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    machine_->ctrl_alt_del();
    return env.Undefined();
  }

  Napi::Value ConsoleInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "consoleInput(bytes): bytes must be a Uint8Array");
    }
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    size_t n = machine_->console_input(a.Data(), a.ElementLength());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("instret", Napi::Number::New(env, static_cast<double>(machine_->instret())));
    o.Set("residentBytes", Napi::Number::New(env, static_cast<double>(machine_->resident_bytes())));
    o.Set("jit", Napi::Boolean::New(env, machine_->jit_enabled()));
    o.Set("codeCacheBytes", Napi::Number::New(env, static_cast<double>(machine_->code_cache_bytes())));
    return o;
  }

  Napi::Value Signature(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    std::vector<uint8_t> bytes;
    std::string err;
    if (!machine_->signature(&bytes, &err)) return ThrowError(env, "ERR_VMSUP_NO_SIGNATURE", err);
    if (bytes.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    machine_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Machine> machine_;
};

}  // namespace

void InitMachineBinding(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = MachineWrap::Define(env);
  data->machine_ctor = Napi::Persistent(ctor);
  exports.Set("Machine", ctor);
}

}  // namespace vmsup
