#include "server/triggers/delivery.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <set>

#include "engine/base/checksum.h"
#include "engine/base/logging.h"
#include "server/api/stream_json.h"
#include "server/triggers/invoker.h"

namespace basalt::server::triggers {

namespace json = boost::json;

namespace {

// Lambda's invocation payload limit (6 MB), less room for the event's frame.
constexpr size_t kMaxEventBytes = 6'000'000;
// Bytes of records one ReadShard call returns at most.
constexpr size_t kReadBytes = size_t{4} << 20;

std::string IsoTime(uint64_t ms, bool millis) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  if (!millis) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

// The answer of a call, for the last processing result and failure records.
std::string Describe(const InvokeResult& r) {
  if (!r.answered) return r.error;
  if (r.http) return fmt::format("HTTP status {}", r.status);
  if (!r.error.empty()) return r.error;
  return fmt::format("exit status {}", r.status);
}

}  // namespace

// ---- checkpoints ----

std::string CheckpointKey(const std::string& uuid, const std::string& shard_id) {
  return fmt::format("{}{}:{}", kCheckpointKeyPrefix, uuid, shard_id);
}

std::string EncodeCheckpoint(const Checkpoint& c) {
  json::object o{{"Next", c.next}, {"Done", c.done}};
  if (!c.windows.empty()) {
    json::array w;
    for (const Checkpoint::Window& e : c.windows) {
      json::object o{{"Start", e.start}, {"State", e.state}};
      if (e.closed_end != 0) o["ClosedEnd"] = e.closed_end;
      w.push_back(std::move(o));
    }
    o["Windows"] = std::move(w);
  }
  return json::serialize(o);
}

Status DecodeCheckpoint(std::string_view text, Checkpoint* c) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* next = o ? o->if_contains("Next") : nullptr;
  const json::value* done = o ? o->if_contains("Done") : nullptr;
  if (next == nullptr || !next->is_number() || done == nullptr || !done->is_bool()) {
    return Status::Corruption("trigger checkpoint");
  }
  *c = Checkpoint();
  c->next = next->to_number<uint64_t>();
  c->done = done->get_bool();
  if (const json::value* w = o->if_contains("Windows"); w != nullptr && w->is_array()) {
    for (const json::value& e : w->get_array()) {
      const json::object* eo = e.if_object();
      const json::value* start = eo ? eo->if_contains("Start") : nullptr;
      const json::value* state = eo ? eo->if_contains("State") : nullptr;
      const json::value* closed = eo ? eo->if_contains("ClosedEnd") : nullptr;
      if (start == nullptr || !start->is_number() || state == nullptr || !state->is_object() ||
          (closed != nullptr && !closed->is_number())) {
        return Status::Corruption("trigger checkpoint window");
      }
      c->windows.push_back({start->to_number<uint64_t>(),
                            closed != nullptr ? closed->to_number<uint64_t>() : 0,
                            state->get_object()});
    }
  }
  return Status::OK();
}

Status InitialCheckpoints(
    table::TableStore* store, const TriggerDef& def,
    std::vector<std::pair<std::string, std::optional<std::string>>>* changes) {
  if (def.starting_position != StartingPosition::kLatest) return Status::OK();
  table::StreamInfo info;
  std::vector<table::ShardInfo> shards;
  Status s = store->DescribeStream(def.table, def.stream_label, &info, &shards);
  if (!s.ok()) return s;
  for (const table::ShardInfo& sh : shards) {
    Checkpoint c;
    if (sh.ending_sequence) {
      c.done = true;
    } else {
      uint64_t trim_horizon = 0;
      s = store->ShardBounds(def.table, def.stream_label, sh.shard_id, &trim_horizon, &c.next);
      if (!s.ok()) return s;
    }
    changes->emplace_back(CheckpointKey(def.uuid, sh.shard_id), EncodeCheckpoint(c));
  }
  return Status::OK();
}

// ---- the runner's pieces ----

struct TriggerRunner::Record {
  uint64_t sequence = 0;
  uint64_t created_ms = 0;
  json::object json;  // Lambda's record (what FilterCriteria sees)
  std::string text;   // json, serialized once
  uint64_t key_hash = 0;
};

struct TriggerRunner::Lane {
  std::unique_ptr<Invoker> invoker;
  uint64_t window_start = 0;  // tumbling window open since (ms), 0 = none
  uint64_t closed_end = 0;    // end of the last window closed (ms), 0 = none
  json::object state;         // the window's state, as the target last returned it
};

