#include "tools/admin_triggers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "server/triggers/invoker.h"
#include "server/triggers/trigger_def.h"

namespace basalt::tools {

namespace json = boost::json;
using server::triggers::InvokeResult;

namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

int Usage(std::string_view why) {
  fmt::print(stderr,
             "basalt-admin trigger: {}\n"
             "usage: basalt-admin trigger add [--endpoint URL] --table T (--url URL | --command "
             "PROG [--arg A]...)\n"
             "                                [--starting-position LATEST|TRIM_HORIZON] "
             "[--batch-size N]\n"
             "                                [--on-failure DEST] [--json OBJECT]\n"
             "       basalt-admin trigger list [--endpoint URL] [--table T]\n"
             "       basalt-admin trigger get [--endpoint URL] UUID\n"
             "       basalt-admin trigger remove [--endpoint URL] UUID\n",
             why);
  return kUsage;
}

// One call of the trigger API; *out: the answer. Prints the error and
// returns false when the server refused or could not be reached.
bool Call(const std::string& endpoint, std::string_view op, const json::object& body,
          json::object* out) {
  server::triggers::Url url;
  Status s = server::triggers::ParseUrl(endpoint, &url);
  if (!s.ok()) {
    fmt::print(stderr, "basalt-admin trigger: --endpoint: {}\n", s.message());
    return false;
  }
  server::triggers::HttpInvokerOptions ho;
  ho.headers = {
      {"X-Amz-Target", std::string(server::triggers::kTriggerTargetPrefix) + std::string(op)},
      {"Content-Type", "application/x-amz-json-1.0"}};
  InvokeResult r = server::triggers::MakeHttpInvoker(url, ho)->Invoke(json::serialize(body),
                                                                      std::chrono::seconds(60));
  if (!r.answered) {
    fmt::print(stderr, "basalt-admin trigger: {}: {}\n", endpoint, r.error);
    return false;
  }
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    fmt::print(stderr, "basalt-admin trigger: HTTP {} with a body that is not JSON\n", r.status);
    return false;
  }
  *out = std::move(v.get_object());
  if (r.status != 200) {
    const json::value* type = out->if_contains("__type");
    const json::value* msg = out->if_contains("message");
    std::string t = type && type->is_string() ? std::string(type->get_string()) : "error";
    if (size_t hash = t.find('#'); hash != std::string::npos) t = t.substr(hash + 1);
    fmt::print(stderr, "basalt-admin trigger: {}: {}\n", t,
               msg && msg->is_string() ? std::string(msg->get_string()) : "");
    return false;
  }
  return true;
}

}  // namespace

int TriggerCommand(const std::vector<std::string_view>& args) {
  if (args.empty()) return Usage("no subcommand given");
  const std::string_view sub = args[0];
  std::string endpoint = "http://127.0.0.1:8000";
  std::optional<std::string> table, url, command, position, on_failure, extra;
  std::optional<uint64_t> batch_size;
  std::vector<std::string> cmd_args;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); i++) {
    const std::string_view a = args[i];
    if (!a.starts_with("--")) {
      positional.emplace_back(a);
      continue;
    }
    if (i + 1 >= args.size()) return Usage(fmt::format("{} needs a value", a));
    const std::string v(args[++i]);
    if (a == "--endpoint") {
      endpoint = v;
    } else if (a == "--table") {
      table = v;
    } else if (a == "--url") {
      url = v;
    } else if (a == "--command") {
      command = v;
    } else if (a == "--arg") {
      cmd_args.push_back(v);
    } else if (a == "--starting-position") {
      position = v;
    } else if (a == "--on-failure") {
      on_failure = v;
    } else if (a == "--json") {
      extra = v;
    } else if (a == "--batch-size") {
      char* end = nullptr;
      batch_size = std::strtoull(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0') return Usage("--batch-size takes a number");
    } else {
      return Usage(fmt::format("unknown option '{}'", a));
    }
  }
  json::object answer;
  if (sub == "add") {
    if (!positional.empty()) return Usage("'add' takes no positional arguments");
    if (!table) return Usage("'add' needs --table");
    if (url.has_value() == command.has_value()) return Usage("'add' needs --url or --command");
    json::object req;
    if (extra) {
      json::error_code ec;
      json::value v = json::parse(*extra, ec);
      if (ec || !v.is_object()) return Usage("--json takes a JSON object");
      req = std::move(v.get_object());
    }
    req["TableName"] = *table;
    json::object target;
    if (url) {
      target["Url"] = *url;
    } else {
      json::array argv{json::value(*command)};
      for (const std::string& a : cmd_args) argv.emplace_back(a);
      target["Command"] = std::move(argv);
    }
    req["Target"] = std::move(target);
    req["StartingPosition"] = position.value_or("LATEST");
    if (batch_size) req["BatchSize"] = *batch_size;
    if (on_failure) req["DestinationConfig"] = {{"OnFailure", {{"Destination", *on_failure}}}};
    if (!Call(endpoint, "CreateTrigger", req, &answer)) return kFailed;
    fmt::print("{}\n", json::serialize(answer));
    return kOk;
  }
  if (sub == "list") {
    if (!positional.empty()) return Usage("'list' takes no positional arguments");
    json::object req;
    if (table) req["TableName"] = *table;
    std::optional<std::string> marker;
    do {
      if (marker) req["Marker"] = *marker;
      if (!Call(endpoint, "ListTriggers", req, &answer)) return kFailed;
      for (const json::value& t : answer["Triggers"].as_array()) {
        const json::object& o = t.as_object();
        const json::object& target = o.at("Target").as_object();
        std::string where;
        if (const json::value* u = target.if_contains("Url")) {
          where = std::string(u->as_string());
        } else {
          where = "command " + std::string(target.at("Command").as_array().at(0).as_string());
        }
        fmt::print("{}  {}  {}  {}  {}\n", std::string(o.at("UUID").as_string()),
                   std::string(o.at("TableName").as_string()),
                   std::string(o.at("State").as_string()), where,
                   std::string(o.at("LastProcessingResult").as_string()));
      }
      marker.reset();
      if (const json::value* next = answer.if_contains("NextMarker")) {
        marker = std::string(next->as_string());
      }
    } while (marker);
    return kOk;
  }
  if (sub == "get" || sub == "remove") {
    if (positional.size() != 1) return Usage(fmt::format("'{}' takes one UUID", sub));
    if (table || url || command) return Usage(fmt::format("'{}' takes only --endpoint", sub));
    json::object req{{"UUID", positional[0]}};
    if (!Call(endpoint, sub == "get" ? "GetTrigger" : "DeleteTrigger", req, &answer)) {
      return kFailed;
    }
    fmt::print("{}\n", json::serialize(answer));
    return kOk;
  }
  return Usage(fmt::format("unknown subcommand '{}'", sub));
}

}  // namespace basalt::tools
