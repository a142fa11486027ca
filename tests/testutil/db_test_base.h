// DbTestBase: the shared fixture of the LSM tests, in the spirit of RocksDB's
// DBTestBase (db/db_test_util.h): a DB in a fresh directory with small
// options, Open / Reopen / DestroyAndReopen, readable dumps of a tree
// (Contents, FilesPerLevel), and option configurations to run one test body
// across: compaction style x block index x Env (posix, io_uring, fault).
//
//   void PutGet(test::DbTestBase& t) {
//     t.Open();
//     t.Put("a", "1");
//     CHECK(t.Get("a") == "1");
//   }
//   BASALT_DB_TEST_CASE("db: put and get", test::ConfigSet::kAll, PutGet);
//
// registers "db: put and get" (every configuration on the posix and the
// fault Env) and "db: put and get [io_uring]" (the same on the io_uring Env;
// reported as skipped where io_uring is unavailable, skip.h). Cheap tests
// loop over kAll; expensive ones over kFew. A test that needs one particular
// setup constructs a DbTestBase (default configuration) and sets options.
//
// Thread safety: a fixture belongs to one test; its DB is thread-safe as
// always, the helpers may be called from the test's threads.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/io/env.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "tests/testutil/skip.h"
#include "tests/testutil/temp_dir.h"

namespace basalt::test {

// "key" and i in 8 digits: keys that sort as their numbers do.
inline std::string Key(int i) {
  char b[32];
  std::snprintf(b, sizeof(b), "key%08d", i);
  return b;
}

// Which Env a configuration gives Options::env.
enum class EnvKind {
  kDefault,  // nullptr: io::Env::Default() (io_uring when available)
  kPosix,    // io::Env::Posix()
  kIoUring,  // io::Env::Uring(); REQUIRES HaveIoUring()
  kFault,    // an io::FaultEnv over io::Env::Posix(), owned by the fixture, no fault armed
};
const char* EnvKindName(EnvKind kind);

// One option configuration.
struct DbConfig {
  lsm::CompactionStyle compaction_style = lsm::CompactionStyle::kLeveled;
  bool use_block_index = true;
  EnvKind env = EnvKind::kDefault;

  // "leveled/block-index/posix", for failure messages.
  std::string Name() const;
};

// A shape is a compaction style and block index setting. Runs per set (on
// posix and fault, then on io_uring): kAll 8 + 4, kShapes 4 + 2, kFew and
// kLeveled 2 + 1. Cheap tests take kAll, heavier ones kShapes or kFew.
enum class ConfigSet {
  kAll,      // leveled and tiered x block index on and off, each on posix and on fault
  kShapes,   // each of those four shapes once, on posix and fault alternately
  kFew,      // leveled with the index on posix, tiered without it on fault
  kLeveled,  // leveled, with the index on posix, without it on fault (leveled shapes)
};
// The configurations of set on the posix and fault Envs (io_uring false),
// or on the io_uring Env (io_uring true: kAll's four shapes, else the
// first shape of every two).
std::vector<DbConfig> Configs(ConfigSet set, bool io_uring);

class DbTestBase {
 public:
  // Small options, so a few thousand keys reach several levels: 64 KiB
  // memtables, 1 KiB blocks, 128 KiB files, 512 KiB L1; durability and
  // everything else at their defaults; then the configuration's style,
  // block index and Env. Tests change options before Open.
  explicit DbTestBase(const DbConfig& config = DbConfig());
  // Closes the DB (a failed Close fails the test) and removes the directory.
  virtual ~DbTestBase();
  DbTestBase(const DbTestBase&) = delete;
  DbTestBase& operator=(const DbTestBase&) = delete;

  const DbConfig config;
  TempDir dir;  // the DB directory is dir.path()
  lsm::Options options;
  std::unique_ptr<lsm::DB> db;

  // The configuration's FaultEnv (kFault), else nullptr. Outlives db.
  io::FaultEnv* fault_env() { return fault_env_.get(); }

  // Opens dir with options; fails the test unless OK.
  void Open();
  // Opens dir with options; db is null unless OK.
  Status TryOpen();
  // Closes and drops the DB; fails the test unless Close is OK. No-op without
  // one. Subclasses release what they hold on the DB (snapshots) first.
  virtual void Close();
  void Reopen();
  // Closes, deletes every file in dir, opens an empty DB.
  void DestroyAndReopen();

  // The value of key, "NOT_FOUND", or "ERROR: <status>".
  std::string Get(std::string_view key, lsm::TreeId tree = lsm::kDefaultTree,
                  const lsm::Snapshot* snapshot = nullptr);
  // Fail the test unless OK.
  void Put(std::string_view key, std::string_view value, lsm::TreeId tree = lsm::kDefaultTree);
  void Delete(std::string_view key, lsm::TreeId tree = lsm::kDefaultTree);

  // A tree's live entries through an iterator, "key=value;" each, in key
  // order or backward. Fails the test on an iterator error.
  std::string Contents(lsm::TreeId tree = lsm::kDefaultTree, bool backward = false);
  std::string Contents(const lsm::ReadOptions& ro, lsm::TreeId tree, bool backward);
  // GetRange's answer in the same form, or "ERROR: <status>".
  std::string Range(lsm::TreeId tree, std::string_view start, std::string_view end, size_t limit);
  // Table files per level, L0 first, comma-separated, trailing empty levels
  // left out ("" when the tree has no table file), as RocksDB's
  // FilesPerLevel: "2,1" is two L0 files and one L1 file.
  std::string FilesPerLevel(lsm::TreeId tree = lsm::kDefaultTree);
  // Files of one type in dir, and their total size.
  int CountFiles(lsm::FileType type);
  uint64_t SizeOfFiles(lsm::FileType type);

 private:
  std::unique_ptr<io::FaultEnv> fault_env_;  // kFault only; the destructor drops db first
};

// Runs body once per configuration, each on a fresh Fixture (a DbTestBase
// or a subclass constructible from a DbConfig); INFO names the configuration.
template <typename Fixture>
void ForEachConfig(const std::vector<DbConfig>& configs, void (*body)(Fixture&)) {
  REQUIRE(!configs.empty());
  for (const DbConfig& c : configs) {
    INFO("configuration " << c.Name());
    Fixture t(c);
    body(t);
  }
}

}  // namespace basalt::test

// Registers body (void(Fixture&)) as two test cases over the configurations
// of set (a test::ConfigSet): "<name>" on the posix and fault Envs, and
// "<name> [io_uring]" on the io_uring Env, skipped (and reported so) where
// io_uring is unavailable. name: a string literal.
#define BASALT_DB_TEST_CASE(name, set, body)                                                    \
  TEST_CASE(name) { ::basalt::test::ForEachConfig(::basalt::test::Configs(set, false), body); } \
  TEST_CASE(name " [io_uring]" * ::basalt::test::SkipUnless(::basalt::test::IoUringProbe())) {  \
    ::basalt::test::ForEachConfig(::basalt::test::Configs(set, true), body);                    \
  }                                                                                             \
  static_assert(true, "")
