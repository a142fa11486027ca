// io_uring Env; see env_uring.h for what goes through the ring. Compiled
// only in builds with liburing (BASALT_HAVE_URING); Env::Default() is in
// env_default.cc.

#include "engine/io/env_uring.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/base/logging.h"
#include "engine/io/direct_io.h"

// ThreadSanitizer builds (BASALT_TSAN): gcc says so with __SANITIZE_THREAD__,
// clang 14 only through __has_feature.
#if defined(__SANITIZE_THREAD__)
#define BASALT_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BASALT_UNDER_TSAN 1
#endif
#endif
#ifdef BASALT_UNDER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace basalt::io {
namespace {

// One request may move at most this much; the CQE result is an int and the
// kernel caps a single read/write near 2 GiB anyway. Longer requests simply
// complete "short" and are resubmitted for the remainder.
constexpr size_t kMaxChunk = size_t{1} << 30;
// Consecutive submit attempts that make no progress before the ring is
// declared failed (only when nothing is in flight, so it is safe to stop).
constexpr int kMaxSubmitRetries = 1000;

Status ErrnoStatus(const std::string& path, int err) {
  if (err == ENOENT) return Status::NotFound(path, std::strerror(err));
  return Status::IOError(path, std::strerror(err));
}

// ---- per-thread rings ----

// liburing maps and unmaps a ring's memory with raw system calls, which
// ThreadSanitizer does not see (it learns of munmap through libc's). A ring
// mapped where an exited thread's ring was then looks like racing with that
// thread's writes to its submission entries. The kernel unmaps the old ring
// before it can map a new one at the same address; these tell TSan so, keyed
// by the mappings' addresses, so that only a ring reusing one is ordered
// after the ring that had it.
#ifdef BASALT_UNDER_TSAN
void RingUnmapping(io_uring* ring) {
  for (void* m : {ring->sq.ring_ptr, ring->cq.ring_ptr, static_cast<void*>(ring->sq.sqes)}) {
    __tsan_release(m);
  }
}
void RingMapped(io_uring* ring) {
  for (void* m : {ring->sq.ring_ptr, ring->cq.ring_ptr, static_cast<void*>(ring->sq.sqes)}) {
    __tsan_acquire(m);
  }
}
#else
void RingUnmapping(io_uring*) {}
void RingMapped(io_uring*) {}
#endif

class ThreadRing {
 public:
  ThreadRing() {
    int r = io_uring_queue_init(kUringQueueDepth, &ring_, 0);
    init_error_ = r < 0 ? -r : 0;
    if (init_error_ == 0) RingMapped(&ring_);
  }
  ~ThreadRing() {
    if (init_error_ == 0) {
      RingUnmapping(&ring_);
      io_uring_queue_exit(&ring_);
    }
  }
  ThreadRing(const ThreadRing&) = delete;
  ThreadRing& operator=(const ThreadRing&) = delete;

  io_uring* get() { return init_error_ == 0 && !broken_ ? &ring_ : nullptr; }
  int init_error() const { return init_error_; }
  // After a failed submit the ring may hold prepared entries the kernel has
  // not consumed; it must never be entered with to_submit > 0 again.
  void MarkBroken() { broken_ = true; }

