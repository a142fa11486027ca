// basalt-admin backup | verify-backup | restore: offline backup of a whole
// data directory (engine/lsm/backup.h, docs/backup.md).
//
//   basalt-admin [--encryption-key-file FILE] backup DIR DEST
//       DIR: a closed data directory (takes its LOCK: refuses while a server
//       runs). DEST: new or empty. SSTables hard-linked (copied where a link is
//       impossible, and said so), CURRENT, the manifest and WAL segments
//       copied, BACKUP.json written last. One line per file, then a summary.
//   basalt-admin [--encryption-key-file FILE] verify-backup DEST
//       BACKUP.json, every listed file's size and XXH3, then every check of
//       `basalt-admin verify` on DEST. One line per file, then a summary.
//   basalt-admin [--encryption-key-file FILE] restore DEST DIR
//       DIR: new or empty. Verifies DEST first (refuses a damaged or
//       incomplete backup), then builds DIR (via DIR.restore-tmp, renamed).
//
// The key file is needed for an encrypted DB (to read its manifest and to
// verify); files are never decrypted to disk.
//
// Exit status: 0 success (verify-backup: intact), 1 failure (verify-backup,
// restore: damaged, incomplete or missing backup; backup: DB in use, damaged,
// I/O error), 2 usage.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "engine/base/encryption.h"

namespace basalt::tools {

// cmd: "backup", "verify-backup" or "restore"; args: what follows it.
int BackupCommand(std::string_view cmd, const std::vector<std::string_view>& args,
                  const KeyRing* keys);

// Whether cmd is one of BackupCommand's.
bool IsBackupCommand(std::string_view cmd);

}  // namespace basalt::tools
