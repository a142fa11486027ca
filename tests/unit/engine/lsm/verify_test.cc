// Tests of VerifyDbDirectory (engine/lsm/verify.h), the checks behind
// `basalt-admin verify`: each damage the engine would refuse at open is a
// problem, each thing it repairs silently is a note, and nothing is modified.
#include "engine/lsm/verify.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string Key(int i) { return fmt::format("key{:06}", i); }

Options SmallOptions() {
  Options o;
  o.write_buffer_size = 64 << 10;
  o.table.block_size = 1024;
  o.target_file_size = 16 << 10;  // several L1 files whenever compaction runs
  o.max_bytes_for_level_base = 512 << 10;
  return o;
}

// Builds a DB with several SSTables and a WAL holding `wal_tail` unflushed
// records, then closes it.
void BuildDb(const std::string& dir, int wal_tail = 40, Options options = SmallOptions()) {
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(options, dir, &db).ok());
  WriteOptions nosync;
  nosync.sync = false;
  for (int i = 0; i < 3000; i++) {
    REQUIRE(db->Put(nosync, kDefaultTree, Key(i), std::string(100, static_cast<char>('a' + i % 26)))
                .ok());
  }
  REQUIRE(db->Delete(nosync, kDefaultTree, Key(7)).ok());
  REQUIRE(db->Flush(kDefaultTree).ok());
  for (int i = 0; i < wal_tail; i++) {
    REQUIRE(db->Put(WriteOptions(), kDefaultTree, Key(100000 + i), "tail-value").ok());
  }
  REQUIRE(db->Close().ok());
}

struct Result {
  bool intact = false;
  std::vector<std::string> lines;

  // Lines mentioning every one of the needles.
  int Count(std::initializer_list<std::string_view> needles) const {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      for (auto n : needles) {
        if (l.find(n) == std::string::npos) return false;
      }
      return true;
    }));
  }
  std::string Text() const {
    std::string r;
    for (const auto& l : lines) r += l + "\n";
    return r;
  }
};

Result Verify(const std::string& dir) {
  Result r;
  Status s = VerifyDbDirectory(io::Env::Default(), dir, &r.lines, &r.intact);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(!r.lines.empty());
  CHECK(r.lines.back().starts_with("summary: "));
  return r;
}

// Numbers of the files of one type in dir, ascending.
std::vector<uint64_t> Files(const std::string& dir, FileType type) {
  std::vector<uint64_t> r;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t num;
    if (ParseFileName(e.path().filename().string(), &num) == type) r.push_back(num);
  }
  std::sort(r.begin(), r.end());
  return r;
}

// Name -> contents of every file in dir.
std::map<std::string, std::string> DirContents(const std::string& dir) {
  std::map<std::string, std::string> r;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    std::string data;
    REQUIRE(io::ReadFileToString(io::Env::Default(), e.path().string(), &data).ok());
    r[e.path().filename().string()] = std::move(data);
  }
  return r;
}

std::string Base(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

TEST_CASE("verify: an intact directory is intact and every file gets a line") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto ssts = Files(dir.path(), FileType::kTable);
  auto wals = Files(dir.path(), FileType::kWal);
  REQUIRE(ssts.size() >= 2);
  REQUIRE(!wals.empty());
  Result r = Verify(dir.path());
  CHECK_MESSAGE(r.intact, r.Text());
  CHECK(r.Count({"CURRENT: ok"}) == 1);
  CHECK(r.Count({"MANIFEST-", ": ok (", " edits, "}) == 1);
  for (uint64_t n : ssts) CHECK(r.Count({Base(TableFileName(dir.path(), n)), ": ok"}) == 1);
  for (uint64_t n : wals) CHECK(r.Count({Base(WalFileName(dir.path(), n)), ": ok"}) == 1);
  CHECK(r.Count({"CORRUPT"}) == 0);
  CHECK(r.Count({"MISSING"}) == 0);
  CHECK(r.lines.back().find("summary: intact") != std::string::npos);
}

