// The stream triggers' counters in /metrics (docs/triggers.md, "Metrics"),
// per trigger (labels trigger = UUID, table):
//   basalt_trigger_invocations_total          target calls, retries included
//   basalt_trigger_function_errors_total      calls that failed
//   basalt_trigger_records_delivered_total
//   basalt_trigger_records_filtered_total     dropped by FilterCriteria
//   basalt_trigger_records_failed_total       described to the on-failure destination
//   basalt_trigger_iterator_age_milliseconds  Lambda's IteratorAge (absent before any delivery)
//   basalt_trigger_enabled                    1 or 0
#pragma once

#include "server/metrics/registry.h"
#include "server/triggers/trigger_service.h"

namespace basalt::server::triggers {

// Adds a collector to `registry` that reads `service` at every scrape; the
// service must outlive every scrape.
void RegisterTriggerMetrics(metrics::Registry* registry, TriggerService* service);

}  // namespace basalt::server::triggers