 private:
  io_uring ring_;
  int init_error_ = 0;
  bool broken_ = false;
};

// Trivially destructible, so still readable while the thread exits.
thread_local ThreadRing* tls_ring = nullptr;
thread_local bool tls_ring_gone = false;

struct RingReaper {
  ~RingReaper() {
    delete tls_ring;
    tls_ring = nullptr;
    tls_ring_gone = true;
  }
};

std::atomic<bool> g_fallback_logged{false};

void LogFallbackOnce(std::string_view why) {
  if (!g_fallback_logged.exchange(true)) {
    LogInfo("io: io_uring ring unusable on a thread ({}), that thread uses pread/pwrite", why);
  }
}

// The calling thread's ring, or nullptr: the caller then uses plain syscalls.
ThreadRing* CurrentRing() {
  if (tls_ring == nullptr) {
    if (tls_ring_gone) return nullptr;  // thread (or process) is exiting
    thread_local RingReaper reaper;
    (void)reaper;
    tls_ring = new ThreadRing();
    if (tls_ring->init_error() != 0) LogFallbackOnce(std::strerror(tls_ring->init_error()));
  }
  return tls_ring->get() != nullptr ? tls_ring : nullptr;
}

// ---- running a batch of operations ----

enum class OpKind { kRead, kWrite, kSync };

struct Op {
  OpKind kind = OpKind::kRead;
  int fd = -1;
  char* buf = nullptr;  // read into / write from (writes never modify it)
  size_t len = 0;
  uint64_t offset = 0;
  // Progress.
  size_t done = 0;
  int err = 0;  // errno of the failure, 0 if none
  bool finished = false;
  bool direct = false;  // O_DIRECT read: buf, len and offset are aligned
};

// Handles one completion; returns true if the op needs another submission.
bool Complete(Op* op, int res) {
  if (res < 0) {
    if (res == -EINTR || res == -EAGAIN) return true;
    op->err = -res;
    op->finished = true;
    return false;
  }
  if (op->kind == OpKind::kSync) {
    op->finished = true;
    return false;
  }
  if (res == 0) {
    // Read: end of file. Write: no progress, which a regular file never does.
    if (op->kind == OpKind::kWrite) op->err = EIO;
    op->finished = true;
    return false;
  }
  op->done += static_cast<size_t>(res);
  if (op->done >= op->len || (op->direct && DirectReadHitEof(op->done))) {
    op->finished = true;
    return false;
  }
  return true;
}

void Prep(io_uring_sqe* sqe, Op* op) {
  size_t n = std::min(op->len - op->done, kMaxChunk);
  switch (op->kind) {
    case OpKind::kRead:
      io_uring_prep_read(sqe, op->fd, op->buf + op->done, static_cast<unsigned>(n),
                         op->offset + op->done);
      break;
    case OpKind::kWrite:
      io_uring_prep_write(sqe, op->fd, op->buf + op->done, static_cast<unsigned>(n),
                          op->offset + op->done);
      break;
    case OpKind::kSync:
      io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
      break;
  }
  io_uring_sqe_set_data(sqe, op);
}

// Runs ops on the ring with up to kUringQueueDepth in flight. Returns false if
// the ring itself failed; every op that was submitted has completed by then
// (the kernel must not touch caller buffers after we return), and ops left
// unfinished are for the caller's synchronous fallback.
bool RunOnRing(ThreadRing* tr, Op* ops, size_t count) {
  io_uring* ring = tr->get();
  std::vector<Op*> retry;
  size_t next = 0;
  unsigned in_flight = 0;    // submitted, completion not yet reaped
  unsigned unsubmitted = 0;  // prepared, not yet consumed by the kernel
  bool failed = false;
  int stuck = 0;
  while (true) {
    while (!failed && in_flight + unsubmitted < kUringQueueDepth) {
      Op* op;
      if (!retry.empty()) {
        op = retry.back();
        retry.pop_back();
      } else if (next < count) {
        op = &ops[next++];
        if (op->finished) continue;  // e.g. a zero-length read
      } else {
        break;
      }
      io_uring_sqe* sqe = io_uring_get_sqe(ring);  // cannot be full: bounded above
      Prep(sqe, op);
      unsubmitted++;
    }
    if (in_flight == 0 && (unsubmitted == 0 || failed)) break;

    if (!failed) {
      // One io_uring_enter submits the whole window and waits for all of it:
      // buffered reads mostly complete inline, so waiting for each
      // completion separately would only add system calls.
      int r = io_uring_submit_and_wait(ring, in_flight + unsubmitted);
      if (r >= 0) {
        in_flight += static_cast<unsigned>(r);
        unsubmitted -= std::min(unsubmitted, static_cast<unsigned>(r));
        if (r > 0) stuck = 0;
        if (r == 0 && in_flight == 0) stuck++;
      } else if (r == -EINTR || r == -EAGAIN || r == -EBUSY) {
        if (in_flight == 0) stuck++;
      } else {
        failed = true;
        LogFallbackOnce(std::string("io_uring_enter: ") + std::strerror(-r));
      }
      if (in_flight == 0 && stuck > kMaxSubmitRetries) {
        failed = true;
        LogFallbackOnce("io_uring_enter makes no progress");
      }
      if (in_flight == 0) continue;
    } else {
      // Wait without submitting: the prepared entries must stay unconsumed.
      io_uring_cqe* cqe;
      int r = io_uring_wait_cqe(ring, &cqe);
      if (r < 0 && r != -EINTR && r != -EAGAIN) {
        // In-flight I/O still targets caller buffers; returning would let the
        // kernel write into freed memory.
        LogInfo("io: io_uring_wait_cqe failed with I/O in flight ({}); aborting",
                std::strerror(-r));
        std::abort();
      }
    }

    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
      Op* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
      if (Complete(op, cqe->res)) retry.push_back(op);
      seen++;
    }
    io_uring_cq_advance(ring, seen);
    in_flight -= seen;
    if (seen > 0) stuck = 0;
  }
  if (failed) tr->MarkBroken();
  return !failed;
}

