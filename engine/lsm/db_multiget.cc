// DBImpl::MultiGet (contract in db.h; design and measurements in docs/io.md).
//
// One sequence number for every key; the memtables first; then, level by
// level, only for the keys still unresolved:
//   1. FindCandidates maps each key to the data blocks that may hold it
//      (bloom filter, file ranges, the table's pinned index; no I/O);
//   2. blocks wanted by several keys are deduplicated;
//   3. the block cache answers what it holds;
//   4. every missing block of the level, across all its files, is read in ONE
//      io::MultiReadFiles batch (io_uring: one submission; posix: preads one
//      by one), then checksummed, decompressed, parsed and cached;
//   5. each key is searched in its blocks, in order.
// Level 0 is one round too: a key's candidate blocks in every L0 file that
// may hold it are read together and searched newest first, so a key
// overwritten in several L0 files may cost a block read Get would not make,
// in exchange for one round trip instead of one per L0 file.
//
// Errors are per key, as Get would return them: a failed read or a corrupt
// block fails the keys that needed it, and only those.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "engine/lsm/db_impl.h"
#include "engine/lsm/sstable/block.h"

namespace basalt::lsm {

namespace {

// A data block that may hold a key.
struct BlockCandidate {
  const TableFile* file;
  BlockHandle handle;
};

// The blocks of one level of v that may hold lk's user key, appended to *out
// in the order they must be searched (level 0: newest file first; deeper
// levels: at most one). Files whose bloom filter excludes the key are
// skipped. No I/O. With the version's block index (Options::use_block_index)
// the block comes from it, as in Get; otherwise from each table's own index.
Status FindCandidates(const Version& v, int level, const LookupKey& lk,
                      std::vector<BlockCandidate>* out) {
  return v.ForEachCandidateBlock(level, lk.internal_key(),
                                 [&](const TableFile& f, const BlockHandle& h) {
                                   out->push_back({&f, h});
                                   return false;  // every candidate of the level, read together
                                 });
}

// One distinct block wanted in a level's round.
struct BlockSlot {
  const TableFile* file;
  BlockHandle handle;
  std::shared_ptr<const Block> block;  // set once read (or found in the cache)
  Status status;                       // why it could not be had
};

// Steps 2-4 for one level: fills slot->block or slot->status for every slot.
void FetchBlocks(std::vector<BlockSlot>* slots, bool fill_cache) {
  std::vector<size_t> missing;  // slot indexes
  std::vector<io::FileReadRequest> reqs;
  size_t total = 0;
  for (size_t i = 0; i < slots->size(); i++) {
    BlockSlot& slot = (*slots)[i];
    slot.block = slot.file->table->LookupBlock(slot.handle);
    if (slot.block != nullptr) continue;
    io::FileReadRequest r;
    r.file = slot.file->table->file();
    slot.status = slot.file->table->BlockRange(slot.handle, &r.req.offset, &r.req.n);
    if (!slot.status.ok()) continue;
    missing.push_back(i);
    reqs.push_back(r);
    total += r.req.n;
  }
  if (reqs.empty()) return;
  std::unique_ptr<char[]> buf(new char[total]);
  size_t pos = 0;
  for (io::FileReadRequest& r : reqs) {
    r.req.scratch = buf.get() + pos;
    pos += r.req.n;
  }
  // Per-request statuses are looked at below.
  io::MultiReadFiles(reqs.data(), reqs.size()).PermitUnchecked();
  for (size_t j = 0; j < reqs.size(); j++) {
    BlockSlot& slot = (*slots)[missing[j]];
    slot.status = reqs[j].req.status;
    if (!slot.status.ok()) continue;
    slot.status =
        slot.file->table->BlockFromRaw(slot.handle, reqs[j].req.result, fill_cache, &slot.block);
  }
}

}  // namespace

void DBImpl::MultiGet(const ReadOptions& o, TreeId tree, const std::vector<std::string_view>& keys,
                      std::vector<std::string>* values, std::vector<Status>* statuses) {
  const size_t n = keys.size();
  values->assign(n, std::string());
  statuses->assign(n, Status::OK());
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> v;
  SequenceNumber seq;
  std::vector<bool> in_range(n);
  {
    MutexLock l(&mu_);
    Status whole;
    auto t = closed_ ? nullptr : FindTreeLocked(tree);
    if (closed_) {
      whole = Status::Aborted("DB is closed");
    } else if (!t) {
      whole = Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree));
    }
    if (!whole.ok()) {
      statuses->assign(n, whole);
      return;
    }
    for (size_t i = 0; i < n; i++) in_range[i] = t->InRange(keys[i]);
    mem = t->mem;
    imm = t->imm;
    v = t->version;
    seq = o.snapshot != nullptr ? o.snapshot->sequence() : last_seq_;
  }

  // Memtables.
  std::vector<LookupKey> lks;
  lks.reserve(n);
  std::vector<size_t> pending;  // key indexes still unresolved
  for (size_t i = 0; i < n; i++) {
    lks.emplace_back(keys[i], seq);
    if (!in_range[i]) {
      (*statuses)[i] =
          Status::InvalidArgument(Status::SubCode::kKeyOutOfRange, "key outside the tree's range");
      continue;
    }
    bool resolved = false;
    for (const MemTable* m : {mem.get(), imm.get()}) {
      if (m == nullptr || resolved) continue;
      switch (m->Get(lks[i], &(*values)[i])) {
        case MemTable::GetResult::kFound:
          resolved = true;
          break;
        case MemTable::GetResult::kDeleted:
          (*values)[i].clear();
          (*statuses)[i] = Status::NotFound("");
          resolved = true;
          break;
        case MemTable::GetResult::kNotPresent:
          break;
      }
    }
    if (!resolved) pending.push_back(i);
  }

  // SSTables, level by level.
  std::vector<BlockCandidate> candidates;
  std::vector<size_t> candidate_slot;             // parallel to candidates
  std::vector<std::pair<size_t, size_t>> ranges;  // per pending key: [begin, end) of candidates
  std::vector<Status> find_status;                // per pending key
  std::vector<BlockSlot> slots;
  std::map<std::pair<uint64_t, uint64_t>, size_t> slot_of;  // (file number, offset) -> slot
  std::vector<size_t> still_pending;
  std::string found_key;
  for (int level = 0; level < kNumLevels && !pending.empty(); level++) {
    candidates.clear();
    candidate_slot.clear();
    ranges.clear();
    find_status.clear();
    slots.clear();
    slot_of.clear();
    for (size_t k : pending) {
      const size_t begin = candidates.size();
      find_status.push_back(FindCandidates(*v, level, lks[k], &candidates));
      ranges.emplace_back(begin, candidates.size());
    }
    if (candidates.empty() && std::all_of(find_status.begin(), find_status.end(),
                                          [](const Status& s) { return s.ok(); })) {
      continue;  // nothing in this level for any pending key
    }
    for (const BlockCandidate& c : candidates) {
      auto [it, inserted] =
          slot_of.emplace(std::make_pair(c.file->meta.number, c.handle.offset), slots.size());
      if (inserted) slots.push_back({c.file, c.handle, nullptr, Status::OK()});
      candidate_slot.push_back(it->second);
    }
    FetchBlocks(&slots, o.fill_cache);

    still_pending.clear();
    for (size_t p = 0; p < pending.size(); p++) {
      const size_t k = pending[p];
      Status& st = (*statuses)[k];
      std::string& value = (*values)[k];
      bool resolved = false;
      for (size_t c = ranges[p].first; c < ranges[p].second && !resolved; c++) {
        const BlockSlot& slot = slots[candidate_slot[c]];
        if (!slot.status.ok()) {
          st = slot.status;
          resolved = true;
          break;
        }
        bool found = false;
        Status s = Table::SearchBlock(*slot.block, slot.handle, lks[k].internal_key(), &found,
                                      &found_key, &value);
        if (!s.ok()) {
          st = s;
          resolved = true;
        } else if (found) {
          ParsedInternalKey parsed;
          if (!ParseInternalKey(found_key, &parsed)) {
            st = Status::Corruption("bad key in", slot.file->path);
          } else if (parsed.kind != ValueKind::kValue) {
            st = Status::NotFound("");
          }
          resolved = true;
        }
      }
      // FindCandidates stopped at the file whose index failed, after the
      // candidates of newer files: Get would have met the error there too.
      if (!resolved && !find_status[p].ok()) {
        st = find_status[p];
        resolved = true;
      }
      if (!resolved) {
        still_pending.push_back(k);
      } else if (!st.ok()) {
        value.clear();
      }
    }
    pending.swap(still_pending);
  }
  for (size_t k : pending) (*statuses)[k] = Status::NotFound("");
}

}  // namespace basalt::lsm
