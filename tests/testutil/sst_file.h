// WriteSstFile: sorted internal-key entries written as an SSTable in a test
// directory and opened as a TableFile (no block cache, no block index), for
// tests that build Versions or level iterators from real files.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/env.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version.h"
#include "tests/testutil/temp_dir.h"

namespace basalt::test {

// entries: (internal key, value), sorted, not empty. The file is
// "<number>.sst" in dir, built with block_size (small: many blocks).
inline std::shared_ptr<lsm::TableFile> WriteSstFile(
    const TempDir& dir, uint64_t number,
    const std::vector<std::pair<std::string, std::string>>& entries, size_t block_size) {
  REQUIRE(!entries.empty());
  io::Env* env = io::Env::Posix();
  const std::string path = dir.Sub(std::to_string(number) + ".sst");
  lsm::TableOptions topts;
  topts.block_size = block_size;
  {
    std::unique_ptr<io::WritableFile> file;
    REQUIRE(env->NewWritableFile(path, &file).ok());
    lsm::TableBuilder b(topts, file.get());
    for (const auto& [k, v] : entries) b.Add(k, v);
    REQUIRE(b.Finish().ok());
    REQUIRE(file->Close().ok());
  }
  std::unique_ptr<io::RandomAccessFile> file;
  REQUIRE(env->NewRandomAccessFile(path, &file).ok());
  lsm::FileMetaData meta;
  meta.number = number;
  meta.file_size = file->Size();
  meta.smallest = entries.front().first;
  meta.largest = entries.back().first;
  meta.num_entries = entries.size();
  std::unique_ptr<lsm::Table> table;
  REQUIRE(lsm::Table::Open(std::move(file), meta.file_size, &table).ok());
  return std::make_shared<lsm::TableFile>(meta, std::shared_ptr<lsm::Table>(std::move(table)), env,
                                          path);
}

}  // namespace basalt::test
