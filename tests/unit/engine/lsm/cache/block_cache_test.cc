#include "engine/lsm/cache/block_cache.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/block.h"
#include "engine/lsm/sstable/block_builder.h"
#include "engine/lsm/sstable/table.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// A block with one bytewise entry: key `key`, value of value_size bytes.
std::shared_ptr<const Block> MakeBlock(const std::string& key, size_t value_size) {
  BlockBuilder b(16);
  b.Add(key, std::string(value_size, 'v'));
  auto block = std::make_shared<const Block>(std::string(b.Finish()));
  REQUIRE(block->status().ok());
  return block;
}

// The cache as SSTable readers use it: Blocks, charged their contents.
void Insert(BlockCache* cache, uint64_t id, uint64_t offset, std::shared_ptr<const Block> block) {
  const size_t bytes = block->contents().size();
  cache->Insert(id, offset, std::move(block), bytes);
}
std::shared_ptr<const Block> Lookup(BlockCache* cache, uint64_t id, uint64_t offset) {
  return cache->Lookup<Block>(id, offset);
}
size_t Charge(const Block& block) { return BlockCache::Charge(block.contents().size()); }

std::string FirstKey(const Block& block) {
  BlockIterator it(&block, KeyOrder::kBytewise);
  it.SeekToFirst();
  REQUIRE(it.Valid());
  return std::string(it.key());
}

}  // namespace

TEST_CASE("block_cache: CLOCK eviction within the budget") {
  const size_t charge = Charge(*MakeBlock("k", 1000));
  BlockCache cache(3 * charge, /*num_shard_bits=*/0);  // room for exactly three
  for (uint64_t i = 0; i < 3; i++) Insert(&cache, 1, i, MakeBlock("k", 1000));
  CHECK(cache.usage() == 3 * charge);
  CHECK(cache.GetStats().entries == 3);
  // 0 is looked up (its reference bit set); 1 and 2 are not. The next insert
  // evicts one of those two, never 0.
  CHECK(Lookup(&cache, 1, 0) != nullptr);
  Insert(&cache, 1, 3, MakeBlock("k", 1000));
  CHECK(cache.GetStats().evictions == 1);
  CHECK((Lookup(&cache, 1, 1) == nullptr) != (Lookup(&cache, 1, 2) == nullptr));
  CHECK(Lookup(&cache, 1, 3) != nullptr);
  // An entry looked up between inserts survives any number of them; the
  // others come and go.
  for (uint64_t i = 4; i < 40; i++) {
    REQUIRE(Lookup(&cache, 1, 0) != nullptr);
    Insert(&cache, 1, i, MakeBlock("k", 1000));
    REQUIRE(cache.usage() == 3 * charge);
  }
  CHECK(Lookup(&cache, 1, 0) != nullptr);
  int present = 0;
  for (uint64_t i = 1; i < 40; i++) present += Lookup(&cache, 1, i) != nullptr ? 1 : 0;
  CHECK(present == 2);
  const BlockCache::Stats st = cache.GetStats();
  CHECK(st.evictions == 37);
  CHECK(st.inserts == 40);
  CHECK(st.entries == 3);
  CHECK(st.usage == 3 * charge);
  // Replacing an entry keeps one entry for the key.
  Insert(&cache, 1, 0, MakeBlock("r", 1000));
  CHECK(FirstKey(*Lookup(&cache, 1, 0)) == "r");
  CHECK(cache.GetStats().entries == 3);
  CHECK(cache.usage() == 3 * charge);
  // Different cache ids are different keys; EraseFile drops only its own.
  Insert(&cache, 2, 0, MakeBlock("o", 1000));
  CHECK(FirstKey(*Lookup(&cache, 2, 0)) == "o");
  CHECK(cache.EraseFile(2) == 1);
  CHECK(cache.GetStats().entries == 2);
  CHECK(Lookup(&cache, 2, 0) == nullptr);
  // Too big for the budget: not cached.
  Insert(&cache, 1, 99, MakeBlock("big", 10 * charge));
  CHECK(Lookup(&cache, 1, 99) == nullptr);
  CHECK(cache.usage() <= cache.capacity());
}

