// DbTestBase (db_test_base.h).

#include "tests/testutil/db_test_base.h"

#include <filesystem>
#include <utility>

namespace basalt::test {

const char* EnvKindName(EnvKind kind) {
  switch (kind) {
    case EnvKind::kDefault:
      return "default-env";
    case EnvKind::kPosix:
      return "posix";
    case EnvKind::kIoUring:
      return "io_uring";
    case EnvKind::kFault:
      return "fault";
  }
  return "?";
}

std::string DbConfig::Name() const {
  std::string r = compaction_style == lsm::CompactionStyle::kLeveled ? "leveled" : "tiered";
  r += use_block_index ? "/block-index/" : "/no-block-index/";
  return r + EnvKindName(env);
}

std::vector<DbConfig> Configs(ConfigSet set, bool io_uring) {
  using lsm::CompactionStyle;
  struct Shape {
    CompactionStyle style;
    bool index;
  };
  std::vector<Shape> shapes;
  switch (set) {
    case ConfigSet::kAll:
    case ConfigSet::kShapes:
      shapes = {{CompactionStyle::kLeveled, true},
                {CompactionStyle::kTiered, false},
                {CompactionStyle::kLeveled, false},
                {CompactionStyle::kTiered, true}};
      break;
    case ConfigSet::kFew:
      shapes = {{CompactionStyle::kLeveled, true}, {CompactionStyle::kTiered, false}};
      break;
    case ConfigSet::kLeveled:
      shapes = {{CompactionStyle::kLeveled, true}, {CompactionStyle::kLeveled, false}};
      break;
  }
  std::vector<DbConfig> configs;
  for (size_t i = 0; i < shapes.size(); i++) {
    const Shape& s = shapes[i];
    if (io_uring) {
      if (set == ConfigSet::kAll || i % 2 == 0) {
        configs.push_back({s.style, s.index, EnvKind::kIoUring});
      }
    } else if (set == ConfigSet::kAll) {
      configs.push_back({s.style, s.index, EnvKind::kPosix});
      configs.push_back({s.style, s.index, EnvKind::kFault});
    } else {  // each Env every other shape
      configs.push_back({s.style, s.index, i % 2 == 0 ? EnvKind::kPosix : EnvKind::kFault});
    }
  }
  return configs;
}

DbTestBase::DbTestBase(const DbConfig& c) : config(c) {
  options.write_buffer_size = 64 << 10;
  options.table.block_size = 1024;
  options.target_file_size = 128 << 10;
  options.max_bytes_for_level_base = 512 << 10;
  options.compaction_style = config.compaction_style;
  options.use_block_index = config.use_block_index;
  switch (config.env) {
    case EnvKind::kDefault:
      options.env = nullptr;
      break;
    case EnvKind::kPosix:
      options.env = io::Env::Posix();
      break;
    case EnvKind::kIoUring:
      options.env = io::Env::Uring();
      REQUIRE_MESSAGE(options.env != nullptr, "io_uring configuration without io_uring");
      break;
    case EnvKind::kFault:
      fault_env_ = std::make_unique<io::FaultEnv>(io::Env::Posix());
      options.env = fault_env_.get();
      break;
  }
}

DbTestBase::~DbTestBase() {
  if (db) {
    Status s = db->Close();
    CHECK_MESSAGE(s.ok(), s.ToString());  // not REQUIRE: no exceptions out of a destructor
    db.reset();
  }
}

void DbTestBase::Open() {
  Status s = TryOpen();
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

Status DbTestBase::TryOpen() {
  db.reset();
  return lsm::DB::Open(options, dir.path(), &db);
}

void DbTestBase::Close() {
  if (!db) return;
  Status s = db->Close();
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  db.reset();
}

void DbTestBase::Reopen() {
  Close();
  Open();
}

void DbTestBase::DestroyAndReopen() {
  Close();
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::filesystem::remove_all(e.path());
  }
  Open();
}

std::string DbTestBase::Get(std::string_view key, lsm::TreeId tree, const lsm::Snapshot* snapshot) {
  lsm::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string v;
  Status s = db->Get(ro, tree, key, &v);
  if (s.IsNotFound()) return "NOT_FOUND";
  if (!s.ok()) return "ERROR: " + s.ToString();
  return v;
}

void DbTestBase::Put(std::string_view key, std::string_view value, lsm::TreeId tree) {
  Status s = db->Put(lsm::WriteOptions(), tree, key, value);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

void DbTestBase::Delete(std::string_view key, lsm::TreeId tree) {
  Status s = db->Delete(lsm::WriteOptions(), tree, key);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

std::string DbTestBase::Contents(lsm::TreeId tree, bool backward) {
  return Contents(lsm::ReadOptions(), tree, backward);
}

std::string DbTestBase::Contents(const lsm::ReadOptions& ro, lsm::TreeId tree, bool backward) {
  std::unique_ptr<lsm::Iterator> it = db->NewIterator(ro, tree);
  std::string r;
  auto add = [&] { r.append(it->key()).append("=").append(it->value()).append(";"); };
  if (backward) {
    for (it->SeekToLast(); it->Valid(); it->Prev()) add();
  } else {
    for (it->SeekToFirst(); it->Valid(); it->Next()) add();
  }
  REQUIRE_MESSAGE(it->status().ok(), it->status().ToString());
  return r;
}

std::string DbTestBase::Range(lsm::TreeId tree, std::string_view start, std::string_view end,
                              size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  Status s = db->GetRange(lsm::ReadOptions(), tree, start, end, limit, &out);
  if (!s.ok()) return "ERROR: " + s.ToString();
  std::string r;
  for (const auto& [k, v] : out) r += k + "=" + v + ";";
  return r;
}

std::string DbTestBase::FilesPerLevel(lsm::TreeId tree) {
  lsm::TreeStats st;
  Status s = db->GetTreeStats(tree, &st);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string r;
  size_t keep = 0;  // length up to the last non-empty level
  for (size_t level = 0; level < st.levels.size(); level++) {
    if (level > 0) r += ",";
    r += std::to_string(st.levels[level].files);
    if (st.levels[level].files > 0) keep = r.size();
  }
  r.resize(keep);
  return r;
}

int DbTestBase::CountFiles(lsm::FileType type) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    uint64_t number;
    if (lsm::ParseFileName(e.path().filename().string(), &number) == type) n++;
  }
  return n;
}

uint64_t DbTestBase::SizeOfFiles(lsm::FileType type) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    uint64_t number;
    if (lsm::ParseFileName(e.path().filename().string(), &number) == type) bytes += e.file_size();
  }
  return bytes;
}

}  // namespace basalt::test
