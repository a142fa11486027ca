#include "tools/admin_backup.h"

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "engine/io/env.h"
#include "engine/lsm/backup.h"

namespace basalt::tools {

namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

int Usage(std::string_view why) {
  fmt::print(stderr,
             "basalt-admin: {}\n"
             "usage: basalt-admin [--encryption-key-file FILE] backup DIR DEST\n"
             "       basalt-admin [--encryption-key-file FILE] verify-backup DEST\n"
             "       basalt-admin [--encryption-key-file FILE] restore DEST DIR\n"
             "(basalt-admin help: every command)\n",
             why);
  return kUsage;
}

int Fail(std::string_view what) {
  std::fflush(stdout);
  fmt::print(stderr, "basalt-admin: {}\n", what);
  return kFailed;
}

void PrintFallback(const std::string& fallback) {
  if (fallback.empty()) return;
  fmt::print("note: some SSTables were COPIED, not hard-linked ({})\n", fallback);
}

int Backup(const std::string& dir, const std::string& dest, const KeyRing* keys) {
  lsm::BackupInfo info;
  std::string fallback;
  io::Env* env = io::Env::Default();
  const bool existed = env->FileExists(dest);
  Status s = lsm::BackupDbDirectory(env, dir, dest, keys, &info, &fallback);
  if (!s.ok()) {
    // A DEST this run created holds no BACKUP.json: an incomplete backup.
    const bool partial = !existed && env->FileExists(dest);
    return Fail(fmt::format("backup of {} to {} failed: {}{}", dir, dest, s.ToString(),
                            partial ? fmt::format(" ({} is incomplete, without {}: remove it)",
                                                  dest, lsm::kBackupInfoFileName)
                                    : ""));
  }
  int linked = 0, copied_tables = 0;
  uint64_t linked_bytes = 0, copied_bytes = 0;
  for (const lsm::BackupFile& f : info.files) {
    fmt::print("{}: {} ({} bytes, xxh3 {:016x})\n", f.name, f.linked ? "linked" : "copied", f.size,
               f.xxh3);
    (f.linked ? linked_bytes : copied_bytes) += f.size;
    if (f.type == lsm::FileType::kTable) (f.linked ? linked : copied_tables)++;
  }
  PrintFallback(fallback);
  fmt::print(
      "backup: complete: {} -> {}: {} files ({} SSTables hard-linked, {} bytes; {} bytes "
      "copied{}), last sequence {}, {}; {} written last\n",
      dir, dest, info.files.size(), linked, linked_bytes, copied_bytes,
      copied_tables != 0 ? fmt::format(", {} SSTables among them", copied_tables) : "",
      info.last_sequence,
      info.encrypted ? fmt::format("encrypted (key id {}), files kept encrypted", info.key_id)
                     : "not encrypted",
      lsm::kBackupInfoFileName);
  return kOk;
}

int VerifyBackup(const std::string& dest, const KeyRing* keys) {
  std::vector<std::string> lines;
  bool intact = false;
  Status s = lsm::VerifyBackup(io::Env::Default(), dest, keys, &lines, &intact);
  if (!s.ok()) return Fail(fmt::format("cannot list {}: {}", dest, s.ToString()));
  for (const std::string& l : lines) fmt::print("{}\n", l);
  return intact ? kOk : kFailed;
}

int Restore(const std::string& dest, const std::string& dir, const KeyRing* keys) {
  std::vector<std::string> lines;
  std::string fallback;
  Status s = lsm::RestoreBackup(io::Env::Default(), dest, dir, keys, &lines, &fallback);
  for (const std::string& l : lines) fmt::print("{}\n", l);
  if (!s.ok()) {
    return Fail(fmt::format("restore of {} into {} failed: {}", dest, dir, s.ToString()));
  }
  PrintFallback(fallback);
  fmt::print("restore: complete: {} -> {} (SSTables {} the backup's; start the server on it{})\n",
             dest, dir, fallback.empty() ? "hard-linked to" : "hard-linked or copied from",
             keys != nullptr ? " with the same key file" : "");
  return kOk;
}

}  // namespace

bool IsBackupCommand(std::string_view cmd) {
  return cmd == "backup" || cmd == "verify-backup" || cmd == "restore";
}

int BackupCommand(std::string_view cmd, const std::vector<std::string_view>& args,
                  const KeyRing* keys) {
  for (auto a : args) {
    if (a.size() > 1 && a[0] == '-') return Usage(fmt::format("unknown option '{}'", a));
    if (a.empty()) return Usage(fmt::format("'{}' takes non-empty directory names", cmd));
  }
  if (cmd == "verify-backup") {
    if (args.size() != 1) return Usage("'verify-backup' takes one backup directory");
    return VerifyBackup(std::string(args[0]), keys);
  }
  if (args.size() != 2) return Usage(fmt::format("'{}' takes two directories", cmd));
  if (cmd == "backup") return Backup(std::string(args[0]), std::string(args[1]), keys);
  return Restore(std::string(args[0]), std::string(args[1]), keys);
}

}  // namespace basalt::tools