// Finishes ops synchronously with pread/pwrite/fdatasync, from where the ring
// left them.
void RunSync(Op* ops, size_t count) {
  for (size_t i = 0; i < count; i++) {
    Op* op = &ops[i];
    while (!op->finished) {
      ssize_t r = 0;
      size_t n = std::min(op->len - op->done, kMaxChunk);
      switch (op->kind) {
        case OpKind::kRead:
          r = ::pread(op->fd, op->buf + op->done, n, static_cast<off_t>(op->offset + op->done));
          break;
        case OpKind::kWrite:
          r = ::pwrite(op->fd, op->buf + op->done, n, static_cast<off_t>(op->offset + op->done));
          break;
        case OpKind::kSync:
          r = ::fdatasync(op->fd);
          break;
      }
      Complete(op, r < 0 ? -errno : static_cast<int>(r));
    }
  }
}

void Run(Op* ops, size_t count) {
  ThreadRing* tr = CurrentRing();
  if (tr != nullptr && RunOnRing(tr, ops, count)) return;
  RunSync(ops, count);
}

// ---- files ----

class UringRandomAccessFile;

// One read for ReadBatch: the file it targets and the caller's request.
struct FileRead {
  const UringRandomAccessFile* file;
  RandomAccessFile::ReadRequest* req;
};

// Runs reads of any of our files as one batch (see RunOnRing). O_DIRECT
// reads that are not aligned go through bounce buffers (direct_io.h).
void ReadBatch(const FileRead* reads, size_t count);

// Submits reads of several io_uring files together (MultiReadFiles).
class UringBatcher final : public ReadBatcher {
 public:
  void ReadAll(FileReadRequest* const* reqs, size_t count) const override;
};

const UringBatcher* Batcher() {
  static const UringBatcher* batcher = new UringBatcher;
  return batcher;
}

class UringRandomAccessFile final : public RandomAccessFile {
 public:
  UringRandomAccessFile(std::string path, int fd, uint64_t size, bool direct)
      : path_(std::move(path)), fd_(fd), size_(size), direct_(direct) {}
  ~UringRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    ReadRequest req;
    req.offset = offset;
    req.n = n;
    req.scratch = scratch;
    Status s = MultiRead(&req, 1);
    *result = req.result;
    return s;
  }

  Status MultiRead(ReadRequest* reqs, size_t count) const override {
    FileRead one{this, nullptr};
    std::vector<FileRead> many;
    FileRead* reads = &one;
    if (count > 1) {
      many.resize(count);
      reads = many.data();
    }
    for (size_t i = 0; i < count; i++) reads[i] = {this, &reqs[i]};
    ReadBatch(reads, count);
    for (size_t i = 0; i < count; i++) {
      if (!reqs[i].status.ok()) return reqs[i].status;
    }
    return Status::OK();
  }

  uint64_t Size() const override { return size_; }
  const ReadBatcher* batcher() const override { return Batcher(); }

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool direct() const { return direct_; }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;  // at open time
  const bool direct_;    // opened O_DIRECT
};

