// The Machine class as JS sees it (native/index.ts declares its shape):
//   new Machine(options)   builds the VM; throws an Error with code ERR_VMSUP_*
//   run(maxMillis)         runs a slice: { reason, exitCode?, message? }
//   ctrlAltDel()           the guest's graceful-shutdown request (the board's virtio keyboard)
//   consoleInput(bytes)    host keystrokes for the UART; returns how many were taken
//   stats()                { instret, residentBytes, jit, codeCacheBytes, counters: { name: value }, nics: [{ mac, kind, rx/tx counters }] }
//   signature()            a Buffer copy of [begin_signature, end_signature) (riscv-arch-test)
//   close()                frees RAM and fds now
//   save(fileOrFd, meta?)  writes the machine's state (native/snapshot/snapshot.h) between slices
//   restore(fileOrFd, force?) loads a saved state into this new machine; returns the saved meta string
// readSnapshotMeta(file) (a module function) returns a snapshot's meta string only.
// Options are checked by the TypeScript wrapper; they are checked here again,
// since anything can call the addon.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "devices/virtio_net.h"
#include "host/netlink.h"
#include "host/tap.h"
#include "net/switch_registry.h"
#include "machine/board.h"
#include "machine/machine.h"
#include "napi_bindings.h"
#include "snapshot/snapshot.h"

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
                        InstanceMethod<&MachineWrap::Save>("save"),
                        InstanceMethod<&MachineWrap::Restore>("restore"),
                        InstanceMethod<&MachineWrap::LiveBegin>("liveBegin"),
                        InstanceMethod<&MachineWrap::LiveStep>("liveStep"),
                        InstanceMethod<&MachineWrap::LiveCollect>("liveCollect"),
                        InstanceMethod<&MachineWrap::LivePass>("livePass"),
                        InstanceMethod<&MachineWrap::LiveFinish>("liveFinish"),
                        InstanceMethod<&MachineWrap::LiveAbort>("liveAbort"),
                        InstanceMethod<&MachineWrap::Close>("close")});
  }

  explicit MachineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MachineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "Machine options must be an object");
      return;
    }
    MachineConfig cfg;
    if (!Parse(env, info[0].As<Napi::Object>(), &cfg, &owned_)) return;
    MachineError err;
    machine_ = Machine::create(cfg, &err);
    if (!machine_) {
      CloseOwned();
      ThrowError(env, err.code.c_str(), err.message);
    }
  }

  ~MachineWrap() override {
    machine_.reset();
    CloseOwned();
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

  // Takes a file descriptor option (kernelFd, a disk's files[].fd): the
  // machine works on its own duplicate, so the daemon may close its copy
  // whenever it likes and a reused fd number can never reach this VM.
  static bool GetFd(Napi::Env env, Napi::Object o, const char* key, int* out, std::vector<int>* owned) {
    double d = -1;
    if (!GetInt(env, o, key, -1, 1 << 30, &d)) return false;
    if (d < 0) return true;
    int fd = fcntl(static_cast<int>(d), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", std::string("option ") + key + " is not an open file descriptor");
      return false;
    }
    owned->push_back(fd);
    *out = fd;
    return true;
  }

  void CloseOwned() {
    for (int fd : owned_) ::close(fd);
    owned_.clear();
  }

  static bool Parse(Napi::Env env, Napi::Object o, MachineConfig* cfg, std::vector<int>* owned) {
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
    if (!GetInt(env, o, "cpus", 1, kDeviceLimits.cpus, &cpus)) return false;
    cfg->mem_size = static_cast<uint64_t>(mem);
    cfg->cpus = static_cast<unsigned>(cpus);
    if (!GetString(env, o, "kernel", &cfg->kernel) || !GetString(env, o, "initrd", &cfg->initrd) ||
        !GetString(env, o, "cmdline", &cfg->cmdline) || !GetString(env, o, "bios", &cfg->bios) ||
        !GetString(env, o, "bootDevice", &cfg->boot_device) ||
        !GetString(env, o, "defaultBios", &cfg->default_bios))
      return false;
    if (!GetFd(env, o, "kernelFd", &cfg->kernel_fd, owned) || !GetFd(env, o, "initrdFd", &cfg->initrd_fd, owned) ||
        !GetFd(env, o, "biosFd", &cfg->bios_fd, owned))
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
      if (arr.Length() > kDeviceLimits.disks) {
        ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "too many disks (at most " + std::to_string(kDeviceLimits.disks) + ")");
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
        // files: [{ path, fd, readOnly }], the image and its backing chain as
        // the daemon opened them (host/vmfiles.cc); the disk is built from these only.
        Napi::Value fv = d.Get("files");
        if (!fv.IsUndefined() && !fv.IsNull()) {
          if (!fv.IsArray() || fv.As<Napi::Array>().Length() == 0 || fv.As<Napi::Array>().Length() > 64) {
            ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "a disk's files must be a non-empty array");
            return false;
          }
          Napi::Array fa = fv.As<Napi::Array>();
          for (uint32_t j = 0; j < fa.Length(); j++) {
            if (!fa.Get(j).IsObject()) {
              ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "each disk file must be an object");
              return false;
            }
            Napi::Object fo = fa.Get(j).As<Napi::Object>();
            FdTableOpener::Entry en{"", -1, true};
            if (!GetString(env, fo, "path", &en.path) || !GetFd(env, fo, "fd", &en.fd, owned)) return false;
            Napi::Value fro = fo.Get("readOnly");
            en.read_only = !(fro.IsBoolean() && !fro.As<Napi::Boolean>().Value());
            if (en.fd < 0 || en.path.empty()) {
              ThrowError(env, "ERR_VMSUP_BAD_CONFIG", "each disk file needs a path and an fd");
              return false;
            }
            dc.files.push_back(en);
          }
        }
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
    return ParseNics(env, o, cfg);
  }

  static bool ParseMac(const std::string& s, uint8_t mac[6]) {
    unsigned v[6];
    char tail;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
      return false;
    for (int i = 0; i < 6; i++) mac[i] = static_cast<uint8_t>(v[i]);
    return s.size() == 17;
  }

  // nics: [{ kind: 'nat'|'tap'|'local', mac, forwards?: [{hostAddr, hostPort,
  // guestPort}], maxConnections?, tapFd?, localHostAddr? }]; addresses are
  // host-order integers (the TypeScript wrapper parses the dotted form).
  static bool ParseNics(Napi::Env env, Napi::Object o, MachineConfig* cfg) {
    Napi::Value nv = o.Get("nics");
    if (nv.IsUndefined() || nv.IsNull()) return true;
    auto bad = [&](const std::string& m) {
      ThrowError(env, "ERR_VMSUP_BAD_CONFIG", m);
      return false;
    };
    if (!nv.IsArray()) return bad("option nics must be an array");
    Napi::Array arr = nv.As<Napi::Array>();
    if (arr.Length() > kDeviceLimits.nics)
      return bad("too many network interfaces (at most " + std::to_string(kDeviceLimits.nics) + ")");
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsObject()) return bad("each nic must be an object");
      Napi::Object n = e.As<Napi::Object>();
      NicConfig nc;
      std::string kind = "nat", mac;
      if (!GetString(env, n, "kind", &kind) || !GetString(env, n, "mac", &mac) ||
          !GetString(env, n, "switch", &nc.switch_name))
        return false;
      if (kind == "nat") nc.kind = NicKind::kNat;
      else if (kind == "tap") nc.kind = NicKind::kTap;
      else if (kind == "local") nc.kind = NicKind::kLocal;
      else if (kind == "switch") nc.kind = NicKind::kSwitch;
      else return bad("unknown nic kind: " + kind);
      if (!mac.empty() && !ParseMac(mac, nc.mac)) return bad("invalid lladdr: " + mac);
      if (nc.mac[0] & 1) return bad("invalid lladdr: " + mac + " (a multicast address)");
      double d = nc.max_connections;
      if (!GetInt(env, n, "maxConnections", 1, 65536, &d)) return false;
      nc.max_connections = static_cast<unsigned>(d);
      d = -1;
      if (!GetInt(env, n, "tapFd", -1, 1 << 30, &d)) return false;
      nc.tap_fd = static_cast<int>(d);
      d = 0;
      if (!GetInt(env, n, "localHostAddr", 0, 4294967295.0, &d)) return false;
      nc.local_host_addr = static_cast<uint32_t>(d);
      Napi::Value fv = n.Get("forwards");
      if (!fv.IsUndefined() && !fv.IsNull()) {
        if (!fv.IsArray()) return bad("option forwards must be an array");
        Napi::Array fa = fv.As<Napi::Array>();
        if (fa.Length() > 64) return bad("too many forwarded ports (at most 64)");
        for (uint32_t k = 0; k < fa.Length(); k++) {
          Napi::Value x = fa.Get(k);
          if (!x.IsObject()) return bad("each forward must be an object");
          Napi::Object fo = x.As<Napi::Object>();
          double ha = 0x7f000001, hp = 0, gp = 0;
          if (!GetInt(env, fo, "hostAddr", 0, 4294967295.0, &ha) || !GetInt(env, fo, "hostPort", 1, 65535, &hp) ||
              !GetInt(env, fo, "guestPort", 1, 65535, &gp))
            return false;
          if (hp == 0 || gp == 0) return bad("a forward needs hostPort and guestPort");
          nc.forwards.push_back({static_cast<uint32_t>(ha), static_cast<uint16_t>(hp), static_cast<uint16_t>(gp)});
        }
      }
      cfg->nics.push_back(nc);
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
    // Device counters by name (Board::counters): console bytes, interrupts,
    // per-device virtio counters. Generic so that a new device adds its own.
    std::vector<std::pair<std::string, uint64_t>> cs;
    machine_->counters(&cs);
    Napi::Object c = Napi::Object::New(env);
    for (auto& p : cs) c.Set(p.first, Napi::Number::New(env, static_cast<double>(p.second)));
    o.Set("counters", c);
    Napi::Array nics = Napi::Array::New(env);
    if (Board* b = machine_->board()) {
      uint32_t i = 0;
      for (VirtioNet* n : b->nics()) {
        const NetCounters& c = n->counters();
        Napi::Object x = Napi::Object::New(env);
        auto num = [&](const char* k, uint64_t v) { x.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
        char mac[18];
        const uint8_t* m = n->mac();
        std::snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        x.Set("mac", Napi::String::New(env, mac));
        x.Set("kind", Napi::String::New(env, n->backend() ? n->backend()->kind() : "none"));
        num("rxFrames", c.rx_frames);
        num("rxBytes", c.rx_bytes);
        num("rxDropped", c.rx_dropped_no_buffer + c.rx_dropped_oversize + c.rx_dropped_too_small + c.rx_dropped_down);
        num("rxDroppedNoBuffer", c.rx_dropped_no_buffer);
        num("rxDroppedOversize", c.rx_dropped_oversize);
        num("txFrames", c.tx_frames);
        num("txBytes", c.tx_bytes);
        num("txDropped", c.tx_dropped_oversize + c.tx_dropped_runt + c.tx_dropped_bad_hdr + (n->backend() ? n->backend()->dropped() : 0));
        nics.Set(i++, x);
      }
    }
    o.Set("nics", nics);
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

  // A snapshot file argument: a path (opened here, not following a final
  // symlink) or a descriptor the caller owns. Returns the fd and whether we
  // opened it; -1 after throwing.
  static int SnapshotFd(Napi::Env env, Napi::Value v, bool for_write, bool* owned) {
    *owned = false;
    if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(d) || d < 0 || d > (1 << 30) || d != std::floor(d)) {
        ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "snapshot fd out of range");
        return -1;
      }
      return static_cast<int>(d);
    }
    if (!v.IsString()) {
      ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "a snapshot is a file path or a descriptor");
      return -1;
    }
    std::string path = v.As<Napi::String>().Utf8Value();
    int fd = for_write ? ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)
                       : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      ThrowError(env, "ERR_VMSUP_SNAPSHOT_IO", "cannot open " + path + ": " + std::strerror(errno));
      return -1;
    }
    *owned = true;
    return fd;
  }

  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    std::string meta;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      if (!info[1].IsString()) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "save(file, meta): meta must be a string");
      meta = info[1].As<Napi::String>().Utf8Value();
    }
    bool owned;
    int fd = SnapshotFd(env, info.Length() > 0 ? info[0] : env.Undefined(), true, &owned);
    if (fd < 0) return env.Undefined();
    MachineError err;
    bool ok = machine_->save(fd, meta, &err);
    if (owned && ::close(fd) != 0 && ok) {
      ok = false;
      err = {"ERR_VMSUP_SNAPSHOT_IO", std::string("cannot write the snapshot: ") + std::strerror(errno)};
    }
    if (!ok) return ThrowError(env, err.code.c_str(), err.message);
    return env.Undefined();
  }

  Napi::Value Restore(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    const bool force = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    bool owned;
    int fd = SnapshotFd(env, info.Length() > 0 ? info[0] : env.Undefined(), false, &owned);
    if (fd < 0) return env.Undefined();
    MachineError err;
    std::string meta;
    bool ok = machine_->restore(fd, force, &meta, &err);
    if (owned) ::close(fd);
    if (!ok) return ThrowError(env, err.code.c_str(), err.message);
    return Napi::String::New(env, meta);
  }

  // Live send (machine.h live_*): liveBegin(fd, meta), liveStep(budget) ->
  // {done, bytes, pass}, liveCollect() -> pages waiting, livePass(),
  // liveFinish(pausedMicros) -> bytes, liveAbort(). The fd stays the caller's.
  Napi::Value LiveBegin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString())
      return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "liveBegin(fd, meta)");
    bool owned;
    int fd = SnapshotFd(env, info[0], true, &owned);
    if (fd < 0) return env.Undefined();
    MachineError err;
    if (!machine_->live_begin(fd, info[1].As<Napi::String>().Utf8Value(), &err)) {
      machine_->live_abort();
      return ThrowError(env, err.code.c_str(), err.message);
    }
    return env.Undefined();
  }
  Napi::Value LiveStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    double budget = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    if (!std::isfinite(budget) || budget < 1 || budget > (1ULL << 40)) budget = 1 << 20;
    bool done = false;
    MachineError err;
    if (!machine_->live_step(static_cast<uint64_t>(budget), &done, &err)) return ThrowError(env, err.code.c_str(), err.message);
    Napi::Object o = Napi::Object::New(env);
    o.Set("done", Napi::Boolean::New(env, done));
    o.Set("bytes", Napi::Number::New(env, static_cast<double>(machine_->live_bytes())));
    o.Set("pass", Napi::Number::New(env, machine_->live_pass_number()));
    return o;
  }
  Napi::Value LiveCollect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<double>(machine_->live_collect()));
  }
  Napi::Value LivePass(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    MachineError err;
    if (!machine_->live_pass(&err)) return ThrowError(env, err.code.c_str(), err.message);
    return env.Undefined();
  }
  Napi::Value LiveFinish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    double us = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    if (!std::isfinite(us) || us < 0 || us > 1e15) us = 0;
    uint64_t bytes = 0;
    MachineError err;
    if (!machine_->live_finish(static_cast<uint64_t>(us), &bytes, &err)) return ThrowError(env, err.code.c_str(), err.message);
    return Napi::Number::New(env, static_cast<double>(bytes));
  }
  Napi::Value LiveAbort(const Napi::CallbackInfo& info) {
    if (machine_) machine_->live_abort();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    machine_.reset();
    CloseOwned();
    return info.Env().Undefined();
  }

  std::unique_ptr<Machine> machine_;
  std::vector<int> owned_;  // duplicates of the fds given in the options
};

