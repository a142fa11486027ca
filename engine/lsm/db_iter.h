// DBIter: turns an internal-key iterator (merged memtables and SSTables) into
// the user view at a sequence number: one entry per user key, its newest
// version <= sequence, keys whose newest version is a deletion hidden.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/lsm/dbformat.h"
#include "engine/lsm/iterator.h"

namespace basalt::lsm {

// cleanup runs when the iterator is destroyed (releases pinned memtables/versions).
std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence,
                                        std::function<void()> cleanup = nullptr);

// Restricts a user-key iterator to [lower, upper) (upper unset: unbounded).
std::unique_ptr<Iterator> NewBoundedIterator(std::unique_ptr<Iterator> iter, std::string lower,
                                             std::optional<std::string> upper);

}  // namespace basalt::lsm
