// basalt-admin trigger ...: the stream-trigger API (docs/triggers.md) from
// the command line, against a running server.
//
//   basalt-admin trigger add    [--endpoint URL] --table T (--url URL | --command PROG
//                               [--arg A]...) [--starting-position LATEST|TRIM_HORIZON]
//                               [--batch-size N] [--on-failure DEST] [--json OBJECT]
//   basalt-admin trigger list   [--endpoint URL] [--table T]
//   basalt-admin trigger get    [--endpoint URL] UUID
//   basalt-admin trigger remove [--endpoint URL] UUID
//
// --endpoint defaults to http://127.0.0.1:8000. --json merges more members
// of CreateTrigger (e.g. '{"FilterCriteria": {...}, "BisectBatchOnFunctionError": true}').
// Prints the server's JSON answer (list: one line per trigger). A server
// started with --auth sigv4 needs signed requests: use the AWS CLI or an SDK
// there (docs/triggers.md shows how).
//
// Exit status: 0 success, 1 the server refused or could not be reached, 2 usage.
#pragma once

#include <string_view>
#include <vector>

namespace basalt::tools {

// args: what follows "trigger" on the command line.
int TriggerCommand(const std::vector<std::string_view>& args);

}  // namespace basalt::tools
