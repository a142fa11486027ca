#include "engine/table/stream_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <shared_mutex>
#include <utility>

#include "engine/base/coding.h"
#include "engine/table/table_handle.h"

namespace basalt::table {

namespace {

uint64_t ShardNo(uint32_t stream_index, uint32_t partition_id) {
  return (static_cast<uint64_t>(stream_index) << 32) | partition_id;
}

// The 9-byte prefix 'r' | BE64(shard_no) of every record key of a shard.
std::string RecordPrefix(uint64_t shard_no) { return StreamRecordKey(shard_no, 0).substr(0, 9); }

bool IsRecordOf(std::string_view key, std::string_view prefix) {
  return key.size() == 17 && key.starts_with(prefix);
}

// DynamoDB's StreamLabel form: UTC, millisecond precision.
std::string MakeStreamLabel(uint64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03u", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(ms % 1000));
  return buf;
}

// Closes a shard (REQUIRES no write to it in flight): ending = its last
// record, or its start when empty (then that sequence is burnt so no later
// shard starts at or below it).
void CloseShard(TableStreams* s, ShardMeta* sh) {
  sh->ending = sh->last_seq != 0 ? sh->last_seq : sh->starting;
  s->next_seq = std::max(s->next_seq, *sh->ending + 1);
}

ShardMeta NewShard(uint32_t index, const PartitionDef& p, std::optional<uint64_t> parent,
                   uint64_t start, uint64_t now_ms) {
  ShardMeta m;
  m.shard_no = ShardNo(index, p.id);
  m.lo = p.lo;
  m.hi = p.hi;
  m.parent_no = parent;
  m.starting = start;
  m.trim_horizon = start;
  m.created_ms = now_ms;
  return m;
}

void PutShard(const ShardMeta& m, lsm::TreeId tree, lsm::WriteBatch* batch) {
  std::string enc;
  EncodeShardMeta(m, &enc);
  batch->Put(tree, ShardMetaKey(m.shard_no), enc);
}

void PutNextSeq(uint64_t next_seq, lsm::TreeId tree, lsm::WriteBatch* batch) {
  std::string v;
  PutFixed64(&v, next_seq);
  batch->Put(tree, kStreamNextSeqKey, v);
}

// Does [lo, hi) (hi 0 = 2^64) contain [clo, chi)?
bool RangeContains(uint64_t lo, uint64_t hi, uint64_t clo, uint64_t chi) {
  auto end = [](uint64_t h) {
    return h == 0 ? (static_cast<unsigned __int128>(1) << 64) : static_cast<unsigned __int128>(h);
  };
  return lo <= clo && end(chi) <= end(hi);
}

Status ShardNotFound() {
  return Status::NotFound(Status::SubCode::kShardNotFound,
                          "Requested resource not found: Shard does not exist");
}

Status Trimmed() {
  return Status::Aborted(Status::SubCode::kTrimmed,
                         "TrimmedDataAccess: the requested sequence number is beyond the trim "
                         "horizon");
}

lsm::WriteOptions SyncedWrite() {
  lsm::WriteOptions wo;
  wo.sync = true;
  return wo;
}

const StreamMeta* FindStream(const TableStreams& ts, const std::string& label) {
  for (const auto& [index, sm] : ts.streams) {
    if (sm.label == label) return &sm;
  }
  return nullptr;
}

}  // namespace

Status StreamNotFound(const std::string& label) {
  return Status::NotFound(Status::SubCode::kStreamNotFound,
                          "Requested resource not found: Stream: " + label + " not found");
}

StreamStore::StreamStore(lsm::DB* db, Options options) : db_(db), options_(std::move(options)) {}

uint64_t StreamStore::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Status StreamStore::Load(TableRuntime* rt, std::optional<lsm::TreeId> tree,
                         const std::vector<PartitionDef>& parts) {
  TableStreams& s = rt->streams;
  s.tree = tree;
  if (!s.tree) return Status::OK();
  uint64_t floor = 1;
  {
    auto it = db_->NewIterator(lsm::ReadOptions(), *s.tree);
    for (it->SeekToFirst(); it->Valid() && it->key()[0] != 'r'; it->Next()) {
      std::string_view k = it->key();
      if (k == kStreamNextSeqKey) {
        std::string_view v = it->value();
        if (!GetFixed64(&v, &floor)) return Status::Corruption("stream: next sequence");
      } else if (k[0] == 'm') {
        StreamMeta m;
        Status st = DecodeStreamMeta(it->value(), &m);
        if (!st.ok()) return st;
        if (m.enabled) s.current = m.index;
        s.streams[m.index] = std::move(m);
      } else if (k[0] == 'h') {
        ShardMeta m;
        Status st = DecodeShardMeta(it->value(), &m);
        if (!st.ok()) return st;
        s.shards[m.shard_no] = m;
      } else {
        return Status::Corruption("stream: unknown key");
      }
    }
    if (!it->status().ok()) return it->status();
    // Each shard's last record: seek past the shard, step back.
    for (auto& [no, sh] : s.shards) {
      if (no == UINT64_MAX) {
        it->SeekToLast();
      } else {
        it->Seek(StreamRecordKey(no + 1, 0));
      }
      if (it->Valid()) {
        it->Prev();
      } else if (it->status().ok()) {
        it->SeekToLast();
      }
      if (!it->status().ok()) return it->status();
      if (it->Valid() && IsRecordOf(it->key(), RecordPrefix(no))) {
        sh.last_seq = DecodeBigEndian64(it->key().substr(9));
      }
    }
  }
  s.next_seq = floor;
  for (const auto& [no, sh] : s.shards) {
    s.next_seq = std::max({s.next_seq, sh.last_seq + 1, sh.starting, sh.trim_horizon,
                           sh.ending ? *sh.ending + 1 : 0});
  }
  if (s.current == 0) return Status::OK();
  // A crash after a split but before its shard metadata was written: derive
  // it from the partitions (close shards of vanished partitions, open shards
  // for new ones, parented by the shard whose range contains theirs).
  lsm::WriteBatch batch;
  std::set<uint32_t> live;
  for (const auto& p : parts) live.insert(p.id);
  for (auto& [no, sh] : s.shards) {
    if (sh.stream_index() != s.current || sh.ending || live.count(sh.partition_id())) continue;
    CloseShard(&s, &sh);
    PutShard(sh, *s.tree, &batch);
  }
  const uint64_t now = NowMs();
  for (const auto& p : parts) {
    if (s.shards.count(ShardNo(s.current, p.id))) continue;
    std::optional<uint64_t> parent;
    for (const auto& [no, sh] : s.shards) {
      if (sh.stream_index() == s.current && RangeContains(sh.lo, sh.hi, p.lo, p.hi)) parent = no;
    }
    ShardMeta m = NewShard(s.current, p, parent, s.next_seq, now);
    PutShard(m, *s.tree, &batch);
    s.shards[m.shard_no] = m;
  }
  if (batch.Empty()) return Status::OK();
  PutNextSeq(s.next_seq, *s.tree, &batch);
  return db_->Write(SyncedWrite(), &batch);
}

Status StreamStore::StageSpecChange(TableRuntime* rt, const StreamSpec& before, StreamSpec* after,
                                    const std::vector<PartitionDef>& parts, lsm::WriteBatch* batch,
                                    std::function<void()>* apply) {
  TableStreams& s = rt->streams;
  const bool start = after->enabled && (!before.enabled || after->label != before.label);
  const bool stop = before.enabled && (!after->enabled || start);
  const bool view =
      after->enabled && before.enabled && !start && after->view_type != before.view_type;
  if (!start && !stop && !view) return Status::OK();
  if (!s.tree) {
    lsm::TreeId tree;
    Status st = db_->CreateTree(StreamTreeName(rt->table_id), &tree);
    if (!st.ok()) return st;
    std::lock_guard<std::mutex> l(s.mu);
    s.tree = tree;
  }
  const uint64_t now = NowMs();
  if (start && after->label.empty()) after->label = MakeStreamLabel(now);
  // Work on a copy, installed by *apply once the batch is durable.
  auto next = std::make_shared<TableStreams>();
  {
    std::lock_guard<std::mutex> l(s.mu);
    next->next_seq = s.next_seq;
    next->streams = s.streams;
    next->shards = s.shards;
    next->current = s.current;
  }
  const lsm::TreeId tree = *s.tree;
  auto put_stream = [&](const StreamMeta& m) {
    std::string enc;
    EncodeStreamMeta(m, &enc);
    batch->Put(tree, StreamMetaKey(m.index), enc);
  };
  if (stop && next->current != 0) {
    for (auto& [no, sh] : next->shards) {
      if (sh.stream_index() != next->current || sh.ending) continue;
      CloseShard(next.get(), &sh);
      PutShard(sh, tree, batch);
    }
    StreamMeta& m = next->streams[next->current];
    m.enabled = false;
    put_stream(m);
    next->current = 0;
  }
  if (view && next->current != 0) {
    StreamMeta& m = next->streams[next->current];
    m.view_type = after->view_type;
    put_stream(m);
  }
  if (start) {
    for (const auto& [i, m] : next->streams) {
      if (m.label == after->label) {
        return Status::InvalidArgument("stream label already used: " + after->label);
      }
    }
    StreamMeta m;
    m.index = next->streams.empty() ? 1 : next->streams.rbegin()->first + 1;
    m.label = after->label;
    m.view_type = after->view_type;
    m.created_ms = now;
    m.enabled = true;
    put_stream(m);
    for (const auto& p : parts) {
      ShardMeta sh = NewShard(m.index, p, std::nullopt, next->next_seq, now);
      PutShard(sh, tree, batch);
      next->shards[sh.shard_no] = sh;
    }
    next->current = m.index;
    next->streams[m.index] = std::move(m);
  }
  PutNextSeq(next->next_seq, tree, batch);
  *apply = [&s, next] {
    std::lock_guard<std::mutex> l(s.mu);
    // Trim passes may have raised horizons meanwhile; keep theirs.
    for (auto& [no, sh] : next->shards) {
      auto it = s.shards.find(no);
      if (it != s.shards.end()) {
        sh.trim_horizon = std::max(sh.trim_horizon, it->second.trim_horizon);
      }
    }
    s.next_seq = std::max(s.next_seq, next->next_seq);
    s.streams = std::move(next->streams);
    s.shards = std::move(next->shards);
    s.current = next->current;
  };
  return Status::OK();
}

void StreamStore::OnSplit(TableRuntime* rt, const PartitionDef& parent, const PartitionDef& left,
                          const PartitionDef& right) {
  TableStreams& s = rt->streams;
  lsm::WriteBatch batch;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.current == 0 || !s.tree) return;
    std::optional<uint64_t> parent_no;
    auto it = s.shards.find(ShardNo(s.current, parent.id));
    if (it != s.shards.end()) {
      ShardMeta& sh = it->second;
      if (!sh.ending) {
        CloseShard(&s, &sh);
        PutShard(sh, *s.tree, &batch);
      }
      parent_no = it->first;
    }
    const uint64_t now = NowMs();
    for (const PartitionDef* c : {&left, &right}) {
      ShardMeta m = NewShard(s.current, *c, parent_no, s.next_seq, now);
      PutShard(m, *s.tree, &batch);
      s.shards[m.shard_no] = m;
    }
    PutNextSeq(s.next_seq, *s.tree, &batch);
  }
  // On failure Load derives the same metadata from the partitions at Open.
  db_->Write(SyncedWrite(), &batch).PermitUnchecked();
}