TEST_CASE("verify: a flipped byte in an SSTable is reported and names the file") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto ssts = Files(dir.path(), FileType::kTable);
  REQUIRE(!ssts.empty());
  const std::string victim = TableFileName(dir.path(), ssts.front());
  uint64_t size = std::filesystem::file_size(victim);
  // A data block in the first half; Table::Open alone would not read it.
  REQUIRE(io::FaultEnv::CorruptByte(io::Env::Default(), victim, size / 3).ok());
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(victim), "CORRUPT"}) == 1, r.Text());
  CHECK(r.Count({"CORRUPT"}) == 1);
  CHECK(r.lines.back().find("NOT INTACT") != std::string::npos);
}

TEST_CASE("verify: a flipped byte in the middle of the WAL is corruption") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto wals = Files(dir.path(), FileType::kWal);
  REQUIRE(!wals.empty());
  const std::string wal = WalFileName(dir.path(), wals.back());
  uint64_t size = std::filesystem::file_size(wal);
  REQUIRE(size > 1000);
  REQUIRE(io::FaultEnv::CorruptByte(io::Env::Default(), wal, size / 2).ok());
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(wal), "CORRUPT", "followed by an intact record"}) == 1, r.Text());
  // The engine agrees.
  std::unique_ptr<DB> db;
  CHECK(DB::Open(SmallOptions(), dir.path(), &db).IsCorruption());
}

TEST_CASE("verify: a torn tail in the last WAL segment is intact with a note") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto wals = Files(dir.path(), FileType::kWal);
  REQUIRE(!wals.empty());
  const std::string wal = WalFileName(dir.path(), wals.back());
  uint64_t size = std::filesystem::file_size(wal);
  std::filesystem::resize_file(wal, size - 5);
  Result r = Verify(dir.path());
  CHECK_MESSAGE(r.intact, r.Text());
  CHECK(r.Count({Base(wal), "ok", "note: torn tail at offset",
                 "(unacknowledged bytes; truncated at next open)"}) == 1);
  CHECK(r.lines.back().find("1 notes") != std::string::npos);
  // The engine agrees: it opens and keeps the 39 intact records.
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(SmallOptions(), dir.path(), &db).ok());
  std::string v;
  CHECK(db->Get(ReadOptions(), kDefaultTree, Key(100000 + 38), &v).ok());
  CHECK(db->Get(ReadOptions(), kDefaultTree, Key(100000 + 39), &v).IsNotFound());
}

TEST_CASE("verify: a torn tail in a WAL segment that is not the last is corruption") {
  test::TempDir dir;
  BuildDb(dir.path());
  {
    // Reopen and close without a flush: the old segment keeps its unflushed
    // records and a new (empty) segment follows it.
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(SmallOptions(), dir.path(), &db).ok());
    REQUIRE(db->Close().ok());
  }
  auto wals = Files(dir.path(), FileType::kWal);
  REQUIRE(wals.size() >= 2);
  const std::string older = WalFileName(dir.path(), wals[wals.size() - 2]);
  std::filesystem::resize_file(older, std::filesystem::file_size(older) - 5);
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(older), "CORRUPT", "not the last one"}) == 1, r.Text());
  std::unique_ptr<DB> db;
  CHECK(DB::Open(SmallOptions(), dir.path(), &db).IsCorruption());
}

TEST_CASE("verify: a missing SSTable is reported as missing") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto ssts = Files(dir.path(), FileType::kTable);
  REQUIRE(!ssts.empty());
  const std::string victim = TableFileName(dir.path(), ssts.back());
  std::filesystem::remove(victim);
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(victim), "MISSING", "tree 0 'default'"}) == 1, r.Text());
}

