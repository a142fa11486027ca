// Names of the files in a DB directory (docs/architecture.md, "Files").
//   000123.log       WAL segment      000124.sst   SSTable
//   MANIFEST-000125  manifest log     CURRENT      names the live manifest
//   LOCK             held while open  *.tmp        half-written, removed at open
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace basalt::lsm {

enum class FileType { kWal, kTable, kManifest, kCurrent, kLock, kTemp, kUnknown };

std::string WalFileName(const std::string& dir, uint64_t number);
std::string TableFileName(const std::string& dir, uint64_t number);
std::string ManifestFileName(const std::string& dir, uint64_t number);
std::string CurrentFileName(const std::string& dir);
std::string LockFileName(const std::string& dir);
std::string TempFileName(const std::string& dir, uint64_t number);

// Parses a name (not a path). Returns kUnknown for foreign files.
FileType ParseFileName(std::string_view name, uint64_t* number);

}  // namespace basalt::lsm
