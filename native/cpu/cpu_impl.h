// The interpreter's internal state, shared by the files of native/cpu/ and by
// nothing else (the board sees only hart.h).
//
// Speed structure:
//  - a decoded-instruction cache indexed by pc, validated on every fetch by
//    comparing the raw instruction bits it was decoded from with the bits in
//    memory now, so guest stores over code and device DMA into code can never
//    run stale decodes (FENCE.I needs no work at all);
//  - a host-pointer TLB per access kind (read, write, fetch), tagged with the
//    virtual page and a "translation key" that folds in the effective privilege
//    and the SUM/MXR bits, so a privilege change needs no flush;
//  - a one-entry fetch page cache in front of the fetch TLB.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "cpu/fpu.h"
#include "cpu/hart.h"
#include "memory/guest_memory.h"

#if defined(__GNUC__)
#define VM_LIKELY(x) __builtin_expect(!!(x), 1)
#define VM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VM_LIKELY(x) (x)
#define VM_UNLIKELY(x) (x)
#endif

namespace vmsup {

// Exception causes (privileged spec §3.1.15, table 3.6).
enum Exc : uint32_t {
  kExcInsnMisaligned = 0,
  kExcInsnAccess = 1,
  kExcIllegal = 2,
  kExcBreakpoint = 3,
  kExcLoadMisaligned = 4,
  kExcLoadAccess = 5,
  kExcStoreMisaligned = 6,
  kExcStoreAccess = 7,
  kExcEcallU = 8,
  kExcEcallS = 9,
  kExcEcallM = 11,
  kExcInsnPage = 12,
  kExcLoadPage = 13,
  kExcStorePage = 15,
};

constexpr uint64_t kIrqFlag = 1ULL << 63;  // mcause/scause interrupt bit

// mstatus fields (privileged spec §3.1.6).
namespace ms {
constexpr uint64_t SIE = 1ULL << 1;
constexpr uint64_t MIE = 1ULL << 3;
constexpr uint64_t SPIE = 1ULL << 5;
constexpr uint64_t UBE = 1ULL << 6;
constexpr uint64_t MPIE = 1ULL << 7;
constexpr uint64_t SPP = 1ULL << 8;
constexpr uint64_t VS = 3ULL << 9;
constexpr uint64_t MPP = 3ULL << 11;
constexpr uint64_t FS = 3ULL << 13;
constexpr uint64_t XS = 3ULL << 15;
constexpr uint64_t MPRV = 1ULL << 17;
constexpr uint64_t SUM = 1ULL << 18;
constexpr uint64_t MXR = 1ULL << 19;
constexpr uint64_t TVM = 1ULL << 20;
constexpr uint64_t TW = 1ULL << 21;
constexpr uint64_t TSR = 1ULL << 22;
constexpr uint64_t UXL = 3ULL << 32;
constexpr uint64_t SXL = 3ULL << 34;
constexpr uint64_t SD = 1ULL << 63;
constexpr int kMppShift = 11;
constexpr int kFsShift = 13;
}  // namespace ms

// menvcfg.STCE (Sstc, bit 63).
constexpr uint64_t kMenvcfgSTCE = 1ULL << 63;

enum class Access : uint8_t { kRead = 0, kWrite = 1, kFetch = 2 };

// Decoded instruction operations. Compressed instructions decode straight to
// the operation of their 32-bit expansion, with len = 2.
enum Op : uint8_t {
  OP_ILLEGAL = 0,
  OP_LUI, OP_AUIPC, OP_JAL, OP_JALR,
  OP_BEQ, OP_BNE, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU,
  OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU,
  OP_SB, OP_SH, OP_SW, OP_SD,
  OP_ADDI, OP_SLTI, OP_SLTIU, OP_XORI, OP_ORI, OP_ANDI, OP_SLLI, OP_SRLI, OP_SRAI,
  OP_ADD, OP_SUB, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_SRA, OP_OR, OP_AND,
  OP_ADDIW, OP_SLLIW, OP_SRLIW, OP_SRAIW,
  OP_ADDW, OP_SUBW, OP_SLLW, OP_SRLW, OP_SRAW,
  OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU,
  OP_MULW, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW,
  OP_FENCE, OP_FENCE_I,
  OP_ECALL, OP_EBREAK, OP_MRET, OP_SRET, OP_WFI, OP_SFENCE_VMA,
  OP_CSRRW, OP_CSRRS, OP_CSRRC, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI,
  OP_LR_W, OP_SC_W, OP_LR_D, OP_SC_D,
  OP_AMO_W, OP_AMO_D,  // the AMO function is in imm (the funct5 field)
  OP_FLW, OP_FLD, OP_FSW, OP_FSD,
  OP_FP,  // OP-FP, FMADD, FMSUB, FNMSUB, FNMADD: handed to fp_execute()
  OP_COUNT
};

// 16 bytes. `raw` is the 32 bits at pc when the entry was decoded (for a
// compressed instruction that includes the next halfword); an entry is used
// only when the bits at pc still equal it.
struct DecodedInsn {
  uint32_t raw;
  uint8_t op;
  uint8_t rd;   // 32 (the sink register) when the instruction writes x0
  uint8_t rs1;
  uint8_t rs2;
  // (handler offset << 3) | length. The length (2 or 4) is set by
  // decode_insn; the interpreter adds the offset of its handler (hart.cc), so
  // one load gives both. Offset 0 is the illegal-instruction handler.
  uint32_t hl;
  int32_t imm;
  unsigned len() const { return hl & 7; }
};
static_assert(sizeof(DecodedInsn) == 16, "DecodedInsn must stay 16 bytes");

// Decodes `raw` (the low 16 bits when compressed) into *d. Unknown encodings
// decode to OP_ILLEGAL. Pure: the result depends on the bits only.
void decode_insn(uint32_t raw, DecodedInsn* d);

constexpr unsigned kTlbSize = 1024;
constexpr unsigned kDcacheSize = 16384;
constexpr uint64_t kTlbInvalid = ~0ULL;

// One TLB entry: host address = virtual address + addend, for the whole page.
struct TlbEntry {
  uint64_t tag;  // virtual page | translation key, or kTlbInvalid (mode 15: never a key)
  uintptr_t addend;
};

class Jit;  // cpu/jit/jit.h

struct CpuImpl {
  CpuImpl(uint32_t id, GuestMemory& m, CpuHost& h, Hart* s)
      : hartid(id), mem(m), host(h), self(s) {}

