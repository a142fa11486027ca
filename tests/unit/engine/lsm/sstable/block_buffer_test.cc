#include "engine/lsm/sstable/block_buffer.h"

#include <doctest/doctest.h>
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using basalt::lsm::BlockBuffer;

namespace {

// Each case starts from nothing pooled.
void DrainFreeList() {
  BlockBuffer::TrimThisThread();
  REQUIRE(BlockBuffer::PooledOnThisThread() == 0);
}

}  // namespace

TEST_CASE("block buffer: sizes, rounding, moves") {
  DrainFreeList();  // a fresh allocation, not one pooled by an earlier test
  BlockBuffer empty;
  CHECK(empty.size() == 0);
  CHECK(empty.data() == nullptr);
  BlockBuffer zero(0);
  CHECK(zero.data() == nullptr);

  BlockBuffer b(4100);
  CHECK(b.size() == 4100);
  CHECK(b.capacity() >= 4100);
  CHECK(b.capacity() % BlockBuffer::kGranule == 0);
  CHECK(b.capacity() < 4100 + BlockBuffer::kGranule);
  std::memset(b.data(), 'x', b.size());
  b.Truncate(10);
  CHECK(b.view() == std::string_view("xxxxxxxxxx"));

  char* p = b.data();
  BlockBuffer moved(std::move(b));
  CHECK(moved.data() == p);
  CHECK(b.data() == nullptr);  // NOLINT(bugprone-use-after-move): the contract
  CHECK(b.size() == 0);
  BlockBuffer assigned;
  assigned = std::move(moved);
  CHECK(assigned.data() == p);
  CHECK(assigned.size() == 10);
}

TEST_CASE("block buffer: a released buffer is reused for a similar size on the same thread") {
  DrainFreeList();
  char* p = nullptr;
  {
    BlockBuffer b(4200);
    p = b.data();
  }
  CHECK(BlockBuffer::PooledOnThisThread() == 1);
#if defined(__SANITIZE_ADDRESS__)
  CHECK(__asan_address_is_poisoned(p));  // a use after release is still caught
#endif
  {
    BlockBuffer small(100);  // far smaller: would waste the pooled one
    CHECK(small.data() != p);
    CHECK(BlockBuffer::PooledOnThisThread() == 1);
  }
  CHECK(BlockBuffer::PooledOnThisThread() == 2);
  BlockBuffer again(4000);
  CHECK(again.data() == p);
  CHECK(BlockBuffer::PooledOnThisThread() == 1);
#if defined(__SANITIZE_ADDRESS__)
  CHECK(!__asan_address_is_poisoned(p + 3999));
  CHECK(__asan_address_is_poisoned(p + 4000));  // past size(): off limits
#endif

  // Another thread's releases go to its own list, not this one.
  std::thread([] {
    { BlockBuffer t(4000); }
    CHECK(BlockBuffer::PooledOnThisThread() == 1);
  }).join();
  CHECK(BlockBuffer::PooledOnThisThread() == 1);
}

TEST_CASE("block buffer: the free list is bounded") {
  DrainFreeList();
  {
    std::vector<BlockBuffer> many;
    for (size_t i = 0; i < 3 * BlockBuffer::kMaxPooled; i++) many.emplace_back(4096);
  }
  CHECK(BlockBuffer::PooledOnThisThread() == BlockBuffer::kMaxPooled);
  DrainFreeList();
  { BlockBuffer huge(BlockBuffer::kMaxPooledBuffer + 1); }
  CHECK(BlockBuffer::PooledOnThisThread() == 0);
  {
    // Each 200 KiB: the byte bound (256 KiB) keeps one.
    std::vector<BlockBuffer> big;
    for (int i = 0; i < 8; i++) big.emplace_back(200 << 10);
  }
  CHECK(BlockBuffer::PooledOnThisThread() == BlockBuffer::kMaxPooledBytes / (size_t{200} << 10));
}

TEST_CASE("block buffer: a large buffer is mapped pages, never pooled") {
  DrainFreeList();
  const size_t n = (size_t{2} << 20) + 5;  // a compaction read-ahead window and a bit
  char* p = nullptr;
  {
    BlockBuffer big(n);
    p = big.data();
    CHECK(big.size() == n);
    CHECK(reinterpret_cast<uintptr_t>(p) % 4096 == 0);  // from mmap, not malloc
    CHECK(big.capacity() % 4096 == 0);
    CHECK(big.capacity() >= n);
    std::memset(p, 'y', n);
    BlockBuffer moved(std::move(big));
    CHECK(moved.data() == p);
    CHECK(moved.view().substr(n - 3) == "yyy");
  }
  CHECK(BlockBuffer::PooledOnThisThread() == 0);
  // Just above the pooled limit is mapped too; just at it is malloc'd and pooled.
  { BlockBuffer edge(BlockBuffer::kMaxPooledBuffer + 1); }
  CHECK(BlockBuffer::PooledOnThisThread() == 0);
  { BlockBuffer at(BlockBuffer::kMaxPooledBuffer); }
  CHECK(BlockBuffer::PooledOnThisThread() == 1);
  DrainFreeList();
}
