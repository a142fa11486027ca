// The pread/pwrite Env: always available, and the fallback when io_uring is
// not (see env_uring.h). Also the shared pieces of env.h that do not depend
// on an implementation: RandomAccessFile::MultiRead's default,
// MultiReadFiles, the defaults of Env::NewDirectRandomAccessFile and
// Env::LinkFile, and the WriteStringToFile/ReadFileToString helpers.
//
// O_DIRECT (NewDirectRandomAccessFile): reads go through DirectPread
// (aligned bounce buffer, direct_io.h).
//
// Errors follow LevelDB's POSIX Env: ENOENT becomes NotFound, anything else
// IOError(path, strerror(errno)). Every descriptor is opened O_CLOEXEC so that
// a forked child (crash tests, tools) never inherits the DB's files or locks.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "engine/io/direct_io.h"
#include "engine/io/env.h"

namespace basalt::io {
namespace {

Status PosixError(const std::string& context, int err) {
  if (err == ENOENT) {
    return Status::NotFound(context, std::strerror(err));
  }
  return Status::IOError(context, std::strerror(err));
}

// pread until n bytes or end of file; retries EINTR and short reads.
Status PreadFully(int fd, const std::string& path, uint64_t offset, size_t n, char* scratch,
                  std::string_view* result) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, scratch + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *result = std::string_view(scratch, done);
      return PosixError(path, errno);
    }
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
  }
  *result = std::string_view(scratch, done);
  return Status::OK();
}

// An O_DIRECT read of any range (see direct_io.h): in place when aligned,
// else through an aligned bounce buffer.
Status DirectPread(int fd, const std::string& path, uint64_t offset, size_t n, char* scratch,
                   std::string_view* result) {
  *result = std::string_view(scratch, 0);
  if (n == 0) return Status::OK();
  const bool in_place = DirectReadIsAligned(offset, n, scratch);
  const AlignedRange range = in_place ? AlignedRange(offset, 0) : AlignedRange(offset, n);
  AlignedBuffer bounce;
  if (!in_place && !bounce.Allocate(range.length)) {
    return Status::IOError(path, "out of memory for an O_DIRECT read buffer");
  }
  char* buf = in_place ? scratch : bounce.data();
  const size_t len = in_place ? n : range.length;
  const uint64_t start = in_place ? offset : range.begin;
  size_t done = 0;
  while (done < len) {
    ssize_t r = ::pread(fd, buf + done, len - done, static_cast<off_t>(start + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
    if (DirectReadHitEof(done)) break;
  }
  *result = in_place ? std::string_view(scratch, done)
                     : CopyOutDirect(range, bounce.data(), done, n, scratch);
  return Status::OK();
}

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size, bool direct)
      : path_(std::move(path)), fd_(fd), size_(size), direct_(direct) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (direct_) return DirectPread(fd_, path_, offset, n, scratch, result);
    return PreadFully(fd_, path_, offset, n, scratch, result);
  }
  uint64_t Size() const override { return size_; }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;  // at open time
  const bool direct_;    // opened O_DIRECT
};

// Opens path read-only (O_DIRECT if direct) and stats it. EINVAL on an
// O_DIRECT open means the file system refuses direct I/O.
Status OpenForRandomRead(const std::string& path, bool direct, int* fd, uint64_t* size) {
  int flags = O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0);
  do {
    *fd = ::open(path.c_str(), flags);
  } while (*fd < 0 && errno == EINTR);
  if (*fd < 0) {
    if (direct && errno == EINVAL) {
      return Status::InvalidArgument(
          path, "the file system refuses O_DIRECT (EINVAL); turn off use_direct_reads");
    }
    return PosixError(path, errno);
  }
  struct stat st;
  if (::fstat(*fd, &st) != 0) {
    Status s = PosixError(path, errno);
    ::close(*fd);
    *fd = -1;
    return s;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::OK();
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, char* scratch, std::string_view* result) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::read(fd_, scratch + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = std::string_view(scratch, done);
        return PosixError(path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, done);
    return Status::OK();
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == static_cast<off_t>(-1)) {
      return PosixError(path_, errno);
    }
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

