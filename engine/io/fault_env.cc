#include "engine/io/fault_env.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace basalt::io {

// What FaultEnv knows about one file written through it. Shared by the
// tracking map and the files open on it, so a rename while open is followed.
struct FaultEnv::FileState {
  std::string path;     // current name (follows renames)
  uint64_t size = 0;    // bytes written so far (the largest extent)
  uint64_t synced = 0;  // bytes durable as of the last successful Sync
};

// A WritableFile that reports its writes and syncs to its FaultEnv. Every
// operation holds the env's crash lock shared, so a simulated crash never
// splits one.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::shared_ptr<FaultEnv::FileState> state,
                    std::unique_ptr<WritableFile> target, uint64_t epoch)
      : env_(env), state_(std::move(state)), target_(std::move(target)), epoch_(epoch) {}

  Status Append(std::string_view data) override {
    std::shared_lock<std::shared_mutex> crash(env_->crash_mu_);
    Status s = CheckAlive();
    if (!s.ok()) return s;
    if (env_->ConsumeWriteFault(*state_)) return Status::IOError(Path(), "injected write error");
    s = target_->Append(data);
    env_->writes_.fetch_add(1, std::memory_order_relaxed);
    Extend(target_->Size());
    return s;
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::shared_lock<std::shared_mutex> crash(env_->crash_mu_);
    Status s = CheckAlive();
    if (!s.ok()) return s;
    if (env_->ConsumeWriteFault(*state_)) return Status::IOError(Path(), "injected write error");
    s = target_->WriteAt(offset, data);
    env_->writes_.fetch_add(1, std::memory_order_relaxed);
    // On failure some prefix may have landed; the append position bounds it.
    Extend(s.ok() ? offset + data.size() : target_->Size());
    return s;
  }

  Status Sync() override {
    std::shared_lock<std::shared_mutex> crash(env_->crash_mu_);
    Status s = CheckAlive();
    if (!s.ok()) return s;
    if (env_->ConsumeSyncFault(*state_)) return Status::IOError(Path(), "injected sync error");
    s = target_->Sync();
    env_->syncs_.fetch_add(1, std::memory_order_relaxed);
    if (s.ok()) {
      std::lock_guard<std::mutex> l(env_->mu_);
      state_->synced = state_->size;
    }
    return s;
  }

  Status Close() override {
    std::shared_lock<std::shared_mutex> crash(env_->crash_mu_);
    Status s = CheckAlive();
    if (!s.ok()) {
      target_->Close().PermitUnchecked();  // release the descriptor anyway
      return s;
    }
    return target_->Close();
  }

  uint64_t Size() const override { return target_->Size(); }

 private:
  Status CheckAlive() {
    if (epoch_ == env_->crash_epoch_.load()) return Status::OK();
    return Status::IOError(Path(), "file closed by simulated crash");
  }

  std::string Path() {
    std::lock_guard<std::mutex> l(env_->mu_);
    return state_->path;
  }

  void Extend(uint64_t end) {
    std::lock_guard<std::mutex> l(env_->mu_);
    state_->size = std::max(state_->size, end);
  }

  FaultEnv* const env_;
  const std::shared_ptr<FaultEnv::FileState> state_;
  const std::unique_ptr<WritableFile> target_;
  const uint64_t epoch_;  // crash epoch at open; any other value means dead
};

// A RandomAccessFile whose reads pass FaultEnv's read-fault check.
class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultEnv* env, std::string path, std::unique_ptr<RandomAccessFile> target)
      : env_(env), path_(std::move(path)), target_(std::move(target)) {}

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (env_->ConsumeReadFault(path_)) {
      *result = std::string_view(scratch, 0);
      return Status::IOError(path_, "injected read error");
    }
    env_->reads_.fetch_add(1, std::memory_order_relaxed);
    return target_->Read(offset, n, scratch, result);
  }

  Status MultiRead(ReadRequest* reqs, size_t count) const override {
    // Failed requests are answered here; the rest go down in one call.
    std::vector<size_t> pass;
    std::vector<ReadRequest> down;
    for (size_t i = 0; i < count; i++) {
      if (env_->ConsumeReadFault(path_)) {
        reqs[i].result = std::string_view(reqs[i].scratch, 0);
        reqs[i].status = Status::IOError(path_, "injected read error");
      } else {
        pass.push_back(i);
        down.push_back(reqs[i]);
      }
    }
    env_->reads_.fetch_add(down.size(), std::memory_order_relaxed);
    if (!down.empty()) target_->MultiRead(down.data(), down.size()).PermitUnchecked();
    for (size_t j = 0; j < pass.size(); j++) reqs[pass[j]] = down[j];
    for (size_t i = 0; i < count; i++) {
      if (!reqs[i].status.ok()) return reqs[i].status;
    }
    return Status::OK();
  }

  uint64_t Size() const override { return target_->Size(); }

 private:
  FaultEnv* const env_;
  const std::string path_;
  const std::unique_ptr<RandomAccessFile> target_;
};

FaultEnv::FaultEnv(Env* target) : EnvWrapper(target) {}

Status FaultEnv::WrapRandomAccessFile(const std::string& path, Status s,
                                      std::unique_ptr<RandomAccessFile>* result) {
  if (!s.ok()) return s;
  *result = std::make_unique<FaultRandomAccessFile>(this, path, std::move(*result));
  return Status::OK();
}

Status FaultEnv::NewRandomAccessFile(const std::string& path,
                                     std::unique_ptr<RandomAccessFile>* result) {
  return WrapRandomAccessFile(path, target()->NewRandomAccessFile(path, result), result);
}

Status FaultEnv::NewDirectRandomAccessFile(const std::string& path,
                                           std::unique_ptr<RandomAccessFile>* result) {
  return WrapRandomAccessFile(path, target()->NewDirectRandomAccessFile(path, result), result);
}

