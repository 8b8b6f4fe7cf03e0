// Flattened device tree (Devicetree Specification v0.4, chapter 5 "Flattened
// Devicetree (DTB) Format"): a small builder, and the board's tree generated
// from the memory-map table (memmap.h), laid out like QEMU virt's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vmsup {

class FdtBuilder {
 public:
  FdtBuilder();
  void begin_node(const std::string& name);
  void end_node();
  void prop_empty(const std::string& name);
  void prop_u32(const std::string& name, uint32_t v);
  void prop_u64(const std::string& name, uint64_t v);
  void prop_cells(const std::string& name, const std::vector<uint32_t>& cells);
  void prop_string(const std::string& name, const std::string& v);
  void prop_strings(const std::string& name, const std::vector<std::string>& v);
  // Header + memory reservation block + structure block + strings block.
  std::vector<uint8_t> finish(uint32_t boot_cpuid = 0);

 private:
  void prop_raw(const std::string& name, const void* data, size_t len);
  void token(uint32_t t);
  void pad();
  uint32_t string_offset(const std::string& name);
  std::vector<uint8_t> struct_;
  std::string strings_;
  std::map<std::string, uint32_t> string_offsets_;
  int depth_ = 0;
};

struct FdtConfig {
  unsigned harts = 1;
  uint64_t mem_size = 0;
  std::string bootargs;
  uint64_t initrd_start = 0, initrd_end = 0;  // both 0: no initrd
  // U-Boot's /config/bootcmd (read by its autoboot in place of the
  // environment's bootcmd); "" = none.
  std::string uboot_bootcmd;
  // Sstc: the kernel programs stimecmp itself instead of an SBI call per timer
  // (the firmware, or sbi_prepare_supervisor(), sets menvcfg.STCE).
  std::string isa = "rv64imafdc_zicsr_zifencei_sstc";
  std::string mmu = "riscv,sv48";
};

// The board's device tree blob.
std::vector<uint8_t> build_board_fdt(const FdtConfig& cfg);

}  // namespace vmsup