// Appends go through write(2) at the descriptor's file offset, which always
// equals pos_: WriteAt uses pwrite (which leaves the offset alone) and moves
// the offset only when it writes past pos_.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t pos)
      : path_(std::move(path)), fd_(fd), pos_(pos) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError(path_, "file already closed");
    while (!data.empty()) {
      ssize_t r = ::write(fd_, data.data(), data.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      pos_ += static_cast<uint64_t>(r);
      data.remove_prefix(static_cast<size_t>(r));
    }
    return Status::OK();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (fd_ < 0) return Status::IOError(path_, "file already closed");
    Status s;
    uint64_t end = offset;
    while (!data.empty()) {
      ssize_t r = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(end));
      if (r < 0) {
        if (errno == EINTR) continue;
        s = PosixError(path_, errno);
        break;
      }
      end += static_cast<uint64_t>(r);
      data.remove_prefix(static_cast<size_t>(r));
    }
    if (end > pos_) {
      // The write extended the file: appends continue after it.
      if (::lseek(fd_, static_cast<off_t>(end), SEEK_SET) == static_cast<off_t>(-1)) {
        if (s.ok()) s = PosixError(path_, errno);
      } else {
        pos_ = end;
      }
    }
    return s;
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError(path_, "file already closed");
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int r = ::close(fd_);
    fd_ = -1;
    // close(2) may report a deferred write error; EINTR still closed the fd.
    if (r != 0 && errno != EINTR) return PosixError(path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return pos_; }

 private:
  const std::string path_;
  int fd_;
  uint64_t pos_;
};

// Paths locked by this process. Open-file-description locks already conflict
// within one process, but the set makes the answer independent of the lock
// flavour and gives a clearer message.
std::mutex g_locks_mu;
std::set<std::string>* LockedPaths() {
  static auto* paths = new std::set<std::string>;
  return paths;
}

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFileLock() override {
    // Closing the descriptor releases the lock.
    ::close(fd_);
    std::lock_guard<std::mutex> l(g_locks_mu);
    LockedPaths()->erase(path_);
  }

 private:
  const std::string path_;
  const int fd_;
};

// F_OFD_SETLK (Linux >= 3.15) locks belong to the open file description, not
// the process: unlike F_SETLK they conflict between two opens in one process
// and are not silently dropped when some other descriptor for the same file
// (e.g. a ReadFileToString of LOCK) is closed.
#ifdef F_OFD_SETLK
constexpr int kSetLockCmd = F_OFD_SETLK;
#else
constexpr int kSetLockCmd = F_SETLK;
#endif

int OpenWritable(const std::string& path, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixEnv final : public Env {
 public:
  std::string Name() const override { return "posix"; }

  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* result) override {
    return OpenRandom(path, /*direct=*/false, result);
  }
  Status NewDirectRandomAccessFile(const std::string& path,
                                   std::unique_ptr<RandomAccessFile>* result) override {
    return OpenRandom(path, /*direct=*/true, result);
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* result) override {
    result->reset();
    int fd = OpenWritable(path, /*truncate=*/true);
    if (fd < 0) return PosixError(path, errno);
    *result = std::make_unique<PosixWritableFile>(path, fd, 0);
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& path,
                           std::unique_ptr<WritableFile>* result) override {
    result->reset();
    // Not O_APPEND: on Linux that makes pwrite ignore its offset (WriteAt).
    int fd = OpenWritable(path, /*truncate=*/false);
    if (fd < 0) return PosixError(path, errno);
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end == static_cast<off_t>(-1)) {
      Status s = PosixError(path, errno);
      ::close(fd);
      return s;
    }
    *result = std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(end));
    return Status::OK();
  }

  Status NewSequentialFile(const std::string& path,
                           std::unique_ptr<SequentialFile>* result) override {
    result->reset();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    *result = std::make_unique<PosixSequentialFile>(path, fd);
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    Status s;
    while (true) {
      errno = 0;
      struct dirent* e = ::readdir(d);
      if (e == nullptr) {
        if (errno != 0) s = PosixError(dir, errno);
        break;
      }
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names->emplace_back(e->d_name);
    }
    ::closedir(d);
    return s;
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from + " -> " + to, errno);
    return Status::OK();
  }

  Status LinkFile(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return Status::OK();
    const int err = errno;
    if (err == EXDEV || err == EPERM || err == EMLINK || err == EOPNOTSUPP) {
      return Status::NotSupported(from + " -> " + to, std::strerror(err));
    }
    return PosixError(from + " -> " + to, err);
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::OK();
    int err = errno;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
      return Status::IOError(dir, "exists and is not a directory");
    }
    return PosixError(dir, err);
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError(dir, errno);
    return Status::OK();
  }

  Status GetFileSize(const std::string& path, uint64_t* size) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      *size = 0;
      return PosixError(path, errno);
    }
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dir, errno);
    ::close(fd);
    return s;
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    lock->reset();
    std::lock_guard<std::mutex> l(g_locks_mu);
    if (LockedPaths()->count(path) != 0) {
      return Status::Busy(path, "lock already held by this process");
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    struct flock f;
    std::memset(&f, 0, sizeof(f));
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    f.l_start = 0;
    f.l_len = 0;  // the whole file
    if (::fcntl(fd, kSetLockCmd, &f) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EACCES || err == EAGAIN) {
        return Status::Busy(path, "lock held by another process");
      }
      return PosixError(path, err);
    }
    LockedPaths()->insert(path);
    *lock = std::make_unique<PosixFileLock>(path, fd);
    return Status::OK();
  }

  uint64_t NowMicros() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }

 private:
  Status OpenRandom(const std::string& path, bool direct,
                    std::unique_ptr<RandomAccessFile>* result) {
    result->reset();
    int fd = -1;
    uint64_t size = 0;
    Status s = OpenForRandomRead(path, direct, &fd, &size);
    if (!s.ok()) return s;
    *result = std::make_unique<PosixRandomAccessFile>(path, fd, size, direct);
    return Status::OK();
  }
};

}  // namespace

