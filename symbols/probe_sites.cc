#include "symbols/probe_sites.h"

#include <capstone/capstone.h>

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

absl::StatusOr<FunctionSites> FindProbeSites(const std::vector<CodeRange>& parts) {
  csh cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
    return absl::InternalError("capstone: cannot open an x86-64 disassembler");
  }
  absl::Cleanup close_cs = [&cs] { cs_close(&cs); };
  cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);

  FunctionSites out;
  std::set<uint64_t> branch_targets;
  std::vector<std::pair<uint64_t, std::string>> first_two;  // main body's first instructions
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
      if (part == 0 && first_two.size() < 2) first_two.emplace_back(insn->address, Text(*insn));
      const cs_x86& x86 = insn->detail->x86;
      if (insn->id == X86_INS_RET) {
        out.exits.push_back({insn->address, SiteKind::kReturn, Text(*insn)});
      } else if (IsJump(*insn)) {
        if (x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
          uint64_t target = static_cast<uint64_t>(x86.operands[0].imm);
          if (InParts(parts, target)) {
            branch_targets.insert(target);
          } else {
            out.exits.push_back({insn->address, SiteKind::kTailJump, Text(*insn)});
          }
        } else {
          out.exits.push_back({insn->address, SiteKind::kIndirectJump, Text(*insn)});
        }
      } else if (insn->id == X86_INS_CALL && x86.op_count == 1 &&
                 x86.operands[0].type == X86_OP_IMM) {
        // A call into our own body (rare; e.g. a thunk) is a branch target too.
        uint64_t target = static_cast<uint64_t>(x86.operands[0].imm);
        if (InParts(parts, target)) branch_targets.insert(target);
      }
    }
  }
  if (first_two.empty()) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat("no decodable instruction at 0x",
                                                absl::Hex(parts[0].vaddr))),
        ExitCode::kBadInput);
  }
  // endbr64 is never emulated by the kernel's uprobe code: every hit would be
  // single-stepped. The next instruction sees the same stack pointer.
  out.entry = {first_two[0].first, SiteKind::kEntry, first_two[0].second};
  bool next_is_exit = false;
  for (const Site& exit : out.exits) next_is_exit |= first_two.size() == 2 && exit.vaddr == first_two[1].first;
  if (first_two[0].second == "endbr64" && first_two.size() == 2 && !next_is_exit &&
      branch_targets.count(first_two[1].first) == 0) {
    out.entry = {first_two[1].first, SiteKind::kEntry, first_two[1].second};
  }
  return out;
}

}  // namespace gridprobe::symbols
