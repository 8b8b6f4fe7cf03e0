// openVmFiles(request) -> Promise: the N-API face of host/vmfiles.cc (which
// says what is opened, as whom, and why on a thread of its own).
//
// Request: { uid, gid, groups: number[], switchCreds: boolean, allowDevices: boolean,
//            files: [{ path, what }],                       // kernel, initrd, bios: read-only
//            disks: [{ path, format: 'raw'|'qcow2'|'probe', readOnly, chain }] }
// Result:  { files: number[],                               // one fd per request file
//            disks: [{ format, signature, files: [{ path, fd, readOnly }] }] }
// The caller owns every descriptor. Failure rejects with an Error carrying a
// `code` (ERR_VMSUP_*); nothing then stays open.
#include <cmath>
#include <string>

#include "host/vmfiles.h"
#include "napi_bindings.h"

namespace vmsup {
namespace {

using host::OpenRequest;
using host::OpenResult;

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, OpenRequest rq)
      : Napi::AsyncWorker(env, "vmsup:openVmFiles"), rq_(std::move(rq)), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~OpenWorker() override { res_.close_all(); }  // only what was not handed to JS
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Runs on a libuv pool thread, which only waits: the opens happen on a
  // dedicated thread whose credentials are switched (host/vmfiles.cc).
  void Execute() override { host::open_vm_files(rq_, &res_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (!res_.ok) {
      Napi::Error e = Napi::Error::New(env, res_.message);
      e.Set("code", Napi::String::New(env, res_.code.empty() ? "ERR_VMSUP_OPEN" : res_.code));
      deferred_.Reject(e.Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    Napi::Array files = Napi::Array::New(env, res_.files.size());
    for (size_t i = 0; i < res_.files.size(); i++) files.Set(i, Napi::Number::New(env, res_.files[i]));
    out.Set("files", files);
    Napi::Array disks = Napi::Array::New(env, res_.disks.size());
    for (size_t i = 0; i < res_.disks.size(); i++) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("format", Napi::String::New(env, res_.disks[i].format));
      d.Set("signature", Napi::String::New(env, res_.disks[i].signature));
      Napi::Array fa = Napi::Array::New(env, res_.disks[i].files.size());
      for (size_t j = 0; j < res_.disks[i].files.size(); j++) {
        auto& f = res_.disks[i].files[j];
        Napi::Object fo = Napi::Object::New(env);
        fo.Set("path", Napi::String::New(env, f.path));
        fo.Set("fd", Napi::Number::New(env, f.fd));
        fo.Set("readOnly", Napi::Boolean::New(env, f.read_only));
        fa.Set(j, fo);
      }
      d.Set("files", fa);
      disks.Set(i, d);
    }
    out.Set("disks", disks);
    // JS owns every descriptor now.
    res_.files.clear();
    res_.disks.clear();
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  OpenRequest rq_;
  OpenResult res_;
  Napi::Promise::Deferred deferred_;
};

bool GetU32(Napi::Object o, const char* k, uint32_t* out) {
  Napi::Value v = o.Get(k);
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d > 0xfffffffe || d != std::floor(d)) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

bool GetStr(Napi::Object o, const char* k, std::string* out) {
  Napi::Value v = o.Get(k);
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return out->size() <= 4096 && out->find('\0') == std::string::npos;
}

Napi::Value OpenVmFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bad = [&](const char* what) { return ThrowError(env, "ERR_VMSUP_ARG", std::string("openVmFiles: ") + what); };
  if (info.Length() < 1 || !info[0].IsObject()) return bad("expects an object");
  Napi::Object o = info[0].As<Napi::Object>();
  OpenRequest rq;
  if (!GetU32(o, "uid", &rq.uid) || !GetU32(o, "gid", &rq.gid)) return bad("uid/gid out of range");
  rq.switch_creds = o.Get("switchCreds").ToBoolean().Value();
  rq.allow_devices = o.Get("allowDevices").ToBoolean().Value();
  Napi::Value gv = o.Get("groups");
  if (!gv.IsArray()) return bad("groups must be an array");
  Napi::Array ga = gv.As<Napi::Array>();
  if (ga.Length() > 1024) return bad("too many groups");
  for (uint32_t i = 0; i < ga.Length(); i++) {
    Napi::Value g = ga.Get(i);
    double d = g.IsNumber() ? g.As<Napi::Number>().DoubleValue() : -1;
    if (!std::isfinite(d) || d < 0 || d > 0xfffffffe || d != std::floor(d)) return bad("bad group id");
    rq.groups.push_back(static_cast<gid_t>(d));
  }
  Napi::Value fv = o.Get("files"), dv = o.Get("disks");
  if (!fv.IsArray() || !dv.IsArray()) return bad("files and disks must be arrays");
  Napi::Array fa = fv.As<Napi::Array>(), da = dv.As<Napi::Array>();
  if (fa.Length() > 8 || da.Length() > 64) return bad("too many files");
  for (uint32_t i = 0; i < fa.Length(); i++) {
    if (!fa.Get(i).IsObject()) return bad("each file must be an object");
    Napi::Object f = fa.Get(i).As<Napi::Object>();
    host::OpenFileReq r;
    if (!GetStr(f, "path", &r.path) || !GetStr(f, "what", &r.what)) return bad("a file needs path and what");
    rq.files.push_back(r);
  }
  for (uint32_t i = 0; i < da.Length(); i++) {
    if (!da.Get(i).IsObject()) return bad("each disk must be an object");
    Napi::Object d = da.Get(i).As<Napi::Object>();
    host::OpenDiskReq r;
    if (!GetStr(d, "path", &r.path) || !GetStr(d, "format", &r.format)) return bad("a disk needs path and format");
    if (r.format != "raw" && r.format != "qcow2" && r.format != "probe") return bad("bad disk format");
    r.read_only = d.Get("readOnly").ToBoolean().Value();
    r.chain = d.Get("chain").ToBoolean().Value();
    rq.disks.push_back(r);
  }
  auto* w = new OpenWorker(env, std::move(rq));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitVmFilesBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("openVmFiles", Napi::Function::New(env, OpenVmFiles, "openVmFiles"));
}

}  // namespace vmsup
