// Contributor Insights: UpdateContributorInsights, DescribeContributorInsights,
// ListContributorInsights, and GET /contributor-insights.
//
// Behaviour follows DynamoDB (API Reference of the three operations; Developer
// Guide, "CloudWatch Contributor Insights for DynamoDB: How it works";
// answers observed from DynamoDB):
//   - Per table and per GSI. An LSI or unknown index is
//     ResourceNotFoundException "Requested resource not found: Index: I not
//     found for table: T"; an unknown table "Requested resource not found:
//     Table: T not found" (ListContributorInsights with TableName too).
//     TableName may be the table's ARN.
//   - ENABLE answers ENABLING; Describe shows ENABLING for kEnablingMs, then
//     ENABLED. DISABLE answers DISABLING, then DISABLED after kDisablingMs.
//     ENABLE of an enabled table or index in the same mode (or naming no
//     mode) changes nothing and answers its status; in the other mode it
//     switches the rules (names keep their creation time). DISABLE of a
//     disabled one answers DISABLED and changes nothing. ENABLE needs the
//     table (and index) ACTIVE: ValidationException "Table or Index is not in
//     a valid state to update Key Access Insights: TableStatus|IndexStatus
//     must be ACTIVE to enable ContributorInsights."
//   - Rules (ContributorInsightsRuleList, while ENABLING, ENABLED or
//     DISABLING): "DynamoDBContributorInsights-<K>-<table>[-<index>]-<ms>"
//     with K = PKC, SKC (sort key only), PKT, SKT (sort key only), in that
//     order; THROTTLED_KEYS mode: PKT, SKT only.
//   - Describe of a never-configured table: TableName (IndexName) and
//     status DISABLED only; once configured also ContributorInsightsMode and
//     LastUpdateDateTime (epoch seconds), kept after a DISABLE.
//   - List: every table and GSI whose status is not DISABLED, by table name,
//     each table before its GSIs (by name); MaxResults <= 100 (default 100)
//     per page, NextToken while more remain.
// Difference: no FAILED status (there is no CloudWatch rule quota here).
#include "server/api/contributor_insights.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/logging.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::IndexDef;
using table::TableDef;

namespace {

constexpr std::string_view kRecordPrefix = "contributor-insights:";
constexpr std::string_view kAccessed = "ACCESSED_AND_THROTTLED_KEYS";
constexpr std::string_view kThrottled = "THROTTLED_KEYS";
// How long ENABLING and DISABLING show (DynamoDB: ~1 s and ~2 s).
constexpr uint64_t kEnablingMs = 1000;
constexpr uint64_t kDisablingMs = 2000;
constexpr int64_t kMaxListResults = 100;
// GET /contributor-insights: contributors per rule.
constexpr size_t kTopContributors = 10;

// Serialises the settings' writers (SystemRecords is last-writer-wins per key).
std::mutex& UpdateMutex() {
  static std::mutex mu;
  return mu;
}

// The stored settings of one table or GSI.
struct Setting {
  std::string table, index;
  bool enabled = false;
  std::string mode = std::string(kAccessed);
  uint64_t last_update_ms = 0;
  uint64_t rule_ms = 0;
};

std::string RecordKey(uint64_t table_id, uint32_t index_id) {
  return fmt::format("{}{:016x}:{:08x}", kRecordPrefix, table_id, index_id);
}

std::string EncodeSetting(const Setting& s) {
  json::object o{{"v", 1},
                 {"TableName", s.table},
                 {"IndexName", s.index},
                 {"Enabled", s.enabled},
                 {"Mode", s.mode},
                 {"LastUpdateMs", s.last_update_ms},
                 {"RuleMs", s.rule_ms}};
  return json::serialize(o);
}

bool DecodeSetting(std::string_view text, Setting* s) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  auto str = [&](std::string_view k, std::string* out) {
    const json::value* x = o.if_contains(k);
    if (x == nullptr || !x->is_string()) return false;
    *out = std::string(x->get_string());
    return true;
  };
  auto num = [&](std::string_view k, uint64_t* out) {
    const json::value* x = o.if_contains(k);
    if (x == nullptr) return false;
    if (x->is_uint64()) {
      *out = x->get_uint64();
    } else if (x->is_int64() && x->get_int64() >= 0) {
      *out = static_cast<uint64_t>(x->get_int64());
    } else {
      return false;
    }
    return true;
  };
  const json::value* en = o.if_contains("Enabled");
  if (en == nullptr || !en->is_bool()) return false;
  s->enabled = en->get_bool();
  return str("TableName", &s->table) && str("IndexName", &s->index) && str("Mode", &s->mode) &&
         num("LastUpdateMs", &s->last_update_ms) && num("RuleMs", &s->rule_ms);
}

