#include "engine/lsm/commit_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ConfigSet;
using test::DbTestBase;

namespace {

// The keys of a batch, in order.
std::vector<std::string> Keys(const WriteBatch& b) {
  struct H : WriteBatch::Handler {
    std::vector<std::string> keys;
    void Put(TreeId, std::string_view k, std::string_view) override { keys.emplace_back(k); }
    void Delete(TreeId, std::string_view k) override { keys.emplace_back(k); }
  } h;
  REQUIRE(b.Iterate(&h).ok());
  return h.keys;
}

// Waits (bounded) until `n` completions ran.
struct Completions {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> statuses;
  CommitQueue::Done Add(size_t i) {
    return [this, i](Status s) {
      std::lock_guard<std::mutex> l(mu);
      if (statuses.size() <= i) statuses.resize(i + 1, Status::Corruption("not completed"));
      statuses[i] = std::move(s);
      done++;
      cv.notify_all();
    };
  }
  bool Wait(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), [&] { return done >= n; });
  }
  size_t done = 0;
};

}  // namespace

TEST_CASE("commit queue: batches queued during a write share the next one, in order") {
  std::mutex mu;
  std::vector<std::vector<std::string>> writes;
  CommitQueue q(
      [&](const WriteOptions&, WriteBatch* b) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a slow sync
        std::lock_guard<std::mutex> l(mu);
        writes.push_back(Keys(*b));
        return Status::OK();
      },
      1 << 20);
  constexpr size_t kBatches = 100;
  std::vector<WriteBatch> batches(kBatches);
  Completions c;
  for (size_t i = 0; i < kBatches; i++) {
    batches[i].Put(kDefaultTree, "k" + std::to_string(i), "v");
    q.Submit(WriteOptions(), &batches[i], c.Add(i));
  }
  REQUIRE(c.Wait(kBatches));
  for (const Status& s : c.statuses) CHECK(s.ok());
  std::lock_guard<std::mutex> l(mu);
  // All were queued within one 20 ms write: at most a few groups.
  CHECK(writes.size() <= 3);
  std::vector<std::string> all;
  for (const auto& w : writes) all.insert(all.end(), w.begin(), w.end());
  REQUIRE(all.size() == kBatches);
  for (size_t i = 0; i < kBatches; i++) CHECK(all[i] == "k" + std::to_string(i));
  CHECK(q.stats().batches == kBatches);
  CHECK(q.stats().writes == writes.size());
}

TEST_CASE("commit queue: a misfit batch fails alone; other errors fail the group; Stop") {
  std::atomic<bool> io_error{false};
  std::atomic<bool> block{true};
  CommitQueue q(
      [&](const WriteOptions&, WriteBatch* b) {
        while (block.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (io_error.load()) return Status::IOError("disk", "full");
        for (const std::string& k : Keys(*b)) {
          if (k == "misfit") {
            return Status::InvalidArgument(Status::SubCode::kTreeGone, "tree gone");
          }
        }
        return Status::OK();
      },
      1 << 20);
  WriteBatch first, good1, bad, good2;
  first.Put(kDefaultTree, "first", "v");
  good1.Put(kDefaultTree, "a", "v");
  bad.Put(kDefaultTree, "misfit", "v");
  good2.Delete(kDefaultTree, "b");
  Completions c;
  q.Submit(WriteOptions(), &first, c.Add(0));  // held in the write while the rest queue
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.Submit(WriteOptions(), &good1, c.Add(1));
  q.Submit(WriteOptions(), &bad, c.Add(2));
  q.Submit(WriteOptions(), &good2, c.Add(3));
  block = false;
  REQUIRE(c.Wait(4));
  CHECK(c.statuses[0].ok());
  CHECK(c.statuses[1].ok());
  CHECK(c.statuses[2].subcode() == Status::SubCode::kTreeGone);
  CHECK(c.statuses[3].ok());

  io_error = true;
  block = true;
  Completions e;
  q.Submit(WriteOptions(), &first, e.Add(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.Submit(WriteOptions(), &good1, e.Add(1));
  q.Submit(WriteOptions(), &good2, e.Add(2));
  block = false;
  REQUIRE(e.Wait(3));
  for (const Status& s : e.statuses) CHECK(s.IsIOError());

  q.Stop();
  Completions late;
  q.Submit(WriteOptions(), &good1, late.Add(0));
  REQUIRE(late.Wait(1));  // at once, on this thread
  CHECK(late.statuses[0].IsAborted());
}

namespace {

void AsyncWritesAreVisibleAndDurable(DbTestBase& f) {
  f.Open();
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<WriteBatch>> batches(kThreads, std::vector<WriteBatch>(kPerThread));
  Completions c;
  std::atomic<int> visible{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        batches[t][i].Put(kDefaultTree, key, "v" + std::to_string(i));
        auto done = c.Add(static_cast<size_t>(t * kPerThread + i));
        f.db->WriteAsync(WriteOptions(), &batches[t][i], [&, key, done](Status s) {
          // Applied before the completion runs.
          std::string v;
          if (s.ok() && f.db->Get(ReadOptions(), kDefaultTree, key, &v).ok()) {
            visible++;
          }
          done(std::move(s));
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(c.Wait(kThreads * kPerThread));
  for (const Status& s : c.statuses) CHECK(s.ok());
  CHECK(visible.load() == kThreads * kPerThread);
  // Queued at Close: written before the DB closes.
  WriteBatch last;
  last.Put(kDefaultTree, "last", "x");
  Completions lc;
  f.db->WriteAsync(WriteOptions(), &last, lc.Add(0));
  f.Reopen();
  REQUIRE(lc.Wait(1));
  CHECK(lc.statuses[0].ok());
  CHECK(f.Get("last") == "x");
  for (int t = 0; t < kThreads; t++) {
    for (int i = 0; i < kPerThread; i += 17) {
      CHECK(f.Get("t" + std::to_string(t) + "-" + std::to_string(i)) == "v" + std::to_string(i));
    }
  }
}
BASALT_DB_TEST_CASE("db: WriteAsync applies before its completion and is durable at Close",
                    ConfigSet::kFew, AsyncWritesAreVisibleAndDurable);

}  // namespace
