#include "engine/io/env.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/env_uring.h"
#include "engine/io/fault_env.h"
#include "tests/testutil/skip.h"
#include "tests/testutil/temp_dir.h"

using basalt::Status;
using namespace basalt::io;
using basalt::test::TempDir;

namespace {

// Deterministic bytes that differ at every offset of interest.
std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

std::string ReadAll(Env* env, const std::string& path) {
  std::string data;
  Status s = ReadFileToString(env, path, &data);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return data;
}

uint64_t FileSize(Env* env, const std::string& path) {
  uint64_t size = 0;
  Status s = env->GetFileSize(path, &size);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return size;
}

#define EXPECT_OK(expr)                    \
  do {                                     \
    Status _s = (expr);                    \
    CHECK_MESSAGE(_s.ok(), _s.ToString()); \
  } while (0)
#define ASSERT_OK(expr)                      \
  do {                                       \
    Status _s = (expr);                      \
    REQUIRE_MESSAGE(_s.ok(), _s.ToString()); \
  } while (0)

TEST_CASE("env: Default is decided once, posix when io_uring is unavailable") {
  Env* def = Env::Default();
  REQUIRE(def != nullptr);
  CHECK(def == Env::Default());  // decided once
  CHECK((def->Name() == "posix" || def->Name() == "io_uring"));
  CHECK(Env::Posix()->Name() == "posix");
  // Either io_uring is there and has no excuse, or it has one and the
  // default fell back to posix (both are the contract; the machine decides
  // which one this run checks).
  CHECK(UringUnavailableReason().empty() == (Env::Uring() != nullptr));
  if (Env::Uring() == nullptr) {
    MESSAGE("io_uring unavailable: " << UringUnavailableReason());
    CHECK(def == Env::Posix());
  }
  uint64_t t = def->NowMicros();
  CHECK(t > uint64_t{1600000000} * 1000000);  // after 2020
}

TEST_CASE("env: the io_uring Env" * basalt::test::SkipUnless(basalt::test::IoUringProbe())) {
  REQUIRE(Env::Uring() != nullptr);
  CHECK(Env::Uring() == Env::Uring());
  CHECK(Env::Uring()->Name() == "io_uring");
  CHECK(UringUnavailableReason().empty());
  CHECK(Env::Uring()->NowMicros() > uint64_t{1600000000} * 1000000);
}

void WriteAppendReadBack(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string path = dir.Sub("f");
  std::unique_ptr<WritableFile> w;
  ASSERT_OK(env->NewWritableFile(path, &w));
  EXPECT_OK(w->Append("hello"));
  EXPECT_OK(w->Append(" world"));
  EXPECT_OK(w->Append(""));
  CHECK(w->Size() == 11);
  EXPECT_OK(w->WriteAt(0, "J"));  // inside: the append position stays
  CHECK(w->Size() == 11);
  EXPECT_OK(w->WriteAt(20, "X"));  // past the end: appends continue after it
  CHECK(w->Size() == 21);
  EXPECT_OK(w->Append("!"));
  CHECK(w->Size() == 22);
  EXPECT_OK(w->Sync());
  EXPECT_OK(w->Close());
  CHECK(w->Append("late").IsIOError());
  w.reset();

  const std::string expected = std::string("Jello world") + std::string(9, '\0') + "X!";
  CHECK(FileSize(env, path) == 22);
  CHECK(ReadAll(env, path) == expected);

  std::unique_ptr<RandomAccessFile> r;
  ASSERT_OK(env->NewRandomAccessFile(path, &r));
  CHECK(r->Size() == 22);
  char scratch[64];
  std::string_view got;
  EXPECT_OK(r->Read(6, 5, scratch, &got));
  CHECK(got == "world");
  EXPECT_OK(r->Read(18, 10, scratch, &got));  // short at end of file
  CHECK(got == expected.substr(18));
  EXPECT_OK(r->Read(100, 10, scratch, &got));  // past end of file
  CHECK(got.empty());
  EXPECT_OK(r->Read(3, 0, scratch, &got));
  CHECK(got.empty());

  // Reopen for appending: continues at the end; WriteAt still positional.
  ASSERT_OK(env->NewAppendableFile(path, &w));
  CHECK(w->Size() == 22);
  EXPECT_OK(w->Append("?"));
  EXPECT_OK(w->WriteAt(1, "E"));
  EXPECT_OK(w->Append("."));
  EXPECT_OK(w->Sync());
  EXPECT_OK(w->Close());
  CHECK(ReadAll(env, path) == std::string("JEllo world") + std::string(9, '\0') + "X!?.");

  // NewAppendableFile creates a missing file; NewWritableFile truncates.
  ASSERT_OK(env->NewAppendableFile(dir.Sub("new"), &w));
  CHECK(w->Size() == 0);
  EXPECT_OK(w->Close());
  ASSERT_OK(env->NewWritableFile(path, &w));
  EXPECT_OK(w->Close());
  CHECK(FileSize(env, path) == 0);
}
BASALT_ENV_TEST_CASE("env: write, append, WriteAt and read back", WriteAppendReadBack);

void LargeAppendAndRead(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string data = Pattern(6 << 20, 7);
  ASSERT_OK(WriteStringToFile(env, data, dir.Sub("big"), /*sync=*/true));
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_OK(env->NewRandomAccessFile(dir.Sub("big"), &r));
  std::string scratch(data.size() + 100, '\0');
  std::string_view got;
  EXPECT_OK(r->Read(0, scratch.size(), scratch.data(), &got));
  CHECK(got.size() == data.size());
  CHECK(got == data);
}
BASALT_ENV_TEST_CASE("env: large append and read in one call", LargeAppendAndRead);

void MultiReadManyRanges(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string data = Pattern(1 << 20, 3);
  ASSERT_OK(WriteStringToFile(env, data, dir.Sub("f"), /*sync=*/false));
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_OK(env->NewRandomAccessFile(dir.Sub("f"), &r));

  // More requests than the ring's queue depth, so batches are chunked.
  const size_t kCount = 3 * kUringQueueDepth + 17;
  std::vector<RandomAccessFile::ReadRequest> reqs(kCount);
  std::vector<std::string> bufs(kCount);
  uint32_t x = 12345;
  for (size_t i = 0; i < kCount; i++) {
    x = x * 1103515245u + 12345u;
    uint64_t offset = x % (data.size() + 4096);  // some start past the end
    size_t n = (x >> 8) % 20000;
    if (i % 10 == 0) offset = data.size() - 100;  // straddles the end
    if (i % 23 == 0) n = 0;
    reqs[i].offset = offset;
    reqs[i].n = n;
    bufs[i].assign(n + 1, '\xee');
    reqs[i].scratch = bufs[i].data();
  }
  EXPECT_OK(r->MultiRead(reqs.data(), reqs.size()));
  size_t bad = 0, short_reads = 0;
  for (size_t i = 0; i < kCount; i++) {
    const auto& q = reqs[i];
    std::string expected = q.offset >= data.size() ? std::string() : data.substr(q.offset, q.n);
    if (!q.status.ok() || q.result != expected || q.result.data() != q.scratch) bad++;
    if (q.result.size() < q.n) short_reads++;
  }
  CHECK(bad == 0);
  CHECK(short_reads > 0);

  // The default MultiRead (a loop of Read) agrees.
  std::vector<RandomAccessFile::ReadRequest> again = reqs;
  for (auto& q : again) q.result = {};
  EXPECT_OK(r->RandomAccessFile::MultiRead(again.data(), again.size()));
  for (size_t i = 0; i < kCount; i++) CHECK(again[i].result == reqs[i].result);

  EXPECT_OK(r->MultiRead(nullptr, 0));
}
BASALT_ENV_TEST_CASE("env: MultiRead of many ranges, including past end of file",
                     MultiReadManyRanges);

void ConcurrentReads(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string data = Pattern(256 << 10, 5);
  ASSERT_OK(WriteStringToFile(env, data, dir.Sub("f"), /*sync=*/false));
  std::unique_ptr<RandomAccessFile> r;
  ASSERT_OK(env->NewRandomAccessFile(dir.Sub("f"), &r));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::vector<char> scratch(100 * 512);
      for (int round = 0; round < 50; round++) {
        RandomAccessFile::ReadRequest reqs[100];
        for (int i = 0; i < 100; i++) {
          reqs[i].offset =
              static_cast<uint64_t>((t * 7919 + round * 104729 + i * 4099) % data.size());
          reqs[i].n = 512;
          reqs[i].scratch = scratch.data() + i * 512;
        }
        if (!r->MultiRead(reqs, 100).ok()) bad++;
        for (auto& q : reqs) {
          if (q.result != std::string_view(data).substr(q.offset, q.n)) bad++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad.load() == 0);
}
BASALT_ENV_TEST_CASE("env: concurrent reads of one file from several threads", ConcurrentReads);

// Destroyed at thread exit after the thread's io_uring ring (thread_locals die
// in reverse order of construction), so its write takes the synchronous
// fallback path.
struct AppendAtThreadExit {
  WritableFile* file = nullptr;
  std::atomic<int>* outcome = nullptr;
  ~AppendAtThreadExit() {
    if (file != nullptr) *outcome = file->Append("exit").ok() ? 1 : 2;
  }
};

void WritesDuringThreadExit(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  std::unique_ptr<WritableFile> w;
  ASSERT_OK(env->NewWritableFile(dir.Sub("f"), &w));
  std::atomic<int> outcome{0};
  std::atomic<bool> live_ok{false};
  std::thread([&] {
    thread_local AppendAtThreadExit at_exit;  // constructed before the ring
    at_exit.file = w.get();
    at_exit.outcome = &outcome;
    live_ok = w->Append("live").ok();  // creates this thread's ring
  }).join();
  CHECK(live_ok.load());
  CHECK(outcome.load() == 1);
  EXPECT_OK(w->Sync());
  EXPECT_OK(w->Close());
  CHECK(ReadAll(env, dir.Sub("f")) == "liveexit");
}
BASALT_ENV_TEST_CASE("env: writes during thread exit still work", WritesDuringThreadExit);

void DirectoriesRenameRemove(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string sub = dir.Sub("sub");
  EXPECT_OK(env->CreateDirIfMissing(sub));
  EXPECT_OK(env->CreateDirIfMissing(sub));  // already there
  ASSERT_OK(WriteStringToFile(env, "aaa", dir.Sub("a"), false));
  ASSERT_OK(WriteStringToFile(env, "bbbbb", dir.Sub("b"), false));
  CHECK(env->CreateDirIfMissing(dir.Sub("a")).IsIOError());  // a file, not a dir

  std::vector<std::string> names;
  EXPECT_OK(env->GetChildren(dir.path(), &names));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a", "b", "sub"});

  CHECK(env->FileExists(dir.Sub("a")));
  EXPECT_OK(env->RenameFile(dir.Sub("a"), dir.Sub("c")));
  CHECK(!env->FileExists(dir.Sub("a")));
  CHECK(ReadAll(env, dir.Sub("c")) == "aaa");
  EXPECT_OK(env->RenameFile(dir.Sub("c"), dir.Sub("b")));  // replaces b
  CHECK(ReadAll(env, dir.Sub("b")) == "aaa");
  CHECK(env->RenameFile(dir.Sub("missing"), dir.Sub("x")).IsNotFound());

  CHECK(FileSize(env, dir.Sub("b")) == 3);
  EXPECT_OK(env->TruncateFile(dir.Sub("b"), 1));
  CHECK(ReadAll(env, dir.Sub("b")) == "a");
  EXPECT_OK(env->TruncateFile(dir.Sub("b"), 4));
  CHECK(ReadAll(env, dir.Sub("b")) == std::string("a\0\0\0", 4));

  EXPECT_OK(env->SyncDir(dir.path()));
  EXPECT_OK(env->RemoveFile(dir.Sub("b")));
  CHECK(!env->FileExists(dir.Sub("b")));
  EXPECT_OK(env->RemoveDir(sub));
  EXPECT_OK(env->GetChildren(dir.path(), &names));
  CHECK(names.empty());
}
BASALT_ENV_TEST_CASE("env: directories, rename, remove, size, truncate", DirectoriesRenameRemove);

void MissingFilesAreNotFound(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string missing = dir.Sub("missing");
  std::unique_ptr<RandomAccessFile> r;
  std::unique_ptr<SequentialFile> q;
  uint64_t size = 99;
  std::vector<std::string> names;
  std::string data;
  Status s = env->NewRandomAccessFile(missing, &r);
  CHECK(s.IsNotFound());
  CHECK(s.message().find(missing) != std::string_view::npos);  // path in the message
  CHECK(r == nullptr);
  CHECK(env->NewSequentialFile(missing, &q).IsNotFound());
  CHECK(env->GetFileSize(missing, &size).IsNotFound());
  CHECK(env->RemoveFile(missing).IsNotFound());
  CHECK(env->TruncateFile(missing, 0).IsNotFound());
  CHECK(env->GetChildren(missing, &names).IsNotFound());
  CHECK(env->RemoveDir(missing).IsNotFound());
  CHECK(env->SyncDir(missing).IsNotFound());
  CHECK(ReadFileToString(env, missing, &data).IsNotFound());
  CHECK(!env->FileExists(missing));
  std::unique_ptr<WritableFile> w;
  CHECK(env->NewWritableFile(dir.Sub("nodir/f"), &w).IsNotFound());
}
BASALT_ENV_TEST_CASE("env: missing files are NotFound", MissingFilesAreNotFound);

// LinkFile (offline backups, engine/lsm/backup.h): a second name of the same
// file; an existing target or a missing source is an error, not NotSupported.
void LinkFileMakesASecondName(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string a = dir.Sub("a"), b = dir.Sub("b");
  REQUIRE(WriteStringToFile(env, "linked bytes", a, true).ok());
  REQUIRE(env->LinkFile(a, b).ok());
  CHECK(ReadAll(env, b) == "linked bytes");
  REQUIRE(env->RemoveFile(a).ok());
  CHECK(ReadAll(env, b) == "linked bytes");  // the other name keeps the data
  REQUIRE(WriteStringToFile(env, "x", a, true).ok());
  Status s = env->LinkFile(a, b);
  CHECK((!s.ok() && !s.IsNotSupported()));
  CHECK(env->LinkFile(dir.Sub("missing"), dir.Sub("c")).IsNotFound());
}
BASALT_ENV_TEST_CASE("env: LinkFile makes a second name of a file", LinkFileMakesASecondName);

void LockFileIsExclusive(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string path = dir.Sub("LOCK");
  std::unique_ptr<FileLock> lock, again;
  ASSERT_OK(env->LockFile(path, &lock));
  REQUIRE(lock != nullptr);
  CHECK(env->LockFile(path, &again).IsBusy());
  CHECK(again == nullptr);

  // Reading the lock file (open + close) must not drop the lock.
  std::string data;
  EXPECT_OK(ReadFileToString(env, path, &data));

  // Another process sees the lock (classic POSIX record lock in the child).
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct flock f;
    std::memset(&f, 0, sizeof(f));
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    int r = fd >= 0 ? ::fcntl(fd, F_SETLK, &f) : -2;
    ::_exit(r == -1 && (errno == EAGAIN || errno == EACCES) ? 0 : 1);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  CHECK(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);

  lock.reset();  // releases
  ASSERT_OK(env->LockFile(path, &again));
  again.reset();
}
BASALT_ENV_TEST_CASE("env: LockFile is exclusive, within and across processes",
                     LockFileIsExclusive);

void SequentialReadAndSkip(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  const std::string data = Pattern(10000, 9);
  ASSERT_OK(WriteStringToFile(env, data, dir.Sub("f"), true));
  std::unique_ptr<SequentialFile> f;
  ASSERT_OK(env->NewSequentialFile(dir.Sub("f"), &f));
  char scratch[256];
  std::string_view got;
  EXPECT_OK(f->Read(10, scratch, &got));
  CHECK(got == data.substr(0, 10));
  EXPECT_OK(f->Skip(100));
  EXPECT_OK(f->Read(20, scratch, &got));
  CHECK(got == data.substr(110, 20));
  EXPECT_OK(f->Skip(10000 - 130 - 5));
  EXPECT_OK(f->Read(256, scratch, &got));  // short: end of file
  CHECK(got == data.substr(9995));
  EXPECT_OK(f->Read(256, scratch, &got));
  CHECK(got.empty());
  EXPECT_OK(f->Skip(1000));  // past the end is fine; reads stay empty
  EXPECT_OK(f->Read(256, scratch, &got));
  CHECK(got.empty());
}
BASALT_ENV_TEST_CASE("env: SequentialFile read and skip", SequentialReadAndSkip);

void WholeFileHelpers(Env* env) {
  INFO("env: " << env->Name());
  TempDir dir;
  for (size_t n : {size_t{0}, size_t{1}, size_t{64 << 10}, size_t{200000}}) {
    const std::string data = Pattern(n, static_cast<uint32_t>(n));
    ASSERT_OK(WriteStringToFile(env, data, dir.Sub("f"), n % 2 == 0));
    CHECK(ReadAll(env, dir.Sub("f")) == data);
  }
}
BASALT_ENV_TEST_CASE("env: WriteStringToFile and ReadFileToString", WholeFileHelpers);

// ---- FaultEnv ----

void FaultNthWrite(Env* base) {
  INFO("env: " << base->Name());
  TempDir dir;
  FaultEnv env(base);
  CHECK(env.Name() == "fault(" + base->Name() + ")");
  std::unique_ptr<WritableFile> w;
  ASSERT_OK(env.NewWritableFile(dir.Sub("f"), &w));
  env.FailNthWrite(3);
  EXPECT_OK(w->Append("one,"));
  EXPECT_OK(w->Append("two,"));
  Status s = w->Append("three,");
  CHECK(s.IsIOError());
  CHECK(s.message().find("injected") != std::string_view::npos);
  EXPECT_OK(w->Append("four"));  // one-shot
  CHECK(env.write_count() == 3);
  CHECK(env.injected_error_count() == 1);

  env.FailNthWrite(1);  // WriteAt counts too
  CHECK(w->WriteAt(0, "ONE").IsIOError());
  EXPECT_OK(w->Close());
  CHECK(ReadAll(base, dir.Sub("f")) == "one,two,four");

  env.FailNthWrite(0);  // disarmed
  ASSERT_OK(env.NewWritableFile(dir.Sub("g"), &w));
  EXPECT_OK(w->Append("x"));

  // Only matching paths count toward, and receive, the failure.
  env.SetFailPathSubstring(".log");
  env.FailNthWrite(2);
  std::unique_ptr<WritableFile> log, sst;
  ASSERT_OK(env.NewWritableFile(dir.Sub("000001.log"), &log));
  ASSERT_OK(env.NewWritableFile(dir.Sub("000002.sst"), &sst));
  EXPECT_OK(log->Append("a"));
  EXPECT_OK(sst->Append("a"));
  EXPECT_OK(sst->Append("b"));
  CHECK(log->Append("b").IsIOError());
  EXPECT_OK(log->Append("c"));
  CHECK(env.injected_error_count() == 3);

  env.ResetCounters();
  CHECK(env.write_count() == 0);
  CHECK(env.injected_error_count() == 0);
}
BASALT_ENV_TEST_CASE("fault_env: Nth write failure reaches the caller", FaultNthWrite);

void FaultNthSync(Env* base) {
  INFO("env: " << base->Name());
  TempDir dir;
  FaultEnv env(base);
  std::unique_ptr<WritableFile> w;
  ASSERT_OK(env.NewWritableFile(dir.Sub("f"), &w));
  env.FailNthSync(2);
  EXPECT_OK(w->Append("durable"));
  EXPECT_OK(w->Sync());
  EXPECT_OK(w->Append("-lost"));
  Status s = w->Sync();
  CHECK(s.IsIOError());
  CHECK(s.message().find("injected sync error") != std::string_view::npos);
  CHECK(env.sync_count() == 1);
  EXPECT_OK(env.DropUnsyncedData());
  CHECK(ReadAll(base, dir.Sub("f")) == "durable");
}
BASALT_ENV_TEST_CASE("fault_env: Nth sync failure reaches the caller and makes nothing durable",
                     FaultNthSync);

void FaultDropUnsynced(Env* base) {
  INFO("env: " << base->Name());
  TempDir dir;
  FaultEnv env(base);
  const std::string data = Pattern(300, 11);

  std::unique_ptr<WritableFile> partly, never, closed, renamed, extended;
  ASSERT_OK(env.NewWritableFile(dir.Sub("partly"), &partly));
  EXPECT_OK(partly->Append(data.substr(0, 100)));
  EXPECT_OK(partly->Sync());
  EXPECT_OK(partly->Append(data.substr(100, 50)));

  ASSERT_OK(env.NewWritableFile(dir.Sub("never"), &never));
  EXPECT_OK(never->Append(data.substr(0, 30)));

  ASSERT_OK(env.NewWritableFile(dir.Sub("closed"), &closed));
  EXPECT_OK(closed->Append(data.substr(0, 40)));
  EXPECT_OK(closed->Sync());
  EXPECT_OK(closed->Close());

  // Tracking follows a rename.
  ASSERT_OK(env.NewWritableFile(dir.Sub("tmp"), &renamed));
  EXPECT_OK(renamed->Append(data.substr(0, 20)));
  EXPECT_OK(renamed->Sync());
  EXPECT_OK(renamed->Append(data.substr(20, 20)));
  EXPECT_OK(env.RenameFile(dir.Sub("tmp"), dir.Sub("final")));

  // A WriteAt past the synced end is dropped too.
  ASSERT_OK(env.NewWritableFile(dir.Sub("extended"), &extended));
  EXPECT_OK(extended->Append(data.substr(0, 10)));
  EXPECT_OK(extended->Sync());
  EXPECT_OK(extended->WriteAt(50, "zz"));

  // Written around the FaultEnv: not tracked, not touched.
  ASSERT_OK(WriteStringToFile(base, data, dir.Sub("untracked"), false));

  CHECK(FileSize(base, dir.Sub("partly")) == 150);
  EXPECT_OK(env.DropUnsyncedData());
  CHECK(ReadAll(base, dir.Sub("partly")) == data.substr(0, 100));
  CHECK(ReadAll(base, dir.Sub("never")).empty());
  CHECK(ReadAll(base, dir.Sub("closed")) == data.substr(0, 40));
  CHECK(ReadAll(base, dir.Sub("final")) == data.substr(0, 20));
  CHECK(ReadAll(base, dir.Sub("extended")) == data.substr(0, 10));
  CHECK(ReadAll(base, dir.Sub("untracked")) == data);

  // Files open at the crash are dead.
  Status s = partly->Append("more");
  CHECK(s.IsIOError());
  CHECK(s.message().find("file closed by simulated crash") != std::string_view::npos);
  CHECK(partly->WriteAt(0, "x").IsIOError());
  CHECK(partly->Sync().IsIOError());
  CHECK(never->Close().IsIOError());
  CHECK(ReadAll(base, dir.Sub("partly")) == data.substr(0, 100));

  // Reopened after the crash: appends continue at the synced end.
  std::unique_ptr<WritableFile> w;
  ASSERT_OK(env.NewAppendableFile(dir.Sub("partly"), &w));
  CHECK(w->Size() == 100);
  EXPECT_OK(w->Append(data.substr(100, 10)));
  EXPECT_OK(w->Sync());
  EXPECT_OK(w->Append(data.substr(110, 10)));
  EXPECT_OK(env.DropUnsyncedData());
  CHECK(ReadAll(base, dir.Sub("partly")) == data.substr(0, 110));

  // A pre-existing file opened for appending counts as synced so far.
  ASSERT_OK(env.NewAppendableFile(dir.Sub("untracked"), &w));
  EXPECT_OK(w->Append("tail"));
  EXPECT_OK(env.DropUnsyncedData());
  CHECK(ReadAll(base, dir.Sub("untracked")) == data);

  // A removed file is forgotten.
  EXPECT_OK(env.RemoveFile(dir.Sub("never")));
  EXPECT_OK(env.DropUnsyncedData());
  CHECK(!base->FileExists(dir.Sub("never")));
}
BASALT_ENV_TEST_CASE("fault_env: DropUnsyncedData truncates to the synced length",
                     FaultDropUnsynced);

void FaultCorruptByte(Env* base) {
  INFO("env: " << base->Name());
  TempDir dir;
  const std::string path = dir.Sub("f");
  const std::string data = Pattern(1000, 13);
  ASSERT_OK(WriteStringToFile(base, data, path, true));

  EXPECT_OK(FaultEnv::CorruptByte(base, path, 7));
  std::string got = ReadAll(base, path);
  REQUIRE(got.size() == data.size());
  size_t diffs = 0;
  for (size_t i = 0; i < data.size(); i++) diffs += got[i] != data[i];
  CHECK(diffs == 1);
  CHECK(static_cast<unsigned char>(got[7]) ==
        static_cast<unsigned char>(~static_cast<unsigned char>(data[7])));

  EXPECT_OK(FaultEnv::CorruptByte(base, path, 7));  // flips back
  CHECK(ReadAll(base, path) == data);
  EXPECT_OK(FaultEnv::CorruptByte(base, path, 999));  // last byte
  CHECK(ReadAll(base, path).substr(0, 999) == data.substr(0, 999));

  CHECK(FaultEnv::CorruptByte(base, path, 1000).IsInvalidArgument());
  CHECK(FaultEnv::CorruptByte(base, dir.Sub("missing"), 0).IsNotFound());
  CHECK(FileSize(base, path) == 1000);
}
BASALT_ENV_TEST_CASE("fault_env: CorruptByte flips exactly one byte", FaultCorruptByte);

TEST_CASE("fault_env: failures and counters under concurrent writers") {
  TempDir dir;
  FaultEnv env(Env::Default());
  constexpr int kThreads = 4;
  constexpr int kWrites = 200;
  env.FailNthWrite(kThreads * kWrites / 2);
  env.FailNthSync(kThreads * 3);
  std::atomic<int> write_errors{0}, sync_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::unique_ptr<WritableFile> w;
      if (!env.NewWritableFile(dir.Sub("t" + std::to_string(t)), &w).ok()) return;
      for (int i = 0; i < kWrites; i++) {
        if (!w->Append("0123456789").ok()) write_errors++;
        if (i % 40 == 0 && !w->Sync().ok()) sync_errors++;
      }
      w->Close().PermitUnchecked();
    });
  }
  for (auto& th : threads) th.join();
  CHECK(write_errors.load() == 1);
  CHECK(sync_errors.load() == 1);
  CHECK(env.write_count() == kThreads * kWrites - 1);
  CHECK(env.sync_count() == kThreads * 5 - 1);
  CHECK(env.injected_error_count() == 2);
}

}  // namespace