Status StreamStore::Drop(TableRuntime* rt) {
  std::optional<lsm::TreeId> tree;
  {
    std::lock_guard<std::mutex> l(rt->streams.mu);
    tree = rt->streams.tree;
  }
  return tree ? db_->DropTree(*tree) : Status::OK();
}

void StreamStore::StageRecord(TableRuntime* rt, uint32_t partition_id, const Item& keys,
                              const std::optional<Item>& old, const std::optional<Item>& next,
                              bool by_ttl, uint64_t now_ms, lsm::WriteBatch* batch,
                              std::vector<StagedRecord>* staged) {
  TableStreams* s = &rt->streams;
  StreamViewType view;
  uint64_t seq, shard_no;
  lsm::TreeId tree;
  {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->current == 0 || !s->tree) return;
    view = s->streams[s->current].view_type;
    seq = s->next_seq++;
    s->in_flight.insert(seq);
    shard_no = ShardNo(s->current, partition_id);
    tree = *s->tree;
  }
  std::string enc;
  EncodeStreamRecord(MakeStreamRecord(keys, old, next, view, by_ttl, now_ms), &enc);
  batch->Put(tree, StreamRecordKey(shard_no, seq), enc);
  staged->push_back({s, seq, shard_no});
}

void StreamStore::FinishRecords(std::vector<StagedRecord>* staged, bool committed) {
  for (const StagedRecord& r : *staged) {
    std::lock_guard<std::mutex> l(r.streams->mu);
    r.streams->in_flight.erase(r.seq);
    if (!committed) continue;
    auto it = r.streams->shards.find(r.shard_no);
    if (it != r.streams->shards.end()) it->second.last_seq = std::max(it->second.last_seq, r.seq);
  }
  staged->clear();
}