TEST_CASE("verify: an SSTable of the wrong size is corruption") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto ssts = Files(dir.path(), FileType::kTable);
  REQUIRE(!ssts.empty());
  const std::string victim = TableFileName(dir.path(), ssts.front());
  std::filesystem::resize_file(victim, std::filesystem::file_size(victim) + 1);
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(victim), "CORRUPT", "but the manifest says"}) == 1, r.Text());
}

TEST_CASE("verify: a bad CURRENT checksum is corruption, the rest is still checked") {
  test::TempDir dir;
  BuildDb(dir.path());
  std::string current;
  REQUIRE(io::ReadFileToString(io::Env::Default(), CurrentFileName(dir.path()), &current).ok());
  REQUIRE(current.size() > 20);
  current[current.size() - 2] = current[current.size() - 2] == '0' ? '1' : '0';
  REQUIRE(
      io::WriteStringToFile(io::Env::Default(), current, CurrentFileName(dir.path()), true).ok());
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({"CURRENT: CORRUPT", "checksum mismatch"}) == 1, r.Text());
  CHECK(r.Count({"cross-checking with MANIFEST-"}) == 1);
  for (uint64_t n : Files(dir.path(), FileType::kTable)) {
    CHECK(r.Count({Base(TableFileName(dir.path(), n)), ": ok"}) == 1);
  }
  std::unique_ptr<DB> db;
  CHECK(DB::Open(SmallOptions(), dir.path(), &db).IsCorruption());
}

TEST_CASE("verify: CURRENT naming a missing manifest, and no CURRENT at all") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto manifests = Files(dir.path(), FileType::kManifest);
  REQUIRE(manifests.size() == 1);
  SUBCASE("manifest removed") {
    std::filesystem::remove(ManifestFileName(dir.path(), manifests[0]));
    Result r = Verify(dir.path());
    CHECK_FALSE(r.intact);
    CHECK_MESSAGE(r.Count({"CURRENT: CORRUPT", "does not exist"}) == 1, r.Text());
  }
  SUBCASE("CURRENT removed") {
    std::filesystem::remove(CurrentFileName(dir.path()));
    Result r = Verify(dir.path());
    CHECK_FALSE(r.intact);
    CHECK_MESSAGE(r.Count({"CURRENT: MISSING"}) == 1, r.Text());
  }
}

TEST_CASE("verify: a flipped byte in the manifest is corruption") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto manifests = Files(dir.path(), FileType::kManifest);
  REQUIRE(manifests.size() == 1);
  const std::string m = ManifestFileName(dir.path(), manifests[0]);
  // Inside the first edit (after the 33-byte header record): the snapshot
  // written at open is followed by the flush edits, so this is mid-log damage.
  REQUIRE(io::FaultEnv::CorruptByte(io::Env::Default(), m, 40).ok());
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(m), "CORRUPT"}) == 1, r.Text());
}

TEST_CASE("verify: orphan SSTables, old manifests and temp files are notes") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto ssts = Files(dir.path(), FileType::kTable);
  REQUIRE(!ssts.empty());
  const std::string orphan = TableFileName(dir.path(), 999999);
  std::filesystem::copy_file(TableFileName(dir.path(), ssts.front()), orphan);
  REQUIRE(io::WriteStringToFile(io::Env::Default(), "half", TempFileName(dir.path(), 999998), true)
              .ok());
  REQUIRE(io::WriteStringToFile(io::Env::Default(), "x", dir.Sub("README"), true).ok());
  Result r = Verify(dir.path());
  CHECK_MESSAGE(r.intact, r.Text());
  CHECK(r.Count({Base(orphan), "note: orphan (removed at next open)"}) == 1);
  CHECK(r.Count({"999998.tmp", "note:"}) == 1);
  CHECK(r.Count({"README", "note:"}) == 1);
}

