// DBIter: turns an internal-key iterator (merged memtables and SSTables) into
// the user view at a sequence number: one entry per user key, its newest
// version <= sequence, keys whose newest version is a deletion hidden.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/lsm/dbformat.h"
#include "engine/lsm/iterator.h"

namespace basalt::lsm {

// cleanup runs when the iterator is destroyed (releases pinned memtables/versions).
// on_read, when set, is told where the iterator reads (read-triggered
// compaction's charges): each Seek's target, and the user key it is at after
// every kReadSampleBytes (on average; a random period) of entries, keys and
// values, it stepped over.
std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence,
                                        std::function<void()> cleanup = nullptr,
                                        std::function<void(std::string_view)> on_read = nullptr);
inline constexpr int64_t kReadSampleBytes = 1 << 20;  // as LevelDB

// Restricts a user-key iterator to [lower, upper) (upper unset: unbounded).
std::unique_ptr<Iterator> NewBoundedIterator(std::unique_ptr<Iterator> iter, std::string lower,
                                             std::optional<std::string> upper);

}  // namespace basalt::lsm