TEST_CASE("block_cache: usage never exceeds capacity, capacity 0 disables") {
  Random rnd(301);
  BlockCache cache(64 << 10);  // 16 shards of 4 KiB
  for (int i = 0; i < 5000; i++) {
    Insert(&cache, rnd.Uniform(8), rnd.Uniform(200) * 4096, MakeBlock("k", rnd.Uniform(3000)));
    REQUIRE(cache.usage() <= cache.capacity());
  }
  const BlockCache::Stats st = cache.GetStats();
  CHECK(st.evictions > 0);
  CHECK(st.usage > 0);

  BlockCache off(0);
  Insert(&off, 1, 0, MakeBlock("k", 10));
  CHECK(Lookup(&off, 1, 0) == nullptr);
  CHECK(off.usage() == 0);
  CHECK(off.GetStats().entries == 0);
}

TEST_CASE("block_cache: blocks held by readers survive eviction and erase") {
  const size_t charge = Charge(*MakeBlock("held", 500));
  BlockCache cache(charge, 0);
  Insert(&cache, 7, 0, MakeBlock("held", 500));
  std::shared_ptr<const Block> held = Lookup(&cache, 7, 0);
  REQUIRE(held != nullptr);
  Insert(&cache, 7, 1, MakeBlock("next", 500));  // evicts the held block
  CHECK(Lookup(&cache, 7, 0) == nullptr);
  CHECK(cache.GetStats().evictions == 1);
  CHECK(FirstKey(*held) == "held");  // ASan would flag a freed block
  std::shared_ptr<const Block> held2 = Lookup(&cache, 7, 1);
  CHECK(cache.EraseFile(7) == 1);
  CHECK(cache.usage() == 0);
  CHECK(FirstKey(*held2) == "next");
}

TEST_CASE("block_cache: reservations shrink the blocks' share at once; the blocks keep an eighth") {
  const size_t charge = Charge(*MakeBlock("k", 1000));
  auto cache = std::make_shared<BlockCache>(8 * charge, /*num_shard_bits=*/0);
  for (uint64_t i = 0; i < 8; i++) Insert(cache.get(), 1, i, MakeBlock("k", 1000));
  REQUIRE(cache->usage() == 8 * charge);
  {
    BlockCache::Reservation r(cache, 3 * charge);
    CHECK(r.bytes() == 3 * charge);
    CHECK(cache->reserved() == 3 * charge);
    // Evicted when reserved, not at the next insert.
    CHECK(cache->usage() == 5 * charge);
    CHECK(cache->GetStats().evictions == 3);
    CHECK(cache->GetStats().entries == 5);
    CHECK(cache->GetStats().reserved == 3 * charge);
    for (uint64_t i = 8; i < 30; i++) {
      Insert(cache.get(), 1, i, MakeBlock("k", 1000));
      REQUIRE(cache->usage() + cache->reserved() <= cache->capacity());
    }
    CHECK(cache->usage() == 5 * charge);
    {
      // Reservations beyond the capacity: the blocks keep capacity / 8.
      BlockCache::Reservation big(cache, 100 * charge);
      CHECK(cache->usage() == charge);
      Insert(cache.get(), 1, 100, MakeBlock("k", 1000));
      CHECK(Lookup(cache.get(), 1, 100) != nullptr);
      CHECK(cache->usage() == charge);
      // Moving a reservation moves the charge, it does not add one.
      BlockCache::Reservation moved(std::move(big));
      CHECK(moved.bytes() == 100 * charge);
      CHECK(big.bytes() == 0);  // NOLINT(bugprone-use-after-move): the contract
      CHECK(cache->reserved() == 103 * charge);
    }
    CHECK(cache->reserved() == 3 * charge);
    for (uint64_t i = 200; i < 210; i++) Insert(cache.get(), 1, i, MakeBlock("k", 1000));
    CHECK(cache->usage() == 5 * charge);  // the room is back
  }
  CHECK(cache->reserved() == 0);
  for (uint64_t i = 300; i < 310; i++) Insert(cache.get(), 1, i, MakeBlock("k", 1000));
  CHECK(cache->usage() == 8 * charge);

  // No cache, or a disabled one: nothing is charged.
  BlockCache::Reservation none(nullptr, 1000);
  CHECK(none.bytes() == 0);
  auto off = std::make_shared<BlockCache>(0);
  {
    BlockCache::Reservation r(off, 1000);
    CHECK(off->reserved() == 0);
  }
  CHECK(off->reserved() == 0);
}

