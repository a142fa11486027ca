#include "engine/lsm/index/block_index.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version.h"
#include "tests/testutil/sst_file.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

struct Entry {
  std::string ikey;
  std::string value;
};

std::string IKey(std::string_view user, SequenceNumber seq, ValueKind kind = kValueKindForSeek) {
  std::string k;
  AppendInternalKey(&k, user, seq, kind);
  return k;
}

bool EntryLess(const Entry& a, const Entry& b) { return CompareInternalKey(a.ikey, b.ikey) < 0; }

// Writes entries (sorted) as an SSTable with small blocks and opens it as a
// TableFile with its block index leaves.
std::shared_ptr<TableFile> MakeFile(const test::TempDir& dir, uint64_t number,
                                    const std::vector<Entry>& entries, size_t fanout) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const Entry& e : entries) pairs.emplace_back(e.ikey, e.value);
  // Small blocks: many per file.
  const std::shared_ptr<TableFile> plain = test::WriteSstFile(dir, number, pairs, 256);
  const Table& table = *plain->table;
  const FileMetaData& meta = plain->meta;
  std::shared_ptr<const FileBlockIndex> leaves;
  REQUIRE(FileBlockIndex::Build(table, meta.largest, &leaves, fanout).ok());
  CHECK(leaves->num_blocks() == table.properties().num_data_blocks);
  CHECK(leaves->num_blocks() > 1);
  return std::make_shared<TableFile>(meta, plain->table, plain->env, plain->path,
                                     std::move(leaves));
}

// Sorted entries over n random user keys: 1-3 versions each, about one in
// 40 with 30 versions (spans blocks), one in 6 versions a deletion.
std::vector<Entry> RandomEntries(Random* rnd, size_t n, SequenceNumber* seq) {
  std::vector<std::string> users;
  for (size_t i = 0; i < n; i++) {
    std::string u = "u" + std::to_string(rnd->Uniform(100000));
    for (uint64_t j = rnd->Uniform(4); j > 0; j--) u.push_back(static_cast<char>(rnd->Next()));
    users.push_back(std::move(u));
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<Entry> r;
  for (const auto& u : users) {
    const uint64_t versions = rnd->OneIn(40) ? 30 : 1 + rnd->Uniform(3);
    for (uint64_t v = 0; v < versions; v++) {
      const bool del = rnd->OneIn(6);
      r.push_back({IKey(u, ++*seq, del ? ValueKind::kDelete : ValueKind::kValue),
                   del ? std::string() : std::string(1 + rnd->Uniform(40), 'v') + u});
    }
  }
  std::sort(r.begin(), r.end(), EntryLess);
  return r;
}

// Cuts sorted entries into files at random entry positions, so a user key's
// versions may span two adjacent files.
std::vector<std::vector<Entry>> Cut(Random* rnd, const std::vector<Entry>& all, size_t files) {
  std::vector<size_t> cuts = {0, all.size()};
  while (cuts.size() < files + 1) {
    const size_t c = 1 + rnd->Uniform(all.size() - 1);
    if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
  }
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::vector<Entry>> r;
  for (size_t i = 0; i + 1 < cuts.size(); i++) {
    r.emplace_back(all.begin() + static_cast<long>(cuts[i]),
                   all.begin() + static_cast<long>(cuts[i + 1]));
  }
  return r;
}

// Lookup keys that probe every edge of the files: each entry, each raw
// separator (including the last, unclamped one), file bounds and their
// neighbours, gaps between files, before the first and after the last key,
// and random user keys at random sequence numbers.
std::vector<std::string> Probes(Random* rnd, const std::vector<std::shared_ptr<TableFile>>& files,
                                const std::vector<Entry>& entries) {
  std::vector<std::string> r;
  for (const Entry& e : entries) r.push_back(e.ikey);
  for (const auto& f : files) {
    auto it = f->table->NewIndexIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) r.emplace_back(it->key());
    REQUIRE(it->status().ok());
    for (const std::string* b : {&f->meta.smallest, &f->meta.largest}) {
      const std::string_view u = ExtractUserKey(*b);
      const SequenceNumber s = ExtractTrailer(*b) >> 8;
      r.push_back(IKey(u, s + 1));
      r.push_back(IKey(u, s - 1));
      r.push_back(IKey(u, kMaxSequenceNumber));
      r.push_back(IKey(u, 0, ValueKind::kDelete));
      r.push_back(IKey(std::string(u) + '\0', kMaxSequenceNumber));  // just past u
    }
  }
  r.push_back(IKey("", kMaxSequenceNumber));
  r.push_back(IKey("\xff\xff\xff", 0));
  for (int i = 0; i < 2000; i++) {
    const SequenceNumber s = rnd->Uniform(200000);
    if (rnd->OneIn(2) && !entries.empty()) {
      r.push_back(IKey(ExtractUserKey(entries[rnd->Uniform(entries.size())].ikey), s));
    } else {
      r.push_back(IKey("u" + std::to_string(rnd->Uniform(100000)), s));
    }
  }
  return r;
}

