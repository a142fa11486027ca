#include "engine/lsm/level_iterator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/merging_iterator.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version.h"
#include "tests/testutil/sst_file.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Entry = std::pair<std::string, std::string>;  // internal key, value

std::string IKey(std::string_view user, SequenceNumber seq) {
  std::string k;
  AppendInternalKey(&k, user, seq, ValueKind::kValue);
  return k;
}

bool EntryLess(const Entry& a, const Entry& b) { return CompareInternalKey(a.first, b.first) < 0; }

std::shared_ptr<TableFile> MakeFile(const test::TempDir& dir, uint64_t number,
                                    const std::vector<Entry>& entries) {
  return test::WriteSstFile(dir, number, entries, /*block_size=*/128);
}

// n sorted entries over random user keys, several versions of some.
std::vector<Entry> RandomEntries(Random* rnd, size_t n) {
  std::vector<Entry> r;
  SequenceNumber seq = 0;
  while (r.size() < n) {
    const std::string user = "k" + std::to_string(100000 + rnd->Uniform(900000));
    for (uint64_t v = 1 + (rnd->OneIn(10) ? rnd->Uniform(5) : 0); v > 0; v--) {
      seq++;
      r.emplace_back(IKey(user, seq), "v" + std::to_string(seq));
    }
  }
  std::sort(r.begin(), r.end(), EntryLess);
  r.erase(std::unique(r.begin(), r.end(),
                      [](const Entry& a, const Entry& b) { return a.first == b.first; }),
          r.end());
  return r;
}

// The model's answer to Seek(target): the first entry >= target.
size_t LowerBound(const std::vector<Entry>& model, std::string_view target) {
  return static_cast<size_t>(std::lower_bound(model.begin(), model.end(), target,
                                              [](const Entry& e, std::string_view t) {
                                                return CompareInternalKey(e.first, t) < 0;
                                              }) -
                             model.begin());
}

// Drives it and the model through the same random moves.
void CheckAgainstModel(Random* rnd, Iterator* it, const std::vector<Entry>& model) {
  std::vector<Entry> seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->key(), it->value());
  REQUIRE(it->status().ok());
  CHECK(seen == model);
  seen.clear();
  for (it->SeekToLast(); it->Valid(); it->Prev()) seen.emplace_back(it->key(), it->value());
  REQUIRE(it->status().ok());
  std::reverse(seen.begin(), seen.end());
  CHECK(seen == model);

  for (int round = 0; round < 400; round++) {
    std::string target;
    switch (rnd->Uniform(4)) {
      case 0:
        target = model[rnd->Uniform(model.size())].first;
        break;
      case 1:  // an absent user key (gaps between files included)
        target =
            IKey("k" + std::to_string(100000 + rnd->Uniform(900000)) + "x", kMaxSequenceNumber);
        break;
      case 2:
        target = IKey("a", kMaxSequenceNumber);  // before everything
        break;
      default:
        target = IKey("z", kMaxSequenceNumber);  // after everything
    }
    it->Seek(target);
    size_t pos = LowerBound(model, target);
    for (int step = 0; step < 30; step++) {
      REQUIRE(it->Valid() == (pos < model.size()));
      if (pos >= model.size()) break;
      CHECK(it->key() == model[pos].first);
      CHECK(it->value() == model[pos].second);
      if (rnd->OneIn(3)) {
        it->Prev();
        if (pos == 0) {
          REQUIRE(!it->Valid());
          break;
        }
        pos--;
      } else {
        it->Next();
        pos++;
      }
    }
    REQUIRE(it->status().ok());
  }
}

}  // namespace

