#include "symbols/elf_file.h"

#include <cxxabi.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "symbols/target_file.h"

namespace gridprobe::symbols {
namespace {

Elf* AsElf(void* p) { return static_cast<Elf*>(p); }

absl::Status ElfError(const std::string& path, absl::string_view what) {
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat(path, ": ", what, ": ", elf_errmsg(-1))),
      ExitCode::kBadInput);
}

}  // namespace

std::string Demangle(const std::string& name) {
  if (name.size() < 2 || name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string result(out);
  std::free(out);
  return result;
}

absl::StatusOr<std::unique_ptr<ElfFile>> ElfFile::Open(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return absl::InternalError("libelf is too old for this ELF version");
  }
  std::unique_ptr<ElfFile> file(new ElfFile());
  file->path_ = path;
  GP_ASSIGN_OR_RETURN(file->fd_, OpenForReading(path));
  struct stat st;
  if (fstat(file->fd_, &st) != 0) {
    return ErrnoError(errno, absl::StrCat("stat ", path), ExitCode::kFailure);
  }
  file->dev_ = static_cast<uint64_t>(st.st_dev);
  file->inode_ = static_cast<uint64_t>(st.st_ino);
  file->file_size_ = static_cast<uint64_t>(st.st_size);
  file->elf_ = elf_begin(file->fd_, ELF_C_READ, nullptr);
  if (file->elf_ == nullptr || elf_kind(AsElf(file->elf_)) != ELF_K_ELF) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(path, " is not an ELF file")),
                        ExitCode::kBadInput);
  }
  GP_RETURN_IF_ERROR(file->Index());
  return file;
}

ElfFile::~ElfFile() {
  if (elf_ != nullptr) elf_end(AsElf(elf_));
  if (fd_ >= 0) close(fd_);
}

