// The ELF loader's riscv-arch-test signature symbols: begin_signature and
// end_signature are recorded as physical addresses through the segments, also
// when end_signature marks the byte just past the last segment.
#include <elf.h>

#include <cstring>
#include <string>
#include <vector>

#include "machine/elf.h"
#include "testing.h"

using namespace vmsup;

namespace {

struct Sym {
  const char* name;
  uint64_t value;
};

// One PT_LOAD segment of 0x100 bytes linked at `vaddr`, loaded at 0x80000000,
// and a symbol table holding `syms`.
std::vector<uint8_t> make_elf(uint64_t vaddr, const std::vector<Sym>& syms) {
  const uint64_t seg = 0x100;
  std::string strtab(1, '\0');
  std::vector<Elf64_Sym> symtab(1);  // index 0: the null symbol
  for (const auto& s : syms) {
    Elf64_Sym e{};
    e.st_name = static_cast<uint32_t>(strtab.size());
    e.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
    e.st_shndx = 1;
    e.st_value = s.value;
    strtab += s.name;
    strtab += '\0';
    symtab.push_back(e);
  }
  const uint64_t ph_off = sizeof(Elf64_Ehdr);
  const uint64_t seg_off = 0x100;
  const uint64_t sym_off = seg_off + seg;
  const uint64_t str_off = sym_off + symtab.size() * sizeof(Elf64_Sym);
  const uint64_t sh_off = (str_off + strtab.size() + 7) & ~7ULL;
  std::vector<uint8_t> f(sh_off + 3 * sizeof(Elf64_Shdr), 0);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_RISCV;
  eh.e_version = EV_CURRENT;
  eh.e_entry = vaddr;
  eh.e_phoff = ph_off;
  eh.e_shoff = sh_off;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 3;
  std::memcpy(f.data(), &eh, sizeof(eh));

  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = seg_off;
  ph.p_vaddr = vaddr;
  ph.p_paddr = GuestMemory::kBase;
  ph.p_filesz = ph.p_memsz = seg;
  std::memcpy(f.data() + ph_off, &ph, sizeof(ph));

  std::memcpy(f.data() + sym_off, symtab.data(), symtab.size() * sizeof(Elf64_Sym));
  std::memcpy(f.data() + str_off, strtab.data(), strtab.size());
  Elf64_Shdr sh[3] = {};
  sh[1].sh_type = SHT_SYMTAB;
  sh[1].sh_offset = sym_off;
  sh[1].sh_size = symtab.size() * sizeof(Elf64_Sym);
  sh[1].sh_link = 2;
  sh[1].sh_entsize = sizeof(Elf64_Sym);
  sh[2].sh_type = SHT_STRTAB;
  sh[2].sh_offset = str_off;
  sh[2].sh_size = strtab.size();
  std::memcpy(f.data() + sh_off, sh, sizeof(sh));
  return f;
}

bool load(const std::vector<uint8_t>& f, ElfImage* img, std::string* err) {
  GuestMemory mem;
  if (!mem.init(16 << 20, err)) return false;
  return load_elf(f, "t.elf", mem, img, err);
}

}  // namespace

TEST(signature_symbols_are_translated_to_physical) {
  // Linked at 0x10000000, loaded at RAM base; end_signature is one past the segment.
  auto f = make_elf(0x10000000, {{"begin_signature", 0x10000010}, {"end_signature", 0x10000100}});
  ElfImage img;
  std::string err;
  CHECK(load(f, &img, &err));
  CHECK(img.has_signature);
  CHECK_EQ(img.sig_begin, GuestMemory::kBase + 0x10);
  CHECK_EQ(img.sig_end, GuestMemory::kBase + 0x100);
}

TEST(signature_needs_both_symbols) {
  ElfImage img;
  std::string err;
  CHECK(load(make_elf(GuestMemory::kBase, {{"begin_signature", GuestMemory::kBase}}), &img, &err));
  CHECK(!img.has_signature);
  CHECK(load(make_elf(GuestMemory::kBase, {{"end_signature", GuestMemory::kBase}}), &img, &err));
  CHECK(!img.has_signature);
  // Names that only start like the real ones do not count.
  CHECK(load(make_elf(GuestMemory::kBase, {{"begin_signature_x", GuestMemory::kBase},
                                           {"end_signature", GuestMemory::kBase + 8}}),
             &img, &err));
  CHECK(!img.has_signature);
}

TEST(reversed_or_foreign_signature_symbols_are_recorded_not_refused) {
  // The loader keeps whatever the file says (a run without --signature must not
  // fail); Machine::signature() refuses such regions.
  ElfImage img;
  std::string err;
  CHECK(load(make_elf(GuestMemory::kBase, {{"begin_signature", GuestMemory::kBase + 0x20},
                                           {"end_signature", GuestMemory::kBase + 0x10}}),
             &img, &err));
  CHECK(img.has_signature);
  CHECK(img.sig_end < img.sig_begin);
  CHECK(load(make_elf(GuestMemory::kBase, {{"begin_signature", 0x1000}, {"end_signature", 0x1018}}), &img, &err));
  CHECK(img.has_signature);
  CHECK_EQ(img.sig_begin, 0x1000u);
  CHECK_EQ(img.sig_end, 0x1018u);
}

TEST_MAIN()
