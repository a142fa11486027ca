// Stream codecs and names (stream.h); the format is docs/format/stream.md.
// TableStore's stream logic (writes, splits, reads, trimming) lives in
// table_store.cc next to the data path it is part of.
#include "engine/table/stream.h"

#include <cstdio>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/table/item_codec.h"

namespace basalt::table {

namespace {

bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetView(std::string_view* in, StreamViewType* v) {
  uint8_t b;
  if (!GetU8(in, &b) || b < 1 || b > 4) return false;
  *v = static_cast<StreamViewType>(b);
  return true;
}

bool GetItem(std::string_view* in, Item* item) {
  std::string_view v;
  return GetLengthPrefixed(in, &v) && DecodeItem(v, item).ok();
}

uint32_t LabelHash(uint64_t table_id, const std::string& label) {
  std::string s;
  PutFixed64(&s, table_id);
  s.append(label);
  return static_cast<uint32_t>(Hash64(s));
}

Status Bad(const char* what) { return Status::Corruption("stream entry", what); }

}  // namespace

const char* StreamViewTypeName(StreamViewType t) {
  switch (t) {
    case StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "";
}

bool ParseStreamViewType(std::string_view name, StreamViewType* out) {
  for (uint8_t b = 1; b <= 4; b++) {
    auto t = static_cast<StreamViewType>(b);
    if (name == StreamViewTypeName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

std::string StreamMetaKey(uint32_t index) {
  std::string k("m");
  PutBigEndian32(&k, index);
  return k;
}

std::string ShardMetaKey(uint64_t shard_no) {
  std::string k("h");
  PutBigEndian64(&k, shard_no);
  return k;
}

std::string StreamRecordKey(uint64_t shard_no, uint64_t seq) {
  std::string k("r");
  PutBigEndian64(&k, shard_no);
  PutBigEndian64(&k, seq);
  return k;
}

std::string StreamTreeName(uint64_t table_id) { return "s" + std::to_string(table_id); }

bool ParseStreamTreeName(std::string_view name, uint64_t* table_id) {
  if (name.size() < 2 || name.size() > 21 || name[0] != 's') return false;
  uint64_t id = 0;
  for (size_t i = 1; i < name.size(); i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    id = id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *table_id = id;
  return true;
}

std::string FormatShardId(uint64_t table_id, const std::string& label, uint64_t shard_no) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "shardId-%020llu-%08x", static_cast<unsigned long long>(shard_no),
                LabelHash(table_id, label));
  return buf;
}

bool ParseShardId(uint64_t table_id, const std::string& label, std::string_view id,
                  uint64_t* shard_no) {
  constexpr std::string_view kPrefix = "shardId-";
  if (id.size() != kPrefix.size() + 20 + 1 + 8 || !id.starts_with(kPrefix)) return false;
  uint64_t n = 0;
  for (size_t i = kPrefix.size(); i < kPrefix.size() + 20; i++) {
    if (id[i] < '0' || id[i] > '9') return false;
    unsigned __int128 next = static_cast<unsigned __int128>(n) * 10 + (id[i] - '0');
    if (next > UINT64_MAX) return false;
    n = static_cast<uint64_t>(next);
  }
  if (FormatShardId(table_id, label, n) != id) return false;  // other stream or table
  *shard_no = n;
  return true;
}

void EncodeStreamMeta(const StreamMeta& m, std::string* dst) {
  dst->push_back(static_cast<char>(kStreamFormatVersion));
  PutVarint32(dst, m.index);
  PutLengthPrefixed(dst, m.label);
  dst->push_back(static_cast<char>(m.view_type));
  PutFixed64(dst, m.created_ms);
  dst->push_back(m.enabled ? 1 : 0);
}

Status DecodeStreamMeta(std::string_view in, StreamMeta* m) {
  uint8_t version, enabled;
  std::string_view label;
  if (!GetU8(&in, &version) || version != kStreamFormatVersion) return Bad("stream version");
  if (!GetVarint32(&in, &m->index) || !GetLengthPrefixed(&in, &label) ||
      !GetView(&in, &m->view_type) || !GetFixed64(&in, &m->created_ms) || !GetU8(&in, &enabled) ||
      enabled > 1 || !in.empty()) {
    return Bad("stream metadata");
  }
  m->label.assign(label);
  m->enabled = enabled == 1;
  return Status::OK();
}

void EncodeShardMeta(const ShardMeta& m, std::string* dst) {
  dst->push_back(static_cast<char>(kStreamFormatVersion));
  PutFixed64(dst, m.shard_no);
  PutFixed64(dst, m.lo);
  PutFixed64(dst, m.hi);
  dst->push_back(m.parent_no ? 1 : 0);
  if (m.parent_no) PutFixed64(dst, *m.parent_no);
  PutVarint64(dst, m.starting);
  dst->push_back(m.ending ? 1 : 0);
  if (m.ending) PutVarint64(dst, *m.ending);
  PutVarint64(dst, m.trim_horizon);
  PutFixed64(dst, m.created_ms);
}

Status DecodeShardMeta(std::string_view in, ShardMeta* m) {
  uint8_t version, flag;
  if (!GetU8(&in, &version) || version != kStreamFormatVersion) return Bad("shard version");
  if (!GetFixed64(&in, &m->shard_no) || !GetFixed64(&in, &m->lo) || !GetFixed64(&in, &m->hi) ||
      !GetU8(&in, &flag) || flag > 1) {
    return Bad("shard metadata");
  }
  m->parent_no.reset();
  if (flag == 1) {
    uint64_t p;
    if (!GetFixed64(&in, &p)) return Bad("shard parent");
    m->parent_no = p;
  }
  if (!GetVarint64(&in, &m->starting) || !GetU8(&in, &flag) || flag > 1) return Bad("shard start");
  m->ending.reset();
  if (flag == 1) {
    uint64_t e;
    if (!GetVarint64(&in, &e)) return Bad("shard end");
    m->ending = e;
  }
  if (!GetVarint64(&in, &m->trim_horizon) || !GetFixed64(&in, &m->created_ms) || !in.empty()) {
    return Bad("shard trailer");
  }
  return Status::OK();
}

void EncodeStreamRecord(const StreamRecord& r, std::string* dst) {
  dst->push_back(static_cast<char>(kStreamFormatVersion));
  dst->push_back(static_cast<char>(r.event));
  dst->push_back(
      static_cast<char>((r.by_ttl ? 1 : 0) | (r.new_image ? 2 : 0) | (r.old_image ? 4 : 0)));
  dst->push_back(static_cast<char>(r.view_type));
  PutFixed64(dst, r.created_ms);
  std::string enc;
  EncodeItem(r.keys, &enc);
  PutLengthPrefixed(dst, enc);
  if (r.new_image) {
    enc.clear();
    EncodeItem(*r.new_image, &enc);
    PutLengthPrefixed(dst, enc);
  }
  if (r.old_image) {
    enc.clear();
    EncodeItem(*r.old_image, &enc);
    PutLengthPrefixed(dst, enc);
  }
}

Status DecodeStreamRecord(std::string_view in, StreamRecord* r) {
  uint8_t version, event, flags;
  if (!GetU8(&in, &version) || version != kStreamFormatVersion) return Bad("record version");
  if (!GetU8(&in, &event) || event < 1 || event > 3 || !GetU8(&in, &flags) || flags > 7 ||
      !GetView(&in, &r->view_type) || !GetFixed64(&in, &r->created_ms) || !GetItem(&in, &r->keys)) {
    return Bad("record header");
  }
  r->event = static_cast<StreamEvent>(event);
  r->by_ttl = (flags & 1) != 0;
  r->new_image.reset();
  r->old_image.reset();
  r->size_bytes = ItemSize(r->keys);
  if (flags & 2) {
    Item item;
    if (!GetItem(&in, &item)) return Bad("record new image");
    r->size_bytes += ItemSize(item);
    r->new_image = std::move(item);
  }
  if (flags & 4) {
    Item item;
    if (!GetItem(&in, &item)) return Bad("record old image");
    r->size_bytes += ItemSize(item);
    r->old_image = std::move(item);
  }
  if (!in.empty()) return Bad("record trailing bytes");
  return Status::OK();
}

Status DecodeStreamRecordTime(std::string_view in, uint64_t* created_ms) {
  if (in.size() < 12 || static_cast<uint8_t>(in[0]) != kStreamFormatVersion) {
    return Bad("record header");
  }
  *created_ms = DecodeFixed64(in.data() + 4);
  return Status::OK();
}

StreamRecord MakeStreamRecord(const Item& keys, const std::optional<Item>& old,
                              const std::optional<Item>& new_item, StreamViewType view, bool by_ttl,
                              uint64_t now_ms) {
  StreamRecord r;
  r.event = !old ? StreamEvent::kInsert : new_item ? StreamEvent::kModify : StreamEvent::kRemove;
  r.created_ms = now_ms;
  r.keys = keys;
  r.by_ttl = by_ttl;
  r.view_type = view;
  r.size_bytes = ItemSize(keys);
  const bool want_new =
      view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
  const bool want_old =
      view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
  if (want_new && new_item) {
    r.new_image = *new_item;
    r.size_bytes += ItemSize(*new_item);
  }
  if (want_old && old) {
    r.old_image = *old;
    r.size_bytes += ItemSize(*old);
  }
  return r;
}

}  // namespace basalt::table
