// Time to Live: the expiry rule DynamoDB applies to an item, shared by the
// TableStore's TTL sweeper (table_store.h, "Time to Live") and its tests.
// The sweeper itself (TableStore::SweepExpiredItems and its background
// thread) is implemented in ttl.cc.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/table/value.h"

namespace basalt::table {

// DynamoDB ignores TTL values more than five years in the past (they are
// taken to be in another unit, e.g. milliseconds mistaken for seconds' place,
// or deliberate "never"). Five 365-day years, in seconds.
inline constexpr uint64_t kTtlMaxAgeSeconds = uint64_t{5} * 365 * 24 * 3600;

// True if `item` has attribute `attribute` of type N whose value T (epoch
// seconds, fractions allowed) satisfies now - kTtlMaxAgeSeconds <= T <= now.
// A missing attribute, any other type (S, NS, ...) or a value outside that
// window is not expired.
bool IsTtlExpired(const Item& item, std::string_view attribute, uint64_t now_seconds);

}  // namespace basalt::table
