// SSTable: an immutable sorted file of internal keys (docs/format/sstable.md).
//
//   [data block]* [filter block] [properties block] [index block] [footer]
//
// Data and index blocks hold prefix-compressed keys with restart points;
// each block is LZ4-compressed when that saves at least 1/8 of its size, and
// carries a trailer (compression type + XXH3-64 checksum). The filter is a
// bloom filter over user keys (XXH3, bits_per_key). The footer holds the
// handles of the meta blocks, the format version and the magic number.
//
// Encryption (format version 2): a TableBuilder given a FileCipher seals
// every block after compression (AES-256-GCM, format.h); Table::Open reads
// the footer's key id and needs a KeyRing holding it. The block cache holds
// decrypted, decompressed blocks; an authentication failure is Corruption
// naming the table and the block offset.
//
// Caching: a Table holds its index block, filter and properties in memory
// (pinned) from Open until it is destroyed. Data blocks are read on demand;
// with a block cache given to Open, Get and iterators look them up in (and
// add them to, unless TableReadOptions::fill_cache is false) that cache under
// (cache id, block offset). VerifyChecksums always reads from the file and
// bypasses the cache.
//
// Read-ahead (iterators, TableReadOptions::readahead_size): a data block that
// misses the cache may be served from a window of consecutive file bytes read
// with one I/O, so a scan issues one read per window instead of one per block.
// Adaptive (the default): after kAutoReadaheadSequentialReads sequential block
// reads, windows of kAutoReadaheadInitialSize doubling up to
// kAutoReadaheadMaxSize; any non-sequential block access (a Seek elsewhere, a
// backward step) starts over. Read-ahead is forward only.
//
// Thread safety: TableBuilder is single-threaded. Table is immutable after
// Open and safe for concurrent use; each iterator is single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/encryption.h"
#include "engine/base/status.h"
#include "engine/io/env.h"
#include "engine/lsm/iterator.h"
#include "engine/lsm/sstable/format.h"
#include "engine/lsm/table_options.h"

namespace basalt::lsm {

class Block;
class BlockCache;

// Adaptive read-ahead (see above): starts after this many sequential block
// reads of one iterator, with a window of the initial size, doubling per
// window up to the maximum (RocksDB's auto-readahead, with 16 KiB first).
inline constexpr int kAutoReadaheadSequentialReads = 2;
inline constexpr size_t kAutoReadaheadInitialSize = 16 << 10;
inline constexpr size_t kAutoReadaheadMaxSize = 256 << 10;

// How one reader (an iterator, a batched lookup) reads data blocks.
struct TableReadOptions {
  // Read-ahead of iterators. Unset (default): adaptive. 0: off, each block
  // miss is one read. N > 0: fixed, each read that misses the window reads N
  // bytes (at least the block) from that block on.
  std::optional<size_t> readahead_size;
  // Insert blocks read from the file into the block cache. false: blocks
  // already cached are still used, new ones are not kept (scans and
  // compaction inputs that would evict the working set). Default: true.
  bool fill_cache = true;
};

// Summary written into the properties block.
struct TableProperties {
  uint64_t num_entries = 0;
  uint64_t num_deletions = 0;
  uint64_t num_data_blocks = 0;
  uint64_t raw_key_bytes = 0;
  uint64_t raw_value_bytes = 0;
  uint64_t data_bytes = 0;  // on disk, after compression, with trailers
  uint64_t index_bytes = 0;
  uint64_t filter_bytes = 0;
  std::string smallest_key;  // internal keys
  std::string largest_key;
};

class TableBuilder {
 public:
  // file: not owned; must outlive the builder. The builder appends only.
  // cipher: null writes a plain table (format version 1); otherwise an
  // encrypted one (version 2) under that file's cipher (its file number is
  // recorded in the footer).
  TableBuilder(const TableOptions& options, io::WritableFile* file,
               std::unique_ptr<FileCipher> cipher = nullptr);
  ~TableBuilder();
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // REQUIRES: internal_key > every key added before (CompareInternalKey); not finished.
  void Add(std::string_view internal_key, std::string_view value);
  // First error seen while writing, if any.
  Status status() const;
  // Writes the remaining blocks and the footer. Does not Sync or Close the file.
  Status Finish();
  // Stops building; the caller deletes the file.
  void Abandon();

