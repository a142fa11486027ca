// Options::use_direct_reads: Get, MultiGet and iterators return the model's
// answers with SSTables opened O_DIRECT, with the io_uring and posix Envs,
// across a reopen; an Env or file system without O_DIRECT fails Open clearly.
// The O_DIRECT cases are reported skipped where the temp directory refuses
// O_DIRECT (tests/testutil/skip.h).

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "tests/testutil/read_test_db.h"
#include "tests/testutil/skip.h"

using namespace basalt;
using namespace basalt::lsm;
using test::ReadKey;
using test::ReadTestDB;

namespace {

// An Env without direct I/O (the EnvWrapper default would forward it).
class NoDirectEnv : public io::EnvWrapper {
 public:
  NoDirectEnv() : io::EnvWrapper(io::Env::Default()) {}
  Status NewDirectRandomAccessFile(const std::string& p,
                                   std::unique_ptr<io::RandomAccessFile>* r) override {
    r->reset();
    return Status::InvalidArgument(p, "the file system refuses O_DIRECT (EINVAL)");
  }
};

void AgreeWithModel(io::Env* env) {
  ReadTestDB t(env);
  t.options.use_direct_reads = true;
  t.options.block_cache_size = 64 << 10;  // small: most reads go to the device
  t.Open();
  const int n = 2000;
  t.Load(n);
  for (int pass = 0; pass < 2; pass++) {
    INFO("pass " << pass << (pass == 1 ? " (after reopen)" : ""));
    Random rnd(3 + static_cast<uint64_t>(pass));
    std::vector<std::string> keys;
    for (int i = 0; i < 400; i++) keys.push_back(ReadKey(static_cast<int>(rnd.Uniform(n + 50))));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<Status> statuses;
    t.db->MultiGet(ReadOptions(), kDefaultTree, views, &values, &statuses);
    for (size_t i = 0; i < keys.size(); i++) {
      INFO("key " << keys[i]);
      auto m = t.model.find(keys[i]);
      std::string v;
      Status s = t.db->Get(ReadOptions(), kDefaultTree, keys[i], &v);
      if (m == t.model.end()) {
        CHECK(s.IsNotFound());
        CHECK(statuses[i].IsNotFound());
      } else {
        REQUIRE(s.ok());
        CHECK(v == m->second);
        REQUIRE(statuses[i].ok());
        CHECK(values[i] == m->second);
      }
    }
    CHECK(t.Scan(ReadOptions()) == test::ModelScan(t.model));
    ReadOptions fixed;
    fixed.readahead_size = 10000;  // unaligned windows
    CHECK(t.Scan(fixed) == test::ModelScan(t.model));
    ReadOptions at;
    at.snapshot = t.snapshot;
    CHECK(t.Scan(at) == test::ModelScan(t.snapshot_model));
    if (pass == 0) {
      // Compaction reads its inputs O_DIRECT too.
      REQUIRE(t.db->CompactAll(kDefaultTree).ok());
      t.Close();
      t.snapshot_model = t.model;  // the snapshot is gone; keep the check meaningful
      t.Open();
      t.snapshot = t.db->GetSnapshot();
    }
  }
}
BASALT_ENV_TEST_CASE_IF("direct reads: Get, MultiGet and iterators agree with the model",
                        AgreeWithModel, test::DirectIoProbe());

TEST_CASE("direct reads: Open fails with InvalidArgument when O_DIRECT is refused") {
  NoDirectEnv env;
  ReadTestDB t(&env);
  t.options.use_direct_reads = true;
  std::unique_ptr<DB> db;
  Status s = DB::Open(t.options, t.dir.path(), &db);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("use_direct_reads") != std::string::npos);
  CHECK(s.ToString().find("O_DIRECT") != std::string::npos);
  CHECK(db == nullptr);
  // Without the option the same Env opens the DB.
  t.options.use_direct_reads = false;
  t.Open();
  t.Put("a", "1");
  REQUIRE(t.db->Flush(kDefaultTree).ok());
  std::string v;
  CHECK(t.db->Get(ReadOptions(), kDefaultTree, "a", &v).ok());
}

}  // namespace
