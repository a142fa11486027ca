// Basic types of the LSM engine's public API (db.h, write_batch.h). Public
// header: includes nothing of the engine's internals.
#pragma once

#include <cstdint>

namespace basalt::lsm {

// Names one tree of a DB (DB::CreateTree). Ids are never reused.
using TreeId = uint32_t;

// Orders every change of a DB: the entries of each committed WriteBatch get
// consecutive numbers; a Snapshot reads as of one. Internally 56 bits are
// used (dbformat.h).
using SequenceNumber = uint64_t;

// Tree 0, "default", exists in every DB and cannot be dropped or split.
inline constexpr TreeId kDefaultTree = 0;

}  // namespace basalt::lsm
