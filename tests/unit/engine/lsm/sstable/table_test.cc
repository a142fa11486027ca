#include "engine/lsm/sstable/table.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/format.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

struct Entry {
  std::string ikey;
  std::string value;
};
using Model = std::vector<Entry>;

std::string RandomString(Random* rnd, size_t len) {
  std::string s(len, '\0');
  for (auto& c : s) c = static_cast<char>(rnd->Next());
  return s;
}

// Compressible: a few distinct bytes repeated.
std::string CompressibleString(Random* rnd, size_t len) {
  std::string s(len, '\0');
  const char base = static_cast<char>('a' + rnd->Uniform(4));
  for (size_t i = 0; i < len; i++) s[i] = static_cast<char>(base + (i % 8 == 0 ? 1 : 0));
  return s;
}

// num_user_keys distinct user keys, 1-4 versions each (distinct sequence
// numbers), about 1 in 5 a deletion. Sorted by internal key.
Model RandomModel(Random* rnd, size_t num_user_keys, bool compressible_values) {
  std::vector<std::string> users;
  for (size_t i = 0; i < num_user_keys; i++) {
    // A shared prefix keeps the prefix compression busy.
    std::string u = "user" + std::to_string(rnd->Uniform(num_user_keys * 10));
    u += RandomString(rnd, rnd->Uniform(6));
    users.push_back(std::move(u));
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  Model model;
  SequenceNumber seq = 1;
  for (const auto& u : users) {
    const int versions = 1 + static_cast<int>(rnd->Uniform(4));
    std::vector<SequenceNumber> seqs;
    for (int v = 0; v < versions; v++) seqs.push_back(seq += 1 + rnd->Uniform(3));
    std::sort(seqs.rbegin(), seqs.rend());  // newest first
    for (SequenceNumber s : seqs) {
      Entry e;
      const bool del = rnd->OneIn(5);
      AppendInternalKey(&e.ikey, u, s, del ? ValueKind::kDelete : ValueKind::kValue);
      if (!del) {
        const size_t len = rnd->Uniform(120);
        e.value = compressible_values ? CompressibleString(rnd, len) : RandomString(rnd, len);
      }
      model.push_back(std::move(e));
    }
  }
  return model;
}

uint64_t BuildTable(const std::string& path, const TableOptions& options, const Model& model,
                    TableProperties* props = nullptr) {
  io::Env* env = io::Env::Posix();
  std::unique_ptr<io::WritableFile> file;
  REQUIRE(env->NewWritableFile(path, &file).ok());
  TableBuilder builder(options, file.get());
  for (const auto& e : model) builder.Add(e.ikey, e.value);
  CHECK(builder.status().ok());
  CHECK(builder.NumEntries() == model.size());
  REQUIRE(builder.Finish().ok());
  REQUIRE(file->Sync().ok());
  REQUIRE(file->Close().ok());
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(path, &size).ok());
  CHECK(builder.FileSize() == size);
  if (props != nullptr) *props = builder.properties();
  return size;
}

Status OpenTable(const std::string& path, std::unique_ptr<Table>* table) {
  io::Env* env = io::Env::Posix();
  std::unique_ptr<io::RandomAccessFile> file;
  Status s = env->NewRandomAccessFile(path, &file);
  if (!s.ok()) return s;
  uint64_t size = 0;
  s = env->GetFileSize(path, &size);
  if (!s.ok()) return s;
  return Table::Open(std::move(file), size, table);
}

size_t LowerBound(const Model& model, std::string_view target) {
  auto it = std::lower_bound(
      model.begin(), model.end(), target,
      [](const Entry& e, std::string_view t) { return CompareInternalKey(e.ikey, t) < 0; });
  return static_cast<size_t>(it - model.begin());
}