TEST_CASE("level iterator: a run of files reads like one sorted table") {
  test::TempDir dir;
  Random rnd(7);
  const std::vector<Entry> all = RandomEntries(&rnd, 3000);
  // Cut into 12 files at random positions (a user key's versions may span
  // two files: they are still disjoint in internal-key order).
  std::vector<size_t> cuts = {0, all.size()};
  while (cuts.size() < 13) {
    const size_t c = 1 + rnd.Uniform(all.size() - 1);
    if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
  }
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::shared_ptr<TableFile>> files;
  for (size_t i = 0; i + 1 < cuts.size(); i++) {
    files.push_back(MakeFile(dir, i + 1,
                             std::vector<Entry>(all.begin() + static_cast<long>(cuts[i]),
                                                all.begin() + static_cast<long>(cuts[i + 1]))));
  }
  std::unique_ptr<Iterator> it = NewLevelIterator(files, TableReadOptions());
  CheckAgainstModel(&rnd, it.get(), all);

  SUBCASE("one file") {
    std::unique_ptr<Iterator> one = NewLevelIterator({files.data(), 1}, TableReadOptions());
    CheckAgainstModel(&rnd, one.get(),
                      std::vector<Entry>(all.begin(), all.begin() + static_cast<long>(cuts[1])));
  }
}

TEST_CASE("level iterator: runs of overlapping files merge to the union") {
  test::TempDir dir;
  Random rnd(11);
  // Three disjoint files, then two that overlap them (as L0 files do),
  // so AppendRunIterators makes two runs: [f1 f2 f3] [f4 f5].
  std::vector<Entry> a = RandomEntries(&rnd, 1500);
  std::vector<Entry> b = RandomEntries(&rnd, 400);
  for (size_t i = 0; i < b.size(); i++) {  // sequence numbers a does not use
    b[i].first = IKey(std::string(ExtractUserKey(b[i].first)), 1000000 + i);
  }
  std::sort(b.begin(), b.end(), EntryLess);
  std::vector<std::shared_ptr<TableFile>> files;
  files.push_back(MakeFile(dir, 1, {a.begin(), a.begin() + 500}));
  files.push_back(MakeFile(dir, 2, {a.begin() + 500, a.begin() + 1000}));
  files.push_back(MakeFile(dir, 3, {a.begin() + 1000, a.end()}));
  files.push_back(MakeFile(dir, 4, {b.begin(), b.begin() + 200}));
  files.push_back(MakeFile(dir, 5, {b.begin() + 200, b.end()}));
  std::vector<std::unique_ptr<Iterator>> children;
  AppendRunIterators(files, TableReadOptions(), &children);
  // f4 starts below f3's largest key: a new run; f5 lies wholly after f4,
  // so it joins f4's run.
  CHECK(children.size() == 2);
  std::unique_ptr<Iterator> merged = NewMergingIterator(std::move(children));
  std::vector<Entry> model = a;
  model.insert(model.end(), b.begin(), b.end());
  std::sort(model.begin(), model.end(), EntryLess);
  CheckAgainstModel(&rnd, merged.get(), model);
}

TEST_CASE("level iterator: a corrupt table ends iteration with its error") {
  test::TempDir dir;
  Random rnd(3);
  const std::vector<Entry> all = RandomEntries(&rnd, 900);
  std::vector<std::shared_ptr<TableFile>> files;
  for (size_t i = 0; i < 3; i++) {
    files.push_back(MakeFile(dir, i + 1,
                             {all.begin() + static_cast<long>(300 * i),
                              all.begin() + static_cast<long>(300 * (i + 1))}));
  }
  {
    // Flip a byte of the middle file's first data block (its index, read at
    // open, is intact).
    std::fstream f(files[1]->path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(20);
    const char c = static_cast<char>(f.get());
    f.seekp(20);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  std::unique_ptr<Iterator> it = NewLevelIterator(files, TableReadOptions());
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
  CHECK(n == 300);  // the first file, then the error
  CHECK(it->status().IsCorruption());
  it->Seek(all[700].first);  // the third file: the error sticks
  CHECK(!it->Valid());
  CHECK(it->status().IsCorruption());
}
