#include "symbols/probe_sites.h"

#include <capstone/capstone.h>

#include <cctype>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace gridprobe::symbols {
namespace {

bool InParts(const std::vector<CodeRange>& parts, uint64_t addr) {
  for (const CodeRange& r : parts) {
    if (addr >= r.vaddr && addr < r.vaddr + r.bytes.size()) return true;
  }
  return false;
}

bool IsJump(const cs_insn& insn) {
  for (uint8_t i = 0; i < insn.detail->groups_count; ++i) {
    if (insn.detail->groups[i] == CS_GRP_JUMP) return true;
  }
  return false;
}

std::string Text(const cs_insn& insn) {
  return insn.op_str[0] ? absl::StrCat(insn.mnemonic, " ", insn.op_str) : insn.mnemonic;
}

}  // namespace

const char* SiteKindName(SiteKind kind) {
  switch (kind) {
    case SiteKind::kEntry: return "entry";
    case SiteKind::kReturn: return "return";
    case SiteKind::kTailJump: return "tail-jump";
    case SiteKind::kIndirectJump: return "indirect-jump";
  }
  return "?";
}

std::string InsnClass(const std::string& mnemonic) {
  if (mnemonic.empty()) return mnemonic;
  if (mnemonic[0] == 'j' && mnemonic != "jmp") return "jcc";
  if (mnemonic.rfind("nop", 0) == 0) return "nop";
  if (mnemonic.rfind("notrack ", 0) == 0) return InsnClass(mnemonic.substr(8));
  return mnemonic;
}

namespace {

struct Decoded {
  uint64_t addr = 0;
  std::string text;
  std::string cls;
  bool branch = false;           // jump, call or ret: the entry block ends here
  std::set<std::string> writes;  // registers written, capstone names ("edi", "rsp")
};

// The 64-bit register a (sub)register belongs to: "edi" -> "rdi".
std::string FullRegister(std::string r) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"edi", "rdi"}, {"di", "rdi"}, {"dil", "rdi"}, {"esi", "rsi"}, {"si", "rsi"},
      {"sil", "rsi"}, {"edx", "rdx"}, {"dx", "rdx"}, {"dl", "rdx"}, {"dh", "rdx"},
      {"ecx", "rcx"}, {"cx", "rcx"}, {"cl", "rcx"}, {"ch", "rcx"}, {"esp", "rsp"},
      {"sp", "rsp"}, {"spl", "rsp"}, {"eax", "rax"}, {"ax", "rax"}, {"al", "rax"}};
  for (const auto& [alias, full] : kAliases) {
    if (r == alias) return full;
  }
  if (r.size() >= 3 && r[0] == 'r' && (r.back() == 'd' || r.back() == 'w' || r.back() == 'b') &&
      std::isdigit(static_cast<unsigned char>(r[1]))) {
    r.pop_back();  // r8d -> r8
  }
  return r;
}

Site ChooseEntry(const std::vector<Decoded>& body, const std::set<uint64_t>& branch_targets,
                 const EntryPolicy& policy, const std::set<uint64_t>& exit_addrs,
                 bool* emulated) {
  std::set<std::string> protect = {"rsp"};
  for (const std::string& r : policy.needed_regs) protect.insert(FullRegister(r));
  for (size_t i = 0; i < body.size(); ++i) {
    const Decoded& d = body[i];
    if (i > 0 && (branch_targets.count(d.addr) || exit_addrs.count(d.addr))) break;
    if (policy.emulated.count(d.cls)) {
      *emulated = true;
      return {d.addr, SiteKind::kEntry, d.text};
    }
    if (d.branch) break;
    bool clobbers = false;
    for (const std::string& w : d.writes) clobbers |= protect.count(FullRegister(w)) > 0;
    if (clobbers) break;
  }
  *emulated = false;
  return {body[0].addr, SiteKind::kEntry, body[0].text};
}

}  // namespace

absl::StatusOr<FunctionSites> FindProbeSites(const std::vector<CodeRange>& parts,
                                             const EntryPolicy& policy) {
  csh cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
    return absl::InternalError("capstone: cannot open an x86-64 disassembler");
  }
  absl::Cleanup close_cs = [&cs] { cs_close(&cs); };
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);

  FunctionSites out;
  std::set<uint64_t> branch_targets;
  std::vector<Decoded> body;  // the main part, in order
  cs_insn* insn = cs_malloc(cs);
  absl::Cleanup free_insn = [insn] { cs_free(insn, 1); };

  for (size_t part = 0; part < parts.size(); ++part) {
    const uint8_t* code = parts[part].bytes.data();
    size_t size = parts[part].bytes.size();
    uint64_t addr = parts[part].vaddr;
    while (size > 0) {
      if (!cs_disasm_iter(cs, &code, &size, &addr, insn)) {
        // Padding or data inside the symbol's range: step over one byte.
        ++out.undecoded_bytes;
        ++code;
        --size;
        ++addr;
        continue;
      }
      const cs_x86& x86 = insn->detail->x86;
      bool jump = IsJump(*insn);
      bool is_call = insn->id == X86_INS_CALL;
      bool is_ret = insn->id == X86_INS_RET;
      if (part == 0) {
        Decoded d;
        d.addr = insn->address;
        d.text = Text(*insn);
        d.cls = InsnClass(insn->mnemonic);
        d.branch = jump || is_call || is_ret;
        cs_regs regs_read, regs_write;
        uint8_t n_read = 0, n_write = 0;
        if (cs_regs_access(cs, insn, regs_read, &n_read, regs_write, &n_write) == CS_ERR_OK) {
          for (uint8_t i = 0; i < n_write; ++i) d.writes.insert(cs_reg_name(cs, regs_write[i]));
        }
        body.push_back(std::move(d));
      }
      if (is_ret) {
        out.exits.push_back({insn->address, SiteKind::kReturn, Text(*insn)});
      } else if (jump) {
        if (x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
          uint64_t target = static_cast<uint64_t>(x86.operands[0].imm);
          if (InParts(parts, target)) {
            branch_targets.insert(target);
          } else {
            out.exits.push_back({insn->address, SiteKind::kTailJump, Text(*insn)});
            out.callees.insert(target);
          }
        } else {
          out.exits.push_back({insn->address, SiteKind::kIndirectJump, Text(*insn)});
        }
      } else if (is_call && x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
        // A call into our own body (rare; e.g. a thunk) is a branch target too.
        uint64_t target = static_cast<uint64_t>(x86.operands[0].imm);
        if (target == parts[0].vaddr) {
          out.calls_itself = true;
        } else if (InParts(parts, target)) {
          branch_targets.insert(target);
        } else {
          ++out.direct_calls;
          out.callees.insert(target);
        }
      } else if (is_call) {
        ++out.indirect_calls;
      }
    }
  }
  if (body.empty()) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat("no decodable instruction at 0x",
                                                absl::Hex(parts[0].vaddr))),
        ExitCode::kBadInput);
  }
  std::set<uint64_t> exit_addrs;
  for (const Site& e : out.exits) exit_addrs.insert(e.vaddr);
  out.entry = ChooseEntry(body, branch_targets, policy, exit_addrs, &out.entry_emulated);
  return out;
}

}  // namespace gridprobe::symbols
