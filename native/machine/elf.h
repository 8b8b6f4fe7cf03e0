// The ELF64 RISC-V loader for bare-metal programs (System V gABI; RISC-V ELF
// psABI: e_machine = EM_RISCV 243). Every PT_LOAD segment is copied to its
// physical address (p_paddr) and must lie entirely inside guest RAM. Every
// offset and size in the file is bounds- and overflow-checked before use: the
// file is untrusted input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memory/guest_memory.h"

namespace vmsup {

struct ElfImage {
  uint64_t entry = 0;     // physical entry point
  uint64_t top = 0;       // end of the highest loaded segment (physical)
  uint64_t tohost = 0;    // physical address of the `tohost` symbol, 0 = none
  uint64_t fromhost = 0;  // physical address of the `fromhost` symbol, 0 = none
  // The riscv-arch-test signature region [sig_begin, sig_end): the physical
  // addresses of the symbols `begin_signature` and `end_signature`, present
  // only when the ELF has both. Not checked against RAM here (a program that
  // is not asked for its signature may carry any values); whoever dumps the
  // region checks it (Machine::signature).
  bool has_signature = false;
  uint64_t sig_begin = 0;
  uint64_t sig_end = 0;
};

// Files larger than this are refused (a bare-metal program, not a disk image).
constexpr uint64_t kMaxElfFile = 1ULL << 30;

// True when `data` starts with the ELF magic.
bool is_elf(const uint8_t* data, size_t len);

// Parses and loads an ELF held in `file` (its bytes). `name` is for messages.
// On failure returns false with *err set to one line.
bool load_elf(const std::vector<uint8_t>& file, const std::string& name, GuestMemory& mem, ElfImage* out,
              std::string* err);

// Reads a whole file (at most `cap` bytes). false with *err on failure.
// fd >= 0: read a duplicate of that descriptor instead of opening `path`.
bool read_file(const std::string& path, uint64_t cap, std::vector<uint8_t>* out, std::string* err,
               int fd = -1);

}  // namespace vmsup