void StreamStore::List(const std::string& table, const TableRuntime& rt,
                       std::vector<StreamInfo>* out) const {
  std::lock_guard<std::mutex> l(rt.streams.mu);
  for (const auto& [index, m] : rt.streams.streams) {
    out->push_back({table, m.label, m.view_type, index == rt.streams.current, m.created_ms});
  }
}

Status StreamStore::Describe(const std::string& table, const TableRuntime& rt,
                             const std::string& label, StreamInfo* info,
                             std::vector<ShardInfo>* shards) const {
  shards->clear();
  const TableStreams& ts = rt.streams;
  std::lock_guard<std::mutex> l(ts.mu);
  const StreamMeta* m = FindStream(ts, label);
  if (m == nullptr) return StreamNotFound(label);
  *info = {table, m->label, m->view_type, m->index == ts.current, m->created_ms};
  // Children have larger partition ids than their parents: shard order is lineage order.
  for (const auto& [no, sh] : ts.shards) {
    if (sh.stream_index() != m->index) continue;
    ShardInfo si;
    si.shard_id = FormatShardId(rt.table_id, label, no);
    if (sh.parent_no) si.parent_shard_id = FormatShardId(rt.table_id, label, *sh.parent_no);
    si.starting_sequence = sh.starting;
    si.ending_sequence = sh.ending;
    shards->push_back(std::move(si));
  }
  return Status::OK();
}