void CheckTableContents(const Table& table, const Model& model, Random* rnd) {
  // Forward.
  auto it = table.NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), i++) {
    REQUIRE(i < model.size());
    REQUIRE(it->key() == model[i].ikey);
    REQUIRE(it->value() == model[i].value);
  }
  CHECK(i == model.size());
  CHECK(it->status().ok());

  // Backward (Prev across block boundaries).
  i = model.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    REQUIRE(i > 0);
    i--;
    REQUIRE(it->key() == model[i].ikey);
    REQUIRE(it->value() == model[i].value);
  }
  CHECK(i == 0);
  CHECK(it->status().ok());

  // Seek: to every key, and to random user keys at random snapshots.
  for (size_t j = 0; j < model.size(); j += 7) {
    it->Seek(model[j].ikey);
    REQUIRE(it->Valid());
    CHECK(it->key() == model[j].ikey);
  }
  for (int t = 0; t < 2000; t++) {
    std::string user;
    if (!model.empty() && rnd->OneIn(2)) {
      user = std::string(ExtractUserKey(model[rnd->Uniform(model.size())].ikey));
      if (rnd->OneIn(3)) user.push_back('\0');  // just after an existing key
    } else {
      user = "user" + std::to_string(rnd->Uniform(100000));
    }
    LookupKey lk(user, rnd->Uniform(model.size() * 4 + 10));
    const size_t want = LowerBound(model, lk.internal_key());
    it->Seek(lk.internal_key());
    if (want == model.size()) {
      CHECK_FALSE(it->Valid());
    } else {
      REQUIRE(it->Valid());
      CHECK(it->key() == model[want].ikey);
    }
  }

  // Random walk of Next/Prev from random seeks.
  if (!model.empty()) {
    size_t pos = rnd->Uniform(model.size());
    it->Seek(model[pos].ikey);
    for (int step = 0; step < 3000; step++) {
      if (!it->Valid()) {
        pos = rnd->Uniform(model.size());
        it->Seek(model[pos].ikey);
      }
      REQUIRE(it->Valid());
      REQUIRE(it->key() == model[pos].ikey);
      if (rnd->OneIn(2)) {
        it->Next();
        pos++;
      } else if (pos == 0) {
        it->Prev();
        CHECK_FALSE(it->Valid());
      } else {
        it->Prev();
        pos--;
      }
    }
  }
  CHECK(it->status().ok());
}

void CheckGets(const Table& table, const Model& model, Random* rnd) {
  // Present keys: each version looked up at its own sequence number and at
  // a snapshot between versions.
  for (const auto& e : model) {
    ParsedInternalKey p;
    REQUIRE(ParseInternalKey(e.ikey, &p));
    CHECK(table.KeyMayMatch(p.user_key));
    for (SequenceNumber snap : {p.sequence, p.sequence + 1}) {
      LookupKey lk(p.user_key, snap);
      const size_t want = LowerBound(model, lk.internal_key());
      bool found = false;
      std::string ikey, value;
      REQUIRE(table.Get(lk.internal_key(), &found, &ikey, &value).ok());
      const bool expect = want < model.size() && ExtractUserKey(model[want].ikey) == p.user_key;
      REQUIRE(found == expect);
      if (found) {
        CHECK(ikey == model[want].ikey);
        CHECK(value == model[want].value);
      }
    }
    // Below the oldest version of the key: nothing visible.
    LookupKey old(p.user_key, 0);
    const size_t want = LowerBound(model, old.internal_key());
    bool found = false;
    std::string ikey, value;
    REQUIRE(table.Get(old.internal_key(), &found, &ikey, &value).ok());
    CHECK(found == (want < model.size() && ExtractUserKey(model[want].ikey) == p.user_key));
  }
  // Absent keys.
  int absent_probes = 0;
  for (int t = 0; t < 3000; t++) {
    std::string user = "absent" + std::to_string(rnd->Next());
    if (rnd->OneIn(2) && !model.empty()) {
      user = std::string(ExtractUserKey(model[rnd->Uniform(model.size())].ikey)) + "\x01";
    }
    LookupKey lk(user, kMaxSequenceNumber);
    const size_t want = LowerBound(model, lk.internal_key());
    if (want < model.size() && ExtractUserKey(model[want].ikey) == user) continue;  // present
    absent_probes++;
    bool found = true;
    std::string ikey, value;
    REQUIRE(table.Get(lk.internal_key(), &found, &ikey, &value).ok());
    CHECK_FALSE(found);
  }
  CHECK(absent_probes > 0);
}

