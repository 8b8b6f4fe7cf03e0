// The dynamic binary translator (see README.md here): RV64 basic blocks to
// x86-64 code emitted with xbyak. The interpreter (hart.cc) stays the
// reference and executes everything the translator leaves out.
//
// A block is the straight-line code from one pc to the first branch/jump, the
// first instruction the translator does not handle, the end of its 4 KiB page
// or kMaxInsns instructions. Its code reads and writes the register file in
// CpuImpl (rbx holds &CpuImpl for the whole block), sets c.pc and returns the
// number of instructions it retired. A load or store whose page is not in the
// host-pointer TLB (or is misaligned, MMIO, a code page, a fault) leaves the
// block *before* that instruction, with c.pc at it: the interpreter then runs
// it, so every exception is raised by the same code as without the JIT, with
// the exact pc, instret and tval.
#include "cpu/jit/jit.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/cpu_impl.h"
#include "cpu/jit/jit_ext.h"

#include "cpu/jit/xbyak_inc.h"

namespace vmsup {

#if defined(__x86_64__)

namespace {

constexpr unsigned kMaxInsns = 64;
// Upper bound of the host code one block can need (the longest instruction
// sequence is a store: ~70 bytes, plus its out-of-line exit).
constexpr size_t kMaxBlockCode = kMaxInsns * 320 + 256;  // helper calls (jit_ext.cc) and host FP (fp_arith, ~310 bytes with its out-of-line parts) are longer
constexpr unsigned kTableBits = 16;

// M-extension division (unprivileged spec §7.2: no traps; x/0 and overflow
// have fixed results). Called from generated code.
uint64_t h_div(uint64_t a, uint64_t b) {
  const int64_t x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  if (y == 0) return ~0ULL;
  if (x == INT64_MIN && y == -1) return a;
  return static_cast<uint64_t>(x / y);
}
uint64_t h_divu(uint64_t a, uint64_t b) { return b == 0 ? ~0ULL : a / b; }
uint64_t h_rem(uint64_t a, uint64_t b) {
  const int64_t x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  if (y == 0) return a;
  if (x == INT64_MIN && y == -1) return 0;
  return static_cast<uint64_t>(x % y);
}
uint64_t h_remu(uint64_t a, uint64_t b) { return b == 0 ? a : a % b; }
uint64_t h_refill(CpuImpl* c, uint64_t va, uint64_t acc, uint64_t size) {
  return tlb_refill(*c, va, static_cast<Access>(acc), static_cast<unsigned>(size)) ? 1 : 0;
}
uint64_t sx32(uint32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))); }
uint64_t h_divw(uint64_t a, uint64_t b) {
  const int32_t x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
  if (y == 0) return ~0ULL;
  if (x == INT32_MIN && y == -1) return sx32(static_cast<uint32_t>(x));
  return sx32(static_cast<uint32_t>(x / y));
}
uint64_t h_divuw(uint64_t a, uint64_t b) {
  const uint32_t x = static_cast<uint32_t>(a), y = static_cast<uint32_t>(b);
  return sx32(y == 0 ? 0xffffffffu : x / y);
}
uint64_t h_remw(uint64_t a, uint64_t b) {
  const int32_t x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
  if (y == 0) return sx32(static_cast<uint32_t>(x));
  if (x == INT32_MIN && y == -1) return 0;
  return sx32(static_cast<uint32_t>(x % y));
}
uint64_t h_remuw(uint64_t a, uint64_t b) {
  const uint32_t x = static_cast<uint32_t>(a), y = static_cast<uint32_t>(b);
  return sx32(y == 0 ? x : x % y);
}

// Generated code runs inside one "session" entered through the trampoline:
// rbx = &CpuImpl, r12 = the session's budget, r13 = instructions it may still
// retire, r14 = the block table. A block starts by taking its length from r13
// (or returns to C++ with c.pc = its pc when the budget is short), runs, and
// jumps to the next block: directly when that block was already translated
// from the same page (a chain), else through the shared lookup (rax = pc:
// fetch TLB, then the table); a miss returns to C++ with c.pc set. c.pc is
// only written when leaving for C++. request_exit() is seen by the C++ loop
// between sessions (a session is bounded by the budget), as the interpreter
// sees it only between slow paths.
struct ExitInfo {
  uint64_t retired;
  uint64_t step;  // 1: stopped before an instruction the interpreter must run
};
using Trampoline = ExitInfo (*)(CpuImpl* c, const void* code, uint64_t budget);

struct Block {
  uint64_t vpc;
  uint64_t ppc;       // guest-physical address of the first instruction
  const uint8_t* fn;  // the code; nullptr: the first instruction is not translated
  uint32_t ninsn;     // 0: see fn
  bool valid;
  Block* next_same_vpc = nullptr;  // the chain of all_
};

// Debugging aid: VMSUP_JIT_OFF=<mask> leaves classes of instructions to the
// interpreter (1 loads, 2 stores, 4 branches, 8 jumps, 16 M extension);
// 0x200 turns loop mode off (to measure it).
unsigned off_mask() {
  static const unsigned m = [] {
    const char* v = std::getenv("VMSUP_JIT_OFF");
    return v ? static_cast<unsigned>(std::strtoul(v, nullptr, 0)) : 0u;
  }();
  return m;
}

bool translatable(uint8_t op) {
  const unsigned m = off_mask();
  if (m) {
    if ((m & 1) && op >= OP_LB && op <= OP_LWU) return false;
    if ((m & 2) && op >= OP_SB && op <= OP_SD) return false;
    if ((m & 4) && op >= OP_BEQ && op <= OP_BGEU) return false;
    if ((m & 8) && (op == OP_JAL || op == OP_JALR)) return false;
    if ((m & 16) && op >= OP_MUL && op <= OP_REMUW) return false;
    if ((m & 32) && op == OP_LD) return false;
    if ((m & 64) && (op == OP_LW || op == OP_LWU)) return false;
    if ((m & 128) && (op == OP_LB || op == OP_LBU || op == OP_LH || op == OP_LHU)) return false;
  }
  switch (op) {
    case OP_LUI: case OP_AUIPC: case OP_JAL: case OP_JALR:
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU: case OP_BGEU:
    case OP_LB: case OP_LH: case OP_LW: case OP_LD: case OP_LBU: case OP_LHU: case OP_LWU:
    case OP_SB: case OP_SH: case OP_SW: case OP_SD:
    case OP_ADDI: case OP_SLTI: case OP_SLTIU: case OP_XORI: case OP_ORI: case OP_ANDI:
    case OP_SLLI: case OP_SRLI: case OP_SRAI:
    case OP_ADD: case OP_SUB: case OP_SLL: case OP_SLT: case OP_SLTU: case OP_XOR:
    case OP_SRL: case OP_SRA: case OP_OR: case OP_AND:
    case OP_ADDIW: case OP_SLLIW: case OP_SRLIW: case OP_SRAIW:
    case OP_ADDW: case OP_SUBW: case OP_SLLW: case OP_SRLW: case OP_SRAW:
    case OP_MUL: case OP_MULH: case OP_MULHSU: case OP_MULHU:
    case OP_DIV: case OP_DIVU: case OP_REM: case OP_REMU:
    case OP_MULW: case OP_DIVW: case OP_DIVUW: case OP_REMW: case OP_REMUW:
    case OP_FENCE:
      return true;
  }
  return false;
}

bool ends_block(uint8_t op) {
  return op == OP_JAL || op == OP_JALR || (op >= OP_BEQ && op <= OP_BGEU);
}

}  // namespace

// Hidden like xbyak, which it holds (only jit.cc sees inside it).
class __attribute__((visibility("hidden"))) Jit final : public CodeWatcher {
 public:
  explicit Jit(CpuImpl& c) : c_(c), table_(1u << kTableBits, nullptr) {
    const char* base = reinterpret_cast<const char*>(&c);
    off_pc_ = static_cast<int>(reinterpret_cast<const char*>(&c.pc) - base);
    off_dkey_ = static_cast<int>(reinterpret_cast<const char*>(&c.data_key) - base);
    off_tlb_r_ = static_cast<int>(reinterpret_cast<const char*>(&c.tlb[0][0]) - base);
    off_tlb_w_ = static_cast<int>(reinterpret_cast<const char*>(&c.tlb[1][0]) - base);
    off_f_ = static_cast<int>(reinterpret_cast<const char*>(&c.fp.f[0]) - base);
    off_mstatus_ = static_cast<int>(reinterpret_cast<const char*>(&c.mstatus) - base);
  }
  ~Jit() override {
    if (std::getenv("VMSUP_JIT_STATS"))
      std::fprintf(stderr, "jit hart %u: %llu translations (%llu loops), %llu invalidated blocks, %llu page writes, %llu flushes, %zu KiB code\n",
                   c_.hartid, (unsigned long long)n_translated_, (unsigned long long)n_loops_, (unsigned long long)n_invalidated_,
                   (unsigned long long)n_page_writes_, (unsigned long long)flushes_, used_ >> 10);
    c_.mem.remove_code_watcher(this);
    if (perfmap_) std::fclose(perfmap_);
    if (buf_) munmap(buf_, cap_);
  }