Status StreamStore::FindShard(const TableRuntime& rt, const std::string& label,
                              const std::string& shard_id, uint64_t* shard_no) const {
  const TableStreams& ts = rt.streams;
  std::lock_guard<std::mutex> l(ts.mu);
  const StreamMeta* m = FindStream(ts, label);
  if (m == nullptr) return StreamNotFound(label);
  if (!ParseShardId(rt.table_id, label, shard_id, shard_no) || (*shard_no >> 32) != m->index ||
      ts.shards.count(*shard_no) == 0) {
    return ShardNotFound();
  }
  return Status::OK();
}

Status StreamStore::ReadShard(TableRuntime* rt, const std::string& label,
                              const std::string& shard_id, uint64_t from_sequence, size_t limit,
                              size_t max_bytes, std::vector<StreamRecord>* out,
                              uint64_t* next_sequence, bool* shard_end) {
  out->clear();
  *next_sequence = from_sequence;
  *shard_end = false;
  uint64_t no;
  Status s = FindShard(*rt, label, shard_id, &no);
  if (!s.ok()) return s;
  TableStreams& ts = rt->streams;
  uint64_t bound;
  bool closed;
  lsm::TreeId tree;
  {
    std::lock_guard<std::mutex> l(ts.mu);
    auto it = ts.shards.find(no);
    if (it == ts.shards.end() || !ts.tree) return ShardNotFound();
    if (from_sequence < it->second.trim_horizon) return Trimmed();
    closed = it->second.ending.has_value();
    // A closed shard has nothing in flight. An open one shows only records
    // below every sequence still in flight: a record committing later has a
    // sequence at or above the bound, so no reader passes it by.
    bound = closed ? UINT64_MAX : ts.VisibleBound();
    tree = *ts.tree;
  }
  if (limit == 0) limit = 1;
  auto it = db_->NewIterator(lsm::ReadOptions(), tree);
  const std::string prefix = RecordPrefix(no);
  size_t bytes = 0;
  bool exhausted = true;
  for (it->Seek(StreamRecordKey(no, from_sequence)); it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (!IsRecordOf(k, prefix)) break;
    const uint64_t seq = DecodeBigEndian64(k.substr(9));
    if (seq >= bound || out->size() >= limit || (max_bytes != 0 && bytes >= max_bytes)) {
      exhausted = false;
      break;
    }
    StreamRecord r;
    s = DecodeStreamRecord(it->value(), &r);
    if (!s.ok()) return s;
    r.sequence = seq;
    bytes += r.size_bytes;
    out->push_back(std::move(r));
    *next_sequence = seq + 1;
  }
  if (!it->status().ok()) return it->status();
  {
    // A trim pass raises the horizon before deleting: if it passed us while
    // we read, records may be missing from what we saw.
    std::lock_guard<std::mutex> l(ts.mu);
    auto sh = ts.shards.find(no);
    if (sh == ts.shards.end() || from_sequence < sh->second.trim_horizon) {
      out->clear();
      *next_sequence = from_sequence;
      return Trimmed();
    }
  }
  *shard_end = closed && exhausted;
  return Status::OK();
}