void ReadBatch(const FileRead* reads, size_t count) {
  // A single read (every Read call) needs no heap arrays.
  Op one_op;
  AlignedBuffer one_bounce;
  std::unique_ptr<Op[]> many_ops;
  std::unique_ptr<AlignedBuffer[]> many_bounce;
  Op* ops = &one_op;
  AlignedBuffer* bounce = &one_bounce;  // unaligned O_DIRECT reads only
  if (count > 1) {
    many_ops.reset(new Op[count]);
    many_bounce.reset(new AlignedBuffer[count]);
    ops = many_ops.get();
    bounce = many_bounce.get();
  }
  for (size_t i = 0; i < count; i++) {
    const FileRead& r = reads[i];
    Op& op = ops[i];
    op.kind = OpKind::kRead;
    op.fd = r.file->fd();
    op.buf = r.req->scratch;
    op.len = r.req->n;
    op.offset = r.req->offset;
    if (r.req->n == 0) op.finished = true;
    if (r.file->direct() && !op.finished) {
      op.direct = true;
      if (!DirectReadIsAligned(op.offset, op.len, op.buf)) {
        const AlignedRange range(r.req->offset, r.req->n);
        if (!bounce[i].Allocate(range.length)) {
          op.err = ENOMEM;
          op.finished = true;
          continue;
        }
        op.buf = bounce[i].data();
        op.len = range.length;
        op.offset = range.begin;
      }
    }
  }
  Run(ops, count);
  for (size_t i = 0; i < count; i++) {
    RandomAccessFile::ReadRequest* req = reads[i].req;
    if (bounce[i].data() != nullptr) {
      req->result = CopyOutDirect(AlignedRange(req->offset, req->n), bounce[i].data(), ops[i].done,
                                  req->n, req->scratch);
    } else {
      req->result = std::string_view(req->scratch, ops[i].done);
    }
    req->status = ops[i].err == 0 ? Status::OK() : ErrnoStatus(reads[i].file->path(), ops[i].err);
  }
}

void UringBatcher::ReadAll(FileReadRequest* const* reqs, size_t count) const {
  std::vector<FileRead> reads(count);
  for (size_t i = 0; i < count; i++) {
    // Only our files return this batcher (RandomAccessFile::batcher()).
    reads[i] = {static_cast<const UringRandomAccessFile*>(reqs[i]->file), &reqs[i]->req};
  }
  ReadBatch(reads.data(), count);
}

// Buffered writes and fdatasync go through plain system calls unless
// BASALT_URING_WRITES=1: io_uring hands a buffered file write to a kernel
// worker thread, which measured 17 us per small WAL append against 2.2 us for
// pwrite(2) (bench/micro wal_bench, durability none), and fsync through the
// ring was ~30 us slower per sync. Reads, where batching pays, use the ring.
bool UringWrites() {
  static const bool on = [] {
    const char* v = std::getenv("BASALT_URING_WRITES");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return on;
}

class UringWritableFile final : public WritableFile {
 public:
  UringWritableFile(std::string path, int fd, uint64_t pos)
      : path_(std::move(path)), fd_(fd), pos_(pos) {}
  ~UringWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    uint64_t end;
    Status s = Write(pos_, data, &end);
    pos_ = end;
    return s;
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    uint64_t end;
    Status s = Write(offset, data, &end);
    if (end > pos_) pos_ = end;
    return s;
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError(path_, "file already closed");
    if (!UringWrites()) {
      if (::fdatasync(fd_) != 0) return ErrnoStatus(path_, errno);
      return Status::OK();
    }
    Op op;
    op.kind = OpKind::kSync;
    op.fd = fd_;
    Run(&op, 1);
    return op.err == 0 ? Status::OK() : ErrnoStatus(path_, op.err);
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int r = ::close(fd_);
    fd_ = -1;
    if (r != 0 && errno != EINTR) return ErrnoStatus(path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return pos_; }

 private:
  // Writes data at offset; *end is one past the last byte written.
  Status Write(uint64_t offset, std::string_view data, uint64_t* end) {
    *end = offset;
    if (fd_ < 0) return Status::IOError(path_, "file already closed");
    if (data.empty()) return Status::OK();
    if (!UringWrites()) {
      const char* p = data.data();
      size_t left = data.size();
      while (left > 0) {
        ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(*end));
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoStatus(path_, errno);
        }
        p += n;
        left -= static_cast<size_t>(n);
        *end += static_cast<uint64_t>(n);
      }
      return Status::OK();
    }
    Op op;
    op.kind = OpKind::kWrite;
    op.fd = fd_;
    op.buf = const_cast<char*>(data.data());  // only read by the kernel
    op.len = data.size();
    op.offset = offset;
    Run(&op, 1);
    *end = offset + op.done;
    return op.err == 0 ? Status::OK() : ErrnoStatus(path_, op.err);
  }

  const std::string path_;
  int fd_;
  uint64_t pos_;
};