TEST_CASE(
    "block_cache: open tables' filters and indexes are charged to it (charge_table_metadata)") {
  for (const bool charge : {true, false}) {
    CAPTURE(charge);
    test::TempDir dir;
    Options options;
    options.durability = Durability::kNone;
    options.block_cache_size = 4 << 20;
    options.charge_table_metadata = charge;
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(options, dir.path(), &db).ok());
    // The same 2,000 keys in three L0 files: three filters and indexes.
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 2000; i++) {
        REQUIRE(db->Put(WriteOptions(), kDefaultTree, fmt::format("k{:06}", i),
                        fmt::format("v{}-{}", round, i))
                    .ok());
      }
      REQUIRE(db->Flush(kDefaultTree).ok());
    }
    const size_t three = db->GetCacheStats().block.reserved;
    REQUIRE(db->CompactFull(kDefaultTree).ok());  // one file left
    const size_t one = db->GetCacheStats().block.reserved;
    if (charge) {
      CHECK(three > 2000 * 10 / 8 * 3);  // at least the three filters' bits
      CHECK(one < three / 2);            // the compacted-away tables gave theirs back
      CHECK(one > 0);
    } else {
      CHECK(three == 0);
      CHECK(one == 0);
    }
    std::string v;
    REQUIRE(db->Get(ReadOptions(), kDefaultTree, "k001999", &v).ok());
    CHECK(v == "v2-1999");
    REQUIRE(db->Close().ok());
  }
}

