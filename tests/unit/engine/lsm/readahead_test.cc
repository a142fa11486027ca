// Read-ahead: table iterators and DB iterators return the same entries with
// read-ahead off, adaptive and fixed (forward, backward, seeks, bounds,
// snapshots); fewer read calls with it on; fill_cache=false leaves the block
// cache alone; compaction with and without read-ahead writes identical tables.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/db.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/table.h"
#include "tests/testutil/counting_env.h"
#include "tests/testutil/read_test_db.h"
#include "tests/testutil/skip.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ReadKey;
using test::ReadTestDB;

namespace {

// A table of n entries (internal keys, ~100-byte values) in 1 KiB blocks.
struct TestTable {
  test::TempDir dir;
  std::vector<std::pair<std::string, std::string>> entries;
  std::string path = dir.Sub("t.sst");

  explicit TestTable(int n, bool compression) {
    TableOptions to;
    to.block_size = 1024;
    to.compression = compression;
    Random rnd(1);
    std::unique_ptr<io::WritableFile> file;
    REQUIRE(io::Env::Posix()->NewWritableFile(path, &file).ok());
    TableBuilder b(to, file.get());
    for (int i = 0; i < n; i++) {
      std::string ikey;
      AppendInternalKey(&ikey, ReadKey(i), 100, ValueKind::kValue);
      std::string v(60 + rnd.Uniform(80), static_cast<char>('a' + i % 26));
      b.Add(ikey, v);
      entries.emplace_back(std::move(ikey), std::move(v));
    }
    REQUIRE(b.Finish().ok());
    REQUIRE(file->Close().ok());
  }

  std::unique_ptr<Table> Open(io::Env* env, std::shared_ptr<BlockCache> cache = nullptr) {
    std::unique_ptr<io::RandomAccessFile> file;
    REQUIRE(env->NewRandomAccessFile(path, &file).ok());
    const uint64_t size = file->Size();
    std::unique_ptr<Table> t;
    Status s = Table::Open(std::move(file), size, &t, std::move(cache));
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return t;
  }
};

std::string Dump(Iterator* it, bool backward) {
  std::string r;
  if (backward) {
    for (it->SeekToLast(); it->Valid(); it->Prev()) r.append(it->key()).append(it->value());
  } else {
    for (it->SeekToFirst(); it->Valid(); it->Next()) r.append(it->key()).append(it->value());
  }
  CHECK(it->status().ok());
  return r;
}

// Seeks to random keys, then a few Next/Prev: a trace of what was seen.
std::string SeekTrace(Iterator* it, int n, uint64_t seed, bool internal_keys, int seeks = 200) {
  Random rnd(seed);
  std::string r;
  for (int i = 0; i < seeks; i++) {
    std::string target = ReadKey(static_cast<int>(rnd.Uniform(static_cast<uint64_t>(n) + 10)));
    if (internal_keys) {
      target = ReadKey(static_cast<int>(rnd.Uniform(static_cast<uint64_t>(n) + 10)));
      std::string ik;
      AppendInternalKey(&ik, target, kMaxSequenceNumber, kValueKindForSeek);
      target = ik;
    }
    it->Seek(target);
    const int steps = static_cast<int>(rnd.Uniform(12));
    const bool back = rnd.OneIn(3);
    for (int s = 0; s < steps && it->Valid(); s++) {
      r.append(it->key()).append("|");
      if (back) {
        it->Prev();
      } else {
        it->Next();
      }
    }
    r += it->Valid() ? "V;" : "E;";
  }
  CHECK(it->status().ok());
  return r;
}

TableReadOptions Readahead(std::optional<size_t> size, bool fill_cache = true) {
  TableReadOptions o;
  o.readahead_size = size;
  o.fill_cache = fill_cache;
  return o;
}

}  // namespace

