// The hart's save/restore and the narrow accessors the SBI uses (hart.h).
// Architectural state only: the TLB, the decode cache and the fetch page cache
// are rebuilt from scratch after a restore, as after a power-on reset.
#include <cstring>

#include "cpu/cpu_impl.h"
#include "snapshot/snap_io.h"

namespace vmsup {

namespace {

constexpr uint32_t kHartStateVersion = 1;

// mstatus bits that may be set at all (csr.cc's writable set, plus the
// read-only UXL = SXL = 2 and the derived SD), privileged spec §3.1.6.
constexpr uint64_t kMstatusLegal = ms::SIE | ms::MIE | ms::SPIE | ms::MPIE | ms::SPP | ms::MPP | ms::FS |
                                   ms::MPRV | ms::SUM | ms::MXR | ms::TVM | ms::TW | ms::TSR | ms::UXL |
                                   ms::SXL | ms::SD;
constexpr uint64_t kMieLegal = kMipSSIP | kMipMSIP | kMipSTIP | kMipMTIP | kMipSEIP | kMipMEIP;
constexpr uint64_t kSatpModeShift = 60;

// The scalar CSRs in file order (one list, so save and restore cannot drift).
#define VMSUP_HART_CSRS(X)                                                                  \
  X(mstatus) X(misa) X(medeleg) X(mideleg) X(mie) X(mtvec) X(mscratch) X(mepc) X(mcause)    \
  X(mtval) X(mcounteren) X(mcountinhibit) X(menvcfg) X(stvec) X(sscratch) X(sepc) X(scause) \
  X(stval) X(scounteren) X(senvcfg) X(satp) X(minstret) X(mcycle) X(retired_total)           \
  X(irq_lines) X(mip_sw) X(stimecmp)

}  // namespace

bool Hart::ram_contains(uint64_t pa, uint64_t len) const { return impl_->mem.check_range(pa, len); }

void Hart::raise_sw_irq(uint64_t mip_bit) {
  CpuImpl& c = *impl_;
  c.mip_sw |= mip_bit & (kMipSSIP | kMipSTIP | kMipSEIP);
  recompute_mip(c);  // also wakes the hart from WFI
}

void Hart::prepare_supervisor(uint64_t mideleg, uint64_t medeleg, uint32_t mcounteren, uint32_t scounteren,
                              bool sstc) {
  CpuImpl& c = *impl_;
  c.mideleg = mideleg;
  c.medeleg = medeleg;
  c.mcounteren = mcounteren;
  c.scounteren = scounteren;
  if (sstc) c.menvcfg |= kMenvcfgSTCE;
  recompute_mip(c);
}

void Hart::save_state(SnapOut& o) const {
  const CpuImpl& c = *impl_;
  o.u32(kHartStateVersion);
  o.u32(c.hartid);
  for (unsigned i = 0; i < 32; i++) o.u64(i == 0 ? 0 : c.x[i]);
  o.u64(c.pc);
  o.u8(static_cast<uint8_t>(c.priv));
  o.u8(static_cast<uint8_t>(c.state));
  for (unsigned i = 0; i < 32; i++) o.u64(c.fp.f[i]);
  o.u32(c.fp.fflags);
  o.u32(c.fp.frm);
#define X(f) o.u64(c.f);
  VMSUP_HART_CSRS(X)
#undef X
  o.boolean(c.stimecmp_host);
  o.boolean(c.stip_timer);
  for (unsigned i = 0; i < 16; i++) o.u64(c.pmpaddr[i]);
  o.raw(c.pmpcfg, 16);
}

bool Hart::restore_state(SnapIn& in) {
  CpuImpl& c = *impl_;
  if (in.u32() != kHartStateVersion) return in.fail("hart state: unknown version");
  if (in.u32() != c.hartid) return in.fail("hart state: hart id does not match");
  uint64_t x[32];
  for (unsigned i = 0; i < 32; i++) x[i] = in.u64();
  const uint64_t pc = in.u64();
  const uint8_t priv = in.u8(), state = in.u8();
  FpState fp{};
  for (unsigned i = 0; i < 32; i++) fp.f[i] = in.u64();
  fp.fflags = in.u32();
  fp.frm = in.u32();
  struct {
#define X(f) uint64_t f;
    VMSUP_HART_CSRS(X)
#undef X
  } r{};
#define X(f) r.f = in.u64();
  VMSUP_HART_CSRS(X)
#undef X
  const bool stimecmp_host = in.boolean(), stip_timer = in.boolean();
  uint64_t pmpaddr[16];
  uint8_t pmpcfg[16];
  for (unsigned i = 0; i < 16; i++) pmpaddr[i] = in.u64();
  in.raw(pmpcfg, 16);
  if (!in.ok()) return false;

  // Validation: each value must be one a guest (or the firmware) could have
  // put there through the CSR instructions (privileged spec §3.1, §4.1).
  if (x[0] != 0) return in.fail("hart state: x0 is not zero");
  if (priv != kPrivU && priv != kPrivS && priv != kPrivM) return in.fail("hart state: reserved privilege level");
  if (state > static_cast<uint8_t>(HartState::kStopped)) return in.fail("hart state: unknown run state");
  if (pc & 1) return in.fail("hart state: misaligned pc");
  if (fp.fflags > 0x1f || fp.frm > 7) return in.fail("hart state: fcsr out of range");
  if (r.misa != c.misa) return in.fail("hart state: misa differs from this CPU's");
  if ((r.mstatus & ~kMstatusLegal) || ((r.mstatus >> 32) & 3) != 2 || ((r.mstatus >> 34) & 3) != 2 ||
      ((r.mstatus & ms::MPP) >> ms::kMppShift) == 2)
    return in.fail("hart state: illegal mstatus");
  if (r.mie & ~kMieLegal) return in.fail("hart state: illegal mie");
  if (r.mideleg & ~(kMipSSIP | kMipSTIP | kMipSEIP)) return in.fail("hart state: illegal mideleg");
  if (r.medeleg & ~0xb3ffULL) return in.fail("hart state: illegal medeleg");
  if (r.irq_lines & ~kMieLegal) return in.fail("hart state: illegal interrupt lines");
  if (r.mip_sw & ~(kMipSSIP | kMipSTIP | kMipSEIP)) return in.fail("hart state: illegal software mip bits");
  const uint64_t mode = r.satp >> kSatpModeShift;
  if (mode != 0 && mode != 8 && mode != 9) return in.fail("hart state: satp mode the MMU does not implement");
  if ((r.mtvec & 3) > 1 || (r.stvec & 3) > 1) return in.fail("hart state: reserved trap-vector mode");
  if ((r.mepc & 1) || (r.sepc & 1)) return in.fail("hart state: misaligned xepc");
  if (r.mcounteren >> 32 || r.scounteren >> 32) return in.fail("hart state: counter enables out of range");
  if (r.senvcfg != 0 || (r.menvcfg & ~kMenvcfgSTCE)) return in.fail("hart state: unimplemented envcfg bits");
  for (unsigned i = 0; i < 16; i++) {
    if ((pmpcfg[i] & 0x60) || (pmpcfg[i] & 3) == 2) return in.fail("hart state: reserved pmpcfg value");
    if (pmpaddr[i] >> 54) return in.fail("hart state: pmpaddr out of range");
  }

  // Apply: a reset first empties the TLB and the decode cache.
  cpu_reset(c, pc, kPrivM);
  std::memcpy(c.x, x, sizeof(x));
  c.x[32] = 0;
  c.fp = fp;
#define X(f) c.f = r.f;
  VMSUP_HART_CSRS(X)
#undef X
  c.stimecmp_host = stimecmp_host;
  c.stip_timer = stip_timer;
  std::memcpy(c.pmpaddr, pmpaddr, sizeof(pmpaddr));
  std::memcpy(c.pmpcfg, pmpcfg, sizeof(pmpcfg));
  c.priv = static_cast<Priv>(priv);
  c.state = static_cast<HartState>(state);
  c.resv_valid = false;
  pmp_changed(c);  // recomputes pmp_active and flushes the TLB (updates the keys)
  recompute_mip(c);

  // The pc of a hart that will run must fetch from RAM: a translation that
  // leads into MMIO (or nowhere) is a corrupted file, not a guest state. A
  // translation fault is a legal state (the guest takes the page fault).
  if (c.state != HartState::kStopped) {
    uint64_t pa = pc;
    const bool translated = mmu_translate(c, pc, Access::kFetch, &pa);
    c.exc_cause = 0;
    c.exc_tval = 0;
    if (translated && !c.mem.check_range(pa, 2)) return in.fail("hart state: the pc lies outside RAM (in MMIO or unmapped)");
  }
  return true;
}

}  // namespace vmsup