  bool init(size_t cap) {
    void* p = mmap(nullptr, cap, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    buf_ = static_cast<uint8_t*>(p);
    cap_ = cap;
    if (!emit_runtime()) return false;
    gen_ = std::make_unique<Xbyak::CodeGenerator>(cap_, buf_);
    // VMSUP_JIT_PERFMAP=1: name every block for perf (perf's JIT map,
    // /tmp/perf-<pid>.map: "start size name" per line), for profiles of guest code.
    if (const char* v = std::getenv("VMSUP_JIT_PERFMAP"); v && std::strcmp(v, "1") == 0) {
      char path[64];
      std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
      perfmap_ = std::fopen(path, "a");
      if (perfmap_)
        std::fprintf(perfmap_, "%llx %zx vmsup-jit-runtime-hart%u\n", (unsigned long long)reinterpret_cast<uintptr_t>(buf_),
                     runtime_bytes_, c_.hartid);
    }
    c_.mem.add_code_watcher(this);
    return true;
  }

  uint64_t run(uint64_t budget);
  uint64_t code_bytes() const { return used_; }
  void flush() {
    std::fill(table_.begin(), table_.end(), nullptr);
    blocks_.clear();
    by_page_.clear();
    pending_.clear();
    all_.clear();
    used_ = runtime_bytes_;  // the trampoline and the lookup stay
    flushes_++;
  }

  // CodeWatcher.
  void code_page_added(uint64_t pfn) override {
    // Drop write-TLB entries that reach this page (translate_fill keeps it out
    // from now on), so stores to it take store_slow and invalidate.
    const uintptr_t lo = reinterpret_cast<uintptr_t>(c_.ram) + ((pfn << 12) - c_.ram_base);
    for (TlbEntry& e : c_.tlb[1]) {
      if (e.tag == kTlbInvalid) continue;
      const uintptr_t host = (e.tag & ~0xfffULL) + e.addend;
      if (host == lo) e.tag = kTlbInvalid;
    }
  }
  void code_page_written(uint64_t pfn) override {
    if (pfn == ~0ULL) {
      flush();
      return;
    }
    n_page_writes_++;
    auto it = by_page_.find(pfn);
    if (it == by_page_.end()) return;
    n_invalidated_ += it->second.size();
    for (Block* b : it->second) {
      b->valid = false;
      Block*& slot = table_[index(b->vpc)];
      if (slot == b) slot = nullptr;
      // Unlink it from all_ (a page written again and again must not grow the chains).
      auto a = all_.find(b->vpc);
      if (a != all_.end()) {
        Block** pp = &a->second;
        while (*pp && *pp != b) pp = &(*pp)->next_same_vpc;
        if (*pp) *pp = b->next_same_vpc;
        if (!a->second) all_.erase(a);
      }
    }
    by_page_.erase(it);
  }

 private:
  static unsigned index(uint64_t vpc) { return static_cast<unsigned>((vpc >> 1) ^ (vpc >> (kTableBits + 1))) & ((1u << kTableBits) - 1); }
  Block* translate(uint64_t vpc, uint64_t ppc, const uint8_t* host);
  bool emit(Xbyak::CodeGenerator& g, const DecodedInsn* d, const uint64_t* pcs, unsigned n, uint64_t end_pc,
            uint64_t vpc, uint64_t ppc, bool allow_loop);
  bool emit_runtime();
  void link_pending(const Block* b);
  // A block already translated at vpc on the same physical page, for a chain.
  const Block* chain_target(uint64_t from_vpc, uint64_t from_ppc, uint64_t vpc) const {
    if ((vpc ^ from_vpc) >> 12) return nullptr;
    const Block* b = table_[index(vpc)];
    const uint64_t ppc = (from_ppc & ~0xfffULL) | (vpc & 0xfff);
    if (!b || b->vpc != vpc || b->ppc != ppc || !b->fn) return nullptr;
    return b;
  }

  CpuImpl& c_;
  std::vector<Block*> table_;
  std::deque<Block> blocks_;
  // Every block by vpc: what the direct-mapped table_ lost to a collision is
  // found here rather than translated again.
  std::unordered_map<uint64_t, Block*> all_;
  Block* find(uint64_t vpc, uint64_t ppc) {
    auto it = all_.find(vpc);
    if (it == all_.end()) return nullptr;
    for (Block* b = it->second; b; b = b->next_same_vpc)
      if (b->valid && b->ppc == ppc) return b;
    return nullptr;
  }
  std::unordered_map<uint64_t, std::vector<Block*>> by_page_;
  uint8_t* buf_ = nullptr;
  size_t cap_ = 0, used_ = 0;
  uint64_t flushes_ = 0;
  uint64_t n_translated_ = 0, n_invalidated_ = 0, n_page_writes_ = 0, n_loops_ = 0;  // VMSUP_JIT_STATS
  int off_pc_ = 0, off_dkey_ = 0, off_tlb_r_ = 0, off_tlb_w_ = 0;
  int off_f_ = 0, off_mstatus_ = 0;  // c.fp.f[0], c.mstatus (inline F/D moves)
  FILE* perfmap_ = nullptr;  // VMSUP_JIT_PERFMAP
  std::unique_ptr<Xbyak::CodeGenerator> gen_;  // emits every block (translate())
  // Jumps to same-page successors that were not translated yet (see exit_to).
  // Sites in blocks that die with their page stay harmless: their code is
  // unreachable and not reused before flush(), which forgets them.
  struct Site {
    uint8_t* at;   // a jmp rel32 (0xe9) to the lookup
    uint64_t vpc;  // the successor
    uint64_t ppc;
  };
  std::vector<Site> sites_;  // of the block being emitted
  std::unordered_map<uint64_t, std::vector<Site>> pending_;  // by successor ppc
  Trampoline enter_ = nullptr;
  const uint8_t* lookup_ = nullptr;    // jump here with c.pc set: the next block or back to C++
  const uint8_t* exit_ = nullptr;      // back to C++ (edx = ExitInfo::step)
  const uint8_t* refill_ = nullptr;    // TLB refill for a load/store (see emit_runtime)
  size_t runtime_bytes_ = 0;
};

// The trampoline into generated code and the shared lookup (see ExitInfo).
bool Jit::emit_runtime() {
  using namespace Xbyak::util;
  Xbyak::CodeGenerator g(cap_, buf_);
  const char* base = reinterpret_cast<const char*>(&c_);
  const int off_fkey = static_cast<int>(reinterpret_cast<const char*>(&c_.fetch_key) - base);
  const int off_tlb_f = static_cast<int>(reinterpret_cast<const char*>(&c_.tlb[2][0]) - base);
  const int off_ram = static_cast<int>(reinterpret_cast<const char*>(&c_.ram) - base);
  const int off_ram_base = static_cast<int>(reinterpret_cast<const char*>(&c_.ram_base) - base);
  Xbyak::Label exit, miss;
  // enter(c, code, budget): callee-saved registers, then 16-byte stack alignment for helper calls.
  enter_ = reinterpret_cast<Trampoline>(const_cast<uint8_t*>(g.getCurr()));
  g.push(rbx);
  g.push(rbp);
  g.push(r12);
  g.push(r13);
  g.push(r14);
  g.push(r15);
  g.sub(rsp, 8);
  g.mov(rbx, rdi);
  g.mov(r12, rdx);
  g.mov(r13, rdx);
  g.mov(r14, reinterpret_cast<uint64_t>(table_.data()));
  g.jmp(rsi);

  g.align(16);
  lookup_ = g.getCurr();  // rax = the next pc
  g.mov(rcx, rax);
  g.shr(rcx, 12);
  g.and_(ecx, kTlbSize - 1);
  g.shl(ecx, 4);
  g.mov(rdx, rax);
  g.and_(rdx, -4096);
  g.or_(rdx, qword[rbx + off_fkey]);
  g.cmp(rdx, qword[rbx + rcx + off_tlb_f]);
  g.jne(miss, Xbyak::CodeGenerator::T_NEAR);
  g.mov(edx, eax);
  g.and_(edx, 0xfff);
  g.cmp(edx, 0xffc);
  g.ja(miss, Xbyak::CodeGenerator::T_NEAR);
  g.mov(rsi, qword[rbx + rcx + (off_tlb_f + 8)]);
  g.add(rsi, rax);
  g.sub(rsi, qword[rbx + off_ram]);
  g.add(rsi, qword[rbx + off_ram_base]);  // rsi = guest-physical pc
  // index(): ((vpc >> 1) ^ (vpc >> (kTableBits + 1))) & mask
  g.mov(rcx, rax);
  g.shr(rcx, 1);
  g.mov(rdx, rax);
  g.shr(rdx, kTableBits + 1);
  g.xor_(rcx, rdx);
  g.and_(ecx, (1u << kTableBits) - 1);
  g.mov(rdx, qword[r14 + rcx * 8]);
  g.test(rdx, rdx);
  g.jz(miss, Xbyak::CodeGenerator::T_NEAR);
  g.cmp(rax, qword[rdx + static_cast<int>(offsetof(Block, vpc))]);
  g.jne(miss, Xbyak::CodeGenerator::T_NEAR);
  g.cmp(rsi, qword[rdx + static_cast<int>(offsetof(Block, ppc))]);
  g.jne(miss, Xbyak::CodeGenerator::T_NEAR);
  g.mov(rdx, qword[rdx + static_cast<int>(offsetof(Block, fn))]);
  g.test(rdx, rdx);
  g.jz(miss, Xbyak::CodeGenerator::T_NEAR);
  g.jmp(rdx);
  // refill_: rax = va, edx = Access, ecx = size; returns ecx = h_refill(),
  // every other register as it was (the pool's caller-saved registers are
  // pushed: with the return address, 8 slots keep the stack aligned).
  g.align(16);
  refill_ = g.getCurr();
  {
    const Xbyak::Reg64 saved[7] = {rsi, rdi, r8, r9, r10, r11, rax};
    for (const Xbyak::Reg64& r : saved) g.push(r);
    g.mov(rdi, rbx);
    g.mov(rsi, rax);
    g.mov(rax, reinterpret_cast<uint64_t>(&h_refill));
    g.call(rax);
    g.mov(ecx, eax);
    for (int k = 6; k >= 0; k--) g.pop(saved[k]);
    g.ret();
  }
  g.L(miss);
  g.mov(qword[rbx + off_pc_], rax);
  g.xor_(edx, edx);
  g.align(16);
  exit_ = g.getCurr();
  g.L(exit);
  g.mov(rax, r12);
  g.sub(rax, r13);
  g.add(rsp, 8);
  g.pop(r15);
  g.pop(r14);
  g.pop(r13);
  g.pop(r12);
  g.pop(rbp);
  g.pop(rbx);
  g.ret();
  if (Xbyak::GetError() != 0) {
    Xbyak::ClearError();
    return false;
  }
  used_ = runtime_bytes_ = (g.getSize() + 15) & ~size_t{15};
  return true;
}

Block* Jit::translate(uint64_t vpc, uint64_t ppc, const uint8_t* host) {
  if (cap_ - used_ < kMaxBlockCode) flush();
  n_translated_++;
  DecodedInsn d[kMaxInsns];
  uint64_t pcs[kMaxInsns];
  unsigned n = 0;
  uint64_t pc = vpc;
  const uint8_t* h = host;
  while (n < kMaxInsns) {
    // The block stays inside the page of vpc (the next virtual page may map
    // anywhere), and an instruction at 0xffe may cross it: the interpreter.
    if (((pc ^ vpc) >> 12) != 0 || (pc & 0xfff) > 0xffc) break;
    uint32_t raw;
    std::memcpy(&raw, h, 4);
    decode_insn(raw, &d[n]);
    if (!translatable(d[n].op) && !jit_ext_handles(d[n])) break;  // jit_ext: the helper path
    pcs[n] = pc;
    const unsigned len = d[n].len();
    n++;
    pc += len;
    h += len;
    if (ends_block(d[n - 1].op)) break;
  }
  c_.mem.mark_code_page(ppc);
  blocks_.push_back(Block{vpc, ppc, nullptr, n, true});
  Block* b = &blocks_.back();
  if (n > 0) {
    // One generator over the whole cache, placed at used_ for each block.
    Xbyak::CodeGenerator& g = *gen_;
    g.reset();
    g.setSize(used_);
    bool ok = emit(g, d, pcs, n, pc, vpc, ppc, true) && Xbyak::GetError() == 0;
    if (!ok) {  // again without loop mode (a register the use masks missed)
      Xbyak::ClearError();
      g.reset();
      g.setSize(used_);
      sites_.clear();
      ok = emit(g, d, pcs, n, pc, vpc, ppc, false) && Xbyak::GetError() == 0;
    }
    const size_t size = g.getSize() - used_;
    if (!ok) {
      Xbyak::ClearError();
      b->ninsn = 0;  // leave it to the interpreter
    } else {
      b->fn = buf_ + used_;
      used_ += (size + 15) & ~size_t{15};
      if (perfmap_) {
        std::fprintf(perfmap_, "%llx %zx guest-%llx-hart%u-n%u\n", (unsigned long long)reinterpret_cast<uintptr_t>(b->fn),
                     size, (unsigned long long)vpc, c_.hartid, n);
        std::fflush(perfmap_);
      }
      // Debugging aid: VMSUP_JIT_DUMP=<vpc in hex> writes that block's host code to
      // /tmp/vmsup-jit-<vpc>.bin (objdump -D -b binary -mi386:x86-64 shows it).
      static const char* const dump = std::getenv("VMSUP_JIT_DUMP");
      if (dump && std::strtoull(dump, nullptr, 16) == vpc) {
        char path[64];
        std::snprintf(path, sizeof path, "/tmp/vmsup-jit-%llx.bin", (unsigned long long)vpc);
        if (FILE* f = std::fopen(path, "wb")) {
          std::fwrite(b->fn, 1, size, f);
          std::fclose(f);
        }
      }
    }
  }
  table_[index(vpc)] = b;
  by_page_[ppc >> 12].push_back(b);
  Block*& head = all_[vpc];
  b->next_same_vpc = head;
  head = b;
  if (b->fn) {
    for (const Site& site : sites_) pending_[site.ppc].push_back(site);
    link_pending(b);
  }
  sites_.clear();
  return b;
}

// Points the jumps that wait for block b (same page, same vpc) at its code.
void Jit::link_pending(const Block* b) {
  auto it = pending_.find(b->ppc);
  if (it == pending_.end()) return;
  for (const Site& site : it->second) {
    if (site.vpc != b->vpc || site.at[0] != 0xe9) continue;
    const int64_t rel = b->fn - (site.at + 5);
    const int32_t rel32 = static_cast<int32_t>(rel);
    std::memcpy(site.at + 1, &rel32, 4);
  }
  pending_.erase(it);
}

// Guest registers live in host registers for the length of a block: loaded
// on first use, written back (when changed) at every way out of the block —
// its end, an early exit (the stub stores what was dirty at that point) and
// before a helper call.
namespace {
class RegCache {
 public:
  static constexpr int kN = 8;
  RegCache(Xbyak::CodeGenerator& g) : g_(g) {
    using namespace Xbyak::util;
    const Xbyak::Reg64 pool[kN] = {rsi, rdi, r8, r9, r10, r11, rbp, r15};
    for (int i = 0; i < kN; i++) {
      pool_[i] = pool[i];
      guest_[i] = -1;
      dirty_[i] = false;
      last_[i] = 0;
    }
    for (int& h : host_) h = -1;
  }
  void begin_insn() { pinned_ = 0; }
  // Loop mode (see Jit::emit): the guest registers in `mask` (bit r) count as
  // changed at every way out, whatever this pass of the loop has written.
  void set_sticky(uint64_t mask) { sticky_ = mask; }
  // Host registers taken so far (a loop's body must take none after its head).
  unsigned allocs() const { return allocs_; }
  // The host register holding guest register r (loaded when needed).
  Xbyak::Reg64 read(unsigned r) {
    int h = host_[r];
    if (h < 0) {
      h = alloc();
      g_.mov(pool_[h], mem(r));
      map(r, h);
    }
    touch(h);
    return pool_[h];
  }
  // A host register for writing guest register r (its old value is not loaded).
  Xbyak::Reg64 write(unsigned r) {
    int h = host_[r];
    if (h < 0) {
      h = alloc();
      map(r, h);
    }
    dirty_[h] = true;
    touch(h);
    return pool_[h];
  }
  // Stores every changed register (the mappings stay).
  void flush() {
    for (int h = 0; h < kN; h++) {
      if (guest_[h] >= 0 && changed(h)) {
        g_.mov(mem(static_cast<unsigned>(guest_[h])), pool_[h]);
        dirty_[h] = false;
      }
    }
  }
  // flush(), then forget everything (before a call that clobbers registers).
  void drop() {
    flush();
    for (int h = 0; h < kN; h++) {
      if (guest_[h] >= 0) host_[guest_[h]] = -1;
      guest_[h] = -1;
    }
  }
  // The changed registers now, as (guest, host) pairs: what an early exit stores.
  struct Dirty {
    unsigned n = 0;
    uint8_t guest[kN];
    Xbyak::Reg64 host[kN];
  };
  Dirty dirty() const {
    Dirty v;
    for (int h = 0; h < kN; h++)
      if (guest_[h] >= 0 && changed(h)) {
        v.guest[v.n] = static_cast<uint8_t>(guest_[h]);
        v.host[v.n++] = pool_[h];
      }
    return v;
  }
  static Xbyak::Address mem(unsigned r) {
    using namespace Xbyak::util;
    return qword[rbx + static_cast<int>(r * 8)];
  }