TEST_CASE("readahead: table iterator entries identical, fewer reads with read-ahead") {
  for (bool compression : {false, true}) {
    INFO("compression " << compression);
    TestTable tt(3000, compression);
    test::CountingEnv counting(io::Env::Posix());
    std::unique_ptr<Table> table = tt.Open(&counting);
    const uint64_t blocks = table->properties().num_data_blocks;
    REQUIRE(blocks > 100);

    std::string expect;
    for (const auto& [k, v] : tt.entries) expect.append(k).append(v);
    std::string expect_back;
    for (auto it = tt.entries.rbegin(); it != tt.entries.rend(); ++it) {
      expect_back.append(it->first).append(it->second);
    }

    std::map<std::string, uint64_t> forward_reads;
    const std::vector<std::pair<std::string, std::optional<size_t>>> modes = {
        {"off", size_t{0}},
        {"adaptive", std::nullopt},
        {"fixed 64K", size_t{64 << 10}},
        {"fixed 1", size_t{1}},
        {"fixed 5000", size_t{5000}}};
    std::string seek_trace_off;
    for (const auto& [name, size] : modes) {
      // INFO's lambda may not capture a structured binding (clang 14).
      const std::string& label = name;
      INFO("read-ahead " << label);
      counting.Reset();
      CHECK(Dump(table->NewIterator(Readahead(size)).get(), false) == expect);
      forward_reads[name] = counting.reads();
      CHECK(Dump(table->NewIterator(Readahead(size)).get(), true) == expect_back);
      const std::string trace = SeekTrace(table->NewIterator(Readahead(size)).get(), 3000, 5, true);
      if (name == "off") seek_trace_off = trace;
      CHECK(trace == seek_trace_off);
    }
    CHECK(forward_reads["off"] == blocks);
    CHECK(forward_reads["fixed 1"] == blocks);  // a window never smaller than the block
    // Adaptive: 2 single-block reads, then windows of 16, 32, ... 256 KiB.
    CHECK(forward_reads["adaptive"] < blocks / 4);
    CHECK(forward_reads["fixed 64K"] < blocks / 10);
    CHECK(forward_reads["fixed 5000"] < blocks / 2);
  }
}

TEST_CASE("readahead: adaptive read-ahead starts after 2 sequential reads and grows") {
  TestTable tt(8000, false);  // ~900 KiB: room for 16 + 32 + ... + 256 KiB windows
  test::CountingEnv counting(io::Env::Posix());
  std::unique_ptr<Table> table = tt.Open(&counting);
  auto it = table->NewIterator(Readahead(std::nullopt));
  counting.Reset();
  it->SeekToFirst();
  std::vector<uint64_t> sizes;  // bytes of each read, as the scan goes
  uint64_t last_reads = 0, last_bytes = 0;
  for (; it->Valid(); it->Next()) {
    if (counting.reads() != last_reads) {
      sizes.push_back(counting.bytes() - last_bytes);
      last_reads = counting.reads();
      last_bytes = counting.bytes();
    }
  }
  REQUIRE(sizes.size() > 6);
  CHECK(sizes[0] < 2048);  // two single blocks
  CHECK(sizes[1] < 2048);
  CHECK(sizes[2] == kAutoReadaheadInitialSize);
  CHECK(sizes[3] == 2 * kAutoReadaheadInitialSize);
  CHECK(sizes[4] == 4 * kAutoReadaheadInitialSize);
  for (size_t i = 2; i + 1 < sizes.size(); i++) CHECK(sizes[i] <= kAutoReadaheadMaxSize);
  CHECK(*std::max_element(sizes.begin(), sizes.end()) == kAutoReadaheadMaxSize);

  // Seeks all over the table: no sequential runs, so no windows.
  counting.Reset();
  Random rnd(2);
  for (int i = 0; i < 50; i++) {
    std::string ik;
    AppendInternalKey(&ik, ReadKey(static_cast<int>(rnd.Uniform(3000))), kMaxSequenceNumber,
                      kValueKindForSeek);
    it->Seek(ik);
    REQUIRE(it->Valid());
  }
  CHECK(counting.bytes() <= counting.reads() * 2048);
}