  uint64_t NumEntries() const;
  // Bytes written so far (the final file size after Finish).
  uint64_t FileSize() const;
  const TableProperties& properties() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class Table {
 public:
  // Reads the footer, index, filter and properties; checks magic, version and
  // checksums (Corruption on mismatch, naming the file). file is owned by the Table.
  // block_cache: the cache of parsed data blocks shared by readers
  // (block_cache.h); nullptr: every data block read goes to the file. DBImpl
  // passes its one cache of Options::block_cache_size bytes.
  // cache_id: this table's key in block_cache, unique among the tables
  // sharing it (DBImpl passes the file number); kNewCacheId takes a fresh one
  // from BlockCache::NewId(). Unused without a cache.
  // keys: the key ring for an encrypted (version 2) table; not used after
  // Open returns. An encrypted table without its key is InvalidArgument, a
  // failed key check Corruption. file_number: the table's number (its file
  // name), checked against an encrypted table's footer; 0: not checked.
  static constexpr uint64_t kNewCacheId = ~uint64_t{0};
  static Status Open(std::unique_ptr<io::RandomAccessFile> file, uint64_t file_size,
                     std::unique_ptr<Table>* table,
                     std::shared_ptr<BlockCache> block_cache = nullptr,
                     uint64_t cache_id = kNewCacheId, const KeyRing* keys = nullptr,
                     uint64_t file_number = 0);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // False only if the bloom filter proves user_key is absent.
  bool KeyMayMatch(std::string_view user_key) const;

  // Bytes the open table pins for its lifetime: its filter and index blocks.
  size_t MetadataMemory() const;

  // Point lookup: finds the first entry with internal key >= lookup_ikey. If
  // the bloom filter excludes the user key, or no such entry exists, or its
  // user key differs, *found = false. Otherwise copies it out, *found = true.
  Status Get(std::string_view lookup_ikey, bool* found, std::string* ikey,
             std::string* value) const;

  // The two steps of Get after the filter, for callers that find blocks
  // another way (the DB's block index, MultiGet).
  // FindDataBlock: the handle of the one data block that can hold the first
  // entry >= lookup_ikey, from the pinned index (no I/O). NotFound when
  // lookup_ikey is past the last block; Corruption for a bad index entry.
  Status FindDataBlock(std::string_view lookup_ikey, BlockHandle* handle) const;
  // GetFromBlock: Get's contract within the block at handle (read through the
  // block cache); no filter check. handle must come from this table's index.
  Status GetFromBlock(const BlockHandle& handle, std::string_view lookup_ikey, bool* found,
                      std::string* ikey, std::string* value) const;

  // Iterator over internal keys. May outlive nothing: the Table must outlive it.
  std::unique_ptr<Iterator> NewIterator(const TableReadOptions& options = TableReadOptions()) const;

  // ---- Block-level steps, for readers that do their own I/O (DB::MultiGet
  // reads the blocks of many tables in one MultiReadFiles batch) ----
  // The data block at handle if the block cache holds it (now most recently
  // used); nullptr on a miss or without a cache. No I/O.
  std::shared_ptr<const Block> LookupBlock(const BlockHandle& handle) const;
  // The file bytes that hold the block at handle (contents + trailer).
  // Corruption if the handle points past the data blocks.
  Status BlockRange(const BlockHandle& handle, uint64_t* offset, size_t* n) const;
  // Makes the block at handle from raw, the BlockRange bytes read from file():
  // checks length and checksum, decompresses, parses; with fill_cache inserts
  // it into the block cache. Corruption names the block offset.
  Status BlockFromRaw(const BlockHandle& handle, std::string_view raw, bool fill_cache,
                      std::shared_ptr<const Block>* block) const;
  // Get's contract within one data block: the first entry >= lookup_ikey if
  // its user key matches (handle only names the block in messages).
  static Status SearchBlock(const Block& block, const BlockHandle& handle,
                            std::string_view lookup_ikey, bool* found, std::string* ikey,
                            std::string* value);
  // The table's file, for reads issued outside the Table.
  const io::RandomAccessFile* file() const;

  // Iterator over the pinned index block (no I/O): one entry per data block,
  // key = its separator internal key (format.h), value = its encoded
  // BlockHandle. For building the DB's block index. The Table must outlive it.
  std::unique_ptr<Iterator> NewIndexIterator() const;

  // Approximate file offset where entries >= ikey begin (from the in-memory
  // index; no I/O): 0 before the first block, the end of the data blocks
  // after the last key.
  uint64_t ApproximateOffsetOf(std::string_view ikey) const;

  // Reads every block and checks every checksum (for `basalt-admin verify`).
  Status VerifyChecksums() const;

  const TableProperties& properties() const;
  uint64_t file_size() const;
  // 1 (plain) or 2 (encrypted); the key id of an encrypted table (else 0).
  uint32_t format_version() const;
  uint32_t key_id() const;
  // Key of this table's blocks in its block cache.
  uint64_t cache_id() const;

 private:
  Table() = default;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace basalt::lsm