 private:
  bool changed(int h) const { return dirty_[h] || ((sticky_ >> guest_[h]) & 1); }
  int alloc() {
    allocs_++;
    for (int h = 0; h < kN; h++)
      if (guest_[h] < 0) return h;
    int victim = -1;
    for (int h = 0; h < kN; h++) {
      if (pinned_ & (1u << h)) continue;
      if (victim < 0 || last_[h] < last_[victim]) victim = h;
    }
    // At most three registers are pinned per instruction, so a victim exists.
    if (dirty_[victim]) g_.mov(mem(static_cast<unsigned>(guest_[victim])), pool_[victim]);
    host_[guest_[victim]] = -1;
    guest_[victim] = -1;
    dirty_[victim] = false;
    return victim;
  }
  void map(unsigned r, int h) {
    host_[r] = h;
    guest_[h] = static_cast<int>(r);
    dirty_[h] = false;
  }
  void touch(int h) {
    last_[h] = ++clock_;
    pinned_ |= 1u << h;
  }
  Xbyak::CodeGenerator& g_;
  Xbyak::Reg64 pool_[kN];
  int guest_[kN];
  bool dirty_[kN];
  uint64_t last_[kN];
  int host_[33];
  uint64_t clock_ = 0;
  unsigned pinned_ = 0;
  uint64_t sticky_ = 0;
  unsigned allocs_ = 0;
};
}  // namespace

namespace {
// The guest registers (bit r; 32 is the x0 sink) that emit() reads or writes
// for d, as *reads and *writes; false for an instruction that calls a helper
// (the call drops the register cache) or is not translated.
bool reg_uses(const DecodedInsn& d, uint64_t* reads, uint64_t* writes) {
  const uint64_t rs1 = 1ULL << d.rs1, rs2 = 1ULL << d.rs2, rd = 1ULL << d.rd;
  switch (d.op) {
    case OP_LUI: case OP_AUIPC: *writes |= rd; return true;
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU: case OP_BGEU:
    case OP_SB: case OP_SH: case OP_SW: case OP_SD:
      *reads |= rs1 | rs2;
      return true;
    case OP_LB: case OP_LH: case OP_LW: case OP_LD: case OP_LBU: case OP_LHU: case OP_LWU:
    case OP_ADDI: case OP_SLTI: case OP_SLTIU: case OP_XORI: case OP_ORI: case OP_ANDI:
    case OP_SLLI: case OP_SRLI: case OP_SRAI:
    case OP_ADDIW: case OP_SLLIW: case OP_SRLIW: case OP_SRAIW:
      *reads |= rs1;
      *writes |= rd;
      return true;
    case OP_ADD: case OP_SUB: case OP_SLL: case OP_SLT: case OP_SLTU: case OP_XOR:
    case OP_SRL: case OP_SRA: case OP_OR: case OP_AND:
    case OP_ADDW: case OP_SUBW: case OP_SLLW: case OP_SRLW: case OP_SRAW:
    case OP_MUL: case OP_MULH: case OP_MULHSU: case OP_MULHU: case OP_MULW:
      *reads |= rs1 | rs2;
      *writes |= rd;
      return true;
    case OP_FENCE: return true;
  }
  return false;
}
}  // namespace

bool Jit::emit(Xbyak::CodeGenerator& g, const DecodedInsn* ds, const uint64_t* pcs, unsigned n, uint64_t end_pc,
               uint64_t vpc, uint64_t ppc, bool allow_loop) {
  using namespace Xbyak::util;
  using Xbyak::Reg64;
  using Xbyak::Reg32;
  // The out-of-line part of a load/store, emitted after the block. Its jumps
  // are patched by hand (xbyak labels cost hash-map work per block).
  struct Exit {
    uint64_t pc;
    unsigned index;
    RegCache::Dirty dirty;
    size_t jnz_misaligned = 0;  // offsets of the rel32 of the jcc to patch (0: none)
    size_t jne_miss = 0;
    const uint8_t* retry = nullptr;  // the TLB check, again after a refill (h_refill)
    unsigned acc = 0, size = 0;
  };
  std::vector<Exit> exits;
  exits.reserve(n);
  std::deque<std::pair<Xbyak::Label, unsigned>> ext_exits;  // helper calls' ways out (jit_ext.cc)
  // jcc rel32 to a target emitted later: its offset, for patch().
  auto jcc_fwd = [&](uint8_t cc) {
    g.db(0x0f);
    g.db(cc);
    const size_t at = g.getSize();
    g.dd(0);
    return at;
  };
  auto patch = [&](size_t at) {  // points the jcc at `at` to the current position
    const int32_t rel = static_cast<int32_t>(g.getSize() - (at + 4));
    std::memcpy(const_cast<uint8_t*>(g.getCode()) + at, &rel, 4);
  };
  Xbyak::Label start, bail;
  RegCache rc(g);
  auto r32 = [](const Reg64& r) { return Reg32(r.getIdx()); };
  // Loop mode: a block that ends in a branch back to its own start (a tight
  // loop) and uses at most RegCache::kN guest registers loads them all before
  // its head and keeps them in host registers from one pass to the next; they
  // are stored (all that the block writes) only at the ways out.
  uint64_t loop_reads = 0, loop_writes = 0;
  bool loop = allow_loop && !(off_mask() & 0x200) && ds[n - 1].op >= OP_BEQ && ds[n - 1].op <= OP_BGEU &&
              pcs[n - 1] + static_cast<uint64_t>(static_cast<int64_t>(ds[n - 1].imm)) == vpc;
  for (unsigned i = 0; loop && i < n; i++) loop = reg_uses(ds[i], &loop_reads, &loop_writes);
  if (loop && __builtin_popcountll(loop_reads | loop_writes) > RegCache::kN) loop = false;
  Xbyak::Label head;
  unsigned head_allocs = 0;
  // Entry: the whole block must fit in the budget.
  g.L(start);
  g.sub(r13, n);
  g.jb(bail, Xbyak::CodeGenerator::T_NEAR);
  if (loop) {
    rc.begin_insn();
    for (unsigned r = 0; r < 33; r++)
      if (((loop_reads | loop_writes) >> r) & 1) rc.read(r);
    rc.set_sticky(loop_writes);
    head_allocs = rc.allocs();
    g.L(head);
    n_loops_++;
  }
  // Leaves the block for the static successor t (registers already flushed).
  auto exit_to = [&](uint64_t t) {
    if (t == vpc) {
      g.jmp(start, Xbyak::CodeGenerator::T_NEAR);
    } else if (const Block* b = chain_target(vpc, ppc, t)) {
      g.jmp(static_cast<const void*>(b->fn), Xbyak::CodeGenerator::T_NEAR);
    } else {
      g.mov(rax, t);
      g.jmp(static_cast<const void*>(lookup_), Xbyak::CodeGenerator::T_NEAR);
      // A same-page successor not translated yet: this jmp rel32 is pointed
      // at it once it is (link_pending()).
      if (((t ^ vpc) >> 12) == 0) sites_.push_back({const_cast<uint8_t*>(g.getCurr()) - 5, t, (ppc & ~0xfffULL) | (t & 0xfff)});
    }
  };
  // F/D instructions that need neither rounding nor flags, as host code in
  // the block (no helper call, the register cache kept): FMV.X.W/D,
  // FMV.W/D.X, FSGNJ/FSGNJN/FSGNJX.D (FMV.D, FNEG.D, FABS.D) and FCVT.D.W/WU
  // (every 32-bit integer is exact in a double: no rounding, no flags; a
  // reserved rm still traps, so only rm 0-4 in the encoding are taken here).
  // The same bits as fpu.cc (unprivileged spec §11.7, §12.2-12.5): FMV.X.W
  // sign-extends the raw low 32 bits, FMV.W.X NaN-boxes; no NaN handling.
  // mstatus.FS = Off leaves the block before the instruction (the interpreter
  // raises the illegal-instruction trap); an f-register write sets FS = Dirty
  // and SD (privileged spec §3.1.6.6), as fs_dirty() does. Returns false to
  // leave the instruction to the helper. VMSUP_JIT_OFF bit 0x800 turns it off
  // (so do 0x400, no helper path, and 0x100, whose re-run restores only x).
  // `i`/`pc` are those of the instruction being emitted (set in the loop).
  unsigned cur_i = 0;
  uint64_t cur_pc = 0;
  auto fp_inline = [&](const DecodedInsn& d) -> bool {
    const uint32_t raw = d.raw;
    if ((raw & 0x7f) != 0x53) return false;
    const unsigned rd = (raw >> 7) & 31, f3 = (raw >> 12) & 7, rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
    const unsigned f7 = raw >> 25;
    enum { kNone, kMvXD, kMvXW, kMvDX, kMvWX, kSgnjD, kCvtDW, kCvtDWU } k = kNone;
    if (f7 == 0x71 && rs2 == 0 && f3 == 0) k = kMvXD;
    else if (f7 == 0x70 && rs2 == 0 && f3 == 0) k = kMvXW;
    else if (f7 == 0x79 && rs2 == 0 && f3 == 0) k = kMvDX;
    else if (f7 == 0x78 && rs2 == 0 && f3 == 0) k = kMvWX;
    else if (f7 == 0x11 && f3 <= 2) k = kSgnjD;
    else if (f7 == 0x69 && rs2 <= 1 && f3 <= 4) k = rs2 == 0 ? kCvtDW : kCvtDWU;
    if (k == kNone) return false;
    // FS = Off: out before this instruction, as a load's slow path does.
    exits.emplace_back();
    exits.back().pc = cur_pc;
    exits.back().index = cur_i;
    exits.back().dirty = rc.dirty();
    g.test(qword[rbx + off_mstatus_], static_cast<uint32_t>(ms::FS));
    exits.back().jnz_misaligned = jcc_fwd(0x84);  // jz
    auto fmem = [&](unsigned r) { return qword[rbx + off_f_ + static_cast<int>(r * 8)]; };
    switch (k) {
      case kMvXD:
        if (rd != 0) g.mov(rc.write(rd), fmem(rs1));
        return true;
      case kMvXW:
        if (rd != 0) g.movsxd(rc.write(rd), dword[rbx + off_f_ + static_cast<int>(rs1 * 8)]);
        return true;
      case kMvDX:
        g.mov(fmem(rd), rc.read(rs1));
        break;
      case kMvWX:
        g.mov(eax, r32(rc.read(rs1)));
        g.mov(rcx, 0xffffffff00000000ULL);
        g.or_(rax, rcx);
        g.mov(fmem(rd), rax);
        break;
      case kSgnjD:
        // (a & ~sign) | (sign of b, ~b or a ^ b)
        g.mov(rax, fmem(rs1));
        g.mov(rcx, fmem(rs2));
        if (f3 == 1) g.not_(rcx);
        else if (f3 == 2) g.xor_(rcx, rax);
        g.btr(rax, 63);
        g.shr(rcx, 63);
        g.shl(rcx, 63);
        g.or_(rax, rcx);
        g.mov(fmem(rd), rax);
        break;
      case kCvtDW:
        g.cvtsi2sd(xmm0, r32(rc.read(rs1)));
        g.movq(fmem(rd), xmm0);
        break;
      case kCvtDWU:
        g.mov(eax, r32(rc.read(rs1)));  // zero-extended: a non-negative 64-bit integer below 2^32
        g.cvtsi2sd(xmm0, rax);
        g.movq(fmem(rd), xmm0);
        break;
      default:
        break;
    }
    g.mov(rax, ms::FS | ms::SD);
    g.or_(qword[rbx + off_mstatus_], rax);
    return true;
  };
  // FADD/FSUB/FMUL/FDIV/FSQRT and FMADD/FMSUB/FNMSUB/FNMADD (.S and .D) on
  // the host's SSE2 (FMA3) unit, QEMU's "hardfloat" idea: when the
  // rounding mode is RNE (rm = 0, or DYN with frm = 0) and fflags already has
  // NX, the host's correctly rounded result is softfp's whenever it is a
  // normal number with an exponent field of at least 2: then no NV (every
  // invalid operation gives a NaN), no DZ (x/0 is infinite), no OF (RNE
  // overflows to infinity), no UF (|r| >= 2^(emin+1), so not tiny after
  // rounding, unprivileged spec §11.2 / IEEE 754 §7.5), and the only other
  // flag, NX, is set already. NaN or infinite operands give a NaN, an
  // infinity or a zero, never such a result, so they need no check of their
  // own; the canonical NaN and the exact flags of everything else come from
  // softfp: any other case (NX clear, another rounding mode, a result that is
  // zero, subnormal, near DBL_MIN, infinite or NaN) calls jit_ext_fp out of
  // line with the cached registers saved around it (the op touches no x
  // register). Host assumptions as fpu.cc's fast path: MXCSR in its default
  // state (RNE, no FTZ/DAZ), which Node keeps. Singles take the fast path
  // only with every operand NaN-boxed, and their result is boxed; the
  // argument above holds for binary32 (exponent field in [2, 0xfe]). The
  // out-of-line parts are emitted after the block.
  struct FpSlow {
    Xbyak::Label slow, back, before;
    RegCache::Dirty dirty;
    uint64_t pc;
    unsigned index;
    uint32_t raw;
    bool dyn;
  };
  std::deque<FpSlow> fp_slow;
  static const bool host_fma = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") != 0;
  }();
  static_assert(offsetof(FpState, frm) == offsetof(FpState, fflags) + 4, "fflags and frm are read as one qword");
  const int off_fflags = off_f_ + static_cast<int>(offsetof(FpState, fflags) - offsetof(FpState, f));
  auto fp_arith = [&](const DecodedInsn& d) -> bool {
    const uint32_t raw = d.raw;
    const uint32_t opc = raw & 0x7f;
    const unsigned rd = (raw >> 7) & 31, f3 = (raw >> 12) & 7, rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
    const unsigned f5 = raw >> 27, fmt = (raw >> 25) & 3;
    if (f3 != 0 && f3 != 7) return false;  // static RNE or DYN only
    if (fmt > 1) return false;
    const bool sgl = fmt == 0;
    enum { kAdd, kSub, kMul, kDiv, kSqrt, kFma } k;
    if (opc == 0x53) {
      if (f5 == 0x00) k = kAdd;
      else if (f5 == 0x01) k = kSub;
      else if (f5 == 0x02) k = kMul;
      else if (f5 == 0x03) k = kDiv;
      else if (f5 == 0x0b && rs2 == 0) k = kSqrt;
      else return false;
    } else if (opc == 0x43 || opc == 0x47 || opc == 0x4b || opc == 0x4f) {
      if (!host_fma) return false;
      k = kFma;
    } else {
      return false;
    }
    const unsigned rs3 = f5;  // R4-type: rs3 in bits 31:27
    fp_slow.emplace_back();
    FpSlow& s = fp_slow.back();
    s.dirty = rc.dirty();
    s.pc = cur_pc;
    s.index = cur_i;
    s.raw = raw;
    s.dyn = f3 == 7;
    auto fmem = [&](unsigned r) { return qword[rbx + off_f_ + static_cast<int>(r * 8)]; };
    auto smem = [&](unsigned r) { return dword[rbx + off_f_ + static_cast<int>(r * 8)]; };  // the low 32 bits
    g.test(qword[rbx + off_mstatus_], static_cast<uint32_t>(ms::FS));
    g.jz(s.before, Xbyak::CodeGenerator::T_NEAR);  // FS = Off: the interpreter traps
    if (s.dyn) {  // NX set and frm = 0
      g.mov(rax, qword[rbx + off_fflags]);
      g.mov(rcx, 0xffffffff00000001ULL);
      g.and_(rax, rcx);
      g.cmp(rax, 1);
      g.jne(s.slow, Xbyak::CodeGenerator::T_NEAR);
    } else {
      g.test(byte[rbx + off_fflags], 1);
      g.jz(s.slow, Xbyak::CodeGenerator::T_NEAR);
    }
    if (sgl) {
      // Singles: every operand must be NaN-boxed (§12.2), else it reads as
      // the canonical NaN, which is softfp's to handle. The AND of the upper
      // halves is all ones iff each is.
      g.mov(rax, fmem(rs1));
      if (k != kSqrt) g.and_(rax, fmem(rs2));
      if (k == kFma) g.and_(rax, fmem(rs3));
      g.shr(rax, 32);
      g.cmp(eax, -1);
      g.jne(s.slow, Xbyak::CodeGenerator::T_NEAR);
      g.movss(xmm0, smem(rs1));
      switch (k) {
        case kAdd: g.addss(xmm0, smem(rs2)); break;
        case kSub: g.subss(xmm0, smem(rs2)); break;
        case kMul: g.mulss(xmm0, smem(rs2)); break;
        case kDiv: g.divss(xmm0, smem(rs2)); break;
        case kSqrt: g.sqrtss(xmm0, xmm0); break;
        case kFma:
          g.movss(xmm1, smem(rs2));
          if (opc == 0x43) g.vfmadd213ss(xmm0, xmm1, smem(rs3));
          else if (opc == 0x47) g.vfmsub213ss(xmm0, xmm1, smem(rs3));
          else if (opc == 0x4b) g.vfnmadd213ss(xmm0, xmm1, smem(rs3));
          else g.vfnmsub213ss(xmm0, xmm1, smem(rs3));
          break;
      }
      g.movd(eax, xmm0);  // zero-extends into rax
      g.mov(ecx, eax);
      g.shr(ecx, 23);
      g.and_(ecx, 0xff);
      g.sub(ecx, 2);
      g.cmp(ecx, 0xfe - 2);
      g.ja(s.slow, Xbyak::CodeGenerator::T_NEAR);  // exponent field not in [2, 0xfe]
      g.mov(rcx, 0xffffffff00000000ULL);  // NaN-box the result
      g.or_(rax, rcx);
      g.mov(fmem(rd), rax);
    } else {
      g.movsd(xmm0, fmem(rs1));
      switch (k) {
        case kAdd: g.addsd(xmm0, fmem(rs2)); break;
        case kSub: g.subsd(xmm0, fmem(rs2)); break;
        case kMul: g.mulsd(xmm0, fmem(rs2)); break;
        case kDiv: g.divsd(xmm0, fmem(rs2)); break;
        case kSqrt: g.sqrtsd(xmm0, xmm0); break;
        case kFma:
          // xmm0 = ±(rs1 * rs2) ± rs3, one rounding.
          g.movsd(xmm1, fmem(rs2));
          if (opc == 0x43) g.vfmadd213sd(xmm0, xmm1, fmem(rs3));       // FMADD:  a*b + c
          else if (opc == 0x47) g.vfmsub213sd(xmm0, xmm1, fmem(rs3));  // FMSUB:  a*b - c
          else if (opc == 0x4b) g.vfnmadd213sd(xmm0, xmm1, fmem(rs3)); // FNMSUB: -(a*b) + c
          else g.vfnmsub213sd(xmm0, xmm1, fmem(rs3));                  // FNMADD: -(a*b) - c
          break;
      }
      g.movq(rax, xmm0);
      g.mov(rcx, rax);
      g.shr(rcx, 52);
      g.and_(ecx, 0x7ff);
      g.sub(ecx, 2);
      g.cmp(ecx, 0x7fe - 2);
      g.ja(s.slow, Xbyak::CodeGenerator::T_NEAR);  // exponent field not in [2, 0x7fe]
      g.mov(fmem(rd), rax);
    }
    g.mov(rax, ms::FS | ms::SD);
    g.or_(qword[rbx + off_mstatus_], rax);
    g.L(s.back);
    return true;
  };
  bool ended = false;
  for (unsigned i = 0; i < n; i++) {
    const DecodedInsn& d = ds[i];
    const uint64_t pc = pcs[i];
    const uint64_t npc = pc + d.len();
    const int32_t imm = d.imm;
    const uint64_t uimm = static_cast<uint64_t>(static_cast<int64_t>(imm));
    rc.begin_insn();
    cur_i = i;
    cur_pc = pc;
    // rd = rs1 op rs2 (64-bit)
    auto alu_rr = [&](auto op) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      const Reg64 w = rc.write(d.rd);
      if (w.getIdx() == b.getIdx() && w.getIdx() != a.getIdx()) {  // rd = rs2: through rax
        g.mov(rax, a);
        op(rax, b);
        g.mov(w, rax);
        return;
      }
      if (w.getIdx() != a.getIdx()) g.mov(w, a);
      op(w, b);
    };
    auto alu_ri = [&](auto op) {
      const Reg64 a = rc.read(d.rs1);
      const Reg64 w = rc.write(d.rd);
      if (w.getIdx() != a.getIdx()) g.mov(w, a);
      op(w, imm);
    };
    auto alu_w_rr = [&](auto op) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      g.mov(eax, r32(a));
      op(eax, r32(b));
      g.movsxd(rc.write(d.rd), eax);
    };
    auto shift_rr = [&](auto op) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      g.mov(rcx, b);  // the count is in cl from here: rd may be rs2
      const Reg64 w = rc.write(d.rd);
      if (w.getIdx() != a.getIdx()) g.mov(w, a);
      op(w, cl);
    };
    auto shift_w_rr = [&](auto op) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      g.mov(rcx, b);
      g.mov(eax, r32(a));
      op(eax, cl);
      g.movsxd(rc.write(d.rd), eax);
    };
    auto shift_ri = [&](auto op) {
      const Reg64 a = rc.read(d.rs1);
      const Reg64 w = rc.write(d.rd);
      if (w.getIdx() != a.getIdx()) g.mov(w, a);
      op(w, static_cast<uint8_t>(imm & 63));
    };
    auto shift_w_ri = [&](auto op) {
      const Reg64 a = rc.read(d.rs1);
      g.mov(eax, r32(a));
      op(eax, static_cast<uint8_t>(imm & 31));
      g.movsxd(rc.write(d.rd), eax);
    };
    auto setcc_rr = [&](auto setcc) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      g.xor_(ecx, ecx);
      g.cmp(a, b);
      setcc(cl);
      g.mov(rc.write(d.rd), rcx);
    };
    auto setcc_ri = [&](auto setcc) {
      const Reg64 a = rc.read(d.rs1);
      g.xor_(ecx, ecx);
      g.cmp(a, imm);
      setcc(cl);
      g.mov(rc.write(d.rd), rcx);
    };
    auto call2 = [&](uint64_t (*fn)(uint64_t, uint64_t)) {
      rc.drop();
      g.mov(rdi, RegCache::mem(d.rs1));
      g.mov(rsi, RegCache::mem(d.rs2));
      g.mov(rax, reinterpret_cast<uint64_t>(fn));
      g.call(rax);
      rc.begin_insn();
      g.mov(rc.write(d.rd), rax);
    };
    // Effective address in rax; on a TLB hit rax = the host address, else an
    // exit before this instruction. The operands are read before the check.
    auto tlb = [&](int off_tlb, unsigned size, const Reg64& base) {
      exits.emplace_back();
      Exit& e = exits.back();
      e.pc = pc;
      e.index = i;
      e.dirty = rc.dirty();
      e.acc = off_tlb == off_tlb_r_ ? 0 : 1;
      e.size = size;
      g.lea(rax, ptr[base + imm]);
      if (size > 1) {
        g.test(al, static_cast<uint8_t>(size - 1));
        e.jnz_misaligned = jcc_fwd(0x85);
      }
      e.retry = g.getCurr();
      static_assert(sizeof(TlbEntry) == 16, "the index below scales by 16");
      g.mov(ecx, eax);
      g.shr(ecx, 12 - 4);
      g.and_(ecx, (kTlbSize - 1) << 4);
      g.mov(rdx, rax);
      g.and_(rdx, -4096);
      g.or_(rdx, qword[rbx + off_dkey_]);
      g.cmp(rdx, qword[rbx + rcx + off_tlb]);
      e.jne_miss = jcc_fwd(0x85);
      g.add(rax, qword[rbx + rcx + (off_tlb + 8)]);
    };
    // ld(w): the access at [rax] into w, rd's host register.
    auto load = [&](unsigned size, auto ld) {
      tlb(off_tlb_r_, size, rc.read(d.rs1));
      ld(rc.write(d.rd));
    };
    auto store = [&](unsigned size, auto st) {
      const Reg64 base = rc.read(d.rs1), v = rc.read(d.rs2);
      tlb(off_tlb_w_, size, base);
      st(v);
    };
    auto branch = [&](auto jcc, auto jncc) {
      const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
      if (loop && i == n - 1) {
        // Taken: the next pass, when the budget has room for it (else back
        // to C++ at vpc); not taken: out to the successor.
        Xbyak::Label out;
        g.cmp(a, b);
        jncc(out);
        g.sub(r13, n);
        g.jae(head, Xbyak::CodeGenerator::T_NEAR);
        g.add(r13, n);
        rc.flush();
        g.mov(rax, vpc);
        g.mov(qword[rbx + off_pc_], rax);
        g.xor_(edx, edx);
        g.jmp(static_cast<const void*>(exit_), Xbyak::CodeGenerator::T_NEAR);
        g.L(out);
        rc.flush();
        exit_to(npc);
        ended = true;
        return;
      }
      rc.flush();
      Xbyak::Label taken;
      g.cmp(a, b);
      jcc(taken);
      exit_to(npc);
      g.L(taken);
      exit_to(pc + uimm);
      ended = true;
    };