// openTap(name?) -> { fd, name }: a tap for -i / -L (host/tap.h).
Napi::Value OpenTap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (info.Length() > 0 && info[0].IsString()) name = info[0].As<Napi::String>().Utf8Value();
  std::string out, err;
  int fd = open_tap(name, &out, &err);
  if (fd < 0) return ThrowError(env, "ERR_VMSUP_TAP", err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", Napi::Number::New(env, fd));
  o.Set("name", Napi::String::New(env, out));
  return o;
}

// setInterfaceAddr(name, addr, prefix): IPv4 address (host-order integer) and up.
Napi::Value SetInterfaceAddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "setInterfaceAddr(name, addr, prefix)");
  const double a = info[1].As<Napi::Number>().DoubleValue(), p = info[2].As<Napi::Number>().DoubleValue();
  if (!(a >= 0 && a <= 4294967295.0) || !(p >= 0 && p <= 32))
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "setInterfaceAddr: address or prefix out of range");
  std::string err;
  if (!set_interface_addr(info[0].As<Napi::String>().Utf8Value(), static_cast<uint32_t>(a), static_cast<unsigned>(p), &err))
    return ThrowError(env, "ERR_VMSUP_TAP", err);
  return env.Undefined();
}

// switchCreate(name, lockedLladdr), switchDelete(name), switchList(): the
// process's vmsup switches (net/switch_registry.h).
Napi::Value SwitchCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "switchCreate(name, lockedLladdr)");
  const bool locked = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  std::string err;
  if (!switch_create(info[0].As<Napi::String>().Utf8Value(), locked, &err)) return ThrowError(env, "ERR_VMSUP_SWITCH", err);
  return env.Undefined();
}