struct TriggerRunner::Shard {
  std::string id;
  bool known = false;  // a checkpoint was stored
  Checkpoint cp;
  std::vector<Lane> lanes;
  std::thread thread;
  std::atomic<bool> finished{false};
};

struct TriggerRunner::Batch {
  std::vector<const Record*> records;
  uint64_t window_start = 0;  // tumbling windows: the batch's window
  bool final_for_window = false;
  int attempts = 0;
};

TriggerRunner::TriggerRunner(TriggerDef def, table::TableStore* store, std::string region,
                             std::string stream_arn, std::string partition_key,
                             DeliveryOptions options)
    : def_(std::move(def)),
      store_(store),
      region_(std::move(region)),
      stream_arn_(std::move(stream_arn)),
      partition_key_(std::move(partition_key)),
      options_(std::move(options)) {
  if (def_.filter_criteria) {
    // Validated when the trigger was created or updated.
    EventFilter::Parse(*def_.filter_criteria, &filter_).PermitUnchecked();
  }
}

TriggerRunner::~TriggerRunner() { Stop(); }

void TriggerRunner::Start() {
  if (!def_.enabled || coordinator_.joinable()) return;
  stopping_ = false;
  coordinator_ = std::thread([this] { Coordinate(); });
}

void TriggerRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (coordinator_.joinable()) coordinator_.join();
}

TriggerStats TriggerRunner::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool TriggerRunner::Sleep(uint64_t ms) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
  return !stopping_;
}

uint64_t TriggerRunner::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void TriggerRunner::SetResult(std::string result) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.last_processing_result = std::move(result);
}

// ---- shards ----

void TriggerRunner::Coordinate() {
  std::map<std::string, Checkpoint> stored;
  {
    std::vector<std::pair<std::string, std::string>> recs;
    const std::string prefix = CheckpointKey(def_.uuid, "");
    Status s = store_->system_records()->List(prefix, &recs);
    if (!s.ok()) LogInfo("trigger {}: reading checkpoints: {}", def_.uuid, s.ToString());
    for (const auto& [key, value] : recs) {
      Checkpoint c;
      if (DecodeCheckpoint(value, &c).ok()) stored[key.substr(prefix.size())] = std::move(c);
    }
  }
  std::set<std::string> done;
  for (const auto& [id, c] : stored) {
    if (c.done) done.insert(id);
  }
  std::map<std::string, std::unique_ptr<Shard>> running;
  while (!stopping_) {
    table::StreamInfo info;
    std::vector<table::ShardInfo> shards;
    Status s = store_->DescribeStream(def_.table, def_.stream_label, &info, &shards);
    if (!s.ok()) {
      SetResult("PROBLEM: The stream " + stream_arn_ + " cannot be read: " + s.ToString());
      Sleep(options_.describe_interval_ms);
      continue;
    }
    for (auto& [id, sh] : running) {
      if (sh->finished && sh->thread.joinable()) {
        sh->thread.join();
        if (sh->cp.done) done.insert(id);
      }
    }
    std::set<std::string> present;
    for (const table::ShardInfo& si : shards) present.insert(si.shard_id);
    for (const table::ShardInfo& si : shards) {
      if (done.count(si.shard_id) != 0 || running.count(si.shard_id) != 0) continue;
      // Children after their parent (while the parent is still retained).
      if (!si.parent_shard_id.empty() && present.count(si.parent_shard_id) != 0 &&
          done.count(si.parent_shard_id) == 0) {
        continue;
      }
      auto sh = std::make_unique<Shard>();
      sh->id = si.shard_id;
      if (auto it = stored.find(si.shard_id); it != stored.end()) {
        sh->known = true;
        sh->cp = it->second;
      }
      Shard* p = sh.get();
      sh->thread = std::thread([this, p] {
        RunShard(p);
        p->finished = true;
      });
      running.emplace(si.shard_id, std::move(sh));
    }
    Sleep(options_.describe_interval_ms);
  }
  for (auto& [id, sh] : running) {
    if (sh->thread.joinable()) sh->thread.join();
  }
}

