#include "server/triggers/trigger_metrics.h"

namespace basalt::server::triggers {

void RegisterTriggerMetrics(metrics::Registry* registry, TriggerService* service) {
  registry->AddCollector([service](metrics::Exposition* out) {
    using Type = metrics::Exposition::Type;
    struct Counter {
      const char* name;
      const char* help;
      uint64_t TriggerStats::*value;
    };
    static constexpr Counter kCounters[] = {
        {"basalt_trigger_invocations_total", "Calls of the trigger's target, retries included.",
         &TriggerStats::invocations},
        {"basalt_trigger_function_errors_total", "Calls of the trigger's target that failed.",
         &TriggerStats::function_errors},
        {"basalt_trigger_records_delivered_total", "Stream records the target accepted.",
         &TriggerStats::records_delivered},
        {"basalt_trigger_records_filtered_total", "Stream records dropped by FilterCriteria.",
         &TriggerStats::records_filtered},
        {"basalt_trigger_records_failed_total",
         "Stream records described to the on-failure destination.", &TriggerStats::records_failed},
    };
    for (const auto& [def, st] : service->Snapshot()) {
      const metrics::Labels labels{{"trigger", def.uuid}, {"table", def.table}};
      for (const Counter& c : kCounters) {
        out->Add(c.name, Type::kCounter, c.help, labels, static_cast<double>(st.*c.value));
      }
      if (st.iterator_age_ms >= 0) {
        out->Add("basalt_trigger_iterator_age_milliseconds", Type::kGauge,
                 "Age of the newest record of the last settled chunk (Lambda's IteratorAge).",
                 labels, static_cast<double>(st.iterator_age_ms));
      }
      out->Add("basalt_trigger_enabled", Type::kGauge, "1 if the trigger is enabled.", labels,
               def.enabled ? 1 : 0);
    }
  });
}

}  // namespace basalt::server::triggers
