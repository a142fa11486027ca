// OutputFile: one table file written by a flush or a compaction, and JobEnv,
// what both kinds of job need to write one. The file is created at Open,
// filled in key order, then finished (synced and closed) or abandoned; on
// failure the caller removes it (it may be named by a manifest record whose
// write failed, so only the caller knows whether it may go).
//
// Thread safety: one job, one thread. Errors are I/O errors from the Env.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/table_options.h"
#include "engine/lsm/version/version_edit.h"

namespace basalt::lsm {

struct JobEnv {
  io::Env* env = nullptr;
  std::string dir;
  TableOptions table;
  // Encryption at rest (Options::encryption_keys); null writes plain tables.
  const KeyRing* keys = nullptr;
};

class OutputFile {
 public:
  explicit OutputFile(const JobEnv* env) : env_(env) {}
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Creates table file `number` (its cipher too, when encrypting).
  Status Open(uint64_t number);
  bool is_open() const { return builder_ != nullptr; }
  // REQUIRES: is_open(); internal keys in increasing order.
  void Add(std::string_view ikey, std::string_view value, SequenceNumber seq);
  uint64_t FileSize() const;  // bytes written so far; REQUIRES: is_open()
  // Writes the table's tail, syncs and closes the file; meta() is complete.
  Status Finish();
  // Stops writing (after a failure); the file stays for the caller to remove.
  void Abandon();
  const FileMetaData& meta() const { return meta_; }
  std::string path() const;

 private:
  const JobEnv* const env_;
  FileMetaData meta_;
  std::unique_ptr<io::WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
};

}  // namespace basalt::lsm
