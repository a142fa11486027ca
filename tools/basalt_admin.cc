// basalt-admin: inspect, check, back up and restore the files of a Basalt LSM directory.
//
//   basalt-admin [--encryption-key-file FILE] <command> ...
//   basalt-admin dump-wal FILE            records and entries of a WAL segment
//   basalt-admin dump-sst [--stats] FILE  properties and entries of an SSTable
//   basalt-admin dump-manifest DIR|FILE   version edits and the resulting trees
//   basalt-admin verify DIR               every checksum; exit 0 intact, 1 damaged
//   basalt-admin stats DIR                opens the DB (takes the lock; refuses a damaged
//                                         manifest) and prints its shape
//   basalt-admin verify-indexes DIR [TABLE]
//                                         opens the tables (takes the lock) and checks
//                                         that every secondary index equals the function
//                                         of its table; exit 0 equal, 1 differences
//   basalt-admin backup DIR DEST          offline backup of a closed data directory (takes
//                                         the lock): SSTables hard-linked, the rest copied,
//                                         BACKUP.json last (tools/admin_backup.h)
//   basalt-admin verify-backup DEST       BACKUP.json, every file's size and checksum, then
//                                         the checks of verify; exit 0 intact, 1 damaged
//   basalt-admin restore DEST DIR         verifies DEST, then restores it into a new DIR
//   basalt-admin --version                prints "basalt-admin VERSION"
//   basalt-admin trigger add|list|get|remove ...
//                                         the stream-trigger API of a running server
//                                         (tools/admin_triggers.h, docs/triggers.md)
//
// Every command but `stats`, `verify-indexes`, `backup` and `restore` only reads: it never writes,
// truncates or removes a file and never takes the directory lock. `backup` takes the lock of the
// DB it reads and writes only DEST; `restore` writes only the new DIR (docs/backup.md). Formats:
// docs/format/wal.md, docs/format/manifest.md, docs/format/sstable.md.
//
// --encryption-key-file FILE (anywhere on the line): the key file of an
// encrypted DB (docs/security.md), needed to read its encrypted files.
//
// Exit status: 0 success (verify: intact), 1 corruption or I/O error (verify:
// something is damaged or missing), 2 usage error. No exception escapes main.

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/verify.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"
#include "engine/lsm/write_batch.h"
#include "engine/table/table_store.h"
#include "tools/admin_backup.h"
#include "tools/admin_triggers.h"