// "ENABLING", "ENABLED", "DISABLING" or "DISABLED" at `now`.
std::string_view StatusAt(const Setting& s, uint64_t now) {
  const uint64_t age = now >= s.last_update_ms ? now - s.last_update_ms : 0;
  if (s.enabled) return age < kEnablingMs ? "ENABLING" : "ENABLED";
  if (s.last_update_ms != 0 && age < kDisablingMs) return "DISABLING";
  return "DISABLED";
}

bool HasSortKey(const TableDef& d, const std::string& index) {
  if (index.empty()) return d.sort_key.has_value();
  const IndexDef* ix = d.FindIndex(index);
  return ix != nullptr && !ix->sort_key.empty();
}

std::vector<ContributorInsights::RuleSpec> Rules(const Setting& s, bool sort_key) {
  std::vector<RuleKind> kinds;
  if (s.mode != kThrottled) {
    kinds.push_back(RuleKind::kPKC);
    if (sort_key) kinds.push_back(RuleKind::kSKC);
  }
  kinds.push_back(RuleKind::kPKT);
  if (sort_key) kinds.push_back(RuleKind::kSKT);
  const std::string resource = s.index.empty() ? s.table : s.table + "-" + s.index;
  std::vector<ContributorInsights::RuleSpec> out;
  for (RuleKind k : kinds) {
    out.push_back({k, fmt::format("DynamoDBContributorInsights-{}-{}-{}", RuleKindName(k), resource,
                                  s.rule_ms)});
  }
  return out;
}

// TableName, which may be the table's ARN ("arn:...:table/<name>"), checked
// as every TableName.
std::string TableNameOrArn(const json::object& req) {
  std::optional<std::string> name = GetString(req, "TableName");
  if (name && name->starts_with("arn:")) {
    const size_t at = name->find(":table/");
    if (at != std::string::npos) {
      json::object copy;
      copy["TableName"] = name->substr(at + 7);
      return RequireTableName(copy);
    }
  }
  return RequireTableName(req);
}

// IndexName (constraint errors added to c).
std::optional<std::string> IndexNameMember(const json::object& req, Constraints* c) {
  std::optional<std::string> index = GetString(req, "IndexName");
  if (!index) return std::nullopt;
  if (index->size() < 3) {
    c->Add(Quote(*index), "indexName", "Member must have length greater than or equal to 3");
  } else if (index->size() > 255) {
    c->Add(Quote(*index), "indexName", "Member must have length less than or equal to 255");
  }
  for (char ch : *index) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') {
      c->Add(Quote(*index), "indexName",
             "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
      break;
    }
  }
  return index;
}

// The table (and GSI) named, or ResourceNotFoundException as DynamoDB words it.
// *index_id: 0 for the table.
TableDef Resolve(Context& ctx, const std::string& table, const std::string& index,
                 uint32_t* index_id) {
  TableDef d;
  Check(ctx.store->DescribeTable(table, &d));
  *index_id = 0;
  if (!index.empty()) {
    const IndexDef* ix = d.FindIndex(index);
    if (ix == nullptr || !ix->global()) {
      throw ResourceNotFound(fmt::format(
          "Requested resource not found: Index: {} not found for table: {}", index, table));
    }
    *index_id = ix->id;
  }
  return d;
}

// The stored setting, or nullopt when never configured.
std::optional<Setting> ReadSetting(table::TableStore* store, uint64_t table_id, uint32_t index_id) {
  table::SystemRecords* records = store->system_records();
  if (records == nullptr) return std::nullopt;
  std::string value;
  bool found = false;
  Check(records->Get(RecordKey(table_id, index_id), &value, &found));
  Setting s;
  if (!found || !DecodeSetting(value, &s)) return std::nullopt;
  return s;
}