absl::Status ElfFile::Index() {
  Elf* elf = AsElf(elf_);
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) return ElfError(path_, "read ELF header");
  if (ehdr.e_machine != EM_X86_64) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(path_, " is not an x86-64 binary")),
        ExitCode::kBadInput);
  }
  is_dyn_ = ehdr.e_type == ET_DYN;

  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return ElfError(path_, "read program headers");
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, static_cast<int>(i), &ph) == nullptr) continue;
    if (ph.p_type != PT_LOAD) continue;
    segments_.push_back(LoadSegment{ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz,
                                    (ph.p_flags & PF_X) != 0});
  }

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return ElfError(path_, "read section names");
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    if (const char* name = elf_strptr(elf, shstrndx, sh.sh_name)) {
      sections_.insert(name);
      std::string n = name;
      if (n == ".plt" || n == ".plt.sec" || n == ".plt.got") {
        plt_ranges_.emplace_back(sh.sh_addr, sh.sh_addr + sh.sh_size);
      }
    }
    if (sh.sh_type == SHT_RELA) {
      // GOT slots the PLT stubs jump through, and whom they are bound to.
      Elf_Data* data = elf_getdata(scn, nullptr);
      Elf_Scn* symscn = elf_getscn(elf, sh.sh_link);
      GElf_Shdr symsh;
      Elf_Data* syms = symscn ? elf_getdata(symscn, nullptr) : nullptr;
      size_t count = data != nullptr && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
      for (size_t i = 0; data != nullptr && syms != nullptr && i < count; ++i) {
        GElf_Rela rela;
        if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) continue;
        uint64_t type = GELF_R_TYPE(rela.r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
        GElf_Sym sym;
        if (gelf_getsym(syms, static_cast<int>(GELF_R_SYM(rela.r_info)), &sym) == nullptr ||
            gelf_getshdr(symscn, &symsh) == nullptr) {
          continue;
        }
        if (const char* name = elf_strptr(elf, symsh.sh_link, sym.st_name)) {
          if (*name) got_slots_[rela.r_offset] = name;
        }
      }
    }
    if (sh.sh_type == SHT_NOTE && build_id_.empty()) {
      Elf_Data* data = elf_getdata(scn, nullptr);
      GElf_Nhdr note;
      size_t name_off = 0, desc_off = 0;
      for (size_t off = 0;
           data != nullptr && (off = gelf_getnote(data, off, &note, &name_off, &desc_off)) > 0;) {
        const char* base = static_cast<const char*>(data->d_buf);
        if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
            std::memcmp(base + name_off, "GNU", 4) == 0) {
          build_id_ = absl::BytesToHexString(absl::string_view(base + desc_off, note.n_descsz));
          break;
        }
      }
    }
    const char* section = elf_strptr(elf, shstrndx, sh.sh_name);
    if (section != nullptr && std::strcmp(section, ".gnu_debuglink") == 0 && !has_debuglink_) {
      // A NUL-terminated file name, padded to 4 bytes, then its CRC-32.
      has_debuglink_ = true;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data != nullptr && data->d_size >= 8) {
        const char* base = static_cast<const char*>(data->d_buf);
        size_t len = strnlen(base, data->d_size);
        size_t crc_at = (len + 4) & ~size_t{3};
        if (len > 0 && crc_at + 4 <= data->d_size) {
          debuglink_.assign(base, len);
          std::memcpy(&debuglink_crc_, base + crc_at, 4);
        }
      }
    }
    if (sh.sh_type == SHT_DYNAMIC) {
      Elf_Data* data = elf_getdata(scn, nullptr);
      size_t count = data != nullptr && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
      for (size_t i = 0; data != nullptr && i < count; ++i) {
        GElf_Dyn dyn;
        if (gelf_getdyn(data, static_cast<int>(i), &dyn) == nullptr) continue;
        if (dyn.d_tag != DT_NEEDED) continue;
        if (const char* lib = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val)) needed_.push_back(lib);
      }
    }
  }

  // .symtab first: it has the local symbols (and .cold parts); .dynsym adds
  // what a stripped file still exports.
  std::set<std::pair<std::string, uint64_t>> seen;
  for (int pass = 0; pass < 2; ++pass) {
    const Elf64_Word wanted = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != wanted) continue;
      if (wanted == SHT_SYMTAB) has_symtab_ = true;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr || sh.sh_entsize == 0) continue;
      size_t count = data->d_size / sh.sh_entsize;
      for (size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
        int type = GELF_ST_TYPE(sym.st_info);
        if (wanted == SHT_DYNSYM && sym.st_shndx == SHN_UNDEF && sym.st_name != 0) {
          if (const char* name = elf_strptr(elf, sh.sh_link, sym.st_name)) imports_.insert(name);
          continue;
        }
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_value == 0 ||
            sym.st_shndx == SHN_UNDEF) {
          continue;
        }
        const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
        if (name == nullptr || *name == '\0') continue;
        if (!seen.emplace(name, sym.st_value).second) continue;
        int bind = GELF_ST_BIND(sym.st_info);
        ElfSymbol s;
        s.name = name;
        s.demangled = Demangle(s.name);
        s.vaddr = sym.st_value;
        s.size = sym.st_size;
        s.ifunc = type == STT_GNU_IFUNC;
        s.global = bind == STB_GLOBAL || bind == STB_WEAK;
        s.from_dynsym = wanted == SHT_DYNSYM;
        if (sym.st_shndx < SHN_LORESERVE) {
          GElf_Shdr home;
          Elf_Scn* home_scn = elf_getscn(elf, sym.st_shndx);
          if (home_scn != nullptr && gelf_getshdr(home_scn, &home) != nullptr &&
              home.sh_addr + home.sh_size >= home.sh_addr) {
            s.section_end = home.sh_addr + home.sh_size;
          }
        }
        functions_.push_back(std::move(s));
      }
    }
  }
  SortByAddress();
  return absl::OkStatus();
}

void ElfFile::SortByAddress() {
  by_address_.clear();
  for (const ElfSymbol& f : functions_) {
    if (f.size > 0) by_address_.push_back(&f);
  }
  std::sort(by_address_.begin(), by_address_.end(),
            [](const ElfSymbol* a, const ElfSymbol* b) { return a->vaddr < b->vaddr; });
}

void ElfFile::MergeSymbolsFrom(const ElfFile& debug) {
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const ElfSymbol& f : functions_) seen.emplace(f.name, f.vaddr);
  for (const ElfSymbol& f : debug.functions()) {
    if (!f.from_dynsym && seen.emplace(f.name, f.vaddr).second) functions_.push_back(f);
  }
  has_symtab_ = has_symtab_ || debug.has_symtab();
  debug_file_ = debug.path();
  SortByAddress();
}

