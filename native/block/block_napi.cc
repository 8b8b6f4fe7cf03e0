// Disk-image functions for `vmsup create` and the tests: registered here.
//   createImage(path, format, size, {backing?, backingFormat?, clusterSize?})
//   convertImage(src, srcFormat, dst, dstFormat, dstSize, progress?(done, total))
//   imageInfo(path, format) -> {format, virtualSize, fileSize, ...}
//   new BlockImage(path, format, readOnly): read/write/flush/size/close, a
//     handle on the same backends virtio-blk uses (tests and benchmarks).
// Arguments are validated in TypeScript (native/index.ts callers); here they
// are re-checked only as far as memory safety needs.
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "block/backend.h"
#include "block/block_internal.h"
#include "napi_bindings.h"

namespace vmsup {
namespace {

bool parse_format(const Napi::Value& v, DiskFormat* f) {
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "raw") *f = DiskFormat::Raw;
  else if (s == "qcow2") *f = DiskFormat::Qcow2;
  else return false;
  return true;
}

bool to_u64(const Napi::Value& v, uint64_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

Napi::Value CreateImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DiskFormat fmt, bfmt = DiskFormat::Qcow2;
  uint64_t size;
  if (info.Length() < 3 || !info[0].IsString() || !parse_format(info[1], &fmt) || !to_u64(info[2], &size))
    return ThrowError(env, "ERR_VMSUP_ARG", "createImage(path, 'raw'|'qcow2', size, opts?)");
  std::string backing;
  uint64_t cluster = 0;
  if (info.Length() > 3 && info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    Napi::Value b = o.Get("backing");
    if (b.IsString()) backing = b.As<Napi::String>().Utf8Value();
    Napi::Value bf = o.Get("backingFormat");
    if (!bf.IsUndefined() && !parse_format(bf, &bfmt))
      return ThrowError(env, "ERR_VMSUP_ARG", "backingFormat must be 'raw' or 'qcow2'");
    Napi::Value cs = o.Get("clusterSize");
    if (!cs.IsUndefined() && (!to_u64(cs, &cluster) || cluster > (2u << 20)))
      return ThrowError(env, "ERR_VMSUP_ARG", "invalid clusterSize");
  }
  std::string err;
  if (!block::create_image(info[0].As<Napi::String>().Utf8Value(), fmt, size, backing, bfmt,
                           static_cast<uint32_t>(cluster), &err))
    return ThrowError(env, "ERR_VMSUP_CREATE", err);
  return env.Undefined();
}

struct ProgressCtx {
  Napi::Env env;
  Napi::Function fn;
};

void on_progress(void* p, uint64_t done, uint64_t total) {
  auto* c = static_cast<ProgressCtx*>(p);
  if (c->env.IsExceptionPending()) return;
  c->fn.Call({Napi::Number::New(c->env, static_cast<double>(done)),
              Napi::Number::New(c->env, static_cast<double>(total))});
}

Napi::Value ConvertImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DiskFormat sf, df;
  uint64_t size;
  if (info.Length() < 5 || !info[0].IsString() || !parse_format(info[1], &sf) || !info[2].IsString() ||
      !parse_format(info[3], &df) || !to_u64(info[4], &size))
    return ThrowError(env, "ERR_VMSUP_ARG", "convertImage(src, fmt, dst, fmt, size, progress?)");
  ProgressCtx ctx{env, Napi::Function()};
  bool have_cb = info.Length() > 5 && info[5].IsFunction();
  if (have_cb) ctx.fn = info[5].As<Napi::Function>();
  std::string err;
  bool ok = block::convert_image(info[0].As<Napi::String>().Utf8Value(), sf,
                                 info[2].As<Napi::String>().Utf8Value(), df, size,
                                 have_cb ? on_progress : nullptr, &ctx, &err);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!ok) return ThrowError(env, "ERR_VMSUP_CONVERT", err);
  return env.Undefined();
}

Napi::Value ImageInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DiskFormat fmt;
  if (info.Length() < 2 || !info[0].IsString() || !parse_format(info[1], &fmt))
    return ThrowError(env, "ERR_VMSUP_ARG", "imageInfo(path, 'raw'|'qcow2')");
  block::ImageInfo ii;
  std::string err;
  if (!block::image_info(info[0].As<Napi::String>().Utf8Value(), fmt, &ii, &err))
    return ThrowError(env, "ERR_VMSUP_IMAGE", err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("format", ii.format);
  o.Set("virtualSize", Napi::Number::New(env, static_cast<double>(ii.virtual_size)));
  o.Set("fileSize", Napi::Number::New(env, static_cast<double>(ii.file_size)));
  if (fmt == DiskFormat::Qcow2) {
    o.Set("version", ii.version);
    o.Set("clusterSize", ii.cluster_size);
    o.Set("refcountBits", ii.refcount_bits);
    if (!ii.backing_file.empty()) o.Set("backingFile", ii.backing_file);
    if (!ii.backing_format.empty()) o.Set("backingFormat", ii.backing_format);
  }
  return o;
}

