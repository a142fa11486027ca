// DBImpl (db_impl.h), the read path: Get (through the row cache), iterators,
// GetRange and snapshots. MultiGet is in db_multiget.cc.
#include <fmt/format.h>

#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/db_iter.h"
#include "engine/lsm/level_iterator.h"
#include "engine/lsm/merging_iterator.h"

namespace basalt::lsm {

struct DBImpl::SnapshotImpl : Snapshot {
  explicit SnapshotImpl(SequenceNumber s) : seq(s) {}
  SequenceNumber sequence() const override { return seq; }
  const SequenceNumber seq;
};

Status DBImpl::Get(const ReadOptions& o, TreeId tree, std::string_view key, std::string* value) {
  // The row cache holds the latest state only: snapshot reads bypass it.
  RowCache* const rc = o.snapshot == nullptr ? row_cache_.get() : nullptr;
  if (rc == nullptr) return GetImpl(o, tree, key, value);
  // A cached key exists in an existing tree and lies in its range (fills
  // follow successful reads; dropped and split trees are erased), so a hit
  // needs no check under mu_. The ticket is taken before the read.
  if (!shutting_down_.load(std::memory_order_relaxed)) {
    switch (rc->Lookup(tree, key, value)) {
      case RowCache::Result::kFound:
        return Status::OK();
      case RowCache::Result::kAbsent:
        return Status::NotFound("");
      case RowCache::Result::kMiss:
        break;
    }
  }
  const RowCache::Ticket ticket = rc->BeginFill(tree, key);
  Status s = GetImpl(o, tree, key, value);
  if (s.ok()) {
    rc->Fill(tree, key, ticket, value);
  } else if (s.IsNotFound()) {
    rc->Fill(tree, key, ticket, nullptr);
  }
  return s;
}

Status DBImpl::GetImpl(const ReadOptions& o, TreeId tree, std::string_view key,
                       std::string* value) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> v;
  SequenceNumber seq;
  std::shared_ptr<Tree> charged;  // read_triggered_compaction kAllReads: the tree to charge
  {
    MutexLock l(&mu_);
    if (closed_) return Status::Aborted("DB is closed");
    auto t = FindTreeLocked(tree);
    if (!t)
      return Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree));
    if (!t->InRange(key))
      return Status::InvalidArgument(Status::SubCode::kKeyOutOfRange,
                                     "key outside the tree's range");
    if (charge_gets_) charged = t;
    mem = t->mem;
    imm = t->imm;
    v = t->version;
    seq = o.snapshot != nullptr ? o.snapshot->sequence() : last_seq_;
  }
  LookupKey lk(key, seq);
  for (const MemTable* m : {mem.get(), imm.get()}) {
    if (m == nullptr) continue;
    switch (m->Get(lk, value)) {
      case MemTable::GetResult::kFound:
        return Status::OK();
      case MemTable::GetResult::kDeleted:
        return Status::NotFound("");
      case MemTable::GetResult::kNotPresent:
        break;
    }
  }
  std::string found_key;
  Status result;
  // The files whose key ranges the read passed through (LevelDB's seek
  // charge: the first of two or more pays).
  const TableFile* first_holder = nullptr;
  int holders = 0;
  for (int level = 0; level < kNumLevels; level++) {
    if (charged) v->NoteHolders(level, key, &first_holder, &holders);
    bool done = false;
    Status s = v->ForEachCandidateBlock(
        level, lk.internal_key(), [&](const TableFile& f, const BlockHandle& h) {
          bool found = false;
          result = f.table->GetFromBlock(h, lk.internal_key(), &found, &found_key, value);
          if (!result.ok()) return done = true;
          if (!found) return false;  // an older file (L0) or a deeper level may hold it
          ParsedInternalKey p;
          if (!ParseInternalKey(found_key, &p)) {
            result = Status::Corruption("bad key in", f.path);
          } else if (p.kind != ValueKind::kValue) {
            result = Status::NotFound("");
          }
          return done = true;
        });
    if (!s.ok()) return s;
    if (done) {
      if (TakeReadCharge(first_holder, holders)) RequestReadCompaction(charged, first_holder);
      return result;
    }
  }
  if (TakeReadCharge(first_holder, holders)) RequestReadCompaction(charged, first_holder);
  return Status::NotFound("");
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& o, TreeId tree) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> v;
  SequenceNumber seq;
  std::string lower;
  std::optional<std::string> upper;
  std::function<void(std::string_view)> on_read;
  {
    MutexLock l(&mu_);
    auto t = FindTreeLocked(tree);
    if (!t)
      return NewEmptyIterator(
          Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree)));
    if (charge_seeks_) {
      on_read = [gate = charge_gate_, t, v = t->version](std::string_view user_key) {
        const TableFile* first = nullptr;
        int count = 0;
        for (int level = 0; level < kNumLevels; level++) {
          v->NoteHolders(level, user_key, &first, &count);
        }
        if (!TakeReadCharge(first, count)) return;  // the gate is locked only when it runs out
        MutexLock g(&gate->mu);
        if (gate->db != nullptr) gate->db->RequestReadCompaction(t, first);
      };
    }
    lower = t->lower;
    upper = t->upper;
    if (o.lower_bound && *o.lower_bound > lower) lower = *o.lower_bound;
    if (o.upper_bound && (!upper || *o.upper_bound < *upper)) upper = o.upper_bound;
    mem = t->mem;
    imm = t->imm;
    v = t->version;
    seq = o.snapshot != nullptr ? o.snapshot->sequence() : last_seq_;
  }
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(mem->NewIterator());
  if (imm) children.push_back(imm->NewIterator());
  TableReadOptions tro;
  tro.readahead_size = o.readahead_size;
  tro.fill_cache = o.fill_cache;
  // L0: runs of disjoint files (often one file each); deeper levels: one
  // lazily opening iterator per level.
  AppendRunIterators(v->levels[0], tro, &children);
  for (int level = 1; level < kNumLevels; level++) {
    if (!v->levels[level].empty()) children.push_back(NewLevelIterator(v->levels[level], tro));
  }
  // The cleanup keeps the version (and so its tables) alive with the iterator.
  return NewBoundedIterator(
      NewDBIterator(
          NewMergingIterator(std::move(children)), seq, [v] {}, std::move(on_read)),
      std::move(lower), std::move(upper));
}