// Brute force for a level >= 1: the first file whose largest key >= ikey
// (ranges are sorted), then that table's own index seek.
bool ExpectedInLevel(const std::vector<std::shared_ptr<TableFile>>& files, std::string_view ikey,
                     const TableFile** file, BlockHandle* handle) {
  for (const auto& f : files) {
    if (CompareInternalKey(f->meta.largest, ikey) < 0) continue;
    *file = f.get();
    REQUIRE(f->table->FindDataBlock(ikey, handle).ok());
    return true;
  }
  return false;
}

// What Table::Get semantics give over a level's sorted entries: the first
// entry >= ikey if it has ikey's user key.
const Entry* ModelGet(const std::vector<Entry>& entries, std::string_view ikey) {
  auto it = std::lower_bound(
      entries.begin(), entries.end(), ikey,
      [](const Entry& e, std::string_view k) { return CompareInternalKey(e.ikey, k) < 0; });
  if (it == entries.end() || ExtractUserKey(it->ikey) != ExtractUserKey(ikey)) return nullptr;
  return &*it;
}

// Every probe: BlockIndex::Find against the brute force, and the block it
// names read against the model.
void CheckLevel(const BlockIndex& index, int level,
                const std::vector<std::shared_ptr<TableFile>>& files,
                const std::vector<Entry>& entries, const std::vector<std::string>& probes) {
  int checked = 0;
  for (const std::string& k : probes) {
    size_t got_pos = 0;
    const TableFile* want_file = nullptr;
    BlockHandle got, want;
    const bool found = index.Find(level, k, &got_pos, &got);
    const bool expected = ExpectedInLevel(files, k, &want_file, &want);
    REQUIRE(found == expected);
    const Entry* model = ModelGet(entries, k);
    if (!found) {
      CHECK(model == nullptr);
      continue;
    }
    REQUIRE(got_pos < files.size());
    const TableFile* got_file = files[got_pos].get();
    REQUIRE(got_file == want_file);
    CHECK(got.offset == want.offset);
    CHECK(got.size == want.size);
    // The block read there gives what the level's sorted entries say.
    if (checked++ % 3 == 0) {
      bool hit = false;
      std::string ikey, value;
      REQUIRE(got_file->table->GetFromBlock(got, k, &hit, &ikey, &value).ok());
      REQUIRE(hit == (model != nullptr));
      if (hit) {
        CHECK(ikey == model->ikey);
        CHECK(value == model->value);
      }
    }
  }
  if (!files.empty()) CHECK(checked > 0);
}