namespace basalt::lsm {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitCorrupt = 1;
constexpr int kExitUsage = 2;

// Size of the largest WAL file header record (version 2, with the encryption
// header): log::Reader reports no header only for files shorter than that.
constexpr uint64_t kWalHeaderRecordSize = log::kEncryptedFileHeaderRecordSize;

// Bytes of a value shown by the dumps.
constexpr size_t kValuePrefix = 32;

constexpr std::string_view kUsage =
    R"(usage: basalt-admin [--encryption-key-file FILE] <command> [arguments]

Inspect, check, back up and restore the files of a Basalt LSM directory.
Every command except `stats`, `verify-indexes`, `backup` and `restore` only
reads files: it never modifies the directory and does not take
its lock, so it may run beside an open DB (it then sees one moment of a
directory that keeps changing; run verify on a closed DB for a definitive
answer).

commands:
  dump-wal FILE            every record of a WAL segment (NNNNNN.log): offset,
                           sequence, entry count, then each entry (tree, put/del,
                           key, value size and prefix); then totals and the tail
  dump-sst [--stats] FILE  an SSTable's (NNNNNN.sst) properties and every entry;
                           --stats: properties only
  dump-manifest DIR|FILE   every version edit of a manifest (for DIR, the one
                           CURRENT names), then the resulting trees and files
  verify DIR               checks CURRENT, the manifest, every SSTable it names
                           (size, every block checksum) and every WAL segment;
                           one line per file and a summary line
  stats DIR                opens the DB with DB::Open and prints its levels,
                           files and counters. This TAKES THE DIRECTORY LOCK
                           (fails if a server has the DB open) and does what
                           every open does: replays the WAL, truncates a torn
                           WAL tail, writes a new manifest, removes orphan files.
                           It refuses a DB whose CURRENT or manifest is damaged
  verify-indexes DIR [TABLE]
                           opens the tables of a Basalt data directory (TAKES
                           THE DIRECTORY LOCK, like stats; no background work
                           runs) and checks, at one snapshot, that every
                           secondary index of TABLE (default: of every table)
                           holds exactly the entries its table's items give
                           it: no missing, extra or stale entry. One line per
                           index, with up to five examples of differences; an
                           index still being backfilled is listed, not compared
  backup DIR DEST          OFFLINE backup (docs/backup.md): TAKES THE LOCK of
                           DIR (fails while a server runs); DEST must be new
                           or empty. SSTables are hard-linked (copied, and
                           said so, where a link is impossible), CURRENT, the
                           manifest and WAL segments copied, every file
                           fsynced; DEST/BACKUP.json (files, sizes, XXH3) is
                           written last: without it DEST is incomplete.
                           Encrypted files stay encrypted
  verify-backup DEST       checks BACKUP.json, every file it lists (size,
                           XXH3), then everything verify checks, on DEST
  restore DEST DIR         verifies DEST, then rebuilds the DB in DIR (new or
                           empty): SSTables hard-linked, the rest copied, all
                           fsynced, built as DIR.restore-tmp and renamed. A
                           server can then open DIR (with the same key file)
  trigger add|list|get|remove [--endpoint URL] ...
                           the stream triggers of a RUNNING server, through its
                           API (docs/triggers.md); `basalt-admin trigger` alone
                           prints that command's usage
  help                     this text
  --version                prints "basalt-admin VERSION"

options:
  --encryption-key-file FILE
                           the key file of an encrypted DB (JSON, docs/security.md):
                           every command needs it to read encrypted files

exit status: 0 success (verify, verify-backup: intact; verify-indexes: every
index equals its table), 1 corruption, missing file or I/O error (verify,
verify-backup: anything damaged or missing; verify-indexes: a difference;
backup: the DB is in use or damaged; restore: the backup is damaged or
incomplete), 2 usage error
)";

int Usage(std::string_view why) {
  if (!why.empty()) fmt::print(stderr, "basalt-admin: {}\n\n", why);
  fmt::print(stderr, "{}", kUsage);
  return kExitUsage;
}

// Prints an error to stderr (after what stdout already has) and returns 1.
int Fail(std::string_view what) {
  std::fflush(stdout);
  fmt::print(stderr, "basalt-admin: {}\n", what);
  return kExitCorrupt;
}

std::string ValuePreview(std::string_view v) {
  std::string r = fmt::format("{} bytes", v.size());
  if (v.empty()) return r;
  r += fmt::format(" '{}'", EscapeBytes(v.substr(0, kValuePrefix)));
  if (v.size() > kValuePrefix) r += "...";
  return r;
}

std::string KeyOrNone(std::string_view ikey) {
  return ikey.empty() ? std::string("(none)") : InternalKeyDebugString(ikey);
}

// ---------------------------------------------------------------------------
// dump-wal

class EntryPrinter : public WriteBatch::Handler {
 public:
  void Put(TreeId tree, std::string_view key, std::string_view value) override {
    fmt::print("  tree {} put '{}' value {}\n", tree, EscapeBytes(key), ValuePreview(value));
    entries++;
  }
  void Delete(TreeId tree, std::string_view key) override {
    fmt::print("  tree {} del '{}'\n", tree, EscapeBytes(key));
    entries++;
  }
  uint64_t entries = 0;
};

