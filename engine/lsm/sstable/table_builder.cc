// TableBuilder (table.h): writes an sstable. Byte layouts:
// docs/format/sstable.md; the reader is table.cc.

#include <cassert>
#include <string>
#include <vector>

#include "engine/base/coding.h"
#include "engine/base/page_buffer.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/block_builder.h"
#include "engine/lsm/sstable/bloom.h"
#include "engine/lsm/sstable/compression.h"
#include "engine/lsm/sstable/format.h"
#include "engine/lsm/sstable/table.h"

namespace basalt::lsm {

namespace {

// Properties block contents (format versions 1 and 2): eight varint64
// counters in TableProperties order, then the smallest and largest internal
// keys, each length-prefixed. Trailing bytes are ignored by the reader
// (DecodeProperties in table.cc; room for later fields).
void EncodeProperties(const TableProperties& p, std::string* dst) {
  PutVarint64(dst, p.num_entries);
  PutVarint64(dst, p.num_deletions);
  PutVarint64(dst, p.num_data_blocks);
  PutVarint64(dst, p.raw_key_bytes);
  PutVarint64(dst, p.raw_value_bytes);
  PutVarint64(dst, p.data_bytes);
  PutVarint64(dst, p.index_bytes);
  PutVarint64(dst, p.filter_bytes);
  PutLengthPrefixed(dst, p.smallest_key);
  PutLengthPrefixed(dst, p.largest_key);
}

}  // namespace

struct TableBuilder::Rep {
  Rep(const TableOptions& o, io::WritableFile* f, std::unique_ptr<FileCipher> c)
      : options(o),
        file(f),
        cipher(std::move(c)),
        data_block(o.block_restart_interval),
        index_block(1),
        bloom(o.bloom_bits_per_key) {}

  TableOptions options;
  io::WritableFile* file;
  std::unique_ptr<FileCipher> cipher;  // null: plain (format version 1)
  std::string sealed;                  // scratch of encrypted blocks
  uint64_t offset = 0;
  Status status;
  BlockBuilder data_block;
  BlockBuilder index_block;
  BloomFilterPolicy bloom;
  // One per distinct user key, for the filter: about 8 MiB for a 64 MiB
  // table, so in pages of its own (engine/base/page_buffer.h).
  PageVector<uint64_t> key_hashes;
  std::string last_key;
  uint64_t num_entries = 0;
  bool closed = false;

  // After a data block is written, its index entry waits for the next key
  // so the separator can be shortened against it. Invariant: true only
  // while data_block is empty.
  bool pending_index_entry = false;
  BlockHandle pending_handle;

  std::string compressed;  // scratch
  TableProperties props;