void CheckIndex(size_t fanout) {
  test::TempDir dir;
  Random rnd(fanout * 1000 + 7);
  SequenceNumber seq = 0;
  uint64_t number = 1;
  Version v;
  std::vector<Entry> level_entries[kNumLevels];

  // L0: overlapping files, each a sorted run of its own.
  for (int i = 0; i < 3; i++) {
    std::vector<Entry> e = RandomEntries(&rnd, 150 + rnd.Uniform(150), &seq);
    v.levels[0].push_back(MakeFile(dir, number++, e, fanout));
    level_entries[0].insert(level_entries[0].end(), e.begin(), e.end());
  }
  // L1 and L2: one sorted run each, cut into files.
  for (int level = 1; level <= 2; level++) {
    level_entries[level] = RandomEntries(&rnd, level == 1 ? 600 : 1500, &seq);
    for (const auto& part : Cut(&rnd, level_entries[level], level == 1 ? 4 : 9)) {
      v.levels[level].push_back(MakeFile(dir, number++, part, fanout));
    }
  }
  // A user key whose versions span the boundary of two adjacent L3 files.
  {
    std::vector<Entry> a, b;
    for (int i = 0; i < 60; i++) a.push_back({IKey("a" + std::to_string(100 + i), ++seq), "x"});
    for (SequenceNumber s = 500000; s > 499900; s--) {
      (s > 499950 ? a : b).push_back({IKey("m", s), "m" + std::to_string(s)});
    }
    for (int i = 0; i < 60; i++) b.push_back({IKey("z" + std::to_string(100 + i), ++seq), "y"});
    v.levels[3].push_back(MakeFile(dir, number++, a, fanout));
    v.levels[3].push_back(MakeFile(dir, number++, b, fanout));
    level_entries[3] = a;
    level_entries[3].insert(level_entries[3].end(), b.begin(), b.end());
  }

  std::shared_ptr<const BlockIndex> index = v.BuildBlockIndex(fanout);
  REQUIRE(index != nullptr);
  size_t leaf_bytes = 0;
  for (const auto& lv : v.levels) {
    for (const auto& f : lv) leaf_bytes += f->block_index->MemoryUsage();
  }
  CHECK(index->MemoryUsage() == leaf_bytes + index->InnerMemoryUsage());
  CHECK(index->InnerMemoryUsage() > 0);
  CHECK(index->InnerMemoryUsage() < leaf_bytes);

  // Level 0: per file, the table's own seek, except past the file's largest
  // key (the unclamped last separator would still name the last block).
  for (size_t i = 0; i < v.levels[0].size(); i++) {
    const TableFile& f = *v.levels[0][i];
    for (const std::string& k : Probes(&rnd, {v.levels[0][i]}, level_entries[0])) {
      BlockHandle got, want;
      const bool found = index->FindInL0File(i, k, &got);
      if (CompareInternalKey(k, f.meta.largest) > 0) {
        CHECK_FALSE(found);
        continue;
      }
      REQUIRE(found);
      REQUIRE(f.table->FindDataBlock(k, &want).ok());
      CHECK(got.offset == want.offset);
      CHECK(got.size == want.size);
    }
  }

  // Levels >= 1 (3..6 include empty levels).
  for (int level = 1; level < kNumLevels; level++) {
    CheckLevel(*index, level, v.levels[level], level_entries[level],
               Probes(&rnd, v.levels[level], level_entries[level]));
  }
}

}  // namespace

TEST_CASE("block_index: lookups match the tables' own index seeks (fanout 64)") {
  CheckIndex(kBlockIndexFanout);
}

TEST_CASE("block_index: lookups match with a small fanout (deep trees)") { CheckIndex(3); }

