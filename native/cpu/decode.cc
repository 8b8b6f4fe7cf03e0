// The instruction decoder: RV64IMAFDC + Zicsr + Zifencei (unprivileged spec
// ch. 2, 5, 7, 8, 9, 10, 11, 12, 16; privileged spec ch. 3.3, 4.2). It turns a
// raw instruction into a DecodedInsn once; the interpreter runs the decoded form
// out of its cache. Compressed instructions (ch. 16, "C" standard extension for
// RV64) decode straight to the operation of their 32-bit expansion.
#include "cpu/cpu_impl.h"

namespace vmsup {

namespace {

inline uint32_t bits(uint32_t v, int hi, int lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
inline int32_t sext(uint32_t v, int width) {
  return static_cast<int32_t>(v << (32 - width)) >> (32 - width);
}
inline uint8_t rd_of(uint32_t r) {  // x0 destinations go to the sink register
  uint8_t rd = bits(r, 11, 7);
  return rd == 0 ? 32 : rd;
}

void set(DecodedInsn* d, Op op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm) {
  d->op = op;
  d->rd = rd == 0 ? 32 : static_cast<uint8_t>(rd);
  d->rs1 = static_cast<uint8_t>(rs1);
  d->rs2 = static_cast<uint8_t>(rs2);
  d->imm = imm;
}

void decode32(uint32_t r, DecodedInsn* d) {
  const uint32_t opc = r & 0x7f;
  const uint32_t f3 = bits(r, 14, 12);
  const uint32_t f7 = bits(r, 31, 25);
  const uint8_t rd = rd_of(r);
  const uint8_t rs1 = bits(r, 19, 15);
  const uint8_t rs2 = bits(r, 24, 20);
  const int32_t imm_i = static_cast<int32_t>(r) >> 20;
  const int32_t imm_s = (static_cast<int32_t>(r) >> 25 << 5) | static_cast<int32_t>(bits(r, 11, 7));
  const int32_t imm_b = sext((bits(r, 31, 31) << 12) | (bits(r, 7, 7) << 11) |
                                 (bits(r, 30, 25) << 5) | (bits(r, 11, 8) << 1), 13);
  const int32_t imm_u = static_cast<int32_t>(r & 0xfffff000u);
  const int32_t imm_j = sext((bits(r, 31, 31) << 20) | (bits(r, 19, 12) << 12) |
                                 (bits(r, 20, 20) << 11) | (bits(r, 30, 21) << 1), 21);
  d->op = OP_ILLEGAL;
  d->rd = rd;
  d->rs1 = rs1;
  d->rs2 = rs2;
  d->imm = 0;
  switch (opc) {
    case 0x37: d->op = OP_LUI; d->imm = imm_u; return;
    case 0x17: d->op = OP_AUIPC; d->imm = imm_u; return;
    case 0x6f: d->op = OP_JAL; d->imm = imm_j; return;
    case 0x67:
      if (f3 == 0) { d->op = OP_JALR; d->imm = imm_i; }
      return;
    case 0x63: {
      static const Op ops[8] = {OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU};
      d->op = ops[f3];
      d->imm = imm_b;
      return;
    }
    case 0x03: {
      static const Op ops[8] = {OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL};
      d->op = ops[f3];
      d->imm = imm_i;
      return;
    }
    case 0x23: {
      static const Op ops[8] = {OP_SB, OP_SH, OP_SW, OP_SD, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL};
      d->op = ops[f3];
      d->imm = imm_s;
      return;
    }
    case 0x13:
      d->imm = imm_i;
      switch (f3) {
        case 0: d->op = OP_ADDI; return;
        case 1:
          if (bits(r, 31, 26) == 0) { d->op = OP_SLLI; d->imm = bits(r, 25, 20); }
          return;
        case 2: d->op = OP_SLTI; return;
        case 3: d->op = OP_SLTIU; return;
        case 4: d->op = OP_XORI; return;
        case 5:
          if (bits(r, 31, 26) == 0) { d->op = OP_SRLI; d->imm = bits(r, 25, 20); }
          else if (bits(r, 31, 26) == 0x10) { d->op = OP_SRAI; d->imm = bits(r, 25, 20); }
          return;
        case 6: d->op = OP_ORI; return;
        case 7: d->op = OP_ANDI; return;
      }
      return;
    case 0x1b:
      switch (f3) {
        case 0: d->op = OP_ADDIW; d->imm = imm_i; return;
        case 1:
          if (f7 == 0) { d->op = OP_SLLIW; d->imm = rs2; }
          return;
        case 5:
          if (f7 == 0) { d->op = OP_SRLIW; d->imm = rs2; }
          else if (f7 == 0x20) { d->op = OP_SRAIW; d->imm = rs2; }
          return;
      }
      return;
    case 0x33:
      if (f7 == 0) {
        static const Op ops[8] = {OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND};
        d->op = ops[f3];
      } else if (f7 == 0x20) {
        if (f3 == 0) d->op = OP_SUB;
        else if (f3 == 5) d->op = OP_SRA;
      } else if (f7 == 1) {
        static const Op ops[8] = {OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU};
        d->op = ops[f3];
      }
      return;
    case 0x3b:
      if (f7 == 0) {
        if (f3 == 0) d->op = OP_ADDW;
        else if (f3 == 1) d->op = OP_SLLW;
        else if (f3 == 5) d->op = OP_SRLW;
      } else if (f7 == 0x20) {
        if (f3 == 0) d->op = OP_SUBW;
        else if (f3 == 5) d->op = OP_SRAW;
      } else if (f7 == 1) {
        static const Op ops[8] = {OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW};
        d->op = ops[f3];
      }
      return;
    case 0x0f:
      // FENCE ignores its unused fields (they are hints); FENCE.I too (Zifencei §3).
      if (f3 == 0) d->op = OP_FENCE;
      else if (f3 == 1) d->op = OP_FENCE_I;
      return;
    case 0x73:
      if (f3 == 0) {
        if (r == 0x00000073) d->op = OP_ECALL;
        else if (r == 0x00100073) d->op = OP_EBREAK;
        else if (r == 0x10200073) d->op = OP_SRET;
        else if (r == 0x30200073) d->op = OP_MRET;
        else if (r == 0x10500073) d->op = OP_WFI;
        else if (f7 == 0x09 && bits(r, 11, 7) == 0) d->op = OP_SFENCE_VMA;
        return;
      }
      {
        static const Op ops[8] = {OP_ILLEGAL, OP_CSRRW, OP_CSRRS, OP_CSRRC, OP_ILLEGAL, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI};
        d->op = ops[f3];
        d->imm = static_cast<int32_t>(bits(r, 31, 20));  // the CSR number
        d->rd = bits(r, 11, 7);  // exec_csr needs to know whether rd is x0
      }
      return;
    case 0x2f: {
      if (f3 != 2 && f3 != 3) return;
      const uint32_t f5 = bits(r, 31, 27);
      const bool dw = f3 == 3;
      if (f5 == 0x02) {
        if (rs2 == 0) d->op = dw ? OP_LR_D : OP_LR_W;
      } else if (f5 == 0x03) {
        d->op = dw ? OP_SC_D : OP_SC_W;
      } else if (f5 == 0x01 || f5 == 0x00 || f5 == 0x04 || f5 == 0x0c || f5 == 0x08 ||
                 f5 == 0x10 || f5 == 0x14 || f5 == 0x18 || f5 == 0x1c) {
        d->op = dw ? OP_AMO_D : OP_AMO_W;
        d->imm = static_cast<int32_t>(f5);
      }
      return;
    }
    case 0x07:
      if (f3 == 2) d->op = OP_FLW;
      else if (f3 == 3) d->op = OP_FLD;
      else return;
      d->rd = bits(r, 11, 7);  // an f register: no sink
      d->imm = imm_i;
      return;
    case 0x27:
      if (f3 == 2) d->op = OP_FSW;
      else if (f3 == 3) d->op = OP_FSD;
      else return;
      d->imm = imm_s;
      return;
    case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53:
      d->op = OP_FP;
      return;
  }
}

// Compressed (RVC) decoding, unprivileged spec §16.3-16.7, table 16.4-16.6 (RV64).
void decode16(uint32_t r, DecodedInsn* d) {
  const uint32_t q = r & 3;
  const uint32_t f3 = bits(r, 15, 13);
  const unsigned rdp = 8 + bits(r, 4, 2);   // rd'/rs2'
  const unsigned rs1p = 8 + bits(r, 9, 7);  // rs1'/rd'
  const unsigned rd = bits(r, 11, 7);
  const unsigned rs2 = bits(r, 6, 2);
  d->op = OP_ILLEGAL;
  d->rd = 32;
  d->rs1 = 0;
  d->rs2 = 0;
  d->imm = 0;
  const int32_t ci_imm = sext((bits(r, 12, 12) << 5) | bits(r, 6, 2), 6);
  const uint32_t uimm_w = (bits(r, 12, 10) << 3) | (bits(r, 6, 6) << 2) | (bits(r, 5, 5) << 6);
  const uint32_t uimm_d = (bits(r, 12, 10) << 3) | (bits(r, 6, 5) << 6);
  if (q == 0) {
    switch (f3) {
      case 0: {  // C.ADDI4SPN
        uint32_t imm = (bits(r, 12, 11) << 4) | (bits(r, 10, 7) << 6) | (bits(r, 6, 6) << 2) | (bits(r, 5, 5) << 3);
        if (imm != 0) set(d, OP_ADDI, rdp, 2, 0, imm);
        return;
      }
      case 1: set(d, OP_FLD, 0, rs1p, 0, uimm_d); d->rd = rdp; return;
      case 2: set(d, OP_LW, rdp, rs1p, 0, uimm_w); return;
      case 3: set(d, OP_LD, rdp, rs1p, 0, uimm_d); return;
      case 5: set(d, OP_FSD, 0, rs1p, rdp, uimm_d); return;
      case 6: set(d, OP_SW, 0, rs1p, rdp, uimm_w); return;
      case 7: set(d, OP_SD, 0, rs1p, rdp, uimm_d); return;
    }
    return;
  }
  if (q == 1) {
    switch (f3) {
      case 0: set(d, OP_ADDI, rd, rd, 0, ci_imm); return;  // C.ADDI (C.NOP when rd = 0)
      case 1:
        if (rd != 0) set(d, OP_ADDIW, rd, rd, 0, ci_imm);  // C.ADDIW
        return;
      case 2: set(d, OP_ADDI, rd, 0, 0, ci_imm); return;  // C.LI
      case 3:
        if (rd == 2) {  // C.ADDI16SP
          int32_t imm = sext((bits(r, 12, 12) << 9) | (bits(r, 6, 6) << 4) | (bits(r, 5, 5) << 6) |
                                 (bits(r, 4, 3) << 7) | (bits(r, 2, 2) << 5), 10);
          if (imm != 0) set(d, OP_ADDI, 2, 2, 0, imm);
        } else {  // C.LUI
          int32_t imm = sext((bits(r, 12, 12) << 17) | (bits(r, 6, 2) << 12), 18);
          if (imm != 0) set(d, OP_LUI, rd, 0, 0, imm);
        }
        return;
      case 4: {
        const uint32_t shamt = (bits(r, 12, 12) << 5) | bits(r, 6, 2);
        switch (bits(r, 11, 10)) {
          case 0: set(d, OP_SRLI, rs1p, rs1p, 0, shamt); return;
          case 1: set(d, OP_SRAI, rs1p, rs1p, 0, shamt); return;
          case 2: set(d, OP_ANDI, rs1p, rs1p, 0, ci_imm); return;
          case 3: {
            static const Op ops[8] = {OP_SUB, OP_XOR, OP_OR, OP_AND, OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL};
            Op op = ops[(bits(r, 12, 12) << 2) | bits(r, 6, 5)];
            if (op != OP_ILLEGAL) set(d, op, rs1p, rs1p, rdp, 0);
            return;
          }
        }
        return;
      }
      case 5: {  // C.J
        int32_t imm = sext((bits(r, 12, 12) << 11) | (bits(r, 11, 11) << 4) | (bits(r, 10, 9) << 8) |
                               (bits(r, 8, 8) << 10) | (bits(r, 7, 7) << 6) | (bits(r, 6, 6) << 7) |
                               (bits(r, 5, 3) << 1) | (bits(r, 2, 2) << 5), 12);
        set(d, OP_JAL, 0, 0, 0, imm);
        return;
      }
      case 6:
      case 7: {  // C.BEQZ, C.BNEZ
        int32_t imm = sext((bits(r, 12, 12) << 8) | (bits(r, 11, 10) << 3) | (bits(r, 6, 5) << 6) |
                               (bits(r, 4, 3) << 1) | (bits(r, 2, 2) << 5), 9);
        set(d, f3 == 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0, imm);
        return;
      }
    }
    return;
  }
  // q == 2
  switch (f3) {
    case 0: set(d, OP_SLLI, rd, rd, 0, (bits(r, 12, 12) << 5) | bits(r, 6, 2)); return;
    case 1:  // C.FLDSP
      set(d, OP_FLD, 0, 2, 0, (bits(r, 12, 12) << 5) | (bits(r, 6, 5) << 3) | (bits(r, 4, 2) << 6));
      d->rd = rd;
      return;
    case 2:  // C.LWSP
      if (rd != 0) set(d, OP_LW, rd, 2, 0, (bits(r, 12, 12) << 5) | (bits(r, 6, 4) << 2) | (bits(r, 3, 2) << 6));
      return;
    case 3:  // C.LDSP
      if (rd != 0) set(d, OP_LD, rd, 2, 0, (bits(r, 12, 12) << 5) | (bits(r, 6, 5) << 3) | (bits(r, 4, 2) << 6));
      return;
    case 4:
      if (bits(r, 12, 12) == 0) {
        if (rs2 == 0) {
          if (rd != 0) set(d, OP_JALR, 0, rd, 0, 0);  // C.JR
        } else {
          set(d, OP_ADD, rd, 0, rs2, 0);  // C.MV
        }
      } else {
        if (rs2 == 0) {
          if (rd == 0) d->op = OP_EBREAK;        // C.EBREAK
          else set(d, OP_JALR, 1, rd, 0, 0);     // C.JALR
        } else {
          set(d, OP_ADD, rd, rd, rs2, 0);  // C.ADD
        }
      }
      return;
    case 5: set(d, OP_FSD, 0, 2, rs2, (bits(r, 12, 10) << 3) | (bits(r, 9, 7) << 6)); return;
    case 6: set(d, OP_SW, 0, 2, rs2, (bits(r, 12, 9) << 2) | (bits(r, 8, 7) << 6)); return;
    case 7: set(d, OP_SD, 0, 2, rs2, (bits(r, 12, 10) << 3) | (bits(r, 9, 7) << 6)); return;
  }
}

}  // namespace

void decode_insn(uint32_t raw, DecodedInsn* d) {
  d->raw = raw;
  if ((raw & 3) != 3) {
    decode16(raw & 0xffff, d);
    d->hl = 2;
  } else {
    // Bits [4:2] = 111 start a longer (48-bit+) encoding, which we do not implement.
    if ((raw & 0x1c) == 0x1c) {
      d->op = OP_ILLEGAL;
      d->rd = 32;
      d->rs1 = d->rs2 = 0;
      d->imm = 0;
    } else {
      decode32(raw, d);
    }
    d->hl = 4;
  }
}

}  // namespace vmsup
