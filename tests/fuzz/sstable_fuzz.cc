// Fuzz target: the SSTable reader (engine/lsm/sstable/table.h). The first
// byte picks the mode:
//   even: the rest is a whole table file, opened (footer, index, filter,
//         properties) and read every way a reader does (iterate both ways,
//         seek, get, verify checksums).
//   odd:  the rest describes a table: an options byte, a count of byte
//         mutations (u16 position, xor byte each), then entries (key chunk,
//         value chunk, sequence byte). The entries are sorted, built with
//         TableBuilder, mutated, and read the same way. Without mutations the
//         reader must return exactly the entries built.
// The file is served from memory (an io::RandomAccessFile over the bytes),
// so the reader sees exactly what a file with these bytes would give it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/table.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
namespace lsm = basalt::lsm;
namespace fuzz = basalt::fuzz;

namespace {

std::string LookupKey(std::string_view user_key) {
  std::string k;
  lsm::AppendInternalKey(&k, user_key, lsm::kMaxSequenceNumber, lsm::kValueKindForSeek);
  return k;
}

// Reads everything; returns the entries seen by a forward scan.
std::vector<std::pair<std::string, std::string>> ReadAll(const lsm::Table& t) {
  std::vector<std::pair<std::string, std::string>> seen;
  {
    std::unique_ptr<lsm::Iterator> it = t.NewIterator();
    for (it->SeekToFirst(); it->Valid() && seen.size() < 100000; it->Next()) {
      seen.emplace_back(std::string(it->key()), std::string(it->value()));
    }
    (void)it->status();
    size_t back = 0;
    for (it->SeekToLast(); it->Valid() && back < 100000; it->Prev()) back++;
    (void)it->status();
    for (size_t i = 0; i < seen.size() && i < 16; i++) {
      it->Seek(seen[i].first);
      if (it->Valid()) (void)it->key();
      if (seen[i].first.size() >= 8) it->Seek(LookupKey(lsm::ExtractUserKey(seen[i].first)));
    }
    it->Seek(LookupKey(""));
    it->Seek(LookupKey(std::string(9, '\xff')));
  }
  {
    std::unique_ptr<lsm::Iterator> it = t.NewIndexIterator();
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid() && n < 100000; it->Next()) n++;
    (void)it->status();
  }
  for (size_t i = 0; i < seen.size() && i < 16; i++) {
    if (seen[i].first.size() < 8) continue;
    std::string_view user = lsm::ExtractUserKey(seen[i].first);
    (void)t.KeyMayMatch(user);
    bool found = false;
    std::string ikey, value;
    (void)t.Get(LookupKey(user), &found, &ikey, &value);
    (void)t.ApproximateOffsetOf(seen[i].first);
  }
  bool found = false;
  std::string ikey, value;
  (void)t.Get(LookupKey("missing"), &found, &ikey, &value);
  (void)t.VerifyChecksums();
  (void)t.properties();
  return seen;
}

void OpenAndRead(std::string file, const std::vector<std::pair<std::string, std::string>>* want) {
  uint64_t size = file.size();
  std::unique_ptr<lsm::Table> table;
  Status s = lsm::Table::Open(std::make_unique<fuzz::MemFile>(std::move(file)), size, &table);
  if (want != nullptr) FUZZ_CHECK(s.ok(), "built table does not open: %s", s.ToString().c_str());
  if (!s.ok()) return;
  std::vector<std::pair<std::string, std::string>> seen = ReadAll(*table);
  if (want == nullptr) return;
  FUZZ_CHECK(seen == *want, "read back %zu entries, built %zu", seen.size(), want->size());
  FUZZ_CHECK(table->VerifyChecksums().ok());
  for (const auto& [k, v] : *want) {
    bool found = false;
    std::string ikey, value;
    Status g = table->Get(k, &found, &ikey, &value);
    FUZZ_CHECK(g.ok() && found && ikey == k && value == v, "Get of a built entry");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    OpenAndRead(std::string(in.Rest()), nullptr);
    return 0;
  }
  uint8_t opt = in.Byte();
  lsm::TableOptions options;
  options.block_size = 32u << (opt & 7);  // 32 B .. 4 KiB
  options.block_restart_interval = 1 + ((opt >> 3) & 15);
  options.bloom_bits_per_key = (opt & 0x80) ? 0 : 10;
  options.compression = (opt & 0x40) == 0 || (opt & 0x80) != 0;
  int mutations = in.Byte() % 8;
  std::vector<std::pair<uint16_t, uint8_t>> muts;
  for (int i = 0; i < mutations; i++) {
    uint16_t pos = in.U16();
    muts.emplace_back(pos, in.Byte());
  }
  std::vector<std::pair<std::string, std::string>> entries;
  while (!in.empty() && entries.size() < 2000) {
    std::string user(in.Chunk());
    std::string value(in.Chunk());
    uint8_t seq = in.Byte();
    std::string ikey;
    lsm::AppendInternalKey(&ikey, user, seq >> 1,
                           (seq & 1) ? lsm::ValueKind::kValue : lsm::ValueKind::kDelete);
    entries.emplace_back(std::move(ikey), std::move(value));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return lsm::CompareInternalKey(a.first, b.first) < 0;
  });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                entries.end());
  std::string file;
  {
    fuzz::MemWritableFile out(&file);
    lsm::TableBuilder b(options, &out);
    for (const auto& [k, v] : entries) b.Add(k, v);
    Status s = b.Finish();
    FUZZ_CHECK(s.ok(), "%s", s.ToString().c_str());
    FUZZ_CHECK(b.FileSize() == file.size());
  }
  bool mutated = false;
  for (const auto& [pos, x] : muts) {
    if (file.empty() || x == 0) continue;
    file[pos % file.size()] = static_cast<char>(file[pos % file.size()] ^ x);
    mutated = true;
  }
  OpenAndRead(std::move(file), mutated ? nullptr : &entries);
  return 0;
}
