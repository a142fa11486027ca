#include "engine/lsm/backup.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "engine/base/checksum.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/verify.h"
#include "engine/lsm/version/manifest.h"

namespace basalt::lsm {

namespace {

constexpr size_t kCopyChunk = 1 << 20;
constexpr const char* kFormatName = "basalt-backup";
constexpr const char* kStagingSuffix = ".restore-tmp";

std::string Join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// dir without trailing slashes ("/" stays "/").
std::string Trimmed(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::string ParentOf(const std::string& dir) {
  std::string p = std::filesystem::path(Trimmed(dir)).parent_path().string();
  return p.empty() ? "." : p;
}

std::string Hex(uint64_t v) { return fmt::format("{:016x}", v); }

// OK when path does not exist or is an empty directory.
Status CheckMissingOrEmpty(io::Env* env, const std::string& path) {
  if (!env->FileExists(path)) return Status::OK();
  std::vector<std::string> children;
  if (!env->GetChildren(path, &children).ok()) {
    return Status::InvalidArgument(path, "exists and is not a directory");
  }
  if (!children.empty()) return Status::InvalidArgument(path, "is not empty");
  return Status::OK();
}

// Reads path front to back; copies it to `to` when to is non-empty (the new
// file is fsynced and closed). Sets the bytes read and their XXH3-64.
Status ReadAndMaybeCopy(io::Env* env, const std::string& from, const std::string& to,
                        uint64_t* size, uint64_t* xxh3) {
  std::unique_ptr<io::SequentialFile> in;
  Status s = env->NewSequentialFile(from, &in);
  if (!s.ok()) return s;
  std::unique_ptr<io::WritableFile> out;
  if (!to.empty()) {
    s = env->NewWritableFile(to, &out);
    if (!s.ok()) return s;
  }
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  std::string buf(kCopyChunk, '\0');
  uint64_t total = 0;
  for (;;) {
    std::string_view chunk;
    s = in->Read(buf.size(), buf.data(), &chunk);
    if (!s.ok()) return s;
    if (chunk.empty()) break;
    XXH3_64bits_update(&st, chunk.data(), chunk.size());
    total += chunk.size();
    if (out) {
      s = out->Append(chunk);
      if (!s.ok()) return s;
    }
    if (chunk.size() < buf.size()) break;
  }
  if (out) {
    s = out->Sync();
    if (s.ok()) s = out->Close();
    if (!s.ok()) return s;
  }
  *size = total;
  *xxh3 = XXH3_64bits_digest(&st);
  return Status::OK();
}

// Links from to `to`; copies when no link is possible (records why in
// *fallback, first reason only). Sets f's size, checksum and linked flag.
Status LinkOrCopy(io::Env* env, const std::string& from, const std::string& to, BackupFile* f,
                  std::string* fallback) {
  Status s = env->LinkFile(from, to);
  if (s.ok()) {
    f->linked = true;
    return ReadAndMaybeCopy(env, to, "", &f->size, &f->xxh3);
  }
  if (!s.IsNotSupported()) return s;
  if (fallback->empty()) *fallback = s.ToString();
  f->linked = false;
  return ReadAndMaybeCopy(env, from, to, &f->size, &f->xxh3);
}

std::string Iso8601(uint64_t micros) {
  const std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

const char* TypeName(FileType t) {
  switch (t) {
    case FileType::kTable:
      return "sstable";
    case FileType::kWal:
      return "wal";
    case FileType::kManifest:
      return "manifest";
    case FileType::kCurrent:
      return "current";
    default:
      return "other";
  }
}

std::string Quoted(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

// BACKUP.json: one file per line so that a diff or a grep reads it.
std::string EncodeBackupInfo(const BackupInfo& info) {
  std::string r = "{\n";
  r += fmt::format("  \"format\": \"{}\",\n", kFormatName);
  r += fmt::format("  \"format_version\": {},\n", info.format_version);
  r += fmt::format("  \"created\": {},\n", Quoted(info.created));
  r += fmt::format("  \"created_unix_micros\": {},\n", info.created_micros);
  r += fmt::format("  \"source\": {},\n", Quoted(info.source));
  r += fmt::format("  \"encrypted\": {},\n", info.encrypted ? "true" : "false");
  r += fmt::format("  \"key_id\": {},\n", info.key_id);
  r += fmt::format("  \"manifest\": {},\n", Quoted(info.manifest));
  r += fmt::format("  \"last_sequence\": {},\n", info.last_sequence);
  r += "  \"files\": [\n";
  for (size_t i = 0; i < info.files.size(); i++) {
    const BackupFile& f = info.files[i];
    r += fmt::format(
        "    {{\"name\": {}, \"type\": \"{}\", \"size\": {}, \"xxh3\": \"{}\", \"stored\": "
        "\"{}\"}}{}\n",
        Quoted(f.name), TypeName(f.type), f.size, Hex(f.xxh3), f.linked ? "linked" : "copied",
        i + 1 < info.files.size() ? "," : "");
  }
  r += "  ]\n}\n";
  return r;
}

Status BadInfo(const std::string& path, std::string_view what) {
  return Status::Corruption(path, what);
}

// The value of key in o as T, or a Corruption naming the key.
Status GetUint(const boost::json::object& o, std::string_view key, const std::string& path,
               uint64_t* out) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return BadInfo(path, fmt::format("no \"{}\"", key));
  if (v->is_uint64()) {
    *out = v->as_uint64();
  } else if (v->is_int64() && v->as_int64() >= 0) {
    *out = static_cast<uint64_t>(v->as_int64());
  } else {
    return BadInfo(path, fmt::format("\"{}\" is not a non-negative integer", key));
  }
  return Status::OK();
}

Status GetString(const boost::json::object& o, std::string_view key, const std::string& path,
                 std::string* out) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return BadInfo(path, fmt::format("no string \"{}\"", key));
  *out = std::string(v->as_string());
  return Status::OK();
}

}  // namespace

Status BackupDbDirectory(io::Env* env, const std::string& dir_arg, const std::string& dest_arg,
                         const KeyRing* keys, BackupInfo* info_out, std::string* link_fallback) {
  const std::string dir = Trimmed(dir_arg);
  const std::string dest = Trimmed(dest_arg);
  std::string fallback;
  // LockFile creates LOCK: do not leave one in a directory that is no DB.
  if (!env->FileExists(CurrentFileName(dir))) {
    return Status::InvalidArgument(dir, "is not a Basalt DB (no CURRENT file)");
  }
  Status s = CheckMissingOrEmpty(env, dest);
  if (!s.ok()) return s;
  std::unique_ptr<io::FileLock> lock;
  s = env->LockFile(LockFileName(dir), &lock);
  if (s.IsBusy()) {
    return Status::Busy(dir, "is in use (a server or tool holds its LOCK); back up a closed DB");
  }
  if (!s.ok()) return s;

  // The manifest says which SSTables form the DB; DB::Open's rules.
  BackupInfo info;
  s = ReadCurrentFile(env, dir, &info.manifest);
  if (!s.ok()) return s;
  ManifestState state;
  ManifestReplayInfo replay;
  s = ReplayManifest(env, Join(dir, info.manifest), &state, &replay, keys);
  if (!s.ok()) return s;
  if (state.trees.count(kDefaultTree) == 0) {
    return Status::Corruption(info.manifest, "the default tree is missing (edits lost)");
  }
  info.encrypted = replay.key_id != 0;
  info.key_id = replay.key_id;
  info.last_sequence = state.last_sequence;
  const uint64_t now = env->NowMicros();
  info.created_micros = now;
  info.created = Iso8601(now);
  info.source = std::filesystem::path(dir).filename().string();

  std::set<uint64_t> tables;
  for (const auto& [id, tree] : state.trees) {
    for (const auto& [num, lf] : tree.files) tables.insert(num);
  }
  std::vector<std::string> names;
  s = env->GetChildren(dir, &names);
  if (!s.ok()) return s;
  std::vector<std::string> wals;
  for (const std::string& n : names) {
    uint64_t num = 0;
    // Only canonical names: the engine parses "12.log" but opens "000012.log".
    if (ParseFileName(n, &num) == FileType::kWal && WalFileName(dir, num) == Join(dir, n)) {
      wals.push_back(n);
    }
  }
  std::sort(wals.begin(), wals.end());
  for (uint64_t num : tables) {
    if (!env->FileExists(TableFileName(dir, num))) {
      return Status::Corruption(TableFileName(dir, num),
                                "named by the manifest but missing (run basalt-admin verify)");
    }
  }

  s = env->CreateDirIfMissing(dest);
  if (!s.ok()) return s;
  auto name_of = [](const std::string& path) { return path.substr(path.rfind('/') + 1); };
  for (uint64_t num : tables) {
    BackupFile f;
    f.type = FileType::kTable;
    f.name = name_of(TableFileName(dir, num));
    s = LinkOrCopy(env, Join(dir, f.name), Join(dest, f.name), &f, &fallback);
    if (!s.ok()) return s;
    info.files.push_back(f);
  }
  std::vector<std::pair<std::string, FileType>> copies;
  copies.emplace_back(info.manifest, FileType::kManifest);
  for (const std::string& w : wals) copies.emplace_back(w, FileType::kWal);
  copies.emplace_back(name_of(CurrentFileName(dir)), FileType::kCurrent);
  for (const auto& [name, type] : copies) {
    BackupFile f;
    f.name = name;
    f.type = type;
    s = ReadAndMaybeCopy(env, Join(dir, name), Join(dest, name), &f.size, &f.xxh3);
    if (!s.ok()) return s;
    info.files.push_back(f);
  }
  s = env->SyncDir(dest);
  if (!s.ok()) return s;

  // The commit point: BACKUP.json appears, whole and durable, last.
  const std::string tmp = Join(dest, std::string(kBackupInfoFileName) + ".tmp");
  s = io::WriteStringToFile(env, EncodeBackupInfo(info), tmp, /*sync=*/true);
  if (s.ok()) s = env->RenameFile(tmp, Join(dest, kBackupInfoFileName));
  if (s.ok()) s = env->SyncDir(dest);
  if (!s.ok()) return s;
  if (info_out != nullptr) *info_out = std::move(info);
  if (link_fallback != nullptr) *link_fallback = fallback;
  return Status::OK();
}

Status ReadBackupInfo(io::Env* env, const std::string& dest_arg, BackupInfo* info) {
  const std::string path = Join(Trimmed(dest_arg), kBackupInfoFileName);
  std::string text;
  Status s = io::ReadFileToString(env, path, &text);
  if (s.IsNotFound()) {
    return Status::NotFound(path, "missing: not a backup, or an incomplete one (no commit)");
  }
  if (!s.ok()) return s;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return BadInfo(path, "not a JSON object");
  const boost::json::object& o = v.as_object();
  BackupInfo r;
  std::string format;
  s = GetString(o, "format", path, &format);
  if (!s.ok()) return s;
  if (format != kFormatName) return BadInfo(path, fmt::format("format is not \"{}\"", kFormatName));
  uint64_t u = 0;
  s = GetUint(o, "format_version", path, &u);
  if (!s.ok()) return s;
  if (u == 0 || u > static_cast<uint64_t>(kBackupFormatVersion)) {
    return Status::NotSupported(
        path, fmt::format("format_version {} (this basalt-admin reads up to {})", u,
                          kBackupFormatVersion));
  }
  r.format_version = static_cast<int>(u);
  s = GetString(o, "created", path, &r.created);
  if (s.ok()) s = GetUint(o, "created_unix_micros", path, &r.created_micros);
  if (s.ok()) s = GetString(o, "source", path, &r.source);
  if (s.ok()) s = GetString(o, "manifest", path, &r.manifest);
  if (s.ok()) s = GetUint(o, "last_sequence", path, &r.last_sequence);
  if (s.ok()) s = GetUint(o, "key_id", path, &u);
  if (!s.ok()) return s;
  r.key_id = static_cast<uint32_t>(u);
  const boost::json::value* enc = o.if_contains("encrypted");
  if (enc == nullptr || !enc->is_bool()) return BadInfo(path, "no boolean \"encrypted\"");
  r.encrypted = enc->as_bool();
  const boost::json::value* files = o.if_contains("files");
  if (files == nullptr || !files->is_array()) return BadInfo(path, "no array \"files\"");
  std::set<std::string> seen;
  bool has_current = false, has_manifest = false;
  for (const boost::json::value& fv : files->as_array()) {
    if (!fv.is_object()) return BadInfo(path, "a \"files\" entry is not an object");
    const boost::json::object& fo = fv.as_object();
    BackupFile f;
    std::string stored, xxh3;
    s = GetString(fo, "name", path, &f.name);
    if (s.ok()) s = GetUint(fo, "size", path, &f.size);
    if (s.ok()) s = GetString(fo, "xxh3", path, &xxh3);
    if (s.ok()) s = GetString(fo, "stored", path, &stored);
    if (!s.ok()) return s;
    // Only names the engine writes: never a path (a restore links and copies them).
    uint64_t num = 0;
    f.type = ParseFileName(f.name, &num);
    if (f.name.find('/') != std::string::npos ||
        (f.type != FileType::kTable && f.type != FileType::kWal && f.type != FileType::kManifest &&
         f.type != FileType::kCurrent)) {
      return BadInfo(path, fmt::format("\"{}\" is not a DB file name", f.name));
    }
    if (!seen.insert(f.name).second) return BadInfo(path, fmt::format("\"{}\" twice", f.name));
    if (xxh3.size() != 16 || xxh3.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return BadInfo(path, fmt::format("\"{}\": xxh3 is not 16 hex digits", f.name));
    }
    f.xxh3 = std::stoull(xxh3, nullptr, 16);
    if (stored != "linked" && stored != "copied") {
      return BadInfo(path, fmt::format("\"{}\": stored is not linked or copied", f.name));
    }
    f.linked = stored == "linked";
    has_current = has_current || f.type == FileType::kCurrent;
    has_manifest = has_manifest || f.name == r.manifest;
    r.files.push_back(std::move(f));
  }
  if (!has_current || !has_manifest) return BadInfo(path, "lists no CURRENT or no manifest");
  *info = std::move(r);
  return Status::OK();
}

Status VerifyBackup(io::Env* env, const std::string& dest_arg, const KeyRing* keys,
                    std::vector<std::string>* lines, bool* intact, BackupInfo* info_out) {
  const std::string dest = Trimmed(dest_arg);
  *intact = false;
  std::vector<std::string> names;
  Status s = env->GetChildren(dest, &names);
  if (!s.ok()) return s;
  BackupInfo info;
  s = ReadBackupInfo(env, dest, &info);
  if (!s.ok()) {
    lines->push_back(fmt::format("{}: {}", kBackupInfoFileName,
                                 s.IsNotFound() ? "MISSING (not a backup, or an incomplete one)"
                                                : "CORRUPT: " + s.ToString()));
    lines->push_back(
        fmt::format("backup summary: NOT INTACT: {}: no valid {}", dest, kBackupInfoFileName));
    return Status::OK();
  }
  lines->push_back(fmt::format(
      "{}: ok (format version {}, created {}, from '{}', {} files{})", kBackupInfoFileName,
      info.format_version, info.created, info.source, info.files.size(),
      info.encrypted ? fmt::format(", encrypted, key id {}", info.key_id) : ""));
  int problems = 0;
  for (const BackupFile& f : info.files) {
    const std::string path = Join(dest, f.name);
    if (!env->FileExists(path)) {
      lines->push_back(fmt::format("{}: MISSING (listed in {})", f.name, kBackupInfoFileName));
      problems++;
      continue;
    }
    uint64_t size = 0, xxh3 = 0;
    s = ReadAndMaybeCopy(env, path, "", &size, &xxh3);
    if (!s.ok()) {
      lines->push_back(fmt::format("{}: CORRUPT: {}", f.name, s.ToString()));
      problems++;
    } else if (size != f.size) {
      lines->push_back(fmt::format("{}: CORRUPT: {} bytes, {} says {}", f.name, size,
                                   kBackupInfoFileName, f.size));
      problems++;
    } else if (xxh3 != f.xxh3) {
      lines->push_back(fmt::format("{}: CORRUPT: xxh3 {}, {} says {}", f.name, Hex(xxh3),
                                   kBackupInfoFileName, Hex(f.xxh3)));
      problems++;
    } else {
      lines->push_back(
          fmt::format("{}: ok (as listed: {} bytes, xxh3 {})", f.name, size, Hex(xxh3)));
    }
  }
  // Then the checks of `basalt-admin verify`, on the backup's own files.
  std::vector<std::string> verify_lines;
  bool db_intact = false;
  s = VerifyDbDirectory(env, dest, &verify_lines, &db_intact, keys);
  if (!s.ok()) return s;
  lines->push_back(fmt::format("then the checks of `basalt-admin verify` on {}:", dest));
  for (std::string& l : verify_lines) lines->push_back(std::move(l));
  *intact = problems == 0 && db_intact;
  lines->push_back(
      fmt::format("backup summary: {}: {}: {} listed files, {} damaged or missing; "
                  "DB checks {}",
                  *intact ? "intact" : "NOT INTACT", dest, info.files.size(), problems,
                  db_intact ? "intact" : "NOT INTACT"));
  if (info_out != nullptr) *info_out = std::move(info);
  return Status::OK();
}

Status RestoreBackup(io::Env* env, const std::string& dest_arg, const std::string& dir_arg,
                     const KeyRing* keys, std::vector<std::string>* lines,
                     std::string* link_fallback) {
  const std::string dest = Trimmed(dest_arg);
  const std::string dir = Trimmed(dir_arg);
  Status s = CheckMissingOrEmpty(env, dir);
  if (!s.ok()) return s;
  const std::string staging = dir + kStagingSuffix;
  if (env->FileExists(staging)) {
    return Status::InvalidArgument(
        staging, "exists (left by an interrupted restore?): remove it, then restore again");
  }
  if (!env->FileExists(Join(dest, kBackupInfoFileName))) {
    return Status::Corruption(Join(dest, kBackupInfoFileName),
                              "missing: not a backup, or an incomplete one; not restoring");
  }
  bool intact = false;
  BackupInfo info;
  s = VerifyBackup(env, dest, keys, lines, &intact, &info);
  if (!s.ok()) return s;
  if (!intact) return Status::Corruption(dest, "the backup is damaged (see above); not restoring");

  s = env->CreateDirIfMissing(staging);
  if (!s.ok()) return s;
  std::string fallback;
  for (const BackupFile& want : info.files) {
    BackupFile got = want;
    const std::string from = Join(dest, want.name), to = Join(staging, want.name);
    if (want.type == FileType::kTable) {
      s = LinkOrCopy(env, from, to, &got, &fallback);
    } else {
      s = ReadAndMaybeCopy(env, from, to, &got.size, &got.xxh3);
    }
    if (!s.ok()) return s;
    if (got.size != want.size || got.xxh3 != want.xxh3) {
      return Status::Corruption(from, "changed while being restored");
    }
  }
  s = env->SyncDir(staging);
  if (s.ok()) s = env->RenameFile(staging, dir);
  if (s.ok()) s = env->SyncDir(ParentOf(dir));
  if (!s.ok()) return s;
  if (link_fallback != nullptr) *link_fallback = fallback;
  return Status::OK();
}

}  // namespace basalt::lsm