Status DBImpl::GetRange(const ReadOptions& o, TreeId tree, std::string_view start,
                        std::string_view end, size_t limit,
                        std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  std::string from(start);
  {
    MutexLock l(&mu_);
    if (closed_) return Status::Aborted("DB is closed");
    auto t = FindTreeLocked(tree);
    if (!t)
      return Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree));
    // Clamp to the tree's range, so that every key the cache learns is in it.
    if (from < t->lower) from = t->lower;
    if (t->upper && from >= *t->upper) return Status::OK();
  }
  if (limit == 0 || (!end.empty() && from >= end)) return Status::OK();
  RowCache* const rc = o.snapshot == nullptr ? row_cache_.get() : nullptr;
  RowCache::Ticket ticket;
  ReadOptions ro;
  ro.snapshot = o.snapshot;
  ro.lower_bound = from;
  if (rc != nullptr) {
    if (rc->LookupRange(tree, from, end, limit, out)) return Status::OK();
    ticket = rc->BeginRangeFill(tree);  // before the iterator takes its sequence
  } else if (!end.empty()) {
    ro.upper_bound = std::string(end);
  }
  // With the cache, the iterator runs past end to the next live key, which
  // links the range to what follows (row_cache.h, FillRange).
  std::unique_ptr<Iterator> it = NewIterator(ro, tree);
  std::optional<std::pair<std::string, std::string>> next;
  for (it->Seek(from); it->Valid(); it->Next()) {
    if (!end.empty() && it->key() >= end) {
      next.emplace(std::string(it->key()), std::string(it->value()));
      break;
    }
    out->emplace_back(std::string(it->key()), std::string(it->value()));
    if (out->size() == limit) break;
  }
  Status s = it->status();
  if (!s.ok()) {
    out->clear();
    return s;
  }
  if (rc != nullptr) {
    const bool end_of_tree = !it->Valid();
    if (next) out->push_back(std::move(*next));  // lent to the fill, then taken back
    rc->FillRange(tree, ticket, from, *out, end_of_tree);
    if (next) out->pop_back();
  }
  return Status::OK();
}

const Snapshot* DBImpl::GetSnapshot() {
  MutexLock l(&mu_);
  snapshots_.insert(last_seq_);
  return new SnapshotImpl(last_seq_);
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  {
    MutexLock l(&mu_);
    auto it = snapshots_.find(snapshot->sequence());
    if (it != snapshots_.end()) snapshots_.erase(it);
  }
  delete static_cast<const SnapshotImpl*>(snapshot);
}

}  // namespace basalt::lsm
