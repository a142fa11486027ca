// Where exports and imports live under --export-root, and the names and
// manifests of an export (DynamoDB Developer Guide, "DynamoDB table export
// output format"; the layout observed on DynamoDB is
// <prefix>/AWSDynamoDB/<ExportId>/{_started, data/<name>.json.gz,
// manifest-files.json, manifest-files.md5, manifest-summary.json,
// manifest-summary.md5}).
//
// Mapping: S3 bucket B and key prefix P stand for the directory ROOT/B/P.
// B must be one path component; P is split at '/', empty and "." components
// are dropped; a ".." component, an absolute P, or a path whose existing part
// resolves (through symbolic links) outside ROOT is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace basalt::server::exports {

// InvalidArgument with the reason when bucket/prefix would leave root.
// *dir: ROOT/B/P (P's components joined), without a trailing '/'.
Status ResolveUnderRoot(const std::string& root, std::string_view bucket, std::string_view prefix,
                        std::string* dir);
// Checks that `path` (existing, or its nearest existing ancestor) resolves
// inside root; InvalidArgument otherwise (a symbolic link out of the root).
Status CheckInsideRoot(const std::string& root, const std::string& path);
// mkdir -p (each new directory's parent fsynced).
Status MakeDirs(const std::string& dir);

// "<14 digits of ms>-<8 hex digits>" (DynamoDB's export and import ids).
std::string NewJobId(uint64_t now_ms);
// 26 characters of [a-z2-7] (the data file names DynamoDB writes).
std::string RandomFileName();
// The S3 key prefix of objects under prefix P: "" or P ending in '/'.
std::string KeyPrefix(std::string_view prefix);
// "2020-11-04T07:28:34.028Z".
std::string IsoTime(uint64_t ms);

struct DataFileInfo {
  std::string key;  // S3 key, from the bucket's root
  uint64_t item_count = 0;
  std::string md5;   // base64 of the MD5 of the file's bytes
  std::string etag;  // hex MD5, as S3 reports a single-part object's ETag
};
// manifest-files.json: one JSON object per line.
std::string ManifestFilesJson(const std::vector<DataFileInfo>& files);
std::string HexOfBase64Md5(const std::string& md5_base64);

// Every regular file under dir (recursively) whose key (its path relative to
// bucket_dir, '/'-separated) starts with key_prefix, in key order; at most
// max_files (InvalidArgument beyond). *keys get the keys.
Status ListObjects(const std::string& bucket_dir, std::string_view key_prefix, size_t max_files,
                   std::vector<std::string>* keys);

}  // namespace basalt::server::exports
