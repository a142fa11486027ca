#include "server/triggers/trigger_metrics.h"

namespace basalt::server::triggers {

void RegisterTriggerMetrics(metrics::Registry* registry, TriggerService* service) {
  registry->AddCollector([service](metrics::Exposition* out) {
    using Type = metrics::Exposition::Type;
    for (const auto& [def, st] : service->Snapshot()) {
      const metrics::Labels labels{{"trigger", def.uuid}, {"table", def.table}};
      out->Add("basalt_trigger_invocations_total", Type::kCounter,
               "Calls of the trigger's target, retries included.", labels,
               static_cast<double>(st.invocations));
      out->Add("basalt_trigger_function_errors_total", Type::kCounter,
               "Calls of the trigger's target that failed.", labels,
               static_cast<double>(st.function_errors));
      out->Add("basalt_trigger_records_delivered_total", Type::kCounter,
               "Stream records the target accepted.", labels,
               static_cast<double>(st.records_delivered));
      out->Add("basalt_trigger_records_filtered_total", Type::kCounter,
               "Stream records dropped by FilterCriteria.", labels,
               static_cast<double>(st.records_filtered));
      out->Add("basalt_trigger_records_failed_total", Type::kCounter,
               "Stream records described to the on-failure destination.", labels,
               static_cast<double>(st.records_failed));
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
