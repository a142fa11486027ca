// Env: the only way the engine touches files. Everything above engine/io does
// I/O through this interface, so tests can swap in a fault-injecting Env and
// researchers can swap the I/O path (io_uring vs pread/pwrite).
//
// Thread safety: an Env is safe for concurrent use. A file object is used by
// one thread at a time unless its class comment says otherwise.
// Errors: every method returns Status; IOError messages carry the path and
// strerror text. No method throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace basalt::io {

class ReadBatcher;

// A file opened for reading from any offset. Safe for concurrent Read calls.
//
// Direct I/O (Env::NewDirectRandomAccessFile): the file bypasses the OS page
// cache. Callers still pass any offset, length and buffer: the file reads the
// enclosing kDirectIoAlignment-aligned range into an aligned buffer and
// copies the requested bytes out (one extra copy, no alignment rules leak).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch (caller-owned, >= n bytes).
  // *result points into scratch; it is shorter than n only at end of file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const = 0;

  struct ReadRequest {
    uint64_t offset = 0;
    size_t n = 0;
    char* scratch = nullptr;  // caller-owned, >= n bytes
    std::string_view result;  // out
    Status status;            // out
  };
  // Issues all reads together (io_uring submits them in one batch) and waits
  // for all. Per-request status; returns the first error, if any.
  virtual Status MultiRead(ReadRequest* reqs, size_t count) const;
  virtual uint64_t Size() const = 0;

  // For MultiReadFiles: the batcher that can submit this file's reads
  // together with reads of other files it serves (the io_uring Env's files
  // return its batcher). nullptr (the default): this file's requests go
  // through its own MultiRead. Wrappers that must see every read (fault
  // injection, counting) keep the default.
  virtual const ReadBatcher* batcher() const { return nullptr; }
};

// One request of a batch that spans files (MultiReadFiles).
struct FileReadRequest {
  const RandomAccessFile* file = nullptr;
  RandomAccessFile::ReadRequest req;
};

// Submits reads of several files as one batch. Implemented by Envs whose
// files can share one submission (io_uring: one io_uring_enter per up to
// kUringQueueDepth reads, whatever the file).
class ReadBatcher {
 public:
  virtual ~ReadBatcher() = default;
  // Issues all reads together and waits for all; sets each req.result and
  // req.status. REQUIRES: reqs[i]->file->batcher() == this for every i.
  virtual void ReadAll(FileReadRequest* const* reqs, size_t count) const = 0;
};

// Reads every request, batching across files where the files allow it:
// requests on files with the same batcher() are submitted together (io_uring:
// one batch for all of them); requests on other files go through their
// file's MultiRead, one call per file (posix: preads one by one). Results
// and statuses per request, as MultiRead; returns the first error, if any.
// Thread-safe; the files must stay open until it returns.
Status MultiReadFiles(FileReadRequest* reqs, size_t count);

// Offsets, lengths and buffers of O_DIRECT reads are multiples of this
// (the largest logical block size in common use, so it fits every device).
inline constexpr size_t kDirectIoAlignment = 4096;

// A file written by appending (WAL, SSTable, manifest). Appends are buffered
// by the OS; only Sync() makes them durable.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Writes data at offset (positional write); does not change the append
  // position unless it extends past it.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // fdatasync: every byte appended or written so far is durable on return.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far (the append position).
  virtual uint64_t Size() const = 0;
};

// A file read front to back (WAL and manifest replay).
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes; a short result means end of file.
  virtual Status Read(size_t n, char* scratch, std::string_view* result) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// An exclusive advisory lock on a file (the DB directory's LOCK file).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide default Env: io_uring when the build has it and the
  // kernel allows it, else pread/pwrite. The choice is made once, at first
  // use, and logged with the reason (env_uring.h).
  static Env* Default();
  // The pread/pwrite Env (always available).
  static Env* Posix();
  // The io_uring Env, or nullptr when io_uring is unavailable (the kernel
  // refuses it, or the build has no liburing); UringUnavailableReason() in
  // env_uring.h says why.
  static Env* Uring();

  // Short name for logs and bench headers: "io_uring", "posix", "fault(...)".
  virtual std::string Name() const = 0;

  virtual Status NewRandomAccessFile(const std::string& path,
                                     std::unique_ptr<RandomAccessFile>* result) = 0;
  // The same, opened with O_DIRECT: reads bypass the OS page cache (see
  // RandomAccessFile for alignment). InvalidArgument, naming the path, when
  // the file system refuses O_DIRECT (open fails with EINVAL, e.g. tmpfs
  // before Linux 6.6); NotSupported from Envs without direct I/O (the
  // default). No silent fallback to buffered reads: a caller that asked for
  // direct I/O (a benchmark) must know it did not get it.
  virtual Status NewDirectRandomAccessFile(const std::string& path,
                                           std::unique_ptr<RandomAccessFile>* result);
  // Creates or truncates path.
  virtual Status NewWritableFile(const std::string& path,
                                 std::unique_ptr<WritableFile>* result) = 0;
  // Opens path for appending at its end, creating it if missing.
  virtual Status NewAppendableFile(const std::string& path,
                                   std::unique_ptr<WritableFile>* result) = 0;
  virtual Status NewSequentialFile(const std::string& path,
                                   std::unique_ptr<SequentialFile>* result) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries in dir, without "." and "..".
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomically replaces to with from (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes to a second name of the file from (link(2)); to must not exist.
  // NotSupported when no hard link is possible between the two paths
  // (different file systems, a file system without hard links, the link
  // count limit) and from Envs without links (the default): the caller may
  // copy instead. Other failures: NotFound/IOError naming the path.
  virtual Status LinkFile(const std::string& from, const std::string& to);
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveDir(const std::string& dir) = 0;
  virtual Status GetFileSize(const std::string& path, uint64_t* size) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // fsync on the directory, so created/renamed/removed entries are durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock; Busy if another process (or this one) holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;

  virtual uint64_t NowMicros() = 0;
};

// Forwards every call to a target Env; subclasses override what they change.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  std::string Name() const override { return target_->Name(); }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* r) override {
    return target_->NewRandomAccessFile(p, r);
  }
  Status NewDirectRandomAccessFile(const std::string& p,
                                   std::unique_ptr<RandomAccessFile>* r) override {
    return target_->NewDirectRandomAccessFile(p, r);
  }
  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* r) override {
    return target_->NewWritableFile(p, r);
  }
  Status NewAppendableFile(const std::string& p, std::unique_ptr<WritableFile>* r) override {
    return target_->NewAppendableFile(p, r);
  }
  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* r) override {
    return target_->NewSequentialFile(p, r);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override {
    return target_->GetChildren(d, n);
  }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return target_->RenameFile(f, t);
  }
  Status LinkFile(const std::string& f, const std::string& t) override {
    return target_->LinkFile(f, t);
  }
  Status CreateDirIfMissing(const std::string& d) override {
    return target_->CreateDirIfMissing(d);
  }
  Status RemoveDir(const std::string& d) override { return target_->RemoveDir(d); }
  Status GetFileSize(const std::string& p, uint64_t* s) override {
    return target_->GetFileSize(p, s);
  }
  Status TruncateFile(const std::string& p, uint64_t s) override {
    return target_->TruncateFile(p, s);
  }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Status LockFile(const std::string& p, std::unique_ptr<FileLock>* l) override {
    return target_->LockFile(p, l);
  }
  uint64_t NowMicros() override { return target_->NowMicros(); }

 private:
  Env* target_;
};

// Helpers built on the interface.
Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync);
Status ReadFileToString(Env* env, const std::string& path, std::string* data);

}  // namespace basalt::io