void WriteFile(const std::string& path, std::string_view data) {
  REQUIRE(io::WriteStringToFile(io::Env::Posix(), data, path, false).ok());
}

std::string ReadFile(const std::string& path) {
  std::string data;
  REQUIRE(io::ReadFileToString(io::Env::Posix(), path, &data).ok());
  return data;
}

}  // namespace

TEST_CASE("table: round trip across options (Get, iterate, Seek, VerifyChecksums)") {
  test::TempDir dir;
  Random rnd(401);
  struct Config {
    size_t block_size;
    int restart_interval;
    int bloom_bits;
    bool compression;
  };
  const Config configs[] = {
      {4096, 16, 10, true}, {4096, 16, 10, false}, {256, 1, 10, true}, {1024, 4, 0, false},
      {16384, 16, 5, true}, {64, 16, 10, false},   {1, 16, 10, true},
  };
  const Model model = RandomModel(&rnd, 5000, /*compressible_values=*/true);
  REQUIRE(model.size() >= 10000);
  uint64_t deletions = 0;
  for (const auto& e : model) {
    if ((ExtractTrailer(e.ikey) & 0xff) == 0) deletions++;
  }
  int n = 0;
  for (const Config& c : configs) {
    CAPTURE(c.block_size);
    CAPTURE(c.restart_interval);
    CAPTURE(c.bloom_bits);
    CAPTURE(c.compression);
    TableOptions options;
    options.block_size = c.block_size;
    options.block_restart_interval = c.restart_interval;
    options.bloom_bits_per_key = c.bloom_bits;
    options.compression = c.compression;
    const std::string path = dir.Sub("t" + std::to_string(n++) + ".sst");
    TableProperties built;
    const uint64_t size = BuildTable(path, options, model, &built);

    std::unique_ptr<Table> table;
    REQUIRE(OpenTable(path, &table).ok());
    CHECK(table->file_size() == size);
    const TableProperties& p = table->properties();
    CHECK(p.num_entries == model.size());
    CHECK(p.num_deletions == deletions);
    CHECK(p.smallest_key == model.front().ikey);
    CHECK(p.largest_key == model.back().ikey);
    CHECK(p.num_data_blocks == built.num_data_blocks);
    CHECK(p.data_bytes == built.data_bytes);
    CHECK(p.index_bytes == built.index_bytes);
    CHECK(p.filter_bytes == built.filter_bytes);
    CHECK(p.num_data_blocks > 0);
    CHECK((c.bloom_bits == 0) == (p.filter_bytes == 0));
    // Everything but the footer and the properties block is accounted for.
    CHECK(p.data_bytes + p.index_bytes + p.filter_bytes + Footer::kEncodedLength < size);
    uint64_t key_bytes = 0, value_bytes = 0;
    for (const auto& e : model) {
      key_bytes += e.ikey.size();
      value_bytes += e.value.size();
    }
    CHECK(p.raw_key_bytes == key_bytes);
    CHECK(p.raw_value_bytes == value_bytes);

    CHECK(table->VerifyChecksums().ok());
    CheckTableContents(*table, model, &rnd);
    CheckGets(*table, model, &rnd);
  }
}