#define GF(m) [&](const auto& a, const auto& b) { g.m(a, b); }
#define JCC(m) [&](Xbyak::Label& l) { g.m(l, Xbyak::CodeGenerator::T_NEAR); }
    switch (d.op) {
      case OP_LUI: g.mov(rc.write(d.rd), uimm); break;
      case OP_AUIPC: g.mov(rc.write(d.rd), pc + uimm); break;
      case OP_JAL:
        g.mov(rc.write(d.rd), npc);
        rc.flush();
        exit_to(pc + uimm);
        ended = true;
        break;
      case OP_JALR: {
        const Reg64 a = rc.read(d.rs1);
        g.lea(rax, ptr[a + imm]);
        g.and_(rax, -2);
        g.mov(rc.write(d.rd), npc);
        rc.flush();
        g.jmp(static_cast<const void*>(lookup_), Xbyak::CodeGenerator::T_NEAR);
        ended = true;
        break;
      }
      case OP_BEQ: branch(JCC(je), JCC(jne)); break;
      case OP_BNE: branch(JCC(jne), JCC(je)); break;
      case OP_BLT: branch(JCC(jl), JCC(jge)); break;
      case OP_BGE: branch(JCC(jge), JCC(jl)); break;
      case OP_BLTU: branch(JCC(jb), JCC(jae)); break;
      case OP_BGEU: branch(JCC(jae), JCC(jb)); break;
      case OP_LB: load(1, [&](const Reg64& w) { g.movsx(w, byte[rax]); }); break;
      case OP_LH: load(2, [&](const Reg64& w) { g.movsx(w, word[rax]); }); break;
      case OP_LW: load(4, [&](const Reg64& w) { g.movsxd(w, dword[rax]); }); break;
      case OP_LD: load(8, [&](const Reg64& w) { g.mov(w, qword[rax]); }); break;
      case OP_LBU: load(1, [&](const Reg64& w) { g.movzx(r32(w), byte[rax]); }); break;
      case OP_LHU: load(2, [&](const Reg64& w) { g.movzx(r32(w), word[rax]); }); break;
      case OP_LWU: load(4, [&](const Reg64& w) { g.mov(r32(w), dword[rax]); }); break;
      case OP_SB: store(1, [&](const Reg64& v) { g.mov(byte[rax], v.cvt8()); }); break;
      case OP_SH: store(2, [&](const Reg64& v) { g.mov(word[rax], v.cvt16()); }); break;
      case OP_SW: store(4, [&](const Reg64& v) { g.mov(dword[rax], v.cvt32()); }); break;
      case OP_SD: store(8, [&](const Reg64& v) { g.mov(qword[rax], v); }); break;
      case OP_ADDI: {
        const Reg64 a = rc.read(d.rs1);
        g.lea(rc.write(d.rd), ptr[a + imm]);
        break;
      }
      case OP_SLTI: setcc_ri([&](const auto& r) { g.setl(r); }); break;
      case OP_SLTIU: setcc_ri([&](const auto& r) { g.setb(r); }); break;
      case OP_XORI: alu_ri(GF(xor_)); break;
      case OP_ORI: alu_ri(GF(or_)); break;
      case OP_ANDI: alu_ri(GF(and_)); break;
      case OP_SLLI: shift_ri(GF(shl)); break;
      case OP_SRLI: shift_ri(GF(shr)); break;
      case OP_SRAI: shift_ri(GF(sar)); break;
      case OP_ADD: alu_rr(GF(add)); break;
      case OP_SUB: alu_rr(GF(sub)); break;
      case OP_SLL: shift_rr(GF(shl)); break;
      case OP_SLT: setcc_rr([&](const auto& r) { g.setl(r); }); break;
      case OP_SLTU: setcc_rr([&](const auto& r) { g.setb(r); }); break;
      case OP_XOR: alu_rr(GF(xor_)); break;
      case OP_SRL: shift_rr(GF(shr)); break;
      case OP_SRA: shift_rr(GF(sar)); break;
      case OP_OR: alu_rr(GF(or_)); break;
      case OP_AND: alu_rr(GF(and_)); break;
      case OP_ADDIW: {
        const Reg64 a = rc.read(d.rs1);
        if (imm == 0) {  // sext.w
          g.movsxd(rc.write(d.rd), r32(a));
          break;
        }
        g.lea(eax, ptr[a + imm]);
        g.movsxd(rc.write(d.rd), eax);
        break;
      }
      case OP_SLLIW: shift_w_ri(GF(shl)); break;
      case OP_SRLIW: shift_w_ri(GF(shr)); break;
      case OP_SRAIW: shift_w_ri(GF(sar)); break;
      case OP_ADDW: alu_w_rr(GF(add)); break;
      case OP_SUBW: alu_w_rr(GF(sub)); break;
      case OP_SLLW: shift_w_rr(GF(shl)); break;
      case OP_SRLW: shift_w_rr(GF(shr)); break;
      case OP_SRAW: shift_w_rr(GF(sar)); break;
      case OP_MUL: alu_rr(GF(imul)); break;
      case OP_MULH: {
        const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
        g.mov(rax, a);
        g.imul(b);
        g.mov(rc.write(d.rd), rdx);
        break;
      }
      case OP_MULHU: {
        const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
        g.mov(rax, a);
        g.mul(b);
        g.mov(rc.write(d.rd), rdx);
        break;
      }
      case OP_MULHSU: {
        // signed rs1 × unsigned rs2: the unsigned high half, minus rs2 when rs1 < 0.
        const Reg64 a = rc.read(d.rs1), b = rc.read(d.rs2);
        g.mov(rax, a);
        g.mov(rcx, a);
        g.mul(b);
        g.sar(rcx, 63);
        g.and_(rcx, b);
        g.sub(rdx, rcx);
        g.mov(rc.write(d.rd), rdx);
        break;
      }
      case OP_MULW: alu_w_rr(GF(imul)); break;
      case OP_DIV: call2(h_div); break;
      case OP_DIVU: call2(h_divu); break;
      case OP_REM: call2(h_rem); break;
      case OP_REMU: call2(h_remu); break;
      case OP_DIVW: call2(h_divw); break;
      case OP_DIVUW: call2(h_divuw); break;
      case OP_REMW: call2(h_remw); break;
      case OP_REMUW: call2(h_remuw); break;
      case OP_FENCE: break;  // one hart per thread, in order: nothing to order
      default:
        if (d.op == OP_FP && !(off_mask() & 0xd00) && (fp_inline(d) || fp_arith(d))) break;
        // F/D, LR/SC/AMO, FP CSRs, CSR reads: a call to the helper (jit_ext.cc).
        if (!jit_ext_handles(d)) return false;
        rc.drop();
        ext_exits.emplace_back();
        ext_exits.back().second = i;
        jit_ext_emit_call(g, d, pc, i, n, ext_exits.back().first);
        break;
    }