  // Hot state first.
  uint64_t x[33];  // x[32] is the sink for writes to x0
  uint64_t pc = 0;
  uint64_t mip = 0;  // effective mip (interrupt lines | software bits | timers)
  uint64_t mie = 0;
  uint64_t retired_total = 0;  // every instruction ever retired (Hart::instret())
  uint64_t minstret = 0, mcycle = 0;  // the CSRs (one cycle per instruction)
  // Translation keys (mmu.cc update_keys): bits 3:0 the mode, bits 11:4 the
  // TLB generation. Bumping the generation empties the TLB without touching it.
  uint64_t data_key = 0;   // translation key for loads/stores
  uint64_t fetch_key = 0;  // translation key for fetches
  uint64_t tlb_gen = 0;
  uint64_t fetch_tag = kTlbInvalid;  // one-entry fetch page cache: the page VA (update_keys empties it)
  uintptr_t fetch_addend = 0;
  uint8_t* ram = nullptr;
  uint64_t ram_base = GuestMemory::kBase;
  uint64_t ram_size = 0;
  Priv priv = kPrivM;
  HartState state = HartState::kStopped;
  std::atomic<bool> exit_req{false};

  Jit* jit = nullptr;  // the translator, when this hart runs with it (Hart::set_jit)

  // Exception raised by a memory helper (cause, tval).
  uint32_t exc_cause = 0;
  uint64_t exc_tval = 0;

