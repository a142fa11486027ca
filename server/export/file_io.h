// Files of exports and imports: reading a source object through its
// compression (GZIP via zlib, ZSTD via libzstd, or none) in bounded chunks,
// splitting it into lines, and writing gzip-compressed data files with the
// MD5 of their bytes (what an export's manifest-files.json records).
//
// Memory: a reader holds one input chunk and one output chunk (64 KiB each)
// plus the current line (at most max_line bytes); a writer holds zlib's state
// and one 64 KiB buffer. Nothing scales with the file's size.
#pragma once

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace basalt::server::exports {

enum class Compression { kNone, kGzip, kZstd };

// A stream of bytes; Read stores 0 in *got at the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
};

// Opens `path` decompressed as `c`. A GZIP file may hold several members
// (concatenated gzip streams), a ZSTD file several frames. Corruption for
// data that does not decode.
Status OpenSource(const std::string& path, Compression c, std::unique_ptr<ByteSource>* out);
// A source over bytes in memory (tests).
std::unique_ptr<ByteSource> MemorySource(std::string bytes, Compression c);

// Lines of a source ('\n', an optional '\r' before it removed; the last line
// may lack its '\n').
class LineReader {
 public:
  LineReader(ByteSource* src, size_t max_line) : src_(src), max_line_(max_line) {}
  // *eof true (and *line empty) once the source is exhausted. A line longer
  // than max_line is InvalidArgument (the rest of the source is unread).
  Status Next(std::string* line, bool* eof);
  // Decompressed bytes consumed so far.
  uint64_t bytes() const { return bytes_; }
  // Reads one byte (the CSV reader's way through quoted newlines); false at the end.
  Status Get(char* c, bool* ok);

 private:
  Status Fill(bool* ok);
  ByteSource* src_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t bytes_ = 0;
  bool eof_ = false;
};

// Writes one gzip file (created exclusively: an existing file is an error),
// computing the MD5 of the compressed bytes. Finish flushes, fsyncs and
// closes it.
class GzipFileWriter {
 public:
  GzipFileWriter() = default;
  ~GzipFileWriter();
  GzipFileWriter(const GzipFileWriter&) = delete;
  GzipFileWriter& operator=(const GzipFileWriter&) = delete;

  Status Open(const std::string& path);
  Status Append(std::string_view data);
  // *md5_base64: base64 of the file's MD5; *size: its compressed size.
  Status Finish(std::string* md5_base64, uint64_t* size);

 private:
  Status Deflate(int flush);
  Status WriteOut(const char* p, size_t n);
  std::string path_;
  FILE* f_ = nullptr;
  z_stream z_{};
  bool z_open_ = false;
  EVP_MD_CTX* md5_ = nullptr;
  uint64_t size_ = 0;
  std::string out_;
};

// Writes `data` to a new file `path` (replacing one that exists) via a
// temporary file, fsync and rename; fsyncs the directory.
Status WriteFileDurably(const std::string& path, std::string_view data);
// base64(MD5(data)).
std::string Md5Base64(std::string_view data);
// Gzip of data in memory (tests, small files).
std::string GzipBytes(std::string_view data);
// fsync of a directory.
Status SyncDir(const std::string& dir);

}  // namespace basalt::server::exports