int DumpWal(io::Env* env, const std::string& path, const KeyRing* keys) {
  uint64_t size = 0;
  Status s = env->GetFileSize(path, &size);
  if (!s.ok()) return Fail(s.ToString());
  std::unique_ptr<log::Reader> reader;
  s = log::Reader::Open(env, path, log::kWalMagic, &reader, keys);
  if (!s.ok()) {
    std::unique_ptr<log::Reader> other;
    if (log::Reader::Open(env, path, log::kManifestMagic, &other, keys).ok() &&
        other->has_header()) {
      return Fail(s.ToString() + " (this is a manifest: use dump-manifest)");
    }
    return Fail(s.ToString());
  }
  fmt::print("file: {} ({} bytes)\n", path, size);
  if (reader->has_header()) {
    fmt::print("header: WAL format version {}, file number {}{}\n", reader->format_version(),
               reader->file_number(),
               reader->key_id() != 0 ? fmt::format(", encrypted (key id {})", reader->key_id())
                                     : std::string());
  } else {
    fmt::print("header: none (empty file, or torn before its header was complete)\n");
  }
  uint64_t records = 0, entries = 0;
  std::string_view payload;
  uint64_t offset = 0;
  while (reader->ReadRecord(&payload, &offset)) {
    WriteBatch b;
    s = b.SetContents(payload);
    if (!s.ok()) {
      return Fail(fmt::format("{}: record at offset {}: {}", path, offset, s.ToString()));
    }
    fmt::print("@{} seq={} count={} ({} bytes)\n", offset, b.Sequence(), b.Count(), payload.size());
    EntryPrinter printer;
    s = b.Iterate(&printer);
    records++;
    entries += printer.entries;
    if (!s.ok()) {
      return Fail(fmt::format("{}: record at offset {}: {}", path, offset, s.ToString()));
    }
  }
  fmt::print("records: {}, entries: {}\n", records, entries);
  if (!reader->status().ok()) return Fail(reader->status().ToString());
  if (!reader->has_header() && size >= kWalHeaderRecordSize) {
    // The header is synced before any record is written (see verify.cc).
    return Fail(
        fmt::format("{}: no valid file header in {} bytes: damage, not a torn write", path, size));
  }
  if (reader->torn_tail()) {
    fmt::print(
        "tail: torn at offset {} ({} bytes never acknowledged; the engine truncates them at the "
        "next open if this is the last segment, and refuses to open otherwise)\n",
        reader->valid_end(), size - reader->valid_end());
  } else {
    fmt::print("tail: clean (intact up to the end, offset {})\n", reader->valid_end());
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// dump-sst

int DumpSst(io::Env* env, const std::string& path, bool stats_only, const KeyRing* keys) {
  std::unique_ptr<io::RandomAccessFile> file;
  Status s = env->NewRandomAccessFile(path, &file);
  if (!s.ok()) return Fail(s.ToString());
  const uint64_t size = file->Size();
  std::unique_ptr<Table> table;
  // The number is checked against an encrypted table's footer only when the
  // file still has its engine name.
  uint64_t number = 0;
  const size_t slash = path.rfind('/');
  if (ParseFileName(path.substr(slash == std::string::npos ? 0 : slash + 1), &number) !=
      FileType::kTable) {
    number = 0;
  }
  s = Table::Open(std::move(file), size, &table, nullptr, Table::kNewCacheId, keys, number);
  if (!s.ok()) return Fail(fmt::format("{}: {}", path, s.ToString()));
  const TableProperties& p = table->properties();
  fmt::print("file: {} ({} bytes)\n", path, size);
  fmt::print("format: sstable version {}{}\n", table->format_version(),
             table->key_id() != 0 ? fmt::format(", encrypted (key id {})", table->key_id())
                                  : std::string());
  fmt::print("properties:\n");
  fmt::print("  num_entries:     {}\n", p.num_entries);
  fmt::print("  num_deletions:   {}\n", p.num_deletions);
  fmt::print("  num_data_blocks: {}\n", p.num_data_blocks);
  fmt::print("  raw_key_bytes:   {}\n", p.raw_key_bytes);
  fmt::print("  raw_value_bytes: {}\n", p.raw_value_bytes);
  fmt::print("  data_bytes:      {}\n", p.data_bytes);
  fmt::print("  index_bytes:     {}\n", p.index_bytes);
  fmt::print("  filter_bytes:    {}\n", p.filter_bytes);
  fmt::print("  smallest_key:    {}\n", KeyOrNone(p.smallest_key));
  fmt::print("  largest_key:     {}\n", KeyOrNone(p.largest_key));
  if (stats_only) return kExitOk;

  fmt::print("entries:\n");
  std::unique_ptr<Iterator> it = table->NewIterator();
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    fmt::print("  {} => {}\n", InternalKeyDebugString(it->key()), ValuePreview(it->value()));
    n++;
  }
  if (!it->status().ok()) {
    return Fail(fmt::format("{}: after {} entries: {}", path, n, it->status().ToString()));
  }
  fmt::print("entries read: {}\n", n);
  if (n != p.num_entries) {
    return Fail(
        fmt::format("{}: read {} entries but the properties say {}", path, n, p.num_entries));
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// dump-manifest

int DumpManifest(io::Env* env, const std::string& arg, const KeyRing* keys) {
  std::string path = arg;
  std::vector<std::string> children;
  if (env->GetChildren(arg, &children).ok()) {  // a directory
    std::string name;
    Status s = ReadCurrentFile(env, arg, &name);
    if (!s.ok()) return Fail(fmt::format("{}/CURRENT: {}", arg, s.ToString()));
    path = arg + "/" + name;
    fmt::print("CURRENT names {}\n", name);
  }
  ManifestState state;
  ManifestReplayInfo info;
  bool printed_header = false;
  auto print_header = [&] {
    if (printed_header) return;
    printed_header = true;
    fmt::print("manifest: {} ({} bytes)\n", path, info.file_size);
  };
  Status s =
      ReplayManifest(env, path, &state, &info, keys, [&](uint64_t offset, const VersionEdit& e) {
        print_header();
        fmt::print("@{} {}\n", offset, e.DebugString());
      });
  print_header();
  fmt::print("edits: {}\n", info.edits);
  if (!s.ok()) return Fail(s.ToString());
  if (info.header_file_number != 0) fmt::print("header file number: {}\n", info.header_file_number);
  if (info.key_id != 0) fmt::print("encrypted: key id {}\n", info.key_id);
  if (info.torn_tail) {
    fmt::print("tail: torn at offset {} (that edit never took effect; ignored at open)\n",
               info.valid_end);
  } else {
    fmt::print("tail: clean\n");
  }

  fmt::print("final state: next_file={} last_seq={} next_tree={}\n", state.next_file_number,
             state.last_sequence, state.next_tree_id);
  for (const auto& [id, tree] : state.trees) {
    uint64_t bytes = 0;
    for (const auto& [num, lf] : tree.files) bytes += lf.second.file_size;
    fmt::print("tree {} '{}': flushed_seq={}, {} files, {} bytes\n", id, EscapeBytes(tree.name),
               tree.flushed_seq, tree.files.size(), bytes);
    for (int level = 0; level < kNumLevels; level++) {
      int count = 0;
      uint64_t level_bytes = 0;
      for (const auto& [num, lf] : tree.files) {
        if (lf.first != level) continue;
        count++;
        level_bytes += lf.second.file_size;
      }
      if (count == 0) continue;
      fmt::print("  L{}: {} files, {} bytes\n", level, count, level_bytes);
      for (const auto& [num, lf] : tree.files) {
        if (lf.first != level) continue;
        const FileMetaData& m = lf.second;
        fmt::print("    #{:06} size={} entries={} seq=[{},{}] keys=[{} .. {}]\n", num, m.file_size,
                   m.num_entries, m.smallest_seq, m.largest_seq, InternalKeyDebugString(m.smallest),
                   InternalKeyDebugString(m.largest));
      }
    }
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// verify, stats

int Verify(io::Env* env, const std::string& dir, const KeyRing* keys) {
  std::vector<std::string> lines;
  bool intact = false;
  Status s = VerifyDbDirectory(env, dir, &lines, &intact, keys);
  if (!s.ok()) return Fail(fmt::format("cannot list {}: {}", dir, s.ToString()));
  for (const auto& l : lines) fmt::print("{}\n", l);
  return intact ? kExitOk : kExitCorrupt;
}

// Per tree: one row per non-empty level. read/written: compaction bytes into
// the level since this Open (so 0 here: stats opens with compaction off);
// w-amp: bytes written into the level / the DB's user bytes written.
void PrintLevelTables(DB* db) {
  for (const TreeInfo& info : db->ListTrees()) {
    TreeStats st;
    if (!db->GetTreeStats(info.id, &st).ok()) continue;
    fmt::print(
        "tree {} '{}' ({} compaction): write-amp {:.2f} (user {} B, flushed {} B, "
        "compacted {} B), block index {} B, pending compaction {} B\n",
        info.id, info.name, st.compaction_policy, st.db_write_amplification,
        st.db_user_bytes_written, st.db_bytes_flushed, st.db_bytes_compacted_written,
        st.block_index_bytes, st.pending_compaction_bytes);
    fmt::print("  {:>5} {:>6} {:>14} {:>6} {:>14} {:>14} {:>7}\n", "level", "files", "bytes",
               "comps", "read", "written", "w-amp");
    for (size_t lv = 0; lv < st.levels.size(); lv++) {
      const LevelStats& l = st.levels[lv];
      if (l.files == 0 && l.compactions == 0) continue;
      const double amp = st.db_user_bytes_written == 0
                             ? 0
                             : static_cast<double>(l.bytes_written_by_compaction) /
                                   static_cast<double>(st.db_user_bytes_written);
      fmt::print("  {:>5} {:>6} {:>14} {:>6} {:>14} {:>14} {:>7.2f}\n", fmt::format("L{}", lv),
                 l.files, l.bytes, l.compactions, l.bytes_read_by_compaction,
                 l.bytes_written_by_compaction, amp);
    }
  }
}

int Stats(const std::string& dir, const std::shared_ptr<const KeyRing>& keys) {
  // DB::Open creates the directory and its LOCK file before it looks for
  // CURRENT, even with create_if_missing = false; do not leave that behind.
  if (!io::Env::Default()->FileExists(dir + "/CURRENT")) {
    return Fail(fmt::format("{} is not a Basalt DB (no CURRENT file)", dir));
  }
  // DB::Open accepts a manifest that lost its first edits (torn or cut at a
  // record boundary) and then deletes every SSTable it no longer knows. A
  // look at the manifest first keeps this command from doing that.
  std::string manifest;
  Status s = ReadCurrentFile(io::Env::Default(), dir, &manifest);
  ManifestState state;
  if (s.ok()) {
    s = ReplayManifest(io::Env::Default(), dir + "/" + manifest, &state, nullptr, keys.get());
  }
  if (s.ok() && state.trees.count(kDefaultTree) == 0) {
    s = Status::Corruption(manifest, "the default tree is missing (edits lost)");
  }
  if (!s.ok()) {
    return Fail(fmt::format("not opening {} (run verify): {}", dir, s.ToString()));
  }
  Options options;
  options.create_if_missing = false;  // a typo must not create a DB
  options.disable_compaction = true;  // look, do not start background compactions
  options.encryption_keys = keys;
  std::unique_ptr<DB> db;
  s = DB::Open(options, dir, &db);
  if (!s.ok()) return Fail(fmt::format("cannot open {}: {}", dir, s.ToString()));
  fmt::print("{} (opened read-write, directory lock held while printing)\n", dir);
  fmt::print("{}", db->DebugString());
  PrintLevelTables(db.get());
  s = db->Close();
  if (!s.ok()) return Fail(fmt::format("close {}: {}", dir, s.ToString()));
  return kExitOk;
}

// ---------------------------------------------------------------------------
// verify-indexes

int VerifyIndexes(const std::string& dir, const std::string& table,
                  const std::shared_ptr<const KeyRing>& keys) {
  if (!io::Env::Default()->FileExists(dir + "/CURRENT")) {
    return Fail(fmt::format("{} is not a Basalt DB (no CURRENT file)", dir));
  }
  table::TableStoreOptions o;
  o.dir = dir;
  o.lsm.create_if_missing = false;
  o.lsm.disable_compaction = true;
  o.lsm.encryption_keys = keys;
  // Look only: no splits, sweeps, trims or backfills while checking.
  o.split_threshold_bytes = 0;
  o.ttl_sweep_interval_ms = 0;
  o.stream_trim_interval_ms = 0;
  o.index_build_interval_ms = 0;
  std::unique_ptr<table::TableStore> store;
  Status s = table::TableStore::Open(o, &store);
  if (!s.ok()) return Fail(fmt::format("cannot open {}: {}", dir, s.ToString()));
  std::vector<table::IndexVerifyReport> reports;
  s = store->VerifyIndexes(table, &reports);
  Status closed = store->Close();
  if (!s.ok()) return Fail(fmt::format("verify-indexes {}: {}", dir, s.ToString()));
  bool equal = true;
  for (const table::IndexVerifyReport& r : reports) {
    if (r.backfilling) {
      fmt::print("{}.{}: backfilling (not compared), {} entries expected so far\n", r.table,
                 r.index, r.expected);
      continue;
    }
    fmt::print("{}.{}: {} ({} expected, {} present, {} missing, {} extra, {} stale)\n", r.table,
               r.index, r.ok() ? "OK" : "DIFFERS", r.expected, r.actual, r.missing, r.extra,
               r.stale);
    for (const std::string& e : r.examples) fmt::print("  {}\n", e);
    equal = equal && r.ok();
  }
  fmt::print("{} index(es) checked: {}\n", reports.size(),
             equal ? "every index equals its table" : "DIFFERENCES FOUND");
  if (!closed.ok()) return Fail(fmt::format("close {}: {}", dir, closed.ToString()));
  return equal ? kExitOk : kExitCorrupt;
}

int Run(int argc, char** argv) {
  std::vector<std::string_view> all(argv + 1, argv + argc);
  // --encryption-key-file FILE or --encryption-key-file=FILE, anywhere.
  std::string key_file;
  std::vector<std::string_view> args;
  constexpr std::string_view kKeyFileFlag = "--encryption-key-file";
  for (size_t i = 0; i < all.size(); i++) {
    if (all[i] == kKeyFileFlag) {
      if (i + 1 >= all.size()) return Usage("--encryption-key-file needs a file");
      key_file = std::string(all[++i]);
    } else if (all[i].substr(0, kKeyFileFlag.size() + 1) == std::string(kKeyFileFlag) + "=") {
      key_file = std::string(all[i].substr(kKeyFileFlag.size() + 1));
    } else {
      args.push_back(all[i]);
    }
  }
  std::shared_ptr<const KeyRing> keys;
  if (!key_file.empty()) {
    Status ks = KeyRing::Load(key_file, &keys);
    if (!ks.ok()) return Fail(ks.ToString());
  }
  if (args.empty()) return Usage("no command given");
  const std::string_view cmd = args[0];
  args.erase(args.begin());
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (!args.empty()) return Usage("help takes no arguments");
    fmt::print("{}", kUsage);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    if (!args.empty()) return Usage("--version takes no arguments");
    fmt::print("basalt-admin {}\n", BASALT_VERSION);
    return kExitOk;
  }
  if (cmd == "trigger") return tools::TriggerCommand(args);
  if (tools::IsBackupCommand(cmd)) return tools::BackupCommand(cmd, args, keys.get());
  if (cmd != "dump-wal" && cmd != "dump-sst" && cmd != "dump-manifest" && cmd != "verify" &&
      cmd != "stats" && cmd != "verify-indexes") {
    return Usage(fmt::format("unknown command '{}'", cmd));
  }
  bool stats_only = false;
  if (cmd == "dump-sst") {
    std::vector<std::string_view> rest;
    for (auto a : args) {
      if (a == "--stats") {
        stats_only = true;
      } else {
        rest.push_back(a);
      }
    }
    args = rest;
  }
  for (auto a : args) {
    if (a.size() > 1 && a[0] == '-') return Usage(fmt::format("unknown option '{}'", a));
  }
  if (cmd == "verify-indexes") {
    if (args.empty() || args.size() > 2) {
      return Usage("'verify-indexes' takes a directory and optionally a table name");
    }
    return VerifyIndexes(std::string(args[0]), args.size() == 2 ? std::string(args[1]) : "", keys);
  }
  if (args.size() != 1) {
    return Usage(fmt::format("'{}' takes exactly one file or directory argument", cmd));
  }
  const std::string target(args[0]);
  if (cmd == "dump-wal") return DumpWal(io::Env::Default(), target, keys.get());
  if (cmd == "dump-sst") return DumpSst(io::Env::Default(), target, stats_only, keys.get());
  if (cmd == "dump-manifest") return DumpManifest(io::Env::Default(), target, keys.get());
  if (cmd == "verify") return Verify(io::Env::Default(), target, keys.get());
  return Stats(target, keys);
}

}  // namespace
}  // namespace basalt::lsm

int main(int argc, char** argv) {
  try {
    return basalt::lsm::Run(argc, argv);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc on a huge file
    std::fflush(stdout);
    std::fprintf(stderr, "basalt-admin: internal error: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "basalt-admin: internal error\n");
    return 1;
  }
}
