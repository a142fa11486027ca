// Durability::kPeriodic: the WAL's periodic-sync thread beside concurrent
// writers whose group commits roll WAL segments, then a simulated power loss.
// Run under ThreadSanitizer by scripts/test.sh (the sync thread and the
// commit leader share the WAL).

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/fault_env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;
using test::DbTestBase;

namespace {

std::string Key(int writer, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "w%d-key%06d", writer, i);
  return buf;
}

TEST_CASE("durability: periodic WAL syncs beside writers and rolls survive power loss") {
  DbTestBase f(test::DbConfig{.env = test::EnvKind::kFault});
  io::FaultEnv& fenv = *f.fault_env();  // the configuration's: outlives the DB
  f.options.durability = Durability::kPeriodic;
  f.options.periodic_sync_interval_ms = 1;
  f.options.wal_segment_size = 8 << 10;   // a roll every few group commits
  f.options.write_buffer_size = 8 << 20;  // no flush: after the crash only the WAL holds the data
  f.Open();

  constexpr int kWriters = 3, kKeys = 1500;
  std::vector<std::thread> writers;
  std::vector<int> errors(kWriters, 0);
  for (int w = 0; w < kWriters; w++) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kKeys; i++) {
        // WriteOptions(): the DB's durability, so no write asks for a sync.
        if (!f.db->Put(WriteOptions(), kDefaultTree, Key(w, i), std::string(80, 'a' + i % 26))
                 .ok()) {
          errors[w]++;
        }
      }
    });
  }
  for (auto& th : writers) th.join();
  // Every write is done: give the sync thread time for one more sync (none
  // comes if it synced the last write already, before sync_count was read).
  // What the crash keeps shows whether it synced.
  const uint64_t syncs = fenv.sync_count();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (fenv.sync_count() == syncs && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int w = 0; w < kWriters; w++) CHECK(errors[w] == 0);
  const DbStats st = f.db->GetDbStats();
  CHECK(st.wal_syncs == 0);  // no group commit synced: only the sync thread and rolls did
  CHECK(st.flushes == 0);
  CHECK(f.CountFiles(FileType::kWal) > 1);  // segments were rolled while the sync thread ran

  REQUIRE(fenv.DropUnsyncedData().ok());
  f.db.reset();  // the process "died"; the handle is abandoned
  f.Open();
  int lost = 0;
  for (int w = 0; w < kWriters; w++) {
    for (int i = 0; i < kKeys; i++) {
      if (f.Get(Key(w, i)) != std::string(80, 'a' + i % 26)) lost++;
    }
  }
  CHECK(lost == 0);
}

}  // namespace
