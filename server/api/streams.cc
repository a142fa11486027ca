// The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator,
// GetRecords (target prefix "DynamoDBStreams_20120810.", same port as the
// DynamoDB API, as DynamoDB Local and Alternator serve it).
//
// The records, shards and streams come from the table layer
// (engine/table/stream.h); this file turns them into DynamoDB's JSON.
//
// Wire facts followed (DynamoDB Developer Guide, "Change data capture for
// DynamoDB Streams" and "Quotas in Amazon DynamoDB" (DynamoDB Streams); the
// Amazon DynamoDB Streams API Reference):
//   - Stream ARN: "<table arn>/stream/<label>"; a malformed one is a
//     ValidationException, an unknown one ResourceNotFoundException.
//   - Constraint limits of the Streams API Reference: StreamArn 37..1024
//     characters, ShardId 28..65, SequenceNumber 21..40 digits, ShardIterator 1..2048,
//     Limit 1..100 (ListStreams, DescribeStream) and 1..1000 (GetRecords).
//   - SequenceNumber is a decimal string of at least 21 digits: ours are
//     zero-padded to 21, so they also sort as strings.
//   - eventVersion "1.1", eventSource "aws:dynamodb", TTL deletions carry
//     userIdentity {PrincipalId: dynamodb.amazonaws.com, Type: Service}
//     (the Streams API Reference's Identity member names; Lambda's event JSON
//     lower-cases them).
//   - A shard iterator expires 15 minutes after it was issued
//     (ExpiredIteratorException "The provided iterator exceeds the maximum age
//     allowed."); GetRecords returns at most 1000 records or 1 MB.
//   - DescribeStream's ShardFilter (Streams API Reference, "DescribeStream"
//     and "ShardFilter"): Type CHILD_SHARDS (the only value) with the ShardId
//     of a parent lists only that shard's children: none while it is open
//     (observed on AWS by ScyllaDB's Alternator suite, which runs there too).
//     Model constraints: shardFilter.type enum [CHILD_SHARDS],
//     shardFilter.shardId length 28..65. Both members are
//     optional in the model, so a filter missing either is a semantic
//     ValidationException (Basalt's wording; DynamoDB's text is not
//     documented). A well-formed ShardId that names no shard of the stream is
//     ResourceNotFoundException: AWS's own DynamoDB Streams Kinesis Adapter
//     (awslabs/dynamodb-streams-kinesis-adapter, listShardsWithFilter) reads
//     that exception as "shard not found during child-shard discovery".
//   - Service errors use the DynamoDB namespace
//     "com.amazonaws.dynamodb.v20120810#" (Alternator does the same for
//     Streams; SDKs only look at the part after '#').
//
// Shard iterators are self-contained (no server state): base64 of
// "1|table|label|shard|next sequence|issue ms|checksum". The checksum
// (XXH3 with a fixed seed) catches garbage and edited iterators; it is not
// a secret, an iterator only ever reads what the Streams API shows anyway.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstddef>
#include <limits>
#include <optional>

#include "engine/base/checksum.h"
#include "engine/table/stream.h"
#include "server/api/authorize.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/service.h"
#include "server/api/stream_json.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::ShardInfo;
using table::StreamInfo;
using table::StreamRecord;

