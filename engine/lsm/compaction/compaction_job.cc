#include "engine/lsm/compaction/compaction_job.h"

#include "engine/lsm/filename.h"
#include "engine/lsm/level_iterator.h"
#include "engine/lsm/merging_iterator.h"

namespace basalt::lsm {

namespace {
constexpr uint64_t kRateChunk = 64 << 10;  // charge the rate limiter per 64 KiB written
}  // namespace

CompactionJob::CompactionJob(const JobEnv* env, JobHost* host, CompactionJobOptions options,
                             std::vector<std::shared_ptr<TableFile>> inputs, SurvivorRules rules)
    : env_(env),
      host_(host),
      options_(options),
      inputs_(std::move(inputs)),
      rules_(std::move(rules)) {}

Status CompactionJob::FinishOutput(OutputFile* out, uint64_t* charged) {
  const uint64_t size = out->FileSize();
  Status s = out->Finish();
  if (s.ok() && options_.limiter != nullptr && !options_.limiter->Request(size - *charged)) {
    s = Status::Aborted("shutting down");
  }
  if (!s.ok()) return s;
  std::shared_ptr<TableFile> tf;
  s = host_->OpenTableFile(out->meta(), &tf);
  if (!s.ok()) return s;
  outputs_[out->meta().number] = tf;
  output_files_.push_back(out->meta());
  bytes_written_ += out->meta().file_size;
  return Status::OK();
}

Status CompactionJob::Run() {
  // Inputs are read front to back once: fixed read-ahead windows, and no
  // cache pollution by blocks that are about to become garbage.
  TableReadOptions input_options;
  input_options.readahead_size = options_.readahead_size;
  input_options.fill_cache = false;
  // The inputs of a level form one run, read one table at a time.
  std::vector<std::unique_ptr<Iterator>> children;
  AppendRunIterators(inputs_, input_options, &children);
  for (const auto& f : inputs_) bytes_read_ += f->meta.file_size;
  std::unique_ptr<Iterator> input = NewMergingIterator(std::move(children));
  CompactionIterator it(input.get(), &rules_);

  Status s;
  OutputFile out(env_);
  uint64_t charged = 0;  // bytes of the current output already paid to the rate limiter
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    if (options_.shutting_down != nullptr &&
        options_.shutting_down->load(std::memory_order_relaxed)) {
      s = Status::Aborted("shutting down");
      break;
    }
    if (out.is_open() && it.new_user_key() && out.FileSize() >= options_.target_file_size) {
      s = FinishOutput(&out, &charged);
      if (!s.ok()) break;
    }
    if (!out.is_open()) {
      numbers_.push_back(host_->NewOutputNumber());
      s = out.Open(numbers_.back());
      if (!s.ok()) break;
      charged = 0;
    }
    out.Add(it.key(), it.value(), it.parsed().sequence);
    if (options_.limiter != nullptr && out.FileSize() >= charged + kRateChunk) {
      // Pay for what was written since the last charge; waits when over budget.
      if (!options_.limiter->Request(out.FileSize() - charged)) {
        s = Status::Aborted("shutting down");
        break;
      }
      charged = out.FileSize();
    }
  }
  dropped_ = it.dropped();
  if (s.ok()) s = it.status();
  if (s.ok() && out.is_open()) s = FinishOutput(&out, &charged);
  out.Abandon();
  if (s.ok()) s = env_->env->SyncDir(env_->dir);
  return s;
}

void CompactionJob::RemoveOutputs() {
  for (const auto& [num, tf] : outputs_) tf->obsolete = true;  // deleted with the last ref
  for (uint64_t num : numbers_) {
    if (!outputs_.count(num))
      env_->env->RemoveFile(TableFileName(env_->dir, num)).PermitUnchecked();
  }
}

}  // namespace basalt::lsm
