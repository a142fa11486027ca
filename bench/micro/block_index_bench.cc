// Micro-benchmarks of the block index (engine/lsm/index/block_index.h) against
// the per-file path it replaces, over one level of 200 SSTables x 250 data
// blocks (50,000 blocks; 256-byte blocks so the files stay small on disk):
//
//   BM_FindBlock        find the (file, block) for a lookup key.
//                       path 0: BlockIndex::Find (fanout 64);
//                       path 1: lower_bound over the files by largest key +
//                       Table::FindDataBlock (the table's index block seek).
//                       absent 1: keys between stored keys.
//   BM_FindBlockFanout  BlockIndex::Find with other fanouts (leaves and inner nodes).
//   BM_PointGet         one level of DB::Get: path 0 = index descent to the
//                       file, bloom, leaf search, GetFromBlock; path 1 =
//                       lower_bound + Table::Get (bloom, index seek, block);
//                       all blocks in a block cache (no I/O after warm-up).
//   BM_BuildVersionIndex  Version::BuildBlockIndex over the 200 files: the per-version
//                       cost, paid under the DB mutex (inner nodes only).
//   BM_BuildFileLeaves  FileBlockIndex::Build of one file: paid once per file, at open.
//
// Keys: "user%012u" + trailer, 1 version each, 32-byte values.
// Run: basalt_micro --benchmark_filter='FindBlock|PointGet|BuildVersion|BuildFile'

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/index/block_index.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version.h"

namespace basalt::lsm {
namespace {

constexpr int kFiles = 200;
constexpr uint64_t kBlocksPerFile = 250;
constexpr size_t kProbes = 4096;

std::string UserKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%012llu", static_cast<unsigned long long>(i));
  return buf;
}

// One level of kFiles tables; stored keys are even numbers, odd ones absent.
struct Level {
  std::string dir;
  TableOptions topts;
  std::vector<std::shared_ptr<Table>> tables;
  std::vector<FileMetaData> metas;
  uint64_t num_keys = 0;
  uint64_t index_block_bytes = 0;       // the tables' own pinned index blocks
  std::map<size_t, Version> by_fanout;  // same tables, leaves of that fanout
  std::map<size_t, std::shared_ptr<const BlockIndex>> index;
  std::vector<std::string> present, absent;  // lookup internal keys
  bool ok = true;

