#include "engine/table/snapshot_format.h"

#include <fmt/format.h>

#include <charconv>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/table/catalog.h"
#include "engine/table/item_codec.h"

namespace basalt::table {

namespace {

constexpr uint32_t kSnapshotFormat = 1;

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string SnapshotKey(std::string_view id) {
  return std::string(kSnapshotKeyPrefix) + std::string(id);
}

bool ValidSnapshotId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void EncodeSnapshotRecord(const TableSnapshotInfo& info, std::string* dst) {
  std::string body;
  PutVarint32(&body, kSnapshotFormat);
  PutLengthPrefixed(&body, info.id);
  PutLengthPrefixed(&body, info.table);
  PutVarint64(&body, info.table_id);
  PutVarint64(&body, info.created_ms);
  PutVarint64(&body, info.size_bytes);
  PutLengthPrefixed(&body, info.meta);
  std::string def;
  EncodeTableDef(info.def, &def);
  PutLengthPrefixed(&body, def);
  dst->append(body);
  PutFixed64(dst, Checksum(body));
}

Status DecodeSnapshotRecord(std::string_view data, TableSnapshotInfo* info) {
  if (data.size() < 8) return Status::Corruption("snapshot record too short");
  std::string_view body = data.substr(0, data.size() - 8);
  if (DecodeFixed64(data.data() + body.size()) != Checksum(body)) {
    return Status::Corruption("snapshot record checksum mismatch");
  }
  uint32_t format = 0;
  std::string_view id, table, meta, def;
  TableSnapshotInfo out;
  if (!GetVarint32(&body, &format)) return Status::Corruption("snapshot record");
  if (format != kSnapshotFormat) {
    return Status::Corruption(fmt::format("snapshot record of unknown format {}", format));
  }
  if (!GetLengthPrefixed(&body, &id) || !GetLengthPrefixed(&body, &table) ||
      !GetVarint64(&body, &out.table_id) || !GetVarint64(&body, &out.created_ms) ||
      !GetVarint64(&body, &out.size_bytes) || !GetLengthPrefixed(&body, &meta) ||
      !GetLengthPrefixed(&body, &def) || !body.empty()) {
    return Status::Corruption("snapshot record");
  }
  Status s = DecodeTableDef(def, &out.def);
  if (!s.ok()) return s;
  out.id = id;
  out.table = table;
  out.meta = meta;
  *info = std::move(out);
  return Status::OK();
}

std::string SnapshotTreeName(std::string_view id, uint32_t index_id, uint32_t partition_id) {
  return fmt::format("snap/{}/i{}.p{}", id, index_id, partition_id);
}

bool ParseSnapshotTreeName(std::string_view name, std::string* id, uint32_t* index_id,
                           uint32_t* partition_id) {
  constexpr std::string_view kPrefix = "snap/";
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  const size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || !ValidSnapshotId(name.substr(0, slash))) return false;
  std::string_view rest = name.substr(slash + 1);
  const size_t dot = rest.find(".p");
  uint64_t ix = 0, p = 0;
  if (rest.empty() || rest[0] != 'i' || dot == std::string_view::npos ||
      !ParseU64(rest.substr(1, dot - 1), &ix) || !ParseU64(rest.substr(dot + 2), &p) ||
      ix > UINT32_MAX || p > UINT32_MAX) {
    return false;
  }
  *id = name.substr(0, slash);
  *index_id = static_cast<uint32_t>(ix);
  *partition_id = static_cast<uint32_t>(p);
  return true;
}

std::string HistoryTreeName(uint64_t table_id, uint64_t segment) {
  return fmt::format("h{}.{}", table_id, segment);
}

bool ParseHistoryTreeName(std::string_view name, uint64_t* table_id, uint64_t* segment) {
  if (name.empty() || name[0] != 'h') return false;
  const size_t dot = name.find('.');
  return dot != std::string_view::npos && ParseU64(name.substr(1, dot - 1), table_id) &&
         ParseU64(name.substr(dot + 1), segment);
}

std::string PitrBaseId(uint64_t table_id, uint64_t segment) {
  return fmt::format("pitr-{}-{}", table_id, segment);
}

bool ParsePitrBaseId(std::string_view id, uint64_t* table_id, uint64_t* segment) {
  constexpr std::string_view kPrefix = "pitr-";
  if (id.substr(0, kPrefix.size()) != kPrefix) return false;
  id.remove_prefix(kPrefix.size());
  const size_t dash = id.find('-');
  return dash != std::string_view::npos && ParseU64(id.substr(0, dash), table_id) &&
         ParseU64(id.substr(dash + 1), segment);
}

std::string HistoryKey(uint64_t stamp, uint32_t n) {
  std::string k;
  PutBigEndian64(&k, stamp);
  PutBigEndian32(&k, n);
  return k;
}

bool ParseHistoryKey(std::string_view key, uint64_t* stamp) {
  if (key.size() != 12) return false;
  *stamp = DecodeBigEndian64(key.substr(0, 8));
  return true;
}

std::string HistoryPutValue(std::string_view encoded_item) {
  std::string v = "P";
  v.append(encoded_item);
  return v;
}

std::string HistoryDeleteValue(const Item& key) {
  std::string v = "D";
  EncodeItem(key, &v);
  return v;
}

Status DecodeHistoryValue(std::string_view value, Item* key, std::optional<Item>* new_item) {
  if (value.empty() || (value[0] != 'P' && value[0] != 'D')) {
    return Status::Corruption("history record");
  }
  Item item;
  Status s = DecodeItem(value.substr(1), &item);
  if (!s.ok()) return s;
  key->clear();
  if (value[0] == 'P') {
    *new_item = std::move(item);
  } else {
    *key = std::move(item);
    new_item->reset();
  }
  return Status::OK();
}

}  // namespace basalt::table