#undef GF
#undef JCC
  }
  if (!ended) {
    rc.flush();
    exit_to(end_pc);
  }
  if (loop && rc.allocs() != head_allocs) return false;  // the masks missed a register: again without
  g.L(bail);
  g.add(r13, n);
  g.mov(rax, vpc);
  g.mov(qword[rbx + off_pc_], rax);
  g.xor_(edx, edx);
  g.jmp(static_cast<const void*>(exit_), Xbyak::CodeGenerator::T_NEAR);
  for (Exit& e : exits) {
    // TLB miss: refill from C++ (refill_ keeps the cached registers).
    // (None for an inline F/D move's FS = Off check.)
    if (e.jne_miss) {
      patch(e.jne_miss);
      g.mov(edx, e.acc);
      g.mov(ecx, e.size);
      g.call(static_cast<const void*>(refill_));
      g.test(ecx, ecx);
      g.jnz(static_cast<const void*>(e.retry));  // rel32 (an absolute target)
    }
    // Not RAM the TLB may hold, or a fault: the interpreter runs the access.
    if (e.jnz_misaligned) patch(e.jnz_misaligned);
    for (unsigned k = 0; k < e.dirty.n; k++) g.mov(RegCache::mem(e.dirty.guest[k]), e.dirty.host[k]);
    g.mov(rax, e.pc);
    g.mov(qword[rbx + off_pc_], rax);
    g.add(r13, n - e.index);  // only e.index instructions retired
    g.mov(edx, 1);
    g.jmp(static_cast<const void*>(exit_), Xbyak::CodeGenerator::T_NEAR);
  }
  for (auto& [label, at] : ext_exits) jit_ext_emit_leave(g, label, at, n, exit_);
  for (FpSlow& s : fp_slow) {
    // Softfp through the helper, the cached registers (the caller-saved half
    // of the pool) kept: 6 pushes keep rsp 16-byte aligned for the call. The
    // helper cannot trap here: FS is on, the encoding legal, and a DYN frm
    // that is reserved goes to the interpreter (it raises the trap).
    g.L(s.slow);
    if (s.dyn) {
      g.cmp(dword[rbx + off_fflags + 4], 4);
      g.ja(s.before, Xbyak::CodeGenerator::T_NEAR);
    }
    const Reg64 saved[6] = {rsi, rdi, r8, r9, r10, r11};
    for (const Reg64& r : saved) g.push(r);
    g.mov(rdi, rbx);
    g.mov(esi, s.raw);
    g.mov(rdx, s.pc);
    g.mov(rax, reinterpret_cast<uint64_t>(&jit_ext_fp));
    g.call(rax);
    for (int k = 5; k >= 0; k--) g.pop(saved[k]);
    g.jmp(s.back, Xbyak::CodeGenerator::T_NEAR);
    // Out before the instruction, as a load's slow path leaves.
    g.L(s.before);
    for (unsigned k = 0; k < s.dirty.n; k++) g.mov(RegCache::mem(s.dirty.guest[k]), s.dirty.host[k]);
    g.mov(rax, s.pc);
    g.mov(qword[rbx + off_pc_], rax);
    g.add(r13, n - s.index);
    g.mov(edx, 1);
    g.jmp(static_cast<const void*>(exit_), Xbyak::CodeGenerator::T_NEAR);
  }
  return true;
}