Status RandomAccessFile::MultiRead(ReadRequest* reqs, size_t count) const {
  Status first;
  for (size_t i = 0; i < count; i++) {
    reqs[i].status = Read(reqs[i].offset, reqs[i].n, reqs[i].scratch, &reqs[i].result);
    if (!reqs[i].status.ok() && first.ok()) first = reqs[i].status;
  }
  return first;
}

Status MultiReadFiles(FileReadRequest* reqs, size_t count) {
  // Requests on files that share a batcher go to it in one call; the rest
  // go to their file's MultiRead, one call per file (in first-seen order).
  std::map<const ReadBatcher*, std::vector<FileReadRequest*>> batched;
  std::vector<std::pair<const RandomAccessFile*, std::vector<size_t>>> by_file;
  for (size_t i = 0; i < count; i++) {
    const RandomAccessFile* f = reqs[i].file;
    if (const ReadBatcher* b = f->batcher()) {
      batched[b].push_back(&reqs[i]);
      continue;
    }
    auto it = std::find_if(by_file.begin(), by_file.end(),
                           [f](const auto& entry) { return entry.first == f; });
    if (it == by_file.end()) {
      by_file.emplace_back(f, std::vector<size_t>{i});
    } else {
      it->second.push_back(i);
    }
  }
  for (const auto& [batcher, group] : batched) batcher->ReadAll(group.data(), group.size());
  std::vector<RandomAccessFile::ReadRequest> file_reqs;
  for (const auto& [file, indexes] : by_file) {
    file_reqs.clear();
    for (size_t i : indexes) file_reqs.push_back(reqs[i].req);
    file->MultiRead(file_reqs.data(), file_reqs.size()).PermitUnchecked();  // per request below
    for (size_t j = 0; j < indexes.size(); j++) reqs[indexes[j]].req = file_reqs[j];
  }
  for (size_t i = 0; i < count; i++) {
    if (!reqs[i].req.status.ok()) return reqs[i].req.status;
  }
  return Status::OK();
}

Status Env::NewDirectRandomAccessFile(const std::string& path,
                                      std::unique_ptr<RandomAccessFile>* result) {
  result->reset();
  return Status::NotSupported(path, Name() + " env has no direct I/O");
}

Status Env::LinkFile(const std::string& from, const std::string& to) {
  return Status::NotSupported(from + " -> " + to, Name() + " env has no hard links");
}

Env* Env::Posix() {
  // Never destroyed: files may outlive static destruction order.
  static Env* env = new PosixEnv;
  return env;
}

Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync) {
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(path, &file);
  if (!s.ok()) return s;
  s = file->Append(data);
  if (s.ok() && sync) s = file->Sync();
  if (s.ok()) s = file->Close();
  file.reset();
  if (!s.ok()) env->RemoveFile(path).PermitUnchecked();  // best effort: no partial file
  return s;
}

Status ReadFileToString(Env* env, const std::string& path, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  Status s = env->NewSequentialFile(path, &file);
  if (!s.ok()) return s;
  constexpr size_t kChunk = 64 << 10;
  std::string buf(kChunk, '\0');
  while (true) {
    std::string_view got;
    s = file->Read(kChunk, buf.data(), &got);
    if (!s.ok()) break;
    data->append(got);
    if (got.size() < kChunk) break;
  }
  return s;
}

}  // namespace basalt::io
