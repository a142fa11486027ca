// DBImpl, part 4 (db_impl.h; part 1 in db_impl.cc): statistics of trees and
// caches, approximate sizes, DebugString.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/db_impl.h"

namespace basalt::lsm {

// ----------------------------------------------------------------------------
// Stats

Status DBImpl::GetTreeStats(TreeId tree, TreeStats* stats) {
  MutexLock l(&mu_);
  auto t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  stats->levels.assign(kNumLevels, LevelStats());
  for (int lv = 0; lv < kNumLevels; lv++) {
    stats->levels[lv].files = static_cast<int>(t->version->levels[lv].size());
    stats->levels[lv].bytes = t->version->LevelBytes(lv);
  }
  for (int lv = 0; lv < kNumLevels; lv++) {
    const LevelStats& c = t->compaction_stats[lv];
    stats->levels[lv].compactions = c.compactions;
    stats->levels[lv].bytes_read_by_compaction = c.bytes_read_by_compaction;
    stats->levels[lv].bytes_written_by_compaction = c.bytes_written_by_compaction;
    stats->levels[lv].files_moved_in = c.files_moved_in;
  }
  stats->memtable_bytes = t->mem->ApproximateMemoryUsage();
  stats->immutable_memtables = t->imm ? 1 : 0;
  stats->compaction_policy = compaction_policy_->Name();
  stats->pending_compaction_bytes = PendingCompactionBytes(t.get());
  if (compaction_limiter_) {
    stats->db_compaction_rate_limit = compaction_limiter_->bytes_per_second();
    stats->db_compaction_rate_wait_micros = compaction_limiter_->waited_micros();
  }
  if (t->version->block_index != nullptr) {
    stats->block_index_bytes = t->version->block_index->MemoryUsage();
  }
  stats->db_user_bytes_written = user_bytes_written_;
  stats->db_bytes_flushed = bytes_flushed_;
  stats->db_bytes_compacted_written = bytes_compacted_written_;
  stats->db_write_amplification =
      user_bytes_written_ == 0 ? 0
                               : static_cast<double>(bytes_flushed_ + bytes_compacted_written_) /
                                     static_cast<double>(user_bytes_written_);
  return Status::OK();
}

CacheStats DBImpl::GetCacheStats() {
  CacheStats st;
  if (block_cache_ != nullptr) st.block = block_cache_->GetStats();
  if (row_cache_) st.row = row_cache_->GetStats();
  return st;
}

DbStats DBImpl::GetDbStats() {
  DbStats st;
  const CommitQueue::Stats async = commit_queue_->stats();
  st.async_batches = async.batches;
  st.async_writes = async.writes;
  MutexLock l(&mu_);
  st.flushes = flushes_;
  st.compactions = compactions_;
  st.compaction_bytes_read = bytes_compacted_read_;
  st.compaction_bytes_written = bytes_compacted_written_;
  st.bytes_flushed = bytes_flushed_;
  st.user_bytes_written = user_bytes_written_;
  st.write_amplification = user_bytes_written_ == 0
                               ? 0
                               : static_cast<double>(bytes_flushed_ + bytes_compacted_written_) /
                                     static_cast<double>(user_bytes_written_);
  st.write_stalls = write_stalls_;
  st.write_stall_micros = write_stall_micros_;
  st.wal_bytes = wal_bytes_;
  st.wal_syncs = wal_syncs_;
  st.wal_group_commits = wal_group_commits_;
  st.wal_group_writers = wal_group_writers_;
  return st;
}

namespace {

// The bytes of v's SSTables with lower <= user key < upper (no upper: no
// bound): whole files inside the range, and for the others the share of their
// data blocks in it from the index (ApproximateOffsetOf, no I/O), scaled to
// the file's size.
uint64_t FilesRangeBytes(const Version& v, std::string_view lower,
                         const std::optional<std::string>& upper) {
  std::string lo_key, hi_key;
  AppendInternalKey(&lo_key, lower, kMaxSequenceNumber, kValueKindForSeek);
  if (upper) AppendInternalKey(&hi_key, *upper, kMaxSequenceNumber, kValueKindForSeek);
  uint64_t total = 0;
  for (const auto& lv : v.levels) {
    for (const auto& f : lv) {
      const std::string_view smallest = ExtractUserKey(f->meta.smallest);
      const std::string_view largest = ExtractUserKey(f->meta.largest);
      if (largest < lower || (upper && smallest >= std::string_view(*upper))) continue;
      if (smallest >= lower && (!upper || largest < std::string_view(*upper))) {
        total += f->meta.file_size;
        continue;
      }
      // A file partly inside counts the share of its data blocks in the
      // range, scaled to the whole file (its index and filter grow with its
      // data), so that the parts of a range add up to the whole.
      std::string past_end;  // sorts after every key of the file
      std::string k(largest);
      k.push_back('\0');
      AppendInternalKey(&past_end, k, kMaxSequenceNumber, kValueKindForSeek);
      const uint64_t data_end = f->table->ApproximateOffsetOf(past_end);
      const uint64_t begin = f->table->ApproximateOffsetOf(lo_key);
      const uint64_t end = upper ? f->table->ApproximateOffsetOf(hi_key) : data_end;
      if (end <= begin || data_end == 0) continue;
      total += static_cast<uint64_t>(static_cast<double>(end - begin) *
                                     static_cast<double>(f->meta.file_size) /
                                     static_cast<double>(data_end));
    }
  }
  return total;
}

}  // namespace

Status DBImpl::GetApproximateSize(TreeId tree, uint64_t* bytes) {
  std::shared_ptr<const Version> v;
  std::string lower;
  std::optional<std::string> upper;
  uint64_t total = 0;
  {
    MutexLock l(&mu_);
    auto t = FindTreeLocked(tree);
    if (!t) return Status::NotFound(fmt::format("tree {}", tree));
    v = t->version;
    lower = t->lower;
    upper = t->upper;
    total = t->mem->ApproximateMemoryUsage() + (t->imm ? t->imm->ApproximateMemoryUsage() : 0);
  }
  *bytes = total + FilesRangeBytes(*v, lower, upper);
  return Status::OK();
}

Status DBImpl::GetApproximateRangeSize(TreeId tree, std::string_view start, std::string_view end,
                                       uint64_t* bytes) {
  std::shared_ptr<const Version> v;
  std::shared_ptr<MemTable> mem, imm;
  std::string lower;
  std::optional<std::string> upper;
  {
    MutexLock l(&mu_);
    auto t = FindTreeLocked(tree);
    if (!t) return Status::NotFound(fmt::format("tree {}", tree));
    v = t->version;
    mem = t->mem;
    imm = t->imm;
    lower = t->lower;
    upper = t->upper;
  }
  // The range, clipped to the tree's own.
  if (start > std::string_view(lower)) lower.assign(start);
  if (!end.empty() && (!upper || end < std::string_view(*upper))) upper.emplace(end);
  *bytes = 0;
  if (upper && std::string_view(*upper) <= std::string_view(lower)) return Status::OK();
  const std::string_view mem_end = upper ? std::string_view(*upper) : std::string_view();
  uint64_t total = mem->ApproximateRangeBytes(lower, mem_end);
  if (imm) total += imm->ApproximateRangeBytes(lower, mem_end);
  *bytes = total + FilesRangeBytes(*v, lower, upper);
  return Status::OK();
}

std::string DBImpl::DebugString() {
  MutexLock l(&mu_);
  std::string r = fmt::format(
      "last_sequence={} next_file={} flushes={} compactions={} user_bytes={} flushed_bytes={} "
      "compaction_read={} compaction_written={}\n",
      last_seq_, next_file_number_, flushes_, compactions_, user_bytes_written_, bytes_flushed_,
      bytes_compacted_read_, bytes_compacted_written_);
  if (block_cache_ != nullptr) {
    const BlockCache::Stats c = block_cache_->GetStats();
    r += fmt::format(
        "block_cache: usage={}B reserved={}B capacity={}B entries={} hits={} misses={} "
        "inserts={} evictions={}\n",
        c.usage, c.reserved, c.capacity, c.entries, c.hits, c.misses, c.inserts, c.evictions);
  } else {
    r += "block_cache: disabled\n";
  }
  if (row_cache_) {
    const RowCache::Stats c = row_cache_->GetStats();
    r += fmt::format(
        "row_cache: usage={}B capacity={}B entries={} hits={} misses={} range_hits={} "
        "range_misses={} fills={} fills_refused={} fills_skipped={} invalidations={} "
        "evictions={}\n",
        c.usage, c.capacity, c.entries, c.hits, c.misses, c.range_hits, c.range_misses, c.fills,
        c.fills_refused, c.fills_skipped, c.invalidations, c.evictions);
  } else {
    r += "row_cache: disabled\n";
  }
  for (auto& [id, t] : trees_) {
    r += fmt::format("tree {} '{}': mem={}B imm={} flushed_seq={}\n", id, t->name,
                     t->mem->ApproximateMemoryUsage(), t->imm ? "yes" : "no", t->flushed_seq);
    if (const BlockIndex* bi = t->version->block_index.get()) {
      r += fmt::format("  block_index: {}B ({}B inner nodes, the rest leaves)\n", bi->MemoryUsage(),
                       bi->InnerMemoryUsage());
    }
    for (int lv = 0; lv < kNumLevels; lv++) {
      const LevelStats& c = t->compaction_stats[lv];
      if (t->version->levels[lv].empty() && c.compactions == 0 && c.files_moved_in == 0) continue;
      r += fmt::format(
          "  L{}: {} files, {} bytes; compactions into it {} (read {}, written {}), files moved "
          "in {}\n",
          lv, t->version->levels[lv].size(), t->version->LevelBytes(lv), c.compactions,
          c.bytes_read_by_compaction, c.bytes_written_by_compaction, c.files_moved_in);
    }
  }
  return r;
}

}  // namespace basalt::lsm
