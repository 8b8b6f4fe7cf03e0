// Control and status registers (Zicsr, unprivileged spec ch. 9; privileged
// spec ch. 2, 3.1, 4.1), traps and interrupts (privileged spec §3.1.6.1,
// §3.1.9, §3.3), MRET/SRET (§3.3.2) and reset (§3.4).
#include "cpu/cpu_impl.h"

namespace vmsup {

namespace {

// misa: MXL = 2 (XLEN 64) and the extensions I M A F D C, S and U.
constexpr uint64_t kMisa = (2ULL << 62) | (1 << ('A' - 'A')) | (1 << ('C' - 'A')) | (1 << ('D' - 'A')) |
                           (1 << ('F' - 'A')) | (1 << ('I' - 'A')) | (1 << ('M' - 'A')) |
                           (1 << ('S' - 'A')) | (1 << ('U' - 'A'));

// Writable mstatus bits. UXL/SXL are read-only 2 (64-bit), UBE/SBE/MBE read-only
// 0 (little-endian), VS/XS read-only 0 (no V, no custom state).
constexpr uint64_t kMstatusWritable = ms::SIE | ms::MIE | ms::SPIE | ms::MPIE | ms::SPP | ms::MPP | ms::FS |
                                      ms::MPRV | ms::SUM | ms::MXR | ms::TVM | ms::TW | ms::TSR;
// sstatus is a restricted view of mstatus (§4.1.1).
constexpr uint64_t kSstatusMask = ms::SIE | ms::SPIE | ms::UBE | ms::SPP | ms::VS | ms::FS | ms::XS | ms::SUM |
                                  ms::MXR | ms::UXL | ms::SD;
constexpr uint64_t kSstatusWritable = ms::SIE | ms::SPIE | ms::SPP | ms::FS | ms::SUM | ms::MXR;

// medeleg: every synchronous cause that exists, except ECALL from M (§3.1.8).
constexpr uint64_t kMedelegWritable = 0xb3ff;
// mideleg: the supervisor interrupts (M-level interrupts are never delegated).
constexpr uint64_t kMidelegWritable = kMipSSIP | kMipSTIP | kMipSEIP;
constexpr uint64_t kMieWritable = kMipSSIP | kMipMSIP | kMipSTIP | kMipMTIP | kMipSEIP | kMipMEIP;

inline uint64_t with_sd(uint64_t s) {
  if (((s & ms::FS) == ms::FS) || ((s & ms::XS) == ms::XS) || ((s & ms::VS) == ms::VS)) s |= ms::SD;
  else s &= ~ms::SD;
  return s;
}

// Legal MPP values: M, S, U; the reserved 2 becomes U (WARL, §3.1.6.2).
inline uint64_t legal_mpp(uint64_t s) {
  if (((s & ms::MPP) >> ms::kMppShift) == 2) s &= ~ms::MPP;
  return s;
}

bool counter_allowed(const CpuImpl& c, unsigned idx) {
  // cycle/time/instret/hpmcounterN from below M need mcounteren (and from U
  // also scounteren) bit idx (§3.1.11, §4.1.5).
  if (c.priv == kPrivM) return true;
  if (!((c.mcounteren >> idx) & 1)) return false;
  if (c.priv == kPrivU && !((c.scounteren >> idx) & 1)) return false;
  return true;
}

uint64_t read_mip(const CpuImpl& c) { return c.mip; }

void write_mstatus(CpuImpl& c, uint64_t v) {
  uint64_t s = (c.mstatus & ~kMstatusWritable) | (v & kMstatusWritable);
  s = legal_mpp(s);
  c.mstatus = with_sd(s);
  update_keys(c);
}

}  // namespace

void recompute_mip(CpuImpl& c) {
  uint64_t m = c.irq_lines | c.mip_sw;
  if (c.stip_timer) m |= kMipSTIP;
  c.mip = m;
  if (c.state == HartState::kWfi && (c.mip & c.mie)) c.state = HartState::kRunning;
}

// Sstc (and the board's SBI timer): STIP follows mtime >= stimecmp while
// menvcfg.STCE is set or the board drives it.
void poll_stimecmp(CpuImpl& c, uint64_t now) {
  const bool active = (c.menvcfg & kMenvcfgSTCE) || c.stimecmp_host;
  const bool fire = active && now >= c.stimecmp;
  if (fire != c.stip_timer) {
    c.stip_timer = fire;
    recompute_mip(c);
  }
}

void set_priv(CpuImpl& c, Priv p) {
  c.priv = p;
  update_keys(c);
}

void cpu_reset(CpuImpl& c, uint64_t pc, Priv p) {
  std::memset(c.x, 0, sizeof(c.x));
  c.fp = FpState{};
  c.pc = pc;
  c.mstatus = (2ULL << 32) | (2ULL << 34);  // UXL = SXL = 2
  c.misa = kMisa;
  c.medeleg = c.mideleg = 0;
  c.mie = 0;
  c.mip_sw = 0;
  c.irq_lines = 0;
  c.stip_timer = false;
  c.stimecmp = ~0ULL;
  c.stimecmp_host = false;
  c.mtvec = c.mscratch = c.mepc = c.mcause = c.mtval = 0;
  c.mcounteren = c.mcountinhibit = c.menvcfg = 0;
  c.stvec = c.sscratch = c.sepc = c.scause = c.stval = 0;
  c.scounteren = c.senvcfg = c.satp = 0;
  c.minstret = c.mcycle = 0;
  std::memset(c.pmpaddr, 0, sizeof(c.pmpaddr));
  std::memset(c.pmpcfg, 0, sizeof(c.pmpcfg));
  c.pmp_active = false;
  if (p != kPrivM) {
    // A hart started below M gets what M-mode firmware leaves behind (as
    // OpenSBI does): PMP entry 0 = NAPOT over all memory, RWX. Without it,
    // with PMP implemented and no entry matching, S/U could access nothing.
    c.pmpaddr[0] = (1ULL << 54) - 1;
    c.pmpcfg[0] = 0x1f;
    c.pmp_active = true;
  }
  c.resv_valid = false;
  c.priv = p;
  recompute_mip(c);
  for (auto& set : c.tlb)
    for (auto& e : set) e = TlbEntry{kTlbInvalid, 0};
  c.tlb_gen = 0;
  update_keys(c);
  for (auto& d : c.dcache) {
    d.raw = 0;  // raw 0 decodes to an illegal instruction: never a stale hit
    decode_insn(0, &d);
  }
}

// Takes a trap (privileged spec §3.1.6.1, §3.1.7, §3.1.8, §4.1.1): to S when
// the cause is delegated and we are not in M, else to M.
void take_trap(CpuImpl& c, uint64_t cause, uint64_t tval) {
  const bool irq = cause & kIrqFlag;
  const unsigned code = static_cast<unsigned>(cause & 63);
  const uint64_t deleg = irq ? c.mideleg : c.medeleg;
  if (c.priv <= kPrivS && ((deleg >> code) & 1)) {
    c.scause = cause;
    c.sepc = c.pc;
    c.stval = tval;
    uint64_t s = c.mstatus;
    s = (s & ~ms::SPIE) | ((s & ms::SIE) ? ms::SPIE : 0);
    s = (s & ~ms::SPP) | (c.priv == kPrivS ? ms::SPP : 0);
    s &= ~ms::SIE;
    c.mstatus = s;
    const uint64_t base = c.stvec & ~3ULL;
    c.pc = ((c.stvec & 1) && irq) ? base + 4 * code : base;
    set_priv(c, kPrivS);
  } else {
    c.mcause = cause;
    c.mepc = c.pc;
    c.mtval = tval;
    uint64_t s = c.mstatus;
    s = (s & ~ms::MPIE) | ((s & ms::MIE) ? ms::MPIE : 0);
    s = (s & ~ms::MPP) | (static_cast<uint64_t>(c.priv) << ms::kMppShift);
    s &= ~ms::MIE;
    c.mstatus = s;
    const uint64_t base = c.mtvec & ~3ULL;
    c.pc = ((c.mtvec & 1) && irq) ? base + 4 * code : base;
    set_priv(c, kPrivM);
  }
}

// Interrupt selection (§3.1.9): pending and enabled in mie; M-level ones are
// taken when priv < M or MIE, delegated ones when priv < S or (priv == S and
// SIE). Priority MEI > MSI > MTI > SEI > SSI > STI.
bool take_pending_interrupt(CpuImpl& c) {
  const uint64_t pend = c.mip & c.mie;
  if (!pend) return false;
  uint64_t take = 0;
  const uint64_t m = pend & ~c.mideleg;
  if (m && (c.priv < kPrivM || (c.mstatus & ms::MIE))) take = m;
  if (!take) {
    const uint64_t s = pend & c.mideleg;
    if (s && (c.priv < kPrivS || (c.priv == kPrivS && (c.mstatus & ms::SIE)))) take = s;
  }
  if (!take) return false;
  static const unsigned order[6] = {11, 3, 7, 9, 1, 5};
  for (unsigned code : order) {
    if ((take >> code) & 1) {
      take_trap(c, kIrqFlag | code, 0);
      return true;
    }
  }
  return false;
}

void do_mret(CpuImpl& c) {
  uint64_t s = c.mstatus;
  const Priv to = static_cast<Priv>((s >> ms::kMppShift) & 3);
  s = (s & ~ms::MIE) | ((s & ms::MPIE) ? ms::MIE : 0);
  s |= ms::MPIE;
  s &= ~ms::MPP;  // MPP = U, the least-privileged mode (§3.3.2)
  if (to != kPrivM) s &= ~ms::MPRV;
  c.mstatus = s;
  c.pc = c.mepc;
  c.resv_valid = false;  // xRET may clear the reservation (§3.3.2); we do
  set_priv(c, to);
}

void do_sret(CpuImpl& c) {
  uint64_t s = c.mstatus;
  const Priv to = (s & ms::SPP) ? kPrivS : kPrivU;
  s = (s & ~ms::SIE) | ((s & ms::SPIE) ? ms::SIE : 0);
  s |= ms::SPIE;
  s &= ~ms::SPP;
  s &= ~ms::MPRV;  // SRET never returns to M
  c.mstatus = s;
  c.pc = c.sepc;
  c.resv_valid = false;
  set_priv(c, to);
}

namespace {

constexpr uint64_t kSatpModeShift = 60;

// Reads CSR `csr`; false = it does not exist or may not be read from c.priv.
bool csr_read(CpuImpl& c, uint32_t csr, uint64_t* out) {
  // Fixed privilege check: bits 9:8 give the lowest privilege that may access.
  if (static_cast<unsigned>(c.priv) < ((csr >> 8) & 3)) return false;
  uint64_t v = 0;
  switch (csr) {
    // Floating point (FS = Off makes them illegal, §3.1.6.6).
    case 0x001: if (!(c.mstatus & ms::FS)) return false; v = c.fp.fflags & 0x1f; break;
    case 0x002: if (!(c.mstatus & ms::FS)) return false; v = c.fp.frm & 7; break;
    case 0x003: if (!(c.mstatus & ms::FS)) return false; v = ((c.fp.frm & 7) << 5) | (c.fp.fflags & 0x1f); break;
    // Zicntr.
    case 0xc00: if (!counter_allowed(c, 0)) return false; v = c.mcycle; break;
    case 0xc01: if (!counter_allowed(c, 1)) return false; v = c.host.mtime(); break;
    case 0xc02: if (!counter_allowed(c, 2)) return false; v = c.minstret; break;
    // Supervisor.
    case 0x100: v = with_sd(c.mstatus) & kSstatusMask; break;
    case 0x104: v = c.mie & c.mideleg; break;
    case 0x105: v = c.stvec; break;
    case 0x106: v = c.scounteren; break;
    case 0x10a: v = c.senvcfg; break;
    case 0x140: v = c.sscratch; break;
    case 0x141: v = c.sepc; break;
    case 0x142: v = c.scause; break;
    case 0x143: v = c.stval; break;
    case 0x144: v = read_mip(c) & c.mideleg; break;
    case 0x14d:  // stimecmp (Sstc): from S only when menvcfg.STCE and mcounteren.TM
      if (c.priv == kPrivS && (!(c.menvcfg & kMenvcfgSTCE) || !(c.mcounteren & 2))) return false;
      v = c.stimecmp;
      break;
    case 0x180:
      if (c.priv == kPrivS && (c.mstatus & ms::TVM)) return false;
      v = c.satp;
      break;
    // Machine information (read-only).
    case 0xf11: v = 0; break;  // mvendorid: non-commercial
    case 0xf12: v = 0; break;  // marchid
    case 0xf13: v = 0; break;  // mimpid
    case 0xf14: v = c.hartid; break;
    case 0xf15: v = 0; break;  // mconfigptr
    case 0x300: v = with_sd(c.mstatus); break;
    case 0x301: v = c.misa; break;
    case 0x302: v = c.medeleg; break;
    case 0x303: v = c.mideleg; break;
    case 0x304: v = c.mie; break;
    case 0x305: v = c.mtvec; break;
    case 0x306: v = c.mcounteren; break;
    case 0x30a: v = c.menvcfg; break;
    case 0x320: v = c.mcountinhibit; break;
    case 0x340: v = c.mscratch; break;
    case 0x341: v = c.mepc; break;
    case 0x342: v = c.mcause; break;
    case 0x343: v = c.mtval; break;
    case 0x344: v = read_mip(c); break;
    case 0xb00: v = c.mcycle; break;
    case 0xb02: v = c.minstret; break;
    // Sdtrig (debug spec 1.0 §5.7): the trigger CSRs exist so that software
    // can probe them without trapping, but no trigger is implemented: tselect
    // is WARL 0, tdata1 reads type 0 ("no trigger at this tselect", its fields
    // read-only), tdata2/tdata3 read zero, and tinfo reads 1 (only type 0).
    case 0x7a0: v = 0; break;  // tselect
    case 0x7a1: v = 0; break;  // tdata1
    case 0x7a2: v = 0; break;  // tdata2
    case 0x7a3: v = 0; break;  // tdata3
    case 0x7a4: v = 1; break;  // tinfo
    default:
      if (csr >= 0xc03 && csr <= 0xc1f) {  // hpmcounter3..31: read-only zero
        if (!counter_allowed(c, csr - 0xc00)) return false;
        v = 0;
      } else if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) {
        v = 0;  // mhpmcounter3..31, mhpmevent3..31: hardwired zero
      } else if (csr >= 0x3a0 && csr <= 0x3af) {  // pmpcfg: only even numbers exist in RV64
        if (csr & 1) return false;
        unsigned n = csr - 0x3a0;
        if (n < 4) {
          for (int i = 7; i >= 0; i--) v = (v << 8) | c.pmpcfg[n * 4 + i];
        }
      } else if (csr >= 0x3b0 && csr <= 0x3ef) {
        unsigned n = csr - 0x3b0;
        v = n < 16 ? c.pmpaddr[n] : 0;
      } else {
        return false;
      }
  }
  *out = v;
  return true;
}

void write_pmpcfg(CpuImpl& c, unsigned first, uint64_t v) {
  for (unsigned i = 0; i < 8; i++) {
    unsigned idx = first + i;
    if (idx >= 16) break;
    if (c.pmpcfg[idx] & 0x80) continue;  // locked entries ignore writes (§3.7.1)
    uint8_t b = static_cast<uint8_t>(v >> (8 * i)) & 0x9f;
    // R=0, W=1 is reserved: WARL, keep it out by clearing W.
    if ((b & 3) == 2) b &= ~2;
    c.pmpcfg[idx] = b;
  }
}

// Writes CSR `csr` (existence and privilege already checked by csr_read).
bool csr_write(CpuImpl& c, uint32_t csr, uint64_t v) {
  switch (csr) {
    case 0x001: c.fp.fflags = v & 0x1f; break;
    case 0x002: c.fp.frm = v & 7; break;
    case 0x003: c.fp.fflags = v & 0x1f; c.fp.frm = (v >> 5) & 7; break;
    case 0x100: write_mstatus(c, (c.mstatus & ~kSstatusWritable) | (v & kSstatusWritable)); break;
    case 0x104: c.mie = (c.mie & ~c.mideleg) | (v & c.mideleg & kMieWritable); recompute_mip(c); break;
    case 0x105: c.stvec = v & ~2ULL; break;
    case 0x106: c.scounteren = v & 0xffffffffULL; break;
    case 0x10a: c.senvcfg = 0; break;  // no fields implemented (WARL zero)
    case 0x140: c.sscratch = v; break;
    case 0x141: c.sepc = v & ~1ULL; break;
    case 0x142: c.scause = v; break;
    case 0x143: c.stval = v; break;
    case 0x144: {  // sip: only SSIP is writable from S (§4.1.3)
      const uint64_t mask = kMipSSIP & c.mideleg;
      c.mip_sw = (c.mip_sw & ~mask) | (v & mask);
      recompute_mip(c);
      break;
    }
    case 0x14d:
      c.stimecmp = v;
      poll_stimecmp(c, c.host.mtime());
      break;
    case 0x180: {
      // satp is WARL: a write with an unsupported MODE has no effect (§4.1.11).
      const uint64_t mode = v >> kSatpModeShift;
      if (mode != 0 && mode != 8 && mode != 9) break;
      c.satp = v & ((0xfULL << 60) | (0xffffULL << 44) | ((1ULL << 44) - 1));
      tlb_flush(c);
      update_keys(c);
      break;
    }
    case 0x300: write_mstatus(c, v); break;
    case 0x301: break;  // misa: writes ignored (the extensions cannot be turned off)
    case 0x302: c.medeleg = v & kMedelegWritable; break;
    case 0x303: c.mideleg = v & kMidelegWritable; recompute_mip(c); break;
    case 0x304: c.mie = v & kMieWritable; recompute_mip(c); break;
    case 0x305: c.mtvec = v & ~2ULL; break;
    case 0x306: c.mcounteren = v & 0xffffffffULL; break;
    case 0x30a:
      c.menvcfg = v & kMenvcfgSTCE;
      poll_stimecmp(c, c.host.mtime());
      break;
    case 0x320: c.mcountinhibit = v & ~2ULL & 0xffffffffULL; break;  // bit 1 (TM) is read-only zero
    case 0x340: c.mscratch = v; break;
    case 0x341: c.mepc = v & ~1ULL; break;
    case 0x342: c.mcause = v; break;
    case 0x343: c.mtval = v; break;
    case 0x344: {
      // From M, SSIP and SEIP are writable, and STIP unless Sstc drives it.
      uint64_t mask = kMipSSIP | kMipSEIP;
      if (!(c.menvcfg & kMenvcfgSTCE)) mask |= kMipSTIP;
      c.mip_sw = (c.mip_sw & ~mask) | (v & mask);
      recompute_mip(c);
      break;
    }
    // A CSR write takes effect after the writing instruction completes, so its
    // own retirement must not count on top of the written value.
    case 0xb00: c.mcycle = (c.mcountinhibit & 1) ? v : v - 1; break;
    case 0xb02: c.minstret = (c.mcountinhibit & 4) ? v : v - 1; break;
    case 0x7a0: case 0x7a1: case 0x7a2: case 0x7a3: break;  // no trigger: writes ignored (WARL)
    default:
      if (csr >= 0x3a0 && csr <= 0x3af) {
        unsigned n = csr - 0x3a0;
        if (n < 4) write_pmpcfg(c, n * 4, v);
        pmp_changed(c);
      } else if (csr >= 0x3b0 && csr <= 0x3bf) {
        unsigned n = csr - 0x3b0;
        // Locked entries, and the entry below a locked TOR entry, ignore writes.
        bool locked = (c.pmpcfg[n] & 0x80) ||
                      (n + 1 < 16 && (c.pmpcfg[n + 1] & 0x80) && ((c.pmpcfg[n + 1] >> 3) & 3) == 1);
        if (!locked) c.pmpaddr[n] = v & ((1ULL << 54) - 1);
        pmp_changed(c);
      }
      // Other existing CSRs (hpm counters/events, pmpaddr16..63) are read-only zero.
      break;
  }
  return true;
}

}  // namespace

