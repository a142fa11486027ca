#include "server/export/file_io.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/base/base64.h"
#include "server/export/attribute_json.h"

namespace basalt::server::exports {

namespace {

constexpr size_t kChunk = 64 << 10;

Status Errno(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// Raw bytes from a file or from memory.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
};

class FileRaw : public RawSource {
 public:
  explicit FileRaw(FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  ~FileRaw() override { std::fclose(f_); }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = std::fread(buf, 1, n, f_);
    if (*got == 0 && std::ferror(f_)) return Errno("cannot read", path_);
    return Status::OK();
  }

 private:
  FILE* f_;
  std::string path_;
};

class MemRaw : public RawSource {
 public:
  explicit MemRaw(std::string b) : b_(std::move(b)) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = std::min(n, b_.size() - pos_);
    std::memcpy(buf, b_.data() + pos_, *got);
    pos_ += *got;
    return Status::OK();
  }

 private:
  std::string b_;
  size_t pos_ = 0;
};

class PlainSource : public ByteSource {
 public:
  explicit PlainSource(std::unique_ptr<RawSource> raw) : raw_(std::move(raw)) {}
  Status Read(char* buf, size_t n, size_t* got) override { return raw_->Read(buf, n, got); }

 private:
  std::unique_ptr<RawSource> raw_;
};

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<RawSource> raw) : raw_(std::move(raw)), in_(kChunk, '\0') {
    // 16 + MAX_WBITS: gzip framing only.
    ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipSource() override {
    if (ok_) inflateEnd(&z_);
  }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    if (!ok_) return Status::IOError("zlib: inflateInit2 failed");
    while (*got == 0) {
      if (z_.avail_in == 0 && !raw_eof_) {
        size_t g = 0;
        if (Status s = raw_->Read(in_.data(), in_.size(), &g); !s.ok()) return s;
        if (g == 0) raw_eof_ = true;
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(g);
      }
      if (z_.avail_in == 0 && raw_eof_) {
        if (in_member_) return Status::Corruption("truncated gzip data");
        return Status::OK();
      }
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = static_cast<uInt>(n);
      in_member_ = true;
      const int r = inflate(&z_, Z_NO_FLUSH);
      *got = n - z_.avail_out;
      if (r == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&z_);  // a following member, if any
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        return Status::Corruption("invalid gzip data");
      }
    }
    return Status::OK();
  }

 private:
  std::unique_ptr<RawSource> raw_;
  std::string in_;
  z_stream z_{};
  bool ok_ = false;
  bool raw_eof_ = false;
  bool in_member_ = false;
};

class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<RawSource> raw)
      : raw_(std::move(raw)), in_(kChunk, '\0'), d_(ZSTD_createDStream()) {
    if (d_ != nullptr) ZSTD_initDStream(d_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(d_); }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    if (d_ == nullptr) return Status::IOError("zstd: cannot create a decompression stream");
    while (*got == 0) {
      if (ib_.pos == ib_.size && !raw_eof_) {
        size_t g = 0;
        if (Status s = raw_->Read(in_.data(), in_.size(), &g); !s.ok()) return s;
        if (g == 0) raw_eof_ = true;
        ib_ = {in_.data(), g, 0};
      }
      if (ib_.pos == ib_.size && raw_eof_) {
        if (in_frame_) return Status::Corruption("truncated zstd data");
        return Status::OK();
      }
      ZSTD_outBuffer ob{buf, n, 0};
      const size_t r = ZSTD_decompressStream(d_, &ob, &ib_);
      if (ZSTD_isError(r)) return Status::Corruption("invalid zstd data: ", ZSTD_getErrorName(r));
      in_frame_ = r != 0;
      *got = ob.pos;
    }
    return Status::OK();
  }

 private:
  std::unique_ptr<RawSource> raw_;
  std::string in_;
  ZSTD_DStream* d_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  bool raw_eof_ = false;
  bool in_frame_ = false;
};

std::unique_ptr<ByteSource> Wrap(std::unique_ptr<RawSource> raw, Compression c) {
  switch (c) {
    case Compression::kGzip:
      return std::make_unique<GzipSource>(std::move(raw));
    case Compression::kZstd:
      return std::make_unique<ZstdSource>(std::move(raw));
    case Compression::kNone:
      break;
  }
  return std::make_unique<PlainSource>(std::move(raw));
}

}  // namespace

Status OpenSource(const std::string& path, Compression c, std::unique_ptr<ByteSource>* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Errno("cannot open", path);
  *out = Wrap(std::make_unique<FileRaw>(f, path), c);
  return Status::OK();
}

