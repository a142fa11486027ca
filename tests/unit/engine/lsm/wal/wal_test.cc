#include <doctest/doctest.h>

#include "engine/io/env.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"
#include "engine/lsm/wal/log_writer.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string Payload(int i) {
  return std::string(static_cast<size_t>(i % 300), 'a' + i % 26) + std::to_string(i);
}

uint64_t WriteLog(io::Env* env, const std::string& path, int n) {
  std::unique_ptr<io::WritableFile> f;
  REQUIRE(env->NewWritableFile(path, &f).ok());
  log::Writer w(std::move(f));
  REQUIRE(w.WriteHeader(log::kWalMagic, 7).ok());
  for (int i = 0; i < n; i++) REQUIRE(w.AddRecord(Payload(i)).ok());
  REQUIRE(w.Sync().ok());
  uint64_t size = w.Size();
  REQUIRE(w.Close().ok());
  return size;
}

std::vector<std::string> ReadAll(io::Env* env, const std::string& path,
                                 std::unique_ptr<log::Reader>* out) {
  REQUIRE(log::Reader::Open(env, path, log::kWalMagic, out).ok());
  std::vector<std::string> r;
  std::string_view p;
  while ((*out)->ReadRecord(&p)) r.emplace_back(p);
  return r;
}

}  // namespace

TEST_CASE("wal: round trip") {
  test::TempDir dir;
  io::Env* env = io::Env::Default();
  std::string path = dir.Sub("000007.log");
  WriteLog(env, path, 500);
  std::unique_ptr<log::Reader> r;
  auto recs = ReadAll(env, path, &r);
  REQUIRE(recs.size() == 500);
  for (int i = 0; i < 500; i++) CHECK(recs[i] == Payload(i));
  CHECK(r->status().ok());
  CHECK_FALSE(r->torn_tail());
  CHECK(r->file_number() == 7);
}

TEST_CASE("wal: every torn tail is detected and the intact prefix kept") {
  test::TempDir dir;
  io::Env* env = io::Env::Default();
  std::string path = dir.Sub("000007.log");
  uint64_t full = WriteLog(env, path, 20);
  std::string data;
  REQUIRE(io::ReadFileToString(env, path, &data).ok());
  // Cut the file at every length: the reader returns a prefix of the records, never garbage.
  for (uint64_t cut = 0; cut < full; cut += 7) {
    REQUIRE(io::WriteStringToFile(env, std::string_view(data).substr(0, cut), path, false).ok());
    std::unique_ptr<log::Reader> r;
    auto recs = ReadAll(env, path, &r);
    CHECK(r->status().ok());
    for (size_t i = 0; i < recs.size(); i++) CHECK(recs[i] == Payload(static_cast<int>(i)));
    CHECK(recs.size() < 20);
    CHECK(r->valid_end() <= cut);
    if (!r->torn_tail()) CHECK(r->valid_end() == cut);  // cut fell on a record boundary
  }
}

TEST_CASE("wal: zero-filled tail is a torn tail") {
  test::TempDir dir;
  io::Env* env = io::Env::Default();
  std::string path = dir.Sub("000007.log");
  uint64_t full = WriteLog(env, path, 10);
  std::string data;
  REQUIRE(io::ReadFileToString(env, path, &data).ok());
  data.append(4096, '\0');
  REQUIRE(io::WriteStringToFile(env, data, path, false).ok());
  std::unique_ptr<log::Reader> r;
  auto recs = ReadAll(env, path, &r);
  CHECK(recs.size() == 10);
  CHECK(r->status().ok());
  CHECK(r->torn_tail());
  CHECK(r->valid_end() == full);
}

TEST_CASE("wal: a damaged record before intact ones is corruption, not a torn tail") {
  test::TempDir dir;
  io::Env* env = io::Env::Default();
  std::string path = dir.Sub("000007.log");
  WriteLog(env, path, 50);
  std::unique_ptr<log::Reader> clean;
  ReadAll(env, path, &clean);
  // Flip a byte in the middle of the file.
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(path, &size).ok());
  REQUIRE(io::FaultEnv::CorruptByte(env, path, size / 2).ok());
  std::unique_ptr<log::Reader> r;
  auto recs = ReadAll(env, path, &r);
  CHECK(recs.size() < 50);
  CHECK(r->status().IsCorruption());
  CHECK(r->status().ToString().find("refusing to drop data") != std::string::npos);
}

TEST_CASE("wal: wrong magic is corruption") {
  test::TempDir dir;
  io::Env* env = io::Env::Default();
  std::string path = dir.Sub("000007.log");
  WriteLog(env, path, 3);
  std::unique_ptr<log::Reader> r;
  Status s = log::Reader::Open(env, path, log::kManifestMagic, &r);
  CHECK(s.IsCorruption());
}
