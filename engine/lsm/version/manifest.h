// Reading a manifest: CURRENT, the edit log, and the state it describes.
// Shared by DB::Open (RecoverManifest) and `basalt-admin verify`/`dump-manifest`,
// so both apply the same rules. Format: docs/format/manifest.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

// The trees and files a manifest describes after all its edits, replayed with
// the rules of DB::Open. Defaults are DBImpl's initial values.
struct ManifestState {
  uint64_t next_file_number = 2;
  SequenceNumber last_sequence = 0;
  TreeId next_tree_id = 1;
  struct Tree {
    std::string name;
    SequenceNumber flushed_seq = 0;
    std::string lower;  // key range [lower, upper) (split children)
    std::optional<std::string> upper;
    // By file number: (level, metadata).
    std::map<uint64_t, std::pair<int, FileMetaData>> files;
  };
  std::map<TreeId, Tree> trees;

  // Applies one edit.
  void Apply(const VersionEdit& edit);
};

// What ReplayManifest saw besides the state.
struct ManifestReplayInfo {
  bool has_header = false;
  uint64_t header_file_number = 0;  // from the kFileHeader record
  uint32_t format_version = 0;      // 1 plain, 2 encrypted (0: no header)
  uint32_t key_id = 0;              // of an encrypted manifest
  uint64_t edits = 0;               // records decoded and applied
  bool torn_tail = false;           // the engine ignores a torn manifest tail
  uint64_t valid_end = 0;           // end of the intact prefix
  uint64_t file_size = 0;
};

// Reads dir/CURRENT: "MANIFEST-NNNNNN <16 lowercase hex digits of XXH3-64 of
// the name>\n". Sets *manifest_name (a name, not a path). Corruption if the
// file is malformed, its checksum does not match or it names no manifest;
// the Env's error if it cannot be read. Does not check that the manifest exists.
Status ReadCurrentFile(io::Env* env, const std::string& dir, std::string* manifest_name);

// Reads the manifest at path and applies every edit to *state. on_edit, if
// set, is called with each edit and its record offset before it is applied.
// Corruption if the file has no valid header (the engine refuses such a
// manifest), a bad magic/version, damage followed by intact records, or an
// edit that does not decode; edits before the damage have been applied then.
// A torn tail is not an error (info->torn_tail). info may be null. keys:
// for an encrypted manifest (may be null; log::Reader::Open's errors then).
Status ReplayManifest(io::Env* env, const std::string& path, ManifestState* state,
                      ManifestReplayInfo* info, const KeyRing* keys = nullptr,
                      const std::function<void(uint64_t offset, const VersionEdit&)>& on_edit = {});

}  // namespace basalt::lsm
