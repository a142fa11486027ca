#include "engine/lsm/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>

#include "engine/base/checksum.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"

namespace basalt::lsm {

namespace {

// Collects the report lines and the verdict.
class Report {
 public:
  explicit Report(std::vector<std::string>* lines) : lines_(lines) {}
  void Ok(std::string_view name, std::string_view detail) {
    files_++;
    lines_->push_back(fmt::format("{}: ok{}{}", name, detail.empty() ? "" : " ", detail));
  }
  // An ok file with a note appended.
  void OkWithNote(std::string_view name, std::string_view detail, std::string_view note) {
    files_++;
    notes_++;
    lines_->push_back(fmt::format("{}: ok {}; note: {}", name, detail, note));
  }
  void Note(std::string_view name, std::string_view note) {
    files_++;
    notes_++;
    lines_->push_back(fmt::format("{}: note: {}", name, note));
  }
  void Corrupt(std::string_view name, std::string_view what) {
    files_++;
    problems_++;
    lines_->push_back(fmt::format("{}: CORRUPT: {}", name, what));
  }
  void Missing(std::string_view name, std::string_view what) {
    files_++;
    problems_++;
    lines_->push_back(fmt::format("{}: MISSING ({})", name, what));
  }
  void Summary(const std::string& dir) {
    lines_->push_back(fmt::format("summary: {}: {}: {} files checked, {} problems, {} notes",
                                  problems_ == 0 ? "intact" : "NOT INTACT", dir, files_, problems_,
                                  notes_));
  }
  bool intact() const { return problems_ == 0; }