uint64_t Jit::run(uint64_t budget) {
  CpuImpl& c = c_;
  const uint64_t start = c.retired_total;
  uint64_t left = budget;
  // Passes since an instruction last retired: bounds loops that retire
  // nothing (a trap loop), with the interpreter's rule (hart.cc).
  uint64_t steps = 0, steps_left = budget;
  while (left > 0) {
    if (left != steps_left) {
      steps_left = left;
      steps = 0;
    }
    if (VM_UNLIKELY(c.state != HartState::kRunning)) break;
    if (VM_UNLIKELY(c.exit_req.load(std::memory_order_relaxed))) {
      c.exit_req.store(false, std::memory_order_relaxed);
      break;
    }
    if (VM_UNLIKELY(++steps > budget)) break;
    // Interrupts at block boundaries (the interpreter takes them at the same
    // places or earlier: nothing inside a block changes mip, mie or mstatus).
    if (c.mip & c.mie) take_pending_interrupt(c);
    const uint64_t pc = c.pc;
    Block* b = nullptr;
    const TlbEntry& e = c.tlb[2][(pc >> 12) & (kTlbSize - 1)];
    if (VM_LIKELY(e.tag == ((pc & ~0xfffULL) | c.fetch_key)) && (pc & 0xfff) <= 0xffc) {
      const uint8_t* host = reinterpret_cast<const uint8_t*>(pc + e.addend);
      const uint64_t ppc = static_cast<uint64_t>(host - c.ram) + c.ram_base;
      b = table_[index(pc)];
      if (!b || b->vpc != pc || b->ppc != ppc) {
        b = find(pc, ppc);
        if (b) table_[index(pc)] = b;
        else b = translate(pc, ppc, host);
      }
    }
    if (!b || b->ninsn == 0 || b->ninsn > left) {
      // Not translated, a fetch-TLB miss, or the budget ends inside the block:
      // the interpreter (which also raises fetch faults).
      left -= interp_run(c, b && b->ninsn > left ? left : 1);
      continue;
    }
    if (VM_UNLIKELY(off_mask() & 0x100)) {
      // Debugging aid (VMSUP_JIT_OFF=0x102, with stores off): every block
      // runs alone, then again on the interpreter, and the registers must agree.
      uint64_t saved[33];
      std::memcpy(saved, c.x, sizeof saved);
      const uint64_t pc0 = c.pc;
      const ExitInfo r = enter_(&c, b->fn, b->ninsn);
      uint64_t got[33];
      std::memcpy(got, c.x, sizeof got);
      const uint64_t got_pc = c.pc;
      std::memcpy(c.x, saved, sizeof saved);
      c.pc = pc0;
      uint64_t n = 0;
      for (int k = 0; k < 100 && n < r.retired; k++) n += interp_run(c, r.retired - n);
      if (std::memcmp(got, c.x, sizeof got) != 0 || got_pc != c.pc) {
        std::fprintf(stderr, "JIT MISMATCH block %llx (%u insns, retired %llu): pc %llx vs %llx\n",
                     (unsigned long long)pc0, b->ninsn, (unsigned long long)r.retired,
                     (unsigned long long)got_pc, (unsigned long long)c.pc);
        for (int k = 0; k < 33; k++)
          if (got[k] != c.x[k])
            std::fprintf(stderr, "  x%d jit %llx interp %llx\n", k, (unsigned long long)got[k],
                         (unsigned long long)c.x[k]);
      }
      left -= n;
      if (r.step && left > 0) left -= interp_run(c, 1);
      continue;
    }
    const uint64_t before = c.retired_total;
    const ExitInfo r = enter_(&c, b->fn, left);
    account(c, r.retired);
    left -= c.retired_total - before;  // CSR helper calls account part of it themselves (jit_ext.cc)
    // An early exit stops before a load or store the inline TLB path cannot
    // do (miss, misaligned, MMIO, code page, fault): the interpreter runs it.
    if (r.step && left > 0) left -= interp_run(c, 1);
  }
  return c.retired_total - start;
}

Jit* jit_create(CpuImpl& c, size_t cache_bytes) {
  auto* j = new Jit(c);
  if (!j->init(cache_bytes)) {
    delete j;
    return nullptr;
  }
  return j;
}
void jit_destroy(Jit* j) { delete j; }
uint64_t jit_run(Jit& j, uint64_t budget) { return j.run(budget); }
uint64_t jit_code_bytes(const Jit& j) { return j.code_bytes(); }
void jit_flush(Jit& j) { j.flush(); }

#else  // no translator on this host: the interpreter runs everything

class Jit {};
Jit* jit_create(CpuImpl&, size_t) { return nullptr; }
void jit_destroy(Jit* j) { delete j; }
uint64_t jit_run(Jit&, uint64_t) { return 0; }
uint64_t jit_code_bytes(const Jit&) { return 0; }
void jit_flush(Jit&) {}

#endif

}  // namespace vmsup
