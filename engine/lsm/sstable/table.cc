// Table (table.h): reads an sstable. Byte layouts: docs/format/sstable.md;
// the writer is table_builder.cc.

#include "engine/lsm/sstable/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <optional>
#include <vector>

#include "engine/base/coding.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/block.h"
#include "engine/lsm/sstable/block_buffer.h"
#include "engine/lsm/sstable/bloom.h"
#include "engine/lsm/sstable/format.h"

namespace basalt::lsm {

namespace {

// Properties block contents: see EncodeProperties (table_builder.cc).
bool DecodeProperties(std::string_view in, TableProperties* p) {
  std::string_view smallest, largest;
  if (!GetVarint64(&in, &p->num_entries) || !GetVarint64(&in, &p->num_deletions) ||
      !GetVarint64(&in, &p->num_data_blocks) || !GetVarint64(&in, &p->raw_key_bytes) ||
      !GetVarint64(&in, &p->raw_value_bytes) || !GetVarint64(&in, &p->data_bytes) ||
      !GetVarint64(&in, &p->index_bytes) || !GetVarint64(&in, &p->filter_bytes) ||
      !GetLengthPrefixed(&in, &smallest) || !GetLengthPrefixed(&in, &largest)) {
    return false;
  }
  p->smallest_key.assign(smallest);
  p->largest_key.assign(largest);
  return true;
}

// Adds "(what)" to a Corruption from a block iterator, whose offsets are
// relative to the block; other statuses pass unchanged.
Status WithContext(const Status& s, std::string_view what) {
  if (!s.IsCorruption()) return s;
  return Status::Corruption(fmt::format("{} ({})", s.message(), what));
}

std::string DataBlockContext(const BlockHandle& h) {
  return fmt::format("data block at offset {}", h.offset);
}

// Reads and parses a data block.
Status ReadDataBlock(const io::RandomAccessFile* file, uint64_t limit, const BlockHandle& handle,
                     const FileCipher* cipher, std::unique_ptr<Block>* block) {
  BlockBuffer contents;
  Status s = ReadBlock(file, limit, handle, &contents, cipher);
  if (!s.ok()) return s;
  auto b = std::make_unique<Block>(std::move(contents));
  if (!b->status().ok()) return WithContext(b->status(), DataBlockContext(handle));
  *block = std::move(b);
  return Status::OK();
}

// Parses a data block from raw (BlockReadRange) bytes.
Status DataBlockFromRaw(const BlockHandle& handle, std::string_view raw, const FileCipher* cipher,
                        std::unique_ptr<Block>* block) {
  BlockBuffer contents;
  Status s = DecodeBlock(handle, raw, &contents, cipher);
  if (!s.ok()) return s;
  auto b = std::make_unique<Block>(std::move(contents));
  if (!b->status().ok()) return WithContext(b->status(), DataBlockContext(handle));
  *block = std::move(b);
  return Status::OK();
}

// Read-ahead for one iterator (see table.h): keeps one window of consecutive
// file bytes and serves data block reads from it. Single-threaded, like the
// iterator that owns it.
class BlockPrefetcher {
 public:
  // readahead: TableReadOptions::readahead_size (unset: adaptive; 0: off).
  BlockPrefetcher(const io::RandomAccessFile* file, uint64_t data_limit,
                  std::optional<size_t> readahead)
      : file_(file),
        data_limit_(data_limit),
        adaptive_(!readahead.has_value()),
        fixed_(readahead.value_or(0)) {}

  // Called for every data block the iterator moves to, cached or not, so a
  // scan over cached blocks still counts as sequential.
  void NoteAccess(const BlockHandle& h) {
    const uint64_t end = h.offset + h.size + kBlockTrailerSize;
    if (run_ > 0 && h.offset == prev_end_) {
      run_++;
    } else {
      run_ = 1;
      window_ = kAutoReadaheadInitialSize;
    }
    prev_end_ = end;
  }