FaultEnv::~FaultEnv() = default;

std::string FaultEnv::Name() const { return "fault(" + target()->Name() + ")"; }

void FaultEnv::Track(const std::string& path, std::shared_ptr<FileState> state) {
  std::lock_guard<std::mutex> l(mu_);
  files_[path] = std::move(state);
}

Status FaultEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* result) {
  std::shared_lock<std::shared_mutex> crash(crash_mu_);
  result->reset();
  std::unique_ptr<WritableFile> file;
  Status s = target()->NewWritableFile(path, &file);
  if (!s.ok()) return s;
  auto state = std::make_shared<FileState>();
  state->path = path;
  Track(path, state);
  *result = std::make_unique<FaultWritableFile>(this, std::move(state), std::move(file),
                                                crash_epoch_.load());
  return Status::OK();
}

Status FaultEnv::NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* result) {
  std::shared_lock<std::shared_mutex> crash(crash_mu_);
  result->reset();
  std::unique_ptr<WritableFile> file;
  Status s = target()->NewAppendableFile(path, &file);
  if (!s.ok()) return s;
  std::shared_ptr<FileState> state;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(path);
    if (it != files_.end()) {
      state = it->second;
      state->size = std::max(state->size, file->Size());
    } else {
      state = std::make_shared<FileState>();
      state->path = path;
      state->size = state->synced = file->Size();
      files_[path] = state;
    }
  }
  *result = std::make_unique<FaultWritableFile>(this, std::move(state), std::move(file),
                                                crash_epoch_.load());
  return Status::OK();
}

Status FaultEnv::RemoveFile(const std::string& path) {
  Status s = target()->RemoveFile(path);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(path);
  }
  return s;
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = target()->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(to);
    auto it = files_.find(from);
    if (it != files_.end()) {
      std::shared_ptr<FileState> state = std::move(it->second);
      files_.erase(it);
      state->path = to;
      files_[to] = std::move(state);
    }
  }
  return s;
}

Status FaultEnv::TruncateFile(const std::string& path, uint64_t size) {
  Status s = target()->TruncateFile(path, size);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(path);
    if (it != files_.end()) {
      it->second->size = size;
      it->second->synced = std::min(it->second->synced, size);
    }
  }
  return s;
}

void FaultEnv::FailNthWrite(int n) {
  std::lock_guard<std::mutex> l(mu_);
  write_fault_countdown_ = std::max(n, 0);
}

void FaultEnv::FailNthSync(int n) {
  std::lock_guard<std::mutex> l(mu_);
  sync_fault_countdown_ = std::max(n, 0);
}

void FaultEnv::FailNthRead(int n) {
  std::lock_guard<std::mutex> l(mu_);
  read_fault_countdown_ = std::max(n, 0);
}

void FaultEnv::SetFailPathSubstring(std::string substring) {
  std::lock_guard<std::mutex> l(mu_);
  fail_path_substring_ = std::move(substring);
}

// Counts one matching operation down; true when it is the one to fail.
bool FaultEnv::ConsumeWriteFault(const FileState& state) {
  std::lock_guard<std::mutex> l(mu_);
  if (write_fault_countdown_ == 0) return false;
  if (state.path.find(fail_path_substring_) == std::string::npos) return false;
  if (--write_fault_countdown_ != 0) return false;
  injected_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool FaultEnv::ConsumeSyncFault(const FileState& state) {
  std::lock_guard<std::mutex> l(mu_);
  if (sync_fault_countdown_ == 0) return false;
  if (state.path.find(fail_path_substring_) == std::string::npos) return false;
  if (--sync_fault_countdown_ != 0) return false;
  injected_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool FaultEnv::ConsumeReadFault(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (read_fault_countdown_ == 0) return false;
  if (path.find(fail_path_substring_) == std::string::npos) return false;
  if (--read_fault_countdown_ != 0) return false;
  injected_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void FaultEnv::ResetCounters() {
  writes_.store(0);
  syncs_.store(0);
  reads_.store(0);
  injected_.store(0);
}

Status FaultEnv::DropUnsyncedData() {
  std::unique_lock<std::shared_mutex> crash(crash_mu_);
  crash_epoch_.fetch_add(1);
  std::vector<std::pair<std::string, uint64_t>> cuts;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [path, state] : files_) {
      state->size = state->synced;
      cuts.emplace_back(path, state->synced);
    }
  }
  Status first;
  for (const auto& [path, length] : cuts) {
    Status s = target()->TruncateFile(path, length);
    if (!s.ok() && !s.IsNotFound() && first.ok()) first = s;
  }
  return first;
}

Status FaultEnv::CorruptByte(Env* env, const std::string& path, uint64_t offset) {
  char byte;
  {
    std::unique_ptr<RandomAccessFile> file;
    Status s = env->NewRandomAccessFile(path, &file);
    if (!s.ok()) return s;
    if (offset >= file->Size()) {
      return Status::InvalidArgument(path, "offset " + std::to_string(offset) +
                                               " is past the end of the file (size " +
                                               std::to_string(file->Size()) + ")");
    }
    std::string_view got;
    s = file->Read(offset, 1, &byte, &got);
    if (!s.ok()) return s;
    if (got.size() != 1) return Status::IOError(path, "short read while corrupting a byte");
  }
  byte = static_cast<char>(~static_cast<unsigned char>(byte));
  std::unique_ptr<WritableFile> file;
  Status s = env->NewAppendableFile(path, &file);
  if (!s.ok()) return s;
  s = file->WriteAt(offset, std::string_view(&byte, 1));
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  return s.ok() ? c : s;
}

}  // namespace basalt::io