TEST_CASE("readahead: fill_cache=false uses cached blocks but inserts none") {
  TestTable tt(2000, true);
  test::CountingEnv counting(io::Env::Posix());
  auto cache = std::make_shared<BlockCache>(64 << 20);
  std::unique_ptr<Table> table = tt.Open(&counting, cache);
  const uint64_t blocks = table->properties().num_data_blocks;

  Dump(table->NewIterator(Readahead(size_t{0}, /*fill_cache=*/false)).get(), false);
  CHECK(cache->GetStats().inserts == 0);
  CHECK(cache->GetStats().entries == 0);

  Dump(table->NewIterator(Readahead(std::nullopt, /*fill_cache=*/true)).get(), false);
  CHECK(cache->GetStats().inserts == blocks);

  counting.Reset();
  Dump(table->NewIterator(Readahead(size_t{1} << 20, /*fill_cache=*/false)).get(), false);
  CHECK(counting.reads() == 0);  // every block came from the cache
}

namespace {

void CheckDBIteratorsIdentical(bool direct) {
  {
    INFO("direct reads " << direct);
    ReadTestDB t;
    t.options.use_direct_reads = direct;
    t.options.block_cache_size = 0;  // every block from the file: read-ahead on every path
    t.Open();
    const int n = 2000;
    t.Load(n);
    // Off first: the others are compared with it. (O_DIRECT reads wait for
    // the device: fewer modes keep the test fast.)
    std::vector<std::optional<size_t>> modes = {size_t{0}, std::nullopt, size_t{3000}};
    if (!direct) {
      modes.push_back(size_t{32 << 10});
      modes.push_back(size_t{1});
    }
    const std::string expect = test::ModelScan(t.model);
    const std::string expect_snapshot = test::ModelScan(t.snapshot_model);
    std::string seeks_off, bounded_off, bounded_back_off;
    for (const auto& size : modes) {
      INFO("read-ahead " << (size ? std::to_string(*size) : "adaptive"));
      ReadOptions ro;
      ro.readahead_size = size;
      CHECK(t.Scan(ro) == expect);
      std::string back = t.Scan(ro, /*backward=*/true);
      std::string back_expect;
      for (auto it = t.model.rbegin(); it != t.model.rend(); ++it) {
        back_expect += it->first + "=" + it->second + ";";
      }
      CHECK(back == back_expect);
      ReadOptions snap = ro;
      snap.snapshot = t.snapshot;
      CHECK(t.Scan(snap) == expect_snapshot);

      std::string seeks = SeekTrace(t.db->NewIterator(ro, kDefaultTree).get(), n, 8, false, 60);
      ReadOptions bounded = ro;
      bounded.lower_bound = ReadKey(500);
      bounded.upper_bound = ReadKey(1500);
      std::string b = t.Scan(bounded), bb = t.Scan(bounded, true);
      if (!size.has_value() || *size != 0) {
        CHECK(seeks == seeks_off);
        CHECK(b == bounded_off);
        CHECK(bb == bounded_back_off);
      } else {
        seeks_off = seeks;
        bounded_off = b;
        bounded_back_off = bb;
        std::string expect_bounded;
        for (auto it = t.model.lower_bound(ReadKey(500)); it != t.model.lower_bound(ReadKey(1500));
             ++it) {
          expect_bounded += it->first + "=" + it->second + ";";
        }
        CHECK(b == expect_bounded);
      }
    }
  }
}

}  // namespace

TEST_CASE("readahead: DB iterators identical with read-ahead off, adaptive and fixed") {
  CheckDBIteratorsIdentical(/*direct=*/false);
}

TEST_CASE("readahead: DB iterators identical with read-ahead off, adaptive and fixed, O_DIRECT" *
          test::SkipUnless(test::DirectIoProbe())) {
  CheckDBIteratorsIdentical(/*direct=*/true);
}

