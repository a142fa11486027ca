// FaultEnv: an Env for reliability tests. Wraps any Env and adds
//   - injected errors: fail the Nth write, sync or read from now on;
//   - a simulated crash: DropUnsyncedData() cuts every file written through
//     this Env back to the bytes its last successful Sync() made durable;
//   - corruption: CorruptByte() flips one byte of a file in place;
//   - counters of writes, syncs and reads.
// Random-access files are wrapped too, so every read (each request of a
// MultiRead or MultiReadFiles batch counts as one) passes the fault check; the
// wrapper has no ReadBatcher, so MultiReadFiles sends its requests through the
// wrapped file's MultiRead (batched per file, not across files).
// Modelled on the fault-injection Env of LevelDB's crash tests
// (FaultInjectionTestEnv).
//
// What the crash model covers: file contents appended or written past the
// synced length. What it does not: directory entries (a created, renamed or
// removed file stays so after the "crash", synced directory or not), and a
// WriteAt that overwrites bytes below the synced length (it survives).
//
// Thread safety: safe for concurrent use, like any Env. DropUnsyncedData() is
// atomic with respect to writes and syncs: each one happens entirely before or
// entirely after the crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/io/env.h"

namespace basalt::io {

class FaultEnv : public EnvWrapper {
 public:
  // target is not owned and must outlive this Env.
  explicit FaultEnv(Env* target);
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  // "fault(<target name>)".
  std::string Name() const override;

  // Random-access files are wrapped so reads can fail on request and are counted.
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* result) override;
  Status NewDirectRandomAccessFile(const std::string& path,
                                   std::unique_ptr<RandomAccessFile>* result) override;
  // Writable files are wrapped so their writes and syncs are tracked.
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* result) override;
  // An existing file not yet tracked counts as fully synced at its current size.
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* result) override;
  // These keep the tracking in step with the file system.
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;

  // ---- injected errors ----
  // Arms a one-shot failure: the n-th (1-based, counted from this call)
  // Append or WriteAt on a matching file returns
  // IOError("<path>: injected write error") and writes nothing; later writes
  // succeed again. n <= 0 disarms. Re-arming replaces the previous count.
  void FailNthWrite(int n);
  // Same for Sync: the n-th matching Sync returns
  // IOError("<path>: injected sync error") and makes nothing durable.
  void FailNthSync(int n);
  // Same for reads of random-access files: the n-th matching read request
  // (Read, or one request of a MultiRead) fails with
  // IOError("<path>: injected read error") and reads nothing.
  void FailNthRead(int n);
  // Only files whose path contains substring count toward (and can receive)
  // FailNthWrite/FailNthSync/FailNthRead, e.g. ".log" for the WAL or ".sst".
  // "" (the default) matches every file.
  void SetFailPathSubstring(std::string substring);

  // ---- simulated crash ----
  // Truncates every file written through this Env to the length its last
  // successful Sync() made durable (a file created and never synced becomes
  // empty). Every WritableFile opened before the call is dead afterwards: its
  // operations, Close() included, return IOError("<path>: file closed by
  // simulated crash"). Files opened after the call work normally. Returns the
  // first truncation error; a tracked file that no longer exists is skipped.
  Status DropUnsyncedData();

  // ---- corruption ----
  // Flips all bits of the byte at offset in path, in place, and syncs it.
  // InvalidArgument if offset is past the end of the file. Usually called
  // with the target Env; through a FaultEnv the write counts like any other.
  static Status CorruptByte(Env* env, const std::string& path, uint64_t offset);

  // ---- counters (since construction or ResetCounters) ----
  // Append/WriteAt calls that reached the target (injected failures and
  // writes to dead files are not counted), on any file.
  uint64_t write_count() const { return writes_.load(std::memory_order_relaxed); }
  // Sync calls that reached the target, on any file.
  uint64_t sync_count() const { return syncs_.load(std::memory_order_relaxed); }
  // Read requests that reached the target (injected failures not counted).
  uint64_t read_count() const { return reads_.load(std::memory_order_relaxed); }
  // Writes, syncs and reads failed by injection.
  uint64_t injected_error_count() const { return injected_.load(std::memory_order_relaxed); }
  void ResetCounters();

 private:
  friend class FaultWritableFile;
  friend class FaultRandomAccessFile;
  struct FileState;

  // Called by FaultWritableFile; see fault_env.cc.
  bool ConsumeWriteFault(const FileState& state);
  bool ConsumeSyncFault(const FileState& state);
  bool ConsumeReadFault(const std::string& path);
  Status WrapRandomAccessFile(const std::string& path, Status s,
                              std::unique_ptr<RandomAccessFile>* result);
  void Track(const std::string& path, std::shared_ptr<FileState> state);

  std::mutex mu_;
  // Held shared by every tracked write/sync, exclusively by DropUnsyncedData.
  std::shared_mutex crash_mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // guarded by mu_
  int write_fault_countdown_ = 0;                            // guarded by mu_
  int sync_fault_countdown_ = 0;                             // guarded by mu_
  int read_fault_countdown_ = 0;                             // guarded by mu_
  std::string fail_path_substring_;                          // guarded by mu_
  std::atomic<uint64_t> crash_epoch_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace basalt::io
