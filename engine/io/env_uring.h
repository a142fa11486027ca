// The io_uring Env (liburing) and how Env::Default() chooses between it and
// the pread/pwrite Env.
//
// What goes through io_uring: the data path. RandomAccessFile::Read and
// MultiRead (IORING_OP_READ; a MultiRead submits up to kUringQueueDepth reads
// with one io_uring_enter and keeps that many in flight for larger batches),
// MultiReadFiles over several of this Env's files (the files share one
// ReadBatcher, so reads of different files go into the same submission),
// and, with BASALT_URING_WRITES=1, WritableFile::Append/WriteAt
// (IORING_OP_WRITE) and Sync (IORING_OP_FSYNC with IORING_FSYNC_DATASYNC).
// By default writes and syncs use pwrite(2)/fdatasync(2): io_uring punts
// buffered file writes to a kernel worker, measured 6-8x slower per small WAL
// append (see env_uring.cc). Short reads and writes are resubmitted for the
// remainder. Metadata (open, rename, unlink, listing, locks, SyncDir) and
// SequentialFile use plain system calls, as in Env::Posix().
//
// O_DIRECT (NewDirectRandomAccessFile): an aligned request is read in place;
// any other goes to the ring as its aligned superset into a bounce buffer and
// is copied out (direct_io.h). A short O_DIRECT read at an unaligned length
// is end of file and is not resubmitted (the remainder's offset would be
// unaligned).
//
// Rings: one per thread, created lazily on the thread's first I/O and torn
// down at thread exit, so no locking is needed and RandomAccessFile stays
// safe for concurrent Read calls. If a thread cannot get a ring (e.g. locked
// memory limit) or its ring fails, that thread's I/O falls back to
// pread/pwrite/fdatasync; the fallback is logged once.
//
// Availability: Env::Uring() probes once (io_uring_queue_init, the READ/
// WRITE/FSYNC opcodes, and a NOP round trip) and returns nullptr when any of
// it fails, which is common in containers (seccomp: ENOSYS/EPERM) and under
// /proc/sys/kernel/io_uring_disabled. A build without liburing (CMake
// BASALT_URING=OFF, or AUTO when pkg-config finds none) compiles no io_uring
// code at all: Env::Uring() is always nullptr and UringUnavailableReason()
// says so (env_default.cc).
//
// Env::Default() (env_default.cc): io_uring when available, else posix;
// decided once at first use and logged ("io: using io_uring env (liburing)"
// or "io: io_uring unavailable (<reason>), using posix pread/pwrite env").
// The environment variable BASALT_IO overrides the choice:
//   BASALT_IO=posix   always use the pread/pwrite Env;
//   BASALT_IO=uring   (or unset, or "auto") io_uring when available.
// Any other value is logged and treated as "auto".
#pragma once

#include <string>

#include "engine/io/env.h"

namespace basalt::io {

// Submission queue entries per thread ring; also the most reads one
// MultiRead keeps in flight at once.
inline constexpr unsigned kUringQueueDepth = 64;

// Why Env::Uring() returns nullptr (the failing step and its strerror text),
// or "" when io_uring is available.
std::string UringUnavailableReason();

}  // namespace basalt::io