TEST_CASE("table: empty table") {
  test::TempDir dir;
  Random rnd(402);
  const std::string path = dir.Sub("empty.sst");
  TableOptions options;
  BuildTable(path, options, {});
  std::unique_ptr<Table> table;
  REQUIRE(OpenTable(path, &table).ok());
  CHECK(table->properties().num_entries == 0);
  CHECK(table->VerifyChecksums().ok());
  auto it = table->NewIterator();
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  it->SeekToLast();
  CHECK_FALSE(it->Valid());
  it->Seek(LookupKey("k", 1).internal_key());
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
  bool found = true;
  std::string k, v;
  CHECK(table->Get(LookupKey("k", 1).internal_key(), &found, &k, &v).ok());
  CHECK_FALSE(found);
  CHECK_FALSE(table->KeyMayMatch("k"));
}

TEST_CASE("table: values larger than a block, and a single entry") {
  test::TempDir dir;
  Random rnd(403);
  Model model;
  for (int i = 0; i < 50; i++) {
    Entry e;
    AppendInternalKey(&e.ikey, "big" + std::to_string(1000 + i), 7, ValueKind::kValue);
    e.value = i % 2 ? RandomString(&rnd, 100000) : CompressibleString(&rnd, 200000);
    model.push_back(std::move(e));
  }
  for (bool compression : {false, true}) {
    TableOptions options;
    options.compression = compression;
    const std::string path = dir.Sub(compression ? "big_c.sst" : "big.sst");
    BuildTable(path, options, model);
    std::unique_ptr<Table> table;
    REQUIRE(OpenTable(path, &table).ok());
    CHECK(table->properties().num_data_blocks == 50);
    CHECK(table->VerifyChecksums().ok());
    CheckTableContents(*table, model, &rnd);
    CheckGets(*table, model, &rnd);
  }
  Model one(model.begin(), model.begin() + 1);
  one[0].value = "v";
  const std::string path = dir.Sub("one.sst");
  BuildTable(path, TableOptions{}, one);
  std::unique_ptr<Table> table;
  REQUIRE(OpenTable(path, &table).ok());
  CheckTableContents(*table, one, &rnd);
  CheckGets(*table, one, &rnd);
}

TEST_CASE("table: compressible values are compressed, random ones stored raw") {
  test::TempDir dir;
  Random rnd(404);
  for (bool compressible : {true, false}) {
    CAPTURE(compressible);
    const Model model = RandomModel(&rnd, 3000, compressible);
    TableOptions on, off;
    off.compression = false;
    const uint64_t size_on = BuildTable(dir.Sub("on.sst"), on, model);
    const uint64_t size_off = BuildTable(dir.Sub("off.sst"), off, model);
    MESSAGE((compressible ? "compressible" : "random")
            << " values: " << size_off << " bytes raw, " << size_on << " bytes with LZ4");
    if (compressible) {
      CHECK(size_on < size_off * 3 / 4);
    } else {
      CHECK(size_on <= size_off);
    }
    std::unique_ptr<Table> table;
    REQUIRE(OpenTable(dir.Sub("on.sst"), &table).ok());
    CHECK(table->VerifyChecksums().ok());
    CheckTableContents(*table, model, &rnd);
  }
}