  FpState fp{};

  // CSRs.
  uint64_t mstatus = 0;
  uint64_t misa = 0;
  uint64_t medeleg = 0, mideleg = 0;
  uint64_t mtvec = 0, mscratch = 0, mepc = 0, mcause = 0, mtval = 0;
  uint64_t mcounteren = 0, mcountinhibit = 0, menvcfg = 0;
  uint64_t stvec = 0, sscratch = 0, sepc = 0, scause = 0, stval = 0;
  uint64_t scounteren = 0, senvcfg = 0, satp = 0;
  uint64_t pmpaddr[16] = {};
  uint8_t pmpcfg[16] = {};
  bool pmp_active = false;  // some pmpcfg entry is not OFF

  // mip sources.
  uint64_t irq_lines = 0;  // set_irq(): MEIP, SEIP, MTIP, MSIP, STIP
  uint64_t mip_sw = 0;     // CSR-written SSIP, STIP, SEIP
  uint64_t stimecmp = ~0ULL;
  bool stimecmp_host = false;  // the board's SBI timer drives STIP from stimecmp
  bool stip_timer = false;     // stimecmp has been reached

  // LR/SC reservation (unprivileged spec §8.2).
  uint64_t resv_addr = 0;
  bool resv_valid = false;

  uint32_t hartid;
  GuestMemory& mem;
  CpuHost& host;
  Hart* self;

  TlbEntry tlb[3][kTlbSize];
  DecodedInsn dcache[kDcacheSize];
};

// --- mmu.cc ---
// Translates va for `acc` at the translation key's privilege; on success fills
// *pa. On failure sets c.exc_cause/exc_tval and returns false.
bool mmu_translate(CpuImpl& c, uint64_t va, Access acc, uint64_t* pa);
void tlb_flush(CpuImpl& c);
// Physical memory protection (privileged spec §3.7): may [pa, pa + len) be
// accessed for `acc` at privilege p?
bool pmp_allows(const CpuImpl& c, uint64_t pa, uint64_t len, Access acc, Priv p);
void pmp_changed(CpuImpl& c);  // after a pmpcfg/pmpaddr write
void update_keys(CpuImpl& c);  // after priv/mstatus/satp changes
// For the JIT (cpu/jit): walks va's page for `acc` and puts it in that TLB
// when it is RAM the TLB may hold (PMP-uniform; for stores not a code page).
// true = the TLB now maps va. No effect but those of a successful walk (A/D).
bool tlb_refill(CpuImpl& c, uint64_t va, Access acc, unsigned size);
// Slow paths of the memory helpers below (misaligned, MMIO, TLB miss).
bool load_slow(CpuImpl& c, uint64_t va, unsigned size, uint64_t* val);
bool store_slow(CpuImpl& c, uint64_t va, unsigned size, uint64_t val);
// Returns the instruction bits, or kFetchFault with the exception set.
constexpr uint64_t kFetchFault = 1ULL << 32;
uint64_t fetch_slow(CpuImpl& c);
// Host pointer for an aligned, naturally-sized atomic access (LR/SC/AMO), or
// nullptr with the exception set (misaligned → cause 6 or 4, not RAM → access fault).
uint8_t* amo_ptr(CpuImpl& c, uint64_t va, unsigned size, bool is_lr);

// --- hart.cc ---
// The interpreter: at most `budget` instructions from c.pc (Hart::run has done
// the once-per-slice work). Returns the instructions retired.
uint64_t interp_run(CpuImpl& c, uint64_t budget);

// --- csr.cc ---
void take_trap(CpuImpl& c, uint64_t cause, uint64_t tval);
bool take_pending_interrupt(CpuImpl& c);  // true when an interrupt trap was taken
// Executes a Zicsr instruction; false = illegal instruction.
bool exec_csr(CpuImpl& c, const DecodedInsn& d);
void do_mret(CpuImpl& c);
void do_sret(CpuImpl& c);
void recompute_mip(CpuImpl& c);
void set_priv(CpuImpl& c, Priv p);
void cpu_reset(CpuImpl& c, uint64_t pc, Priv p);
void poll_stimecmp(CpuImpl& c, uint64_t now);

// Adds n retired instructions to the counters, honouring mcountinhibit (§3.1.12).
inline void account(CpuImpl& c, uint64_t n) {
  c.retired_total += n;
  if (!(c.mcountinhibit & 4)) c.minstret += n;
  if (!(c.mcountinhibit & 1)) c.mcycle += n;
}

// The effective privilege of loads and stores (MPRV, privileged spec §3.1.6.3).
inline Priv data_priv(const CpuImpl& c) {
  if ((c.mstatus & ms::MPRV) && c.priv == kPrivM)
    return static_cast<Priv>((c.mstatus >> ms::kMppShift) & 3);
  return c.priv;
}

// Fast loads and stores through the TLB; misaligned or missing → slow path.
template <typename T>
inline bool mem_load(CpuImpl& c, uint64_t va, T* out) {
  const TlbEntry& e = c.tlb[0][(va >> 12) & (kTlbSize - 1)];
  if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | c.data_key) && (va & (sizeof(T) - 1)) == 0)) {
    std::memcpy(out, reinterpret_cast<void*>(va + e.addend), sizeof(T));
    return true;
  }
  uint64_t v;
  if (!load_slow(c, va, sizeof(T), &v)) return false;
  *out = static_cast<T>(v);
  return true;
}