// Keys that stress the search's shortcuts (a shared prefix per node, then 8
// bytes compared as an integer): long common prefixes, zero and 0xff bytes,
// keys that are prefixes of others, differences past the 8 bytes.
TEST_CASE("block_index: binary keys with long shared prefixes") {
  test::TempDir dir;
  Random rnd(99);
  const char kAlphabet[] = {'\0', '\x01', 'a', '\xff'};
  auto random_user = [&] {
    std::string u = rnd.OneIn(2) ? "common/prefix/" : "common/prefix/deeper/still/";
    for (uint64_t n = rnd.Uniform(14); n > 0; n--) u.push_back(kAlphabet[rnd.Uniform(4)]);
    return u;
  };
  std::vector<std::string> users;
  for (int i = 0; i < 1500; i++) users.push_back(random_user());
  users.push_back("common/prefix/");  // a prefix of every other key
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<Entry> entries;
  SequenceNumber seq = 1;
  for (const auto& u : users) {
    for (uint64_t v = 1 + rnd.Uniform(3); v > 0; v--) {
      entries.push_back({IKey(u, ++seq, ValueKind::kValue), "v" + std::to_string(seq)});
    }
  }
  std::sort(entries.begin(), entries.end(), EntryLess);
  for (size_t fanout : {size_t{2}, size_t{5}, kBlockIndexFanout}) {
    Version v;
    uint64_t number = fanout * 100;
    for (const auto& part : Cut(&rnd, entries, 5)) {
      v.levels[1].push_back(MakeFile(dir, number++, part, fanout));
    }
    auto index = v.BuildBlockIndex(fanout);
    REQUIRE(index != nullptr);
    std::vector<std::string> probes = Probes(&rnd, v.levels[1], entries);
    for (int i = 0; i < 3000; i++) {
      // Two statements: the order of function arguments is unspecified (gcc and
      // clang differ), and the random stream must not depend on the compiler.
      const SequenceNumber s = rnd.OneIn(3) ? kMaxSequenceNumber : rnd.Uniform(seq);
      probes.push_back(IKey(random_user(), s));
    }
    for (const char* u : {"", "common", "common/prefix", "common/prefiy", "d", "\xff"}) {
      probes.push_back(IKey(u, kMaxSequenceNumber));
      probes.push_back(IKey(u, 0, ValueKind::kDelete));
    }
    CheckLevel(*index, 1, v.levels[1], entries, probes);
  }
}

TEST_CASE("block_index: last separator clamped to the file's largest key") {
  test::TempDir dir;
  std::vector<Entry> e;
  for (int i = 0; i < 200; i++) e.push_back({IKey("k" + std::to_string(1000 + i), 10), "v"});
  auto f = MakeFile(dir, 1, e, kBlockIndexFanout);
  const auto& leaves = f->block_index->leaves();
  REQUIRE(!leaves.empty());
  const auto& last = leaves.back();
  CHECK(last.key(last.size() - 1) == f->meta.largest);
  size_t n = 0;
  for (const auto& l : leaves) {
    CHECK(l.size() <= kBlockIndexFanout);
    n += l.size();
  }
  CHECK(n == f->block_index->num_blocks());
  CHECK(f->block_index->MemoryUsage() > n * 8);
}

TEST_CASE("block_index: empty levels, and no index without every file's leaves") {
  test::TempDir dir;
  Version empty;
  auto index = empty.BuildBlockIndex();
  REQUIRE(index != nullptr);
  size_t f = 0;
  BlockHandle h;
  for (int level = 1; level < kNumLevels; level++) {
    CHECK_FALSE(index->Find(level, IKey("a", 1), &f, &h));
  }

  std::vector<Entry> e;
  for (int i = 0; i < 100; i++) e.push_back({IKey("k" + std::to_string(1000 + i), 10), "v"});
  auto bare = MakeFile(dir, 1, e, kBlockIndexFanout);
  Version v;
  v.levels[1].push_back(bare);
  v.levels[3].push_back(std::make_shared<TableFile>(bare->meta, bare->table, bare->env, ""));
  CHECK(v.BuildBlockIndex() == nullptr);  // a file without leaves

  // Files of a level out of key order: no index (readers use the file path).
  Version w;
  w.levels[2] = {bare, bare};
  CHECK(w.BuildBlockIndex() == nullptr);
}

// ---------------------------------------------------------------------------
// Through the DB: identical answers with the index on and off.

namespace {

struct Pair {
  test::TempDir dir_on, dir_off;
  Options base;
  // The same operations go to both. Opened with use_block_index true (on)
  // and false (off); Open(a, b) reopens them with other settings.
  std::unique_ptr<DB> on, off;