Napi::Value SwitchDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "switchDelete(name)");
  std::string err;
  if (!switch_delete(info[0].As<Napi::String>().Utf8Value(), &err)) return ThrowError(env, "ERR_VMSUP_SWITCH", err);
  return env.Undefined();
}

Napi::Value SwitchList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& sw : switch_list()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, sw->name()));
    o.Set("lockedLladdr", Napi::Boolean::New(env, sw->locked_lladdr()));
    o.Set("ports", Napi::Number::New(env, static_cast<double>(sw->ports())));
    const SwitchTotals t = sw->totals();
    o.Set("rxFrames", Napi::Number::New(env, static_cast<double>(t.rx_frames)));
    o.Set("txFrames", Napi::Number::New(env, static_cast<double>(t.tx_frames)));
    o.Set("drops", Napi::Number::New(env, static_cast<double>(t.drops)));
    o.Set("lockedDrops", Napi::Number::New(env, static_cast<double>(t.locked_drops)));
    UplinkInfo u;
    if (switch_uplink_info(sw->name(), &u)) {
      Napi::Object uo = Napi::Object::New(env);
      uo.Set("tap", Napi::String::New(env, u.tap));
      uo.Set("rxFrames", Napi::Number::New(env, static_cast<double>(u.rx_frames)));
      uo.Set("txFrames", Napi::Number::New(env, static_cast<double>(u.tx_frames)));
      uo.Set("drops", Napi::Number::New(env, static_cast<double>(u.drops)));
      o.Set("uplink", uo);
    }
    out.Set(i++, o);
  }
  return out;
}