// ---- the Env ----

int OpenRetry(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Metadata and SequentialFile come from the posix Env; data-path files are
// opened here so their descriptors can go to the ring.
class UringEnv final : public EnvWrapper {
 public:
  UringEnv() : EnvWrapper(Env::Posix()) {}

  std::string Name() const override { return "io_uring"; }

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
    int fd = OpenRetry(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(path, errno);
    *result = std::make_unique<UringWritableFile>(path, fd, 0);
    return Status::OK();
  }

  Status NewAppendableFile(const std::string& path,
                           std::unique_ptr<WritableFile>* result) override {
    result->reset();
    // Not O_APPEND: every write is positional, at the tracked append position.
    int fd = OpenRetry(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = ErrnoStatus(path, errno);
      ::close(fd);
      return s;
    }
    *result = std::make_unique<UringWritableFile>(path, fd, static_cast<uint64_t>(st.st_size));
    return Status::OK();
  }

 private:
  Status OpenRandom(const std::string& path, bool direct,
                    std::unique_ptr<RandomAccessFile>* result) {
    result->reset();
    int fd = OpenRetry(path, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
    if (fd < 0) {
      if (direct && errno == EINVAL) {
        return Status::InvalidArgument(
            path, "the file system refuses O_DIRECT (EINVAL); turn off use_direct_reads");
      }
      return ErrnoStatus(path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = ErrnoStatus(path, errno);
      ::close(fd);
      return s;
    }
    *result = std::make_unique<UringRandomAccessFile>(path, fd, static_cast<uint64_t>(st.st_size),
                                                      direct);
    return Status::OK();
  }
};

struct UringAvailability {
  Env* env = nullptr;
  std::string reason;  // empty when env != nullptr
};

// Probes on a throwaway ring: setup, the opcodes we use, and one NOP round
// trip (catches seccomp filters that allow setup but not io_uring_enter).
std::string ProbeUring() {
  io_uring ring;
  int r = io_uring_queue_init(4, &ring, 0);
  if (r < 0) return std::string("io_uring_queue_init: ") + std::strerror(-r);
  std::string reason;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) {
    reason = "io_uring opcode probe unsupported (kernel older than 5.6)";
  } else {
    if (!io_uring_opcode_supported(probe, IORING_OP_READ) ||
        !io_uring_opcode_supported(probe, IORING_OP_WRITE) ||
        !io_uring_opcode_supported(probe, IORING_OP_FSYNC)) {
      reason = "kernel lacks IORING_OP_READ/WRITE/FSYNC";
    }
    io_uring_free_probe(probe);
  }
  if (reason.empty()) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    r = io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe = nullptr;
    if (r >= 0) r = io_uring_wait_cqe(&ring, &cqe);
    if (r < 0) {
      reason = std::string("io_uring_enter: ") + std::strerror(-r);
    } else {
      if (cqe->res < 0) reason = std::string("io_uring nop: ") + std::strerror(-cqe->res);
      io_uring_cqe_seen(&ring, cqe);
    }
  }
  io_uring_queue_exit(&ring);
  return reason;
}

const UringAvailability& Availability() {
  static const UringAvailability* a = [] {
    auto* result = new UringAvailability;
    result->reason = ProbeUring();
    if (result->reason.empty()) result->env = new UringEnv;
    return result;
  }();
  return *a;
}

}  // namespace

std::string UringUnavailableReason() { return Availability().reason; }

Env* Env::Uring() { return Availability().env; }

}  // namespace basalt::io
