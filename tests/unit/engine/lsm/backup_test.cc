// Tests of offline backup and restore (engine/lsm/backup.h), the logic behind
// `basalt-admin backup`, `verify-backup` and `restore`: a backup of a DB with
// several trees verifies and restores to the same contents; SSTables are
// hard-linked (or copied where links are impossible, and reported); a DB in
// use, a non-empty target and every kind of damage (flipped byte, missing
// file, missing or broken BACKUP.json) are refused or reported.
#include "engine/lsm/backup.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

io::Env* E() { return io::Env::Default(); }

Options SmallOptions() {
  Options o;
  o.write_buffer_size = 64 << 10;
  o.table.block_size = 1024;
  o.target_file_size = 16 << 10;
  o.max_bytes_for_level_base = 512 << 10;
  return o;
}

using Contents = std::map<std::string, std::map<std::string, std::string>>;  // tree -> kv

// Every tree's live entries, by tree name.
Contents ReadAll(DB* db) {
  Contents c;
  for (const TreeInfo& t : db->ListTrees()) {
    auto& kv = c[t.name];
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions(), t.id);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      kv[std::string(it->key())] = std::string(it->value());
    }
    REQUIRE(it->status().ok());
  }
  return c;
}

Contents ReadAll(const std::string& dir, Options o = SmallOptions()) {
  o.create_if_missing = false;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  Contents c = ReadAll(db.get());
  REQUIRE(db->Close().ok());
  return c;
}

// A DB with three trees, several SSTables per tree, deletes, and an
// unflushed WAL tail; closed. Returns its contents.
Contents BuildDb(const std::string& dir, Options o = SmallOptions()) {
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, dir, &db).ok());
  TreeId a = 0, b = 0;
  REQUIRE(db->CreateTree("orders", &a).ok());
  REQUIRE(db->CreateTree("orders.gsi", &b).ok());
  WriteOptions nosync;
  nosync.sync = false;
  for (int i = 0; i < 2000; i++) {
    const std::string v(80, static_cast<char>('a' + i % 26));
    REQUIRE(db->Put(nosync, kDefaultTree, fmt::format("d{:06}", i), v).ok());
    REQUIRE(db->Put(nosync, a, fmt::format("o{:06}", i), v + "-order").ok());
    if (i % 3 == 0) REQUIRE(db->Put(nosync, b, fmt::format("g{:06}", i), "idx").ok());
  }
  REQUIRE(db->Delete(nosync, a, "o000007").ok());
  for (TreeId t : {kDefaultTree, a, b}) REQUIRE(db->Flush(t).ok());
  for (int i = 0; i < 30; i++) {
    REQUIRE(db->Put(WriteOptions(), a, fmt::format("tail{:03}", i), "in-the-wal").ok());
  }
  Contents c = ReadAll(db.get());
  REQUIRE(db->Close().ok());
  return c;
}

// An Env without hard links: backups and restores copy every file.
class NoLinkEnv : public io::EnvWrapper {
 public:
  NoLinkEnv() : io::EnvWrapper(io::Env::Default()) {}
  Status LinkFile(const std::string& from, const std::string& to) override {
    return Status::NotSupported(from + " -> " + to, "no links in this test");
  }
};

struct Verdict {
  bool intact = false;
  std::string text;
};

Verdict Verify(const std::string& dest, const KeyRing* keys = nullptr, io::Env* env = E()) {
  std::vector<std::string> lines;
  Verdict v;
  Status s = VerifyBackup(env, dest, keys, &lines, &v.intact);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  for (const auto& l : lines) v.text += l + "\n";
  return v;
}

std::string FirstTable(const BackupInfo& info) {
  for (const BackupFile& f : info.files) {
    if (f.type == FileType::kTable) return f.name;
  }
  FAIL("no SSTable in the backup");
  return "";
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

}  // namespace