// switchAttachUplink(name, fd, tap): the tap descriptor becomes the switch's
// uplink port (net/switch_registry.h); the registry owns the fd from then on,
// also when this throws. switchDetachUplink(name) -> bool.
Napi::Value SwitchAttachUplink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsString())
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "switchAttachUplink(name, fd, tap)");
  const int fd = info[1].As<Napi::Number>().Int32Value();
  if (fd < 0) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "switchAttachUplink: bad fd");
  std::string err;
  if (!switch_attach_uplink(info[0].As<Napi::String>().Utf8Value(), fd, info[2].As<Napi::String>().Utf8Value(), &err))
    return ThrowError(env, "ERR_VMSUP_SWITCH", err);
  return env.Undefined();
}

Napi::Value SwitchDetachUplink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "switchDetachUplink(name)");
  return Napi::Boolean::New(env, switch_detach_uplink(info[0].As<Napi::String>().Utf8Value()));
}

// linkInfo(name) -> {exists, kind, alias}; linkSetAlias(name, alias);
// linkSetUp(name); bridgeAddIf(bridge, ifname) (host/netlink.h).
Napi::Value LinkInfoFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "linkInfo(name)");
  LinkInfo li;
  std::string err;
  if (!link_info(info[0].As<Napi::String>().Utf8Value(), &li, &err)) return ThrowError(env, "ERR_VMSUP_NET", err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("exists", Napi::Boolean::New(env, li.exists));
  o.Set("kind", Napi::String::New(env, li.kind));
  o.Set("alias", Napi::String::New(env, li.alias));
  return o;
}

