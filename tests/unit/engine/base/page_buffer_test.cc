#include "engine/base/page_buffer.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <utility>

using namespace basalt;

TEST_CASE("page buffer: whole pages, zero-filled, grown with the contents kept") {
  PageBuffer empty;
  CHECK(empty.data() == nullptr);
  CHECK(empty.capacity() == 0);
  PageBuffer none(0);
  CHECK(none.data() == nullptr);

  PageBuffer b(5000);
  REQUIRE(b.data() != nullptr);
  CHECK(b.capacity() == 8192);
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % 4096 == 0);
  CHECK(b.data()[0] == 0);
  CHECK(b.data()[8191] == 0);
  std::memset(b.data(), 'a', 8192);
  b.Reserve(100);  // never shrinks
  CHECK(b.capacity() == 8192);
  b.Reserve(3 << 20);
  CHECK(b.capacity() == size_t{3} << 20);
  CHECK(b.data()[0] == 'a');
  CHECK(b.data()[8191] == 'a');
  CHECK(b.data()[8192] == 0);  // new pages are zero

  char* p = b.data();
  PageBuffer moved(std::move(b));
  CHECK(moved.data() == p);
  CHECK(b.data() == nullptr);  // NOLINT(bugprone-use-after-move): the contract
  CHECK(b.capacity() == 0);
  PageBuffer assigned(4096);
  assigned = std::move(moved);  // unmaps its own pages first
  CHECK(assigned.data() == p);
  CHECK(assigned.capacity() == size_t{3} << 20);
}

TEST_CASE("page vector: push_back across many growths keeps every element") {
  PageVector<uint64_t> v;
  CHECK(v.empty());
  CHECK(v.span().empty());
  constexpr uint64_t kN = 1'000'000;  // 8 MB: grows from 64 KiB six times
  for (uint64_t i = 0; i < kN; i++) v.push_back(i * 0x9e3779b97f4a7c15ull);
  REQUIRE(v.size() == kN);
  const auto s = v.span();
  REQUIRE(s.size() == kN);
  uint64_t bad = 0;
  for (uint64_t i = 0; i < kN; i++) bad += s[i] != i * 0x9e3779b97f4a7c15ull;
  CHECK(bad == 0);
}