Status StreamStore::ShardBounds(const TableRuntime& rt, const std::string& label,
                                const std::string& shard_id, uint64_t* trim_horizon,
                                uint64_t* latest) const {
  uint64_t no;
  Status s = FindShard(rt, label, shard_id, &no);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(rt.streams.mu);
  auto it = rt.streams.shards.find(no);
  if (it == rt.streams.shards.end()) return ShardNotFound();
  *trim_horizon = it->second.trim_horizon;
  *latest = it->second.ending ? *it->second.ending + 1
                              : std::max(it->second.starting, rt.streams.VisibleBound());
  return Status::OK();
}

Status StreamStore::Trim(TableRuntime* rt, uint64_t* trimmed) {
  TableStreams& s = rt->streams;
  const uint64_t now = NowMs();
  if (now < options_.retention_ms) return Status::OK();
  const uint64_t cutoff = now - options_.retention_ms;
  std::lock_guard<std::mutex> trim(s.trim_mu);
  // Shared commit lock: no shard metadata change (split, alter) interleaves
  // with our metadata writes, so the stored shard stays as in memory.
  std::shared_lock<SharedGate> commit(rt->commit_mu);
  std::vector<uint64_t> todo;
  lsm::TreeId tree;
  uint64_t bound;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (!s.tree) return Status::OK();
    tree = *s.tree;
    bound = s.VisibleBound();
    for (const auto& [no, sh] : s.shards) {
      if (!sh.empty()) todo.push_back(no);
    }
  }
  constexpr size_t kMaxDeletesPerBatch = 4096;
  for (uint64_t no : todo) {
    for (bool more = true; more;) {
      more = false;
      uint64_t from;
      {
        std::lock_guard<std::mutex> l(s.mu);
        from = s.shards.at(no).trim_horizon;
      }
      std::vector<std::string> keys;
      uint64_t horizon = from;
      {
        auto it = db_->NewIterator(lsm::ReadOptions(), tree);
        const std::string prefix = RecordPrefix(no);
        for (it->Seek(StreamRecordKey(no, from)); it->Valid(); it->Next()) {
          std::string_view k = it->key();
          if (!IsRecordOf(k, prefix)) break;
          const uint64_t seq = DecodeBigEndian64(k.substr(9));
          uint64_t created;
          Status st = DecodeStreamRecordTime(it->value(), &created);
          if (!st.ok()) return st;
          if (seq >= bound || created >= cutoff) break;
          if (keys.size() == kMaxDeletesPerBatch) {
            more = true;
            break;
          }
          keys.emplace_back(k);
          horizon = seq + 1;
        }
        if (!it->status().ok()) return it->status();
      }
      if (keys.empty()) break;
      lsm::WriteBatch batch;
      {
        // Raise the horizon before the records go (ReadShard re-checks it).
        std::lock_guard<std::mutex> l(s.mu);
        ShardMeta& sh = s.shards.at(no);
        sh.trim_horizon = std::max(sh.trim_horizon, horizon);
        PutShard(sh, tree, &batch);
        PutNextSeq(s.next_seq, tree, &batch);
      }
      for (const auto& k : keys) batch.Delete(tree, k);
      Status st = db_->Write(lsm::WriteOptions(), &batch);
      if (!st.ok()) return st;
      if (trimmed != nullptr) *trimmed += keys.size();
    }
  }
  // Old streams whose records are all gone disappear.
  lsm::WriteBatch batch;
  std::vector<uint32_t> gone;
  {
    std::lock_guard<std::mutex> l(s.mu);
    for (const auto& [index, m] : s.streams) {
      if (index == s.current) continue;
      bool empty = true;
      for (const auto& [no, sh] : s.shards) {
        if (sh.stream_index() == index && !sh.empty()) empty = false;
      }
      if (!empty) continue;
      gone.push_back(index);
      batch.Delete(tree, StreamMetaKey(index));
      for (const auto& [no, sh] : s.shards) {
        if (sh.stream_index() == index) batch.Delete(tree, ShardMetaKey(no));
      }
    }
    if (gone.empty()) return Status::OK();
    PutNextSeq(s.next_seq, tree, &batch);
  }
  Status st = db_->Write(lsm::WriteOptions(), &batch);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> l(s.mu);
  for (uint32_t index : gone) {
    s.streams.erase(index);
    std::erase_if(s.shards, [&](const auto& e) { return e.second.stream_index() == index; });
  }
  return Status::OK();
}

Status StreamStore::TrimAll(const std::vector<std::shared_ptr<TableRuntime>>& tables,
                            uint64_t* trimmed) {
  Status first;
  for (const auto& rt : tables) {
    Status s = Trim(rt.get(), trimmed);
    // A table deleted meanwhile fails on its dropped tree: not an error.
    if (!s.ok() && !rt->dropped && first.ok()) first = s;
  }
  return first;
}

void StreamStore::StartTrimming(
    std::function<std::vector<std::shared_ptr<TableRuntime>>()> tables) {
  if (options_.trim_interval_ms == 0) return;
  trim_loop_.Start(options_.trim_interval_ms, [this, tables = std::move(tables)] {
    // Errors are retried by the next pass; there is no one to report them to.
    TrimAll(tables(), nullptr).PermitUnchecked();
  });
}

}  // namespace basalt::table