TEST_CASE("readahead: a DB scan issues fewer reads with read-ahead") {
  test::CountingEnv counting(io::Env::Default());
  ReadTestDB t(&counting);
  t.options.block_cache_size = 0;
  t.Open();
  t.Load(4000);
  ReadOptions off, adaptive;
  off.readahead_size = 0;
  counting.Reset();
  const std::string a = t.Scan(off);
  const uint64_t reads_off = counting.reads();
  counting.Reset();
  const std::string b = t.Scan(adaptive);
  const uint64_t reads_adaptive = counting.reads();
  CHECK(a == b);
  MESSAGE("scan reads: read-ahead off " << reads_off << ", adaptive " << reads_adaptive);
  CHECK(reads_adaptive * 3 < reads_off);
}

TEST_CASE("readahead: compaction output is identical with and without read-ahead") {
  // The same L0 files, compacted three times: read-ahead off, 2 MiB, and an
  // odd 3000-byte window that splits blocks across windows.
  test::TempDir base;
  std::map<std::string, std::string> model;
  {
    ReadTestDB t;
    t.options.disable_compaction = true;
    t.options.target_file_size = 32 << 10;
    t.Open();
    Random rnd(4);
    for (int round = 0; round < 6; round++) {
      for (int i = 0; i < 800; i++) {
        const std::string k = ReadKey(static_cast<int>(rnd.Uniform(3000)));
        if (rnd.OneIn(6)) {
          t.Delete(k);
        } else {
          t.Put(k, std::to_string(round) + std::string(60 + rnd.Uniform(60), 'c'));
        }
      }
      REQUIRE(t.db->Flush(kDefaultTree).ok());
    }
    t.Close();
    model = t.model;
    std::filesystem::copy(t.dir.path(), base.Sub("db"), std::filesystem::copy_options::recursive);
  }
  std::vector<std::vector<std::string>> outputs;
  std::vector<uint64_t> reads;
  for (size_t readahead : {size_t{0}, size_t{2} << 20, size_t{3000}}) {
    INFO("compaction_readahead_size " << readahead);
    test::TempDir dir;
    std::filesystem::remove_all(dir.path());
    std::filesystem::copy(base.Sub("db"), dir.path(), std::filesystem::copy_options::recursive);
    test::CountingEnv counting(io::Env::Default());
    Options o;
    o.env = &counting;
    o.write_buffer_size = 64 << 10;
    o.table.block_size = 1024;
    o.target_file_size = 32 << 10;
    o.max_bytes_for_level_base = 128 << 10;
    o.compaction_readahead_size = readahead;
    o.block_cache_size = 0;
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, dir.path(), &db).ok());
    counting.Reset();
    REQUIRE(db->CompactAll(kDefaultTree).ok());
    reads.push_back(counting.reads());
    TreeStats st;
    REQUIRE(db->GetTreeStats(kDefaultTree, &st).ok());
    CHECK(st.levels[0].files < 4);
    std::string scan;
    auto it = db->NewIterator(ReadOptions(), kDefaultTree);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      scan.append(it->key()).append("=").append(it->value()).append(";");
    }
    CHECK(scan == test::ModelScan(model));
    it.reset();
    REQUIRE(db->Close().ok());
    db.reset();
    std::vector<std::string> tables;  // contents of every live table, sorted
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().extension() != ".sst") continue;
      std::string data;
      REQUIRE(io::ReadFileToString(io::Env::Posix(), e.path().string(), &data).ok());
      tables.push_back(std::move(data));
    }
    std::sort(tables.begin(), tables.end());
    REQUIRE(!tables.empty());
    outputs.push_back(std::move(tables));
  }
  CHECK(outputs[1] == outputs[0]);
  CHECK(outputs[2] == outputs[0]);
  MESSAGE("compaction reads: read-ahead off " << reads[0] << ", 2 MiB " << reads[1] << ", 3000 B "
                                              << reads[2]);
  CHECK(reads[1] * 10 < reads[0]);
}