void TriggerRunner::RunShard(Shard* sh) {
  const size_t lanes = std::max<uint32_t>(1, def_.parallelization_factor);
  sh->lanes.resize(lanes);
  for (size_t i = 0; i < lanes && i < sh->cp.windows.size(); i++) {
    sh->lanes[i].window_start = sh->cp.windows[i].start;
    sh->lanes[i].closed_end = sh->cp.windows[i].closed_end;
    sh->lanes[i].state = sh->cp.windows[i].state;
  }
  auto save = [&]() {
    sh->cp.windows.clear();
    if (def_.tumbling_window_s > 0) {
      for (const Lane& l : sh->lanes)
        sh->cp.windows.push_back({l.window_start, l.closed_end, l.state});
    }
    Status s =
        store_->system_records()->Put(CheckpointKey(def_.uuid, sh->id), EncodeCheckpoint(sh->cp));
    if (!s.ok()) SetResult("PROBLEM: saving the checkpoint of " + sh->id + ": " + s.ToString());
  };
  while (!sh->known && !stopping_) {
    uint64_t latest = 0;
    Status s = store_->ShardBounds(def_.table, def_.stream_label, sh->id, &sh->cp.next, &latest);
    if (s.IsNotFound()) return;
    if (s.ok()) break;
    SetResult("PROBLEM: " + s.ToString());
    Sleep(options_.describe_interval_ms);
  }
  const size_t want = std::min<size_t>(size_t{def_.batch_size} * lanes, 10000);
  uint64_t read_pos = sh->cp.next;
  uint64_t first_seen_ms = 0;
  std::vector<Record> pending;
  while (!stopping_) {
    std::vector<table::StreamRecord> got;
    uint64_t next_seq = read_pos;
    bool end = false;
    Status s;
    if (pending.size() < want) {
      s = store_->ReadShard(def_.table, def_.stream_label, sh->id, read_pos, want - pending.size(),
                            kReadBytes, &got, &next_seq, &end);
    }
    if (s.IsNotFound()) return;  // the shard left the retention
    if (s.IsAborted() && s.subcode() == Status::SubCode::kTrimmed) {
      uint64_t th = 0, latest = 0;
      if (store_->ShardBounds(def_.table, def_.stream_label, sh->id, &th, &latest).ok()) {
        SetResult(fmt::format("PROBLEM: records {}..{} of {} left the stream before delivery",
                              read_pos, th, sh->id));
        read_pos = th;
      }
      continue;
    }
    if (!s.ok()) {
      SetResult("PROBLEM: reading " + sh->id + ": " + s.ToString());
      Sleep(options_.poll_interval_ms);
      continue;
    }
    for (table::StreamRecord& r : got) {
      Record rec;
      rec.sequence = r.sequence;
      rec.created_ms = r.created_ms;
      rec.json = api::StreamRecordJson(region_, def_.table, def_.stream_label, sh->id, r);
      if (r.by_ttl) {
        // Lambda's event names Identity's members in lower camel case.
        rec.json["userIdentity"] = {{"type", "Service"}, {"principalId", "dynamodb.amazonaws.com"}};
      }
      rec.json["eventSourceARN"] = stream_arn_;
      rec.text = json::serialize(rec.json);
      const json::value* pk =
          rec.json["dynamodb"].as_object().at("Keys").as_object().if_contains(partition_key_);
      if (pk != nullptr) rec.key_hash = Hash64(json::serialize(*pk));
      pending.push_back(std::move(rec));
    }
    read_pos = next_seq;
    const uint64_t now = NowMs();
    if (pending.empty()) {
      if (end) {
        // Close the open tumbling windows, then the shard is done.
        if (!DeliverChunk(sh, &pending, true)) return;
        sh->cp.next = read_pos;
        sh->cp.done = true;
        save();
        return;
      }
      bool window_over = false;
      for (const Lane& l : sh->lanes) {
        window_over |=
            l.window_start != 0 && now >= l.window_start + uint64_t{def_.tumbling_window_s} * 1000;
      }
      if (window_over) {
        if (!DeliverChunk(sh, &pending, false)) return;
        save();
      }
      Sleep(options_.poll_interval_ms);
      continue;
    }
    if (first_seen_ms == 0) first_seen_ms = now;
    const bool full = pending.size() >= want || end;
    if (!full && def_.maximum_batching_window_s > 0 &&
        now < first_seen_ms + uint64_t{def_.maximum_batching_window_s} * 1000) {
      Sleep(options_.poll_interval_ms);
      continue;
    }
    if (!DeliverChunk(sh, &pending, false)) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.iterator_age_ms = static_cast<int64_t>(NowMs() - pending.back().created_ms);
    }
    sh->cp.next = read_pos;
    save();
    pending.clear();
    first_seen_ms = 0;
  }
}

