// MultiReadFiles (reads of several files in one batch), O_DIRECT files and
// FaultEnv's read faults, for every Env.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/io/fault_env.h"
#include "tests/testutil/skip.h"
#include "tests/testutil/temp_dir.h"

using basalt::Random;
using basalt::Status;
using basalt::test::TempDir;
using namespace basalt::io;

namespace {

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

void WriteFile(const std::string& path, const std::string& data) {
  Status s = WriteStringToFile(Env::Posix(), data, path, /*sync=*/false);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

// The open flags of this process's descriptors for path (from /proc).
std::vector<int> OpenFlagsOf(const std::string& path) {
  std::vector<int> flags;
  const std::string canonical = std::filesystem::canonical(path).string();
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (ec || target.string() != canonical) continue;
    std::ifstream info("/proc/self/fdinfo/" + e.path().filename().string());
    std::string key, value;
    while (info >> key >> value) {
      if (key == "flags:")
        flags.push_back(static_cast<int>(std::strtol(value.c_str(), nullptr, 8)));
    }
  }
  return flags;
}

// A read of [offset, offset + n) of data (what any file must return).
std::string_view Expected(const std::string& data, uint64_t offset, size_t n) {
  if (offset >= data.size()) return {};
  return std::string_view(data).substr(offset, n);
}

// Reads across three files through env, buffered or O_DIRECT.
void CheckMultiReadFiles(Env* env, bool direct) {
  TempDir dir;
  const std::vector<size_t> sizes = {100000, 4096, 12345};
  std::vector<std::string> data, paths;
  for (size_t i = 0; i < sizes.size(); i++) {
    data.push_back(Pattern(sizes[i], static_cast<uint32_t>(i + 1)));
    paths.push_back(dir.Sub("f" + std::to_string(i)));
    WriteFile(paths.back(), data.back());
  }
  INFO("env " << env->Name() << (direct ? " O_DIRECT" : " buffered"));
  std::vector<std::unique_ptr<RandomAccessFile>> files(paths.size());
  for (size_t i = 0; i < paths.size(); i++) {
    Status s = direct ? env->NewDirectRandomAccessFile(paths[i], &files[i])
                      : env->NewRandomAccessFile(paths[i], &files[i]);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  Random rnd(7);
  // Random ranges, plus the edges: empty, at and past the end, aligned.
  struct Range {
    size_t file;
    uint64_t offset;
    size_t n;
  };
  std::vector<Range> ranges = {{0, 0, 0},        {0, 0, 4096},   {1, 0, 4096}, {1, 4000, 500},
                               {2, 12000, 1000}, {2, 20000, 10}, {0, 99999, 1}};
  for (int i = 0; i < 150; i++) {
    const size_t f = rnd.Uniform(static_cast<uint32_t>(files.size()));
    ranges.push_back({f, rnd.Uniform(static_cast<uint32_t>(sizes[f])), 1 + rnd.Uniform(9000)});
  }
  std::vector<std::string> bufs(ranges.size());
  std::vector<FileReadRequest> reqs(ranges.size());
  for (size_t i = 0; i < ranges.size(); i++) {
    bufs[i].assign(ranges[i].n + 1, '\0');
    reqs[i].file = files[ranges[i].file].get();
    reqs[i].req.offset = ranges[i].offset;
    reqs[i].req.n = ranges[i].n;
    reqs[i].req.scratch = bufs[i].data() + 1;  // deliberately unaligned
  }
  Status s = MultiReadFiles(reqs.data(), reqs.size());
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  for (size_t i = 0; i < ranges.size(); i++) {
    INFO("request " << i << ": file " << ranges[i].file << " offset " << ranges[i].offset << " n "
                    << ranges[i].n);
    CHECK(reqs[i].req.status.ok());
    CHECK(reqs[i].req.result == Expected(data[ranges[i].file], ranges[i].offset, ranges[i].n));
  }
}
void MultiReadFilesBuffered(Env* env) { CheckMultiReadFiles(env, /*direct=*/false); }
void MultiReadFilesDirect(Env* env) { CheckMultiReadFiles(env, /*direct=*/true); }
BASALT_ENV_TEST_CASE("MultiReadFiles: reads across files equal the file contents, buffered",
                     MultiReadFilesBuffered);
BASALT_ENV_TEST_CASE_IF("MultiReadFiles: reads across files equal the file contents, O_DIRECT",
                        MultiReadFilesDirect, basalt::test::DirectIoProbe());

// Files of the posix Env, of `other` and of a FaultEnv over `other`, mixed.
void MixedEnvs(Env* other) {
  TempDir dir;
  const std::string a = Pattern(30000, 1), b = Pattern(30000, 2);
  WriteFile(dir.Sub("a"), a);
  WriteFile(dir.Sub("b"), b);
  FaultEnv fault(other);
  std::unique_ptr<RandomAccessFile> fa, fb, fc;
  REQUIRE(Env::Posix()->NewRandomAccessFile(dir.Sub("a"), &fa).ok());
  REQUIRE(other->NewRandomAccessFile(dir.Sub("b"), &fb).ok());
  REQUIRE(fault.NewRandomAccessFile(dir.Sub("a"), &fc).ok());
  std::vector<std::string> bufs(6, std::string(5000, '\0'));
  std::vector<FileReadRequest> reqs(6);
  const RandomAccessFile* order[6] = {fa.get(), fb.get(), fc.get(), fb.get(), fa.get(), fc.get()};
  for (size_t i = 0; i < 6; i++) {
    reqs[i].file = order[i];
    reqs[i].req.offset = 1000 * i + 7;
    reqs[i].req.n = 5000;
    reqs[i].req.scratch = bufs[i].data();
  }
  REQUIRE(MultiReadFiles(reqs.data(), reqs.size()).ok());
  for (size_t i = 0; i < 6; i++) {
    const std::string& src = order[i] == fb.get() ? b : a;
    CHECK(reqs[i].req.result == std::string_view(src).substr(1000 * i + 7, 5000));
  }
  CHECK(fault.read_count() == 2);
}
BASALT_ENV_TEST_CASE("MultiReadFiles: files of different envs in one call", MixedEnvs);

void DirectReads(Env* env) {
  TempDir dir;
  const std::string data = Pattern(3 * kDirectIoAlignment + 123, 9);
  const std::string path = dir.Sub("f");
  WriteFile(path, data);
  INFO("env " << env->Name());
  std::unique_ptr<RandomAccessFile> f;
  REQUIRE(env->NewDirectRandomAccessFile(path, &f).ok());
  CHECK(f->Size() == data.size());
  std::vector<int> flags = OpenFlagsOf(path);
  REQUIRE(flags.size() == 1);
  CHECK((flags[0] & O_DIRECT) != 0);

  // Aligned buffer, offset and length: read in place.
  void* mem = std::aligned_alloc(kDirectIoAlignment, 2 * kDirectIoAlignment);
  REQUIRE(mem != nullptr);
  std::unique_ptr<char, decltype(&std::free)> aligned(static_cast<char*>(mem), &std::free);
  std::string_view got;
  REQUIRE(f->Read(kDirectIoAlignment, 2 * kDirectIoAlignment, aligned.get(), &got).ok());
  CHECK(got.data() == aligned.get());
  CHECK(got == std::string_view(data).substr(kDirectIoAlignment, 2 * kDirectIoAlignment));
  // The tail: aligned start, file ends mid-block.
  REQUIRE(f->Read(3 * kDirectIoAlignment, 2 * kDirectIoAlignment, aligned.get(), &got).ok());
  CHECK(got == std::string_view(data).substr(3 * kDirectIoAlignment));

  Random rnd(3);
  std::string scratch(20000, '\0');
  for (int i = 0; i < 200; i++) {
    const uint64_t off = rnd.Uniform(static_cast<uint32_t>(data.size() + 100));
    const size_t n = rnd.Uniform(9000);
    REQUIRE(f->Read(off, n, scratch.data() + 3, &got).ok());
    CHECK(got == Expected(data, off, n));
  }
}
BASALT_ENV_TEST_CASE_IF("direct reads: O_DIRECT is set, any range reads like a buffered read",
                        DirectReads, basalt::test::DirectIoProbe());

void FaultReads(Env* env) {
  TempDir dir;
  const std::string data = Pattern(10000, 4);
  WriteFile(dir.Sub("x.sst"), data);
  WriteFile(dir.Sub("y.log"), data);
  INFO("env " << env->Name());
  FaultEnv fault(env);
  CHECK(fault.Name() == "fault(" + env->Name() + ")");
  std::unique_ptr<RandomAccessFile> sst, log;
  REQUIRE(fault.NewRandomAccessFile(dir.Sub("x.sst"), &sst).ok());
  REQUIRE(fault.NewRandomAccessFile(dir.Sub("y.log"), &log).ok());
  CHECK(sst->batcher() == nullptr);  // every read passes the fault check
  std::string scratch(100, '\0');
  std::string_view got;

  fault.SetFailPathSubstring(".sst");
  fault.FailNthRead(2);
  CHECK(log->Read(0, 10, scratch.data(), &got).ok());  // not matching: not counted
  CHECK(sst->Read(0, 10, scratch.data(), &got).ok());
  Status s = sst->Read(10, 10, scratch.data(), &got);
  CHECK(s.IsIOError());
  CHECK(s.ToString().find("injected read error") != std::string::npos);
  CHECK(got.empty());
  CHECK(sst->Read(20, 10, scratch.data(), &got).ok());
  CHECK(got == std::string_view(data).substr(20, 10));
  CHECK(fault.injected_error_count() == 1);
  CHECK(fault.read_count() == 3);

  // In a batch: only the chosen request fails.
  std::vector<std::string> bufs(4, std::string(100, '\0'));
  std::vector<FileReadRequest> reqs(4);
  for (size_t i = 0; i < 4; i++) {
    reqs[i].file = sst.get();
    reqs[i].req.offset = 100 * i;
    reqs[i].req.n = 100;
    reqs[i].req.scratch = bufs[i].data();
  }
  fault.FailNthRead(3);
  s = MultiReadFiles(reqs.data(), reqs.size());
  CHECK(s.IsIOError());
  for (size_t i = 0; i < 4; i++) {
    INFO("request " << i);
    if (i == 2) {
      CHECK(reqs[i].req.status.IsIOError());
    } else {
      CHECK(reqs[i].req.status.ok());
      CHECK(reqs[i].req.result == std::string_view(data).substr(100 * i, 100));
    }
  }
}
BASALT_ENV_TEST_CASE("fault env: FailNthRead fails one read request, then reads work again",
                     FaultReads);

}  // namespace