// benchImage(path, format, write, bs, step, count) -> seconds: the benchmark's
// inner loop, native so that it measures the backend and not N-API calls. The
// access pattern is qemu-img bench's: offset advances by `step` modulo the
// disk size, one request at a time (queue depth 1). Used by bench/block only.
Napi::Value BenchImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DiskFormat fmt;
  uint64_t bs, step, count;
  if (info.Length() < 6 || !info[0].IsString() || !parse_format(info[1], &fmt) || !info[2].IsBoolean() ||
      !to_u64(info[3], &bs) || !to_u64(info[4], &step) || !to_u64(info[5], &count) || bs == 0 ||
      bs > (64u << 20))
    return ThrowError(env, "ERR_VMSUP_ARG", "benchImage(path, fmt, write, bs, step, count)");
  bool write = info[2].As<Napi::Boolean>().Value();
  std::string err;
  auto b = open_block_backend(info[0].As<Napi::String>().Utf8Value(), fmt, !write, &err);
  if (!b) return ThrowError(env, "ERR_VMSUP_DISK", err);
  uint64_t size = b->size();
  if (size < bs) return ThrowError(env, "ERR_VMSUP_ARG", "disk smaller than one request");
  // Page-aligned, like the guest RAM virtio-blk transfers from (and like
  // qemu-img bench's qemu_blockalign'd buffer).
  std::unique_ptr<uint8_t, void (*)(void*)> mem(static_cast<uint8_t*>(aligned_alloc(4096, (bs + 4095) & ~uint64_t(4095))), free);
  if (!mem) return ThrowError(env, "ERR_VMSUP_NOMEM", "out of memory");
  uint8_t* buf = mem.get();
  for (uint64_t i = 0; i < bs; i++) buf[i] = static_cast<uint8_t>(i * 131 + 7);
  uint64_t off = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (uint64_t i = 0; i < count; i++) {
    if (off + bs > size) off = 0;
    int r = write ? b->write(off, buf, bs) : b->read(off, buf, bs);
    if (r < 0) return ThrowError(env, "ERR_VMSUP_IO", std::string("bench I/O failed: ") + std::strerror(-r));
    off = (off + step) % size;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = double(t1.tv_sec - t0.tv_sec) + double(t1.tv_nsec - t0.tv_nsec) / 1e9;
  return Napi::Number::New(env, secs);
}

// A JS handle on an open backend.
class BlockImage : public Napi::ObjectWrap<BlockImage> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BlockImage",
                       {InstanceMethod("read", &BlockImage::Read), InstanceMethod("write", &BlockImage::Write),
                        InstanceMethod("flush", &BlockImage::Flush), InstanceMethod("size", &BlockImage::Size),
                        InstanceMethod("close", &BlockImage::Close)});
  }

  explicit BlockImage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BlockImage>(info) {
    Napi::Env env = info.Env();
    DiskFormat fmt;
    if (info.Length() < 2 || !info[0].IsString() || !parse_format(info[1], &fmt)) {
      ThrowError(env, "ERR_VMSUP_ARG", "new BlockImage(path, 'raw'|'qcow2', readOnly?)");
      return;
    }
    bool ro = info.Length() > 2 && info[2].ToBoolean().Value();
    std::string err;
    b_ = open_block_backend(info[0].As<Napi::String>().Utf8Value(), fmt, ro, &err);
    if (!b_) ThrowError(env, "ERR_VMSUP_DISK", err);
  }

 private:
  // Caps one request at 64 MiB (as vmd's vioblk does): a test or script cannot
  // make one call allocate an arbitrary buffer.
  static constexpr uint64_t kMaxRequest = 64ull << 20;

  bool ready(Napi::Env env) {
    if (!b_) {
      ThrowError(env, "ERR_VMSUP_CLOSED", "the image is closed");
      return false;
    }
    return true;
  }
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ready(env)) return env.Undefined();
    uint64_t off, len;
    if (info.Length() < 2 || !to_u64(info[0], &off) || !to_u64(info[1], &len) || len > kMaxRequest)
      return ThrowError(env, "ERR_VMSUP_ARG", "read(offset, length <= 64 MiB)");
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, len);
    int r = b_->read(off, buf.Data(), len);
    if (r < 0) return ThrowError(env, "ERR_VMSUP_IO", std::string("read failed: ") + std::strerror(-r));
    return buf;
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ready(env)) return env.Undefined();
    uint64_t off;
    if (info.Length() < 2 || !to_u64(info[0], &off) || !info[1].IsBuffer())
      return ThrowError(env, "ERR_VMSUP_ARG", "write(offset, buffer)");
    Napi::Buffer<uint8_t> buf = info[1].As<Napi::Buffer<uint8_t>>();
    int r = b_->write(off, buf.Data(), buf.Length());
    if (r < 0) return ThrowError(env, "ERR_VMSUP_IO", std::string("write failed: ") + std::strerror(-r));
    return env.Undefined();
  }
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ready(env)) return env.Undefined();
    int r = b_->flush();
    if (r < 0) return ThrowError(env, "ERR_VMSUP_IO", std::string("flush failed: ") + std::strerror(-r));
    return env.Undefined();
  }
  Napi::Value Size(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ready(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<double>(b_->size()));
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    b_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<BlockBackend> b_;
};

}  // namespace

void InitBlockBinding(Napi::Env env, Napi::Object exports, AddonData* data) {
  exports.Set("createImage", Napi::Function::New(env, CreateImage, "createImage"));
  exports.Set("convertImage", Napi::Function::New(env, ConvertImage, "convertImage"));
  exports.Set("imageInfo", Napi::Function::New(env, ImageInfoJs, "imageInfo"));
  exports.Set("BlockImage", BlockImage::Define(env));
  exports.Set("benchImage", Napi::Function::New(env, BenchImage, "benchImage"));
}

}  // namespace vmsup