TEST_CASE("table: a flipped byte anywhere is detected as corruption") {
  test::TempDir dir;
  Random rnd(405);
  const Model model = RandomModel(&rnd, 600, /*compressible_values=*/true);
  TableOptions options;
  options.block_size = 1024;
  const std::string good_path = dir.Sub("good.sst");
  BuildTable(good_path, options, model);
  const std::string good = ReadFile(good_path);

  // Every byte of the meta blocks and footer, and random data-block bytes.
  std::unique_ptr<Table> table;
  REQUIRE(OpenTable(good_path, &table).ok());
  const uint64_t meta_start = table->properties().data_bytes;
  table.reset();
  std::vector<size_t> positions;
  for (size_t pos = meta_start; pos < good.size(); pos++) positions.push_back(pos);
  for (int i = 0; i < 300; i++) positions.push_back(rnd.Uniform(meta_start));
  MESSAGE("flipping " << positions.size() << " positions of a " << good.size() << "-byte table");

  const std::string path = dir.Sub("bad.sst");
  int failed_at_open = 0, failed_at_verify = 0;
  for (size_t pos : positions) {
    CAPTURE(pos);
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 + rnd.Uniform(255)));
    WriteFile(path, bad);
    std::unique_ptr<Table> t;
    Status s = OpenTable(path, &t);
    if (!s.ok()) {
      CHECK(s.IsCorruption());
      CHECK(s.message().find("sstable") != std::string_view::npos);
      failed_at_open++;
      continue;
    }
    s = t->VerifyChecksums();
    CHECK(s.IsCorruption());
    failed_at_verify++;
    // Reads report it too (or at least never crash): a full scan touches
    // every data block.
    auto it = t->NewIterator();
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    CHECK(it->status().IsCorruption());
    CHECK(n < model.size());
    auto back = t->NewIterator();
    size_t m = 0;
    for (back->SeekToLast(); back->Valid(); back->Prev()) m++;
    CHECK(back->status().IsCorruption());
    CHECK(m < model.size());
    for (size_t j = 0; j < model.size(); j += 13) {
      bool found;
      std::string k, v;
      Status g = t->Get(model[j].ikey, &found, &k, &v);
      CHECK((g.ok() || g.IsCorruption()));
    }
  }
  MESSAGE("failed at Open: " << failed_at_open << ", at VerifyChecksums: " << failed_at_verify);
  CHECK(failed_at_open >= static_cast<int>(good.size() - meta_start));
}

TEST_CASE("table: truncated files fail Open with Corruption") {
  test::TempDir dir;
  Random rnd(406);
  const Model model = RandomModel(&rnd, 500, false);
  const std::string good_path = dir.Sub("good.sst");
  BuildTable(good_path, TableOptions{}, model);
  const std::string good = ReadFile(good_path);
  const std::string path = dir.Sub("short.sst");
  for (size_t len : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, good.size() / 2,
                     good.size() - 64, good.size() - 1}) {
    CAPTURE(len);
    WriteFile(path, std::string_view(good).substr(0, len));
    std::unique_ptr<Table> t;
    Status s = OpenTable(path, &t);
    CHECK(s.IsCorruption());
    CHECK(t == nullptr);
  }
}

TEST_CASE("table: footer checks name what failed") {
  test::TempDir dir;
  Random rnd(407);
  const std::string good_path = dir.Sub("good.sst");
  BuildTable(good_path, TableOptions{}, RandomModel(&rnd, 100, false));
  const std::string good = ReadFile(good_path);
  const size_t footer = good.size() - Footer::kEncodedLength;
  const std::string path = dir.Sub("bad.sst");
  auto open_with = [&](size_t pos, char x) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ x);
    WriteFile(path, bad);
    std::unique_ptr<Table> t;
    return OpenTable(path, &t);
  };
  Status s = open_with(footer + 56, 1);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("bad magic number") != std::string_view::npos);
  s = open_with(footer + 48, 2);  // version 1 -> 3 (2 is the encrypted format)
  CHECK(s.IsCorruption());
  CHECK(s.message() == "unsupported sstable format version 3");
  s = open_with(footer + 3, 1);
  CHECK(s.IsCorruption());
  CHECK(s.message() == "sstable: bad footer checksum");
  s = open_with(footer - 1, 1);  // last byte of the index block's checksum
  CHECK(s.IsCorruption());
  CHECK(s.message().find("bad block checksum at offset") != std::string_view::npos);
  CHECK(s.message().find("index block") != std::string_view::npos);

  // The magic number spells BASALTST at the very end of the file.
  CHECK(good.substr(good.size() - 8) == "BASALTST");
  CHECK(DecodeFixed32(good.data() + footer + 48) == kTableFormatVersion);
}