const ElfSymbol* ElfFile::FunctionAt(uint64_t vaddr) const {
  auto it = std::upper_bound(by_address_.begin(), by_address_.end(), vaddr,
                             [](uint64_t v, const ElfSymbol* s) { return v < s->vaddr; });
  if (it == by_address_.begin()) return nullptr;
  const ElfSymbol* s = *(it - 1);
  return vaddr - s->vaddr < s->size ? s : nullptr;
}

bool ElfFile::InPlt(uint64_t vaddr) const {
  for (const auto& [start, end] : plt_ranges_) {
    if (vaddr >= start && vaddr < end) return true;
  }
  return false;
}

std::string ElfFile::PltTarget(uint64_t vaddr) const {
  // A stub is "[endbr64;] [bnd] jmp *disp(%rip); ...": find the jmp in its
  // first 16 bytes and the slot it reads.
  absl::StatusOr<std::vector<uint8_t>> bytes = ReadAt(vaddr, 16);
  if (!bytes.ok()) return "";
  for (size_t i = 0; i + 6 <= bytes->size(); ++i) {
    if ((*bytes)[i] != 0xff || (*bytes)[i + 1] != 0x25) continue;
    int32_t disp = 0;
    std::memcpy(&disp, bytes->data() + i + 2, sizeof(disp));
    uint64_t slot = vaddr + i + 6 + static_cast<int64_t>(disp);
    auto it = got_slots_.find(slot);
    return it == got_slots_.end() ? "" : it->second;
  }
  return "";
}

uint64_t ElfFile::VaddrOfOffset(uint64_t offset) const {
  for (const LoadSegment& seg : segments_) {
    if (offset >= seg.offset && offset < seg.offset + seg.filesz) {
      return offset - seg.offset + seg.vaddr;
    }
  }
  return 0;
}

absl::StatusOr<uint64_t> ElfFile::FileOffset(uint64_t vaddr) const {
  for (const LoadSegment& seg : segments_) {
    if (vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.filesz) {
      return vaddr - seg.vaddr + seg.offset;
    }
  }
  return WithExitCode(absl::NotFoundError(absl::StrFormat(
                          "%s: address 0x%x is in no loadable segment", path_, vaddr)),
                      ExitCode::kBadInput);
}

absl::StatusOr<uint32_t> ElfFile::Crc32() const {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<uint8_t> buf(1 << 16);
  for (off_t at = 0;;) {
    ssize_t n = pread(fd_, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, absl::StrCat("read ", path_), ExitCode::kFailure);
    if (n == 0) break;
    crc = crc32(crc, buf.data(), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

uint64_t ElfFile::BytesAt(uint64_t vaddr) const {
  for (const LoadSegment& seg : segments_) {
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) {
      const uint64_t offset = vaddr - seg.vaddr + seg.offset;
      const uint64_t in_file = offset < file_size_ ? file_size_ - offset : 0;
      return std::min(seg.filesz - (vaddr - seg.vaddr), in_file);
    }
  }
  return 0;
}

absl::StatusOr<std::vector<uint8_t>> ElfFile::ReadAt(uint64_t vaddr, uint64_t size) const {
  GP_ASSIGN_OR_RETURN(uint64_t offset, FileOffset(vaddr));
  if (const uint64_t held = BytesAt(vaddr); size > held) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrFormat(
                            "%s: %d bytes at 0x%x run past its loadable segment or the file "
                            "(%d bytes there)",
                            path_, size, vaddr, held)),
                        ExitCode::kBadInput);
  }
  std::vector<uint8_t> bytes(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd_, bytes.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, absl::StrCat("read ", path_), ExitCode::kFailure);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

absl::StatusOr<std::vector<uint8_t>> ElfFile::ReadSymbol(const ElfSymbol& sym) const {
  auto bad = [&](const std::string& why) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrFormat(
                            "%s: symbol %s claims %d bytes at 0x%x, but %s: the file is damaged "
                            "or crafted",
                            path_, sym.name, sym.size, sym.vaddr, why)),
                        ExitCode::kBadInput);
  };
  if (sym.section_end != 0 &&
      (sym.vaddr > sym.section_end || sym.size > sym.section_end - sym.vaddr)) {
    return bad(absl::StrFormat("its section ends at 0x%x", sym.section_end));
  }
  if (const uint64_t held = BytesAt(sym.vaddr); sym.size > held) {
    return bad(absl::StrFormat("its segment and the file hold %d bytes there", held));
  }
  return ReadAt(sym.vaddr, sym.size);
}

}  // namespace gridprobe::symbols