Napi::Value LinkSetAlias(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "linkSetAlias(name, alias)");
  std::string err;
  if (!link_set_alias(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), &err))
    return ThrowError(env, "ERR_VMSUP_NET", err);
  return env.Undefined();
}

Napi::Value LinkSetUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "linkSetUp(name)");
  std::string err;
  if (!link_set_up(info[0].As<Napi::String>().Utf8Value(), &err)) return ThrowError(env, "ERR_VMSUP_NET", err);
  return env.Undefined();
}

Napi::Value BridgeAddIf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "bridgeAddIf(bridge, ifname)");
  std::string err;
  if (!bridge_add_if(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), &err))
    return ThrowError(env, "ERR_VMSUP_NET", err);
  return env.Undefined();
}

// readSnapshotMeta(path) -> string: the META section of a snapshot file.
Napi::Value ReadSnapshotMeta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !(info[0].IsString() || info[0].IsNumber()))
    return ThrowError(env, "ERR_VMSUP_BAD_ARGUMENT", "readSnapshotMeta(path | fd)");
  // A descriptor (the daemon's, opened with the client's credentials) is read
  // through a fresh open file description, so its own offset stays at 0.
  const bool by_fd = info[0].IsNumber();
  std::string path = by_fd ? "/proc/self/fd/" + std::to_string(info[0].As<Napi::Number>().Int32Value())
                           : info[0].As<Napi::String>().Utf8Value();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (by_fd ? 0 : O_NOFOLLOW));
  if (fd < 0) return ThrowError(env, "ERR_VMSUP_SNAPSHOT_IO", "cannot open " + path + ": " + std::strerror(errno));
  std::string meta;
  SnapshotError err;
  bool ok = snapshot_read_meta(fd, &meta, &err);
  ::close(fd);
  if (!ok) return ThrowError(env, err.code.c_str(), path + ": " + err.message);
  return Napi::String::New(env, meta);
}

}  // namespace