 private:
  std::vector<std::string>* lines_;
  int files_ = 0;
  int problems_ = 0;
  int notes_ = 0;
};

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Opens and fully checks one SSTable. meta: what the manifest recorded (null
// for a table the manifest does not reference). On success *detail describes it.
Status CheckTable(io::Env* env, const std::string& path, uint64_t number, const KeyRing* keys,
                  const FileMetaData* meta, std::string* detail) {
  std::unique_ptr<io::RandomAccessFile> file;
  Status s = env->NewRandomAccessFile(path, &file);
  if (!s.ok()) return s;
  const uint64_t size = file->Size();
  if (meta != nullptr && size != meta->file_size) {
    return Status::Corruption(fmt::format(
        "size {} but the manifest says {} (truncated or replaced?)", size, meta->file_size));
  }
  std::unique_ptr<Table> table;
  s = Table::Open(std::move(file), size, &table, nullptr, Table::kNewCacheId, keys, number);
  if (!s.ok()) return s;
  s = table->VerifyChecksums();
  if (!s.ok()) return s;
  const TableProperties& p = table->properties();
  if (meta != nullptr) {
    if (p.num_entries != meta->num_entries) {
      return Status::Corruption(fmt::format("table has {} entries but the manifest says {}",
                                            p.num_entries, meta->num_entries));
    }
    if (p.num_entries > 0 && (p.smallest_key != meta->smallest || p.largest_key != meta->largest)) {
      return Status::Corruption(fmt::format(
          "key range [{} .. {}] differs from the manifest's [{} .. {}]",
          InternalKeyDebugString(p.smallest_key), InternalKeyDebugString(p.largest_key),
          InternalKeyDebugString(meta->smallest), InternalKeyDebugString(meta->largest)));
    }
  }
  *detail = fmt::format("{} entries, {} bytes", p.num_entries, size);
  if (table->key_id() != 0) *detail += fmt::format(", encrypted, key id {}", table->key_id());
  return Status::OK();
}

// Size of the largest file header record (version 2: with the encryption
// header): log::Reader reports no header only for files shorter than that.
constexpr uint64_t kWalHeaderRecordSize = log::kEncryptedFileHeaderRecordSize;

// Counts entries of a WriteBatch while Iterate validates it.
class CountingHandler : public WriteBatch::Handler {
 public:
  void Put(TreeId, std::string_view, std::string_view) override { n++; }
  void Delete(TreeId, std::string_view) override { n++; }
  uint64_t n = 0;
};

void CheckWal(io::Env* env, const std::string& dir, uint64_t number, bool last, const KeyRing* keys,
              Report* report) {
  const std::string path = WalFileName(dir, number);
  const std::string name = BaseName(path);
  std::unique_ptr<log::Reader> reader;
  Status s = log::Reader::Open(env, path, log::kWalMagic, &reader, keys);
  if (!s.ok()) {
    report->Corrupt(name, s.ToString());
    return;
  }
  uint64_t records = 0, entries = 0;
  SequenceNumber first_seq = 0, last_seq = 0;
  std::string_view payload;
  uint64_t offset = 0;
  while (reader->ReadRecord(&payload, &offset)) {
    // Keep in step with DBImpl::ReplayWal: a record that passes its checksum
    // but does not decode as a WriteBatch is corruption.
    WriteBatch b;
    s = b.SetContents(payload);
    CountingHandler counter;
    if (s.ok()) s = b.Iterate(&counter);
    if (!s.ok()) {
      report->Corrupt(name, fmt::format("record at offset {}: {}", offset, s.ToString()));
      return;
    }
    if (records == 0) first_seq = b.Sequence();
    if (b.Count() > 0) last_seq = b.Sequence() + b.Count() - 1;
    records++;
    entries += counter.n;
  }
  if (!reader->status().ok()) {
    report->Corrupt(name, reader->status().ToString());
    return;
  }
  std::string detail = records == 0 ? fmt::format("({} records)", records)
                                    : fmt::format("({} records, {} entries, sequences {}..{})",
                                                  records, entries, first_seq, last_seq);
  if (reader->has_header() && reader->file_number() != number) {
    detail += fmt::format(" [header names file {}]", reader->file_number());
  }
  if (reader->key_id() != 0) detail += fmt::format(" [encrypted, key id {}]", reader->key_id());
  uint64_t size = 0;
  env->GetFileSize(path, &size).PermitUnchecked();  // 0 if unknown: no extra check
  if (!reader->has_header() && size >= kWalHeaderRecordSize) {
    // RollWal syncs the header before any record is written, so a whole
    // header's worth of bytes without a valid header is damage, not a torn
    // write. (DB::Open treats it as a torn tail and truncates the segment.)
    report->Corrupt(
        name, fmt::format("no valid file header in {} bytes (the header is synced "
                          "before any record is written; open would {})",
                          size, last ? "truncate the segment to 0 bytes" : "refuse this segment"));
    return;
  }
  if (reader->torn_tail()) {
    if (last) {
      report->OkWithNote(
          name, detail,
          fmt::format("torn tail at offset {} (unacknowledged bytes; truncated at next open)",
                      reader->valid_end()));
    } else {
      report->Corrupt(name, fmt::format("damaged record at offset {} in a WAL segment that is not "
                                        "the last one (it was synced when closed); before it: {}",
                                        reader->valid_end(), detail));
    }
    return;
  }
  report->Ok(name, detail);
}

}  // namespace

Status VerifyDbDirectory(io::Env* env, const std::string& dir, std::vector<std::string>* lines,
                         bool* intact, const KeyRing* keys) {
  *intact = false;
  std::vector<std::string> names;
  Status s = env->GetChildren(dir, &names);
  if (!s.ok()) return s;
  std::sort(names.begin(), names.end());

  std::vector<uint64_t> wals, tables, manifests, temps;
  std::vector<std::string> unknown;
  bool has_current = false;
  for (const auto& n : names) {
    uint64_t num;
    FileType type = ParseFileName(n, &num);
    if (type == FileType::kWal || type == FileType::kTable || type == FileType::kManifest ||
        type == FileType::kTemp) {
      // The engine parses "12.log" as segment 12 but opens it as "000012.log".
      const std::string canonical =
          BaseName(type == FileType::kWal     ? WalFileName(dir, num)
                   : type == FileType::kTable ? TableFileName(dir, num)
                   : type == FileType::kTemp  ? TempFileName(dir, num)
                                              : ManifestFileName(dir, num));
      if (n != canonical) {
        unknown.push_back(n);
        continue;
      }
    }
    switch (type) {
      case FileType::kWal:
        wals.push_back(num);
        break;
      case FileType::kTable:
        tables.push_back(num);
        break;
      case FileType::kManifest:
        manifests.push_back(num);
        break;
      case FileType::kTemp:
        temps.push_back(num);
        break;
      case FileType::kCurrent:
        has_current = true;
        break;
      case FileType::kLock:
        break;
      case FileType::kUnknown:
        unknown.push_back(n);
        break;
    }
  }
  std::sort(wals.begin(), wals.end());
  std::sort(tables.begin(), tables.end());
  std::sort(manifests.begin(), manifests.end());

  Report report(lines);

  // ---- CURRENT ----
  std::string manifest_name;
  bool current_ok = false;
  if (!has_current) {
    report.Missing("CURRENT", manifests.empty() && tables.empty() && wals.empty()
                                  ? "no Basalt DB in this directory?"
                                  : "the DB cannot be opened without it");
  } else {
    s = ReadCurrentFile(env, dir, &manifest_name);
    uint64_t num = 0;
    if (!s.ok()) {
      report.Corrupt("CURRENT", s.ToString());
    } else if (ParseFileName(manifest_name, &num) != FileType::kManifest ||
               !env->FileExists(dir + "/" + manifest_name)) {
      report.Corrupt("CURRENT", fmt::format("names {}, which does not exist", manifest_name));
    } else {
      report.Ok("CURRENT", fmt::format("(names {})", manifest_name));
      current_ok = true;
    }
  }
  uint64_t manifest_number = 0;
  if (current_ok) {
    if (ParseFileName(manifest_name, &manifest_number) != FileType::kManifest) manifest_number = 0;
  } else if (!manifests.empty()) {
    // Check the newest manifest anyway, to say as much as we can about the rest.
    manifest_number = manifests.back();
    manifest_name = BaseName(ManifestFileName(dir, manifest_number));
    lines->push_back(fmt::format(
        "note: CURRENT is unusable; cross-checking with {} (the highest-numbered manifest)",
        manifest_name));
  }

  // ---- manifest ----
  ManifestState state;
  bool state_ok = false;
  if (manifest_number != 0) {
    ManifestReplayInfo info;
    s = ReplayManifest(env, dir + "/" + manifest_name, &state, &info, keys);
    if (s.ok() && state.trees.count(kDefaultTree) == 0) {
      // NewDB creates tree 0 and it can never be dropped: a manifest without
      // it lost edits (cut at a record boundary, or torn in its first edit).
      s = Status::Corruption(fmt::format(
          "the default tree (0) is missing after {} edits{}; the manifest lost its first edit",
          info.edits,
          info.torn_tail ? fmt::format(" and a torn tail at offset {}", info.valid_end) : ""));
    }
    if (!s.ok()) {
      report.Corrupt(manifest_name, s.ToString());
    } else {
      size_t live = 0;
      for (const auto& [id, t] : state.trees) live += t.files.size();
      std::string detail = fmt::format("({} edits, {} trees, {} tables, last sequence {})",
                                       info.edits, state.trees.size(), live, state.last_sequence);
      if (info.header_file_number != manifest_number) {
        detail += fmt::format(" [header names file {}]", info.header_file_number);
      }
      if (info.key_id != 0) detail += fmt::format(" [encrypted, key id {}]", info.key_id);
      if (info.torn_tail) {
        report.OkWithNote(manifest_name, detail,
                          fmt::format("torn tail at offset {} (an edit that never took effect; "
                                      "ignored at open)",
                                      info.valid_end));
      } else {
        report.Ok(manifest_name, detail);
      }
      state_ok = true;
    }
  }
  for (uint64_t m : manifests) {
    std::string name = BaseName(ManifestFileName(dir, m));
    if (name == manifest_name) continue;
    if (current_ok) {
      report.Note(name, "orphan manifest, not named by CURRENT (removed at next open)");
    } else {
      report.Note(name, "manifest not named by CURRENT (not checked)");
    }
  }

  // ---- SSTables ----
  std::set<uint64_t> referenced;
  if (state_ok) {
    for (const auto& [id, tree] : state.trees) {
      for (const auto& [num, lf] : tree.files) {
        referenced.insert(num);
        const std::string path = TableFileName(dir, num);
        const std::string name = BaseName(path);
        const std::string where =
            fmt::format("tree {} '{}' L{}", id, EscapeBytes(tree.name), lf.first);
        if (!std::binary_search(tables.begin(), tables.end(), num)) {
          report.Missing(name, fmt::format("{} in {}", where, manifest_name));
          continue;
        }
        std::string detail;
        s = CheckTable(env, path, num, keys, &lf.second, &detail);
        if (s.ok()) {
          report.Ok(name, fmt::format("({}, {})", where, detail));
        } else {
          report.Corrupt(name, fmt::format("{}: {}", where, s.ToString()));
        }
      }
    }
  }
  for (uint64_t num : tables) {
    if (referenced.count(num) != 0) continue;
    const std::string path = TableFileName(dir, num);
    const std::string name = BaseName(path);
    if (state_ok && current_ok) {
      report.Note(name, "orphan (removed at next open)");
      continue;
    }
    if (state_ok) {
      report.Note(name, fmt::format("not referenced by {}", manifest_name));
      continue;
    }
    // No usable manifest: check the table on its own.
    std::string detail;
    s = CheckTable(env, path, num, keys, nullptr, &detail);
    if (s.ok()) {
      report.Ok(name, fmt::format("({}; not cross-checked: no readable manifest)", detail));
    } else {
      report.Corrupt(name, s.ToString());
    }
  }

  // ---- WAL segments ----
  for (size_t i = 0; i < wals.size(); i++) {
    CheckWal(env, dir, wals[i], i + 1 == wals.size(), keys, &report);
  }

  // ---- everything else ----
  for (uint64_t t : temps) {
    report.Note(BaseName(TempFileName(dir, t)), "leftover temporary file (removed at next open)");
  }
  for (const auto& n : unknown) report.Note(n, "not a file name the engine writes (ignored)");

  report.Summary(dir);
  *intact = report.intact();
  return Status::OK();
}

}  // namespace basalt::lsm