  Pair() {
    base.write_buffer_size = 16 << 10;
    base.table.block_size = 256;
    base.target_file_size = 8 << 10;
    base.max_bytes_for_level_base = 32 << 10;
    base.level_size_multiplier = 4;
    base.durability = Durability::kNone;
    Open(true, false);
  }
  ~Pair() {
    if (on) on->Close().PermitUnchecked();
    if (off) off->Close().PermitUnchecked();
  }
  void Open(bool index_on_dir_on, bool index_on_dir_off) {
    if (on) REQUIRE(on->Close().ok());
    if (off) REQUIRE(off->Close().ok());
    on.reset();
    off.reset();
    Options a = base, b = base;
    a.use_block_index = index_on_dir_on;
    b.use_block_index = index_on_dir_off;
    REQUIRE(DB::Open(a, dir_on.path(), &on).ok());
    REQUIRE(DB::Open(b, dir_off.path(), &off).ok());
  }
  void Put(TreeId t, const std::string& k, const std::string& v) {
    REQUIRE(on->Put(WriteOptions(), t, k, v).ok());
    REQUIRE(off->Put(WriteOptions(), t, k, v).ok());
  }
  void Delete(TreeId t, const std::string& k) {
    REQUIRE(on->Delete(WriteOptions(), t, k).ok());
    REQUIRE(off->Delete(WriteOptions(), t, k).ok());
  }
};

std::string GetString(DB* db, TreeId t, const std::string& k, const Snapshot* snap) {
  ReadOptions ro;
  ro.snapshot = snap;
  std::string v;
  Status s = db->Get(ro, t, k, &v);
  if (s.IsNotFound()) return "<none>";
  if (!s.ok()) return "<error " + s.ToString() + ">";
  return v;
}

using Model = std::map<std::string, std::string>;

std::string Key(uint64_t i) { return "key" + std::to_string(i); }

// Every key of the model's key space (and some never written) in both DBs
// and the model.
void CheckAll(Pair* p, TreeId t_on, TreeId t_off, const Model& m, uint64_t key_space,
              const Snapshot* s_on = nullptr, const Snapshot* s_off = nullptr) {
  for (uint64_t i = 0; i < key_space + 20; i++) {
    const std::string k = Key(i);
    auto it = m.find(k);
    const std::string want = it == m.end() ? "<none>" : it->second;
    const std::string a = GetString(p->on.get(), t_on, k, s_on);
    const std::string b = GetString(p->off.get(), t_off, k, s_off);
    REQUIRE_MESSAGE(a == want, k);
    REQUIRE_MESSAGE(b == want, k);
  }
}

}  // namespace

