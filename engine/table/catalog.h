// Catalog: the versioned binary encoding of a table's definition (TableDef,
// schema.h), as stored in the "__catalog" system tree of the node's lsm::DB.
// The layout, every field tag and the upgrade rule are in
// docs/format/catalog.md.
//
// Version 3 (written): a version byte, then a record of tagged fields
//   record := count varint32 | field * count
//   field  := tag varint32 | payload (varint32 length + bytes)
// in any order, each singular field at most once, repeated fields in order
// (an index is a field whose payload is itself a record). The count makes a
// truncated entry detectable even when it ends on a field boundary.
// Tags are frozen; a decoder rejects an unknown tag (an entry written by a
// newer release must not be read, and rewritten, by an older one).
//
// Versions 1 and 2 (read only): the positional layouts of earlier releases.
// Their index definitions were DynamoDB JSON text, which this layer does not
// parse: DecodeTableDef hands the text to the caller in
// LegacyCatalogFields::index_json, and TableStore converts it through
// TableStoreOptions::legacy_index_decoder (supplied by the server) and
// rewrites the entry as version 3 at Open.
//
// The encoding has no checksum of its own: it lives in the LSM, whose WAL
// records and SSTable blocks carry checksums.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/schema.h"

namespace basalt::table {

inline constexpr uint8_t kCatalogFormatVersion = 3;
// The oldest version DecodeTableDef still reads.
inline constexpr uint8_t kCatalogMinFormatVersion = 1;

// What an entry of an older version carries that version 3 stores otherwise.
struct LegacyCatalogFields {
  // The version byte of the decoded entry.
  uint8_t version = kCatalogFormatVersion;
  // Versions 1 and 2: the index definitions as the server of those releases
  // stored them (JSON text), "" when the table had none.
  std::string index_json;
};

// Appends the version 3 encoding of def (every field; partitions and
// statistics as given, informational).
void EncodeTableDef(const TableDef& def, std::string* dst);
// Decodes an entry of any version from kCatalogMinFormatVersion to
// kCatalogFormatVersion. Corruption on malformed bytes, an unknown version or
// field tag, a repeated singular field, a missing required field (name, table
// id, partition key) or trailing bytes. *legacy (optional) receives the
// version and, for versions 1-2, the index JSON (def->indexes stays empty).
Status DecodeTableDef(std::string_view data, TableDef* def, LegacyCatalogFields* legacy = nullptr);

}  // namespace basalt::table
