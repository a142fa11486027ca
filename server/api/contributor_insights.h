// Contributor Insights: the API (UpdateContributorInsights,
// DescribeContributorInsights, ListContributorInsights: registered by
// RegisterContributorInsightsOperations, service.h), the durable settings,
// and the JSON endpoint GET /contributor-insights (docs/server.md,
// "Contributor Insights"). The counting is server/api/contributor_insights_sketch.h's.
//
// Settings are stored in the node's SystemRecords (engine/table/system_records.h),
// one record per table or GSI that was ever configured:
//   key   "contributor-insights:<table id, 16 hex digits>:<index id, 8 hex digits>"
//         (index id 0: the table; ids are never reused, so a table or index
//         re-created under the same name starts unconfigured)
//   value JSON {"v":1,"TableName":..,"IndexName":..,"Enabled":true|false,
//         "Mode":"ACCESSED_AND_THROTTLED_KEYS"|"THROTTLED_KEYS",
//         "LastUpdateMs":<ms>,"RuleMs":<ms, the rules' creation time>}
// A record whose table or index no longer exists is ignored and removed when
// next seen (DynamoDB drops the rules with the table or index).
#pragma once

#include <memory>

#include "server/api/contributor_insights_sketch.h"
#include "server/api/service.h"
#include "server/api/throttle.h"

namespace basalt::server::api {

// Starts the rules of every enabled table and index stored in `store`'s
// system records (called by the Service constructor).
void LoadContributorInsights(table::TableStore* store, ContributorInsights* insights);

// A listener that records every CapacityEvent (throttle.h) in `insights`:
// consumed units for the accessed rules, one per throttled request for the
// throttled rules. `insights` must outlive it.
std::unique_ptr<CapacityListener> NewContributorInsightsListener(ContributorInsights* insights);

// GET /contributor-insights[?TableName=T[&IndexName=I][&WindowSeconds=60|300]]:
// the top keys of each rule as JSON (docs/server.md). Register with
// Service::AddGetHandler; `service` and `store` must outlive the server.
Service::GetHandler ContributorInsightsGetHandler(Service* service, table::TableStore* store);

}  // namespace basalt::server::api
