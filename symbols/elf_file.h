// Symbols and layout of one ELF file, read with libelf.
#ifndef GRIDPROBE_SYMBOLS_ELF_FILE_H_
#define GRIDPROBE_SYMBOLS_ELF_FILE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gridprobe::symbols {

struct ElfSymbol {
  std::string name;       // as stored (mangled for C++)
  std::string demangled;  // equal to name when it is not a C++ name
  uint64_t vaddr = 0;
  uint64_t size = 0;
  bool ifunc = false;     // STT_GNU_IFUNC: the address is the resolver's
  bool global = false;    // STB_GLOBAL or STB_WEAK
  bool from_dynsym = false;
  // End address of the section the symbol is in (0: not known): a size
  // claiming more is a damaged or crafted file.
  uint64_t section_end = 0;
};

struct LoadSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  bool executable = false;
};

class ElfFile {
 public:
  // Opens and indexes `path`, a regular file; a path into a target's root
  // (/proc/PID/root/...) is resolved inside that root (OpenForReading in
  // target_file.h). Errors name the path.
  static absl::StatusOr<std::unique_ptr<ElfFile>> Open(const std::string& path);
  ~ElfFile();
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  const std::string& path() const { return path_; }
  // Function symbols (STT_FUNC and STT_GNU_IFUNC) with a non-zero address, from
  // .symtab and .dynsym; a symbol present in both is listed once.
  const std::vector<ElfSymbol>& functions() const { return functions_; }
  bool has_symtab() const { return has_symtab_; }
  // The GNU build-id note in hex ("" without one), and the .gnu_debuglink
  // file name and CRC-32 ("" and 0 without one): how a stripped file names
  // its separate debug file.
  const std::string& build_id() const { return build_id_; }
  const std::string& debuglink() const { return debuglink_; }
  // Whether the file has a .gnu_debuglink section, even one whose name is
  // empty or cannot be read (then debuglink() is "").
  bool has_debuglink() const { return has_debuglink_; }
  uint32_t debuglink_crc() const { return debuglink_crc_; }
  // Adds the function symbols of `debug`, this file's separate debug file
  // (its .symtab; its code sections are empty), and remembers its path.
  // REQUIRES: `debug` describes this file (same build-id or debuglink CRC).
  void MergeSymbolsFrom(const ElfFile& debug);
  // The debug file merged in, or "".
  const std::string& debug_file() const { return debug_file_; }
  bool is_shared_or_pie() const { return is_dyn_; }
  const std::vector<LoadSegment>& segments() const { return segments_; }
  // Names of the functions and objects the file imports (undefined .dynsym
  // symbols, version suffix dropped): "__cxa_throw", "longjmp".
  const std::set<std::string>& imports() const { return imports_; }
  // DT_NEEDED entries: "libstdc++.so.6".
  const std::vector<std::string>& needed() const { return needed_; }
  // Section names present in the file: ".gcc_except_table".
  bool HasSection(const std::string& name) const { return sections_.count(name) > 0; }
  // Whether `vaddr` lies in one of the PLT sections (.plt, .plt.sec,
  // .plt.got): a call there is a call to an imported function.
  bool InPlt(uint64_t vaddr) const;
  // The symbol a PLT stub at `vaddr` jumps to (through its GOT slot's
  // JUMP_SLOT or GLOB_DAT relocation): "qsort", or this file's own exported
  // "deflateInit_". "" when the stub cannot be read.
  std::string PltTarget(uint64_t vaddr) const;

  // The function symbol whose range holds `vaddr`, or nullptr.
  const ElfSymbol* FunctionAt(uint64_t vaddr) const;
  // The address a file offset is loaded at (inverse of FileOffset), or 0.
  uint64_t VaddrOfOffset(uint64_t offset) const;

  // File offset of virtual address `vaddr`: what a uprobe is attached at.
  // Uses the PT_LOAD segment that contains it, so unusual layouts (offset !=
  // vaddr, prelinked bases) are handled.
  absl::StatusOr<uint64_t> FileOffset(uint64_t vaddr) const;
  // The bytes of [vaddr, vaddr+size) as the file holds them. The range must
  // lie in one loadable segment's file bytes and in the file: a size read from
  // the file is never trusted to allocate (kBadInput otherwise).
  absl::StatusOr<std::vector<uint8_t>> ReadAt(uint64_t vaddr, uint64_t size) const;
  // The code of function `sym`, bounded like ReadAt and by its section; an
  // error names the file and the symbol.
  absl::StatusOr<std::vector<uint8_t>> ReadSymbol(const ElfSymbol& sym) const;
  // The file actually opened (fstat): its device (as stat's st_dev), inode
  // and size. A path names another file once it is replaced; these do not.
  uint64_t dev() const { return dev_; }
  uint64_t inode() const { return inode_; }
  uint64_t file_size() const { return file_size_; }
  // CRC-32 of the whole file as opened (what .gnu_debuglink records).
  absl::StatusOr<uint32_t> Crc32() const;

 private:
  ElfFile() = default;
  absl::Status Index();
  // How many bytes of one loadable segment the file holds from `vaddr` on.
  uint64_t BytesAt(uint64_t vaddr) const;
  void SortByAddress();

  std::string path_;
  int fd_ = -1;
  uint64_t dev_ = 0;
  uint64_t inode_ = 0;
  uint64_t file_size_ = 0;
  void* elf_ = nullptr;  // Elf*, kept opaque so libelf stays out of the header
  bool has_symtab_ = false;
  bool is_dyn_ = false;
  std::string build_id_;
  std::string debuglink_;
  bool has_debuglink_ = false;
  uint32_t debuglink_crc_ = 0;
  std::string debug_file_;
  std::vector<ElfSymbol> functions_;
  std::vector<const ElfSymbol*> by_address_;  // sized functions, sorted by vaddr
  std::vector<LoadSegment> segments_;
  std::set<std::string> imports_;
  std::vector<std::string> needed_;
  std::set<std::string> sections_;
  std::vector<std::pair<uint64_t, uint64_t>> plt_ranges_;  // [start, end)
  std::map<uint64_t, std::string> got_slots_;               // GOT slot -> symbol
};

// Demangles an Itanium C++ name; returns `name` unchanged when it is not one.
std::string Demangle(const std::string& name);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_ELF_FILE_H_