// Keeps the counting in step with the stored setting of a live table or
// index: a table deleted and re-created under the same name starts without
// the old one's rules.
void SyncRules(ContributorInsights* insights, const std::optional<Setting>& s,
               const std::string& table, const std::string& index) {
  if (insights == nullptr) return;
  if ((!s || !s->enabled) && insights->Enabled(table, index)) insights->Disable(table, index);
}

json::object UpdateContributorInsights(Context& ctx, const json::object& req) {
  const std::string table = TableNameOrArn(req);
  Constraints c;
  std::optional<std::string> index = IndexNameMember(req, &c);
  std::optional<std::string> action = GetString(req, "ContributorInsightsAction");
  if (!action) {
    c.Add("null", "contributorInsightsAction", "Member must not be null");
  } else if (*action != "ENABLE" && *action != "DISABLE") {
    c.Add(Quote(*action), "contributorInsightsAction",
          "Member must satisfy enum value set: [ENABLE, DISABLE]");
  }
  std::optional<std::string> mode = GetString(req, "ContributorInsightsMode");
  if (mode && *mode != kAccessed && *mode != kThrottled) {
    c.Add(Quote(*mode), "contributorInsightsMode",
          "Member must satisfy enum value set: [ACCESSED_AND_THROTTLED_KEYS, THROTTLED_KEYS]");
  }
  c.ThrowIfAny();
  const std::string index_name = index.value_or("");

  std::lock_guard lock(UpdateMutex());
  uint32_t index_id = 0;
  const TableDef d = Resolve(ctx, table, index_name, &index_id);
  const uint64_t now = NowMs(ctx.options);
  std::optional<Setting> current = ReadSetting(ctx.store, d.table_id, index_id);
  SyncRules(ctx.insights, current, table, index_name);
  Setting s = current.value_or(Setting{});
  s.table = table;
  s.index = index_name;
  const std::string_view status = current ? StatusAt(*current, now) : "DISABLED";
  bool changed = false;
  if (*action == "ENABLE") {
    if (d.status != table::TableStatus::kActive) {
      throw ValidationError(
          "Table or Index is not in a valid state to update Key Access Insights: TableStatus "
          "must be ACTIVE to enable ContributorInsights.");
    }
    if (!index_name.empty() && d.FindIndex(index_name)->status != table::IndexStatus::kActive) {
      throw ValidationError(
          "Table or Index is not in a valid state to update Key Access Insights: IndexStatus "
          "must be ACTIVE to enable ContributorInsights.");
    }
    if (current && current->enabled) {
      // Enabled: only a change of mode changes anything.
      if (mode && *mode != current->mode) {
        s.mode = *mode;
        s.last_update_ms = now;
        changed = true;
      }
    } else {
      s.enabled = true;
      s.mode = mode.value_or(std::string(kAccessed));
      s.last_update_ms = now;
      s.rule_ms = now;
      changed = true;
    }
  } else if (current && current->enabled) {
    s.enabled = false;
    s.last_update_ms = now;
    changed = true;
  }
  if (changed) {
    table::SystemRecords* records = ctx.store->system_records();
    if (records == nullptr) throw InternalError("no system records");
    Check(records->Put(RecordKey(d.table_id, index_id), EncodeSetting(s)));
    if (ctx.insights != nullptr && !s.enabled) ctx.insights->Disable(table, index_name);
  }
  // Rules kept across a reconfiguration keep their counts.
  if (ctx.insights != nullptr && s.enabled) {
    ctx.insights->Enable(table, index_name, Rules(s, HasSortKey(d, index_name)));
  }
  json::object out;
  out["TableName"] = table;
  if (!index_name.empty()) out["IndexName"] = index_name;
  out["ContributorInsightsStatus"] = changed ? (s.enabled ? "ENABLING" : "DISABLING") : status;
  if (changed || current) out["ContributorInsightsMode"] = s.mode;
  return out;
}