std::unique_ptr<ByteSource> MemorySource(std::string bytes, Compression c) {
  return Wrap(std::make_unique<MemRaw>(std::move(bytes)), c);
}

Status LineReader::Fill(bool* ok) {
  *ok = false;
  if (eof_) return Status::OK();
  buf_.resize(kChunk);
  size_t got = 0;
  if (Status s = src_->Read(buf_.data(), buf_.size(), &got); !s.ok()) return s;
  buf_.resize(got);
  pos_ = 0;
  if (got == 0) {
    eof_ = true;
    return Status::OK();
  }
  bytes_ += got;
  *ok = true;
  return Status::OK();
}

Status LineReader::Get(char* c, bool* ok) {
  if (pos_ >= buf_.size()) {
    if (Status s = Fill(ok); !s.ok() || !*ok) return s;
  }
  *c = buf_[pos_++];
  *ok = true;
  return Status::OK();
}

Status LineReader::Next(std::string* line, bool* eof) {
  line->clear();
  *eof = false;
  bool any = false;
  while (true) {
    if (pos_ >= buf_.size()) {
      bool ok = false;
      if (Status s = Fill(&ok); !s.ok()) return s;
      if (!ok) {
        *eof = !any;
        break;
      }
    }
    any = true;
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', buf_.size() - pos_);
    const size_t n = nl ? static_cast<const char*>(nl) - start : buf_.size() - pos_;
    if (line->size() + n > max_line_) {
      return Status::InvalidArgument("a line is longer than the limit of " +
                                     std::to_string(max_line_) + " bytes");
    }
    line->append(start, n);
    pos_ += n;
    if (nl) {
      pos_++;
      break;
    }
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return Status::OK();
}

GzipFileWriter::~GzipFileWriter() {
  if (z_open_) deflateEnd(&z_);
  if (f_ != nullptr) std::fclose(f_);
  if (md5_ != nullptr) EVP_MD_CTX_free(md5_);
}

Status GzipFileWriter::Open(const std::string& path) {
  path_ = path;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  f_ = fdopen(fd, "wb");
  if (f_ == nullptr) {
    ::close(fd);
    return Errno("cannot open", path);
  }
  if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::IOError("zlib: deflateInit2 failed");
  }
  z_open_ = true;
  md5_ = EVP_MD_CTX_new();
  if (md5_ == nullptr || EVP_DigestInit_ex(md5_, EVP_md5(), nullptr) != 1) {
    return Status::IOError("cannot initialise MD5");
  }
  out_.resize(kChunk);
  return Status::OK();
}

Status GzipFileWriter::WriteOut(const char* p, size_t n) {
  if (n == 0) return Status::OK();
  if (std::fwrite(p, 1, n, f_) != n) return Errno("cannot write", path_);
  EVP_DigestUpdate(md5_, p, n);
  size_ += n;
  return Status::OK();
}

Status GzipFileWriter::Deflate(int flush) {
  while (true) {
    z_.next_out = reinterpret_cast<Bytef*>(out_.data());
    z_.avail_out = static_cast<uInt>(out_.size());
    const int r = deflate(&z_, flush);
    if (r == Z_STREAM_ERROR) return Status::IOError("zlib: deflate failed");
    if (Status s = WriteOut(out_.data(), out_.size() - z_.avail_out); !s.ok()) return s;
    if (flush == Z_FINISH ? r == Z_STREAM_END : z_.avail_out != 0) return Status::OK();
  }
}

Status GzipFileWriter::Append(std::string_view data) {
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_.avail_in = static_cast<uInt>(data.size());
  return Deflate(Z_NO_FLUSH);
}

Status GzipFileWriter::Finish(std::string* md5_base64, uint64_t* size) {
  z_.next_in = nullptr;
  z_.avail_in = 0;
  if (Status s = Deflate(Z_FINISH); !s.ok()) return s;
  deflateEnd(&z_);
  z_open_ = false;
  if (std::fflush(f_) != 0 || ::fsync(fileno(f_)) != 0) return Errno("cannot sync", path_);
  std::fclose(f_);
  f_ = nullptr;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md5_, digest, &len);
  *md5_base64 = Base64Encode(std::string_view(reinterpret_cast<char*>(digest), len));
  *size = size_;
  return Status::OK();
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(digest), len));
}

std::string GzipBytes(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return Errno("cannot sync directory", dir);
  return Status::OK();
}

Status WriteFileDurably(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("cannot sync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename", tmp);
  const size_t slash = path.rfind('/');
  return SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace basalt::server::exports