  // If read-ahead serves the block at h (already in the window, or the policy
  // reads a new window from h now), sets *raw to its BlockReadRange bytes
  // (valid until the next call) and *served = true. Otherwise *served =
  // false and the caller reads the block alone.
  Status TryRead(const BlockHandle& h, std::string_view* raw, bool* served) {
    *served = false;
    uint64_t offset = 0;
    size_t n = 0;
    Status s = BlockReadRange(data_limit_, h, &offset, &n);
    if (!s.ok()) return s;
    if (offset >= buf_offset_ && offset + n <= buf_offset_ + buf_len_) {
      *raw = std::string_view(buf_.data() + (offset - buf_offset_), n);
      *served = true;
      return Status::OK();
    }
    size_t window;
    if (adaptive_) {
      if (run_ <= kAutoReadaheadSequentialReads) return Status::OK();
      window = window_;
      window_ = std::min(window_ * 2, kAutoReadaheadMaxSize);
    } else {
      if (fixed_ == 0) return Status::OK();
      window = fixed_;
    }
    // Never past the data: the window ends at the footer at the latest.
    const size_t len =
        static_cast<size_t>(std::min<uint64_t>(std::max(window, n), data_limit_ - offset));
    if (len > buf_.size()) buf_ = BlockBuffer(len);  // the old window is not kept
    buf_len_ = 0;
    std::string_view got;
    s = file_->Read(offset, len, buf_.data(), &got);
    if (!s.ok()) return s;
    if (got.data() != buf_.data()) std::memcpy(buf_.data(), got.data(), got.size());
    buf_offset_ = offset;
    buf_len_ = got.size();
    *raw = std::string_view(buf_.data(), std::min(n, buf_len_));  // short: DecodeBlock says so
    *served = true;
    return Status::OK();
  }

