#include "engine/lsm/flush_job.h"

#include "engine/lsm/compaction/compaction_iterator.h"

namespace basalt::lsm {

Status FlushJob::Run(FileMetaData* meta) {
  SurvivorRules rules;
  rules.snapshots = snapshots_;
  CompactionIterator it(input_, &rules);
  OutputFile out(env_);
  Status s = out.Open(number_);
  if (!s.ok()) return s;
  for (it.SeekToFirst(); it.Valid(); it.Next()) out.Add(it.key(), it.value(), it.parsed().sequence);
  dropped_ = it.dropped();
  s = it.status();
  const bool empty = out.meta().num_entries == 0;
  if (s.ok()) {
    s = out.Finish();
  } else {
    out.Abandon();
  }
  if (s.ok() && !empty) s = env_->env->SyncDir(env_->dir);
  *meta = out.meta();
  if (!s.ok() || empty) env_->env->RemoveFile(out.path()).PermitUnchecked();
  return s;
}

}  // namespace basalt::lsm