  Level() {
    dir = (std::filesystem::temp_directory_path() /
           ("basalt_block_index_bench_" + std::to_string(::getpid())))
              .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    io::Env* env = io::Env::Posix();
    topts.block_size = 256;
    topts.compression = false;
    auto cache = std::make_shared<BlockCache>(size_t{256} << 20);
    uint64_t key = 0;
    for (int f = 0; f < kFiles && ok; f++) {
      const std::string path = dir + "/" + std::to_string(f + 1) + ".sst";
      std::unique_ptr<io::WritableFile> wf;
      ok = env->NewWritableFile(path, &wf).ok();
      if (!ok) break;
      TableBuilder b(topts, wf.get());
      FileMetaData meta;
      meta.number = static_cast<uint64_t>(f) + 1;
      const std::string value(32, 'v');
      // Stops once the builder has written kBlocksPerFile blocks; the last
      // (kBlocksPerFile + 1)th holds one key.
      while (b.properties().num_data_blocks < kBlocksPerFile) {
        std::string ikey;
        AppendInternalKey(&ikey, UserKey(key * 2), 1, ValueKind::kValue);
        key++;
        if (meta.smallest.empty()) meta.smallest = ikey;
        meta.largest = ikey;
        b.Add(ikey, value);
      }
      ok = b.Finish().ok() && wf->Close().ok();
      std::unique_ptr<io::RandomAccessFile> rf;
      ok = ok && env->NewRandomAccessFile(path, &rf).ok();
      if (!ok) break;
      meta.file_size = rf->Size();
      std::unique_ptr<Table> t;
      ok = Table::Open(std::move(rf), meta.file_size, &t, cache, meta.number).ok();
      if (!ok) break;
      index_block_bytes += t->properties().index_bytes;
      tables.emplace_back(std::move(t));
      metas.push_back(meta);
    }
    num_keys = key;
    Random rnd(17);
    for (size_t i = 0; i < kProbes; i++) {
      const uint64_t k = rnd.Uniform(num_keys);
      present.emplace_back(LookupKey(UserKey(k * 2), kMaxSequenceNumber).internal_key());
      absent.emplace_back(LookupKey(UserKey(k * 2 + 1), kMaxSequenceNumber).internal_key());
    }
  }
  ~Level() {
    by_fanout.clear();
    tables.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // The level as a Version whose files carry leaves of this fanout, and its index.
  const Version& VersionFor(size_t fanout) {
    auto it = by_fanout.find(fanout);
    if (it != by_fanout.end()) return it->second;
    Version& v = by_fanout[fanout];
    for (size_t i = 0; i < tables.size(); i++) {
      std::shared_ptr<const FileBlockIndex> leaves;
      if (!FileBlockIndex::Build(*tables[i], metas[i].largest, &leaves, fanout).ok()) ok = false;
      v.levels[1].push_back(
          std::make_shared<TableFile>(metas[i], tables[i], io::Env::Posix(), "", leaves));
    }
    index[fanout] = v.BuildBlockIndex(fanout);
    if (index[fanout] == nullptr) ok = false;
    return v;
  }
};

Level& TheLevel() {
  static Level level;
  return level;
}

// The per-file path: first file whose largest key >= ikey, then its index seek.
bool FindPerFile(const Version& v, std::string_view ikey, size_t* file, BlockHandle* handle) {
  const auto& files = v.levels[1];
  auto it = std::lower_bound(files.begin(), files.end(), ikey,
                             [](const std::shared_ptr<TableFile>& f, std::string_view k) {
                               return CompareInternalKey(f->meta.largest, k) < 0;
                             });
  if (it == files.end() || ExtractUserKey(ikey) < ExtractUserKey((*it)->meta.smallest)) {
    return false;
  }
  *file = static_cast<size_t>(it - files.begin());
  return (*it)->table->FindDataBlock(ikey, handle).ok();
}

void SetCounters(benchmark::State& state, Level& l, size_t fanout) {
  const BlockIndex& bi = *l.index[fanout];
  state.counters["index_bytes"] = static_cast<double>(bi.MemoryUsage());
  state.counters["inner_bytes"] = static_cast<double>(bi.InnerMemoryUsage());
  state.counters["table_index_blocks_bytes"] = static_cast<double>(l.index_block_bytes);
}

void BM_FindBlock(benchmark::State& state) {
  Level& l = TheLevel();
  const Version& v = l.VersionFor(kBlockIndexFanout);
  if (!l.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  const bool per_file = state.range(0) != 0;
  const std::vector<std::string>& keys = state.range(1) != 0 ? l.absent : l.present;
  const BlockIndex& bi = *l.index[kBlockIndexFanout];
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ % kProbes];
    size_t f = 0;
    BlockHandle h;
    const bool hit = per_file ? FindPerFile(v, k, &f, &h) : bi.Find(1, k, &f, &h);
    found += hit;
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["found_rate"] =
      static_cast<double>(found) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  SetCounters(state, l, kBlockIndexFanout);
}
BENCHMARK(BM_FindBlock)->ArgsProduct({{0, 1}, {0, 1}})->ArgNames({"path", "absent"});

void BM_FindBlockFanout(benchmark::State& state) {
  Level& l = TheLevel();
  const size_t fanout = static_cast<size_t>(state.range(0));
  l.VersionFor(fanout);
  if (!l.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  const BlockIndex& bi = *l.index[fanout];
  size_t i = 0;
  for (auto _ : state) {
    size_t f = 0;
    BlockHandle h;
    benchmark::DoNotOptimize(bi.Find(1, l.present[i++ % kProbes], &f, &h));
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  SetCounters(state, l, fanout);
}
BENCHMARK(BM_FindBlockFanout)
    ->Arg(8)
    ->Arg(16)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->ArgName("fanout");

void BM_PointGet(benchmark::State& state) {
  Level& l = TheLevel();
  const Version& v = l.VersionFor(kBlockIndexFanout);
  if (!l.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  const bool per_file = state.range(0) != 0;
  const std::vector<std::string>& keys = state.range(1) != 0 ? l.absent : l.present;
  const BlockIndex& bi = *l.index[kBlockIndexFanout];
  const auto& files = v.levels[1];
  std::string ikey, value;
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ % kProbes];
    const std::string_view user = ExtractUserKey(k);
    bool hit = false;
    Status s;
    if (per_file) {
      auto it = std::lower_bound(files.begin(), files.end(), std::string_view(k),
                                 [](const std::shared_ptr<TableFile>& f, std::string_view key) {
                                   return CompareInternalKey(f->meta.largest, key) < 0;
                                 });
      if (it != files.end() && !(user < ExtractUserKey((*it)->meta.smallest))) {
        s = (*it)->table->Get(k, &hit, &ikey, &value);
      }
    } else {
      // As DBImpl::Get: the candidate file, its range and filter, then the leaf.
      BlockIndex::Candidate c;
      if (bi.FindCandidate(1, k, &c) && !(user < ExtractUserKey(files[c.file]->meta.smallest)) &&
          files[c.file]->table->KeyMayMatch(user)) {
        s = files[c.file]->table->GetFromBlock(BlockIndex::BlockOf(c, k), k, &hit, &ikey, &value);
      }
    }
    if (!s.ok()) {
      state.SkipWithError("read failed");
      break;
    }
    found += hit;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["found_rate"] =
      static_cast<double>(found) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}
BENCHMARK(BM_PointGet)->ArgsProduct({{0, 1}, {0, 1}})->ArgNames({"path", "absent"});

void BM_BuildVersionIndex(benchmark::State& state) {
  Level& l = TheLevel();
  const size_t fanout = static_cast<size_t>(state.range(0));
  const Version& v = l.VersionFor(fanout);
  if (!l.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    std::shared_ptr<const BlockIndex> bi = v.BuildBlockIndex(fanout);
    benchmark::DoNotOptimize(bi.get());
  }
  state.counters["blocks"] = static_cast<double>(kFiles * kBlocksPerFile);
  SetCounters(state, l, fanout);
}
BENCHMARK(BM_BuildVersionIndex)->Arg(16)->Arg(64)->ArgName("fanout")->Unit(benchmark::kMicrosecond);

void BM_BuildFileLeaves(benchmark::State& state) {
  Level& l = TheLevel();
  if (!l.ok || l.tables.empty()) {
    state.SkipWithError("setup failed");
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::shared_ptr<const FileBlockIndex> leaves;
    if (!FileBlockIndex::Build(*l.tables[0], l.metas[0].largest, &leaves).ok()) {
      state.SkipWithError("build failed");
      break;
    }
    bytes = leaves->MemoryUsage();
    benchmark::DoNotOptimize(leaves.get());
  }
  state.counters["leaf_bytes"] = static_cast<double>(bytes);
  state.counters["table_index_block_bytes"] =
      static_cast<double>(l.tables[0]->properties().index_bytes);
}
BENCHMARK(BM_BuildFileLeaves)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace basalt::lsm