TEST_CASE("backup: back up, verify and restore a DB with several trees") {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("db"), dest = tmp.Sub("backup"), restored = tmp.Sub("restored");
  const Contents before = BuildDb(dir);
  REQUIRE(before.size() == 3);

  BackupInfo info;
  std::string fallback = "unset";
  Status s = BackupDbDirectory(E(), dir, dest, nullptr, &info, &fallback);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(fallback.empty());
  CHECK(E()->FileExists(dest + "/" + kBackupInfoFileName));
  CHECK_FALSE(E()->FileExists(dest + "/LOCK"));
  CHECK_FALSE(info.encrypted);
  CHECK(info.source == "db");
  int tables = 0, wals = 0;
  for (const BackupFile& f : info.files) {
    INFO(f.name);
    // SSTables share the source's inode; the mutable files are copies.
    struct stat st {};
    REQUIRE(::stat((dest + "/" + f.name).c_str(), &st) == 0);
    CHECK(static_cast<uint64_t>(st.st_size) == f.size);
    if (f.type == FileType::kTable) {
      tables++;
      CHECK(f.linked);
      CHECK(st.st_nlink == 2);
    } else {
      if (f.type == FileType::kWal) wals++;
      CHECK_FALSE(f.linked);
      CHECK(st.st_nlink == 1);
    }
  }
  CHECK(tables >= 3);
  CHECK(wals >= 1);
  // The source still opens and is unchanged by the backup.
  CHECK(ReadAll(dir) == before);

  Verdict v = Verify(dest);
  INFO(v.text);
  CHECK(v.intact);
  CHECK(v.text.find("backup summary: intact") != std::string::npos);
  CHECK(v.text.find("BACKUP.json: ok") != std::string::npos);

  // What BACKUP.json says, read back.
  BackupInfo read;
  REQUIRE(ReadBackupInfo(E(), dest, &read).ok());
  CHECK(read.files.size() == info.files.size());
  CHECK(read.manifest == info.manifest);
  CHECK(read.last_sequence == info.last_sequence);
  CHECK(read.created == info.created);

  std::vector<std::string> lines;
  s = RestoreBackup(E(), dest, restored, nullptr, &lines, &fallback);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(fallback.empty());
  CHECK_FALSE(E()->FileExists(restored + ".restore-tmp"));
  CHECK_FALSE(E()->FileExists(restored + "/" + kBackupInfoFileName));
  CHECK(ReadAll(restored) == before);
  // The restored DB takes writes; the backup stays intact (linked SSTables
  // are never written to, and compaction only unlinks).
  {
    Options o = SmallOptions();
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, restored, &db).ok());
    for (int i = 0; i < 3000; i++) {
      REQUIRE(db->Put(WriteOptions(), kDefaultTree, fmt::format("new{:05}", i), "x").ok());
    }
    REQUIRE(db->CompactAll(kDefaultTree).ok());
    REQUIRE(db->Close().ok());
  }
  CHECK(Verify(dest).intact);
}

TEST_CASE("backup: restore into an existing empty directory; refusals") {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("db"), dest = tmp.Sub("backup");
  const Contents before = BuildDb(dir);

  SUBCASE("a DB in use") {
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(SmallOptions(), dir, &db).ok());
    Status s = BackupDbDirectory(E(), dir, dest, nullptr, nullptr, nullptr);
    CHECK(s.IsBusy());
    CHECK_FALSE(E()->FileExists(dest));
    REQUIRE(db->Close().ok());
  }
  SUBCASE("not a DB") {
    std::filesystem::create_directories(tmp.Sub("empty"));
    CHECK(BackupDbDirectory(E(), tmp.Sub("empty"), dest, nullptr, nullptr, nullptr)
              .IsInvalidArgument());
    CHECK_FALSE(E()->FileExists(tmp.Sub("empty") + "/LOCK"));
  }
  SUBCASE("a non-empty DEST, and a non-empty restore target") {
    REQUIRE(BackupDbDirectory(E(), dir, dest, nullptr, nullptr, nullptr).ok());
    CHECK(BackupDbDirectory(E(), dir, dest, nullptr, nullptr, nullptr).IsInvalidArgument());
    std::vector<std::string> lines;
    CHECK(RestoreBackup(E(), dest, dir, nullptr, &lines, nullptr).IsInvalidArgument());
    // An empty directory is a valid target (trailing slash and all).
    const std::string target = tmp.Sub("target");
    std::filesystem::create_directories(target);
    Status s = RestoreBackup(E(), dest, target + "/", nullptr, &lines, nullptr);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(ReadAll(target) == before);
  }
  SUBCASE("a leftover staging directory") {
    REQUIRE(BackupDbDirectory(E(), dir, dest, nullptr, nullptr, nullptr).ok());
    std::filesystem::create_directories(tmp.Sub("r.restore-tmp"));
    std::vector<std::string> lines;
    CHECK(RestoreBackup(E(), dest, tmp.Sub("r"), nullptr, &lines, nullptr).IsInvalidArgument());
    CHECK_FALSE(E()->FileExists(tmp.Sub("r")));
  }
}

TEST_CASE("backup: without hard links every file is copied, and said so") {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("db"), dest = tmp.Sub("backup");
  const Contents before = BuildDb(dir);
  NoLinkEnv env;
  BackupInfo info;
  std::string fallback;
  REQUIRE(BackupDbDirectory(&env, dir, dest, nullptr, &info, &fallback).ok());
  CHECK(fallback.find("no links in this test") != std::string::npos);
  for (const BackupFile& f : info.files) CHECK_FALSE(f.linked);
  struct stat st {};
  REQUIRE(::stat((dest + "/" + FirstTable(info)).c_str(), &st) == 0);
  CHECK(st.st_nlink == 1);
  CHECK(Verify(dest, nullptr, &env).intact);
  std::vector<std::string> lines;
  REQUIRE(RestoreBackup(&env, dest, tmp.Sub("r"), nullptr, &lines, &fallback).ok());
  CHECK_FALSE(fallback.empty());
  CHECK(ReadAll(tmp.Sub("r")) == before);
}