// ---- delivery ----

bool TriggerRunner::DeliverChunk(Shard* sh, std::vector<Record>* records, bool shard_end) {
  const size_t lanes = sh->lanes.size();
  std::vector<std::vector<const Record*>> per_lane(lanes);
  uint64_t filtered = 0;
  for (const Record& r : *records) {
    if (!filter_.empty() && !filter_.Matches(r.json)) {
      filtered++;
      continue;
    }
    per_lane[lanes == 1 ? 0 : r.key_hash % lanes].push_back(&r);
  }
  if (filtered != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.records_filtered += filtered;
  }
  if (lanes == 1) return DeliverLane(sh, &sh->lanes[0], std::move(per_lane[0]), shard_end);
  std::vector<std::thread> threads;
  std::vector<char> ok(lanes, 1);
  for (size_t i = 0; i < lanes; i++) {
    if (per_lane[i].empty() && sh->lanes[i].window_start == 0) continue;
    threads.emplace_back([&, i] {
      ok[i] = DeliverLane(sh, &sh->lanes[i], std::move(per_lane[i]), shard_end) ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  return std::all_of(ok.begin(), ok.end(), [](char c) { return c != 0; });
}

bool TriggerRunner::DeliverLane(Shard* sh, Lane* lane, std::vector<const Record*> records,
                                bool shard_end) {
  const uint64_t window_ms = uint64_t{def_.tumbling_window_s} * 1000;
  Batch batch;
  size_t bytes = 0;
  auto flush = [&]() -> bool {
    if (batch.records.empty()) return true;
    Batch b = std::move(batch);
    batch = Batch();
    batch.window_start = b.window_start;
    bytes = 0;
    return Settle(sh, lane, std::move(b));
  };
  // The last invocation of a tumbling window: no records, the final state.
  auto close_window = [&]() -> bool {
    if (lane->window_start == 0) return true;
    Batch fin;
    fin.window_start = lane->window_start;
    fin.final_for_window = true;
    if (!Settle(sh, lane, std::move(fin))) return false;
    lane->closed_end = lane->window_start + window_ms;
    lane->window_start = 0;
    lane->state = json::object();
    return true;
  };
  for (const Record* r : records) {
    if (window_ms != 0) {
      // Windows only move forward: a record seen after its window closed (its
      // stream write landed just after the window's end passed), or created
      // before one already open (concurrent writers take their times before
      // their sequence numbers), joins the open or the next window.
      const uint64_t w =
          std::max({r->created_ms / window_ms * window_ms, lane->closed_end, lane->window_start});
      if (lane->window_start != 0 && w != lane->window_start) {
        if (!flush() || !close_window()) return false;
      }
      if (lane->window_start == 0) {
        lane->window_start = w;
        lane->state = json::object();
      }
      batch.window_start = w;
    }
    if (!batch.records.empty() &&
        (batch.records.size() >= def_.batch_size || bytes + r->text.size() + 1 > kMaxEventBytes)) {
      if (!flush()) return false;
    }
    batch.records.push_back(r);
    bytes += r->text.size() + 1;
  }
  if (!flush()) return false;
  if (window_ms != 0 && lane->window_start != 0 &&
      (shard_end || NowMs() >= lane->window_start + window_ms)) {
    return close_window();
  }
  return true;
}

std::string TriggerRunner::EventJson(const Shard& sh, const Lane& lane, const Batch& b) const {
  std::string out = "{\"Records\":[";
  for (size_t i = 0; i < b.records.size(); i++) {
    if (i != 0) out += ',';
    out += b.records[i]->text;
  }
  out += ']';
  if (def_.tumbling_window_s > 0) {
    // Lambda's tumbling-window event members ("Tumbling windows", Lambda
    // Developer Guide).
    const uint64_t end = b.window_start + uint64_t{def_.tumbling_window_s} * 1000;
    json::object extra{
        {"window", {{"start", IsoTime(b.window_start, false)}, {"end", IsoTime(end, false)}}},
        {"state", lane.state},
        {"shardId", sh.id},
        {"eventSourceARN", stream_arn_},
        {"isFinalInvokeForWindow", b.final_for_window},
        {"isWindowTerminatedEarly", false}};
    std::string s = json::serialize(extra);
    out += ',';
    out.append(s, 1, s.size() - 2);
  }
  out += '}';
  return out;
}

namespace {

// With ReportBatchItemFailures: the index of the first record to deliver
// again, b.size() when everything succeeded. Lambda's rules ("Configuring
// partial batch response with DynamoDB and Lambda"): an empty or null answer,
// or a null or empty batchItemFailures, is a complete success; invalid JSON,
// an empty or null itemIdentifier, a bad key name or an identifier that is no
// record of the batch fail the whole batch; otherwise delivery resumes at the
// lowest failed sequence number.
size_t FirstFailed(std::string_view body, const std::vector<uint64_t>& sequences);

}  // namespace

bool TriggerRunner::Settle(Shard* sh, Lane* lane, Batch first) {
  std::deque<Batch> work;
  work.push_back(std::move(first));
  const uint64_t window_ms = uint64_t{def_.tumbling_window_s} * 1000;
  while (!work.empty()) {
    if (stopping_) return false;
    Batch& b = work.front();
    if (def_.maximum_record_age_s >= 0 && !b.records.empty()) {
      const uint64_t now = NowMs();
      const uint64_t max_age = static_cast<uint64_t>(def_.maximum_record_age_s) * 1000;
      size_t expired = 0;
      while (expired < b.records.size() && now > b.records[expired]->created_ms + max_age) {
        expired++;
      }
      if (expired != 0) {
        Batch old;
        old.records.assign(b.records.begin(), b.records.begin() + static_cast<long>(expired));
        SendToFailureDestination(*sh, old, "RecordAgeExceeded", b.attempts, "");
        b.records.erase(b.records.begin(), b.records.begin() + static_cast<long>(expired));
        if (b.records.empty()) {
          work.pop_front();
          continue;
        }
      }
    }
    if (!lane->invoker) {
      if (!def_.target.url.empty()) {
        Url url;
        ParseUrl(def_.target.url, &url).PermitUnchecked();  // validated at creation
        HttpInvokerOptions ho;
        ho.verify_tls = def_.target.tls_verify;
        lane->invoker = MakeHttpInvoker(url, std::move(ho));
      } else {
        std::vector<std::string> argv = def_.target.command;
        argv[0] = options_.command_dir + "/" + argv[0];
        lane->invoker = MakeCommandInvoker(std::move(argv));
      }
    }
    const std::string payload = EventJson(*sh, *lane, b);
    InvokeResult res = lane->invoker->Invoke(
        payload, std::chrono::milliseconds(uint64_t{def_.target.timeout_seconds} * 1000));
    std::string status_text = Describe(res);
    size_t delivered = 0;
    bool success = res.ok();
    if (success && (def_.report_batch_item_failures || window_ms != 0)) {
      if (def_.report_batch_item_failures) {
        std::vector<uint64_t> sequences;
        for (const Record* r : b.records) sequences.push_back(r->sequence);
        delivered = FirstFailed(res.body, sequences);
        success = delivered == b.records.size();
        if (!success) status_text = "the response reported failed items";
      } else {
        delivered = b.records.size();
      }
      if (success && window_ms != 0) {
        json::error_code ec;
        json::value v = json::parse(res.body, ec);
        if (!ec && v.is_object()) {
          if (const json::value* st = v.get_object().if_contains("state")) {
            if (st->is_object()) lane->state = st->get_object();
          }
        }
      }
    } else if (success) {
      delivered = b.records.size();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.invocations++;
      stats_.records_delivered += delivered;
      if (!success) stats_.function_errors++;
      stats_.last_processing_result = success ? "OK" : "PROBLEM: Function call failed";
    }
    if (success) {
      work.pop_front();
      continue;
    }
    b.records.erase(b.records.begin(), b.records.begin() + static_cast<long>(delivered));
    b.attempts++;
    if (def_.maximum_retry_attempts >= 0 && b.attempts > def_.maximum_retry_attempts) {
      SendToFailureDestination(*sh, b, "RetryAttemptsExhausted", b.attempts, status_text);
      work.pop_front();
      continue;
    }
    const int attempts = b.attempts;
    if (def_.bisect_batch_on_function_error && b.records.size() > 1) {
      Batch left, right;
      const auto mid = b.records.begin() + static_cast<long>(b.records.size() / 2);
      left.records.assign(b.records.begin(), mid);
      right.records.assign(mid, b.records.end());
      left.window_start = right.window_start = b.window_start;
      // Splitting resets the retry count: each half gets its own
      // MaximumRetryAttempts (Lambda's bisection keeps halving down to the
      // failing record, which then alone exhausts its retries).
      work.pop_front();
      work.push_front(std::move(right));
      work.push_front(std::move(left));
    }
    const uint64_t backoff = std::min<uint64_t>(
        uint64_t{options_.backoff_base_ms} << std::min(attempts - 1, 20), options_.backoff_max_ms);
    if (!Sleep(backoff)) return false;
  }
  return true;
}

namespace {

size_t FirstFailed(std::string_view body, const std::vector<uint64_t>& b) {
  const size_t all = b.size();
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return all;
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return 0;
  if (!v.is_object()) return all;
  const json::value* failures = v.get_object().if_contains("batchItemFailures");
  if (failures == nullptr || failures->is_null()) return all;
  if (!failures->is_array()) return 0;
  if (failures->get_array().empty()) return all;
  size_t lowest = all;
  for (const json::value& f : failures->get_array()) {
    const json::object* fo = f.if_object();
    const json::value* id = fo ? fo->if_contains("itemIdentifier") : nullptr;
    if (id == nullptr || !id->is_string() || id->get_string().empty()) return 0;
    uint64_t seq = 0;
    if (!api::ParseStreamSequence(id->get_string(), &seq)) return 0;
    auto it = std::find(b.begin(), b.end(), seq);
    if (it == b.end()) return 0;
    lowest = std::min(lowest, static_cast<size_t>(it - b.begin()));
  }
  return lowest;
}

}  // namespace

void TriggerRunner::SendToFailureDestination(const Shard& sh, const Batch& b,
                                             const std::string& condition, int attempts,
                                             const std::string& status_text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.records_failed += b.records.size();
  }
  if (def_.on_failure.empty() || b.records.empty()) return;
  // Lambda's invocation record for a stream source (metadata only; Lambda
  // Developer Guide, "Capturing discarded batches for a DynamoDB event
  // source").
  const std::string target =
      def_.target.url.empty() ? "command:" + def_.target.command.front() : def_.target.url;
  json::object response{{"statusCode", 0}, {"executedVersion", "$LATEST"}};
  if (attempts > 0) {
    response["functionError"] = "Unhandled";
    response["errorMessage"] = status_text;
  }
  json::object rec{
      {"requestContext",
       {{"requestId", NewUuid()},
        {"functionArn", target},
        {"condition", condition},
        {"approximateInvokeCount", attempts}}},
      {"responseContext", std::move(response)},
      {"version", "1.0"},
      {"timestamp", IsoTime(NowMs(), true)},
      {"DDBStreamBatchInfo",
       {{"shardId", sh.id},
        {"startSequenceNumber", api::StreamSequenceText(b.records.front()->sequence)},
        {"endSequenceNumber", api::StreamSequenceText(b.records.back()->sequence)},
        {"approximateArrivalOfFirstRecord", IsoTime(b.records.front()->created_ms, false)},
        {"approximateArrivalOfLastRecord", IsoTime(b.records.back()->created_ms, false)},
        {"batchSize", b.records.size()},
        {"streamArn", stream_arn_}}}};
  const std::string line = json::serialize(rec);
  bool written = false;
  std::string error;
  if (def_.on_failure.starts_with("file:")) {
    std::lock_guard<std::mutex> lock(failure_mu_);  // one line at a time per trigger
    const std::string path = options_.failure_dir + "/" + def_.on_failure.substr(5);
    ::mkdir(options_.failure_dir.c_str(), 0750);
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0) {
      const std::string data = line + "\n";
      written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                ::fsync(fd) == 0;
      if (!written) error = std::strerror(errno);
      ::close(fd);
    } else {
      error = std::strerror(errno);
    }
  } else {
    Url url;
    if (ParseUrl(def_.on_failure, &url).ok()) {
      std::unique_ptr<Invoker> inv = MakeHttpInvoker(url, HttpInvokerOptions());
      for (int i = 0; i < 3 && !written && !stopping_; i++) {
        InvokeResult r = inv->Invoke(line, std::chrono::seconds(10));
        written = r.ok();
        if (!written) error = Describe(r);
      }
    }
  }
  if (!written) {
    LogInfo("trigger {}: on-failure destination {} not written: {}", def_.uuid, def_.on_failure,
            error);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.on_failure_errors++;
  }
}

}  // namespace basalt::server::triggers