namespace {

constexpr uint64_t kIteratorMaxAgeMs = 15 * 60 * 1000;
constexpr size_t kMaxRecordBytes = size_t{1} << 20;
constexpr uint64_t kIteratorSeed = 0x42617361'6c745368ULL;  // "BasaltSh"
constexpr size_t kSequenceDigits = 21;

bool ValidTableName(std::string_view s) {
  if (s.size() < 3 || s.size() > 255) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Length constraint of a string member (DynamoDB's constraint texts).
void CheckLength(Constraints* c, const std::optional<std::string>& v, std::string_view path,
                 size_t min, size_t max) {
  if (!v) return;
  if (v->size() < min) {
    c->Add(Quote(*v), path,
           fmt::format("Member must have length greater than or equal to {}", min));
  } else if (v->size() > max) {
    c->Add(Quote(*v), path, fmt::format("Member must have length less than or equal to {}", max));
  }
}

void CheckLimit(Constraints* c, const std::optional<int64_t>& limit, int64_t max) {
  if (!limit) return;
  if (*limit < 1) {
    c->Add(fmt::format("'{}'", *limit), "limit",
           "Member must have value greater than or equal to 1");
  } else if (*limit > max) {
    c->Add(fmt::format("'{}'", *limit), "limit",
           fmt::format("Member must have value less than or equal to {}", max));
  }
}

}  // namespace

std::string StreamSequenceText(uint64_t seq) { return fmt::format("{:0{}}", seq, kSequenceDigits); }

std::string StreamArn(const Context& ctx, const std::string& table, const std::string& label) {
  return fmt::format("{}/stream/{}", ctx.TableArn(table), label);
}

// A well-formed ARN of another region or account names no stream of ours.
StreamName ParseStreamArn(const Context& ctx, const std::string& arn) {
  constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
  constexpr std::string_view kStream = "/stream/";
  const size_t table_at = arn.find(":table/");
  const size_t stream_at = arn.rfind(kStream);
  if (!arn.starts_with(kPrefix) || table_at == std::string::npos ||
      stream_at == std::string::npos || stream_at < table_at + 7 ||
      stream_at + kStream.size() == arn.size()) {
    throw ValidationError("Invalid StreamArn");
  }
  StreamName n;
  n.table = arn.substr(table_at + 7, stream_at - table_at - 7);
  n.label = arn.substr(stream_at + kStream.size());
  if (!ValidTableName(n.table)) throw ValidationError("Invalid StreamArn");
  if (arn.substr(0, table_at + 7) != ctx.TableArn("")) {
    throw ResourceNotFound(fmt::format("Requested resource not found: Stream: {} not found", arn));
  }
  return n;
}

namespace {

ApiError StreamNotFound(const std::string& arn) {
  return ResourceNotFound(fmt::format("Requested resource not found: Stream: {} not found", arn));
}

// Maps a table-layer status of a stream read; NotFound becomes `not_found`.
void CheckStream(const Status& s, const ApiError& not_found) {
  if (s.ok()) return;
  if (s.IsNotFound()) throw not_found;
  Check(s);
}

// ---- shard iterators ----

struct Iterator {
  std::string table;
  std::string label;
  std::string shard;
  uint64_t sequence = 0;  // the next record to return
  uint64_t issued_ms = 0;
};

std::string EncodeIterator(const Iterator& it) {
  std::string payload =
      fmt::format("1|{}|{}|{}|{}|{}", it.table, it.label, it.shard, it.sequence, it.issued_ms);
  uint64_t sum = Hash64(payload, kIteratorSeed);
  return Base64Encode(fmt::format("{}|{:016x}", payload, sum));
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// A SequenceNumber as clients send it back: decimal, zero-padded.
bool ParseSequence(std::string_view text, uint64_t* out) {
  const size_t digits = text.find_first_not_of('0');
  if (digits == std::string_view::npos) {
    *out = 0;
    return true;
  }
  return ParseU64(text.substr(digits), out);
}

// nullopt for anything that is not an iterator this server issued.
std::optional<Iterator> DecodeIterator(std::string_view text) {
  std::string raw;
  try {
    raw = Base64Decode(text);
  } catch (const ApiError&) {
    return std::nullopt;
  }
  const size_t bar = raw.rfind('|');
  if (bar == std::string::npos) return std::nullopt;
  std::string_view payload(raw.data(), bar);
  if (raw.substr(bar + 1) != fmt::format("{:016x}", Hash64(payload, kIteratorSeed))) {
    return std::nullopt;
  }
  std::vector<std::string_view> parts;
  size_t from = 0;
  while (true) {
    size_t to = payload.find('|', from);
    parts.push_back(payload.substr(from, to == std::string_view::npos ? to : to - from));
    if (to == std::string_view::npos) break;
    from = to + 1;
  }
  if (parts.size() != 6 || parts[0] != "1") return std::nullopt;
  Iterator it;
  it.table = parts[1];
  it.label = parts[2];
  it.shard = parts[3];
  if (!ParseU64(parts[4], &it.sequence) || !ParseU64(parts[5], &it.issued_ms)) return std::nullopt;
  return it;
}

// ---- JSON of records ----

std::string EventId(const std::string& table, const std::string& label, const std::string& shard,
                    uint64_t seq) {
  std::string seed = fmt::format("{}/{}/{}/{}", table, label, shard, seq);
  return fmt::format("{:016x}{:016x}", Hash64(seed, 1), Hash64(seed, 2));
}

const char* EventName(table::StreamEvent e) {
  switch (e) {
    case table::StreamEvent::kInsert:
      return "INSERT";
    case table::StreamEvent::kModify:
      return "MODIFY";
    case table::StreamEvent::kRemove:
      return "REMOVE";
  }
  return "MODIFY";
}

json::object RecordJson(const Context& ctx, const Iterator& it, const StreamRecord& r) {
  return StreamRecordJson(ctx.options->region, it.table, it.label, it.shard, r);
}

}  // namespace

json::object StreamRecordJson(const std::string& region, const std::string& table,
                              const std::string& label, const std::string& shard_id,
                              const StreamRecord& r) {
  json::object d;
  // Whole seconds, as DynamoDB reports ApproximateCreationDateTime.
  d["ApproximateCreationDateTime"] = static_cast<int64_t>(r.created_ms / 1000);
  d["Keys"] = ItemToJson(r.keys);
  if (r.new_image) d["NewImage"] = ItemToJson(*r.new_image);
  if (r.old_image) d["OldImage"] = ItemToJson(*r.old_image);
  d["SequenceNumber"] = StreamSequenceText(r.sequence);
  d["SizeBytes"] = static_cast<uint64_t>(r.size_bytes);
  d["StreamViewType"] = table::StreamViewTypeName(r.view_type);
  json::object o;
  o["eventID"] = EventId(table, label, shard_id, r.sequence);
  o["eventName"] = EventName(r.event);
  o["eventVersion"] = "1.1";
  o["eventSource"] = "aws:dynamodb";
  o["awsRegion"] = region;
  o["dynamodb"] = std::move(d);
  if (r.by_ttl) {
    o["userIdentity"] = {{"PrincipalId", "dynamodb.amazonaws.com"}, {"Type", "Service"}};
  }
  return o;
}

bool ParseStreamSequence(std::string_view text, uint64_t* out) { return ParseSequence(text, out); }

namespace {

json::array KeySchemaOf(Context& ctx, const std::string& table) {
  json::array a;
  table::TableRef t;
  if (!ctx.store->Resolve(table, &t).ok()) return a;
  const table::TableDef& d = t->def();
  a.push_back({{"AttributeName", d.partition_key.name}, {"KeyType", "HASH"}});
  if (d.sort_key) a.push_back({{"AttributeName", d.sort_key->name}, {"KeyType", "RANGE"}});
  return a;
}

// ---- operations ----

json::object ListStreams(Context& ctx, const json::object& req) {
  auto table = GetString(req, "TableName");
  auto limit = GetInt(req, "Limit");
  auto start = GetString(req, "ExclusiveStartStreamArn");
  Constraints c;
  if (table && !ValidTableName(*table)) {
    if (table->size() < 3 || table->size() > 255) {
      CheckLength(&c, table, "tableName", 3, 255);
    } else {
      c.Add(Quote(*table), "tableName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
  }
  CheckLimit(&c, limit, 100);
  CheckLength(&c, start, "exclusiveStartStreamArn", 37, 1024);
  c.ThrowIfAny();
  std::vector<StreamInfo> streams;
  Status s = ctx.store->ListStreams(table.value_or(""), &streams);
  if (s.IsNotFound() && table) {
    throw ResourceNotFound(
        fmt::format("Requested resource not found: Table: {} not found", *table));
  }
  Check(s);
  size_t i = 0;
  if (start) {
    StreamName from = ParseStreamArn(ctx, *start);
    // Resume after the named stream: the list is ordered by (table, creation).
    auto it = std::find_if(streams.begin(), streams.end(), [&](const StreamInfo& st) {
      return st.table == from.table && st.label == from.label;
    });
    if (it != streams.end()) {
      i = static_cast<size_t>(it - streams.begin()) + 1;
    } else {
      i = static_cast<size_t>(std::upper_bound(streams.begin(), streams.end(), from,
                                               [](const StreamName& f, const StreamInfo& st) {
                                                 return f.table < st.table;
                                               }) -
                              streams.begin());
    }
  }
  const size_t max = static_cast<size_t>(limit.value_or(100));
  json::array out;
  for (; i < streams.size() && out.size() < max; i++) {
    const StreamInfo& st = streams[i];
    out.push_back({{"StreamArn", StreamArn(ctx, st.table, st.label)},
                   {"TableName", st.table},
                   {"StreamLabel", st.label}});
  }
  json::object resp;
  if (i < streams.size() && !out.empty()) {
    resp["LastEvaluatedStreamArn"] = out.back().as_object().at("StreamArn");
  }
  resp["Streams"] = std::move(out);
  return resp;
}

json::object DescribeStream(Context& ctx, const json::object& req) {
  auto arn = GetString(req, "StreamArn");
  auto limit = GetInt(req, "Limit");
  auto start = GetString(req, "ExclusiveStartShardId");
  const json::object* filter = GetObject(req, "ShardFilter");
  std::optional<std::string> filter_type;
  std::optional<std::string> filter_shard;
  if (filter) {
    filter_type = GetString(*filter, "Type");
    filter_shard = GetString(*filter, "ShardId");
  }
  Constraints c;
  if (!arn) c.Add("null", "streamArn", "Member must not be null");
  CheckLength(&c, arn, "streamArn", 37, 1024);
  CheckLimit(&c, limit, 100);
  CheckLength(&c, start, "exclusiveStartShardId", 28, 65);
  if (filter_type && *filter_type != "CHILD_SHARDS") {
    c.Add(Quote(*filter_type), "shardFilter.type",
          "Member must satisfy enum value set: [CHILD_SHARDS]");
  }
  CheckLength(&c, filter_shard, "shardFilter.shardId", 28, 65);
  c.ThrowIfAny();
  // Basalt's wording: the model makes both members optional.
  if (filter && !filter_type) {
    throw ValidationError("ShardFilter.Type is required: the only supported value is CHILD_SHARDS");
  }
  if (filter && !filter_shard) {
    throw ValidationError("ShardFilter.ShardId is required for ShardFilter.Type CHILD_SHARDS");
  }
  StreamName n = ParseStreamArn(ctx, *arn);
  StreamInfo info;
  std::vector<ShardInfo> shards;
  CheckStream(ctx.store->DescribeStream(n.table, n.label, &info, &shards), StreamNotFound(*arn));
  if (filter_shard && std::none_of(shards.begin(), shards.end(), [&](const ShardInfo& s) {
        return s.shard_id == *filter_shard;
      })) {
    throw ResourceNotFound(fmt::format(
        "Requested resource not found: Shard: {} in Stream: {} not found", *filter_shard, *arn));
  }
  // With a CHILD_SHARDS filter only the named shard's children are listed
  // (and paged: ExclusiveStartShardId and Limit apply to them).
  auto listed = [&](const ShardInfo& s) {
    return !filter_shard || s.parent_shard_id == *filter_shard;
  };

  size_t i = 0;
  if (start) {
    auto it = std::find_if(shards.begin(), shards.end(),
                           [&](const ShardInfo& s) { return s.shard_id == *start; });
    // An unknown start shard matches nothing: the rest of the list is empty.
    i = it == shards.end() ? shards.size() : static_cast<size_t>(it - shards.begin()) + 1;
  }
  const size_t max = static_cast<size_t>(limit.value_or(100));
  json::array out;
  for (; i < shards.size() && out.size() < max; i++) {
    const ShardInfo& s = shards[i];
    if (!listed(s)) continue;
    json::object range{{"StartingSequenceNumber", StreamSequenceText(s.starting_sequence)}};
    if (s.ending_sequence) range["EndingSequenceNumber"] = StreamSequenceText(*s.ending_sequence);
    json::object shard;
    if (!s.parent_shard_id.empty()) shard["ParentShardId"] = s.parent_shard_id;
    shard["SequenceNumberRange"] = std::move(range);
    shard["ShardId"] = s.shard_id;
    out.push_back(std::move(shard));
  }
  json::object d;
  d["StreamArn"] = *arn;
  d["StreamLabel"] = info.label;
  d["StreamStatus"] = info.enabled ? "ENABLED" : "DISABLED";
  d["StreamViewType"] = table::StreamViewTypeName(info.view_type);
  d["CreationRequestDateTime"] = static_cast<double>(info.created_ms) / 1000.0;
  d["TableName"] = info.table;
  d["KeySchema"] = KeySchemaOf(ctx, info.table);
  if (!out.empty() &&
      std::any_of(shards.begin() + static_cast<std::ptrdiff_t>(i), shards.end(), listed)) {
    d["LastEvaluatedShardId"] = out.back().as_object().at("ShardId");
  }
  d["Shards"] = std::move(out);
  return {{"StreamDescription", std::move(d)}};
}

json::object GetShardIterator(Context& ctx, const json::object& req) {
  auto arn = GetString(req, "StreamArn");
  auto shard = GetString(req, "ShardId");
  auto type = GetString(req, "ShardIteratorType");
  auto seq_text = GetString(req, "SequenceNumber");
  Constraints c;
  if (!arn) c.Add("null", "streamArn", "Member must not be null");
  CheckLength(&c, arn, "streamArn", 37, 1024);
  if (!shard) c.Add("null", "shardId", "Member must not be null");
  CheckLength(&c, shard, "shardId", 28, 65);
  if (!type) {
    c.Add("null", "shardIteratorType", "Member must not be null");
  } else if (*type != "TRIM_HORIZON" && *type != "LATEST" && *type != "AT_SEQUENCE_NUMBER" &&
             *type != "AFTER_SEQUENCE_NUMBER") {
    c.Add(Quote(*type), "shardIteratorType",
          "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
          "AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
  }
  CheckLength(&c, seq_text, "sequenceNumber", 21, 40);
  c.ThrowIfAny();
  const bool by_sequence = *type == "AT_SEQUENCE_NUMBER" || *type == "AFTER_SEQUENCE_NUMBER";
  // Basalt's wording: the model leaves these semantic checks to the service.
  if (by_sequence && !seq_text) {
    throw ValidationError("SequenceNumber is required for ShardIteratorType " + *type);
  }
  if (!by_sequence && seq_text) {
    throw ValidationError("SequenceNumber must not be given for ShardIteratorType " + *type);
  }
  uint64_t seq = 0;
  if (seq_text && !ParseSequence(*seq_text, &seq)) {
    throw ValidationError("Invalid SequenceNumber: " + *seq_text);
  }
  StreamName n = ParseStreamArn(ctx, *arn);
  uint64_t horizon = 0;
  uint64_t latest = 0;
  Status s = ctx.store->ShardBounds(n.table, n.label, *shard, &horizon, &latest);
  if (s.IsNotFound()) {
    // Tell a missing stream from a missing shard of an existing one.
    StreamInfo info;
    std::vector<ShardInfo> shards;
    if (!ctx.store->DescribeStream(n.table, n.label, &info, &shards).ok()) {
      throw StreamNotFound(*arn);
    }
    throw ResourceNotFound(fmt::format(
        "Requested resource not found: Shard: {} in Stream: {} not found", *shard, *arn));
  }
  CheckStream(s, StreamNotFound(*arn));
  Iterator it{n.table, n.label, *shard, 0, NowMs(ctx.options)};
  if (*type == "TRIM_HORIZON") {
    it.sequence = horizon;
  } else if (*type == "LATEST") {
    it.sequence = latest;
  } else {
    it.sequence = *type == "AT_SEQUENCE_NUMBER" ? seq : seq + 1;
    if (seq < horizon) {
      throw DynamoError("TrimmedDataAccessException",
                        fmt::format("The requested sequence number {} is beyond the trim "
                                    "horizon of shard {}; its records are no longer available",
                                    *seq_text, *shard));
    }
  }
  return {{"ShardIterator", EncodeIterator(it)}};
}

json::object GetRecords(Context& ctx, const json::object& req) {
  auto text = GetString(req, "ShardIterator");
  auto limit = GetInt(req, "Limit");
  Constraints c;
  if (!text) c.Add("null", "shardIterator", "Member must not be null");
  CheckLength(&c, text, "shardIterator", 1, 2048);
  CheckLimit(&c, limit, 1000);
  c.ThrowIfAny();
  std::optional<Iterator> it = DecodeIterator(*text);
  if (!it) throw ValidationError("Invalid ShardIterator");
  CheckStreamRead(ctx, it->table, it->label);
  const uint64_t now = NowMs(ctx.options);
  if (now > it->issued_ms && now - it->issued_ms > kIteratorMaxAgeMs) {
    throw DynamoError("ExpiredIteratorException",
                      "The provided iterator exceeds the maximum age allowed.");
  }
  std::vector<StreamRecord> records;
  uint64_t next = it->sequence;
  bool shard_end = false;
  CheckStream(ctx.store->ReadShard(it->table, it->label, it->shard, it->sequence,
                                   static_cast<size_t>(limit.value_or(1000)), kMaxRecordBytes,
                                   &records, &next, &shard_end),
              StreamNotFound(StreamArn(ctx, it->table, it->label)));
  json::array out;
  for (const StreamRecord& r : records) out.push_back(RecordJson(ctx, *it, r));
  json::object resp{{"Records", std::move(out)}};
  // A closed, fully read shard has no next iterator: the reader moves on to
  // its children (DescribeStream's ParentShardId links).
  if (!shard_end) {
    Iterator after = *it;
    after.sequence = next;
    after.issued_ms = now;
    resp["NextShardIterator"] = EncodeIterator(after);
  }
  return resp;
}

}  // namespace

void RegisterStreamsOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["ListStreams"] = ListStreams;
  (*ops)["DescribeStream"] = DescribeStream;
  (*ops)["GetShardIterator"] = GetShardIterator;
  (*ops)["GetRecords"] = GetRecords;
}

}  // namespace basalt::server::api
