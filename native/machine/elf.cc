#include "machine/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace vmsup {

namespace {

// [off, off+len) inside a buffer of `size` bytes, overflow-safe.
inline bool in_file(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

bool read_file(const std::string& path, uint64_t cap, std::vector<uint8_t>* out, std::string* err,
               int given) {
  int fd = given >= 0 ? fcntl(given, F_DUPFD_CLOEXEC, 0) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = "cannot open " + path + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    *err = path + ": not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > cap) {
    close(fd);
    *err = path + ": file too large (" + std::to_string(st.st_size) + " bytes)";
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = ::pread(fd, out->data() + got, out->size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      *err = "cannot read " + path + (n < 0 ? std::string(": ") + strerror(errno) : ": unexpected end of file");
      return false;
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return true;
}

bool is_elf(const uint8_t* data, size_t len) { return len >= 4 && std::memcmp(data, ELFMAG, SELFMAG) == 0; }

bool load_elf(const std::vector<uint8_t>& file, const std::string& name, GuestMemory& mem, ElfImage* out,
              std::string* err) {
  const uint8_t* d = file.data();
  const uint64_t size = file.size();
  if (!is_elf(d, size)) {
    *err = name + ": not an ELF file";
    return false;
  }
  if (size < EI_NIDENT) {
    *err = name + ": truncated ELF file";
    return false;
  }
  if (d[EI_CLASS] != ELFCLASS64) {
    *err = name + ": not a 64-bit ELF file (RISC-V 64 needed)";
    return false;
  }
  if (d[EI_DATA] != ELFDATA2LSB) {
    *err = name + ": not a little-endian ELF file";
    return false;
  }
  if (size < sizeof(Elf64_Ehdr)) {
    *err = name + ": truncated ELF file";
    return false;
  }
  Elf64_Ehdr eh;
  std::memcpy(&eh, d, sizeof(eh));
  if (eh.e_machine != EM_RISCV) {
    *err = name + ": not a RISC-V ELF file (e_machine " + std::to_string(eh.e_machine) + ")";
    return false;
  }
  if (eh.e_type != ET_EXEC) {
    *err = name + ": not an executable ELF file";
    return false;
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      !in_file(eh.e_phoff, static_cast<uint64_t>(eh.e_phnum) * sizeof(Elf64_Phdr), size)) {
    *err = name + ": truncated or malformed ELF program headers";
    return false;
  }
  std::vector<Elf64_Phdr> loads;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    std::memcpy(&ph, d + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (!in_file(ph.p_offset, ph.p_filesz, size)) {
      *err = name + ": truncated ELF file (segment " + std::to_string(i) + " extends past the end)";
      return false;
    }
    if (ph.p_filesz > ph.p_memsz) {
      *err = name + ": malformed ELF segment " + std::to_string(i) + " (file size larger than memory size)";
      return false;
    }
    if (!mem.check_range(ph.p_paddr, ph.p_memsz)) {
      *err = name + ": segment " + std::to_string(i) + " at " + hex(ph.p_paddr) + " (" + hex(ph.p_memsz) +
             " bytes) lies outside RAM (" + hex(mem.base()) + ".." + hex(mem.end()) + ")";
      return false;
    }
    loads.push_back(ph);
  }
  if (loads.empty()) {
    *err = name + ": no loadable segments";
    return false;
  }
  for (const auto& ph : loads) {
    mem.write(ph.p_paddr, d + ph.p_offset, ph.p_filesz);
    mem.fill(ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    if (ph.p_paddr + ph.p_memsz > out->top) out->top = ph.p_paddr + ph.p_memsz;
  }
  // Virtual → physical through the segments (bare-metal ELFs usually have vaddr == paddr).
  auto to_phys = [&](uint64_t va, uint64_t* pa) {
    for (const auto& ph : loads) {
      if (va >= ph.p_vaddr && va - ph.p_vaddr < ph.p_memsz) {
        *pa = ph.p_paddr + (va - ph.p_vaddr);
        return true;
      }
    }
    return false;
  };
  uint64_t entry = eh.e_entry;
  if (!to_phys(eh.e_entry, &entry)) entry = eh.e_entry;
  out->entry = entry;
  out->tohost = out->fromhost = 0;
  out->has_signature = false;
  out->sig_begin = out->sig_end = 0;
  bool have_begin = false, have_end = false;
  uint64_t begin_va = 0, end_va = 0;

  // The symbol table, for tohost/fromhost. A malformed section table is an error;
  // a missing one just means no HTIF.
  if (eh.e_shoff != 0 && eh.e_shnum != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(eh.e_shoff, static_cast<uint64_t>(eh.e_shnum) * sizeof(Elf64_Shdr), size)) {
      *err = name + ": truncated or malformed ELF section headers";
      return false;
    }
    auto shdr = [&](unsigned i) {
      Elf64_Shdr sh;
      std::memcpy(&sh, d + eh.e_shoff + static_cast<uint64_t>(i) * sizeof(Elf64_Shdr), sizeof(sh));
      return sh;
    };
    for (unsigned i = 0; i < eh.e_shnum; i++) {
      Elf64_Shdr sh = shdr(i);
      if (sh.sh_type != SHT_SYMTAB) continue;
      if (sh.sh_link >= eh.e_shnum || !in_file(sh.sh_offset, sh.sh_size, size)) {
        *err = name + ": malformed ELF symbol table";
        return false;
      }
      Elf64_Shdr strs = shdr(sh.sh_link);
      if (!in_file(strs.sh_offset, strs.sh_size, size)) {
        *err = name + ": malformed ELF string table";
        return false;
      }
      const uint64_t nsym = sh.sh_size / sizeof(Elf64_Sym);
      for (uint64_t k = 0; k < nsym; k++) {
        Elf64_Sym sym;
        std::memcpy(&sym, d + sh.sh_offset + k * sizeof(Elf64_Sym), sizeof(sym));
        if (sym.st_name >= strs.sh_size) continue;
        const char* nm = reinterpret_cast<const char*>(d + strs.sh_offset + sym.st_name);
        const uint64_t maxlen = strs.sh_size - sym.st_name;
        uint64_t* slot = nullptr;
        if (maxlen >= 16 && std::memcmp(nm, "begin_signature", 16) == 0) {
          have_begin = true;
          begin_va = sym.st_value;
          continue;
        }
        if (maxlen >= 14 && std::memcmp(nm, "end_signature", 14) == 0) {
          have_end = true;
          end_va = sym.st_value;
          continue;
        }
        if (maxlen >= 7 && std::memcmp(nm, "tohost", 7) == 0) slot = &out->tohost;
        else if (maxlen >= 9 && std::memcmp(nm, "fromhost", 9) == 0) slot = &out->fromhost;
        if (!slot) continue;
        uint64_t pa;
        if (!to_phys(sym.st_value, &pa)) pa = sym.st_value;
        if (!mem.check_range(pa, 8)) {
          *err = name + ": symbol " + nm + " at " + hex(sym.st_value) + " lies outside RAM";
          return false;
        }
        *slot = pa;
      }
      break;
    }
  }
  if (have_begin && have_end) {
    // end_signature usually marks the byte after the region, which may be just
    // past the last segment: translate it as (end - 1) + 1 when it is not itself
    // inside one. A symbol outside every segment is taken as physical.
    uint64_t pa;
    out->sig_begin = to_phys(begin_va, &pa) ? pa : begin_va;
    if (to_phys(end_va, &pa)) out->sig_end = pa;
    else if (end_va > begin_va && to_phys(end_va - 1, &pa)) out->sig_end = pa + 1;
    else out->sig_end = end_va;
    out->has_signature = true;
  }
  return true;
}

}  // namespace vmsup