json::object DescribeContributorInsights(Context& ctx, const json::object& req) {
  const std::string table = TableNameOrArn(req);
  Constraints c;
  std::optional<std::string> index = IndexNameMember(req, &c);
  c.ThrowIfAny();
  const std::string index_name = index.value_or("");
  uint32_t index_id = 0;
  const TableDef d = Resolve(ctx, table, index_name, &index_id);
  const uint64_t now = NowMs(ctx.options);
  std::optional<Setting> s = ReadSetting(ctx.store, d.table_id, index_id);
  SyncRules(ctx.insights, s, table, index_name);
  json::object o;
  o["TableName"] = table;
  if (!index_name.empty()) o["IndexName"] = index_name;
  if (!s) {
    o["ContributorInsightsStatus"] = "DISABLED";
    return o;
  }
  const std::string_view status = StatusAt(*s, now);
  if (status != "DISABLED") {
    json::array names;
    for (const auto& r : Rules(*s, HasSortKey(d, index_name))) names.emplace_back(r.name);
    o["ContributorInsightsRuleList"] = std::move(names);
  }
  o["ContributorInsightsStatus"] = status;
  o["LastUpdateDateTime"] = static_cast<double>(s->last_update_ms) / 1000.0;
  o["ContributorInsightsMode"] = s->mode;
  return o;
}

// One listed entry: a live table or GSI with a setting.
struct Entry {
  std::string table, index;  // index "" = the table (sorts first)
  Setting setting;
};

// Every live configured table and GSI, in List's order; stale records
// (table or index gone) are removed.
std::vector<Entry> AllEntries(table::TableStore* store, ContributorInsights* insights) {
  std::vector<Entry> out;
  table::SystemRecords* records = store->system_records();
  if (records == nullptr) return out;
  std::vector<std::pair<std::string, std::string>> rows;
  Check(records->List(kRecordPrefix, &rows));
  std::vector<std::string> stale;
  for (auto& [key, value] : rows) {
    Setting s;
    uint64_t table_id = 0;
    uint32_t index_id = 0;
    if (!DecodeSetting(value, &s) ||
        std::sscanf(key.c_str() + kRecordPrefix.size(), "%16lx:%8x", &table_id, &index_id) != 2) {
      LogInfo("contributor insights: ignoring malformed record {}", key);
      continue;
    }
    TableDef d;
    bool live = store->DescribeTable(s.table, &d).ok() && d.table_id == table_id;
    if (live && index_id != 0) {
      const IndexDef* ix = d.FindIndex(s.index);
      live = ix != nullptr && ix->id == index_id;
    }
    if (!live) {
      stale.push_back(key);
      continue;
    }
    out.push_back(Entry{s.table, s.index, std::move(s)});
  }
  if (!stale.empty()) {
    std::lock_guard lock(UpdateMutex());
    for (const std::string& key : stale) {
      std::string value;
      bool found = false;
      Setting s;
      // Forget the rules of the name only if no live table took it over
      // with rules of its own (those are in `out`).
      if (records->Get(key, &value, &found).ok() && found && DecodeSetting(value, &s) &&
          insights != nullptr && std::none_of(out.begin(), out.end(), [&](const Entry& e) {
            return e.table == s.table && e.index == s.index;
          })) {
        insights->Disable(s.table, s.index);
      }
      records->Delete(key).PermitUnchecked();
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.table != b.table ? a.table < b.table : a.index < b.index;
  });
  return out;
}

std::string HexEncode(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) out += fmt::format("{:02x}", ch);
  return out;
}