TEST_CASE(
    "block_index: DB Get agrees with the per-file path across flushes, compactions, "
    "snapshots, deletions, reopen and splits") {
  Pair p;
  Random rnd(4242);
  constexpr uint64_t kKeys = 500;
  Model m;
  // Writes with a held snapshot keep old versions in the files, so one user
  // key's versions span blocks and files after compaction.
  std::vector<std::pair<std::pair<const Snapshot*, const Snapshot*>, Model>> snaps;
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 500; i++) {
      const std::string k = Key(rnd.OneIn(8) ? 7 : rnd.Uniform(kKeys));  // key7: many versions
      if (rnd.OneIn(6)) {
        p.Delete(kDefaultTree, k);
        m.erase(k);
      } else {
        const std::string v = k + "-" + std::to_string(round) + "-" + std::to_string(i) +
                              std::string(rnd.Uniform(60), 'x');
        p.Put(kDefaultTree, k, v);
        m[k] = v;
      }
    }
    if (round % 2 == 0) {
      snaps.push_back({{p.on->GetSnapshot(), p.off->GetSnapshot()}, m});
    }
    REQUIRE(p.on->Flush(kDefaultTree).ok());
    REQUIRE(p.off->Flush(kDefaultTree).ok());
    if (round == 3) {
      REQUIRE(p.on->CompactAll(kDefaultTree).ok());
      REQUIRE(p.off->CompactAll(kDefaultTree).ok());
    }
    CheckAll(&p, kDefaultTree, kDefaultTree, m, kKeys);
  }
  for (const auto& [s, sm] : snaps)
    CheckAll(&p, kDefaultTree, kDefaultTree, sm, kKeys, s.first, s.second);

  TreeStats st_on, st_off;
  REQUIRE(p.on->GetTreeStats(kDefaultTree, &st_on).ok());
  REQUIRE(p.off->GetTreeStats(kDefaultTree, &st_off).ok());
  int deep_files = 0;
  for (size_t lv = 1; lv < st_on.levels.size(); lv++) deep_files += st_on.levels[lv].files;
  CHECK(deep_files > 1);  // the level >= 1 path ran over several files
  CHECK(st_on.block_index_bytes > 0);
  CHECK(st_off.block_index_bytes == 0);
  CHECK(p.on->DebugString().find("block_index:") != std::string::npos);
  CHECK(p.off->DebugString().find("block_index:") == std::string::npos);

  for (const auto& [s, sm] : snaps) {
    p.on->ReleaseSnapshot(s.first);
    p.off->ReleaseSnapshot(s.second);
  }
  // Reopen each directory with the other setting: both paths over the same files.
  p.Open(false, true);
  CheckAll(&p, kDefaultTree, kDefaultTree, m, kKeys);
  p.Open(true, false);
  CheckAll(&p, kDefaultTree, kDefaultTree, m, kKeys);

  // Split: the children share the parent's files and see only their range.
  TreeId parent_on, parent_off;
  REQUIRE(p.on->CreateTree("p", &parent_on).ok());
  REQUIRE(p.off->CreateTree("p", &parent_off).ok());
  REQUIRE(parent_on == parent_off);
  Model pm;
  for (int i = 0; i < 2000; i++) {
    const std::string k = Key(rnd.Uniform(kKeys));
    if (rnd.OneIn(7)) {
      p.Delete(parent_on, k);
      pm.erase(k);
    } else {
      const std::string v = "p" + std::to_string(i) + std::string(rnd.Uniform(60), 'y');
      p.Put(parent_on, k, v);
      pm[k] = v;
    }
  }
  REQUIRE(p.on->Flush(parent_on).ok());
  REQUIRE(p.off->Flush(parent_off).ok());
  const std::string split = Key(250);  // "key250": keys sort as strings
  TreeId l_on, r_on, l_off, r_off;
  REQUIRE(p.on->SplitTree(parent_on, split, "l", "r", &l_on, &r_on).ok());
  REQUIRE(p.off->SplitTree(parent_off, split, "l", "r", &l_off, &r_off).ok());
  Model left, right;
  for (const auto& [k, v] : pm) (k < split ? left : right)[k] = v;
  for (uint64_t i = 0; i < kKeys + 20; i++) {
    const std::string k = Key(i);
    const TreeId t_on = k < split ? l_on : r_on;
    const TreeId t_off = k < split ? l_off : r_off;
    const Model& mm = k < split ? left : right;
    auto it = mm.find(k);
    const std::string want = it == mm.end() ? "<none>" : it->second;
    REQUIRE(GetString(p.on.get(), t_on, k, nullptr) == want);
    REQUIRE(GetString(p.off.get(), t_off, k, nullptr) == want);
  }
  TreeStats ls;
  REQUIRE(p.on->GetTreeStats(l_on, &ls).ok());
  CHECK(ls.block_index_bytes > 0);
  // Compaction after the split rewrites each child's part.
  REQUIRE(p.on->CompactAll(r_on).ok());
  REQUIRE(p.off->CompactAll(r_off).ok());
  p.Open(true, true);
  for (uint64_t i = 0; i < kKeys + 20; i++) {
    const std::string k = Key(i);
    const Model& mm = k < split ? left : right;
    auto it = mm.find(k);
    const std::string want = it == mm.end() ? "<none>" : it->second;
    REQUIRE(GetString(p.on.get(), k < split ? l_on : r_on, k, nullptr) == want);
    REQUIRE(GetString(p.off.get(), k < split ? l_off : r_off, k, nullptr) == want);
  }
}