TEST_CASE("backup: damage is detected and a damaged backup is not restored") {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("db"), dest = tmp.Sub("backup");
  BuildDb(dir);
  // Copies, so that damaging the backup leaves the source alone.
  NoLinkEnv env;
  BackupInfo info;
  REQUIRE(BackupDbDirectory(&env, dir, dest, nullptr, &info, nullptr).ok());
  REQUIRE(Verify(dest).intact);
  std::vector<std::string> lines;

  SUBCASE("a flipped byte in an SSTable") {
    const std::string t = FirstTable(info);
    FlipByte(dest + "/" + t, 100);
    Verdict v = Verify(dest);
    INFO(v.text);
    CHECK_FALSE(v.intact);
    CHECK(v.text.find(t + ": CORRUPT: xxh3") != std::string::npos);
    CHECK(v.text.find("backup summary: NOT INTACT") != std::string::npos);
    CHECK(RestoreBackup(E(), dest, tmp.Sub("r"), nullptr, &lines, nullptr).IsCorruption());
    CHECK_FALSE(E()->FileExists(tmp.Sub("r")));
  }
  SUBCASE("a missing file") {
    const std::string t = FirstTable(info);
    std::filesystem::remove(dest + "/" + t);
    Verdict v = Verify(dest);
    INFO(v.text);
    CHECK_FALSE(v.intact);
    CHECK(v.text.find(t + ": MISSING") != std::string::npos);
    CHECK(RestoreBackup(E(), dest, tmp.Sub("r"), nullptr, &lines, nullptr).IsCorruption());
  }
  SUBCASE("a missing BACKUP.json (an interrupted backup)") {
    std::filesystem::remove(dest + "/" + kBackupInfoFileName);
    Verdict v = Verify(dest);
    INFO(v.text);
    CHECK_FALSE(v.intact);
    CHECK(v.text.find("BACKUP.json: MISSING") != std::string::npos);
    BackupInfo ignored;
    CHECK(ReadBackupInfo(E(), dest, &ignored).IsNotFound());
    CHECK(RestoreBackup(E(), dest, tmp.Sub("r"), nullptr, &lines, nullptr).IsCorruption());
    CHECK_FALSE(E()->FileExists(tmp.Sub("r")));
  }
  SUBCASE("a BACKUP.json that names a path, or a newer format") {
    std::string text;
    REQUIRE(io::ReadFileToString(E(), dest + "/" + kBackupInfoFileName, &text).ok());
    std::string evil = text;
    const size_t at = evil.find("\"CURRENT\"");
    REQUIRE(at != std::string::npos);
    evil.replace(at, 9, "\"../CURRENT\"");
    REQUIRE(io::WriteStringToFile(E(), evil, dest + "/" + kBackupInfoFileName, true).ok());
    BackupInfo ignored;
    CHECK(ReadBackupInfo(E(), dest, &ignored).IsCorruption());
    CHECK_FALSE(Verify(dest).intact);
    std::string newer = text;
    const size_t v = newer.find("\"format_version\": 1");
    REQUIRE(v != std::string::npos);
    newer.replace(v, 19, "\"format_version\": 2");
    REQUIRE(io::WriteStringToFile(E(), newer, dest + "/" + kBackupInfoFileName, true).ok());
    CHECK(ReadBackupInfo(E(), dest, &ignored).IsNotSupported());
  }
}

TEST_CASE("backup: an encrypted DB stays encrypted and restores with its key") {
  test::TempDir tmp;
  const std::string dir = tmp.Sub("db"), dest = tmp.Sub("backup");
  std::shared_ptr<const KeyRing> ring;
  REQUIRE(KeyRing::FromKeys({{7, std::string(32, 'k')}}, &ring).ok());
  Options o = SmallOptions();
  o.encryption_keys = ring;
  const Contents before = BuildDb(dir, o);

  // The manifest cannot be read without the key.
  CHECK_FALSE(BackupDbDirectory(E(), dir, dest, nullptr, nullptr, nullptr).ok());
  std::filesystem::remove_all(dest);
  BackupInfo info;
  REQUIRE(BackupDbDirectory(E(), dir, dest, ring.get(), &info, nullptr).ok());
  CHECK(info.encrypted);
  CHECK(info.key_id == 7);
  // No plaintext value in any file of the backup.
  for (const BackupFile& f : info.files) {
    std::string data;
    REQUIRE(io::ReadFileToString(E(), dest + "/" + f.name, &data).ok());
    CHECK_MESSAGE(data.find("in-the-wal") == std::string::npos, f.name);
    CHECK_MESSAGE(data.find("-order") == std::string::npos, f.name);
  }
  CHECK_FALSE(Verify(dest).intact);  // no key: the DB checks cannot read the files
  CHECK(Verify(dest, ring.get()).intact);
  std::vector<std::string> lines;
  CHECK(RestoreBackup(E(), dest, tmp.Sub("r"), nullptr, &lines, nullptr).IsCorruption());
  REQUIRE(RestoreBackup(E(), dest, tmp.Sub("r"), ring.get(), &lines, nullptr).ok());
  CHECK(ReadAll(tmp.Sub("r"), o) == before);
}