bool HexDecode(std::string_view s, std::string* out) {
  if (s.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    for (size_t j = 0; j < 2; j++) {
      const char ch = s[i + j];
      v <<= 4;
      if (ch >= '0' && ch <= '9') {
        v |= static_cast<unsigned>(ch - '0');
      } else if (ch >= 'a' && ch <= 'f') {
        v |= static_cast<unsigned>(ch - 'a' + 10);
      } else {
        return false;
      }
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

json::object ListContributorInsights(Context& ctx, const json::object& req) {
  std::optional<std::string> table;
  if (req.if_contains("TableName") != nullptr && !req.at("TableName").is_null()) {
    table = TableNameOrArn(req);
  }
  std::optional<int64_t> max = GetInt(req, "MaxResults");
  std::optional<std::string> token = GetString(req, "NextToken");
  Constraints c;
  if (max && *max > kMaxListResults) {
    c.Add(Quote(std::to_string(*max)), "maxResults",
          "Member must have value less than or equal to 100");
  }
  c.ThrowIfAny();
  const size_t limit = static_cast<size_t>(max && *max > 0 ? *max : kMaxListResults);
  // The position after which to continue: "<table>\n<index>".
  std::optional<std::pair<std::string, std::string>> after;
  if (token) {
    std::string text;
    const size_t nl = HexDecode(*token, &text) ? text.find('\n') : std::string::npos;
    if (nl == std::string::npos) throw ValidationError("Invalid NextToken");
    after.emplace(text.substr(0, nl), text.substr(nl + 1));
  }
  if (table) {
    TableDef d;
    Check(ctx.store->DescribeTable(*table, &d));
  }
  const uint64_t now = NowMs(ctx.options);
  json::array summaries;
  std::optional<std::string> next;
  for (Entry& e : AllEntries(ctx.store, ctx.insights)) {
    if (table && e.table != *table) continue;
    if (after && std::pair(e.table, e.index) <= *after) continue;
    const std::string_view status = StatusAt(e.setting, now);
    if (status == "DISABLED") continue;
    if (summaries.size() == limit) {
      const json::object& last = summaries.back().get_object();
      const json::value* ix = last.if_contains("IndexName");
      next = HexEncode(std::string(last.at("TableName").get_string()) + "\n" +
                       (ix != nullptr ? std::string(ix->get_string()) : std::string()));
      break;
    }
    json::object o;
    o["TableName"] = e.table;
    if (!e.index.empty()) o["IndexName"] = e.index;
    o["ContributorInsightsStatus"] = status;
    o["ContributorInsightsMode"] = e.setting.mode;
    summaries.emplace_back(std::move(o));
  }
  json::object out;
  out["ContributorInsightsSummaries"] = std::move(summaries);
  if (next) out["NextToken"] = *next;
  return out;
}

// ---- GET /contributor-insights ----

// The value of query parameter `name` in `target` (percent-decoded, '+' as
// space), or nullopt.
std::optional<std::string> QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string out;
    for (size_t i = 0; i < raw.size(); i++) {
      if (raw[i] == '+') {
        out.push_back(' ');
      } else if (raw[i] == '%' && i + 2 < raw.size()) {
        std::string decoded;
        const char hex[2] = {
            static_cast<char>(std::tolower(static_cast<unsigned char>(raw[i + 1]))),
            static_cast<char>(std::tolower(static_cast<unsigned char>(raw[i + 2])))};
        if (HexDecode(std::string_view(hex, 2), &decoded)) {
          out += decoded;
          i += 2;
        } else {
          out.push_back(raw[i]);
        }
      } else {
        out.push_back(raw[i]);
      }
    }
    return out;
  }
  return std::nullopt;
}

json::value KeyJson(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::value(text);
  return v;
}

// The endpoint's object for one table or index.
json::object InsightsJson(ContributorInsights* insights, const Setting* s, const std::string& table,
                          const std::string& index, uint64_t now, uint64_t window_s) {
  json::object o;
  o["TableName"] = table;
  if (!index.empty()) o["IndexName"] = index;
  const std::string_view status = s != nullptr ? StatusAt(*s, now) : "DISABLED";
  o["ContributorInsightsStatus"] = status;
  if (s != nullptr) o["ContributorInsightsMode"] = s->mode;
  json::array rules;
  std::vector<ContributorInsights::RuleReport> reports;
  if (s != nullptr && s->enabled &&
      insights->Report(table, index, window_s * 1000, kTopContributors, &reports)) {
    for (const auto& r : reports) {
      json::array top;
      for (const auto& t : r.top) {
        json::array keys;
        for (const std::string& k : t.keys) keys.push_back(KeyJson(k));
        top.push_back(json::object{{"Keys", std::move(keys)}, {"Value", t.value}});
      }
      rules.push_back(json::object{{"RuleName", r.name},
                                   {"Kind", RuleKindName(r.kind)},
                                   {"WindowSeconds", window_s},
                                   {"TopContributors", std::move(top)}});
    }
  }
  o["Rules"] = std::move(rules);
  return o;
}

void ServeInsights(Service* service, table::TableStore* store, const HttpRequest& req,
                   HttpResponse* resp) {
  resp->content_type = "application/json";
  auto fail = [&](int status, std::string_view type, const std::string& message) {
    resp->status = status;
    resp->body = json::serialize(json::object{{"__type", type}, {"message", message}});
  };
  ContributorInsights* insights = &service->contributor_insights();
  const uint64_t now = NowMs(&service->options());
  uint64_t window_s = 60;
  if (std::optional<std::string> w = QueryParam(req.target, "WindowSeconds")) {
    if (*w == "60") {
      window_s = 60;
    } else if (*w == "300") {
      window_s = 300;
    } else {
      fail(400, "ValidationException", "WindowSeconds must be 60 or 300");
      return;
    }
  }
  std::optional<std::string> table = QueryParam(req.target, "TableName");
  const std::string index = QueryParam(req.target, "IndexName").value_or("");
  json::object out;
  if (!table) {
    // Every table and index whose insights are not DISABLED.
    json::array all;
    for (const Entry& e : AllEntries(store, insights)) {
      if (StatusAt(e.setting, now) == "DISABLED") continue;
      all.push_back(InsightsJson(insights, &e.setting, e.table, e.index, now, window_s));
    }
    out["ContributorInsights"] = std::move(all);
  } else {
    TableDef d;
    if (!store->DescribeTable(*table, &d).ok()) {
      fail(404, "ResourceNotFoundException",
           fmt::format("Requested resource not found: Table: {} not found", *table));
      return;
    }
    uint32_t index_id = 0;
    if (!index.empty()) {
      const IndexDef* ix = d.FindIndex(index);
      if (ix == nullptr || !ix->global()) {
        fail(404, "ResourceNotFoundException",
             fmt::format("Requested resource not found: Index: {} not found for table: {}", index,
                         *table));
        return;
      }
      index_id = ix->id;
    }
    std::optional<Setting> s = ReadSetting(store, d.table_id, index_id);
    SyncRules(insights, s, *table, index);
    out = InsightsJson(insights, s ? &*s : nullptr, *table, index, now, window_s);
  }
  resp->status = 200;
  resp->body = json::serialize(out);
}

}  // namespace

