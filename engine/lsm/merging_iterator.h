// MergingIterator: merges internal iterators (memtables, SSTables) into one
// stream in internal-key order. Children are owned. Equal keys cannot occur
// across children (each (user key, sequence) is written once).
#pragma once

#include <memory>
#include <vector>

#include "engine/lsm/iterator.h"

namespace basalt::lsm {

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children);

}  // namespace basalt::lsm
