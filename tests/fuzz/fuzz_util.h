// Helpers shared by the libFuzzer targets (tests/fuzz/*_fuzz.cc; docs/testing.md,
// "Fuzzing"): a cursor over the fuzzer's bytes, an in-memory file, a scratch
// directory made once per process, and FUZZ_CHECK, which aborts (a crash the
// fuzzer records) when a property of the code under test does not hold.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "engine/base/coding.h"
#include "engine/base/status.h"
#include "engine/io/env.h"

#define FUZZ_CHECK(cond, ...)                                                              \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, "" __VA_ARGS__);                                                \
      std::fprintf(stderr, "\n");                                                          \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace basalt::fuzz {

// Reads the fuzzer's input front to back; past the end every read gives 0 / "".
class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  bool empty() const { return rest_.empty(); }
  size_t size() const { return rest_.size(); }
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  std::string_view Bytes(size_t n) {
    n = std::min(n, rest_.size());
    std::string_view r = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return r;
  }
  // A length byte (0..254) then that many bytes; 255 takes a 16-bit length.
  std::string_view Chunk() {
    size_t n = Byte();
    if (n == 255) n = U16();
    return Bytes(n);
  }
  std::string_view Rest() { return Bytes(rest_.size()); }

 private:
  std::string_view rest_;
};

// A read-only file over bytes the caller keeps alive.
class MemFile : public io::RandomAccessFile {
 public:
  explicit MemFile(std::string data) : data_(std::move(data)) {}
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (offset > data_.size()) {
      *result = std::string_view();
      return Status::OK();
    }
    n = std::min<uint64_t>(n, data_.size() - offset);
    std::memcpy(scratch, data_.data() + offset, n);
    *result = std::string_view(scratch, n);
    return Status::OK();
  }
  uint64_t Size() const override { return data_.size(); }

 private:
  std::string data_;
};

// An append-only in-memory file (for building SSTables to read back).
class MemWritableFile : public io::WritableFile {
 public:
  explicit MemWritableFile(std::string* dst) : dst_(dst) {}
  Status Append(std::string_view data) override {
    dst_->append(data);
    return Status::OK();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (dst_->size() < offset + data.size()) dst_->resize(offset + data.size());
    dst_->replace(offset, data.size(), data);
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return dst_->size(); }

 private:
  std::string* dst_;
};

// A directory of this process's own under the temp dir, made on first use
// and removed at exit.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(
        (std::filesystem::temp_directory_path() / ("basalt_fuzz_" + std::to_string(getpid())))
            .string());
    std::filesystem::remove_all(*d);
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return d;
  }();
  return *dir;
}

}  // namespace basalt::fuzz

#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_writer.h"

namespace basalt::fuzz {

// A log file (WAL segment or manifest) built from the input, so that the
// payload decoders behind the record checksums get fuzzed too: a header
// record (the given magic, or a wrong one when the flags byte says so), then
// records whose payloads are input chunks (type byte 0-3), then optionally
// the file cut short by a few bytes or one byte flipped.
inline std::string BuildLogFile(Input* in, uint64_t magic) {
  uint8_t flags = in->Byte();
  std::string header;
  PutFixed64(&header, (flags & 1) ? magic ^ 1 : magic);
  PutFixed32(&header,
             (flags & 2) ? lsm::log::kEncryptedFormatVersion + 1 : lsm::log::kFormatVersion);
  PutFixed64(&header, 7);
  std::string file;
  lsm::log::EncodeRecord(&file, lsm::log::RecordType::kFileHeader, header);
  while (!in->empty()) {
    uint8_t type = in->Byte() & 3;
    std::string_view payload = in->Chunk();
    lsm::log::EncodeRecord(&file, static_cast<lsm::log::RecordType>(type == 0 ? 2 : type), payload);
  }
  if ((flags & 4) && !file.empty())
    file.resize(file.size() - std::min<size_t>(file.size(), flags >> 4));
  if ((flags & 8) && !file.empty()) {
    size_t pos = (static_cast<size_t>(flags) * 131) % file.size();
    file[pos] = static_cast<char>(file[pos] ^ 0x20);
  }
  return file;
}

// Writes bytes to path (a file in ScratchDir()).
inline void WriteFile(const std::string& path, std::string_view bytes) {
  Status s = io::WriteStringToFile(io::Env::Posix(), bytes, path, /*sync=*/false);
  FUZZ_CHECK(s.ok(), "%s", s.ToString().c_str());
}

}  // namespace basalt::fuzz