TEST_CASE("block_cache: concurrent lookups and inserts from 4 threads") {
  BlockCache cache(256 << 10);
  std::atomic<uint64_t> found{0};
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      Random rnd(1000 + t);
      for (int i = 0; i < 20000; i++) {
        const uint64_t id = rnd.Uniform(4);
        const uint64_t off = rnd.Uniform(300);
        const std::string key = std::to_string(id) + ":" + std::to_string(off);
        if (auto b = Lookup(&cache, id, off)) {
          found++;
          if (FirstKey(*b) != key) bad = true;
        } else {
          Insert(&cache, id, off, MakeBlock(key, rnd.Uniform(2000)));
        }
        if (i % 5000 == 4999 && t == 0) cache.EraseFile(rnd.Uniform(4));
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(!bad);
  const BlockCache::Stats st = cache.GetStats();
  CHECK(st.hits == found.load());
  CHECK(st.hits + st.misses == 80000);
  CHECK(st.usage <= st.capacity);
  CHECK(found.load() > 0);
}

TEST_CASE("block_cache: a table read twice hits the cache") {
  test::TempDir dir;
  const std::string path = dir.Sub("000001.sst");
  io::Env* env = io::Env::Posix();
  TableOptions options;
  options.block_size = 256;
  {
    std::unique_ptr<io::WritableFile> file;
    REQUIRE(env->NewWritableFile(path, &file).ok());
    TableBuilder builder(options, file.get());
    for (int i = 0; i < 500; i++) {
      std::string ikey;
      AppendInternalKey(&ikey, fmt::format("key{:05}", i), 100, ValueKind::kValue);
      builder.Add(ikey, fmt::format("value{}", i));
    }
    REQUIRE(builder.Finish().ok());
    REQUIRE(file->Close().ok());
  }
  auto cache = std::make_shared<BlockCache>(1 << 20);
  std::unique_ptr<io::RandomAccessFile> file;
  REQUIRE(env->NewRandomAccessFile(path, &file).ok());
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(path, &size).ok());
  std::unique_ptr<Table> table;
  REQUIRE(Table::Open(std::move(file), size, &table, cache, 1).ok());
  CHECK(table->cache_id() == 1);

  auto get = [&](int i) {
    LookupKey lk(fmt::format("key{:05}", i), kMaxSequenceNumber);
    bool found = false;
    std::string ikey, value;
    REQUIRE(table->Get(lk.internal_key(), &found, &ikey, &value).ok());
    CHECK(found);
    CHECK(value == fmt::format("value{}", i));
  };
  get(123);
  BlockCache::Stats st = cache->GetStats();
  CHECK(st.hits == 0);
  CHECK(st.misses == 1);
  CHECK(st.inserts == 1);
  get(123);
  st = cache->GetStats();
  CHECK(st.hits == 1);
  CHECK(st.misses == 1);

  // A full scan misses once per block (the block of 123 is cached), then hits.
  auto scan = [&] {
    auto it = table->NewIterator();
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    CHECK(it->status().ok());
    CHECK(n == 500);
  };
  scan();
  const uint64_t blocks = table->properties().num_data_blocks;
  REQUIRE(blocks > 2);
  st = cache->GetStats();
  CHECK(st.misses == blocks);
  CHECK(st.entries == blocks);
  scan();
  CHECK(cache->GetStats().misses == blocks);
  CHECK(cache->GetStats().hits > st.hits);
  // VerifyChecksums reads the file, not the cache.
  st = cache->GetStats();
  CHECK(table->VerifyChecksums().ok());
  CHECK(cache->GetStats().hits == st.hits);
  CHECK(cache->GetStats().misses == st.misses);

  // Without an explicit id, each table gets a fresh one.
  REQUIRE(env->NewRandomAccessFile(path, &file).ok());
  std::unique_ptr<Table> table2;
  REQUIRE(Table::Open(std::move(file), size, &table2, cache).ok());
  CHECK(table2->cache_id() != 1);
}

TEST_CASE("block_cache: a DB with a block cache reads correctly") {
  test::TempDir dir;
  Options options;
  options.durability = Durability::kNone;
  options.block_cache_size = 256 << 10;  // smaller than the data: evictions happen
  options.table.block_size = 1024;
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(options, dir.path(), &db).ok());
  const int n = 3000;
  auto value_of = [](int i) { return fmt::format("value-{}-{}", i, std::string(i % 200, 'x')); };
  for (int i = 0; i < n; i++) {
    REQUIRE(db->Put(WriteOptions(), kDefaultTree, fmt::format("k{:06}", i), value_of(i)).ok());
  }
  REQUIRE(db->Flush(DB::kAllTrees).ok());
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < n; i += 7) {
      std::string v;
      REQUIRE(db->Get(ReadOptions(), kDefaultTree, fmt::format("k{:06}", i), &v).ok());
      CHECK(v == value_of(i));
    }
    std::string v;
    CHECK(db->Get(ReadOptions(), kDefaultTree, "k999999", &v).IsNotFound());
    auto it = db->NewIterator(ReadOptions(), kDefaultTree);
    int count = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (count % 100 == 0) CHECK(it->value() == value_of(count));
      count++;
    }
    CHECK(it->status().ok());
    CHECK(count == n);
  }
  const std::string debug = db->DebugString();
  CHECK(debug.find("block_cache: usage=") != std::string::npos);
  CHECK(debug.find("hits=0 ") == std::string::npos);  // the second round hit
  REQUIRE(db->Close().ok());
  db.reset();

  // Disabled cache: same answers.
  options.block_cache_size = 0;
  REQUIRE(DB::Open(options, dir.path(), &db).ok());
  std::string v;
  REQUIRE(db->Get(ReadOptions(), kDefaultTree, "k000042", &v).ok());
  CHECK(v == value_of(42));
  CHECK(db->DebugString().find("block_cache: disabled") != std::string::npos);
}
