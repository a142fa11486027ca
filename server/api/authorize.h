// Authorization of requests against the sender's IAM policies (--auth sigv4;
// docs/security.md, "Authorization"). In local mode (Context::identity null)
// everything here is a no-op.
//
// Each operation is checked for the actions and resources DynamoDB's Service
// Authorization Reference lists for it ("Actions, resources, and condition
// keys for Amazon DynamoDB"), with DynamoDB's condition keys
// (Developer Guide, "Using IAM policy conditions for fine-grained access
// control"):
//   - data-plane single-item operations: their own action on the table;
//   - BatchGetItem / BatchWriteItem: dynamodb:BatchGetItem /
//     dynamodb:BatchWriteItem once per table, with the keys of all the
//     table's items;
//   - TransactWriteItems: PutItem / UpdateItem / DeleteItem /
//     ConditionCheckItem per action, TransactGetItems: GetItem per action,
//     each with dynamodb:EnclosingOperation;
//   - Query / Scan of an index: the index's ARN; PartiQL: PartiQLSelect /
//     PartiQLInsert / PartiQLUpdate / PartiQLDelete per statement on its table
//     or index (ExecuteTransaction with dynamodb:EnclosingOperation);
//   - ListTables, ListStreams, DescribeLimits, DescribeEndpoints,
//     ListContributorInsights: "*"; Update/DescribeContributorInsights: the
//     table's ARN, or the GSI's with IndexName;
//   - backups: CreateBackup the table's ARN, Describe/DeleteBackup the
//     backup's, ListBackups "*"; RestoreTableFromBackup the backup's ARN and
//     RestoreTableToPointInTime the source table's, each also PutItem,
//     UpdateItem, DeleteItem, GetItem, Query, Scan and BatchWriteItem on the
//     target table (Developer Guide, "Using IAM with DynamoDB backup and
//     restore");
//   - Streams: the stream's ARN (GetRecords checks it itself, once the
//     iterator is decoded: CheckStreamRead).
// Condition keys: dynamodb:LeadingKeys (the partition key values, as text:
// S as is, N as written, B in base64; absent for Scan), dynamodb:Attributes
// (the top-level attribute names the request names anywhere: keys, item,
// projection, expressions and their legacy forms), dynamodb:Select (reads;
// default ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES for an index,
// SPECIFIC_ATTRIBUTES with a projection), dynamodb:ReturnValues (writes;
// default NONE), dynamodb:ReturnConsumedCapacity (default NONE),
// dynamodb:EnclosingOperation, dynamodb:FullTableScan (PartiQL SELECT).
//
// Authorization runs after the body is parsed as JSON and before the
// operation validates or touches anything, so a user without access learns
// nothing about the table (not even whether it exists). A refusal is
// AccessDeniedException (HTTP 400) with IAM's message.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "server/api/service.h"
#include "server/auth/policy.h"

namespace basalt::server::api {

// One action on one resource, with the request's condition keys.
struct AccessCheck {
  std::string action;    // "dynamodb:GetItem"
  std::string resource;  // an ARN, or "*"
  auth::ConditionKeys keys;
};

// Throws AccessDeniedException for the first check the identity may not do.
// Takes the checks by value: their condition keys move into the evaluation.
void Authorize(const Context& ctx, std::vector<AccessCheck> checks);

// The checks of operation `op` ("PutItem"; `streams` for the Streams API's
// operations) with request `body`, then Authorize.
void AuthorizeRequest(Context& ctx, std::string_view op, bool streams,
                      const boost::json::object& body);

// GetRecords: dynamodb:GetRecords on the stream of `table` with `label`.
void CheckStreamRead(const Context& ctx, const std::string& table, const std::string& label);

}  // namespace basalt::server::api