template <typename T>
inline bool mem_store(CpuImpl& c, uint64_t va, T val) {
  const TlbEntry& e = c.tlb[1][(va >> 12) & (kTlbSize - 1)];
  if (VM_LIKELY(e.tag == ((va & ~0xfffULL) | c.data_key) && (va & (sizeof(T) - 1)) == 0)) {
    std::memcpy(reinterpret_cast<void*>(va + e.addend), &val, sizeof(T));
    return true;
  }
  return store_slow(c, va, sizeof(T), static_cast<uint64_t>(val));
}

// The AMO operations (unprivileged spec §8.4), by funct5: shared by the
// interpreter and the JIT's helpers (jit/jit_ext.cc).
inline uint64_t amo_apply(uint32_t f5, uint64_t old, uint64_t src, bool word) {
  if (word) {
    const int32_t a = static_cast<int32_t>(old), b = static_cast<int32_t>(src);
    const uint32_t ua = static_cast<uint32_t>(old), ub = static_cast<uint32_t>(src);
    switch (f5) {
      case 0x01: return ub;
      case 0x00: return ua + ub;
      case 0x04: return ua ^ ub;
      case 0x0c: return ua & ub;
      case 0x08: return ua | ub;
      case 0x10: return static_cast<uint32_t>(a < b ? a : b);
      case 0x14: return static_cast<uint32_t>(a > b ? a : b);
      case 0x18: return ua < ub ? ua : ub;
      case 0x1c: return ua > ub ? ua : ub;
    }
    return ua;
  }
  const int64_t a = static_cast<int64_t>(old), b = static_cast<int64_t>(src);
  switch (f5) {
    case 0x01: return src;
    case 0x00: return old + src;
    case 0x04: return old ^ src;
    case 0x0c: return old & src;
    case 0x08: return old | src;
    case 0x10: return static_cast<uint64_t>(a < b ? a : b);
    case 0x14: return static_cast<uint64_t>(a > b ? a : b);
    case 0x18: return old < src ? old : src;
    case 0x1c: return old > src ? old : src;
  }
  return old;
}

// Marks the FP state dirty (privileged spec §3.1.6.6).
inline void fs_dirty(CpuImpl& c) { c.mstatus |= ms::FS | ms::SD; }

}  // namespace vmsup
