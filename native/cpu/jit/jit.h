// The dynamic binary translator: RV64 basic blocks → x86-64 host code
// (README.md in this directory). Internal to native/cpu; the board selects it
// with Hart::set_jit().
#pragma once

#include <cstddef>
#include <cstdint>

namespace vmsup {

struct CpuImpl;
class Jit;

// Host bytes the code cache of one hart may use before it is flushed.
constexpr size_t kJitCacheBytes = 32u << 20;

// A translator for hart `c`, or nullptr when this host has none (not x86-64)
// or the code cache cannot be mapped.
Jit* jit_create(CpuImpl& c, size_t cache_bytes = kJitCacheBytes);
void jit_destroy(Jit* j);  // nullptr is fine
// Runs at most `budget` instructions from c.pc (Hart::run has done the
// once-per-slice work); returns the instructions retired.
uint64_t jit_run(Jit& j, uint64_t budget);
uint64_t jit_code_bytes(const Jit& j);
// Drops every translation (tests; the board never needs it).
void jit_flush(Jit& j);

}  // namespace vmsup