void InitMachineBinding(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = MachineWrap::Define(env);
  data->machine_ctor = Napi::Persistent(ctor);
  exports.Set("Machine", ctor);
  // The device limits, from the one place that enforces them (device_manager.h).
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("disks", Napi::Number::New(env, kDeviceLimits.disks));
  limits.Set("nics", Napi::Number::New(env, kDeviceLimits.nics));
  limits.Set("cpus", Napi::Number::New(env, kDeviceLimits.cpus));
  limits.Set("virtioSlots", Napi::Number::New(env, kDeviceLimits.virtio_slots));
  limits.Freeze();
  exports.Set("limits", limits);
  exports.Set("openTap", Napi::Function::New(env, OpenTap, "openTap"));
  exports.Set("switchCreate", Napi::Function::New(env, SwitchCreate, "switchCreate"));
  exports.Set("switchDelete", Napi::Function::New(env, SwitchDelete, "switchDelete"));
  exports.Set("switchList", Napi::Function::New(env, SwitchList, "switchList"));
  exports.Set("switchAttachUplink", Napi::Function::New(env, SwitchAttachUplink, "switchAttachUplink"));
  exports.Set("switchDetachUplink", Napi::Function::New(env, SwitchDetachUplink, "switchDetachUplink"));
  exports.Set("linkInfo", Napi::Function::New(env, LinkInfoFn, "linkInfo"));
  exports.Set("linkSetAlias", Napi::Function::New(env, LinkSetAlias, "linkSetAlias"));
  exports.Set("linkSetUp", Napi::Function::New(env, LinkSetUp, "linkSetUp"));
  exports.Set("bridgeAddIf", Napi::Function::New(env, BridgeAddIf, "bridgeAddIf"));
  exports.Set("readSnapshotMeta", Napi::Function::New(env, ReadSnapshotMeta, "readSnapshotMeta"));
  exports.Set("setInterfaceAddr", Napi::Function::New(env, SetInterfaceAddr, "setInterfaceAddr"));
}

}  // namespace vmsup