TEST_CASE("table: index separators stay between blocks") {
  Random rnd(408);
  auto ikey = [](std::string_view user, SequenceNumber seq) {
    std::string k;
    AppendInternalKey(&k, user, seq, ValueKind::kValue);
    return k;
  };
  // Fixed cases.
  std::string k = ikey("abcdef", 5);
  ShortenIndexSeparator(&k, ikey("abzzzz", 9));
  CHECK(ExtractUserKey(k) == "abd");
  CHECK(ExtractTrailer(k) == PackTrailer(kMaxSequenceNumber, kValueKindForSeek));
  k = ikey("abc", 5);
  ShortenIndexSeparator(&k, ikey("abc", 4));  // same user key: unchanged
  CHECK(k == ikey("abc", 5));
  k = ikey("ab", 5);
  ShortenIndexSeparator(&k, ikey("abc", 4));  // prefix: unchanged
  CHECK(k == ikey("ab", 5));
  k = ikey("abc1", 5);
  ShortenIndexSeparator(&k, ikey("abc2", 4));  // adjacent bytes: unchanged
  CHECK(k == ikey("abc1", 5));
  k = ikey(
      "\xff\xff"
      "abc",
      5);
  ShortenIndexSuccessor(&k);
  CHECK(ExtractUserKey(k) ==
        "\xff\xff"
        "b");
  k = ikey("\xff\xff", 5);
  ShortenIndexSuccessor(&k);
  CHECK(k == ikey("\xff\xff", 5));

  // Random pairs: start <= separator < limit; successor >= key.
  for (int i = 0; i < 20000; i++) {
    std::string a = RandomString(&rnd, rnd.Uniform(6));
    std::string b =
        rnd.OneIn(4) ? a + RandomString(&rnd, rnd.Uniform(3)) : RandomString(&rnd, rnd.Uniform(6));
    for (auto& c : a) c = static_cast<char>(c & 0x83);  // small alphabet
    for (auto& c : b) c = static_cast<char>(c & 0x83);
    std::string start = ikey(a, rnd.Uniform(100));
    std::string limit = ikey(b, rnd.Uniform(100));
    if (CompareInternalKey(start, limit) == 0) continue;
    if (CompareInternalKey(start, limit) > 0) std::swap(start, limit);
    std::string sep = start;
    ShortenIndexSeparator(&sep, limit);
    CHECK(CompareInternalKey(start, sep) <= 0);
    CHECK(CompareInternalKey(sep, limit) < 0);
    CHECK(sep.size() <= start.size());
    std::string succ = start;
    ShortenIndexSuccessor(&succ);
    CHECK(CompareInternalKey(start, succ) <= 0);
    CHECK(succ.size() <= start.size());
  }
}

TEST_CASE("table: format version 1 bytes are pinned") {
  // A tripwire for accidental format changes: a small deterministic table
  // (uncompressed: LZ4's output may differ between library versions) must
  // keep its exact bytes. If this fails on purpose, bump
  // kTableFormatVersion, update docs/format/sstable.md and keep reading v1.
  test::TempDir dir;
  Model model;
  for (int i = 0; i < 40; i++) {
    Entry e;
    AppendInternalKey(&e.ikey, "key" + std::to_string(100 + i), 1000 - i,
                      i % 5 == 0 ? ValueKind::kDelete : ValueKind::kValue);
    if (i % 5 != 0) e.value = "value" + std::to_string(i);
    model.push_back(std::move(e));
  }
  TableOptions options;
  options.block_size = 128;
  options.block_restart_interval = 4;
  options.compression = false;
  const std::string path = dir.Sub("pinned.sst");
  const uint64_t size = BuildTable(path, options, model);
  const std::string bytes = ReadFile(path);
  CAPTURE(Checksum(bytes));
  CHECK(size == 1262);
  CHECK(Checksum(bytes) == 9954903490447417859ull);
  std::unique_ptr<Table> table;
  REQUIRE(OpenTable(path, &table).ok());
  CHECK(table->VerifyChecksums().ok());
}