TEST_CASE("verify: modifies nothing and does not need the lock") {
  test::TempDir dir;
  BuildDb(dir.path());
  auto wals = Files(dir.path(), FileType::kWal);
  const std::string wal = WalFileName(dir.path(), wals.back());
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 3);
  auto before = DirContents(dir.path());
  Result r = Verify(dir.path());
  CHECK(r.intact);
  CHECK(DirContents(dir.path()) == before);

  // While the DB is open (lock held by this process), verify still runs.
  Options o = SmallOptions();
  o.disable_compaction = true;  // nothing changes behind verify's back
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, dir.path(), &db).ok());
  Result live = Verify(dir.path());
  CHECK_MESSAGE(live.intact, live.Text());
  REQUIRE(db->Close().ok());
}

TEST_CASE("verify: garbage, empty and truncated files never crash") {
  test::TempDir dir;
  BuildDb(dir.path());
  io::Env* env = io::Env::Default();
  Random rnd(301);
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rnd.Next());
    return s;
  };
  auto ssts = Files(dir.path(), FileType::kTable);
  auto manifests = Files(dir.path(), FileType::kManifest);
  REQUIRE(ssts.size() >= 3);
  REQUIRE(manifests.size() == 1);
  const std::string m = ManifestFileName(dir.path(), manifests[0]);

  // Tables checked against the manifest: random bytes, empty, truncated.
  REQUIRE(io::WriteStringToFile(env, random_bytes(5000), TableFileName(dir.path(), ssts[0]), false)
              .ok());
  REQUIRE(io::WriteStringToFile(env, "", TableFileName(dir.path(), ssts[1]), false).ok());
  for (size_t i = 2; i < ssts.size(); i++) {
    const std::string p = TableFileName(dir.path(), ssts[i]);
    std::filesystem::resize_file(p, std::filesystem::file_size(p) / 2);
  }
  // WAL segments: random bytes (not last), empty (last: a torn header).
  REQUIRE(
      io::WriteStringToFile(env, random_bytes(3000), WalFileName(dir.path(), 999990), false).ok());
  REQUIRE(io::WriteStringToFile(env, "", WalFileName(dir.path(), 999991), false).ok());
  Result r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK(r.Count({"CORRUPT"}) == static_cast<int>(ssts.size()) + 1);
  CHECK(r.Count({"999991.log", "note: torn tail at offset 0"}) == 1);

  // A manifest cut inside its first edit: the engine would see no trees at
  // all; verify calls that corruption and checks the tables on their own.
  std::filesystem::resize_file(m, 50);
  r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK_MESSAGE(r.Count({Base(m), "CORRUPT", "default tree"}) == 1, r.Text());
  CHECK(r.Count({"not cross-checked"}) == 0);  // every table is damaged
  CHECK(r.Count({".sst: CORRUPT"}) == static_cast<int>(ssts.size()));

  // Garbage CURRENT and manifest, then empty ones.
  REQUIRE(io::WriteStringToFile(env, random_bytes(64), CurrentFileName(dir.path()), false).ok());
  REQUIRE(io::WriteStringToFile(env, random_bytes(4000), m, false).ok());
  r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK(r.Count({"CURRENT: CORRUPT"}) == 1);
  REQUIRE(io::WriteStringToFile(env, "", CurrentFileName(dir.path()), false).ok());
  REQUIRE(io::WriteStringToFile(env, "", m, false).ok());
  r = Verify(dir.path());
  CHECK_FALSE(r.intact);
  CHECK(r.Count({Base(m), "CORRUPT", "no file header"}) == 1);

  // An empty directory is not a DB.
  test::TempDir empty;
  r = Verify(empty.path());
  CHECK_FALSE(r.intact);
  CHECK(r.Count({"CURRENT: MISSING"}) == 1);

  // A directory that does not exist cannot be listed.
  std::vector<std::string> lines;
  bool intact = true;
  CHECK_FALSE(VerifyDbDirectory(env, dir.Sub("nope"), &lines, &intact).ok());
  CHECK_FALSE(intact);
}