  // Writes the pending data block, if any.
  void Flush();
};

TableBuilder::TableBuilder(const TableOptions& options, io::WritableFile* file,
                           std::unique_ptr<FileCipher> cipher)
    : rep_(std::make_unique<Rep>(options, file, std::move(cipher))) {}

TableBuilder::~TableBuilder() = default;

namespace {

// Compresses (if enabled and worth it), encrypts (with a cipher) and writes
// one block.
Status WriteBlock(std::string_view raw, bool compression, io::WritableFile* file,
                  std::string* scratch, uint64_t* offset, BlockHandle* handle,
                  const FileCipher* cipher, std::string* sealed) {
  std::string_view contents;
  const CompressionType type = CompressBlock(raw, compression, scratch, &contents);
  return WriteRawBlock(file, contents, type, offset, handle, cipher, sealed);
}

}  // namespace

void TableBuilder::Add(std::string_view internal_key, std::string_view value) {
  Rep* r = rep_.get();
  assert(!r->closed);
  assert(internal_key.size() >= 8);
  assert(r->num_entries == 0 || CompareInternalKey(r->last_key, internal_key) < 0);
  if (!r->status.ok()) return;

  if (r->pending_index_entry) {
    assert(r->data_block.empty());
    std::string separator = r->last_key;
    ShortenIndexSeparator(&separator, internal_key);
    std::string handle_encoding;
    r->pending_handle.EncodeTo(&handle_encoding);
    r->index_block.Add(separator, handle_encoding);
    r->pending_index_entry = false;
  }

  const std::string_view user_key = ExtractUserKey(internal_key);
  if (r->options.bloom_bits_per_key > 0 &&
      (r->num_entries == 0 || ExtractUserKey(r->last_key) != user_key)) {
    r->key_hashes.push_back(BloomFilterPolicy::KeyHash(user_key));
  }

  TableProperties& p = r->props;
  if (r->num_entries == 0) p.smallest_key.assign(internal_key);
  p.num_entries++;
  if ((ExtractTrailer(internal_key) & 0xff) == static_cast<uint8_t>(ValueKind::kDelete)) {
    p.num_deletions++;
  }
  p.raw_key_bytes += internal_key.size();
  p.raw_value_bytes += value.size();

  r->last_key.assign(internal_key);
  r->num_entries++;
  r->data_block.Add(internal_key, value);
  if (r->data_block.CurrentSizeEstimate() >= r->options.block_size) r->Flush();
}

void TableBuilder::Rep::Flush() {
  Rep* r = this;
  if (!r->status.ok() || r->data_block.empty()) return;
  assert(!r->pending_index_entry);
  r->status = WriteBlock(r->data_block.Finish(), r->options.compression, r->file, &r->compressed,
                         &r->offset, &r->pending_handle, r->cipher.get(), &r->sealed);
  if (!r->status.ok()) return;
  r->data_block.Reset();
  r->pending_index_entry = true;
  r->props.num_data_blocks++;
  r->props.data_bytes += r->pending_handle.size + kBlockTrailerSize;
}

Status TableBuilder::status() const { return rep_->status; }

Status TableBuilder::Finish() {
  Rep* r = rep_.get();
  assert(!r->closed);
  r->Flush();
  r->closed = true;
  if (!r->status.ok()) return r->status;

  Footer footer;

  // Filter block (always stored uncompressed: bloom bits do not compress).
  if (r->options.bloom_bits_per_key > 0) {
    const std::string filter = r->bloom.CreateFilterFromHashes(r->key_hashes.span());
    r->status = WriteRawBlock(r->file, filter, CompressionType::kNone, &r->offset, &footer.filter,
                              r->cipher.get(), &r->sealed);
    if (!r->status.ok()) return r->status;
    r->props.filter_bytes = footer.filter.size + kBlockTrailerSize;
  }

  // Index block: finished first so the properties can state its size.
  if (r->pending_index_entry) {
    std::string successor = r->last_key;
    ShortenIndexSuccessor(&successor);
    std::string handle_encoding;
    r->pending_handle.EncodeTo(&handle_encoding);
    r->index_block.Add(successor, handle_encoding);
    r->pending_index_entry = false;
  }
  std::string index_scratch;
  std::string_view index_contents;
  const CompressionType index_type = CompressBlock(r->index_block.Finish(), r->options.compression,
                                                   &index_scratch, &index_contents);
  r->props.index_bytes =
      index_contents.size() + (r->cipher ? kEncryptionOverhead : 0) + kBlockTrailerSize;
  r->props.largest_key = r->last_key;

  // Properties block.
  std::string props;
  EncodeProperties(r->props, &props);
  r->status = WriteBlock(props, r->options.compression, r->file, &r->compressed, &r->offset,
                         &footer.properties, r->cipher.get(), &r->sealed);
  if (!r->status.ok()) return r->status;

  // Index block, then the footer.
  r->status = WriteRawBlock(r->file, index_contents, index_type, &r->offset, &footer.index,
                            r->cipher.get(), &r->sealed);
  if (!r->status.ok()) return r->status;
  if (r->cipher) {
    footer.format_version = kEncryptedTableFormatVersion;
    footer.file_number = r->cipher->file_number();
    r->cipher->EncodeHeader(&footer.encryption_header);
  }
  std::string footer_encoding;
  footer.EncodeTo(&footer_encoding);
  r->status = r->file->Append(footer_encoding);
  if (!r->status.ok()) return r->status;
  r->offset += footer_encoding.size();
  return Status::OK();
}

void TableBuilder::Abandon() {
  assert(!rep_->closed);
  rep_->closed = true;
}

uint64_t TableBuilder::NumEntries() const { return rep_->num_entries; }
uint64_t TableBuilder::FileSize() const { return rep_->offset; }
const TableProperties& TableBuilder::properties() const { return rep_->props; }

}  // namespace basalt::lsm
