#include "engine/table/table_handle.h"

#include <algorithm>

namespace basalt::table {

void TableRuntime::Account(const std::optional<Item>& old_item,
                           const std::optional<Item>& new_item) {
  const auto size = [](const std::optional<Item>& i) -> int64_t {
    return i ? static_cast<int64_t>(ItemSize(*i)) : 0;
  };
  item_count.fetch_add((new_item ? 1 : 0) - (old_item ? 1 : 0), std::memory_order_relaxed);
  size_bytes.fetch_add(size(new_item) - size(old_item), std::memory_order_relaxed);
}

}  // namespace basalt::table