void LoadContributorInsights(table::TableStore* store, ContributorInsights* insights) {
  for (const Entry& e : AllEntries(store, insights)) {
    if (!e.setting.enabled) continue;
    TableDef d;
    if (!store->DescribeTable(e.table, &d).ok()) continue;
    insights->Enable(e.table, e.index, Rules(e.setting, HasSortKey(d, e.index)));
  }
}

namespace {
class InsightsListener final : public CapacityListener {
 public:
  explicit InsightsListener(ContributorInsights* insights) : insights_(insights) {}
  void OnCapacity(const CapacityEvent& e) override {
    insights_->Record(e.table, e.index, e.partition_key, e.sort_key, e.units, e.throttled);
  }
  bool WantsKeys(std::string_view table) const override { return insights_->Tracks(table); }

 private:
  ContributorInsights* const insights_;
};
}  // namespace

std::unique_ptr<CapacityListener> NewContributorInsightsListener(ContributorInsights* insights) {
  return std::make_unique<InsightsListener>(insights);
}

Service::GetHandler ContributorInsightsGetHandler(Service* service, table::TableStore* store) {
  return [service, store](const HttpRequest& req, HttpResponse* resp) {
    try {
      ServeInsights(service, store, req, resp);
    } catch (const ApiError& e) {
      resp->status = e.http_status;
      resp->content_type = "application/json";
      resp->body = json::serialize(e.Body());
    }
  };
}

void RegisterContributorInsightsOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["UpdateContributorInsights"] = UpdateContributorInsights;
  (*ops)["DescribeContributorInsights"] = DescribeContributorInsights;
  (*ops)["ListContributorInsights"] = ListContributorInsights;
}

}  // namespace basalt::server::api