 private:
  const io::RandomAccessFile* const file_;
  const uint64_t data_limit_;
  const bool adaptive_;
  const size_t fixed_;  // fixed window bytes; 0 (and !adaptive_): off
  // The window: file bytes [buf_offset_, buf_offset_ + buf_len_).
  // Up to 256 KiB pooled per thread; compaction's 2 MiB windows in pages of
  // their own (block_buffer.h).
  BlockBuffer buf_;
  uint64_t buf_offset_ = 0;
  size_t buf_len_ = 0;
  // Access pattern (adaptive): blocks in the current sequential run, where
  // the last block ended, and the next window's size.
  int run_ = 0;
  uint64_t prev_end_ = 0;
  size_t window_ = kAutoReadaheadInitialSize;
};

// Data blocks are cached as Blocks under their table's cache id, charged
// the memory of their uncompressed contents (block_cache.h: the cache itself
// is untyped).
void CacheBlock(BlockCache* cache, uint64_t cache_id, const BlockHandle& handle,
                const std::shared_ptr<const Block>& block) {
  cache->Insert(cache_id, handle.offset, block, block->memory_usage());
}

// Reads a data block through the cache, if any: a hit returns the cached
// block; a miss reads (through prefetcher's window when it has or takes one),
// parses and, with fill_cache, inserts it. Failed reads are not cached.
Status ReadDataBlockCached(const io::RandomAccessFile* file, uint64_t limit,
                           const FileCipher* cipher, BlockCache* cache, uint64_t cache_id,
                           const BlockHandle& handle, bool fill_cache, BlockPrefetcher* prefetcher,
                           std::shared_ptr<const Block>* block) {
  if (prefetcher != nullptr) prefetcher->NoteAccess(handle);
  if (cache != nullptr) {
    *block = cache->Lookup<Block>(cache_id, handle.offset);
    if (*block != nullptr) return Status::OK();
  }
  std::unique_ptr<Block> b;
  bool served = false;
  Status s;
  if (prefetcher != nullptr) {
    std::string_view raw;
    s = prefetcher->TryRead(handle, &raw, &served);
    if (s.ok() && served) s = DataBlockFromRaw(handle, raw, cipher, &b);
  }
  if (s.ok() && !served) s = ReadDataBlock(file, limit, handle, cipher, &b);
  if (!s.ok()) return s;
  *block = std::shared_ptr<const Block>(std::move(b));
  if (cache != nullptr && fill_cache) CacheBlock(cache, cache_id, handle, *block);
  return Status::OK();
}

Status DecodeIndexValue(std::string_view value, BlockHandle* handle) {
  if (!handle->DecodeFrom(&value) || !value.empty()) {
    return Status::Corruption("sstable: bad block handle in index block");
  }
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------------------
// Table

struct Table::Rep {
  std::shared_ptr<BlockCache> block_cache;  // may be null
  std::unique_ptr<io::RandomAccessFile> file;
  std::unique_ptr<FileCipher> cipher;  // null: a plain (version 1) table
  uint64_t file_size = 0;
  uint64_t data_limit = 0;  // start of the footer: no block extends past it
  Footer footer;
  TableProperties props;
  bool has_filter = false;
  BlockBuffer filter;                  // large ones in pages of their own (block_buffer.h)
  std::unique_ptr<Block> index_block;  // whole, parsed, in memory
  uint64_t cache_id = 0;
};

namespace {

// Reads a meta block (filter, properties, index); Corruption names it.
// Contents: std::string, or BlockBuffer for a block that becomes a Block.
template <typename Contents>
Status ReadMetaBlock(const io::RandomAccessFile* file, uint64_t limit, const FileCipher* cipher,
                     const BlockHandle& handle, std::string_view name, Contents* contents) {
  Status s = ReadBlock(file, limit, handle, contents, cipher);
  return WithContext(s, fmt::format("{} block", name));
}

// Two-level iterator: the index block's iterator picks a data block, read on
// demand, whose iterator yields the entries. Errors are sticky and end
// iteration.
class TableIterator final : public Iterator {
 public:
  TableIterator(const io::RandomAccessFile* file, uint64_t data_limit, const FileCipher* cipher,
                const Block* index, BlockCache* cache, uint64_t cache_id,
                const TableReadOptions& options)
      : file_(file),
        data_limit_(data_limit),
        cipher_(cipher),
        cache_(cache),
        cache_id_(cache_id),
        fill_cache_(options.fill_cache),
        prefetcher_(file, data_limit, options.readahead_size),
        index_iter_(index, KeyOrder::kInternal) {}

  bool Valid() const override { return data_iter_.has_value() && data_iter_->Valid(); }
  void SeekToFirst() override {
    if (!status_.ok()) return;
    index_iter_.SeekToFirst();
    if (InitDataBlock()) data_iter_->SeekToFirst();
    SkipEmptyDataBlocksForward();
  }
  void SeekToLast() override {
    if (!status_.ok()) return;
    index_iter_.SeekToLast();
    if (InitDataBlock()) data_iter_->SeekToLast();
    SkipEmptyDataBlocksBackward();
  }
  void Seek(std::string_view target) override {
    if (!status_.ok()) return;
    index_iter_.Seek(target);
    if (InitDataBlock()) data_iter_->Seek(target);
    SkipEmptyDataBlocksForward();
  }
  void Next() override {
    assert(Valid());
    data_iter_->Next();
    SkipEmptyDataBlocksForward();
  }
  void Prev() override {
    assert(Valid());
    data_iter_->Prev();
    SkipEmptyDataBlocksBackward();
  }
  std::string_view key() const override { return data_iter_->key(); }
  std::string_view value() const override { return data_iter_->value(); }
  Status status() const override {
    if (!status_.ok()) return status_;
    if (!index_iter_.status().ok()) return WithContext(index_iter_.status(), "index block");
    if (data_iter_.has_value() && !data_iter_->status().ok()) {
      return WithContext(data_iter_->status(), DataBlockContext(data_handle_));
    }
    return Status::OK();
  }

 private:
  void SetError(Status s) {
    if (status_.ok()) status_ = std::move(s);
    ResetData();
  }
  void ResetData() {
    data_iter_.reset();
    data_block_.reset();
  }

  // Points data_iter_ at the block index_iter_ is on (unpositioned). False
  // if index_iter_ is exhausted or on error (then data_iter_ is empty).
  bool InitDataBlock() {
    if (!index_iter_.Valid()) {
      if (!index_iter_.status().ok()) {
        SetError(WithContext(index_iter_.status(), "index block"));
      }
      ResetData();
      return false;
    }
    BlockHandle handle;
    Status s = DecodeIndexValue(index_iter_.value(), &handle);
    if (!s.ok()) {
      SetError(std::move(s));
      return false;
    }
    if (data_iter_.has_value() && handle.offset == data_handle_.offset &&
        handle.size == data_handle_.size) {
      return true;  // already loaded
    }
    ResetData();
    s = ReadDataBlockCached(file_, data_limit_, cipher_, cache_, cache_id_, handle, fill_cache_,
                            &prefetcher_, &data_block_);
    if (!s.ok()) {
      SetError(std::move(s));
      return false;
    }
    data_handle_ = handle;
    data_iter_.emplace(data_block_.get(), KeyOrder::kInternal);
    return true;
  }

  // True if data_iter_ has no error; otherwise records it and returns false.
  bool CheckDataStatus() {
    if (data_iter_.has_value() && !data_iter_->status().ok()) {
      SetError(WithContext(data_iter_->status(), DataBlockContext(data_handle_)));
      return false;
    }
    return true;
  }

  void SkipEmptyDataBlocksForward() {
    while (!Valid()) {
      if (!status_.ok() || !CheckDataStatus()) return;
      if (!index_iter_.Valid()) {
        InitDataBlock();  // records an index error, if any, and clears the data
        return;
      }
      index_iter_.Next();
      if (!InitDataBlock()) return;
      data_iter_->SeekToFirst();
    }
  }

  void SkipEmptyDataBlocksBackward() {
    while (!Valid()) {
      if (!status_.ok() || !CheckDataStatus()) return;
      if (!index_iter_.Valid()) {
        InitDataBlock();
        return;
      }
      index_iter_.Prev();
      if (!InitDataBlock()) return;
      data_iter_->SeekToLast();
    }
  }

  const io::RandomAccessFile* const file_;
  const uint64_t data_limit_;
  const FileCipher* const cipher_;  // null: plain
  BlockCache* const cache_;         // may be null
  const uint64_t cache_id_;
  const bool fill_cache_;
  BlockPrefetcher prefetcher_;
  BlockIterator index_iter_;
  std::shared_ptr<const Block> data_block_;  // keeps the block alive past eviction
  std::optional<BlockIterator> data_iter_;   // over *data_block_
  BlockHandle data_handle_;
  Status status_;
};

}  // namespace

namespace {

// Reads and decodes the footer of a table of file_size bytes.
Status ReadFooter(const io::RandomAccessFile* file, uint64_t file_size, Footer* footer) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(file_size, Footer::kMaxEncodedLength));
  char buf[Footer::kMaxEncodedLength];
  std::string_view tail;
  Status s = file->Read(file_size - n, n, buf, &tail);
  if (!s.ok()) return s;
  if (tail.size() != n) {
    return Status::Corruption(
        fmt::format("sstable: short footer read ({} bytes; file truncated?)", tail.size()));
  }
  return footer->DecodeFrom(tail);
}

}  // namespace

Status Table::Open(std::unique_ptr<io::RandomAccessFile> file, uint64_t file_size,
                   std::unique_ptr<Table>* table, std::shared_ptr<BlockCache> block_cache,
                   uint64_t cache_id, const KeyRing* keys, uint64_t file_number) {
  table->reset();
  if (file == nullptr) return Status::InvalidArgument("sstable: no file");
  if (file_size < Footer::kEncodedLength) {
    return Status::Corruption(
        fmt::format("sstable: file is {} bytes, shorter than the {}-byte footer (truncated?)",
                    file_size, Footer::kEncodedLength));
  }

  auto rep = std::make_unique<Rep>();
  rep->block_cache = std::move(block_cache);
  rep->file_size = file_size;
  rep->cache_id = cache_id;
  if (cache_id == kNewCacheId && rep->block_cache != nullptr) {
    rep->cache_id = rep->block_cache->NewId();
  }

  Status s = ReadFooter(file.get(), file_size, &rep->footer);
  if (!s.ok()) return s;
  rep->data_limit = file_size - rep->footer.encoded_length();
  if (rep->footer.format_version == kEncryptedTableFormatVersion) {
    const uint64_t number = rep->footer.file_number;
    if (file_number != 0 && file_number != number) {
      return Status::Corruption(fmt::format(
          "sstable: the footer names table {} but this is table {} (file renamed or copied?)",
          number, file_number));
    }
    s = FileCipher::ForExistingFile(keys, EncryptedFileKind::kTable, number,
                                    rep->footer.encryption_header,
                                    fmt::format("sstable {:06}.sst", number), &rep->cipher);
    if (!s.ok()) return s;
  }
  const FileCipher* cipher = rep->cipher.get();

  BlockBuffer index;  // becomes the Block without a copy
  s = ReadMetaBlock(file.get(), rep->data_limit, cipher, rep->footer.index, "index", &index);
  if (!s.ok()) return s;
  rep->index_block = std::make_unique<Block>(std::move(index));
  if (!rep->index_block->status().ok()) {
    return WithContext(rep->index_block->status(), "index block");
  }

  std::string contents;
  s = ReadMetaBlock(file.get(), rep->data_limit, cipher, rep->footer.properties, "properties",
                    &contents);
  if (!s.ok()) return s;
  if (!DecodeProperties(contents, &rep->props)) {
    return Status::Corruption(
        fmt::format("sstable: bad properties block at offset {}", rep->footer.properties.offset));
  }

  if (rep->footer.filter.size > 0) {
    s = ReadMetaBlock(file.get(), rep->data_limit, cipher, rep->footer.filter, "filter",
                      &rep->filter);
    if (!s.ok()) return s;
    rep->has_filter = true;
  }

  rep->file = std::move(file);
  table->reset(new Table());
  (*table)->rep_ = std::move(rep);
  return Status::OK();
}

Table::~Table() = default;

size_t Table::MetadataMemory() const {
  return rep_->filter.capacity() + rep_->index_block->memory_usage();
}

bool Table::KeyMayMatch(std::string_view user_key) const {
  return !rep_->has_filter || BloomFilterPolicy::KeyMayMatch(user_key, rep_->filter.view());
}

Status Table::Get(std::string_view lookup_ikey, bool* found, std::string* ikey,
                  std::string* value) const {
  *found = false;
  if (!KeyMayMatch(ExtractUserKey(lookup_ikey))) return Status::OK();
  BlockHandle handle;
  Status s = FindDataBlock(lookup_ikey, &handle);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  return GetFromBlock(handle, lookup_ikey, found, ikey, value);
}

Status Table::FindDataBlock(std::string_view lookup_ikey, BlockHandle* handle) const {
  BlockIterator index_iter(rep_->index_block.get(), KeyOrder::kInternal);
  index_iter.Seek(lookup_ikey);
  if (!index_iter.Valid()) {
    Status s = WithContext(index_iter.status(), "index block");
    return s.ok() ? Status::NotFound("") : s;
  }
  return DecodeIndexValue(index_iter.value(), handle);
}

Status Table::GetFromBlock(const BlockHandle& handle, std::string_view lookup_ikey, bool* found,
                           std::string* ikey, std::string* value) const {
  *found = false;
  std::shared_ptr<const Block> block;
  Status s = ReadDataBlockCached(rep_->file.get(), rep_->data_limit, rep_->cipher.get(),
                                 rep_->block_cache.get(), rep_->cache_id, handle,
                                 /*fill_cache=*/true, /*prefetcher=*/nullptr, &block);
  if (!s.ok()) return s;
  return SearchBlock(*block, handle, lookup_ikey, found, ikey, value);
}

std::shared_ptr<const Block> Table::LookupBlock(const BlockHandle& handle) const {
  BlockCache* cache = rep_->block_cache.get();
  return cache != nullptr ? cache->Lookup<Block>(rep_->cache_id, handle.offset) : nullptr;
}

Status Table::BlockRange(const BlockHandle& handle, uint64_t* offset, size_t* n) const {
  return BlockReadRange(rep_->data_limit, handle, offset, n);
}

Status Table::BlockFromRaw(const BlockHandle& handle, std::string_view raw, bool fill_cache,
                           std::shared_ptr<const Block>* block) const {
  std::unique_ptr<Block> b;
  Status s = DataBlockFromRaw(handle, raw, rep_->cipher.get(), &b);
  if (!s.ok()) return s;
  *block = std::shared_ptr<const Block>(std::move(b));
  BlockCache* cache = rep_->block_cache.get();
  if (cache != nullptr && fill_cache) CacheBlock(cache, rep_->cache_id, handle, *block);
  return Status::OK();
}

const io::RandomAccessFile* Table::file() const { return rep_->file.get(); }

Status Table::SearchBlock(const Block& block, const BlockHandle& handle,
                          std::string_view lookup_ikey, bool* found, std::string* ikey,
                          std::string* value) {
  *found = false;
  BlockIterator it(&block, KeyOrder::kInternal);
  it.Seek(lookup_ikey);
  // If the block holds no key >= lookup_ikey, neither does the next block
  // hold one with this user key: the index key separates them (format.h).
  if (!it.Valid()) return WithContext(it.status(), DataBlockContext(handle));
  if (ExtractUserKey(it.key()) == ExtractUserKey(lookup_ikey)) {
    ikey->assign(it.key());
    value->assign(it.value());
    *found = true;
  }
  return Status::OK();
}

uint64_t Table::ApproximateOffsetOf(std::string_view ikey) const {
  BlockIterator index_iter(rep_->index_block.get(), KeyOrder::kInternal);
  index_iter.Seek(ikey);
  BlockHandle handle;
  if (index_iter.Valid() && DecodeIndexValue(index_iter.value(), &handle).ok()) {
    return handle.offset;
  }
  return rep_->data_limit;  // past the last key (or an unreadable index entry)
}

std::unique_ptr<Iterator> Table::NewIterator(const TableReadOptions& options) const {
  return std::make_unique<TableIterator>(rep_->file.get(), rep_->data_limit, rep_->cipher.get(),
                                         rep_->index_block.get(), rep_->block_cache.get(),
                                         rep_->cache_id, options);
}

std::unique_ptr<Iterator> Table::NewIndexIterator() const {
  return rep_->index_block->NewIterator(KeyOrder::kInternal);
}

Status Table::VerifyChecksums() const {
  const Rep* r = rep_.get();
  const io::RandomAccessFile* file = r->file.get();

  // Footer and meta blocks, re-read from the file.
  const FileCipher* cipher = r->cipher.get();
  Footer footer;
  Status s = ReadFooter(file, r->file_size, &footer);
  if (!s.ok()) return s;
  if (footer.format_version != r->footer.format_version ||
      footer.encryption_header != r->footer.encryption_header) {
    return Status::Corruption("sstable: the footer changed since the table was opened");
  }
  std::string contents;
  if (footer.filter.size > 0) {
    s = ReadMetaBlock(file, r->data_limit, cipher, footer.filter, "filter", &contents);
    if (!s.ok()) return s;
  }
  s = ReadMetaBlock(file, r->data_limit, cipher, footer.properties, "properties", &contents);
  if (!s.ok()) return s;
  s = ReadMetaBlock(file, r->data_limit, cipher, footer.index, "index", &contents);
  if (!s.ok()) return s;
  Block index(std::move(contents));
  if (!index.status().ok()) return WithContext(index.status(), "index block");

  // Every data block: checksum, decompression, entry structure, key order.
  uint64_t entries = 0;
  uint64_t blocks = 0;
  std::string prev_key;
  BlockIterator index_iter(&index, KeyOrder::kInternal);
  for (index_iter.SeekToFirst(); index_iter.Valid(); index_iter.Next()) {
    BlockHandle handle;
    s = DecodeIndexValue(index_iter.value(), &handle);
    if (!s.ok()) return s;
    std::unique_ptr<Block> block;
    s = ReadDataBlock(file, r->data_limit, handle, cipher, &block);
    if (!s.ok()) return s;
    blocks++;
    BlockIterator it(block.get(), KeyOrder::kInternal);
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      if (entries > 0 && CompareInternalKey(prev_key, it.key()) >= 0) {
        return Status::Corruption(
            fmt::format("sstable: keys out of order in data block at offset {}", handle.offset));
      }
      if (CompareInternalKey(it.key(), index_iter.key()) > 0) {
        return Status::Corruption(fmt::format(
            "sstable: key beyond its index entry in data block at offset {}", handle.offset));
      }
      prev_key.assign(it.key());
      entries++;
    }
    if (!it.status().ok()) return WithContext(it.status(), DataBlockContext(handle));
  }
  if (!index_iter.status().ok()) return WithContext(index_iter.status(), "index block");
  if (entries != r->props.num_entries || blocks != r->props.num_data_blocks) {
    return Status::Corruption(
        fmt::format("sstable: properties say {} entries in {} blocks, data blocks hold {} in {}",
                    r->props.num_entries, r->props.num_data_blocks, entries, blocks));
  }
  return Status::OK();
}

const TableProperties& Table::properties() const { return rep_->props; }
uint64_t Table::file_size() const { return rep_->file_size; }
uint32_t Table::format_version() const { return rep_->footer.format_version; }
uint32_t Table::key_id() const { return rep_->cipher ? rep_->cipher->key_id() : 0; }
uint64_t Table::cache_id() const { return rep_->cache_id; }

}  // namespace basalt::lsm