// CSRRW/CSRRS/CSRRC and the immediate forms (unprivileged spec §9.1): rd = x0
// skips the read of CSRRW(I); rs1 = x0 / uimm = 0 skips the write of
// CSRRS(I)/CSRRC(I). Writing a read-only CSR (bits 11:10 = 3) is illegal.
bool exec_csr(CpuImpl& c, const DecodedInsn& d) {
  const uint32_t csr = static_cast<uint32_t>(d.imm) & 0xfff;
  const bool imm_form = d.op >= OP_CSRRWI;
  const uint64_t src = imm_form ? d.rs1 : c.x[d.rs1];
  const bool is_rw = d.op == OP_CSRRW || d.op == OP_CSRRWI;
  const bool writes = is_rw || d.rs1 != 0;
  uint64_t old = 0;
  if (!csr_read(c, csr, &old)) return false;
  if (writes) {
    if ((csr >> 10) == 3) return false;
    uint64_t base = old;
    // A read-modify-write of mip uses the software-writable SEIP/STIP bits,
    // not the interrupt lines OR-ed into the value read (§3.1.9).
    if (csr == 0x344) base = (old & ~(kMipSEIP | kMipSTIP)) | (c.mip_sw & (kMipSEIP | kMipSTIP));
    uint64_t nv;
    if (is_rw) nv = src;
    else if (d.op == OP_CSRRS || d.op == OP_CSRRSI) nv = base | src;
    else nv = base & ~src;
    // Touching the FP CSRs dirties the FP state (§3.1.6.6).
    if (csr <= 3) c.mstatus = with_sd(c.mstatus | ms::FS);
    csr_write(c, csr, nv);
  }
  if (d.rd != 0) c.x[d.rd] = old;
  return true;
}

}  // namespace vmsup
