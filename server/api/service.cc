#include "server/api/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include "engine/base/logging.h"
#include "server/api/authorize.h"
#include "server/api/contributor_insights.h"
#include "server/api/errors.h"
#include "server/api/index_json.h"
#include "server/api/item_writes.h"
#include "server/api/table_json.h"
#include "server/http/compression.h"

namespace basalt::server::api {

namespace json = boost::json;

namespace {
constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kStreamsTargetPrefix = "DynamoDBStreams_20120810.";
constexpr std::string_view kAmzJson = "application/x-amz-json-1.0";
constexpr std::string_view kJson = "application/json";

void WriteError(const ApiError& e, const std::string& content_type, HttpResponse* r) {
  r->status = e.http_status;
  r->content_type = content_type;
  r->body = json::serialize(e.Body());
  r->headers.emplace_back("x-amzn-ErrorType", e.type);
}

// The body decoded from its Content-Encoding (server/http/compression.h), or
// DynamoDB's error: 500 InternalServerError for a coding it does not know or
// bytes that are not valid gzip/deflate (observed: ScyllaDB's public
// Alternator suite, test_compressed_request.py, run against DynamoDB); the
// answer to any request over the size limit for one that decodes too large.
void DecodeBody(const HttpRequest& req, size_t max_bytes, DecodedBody* out) {
  switch (DecodeRequestBody(req, max_bytes, out)) {
    case BodyDecode::kOk:
      return;
    case BodyDecode::kUnsupportedEncoding:
      throw InternalError("Unsupported Content-Encoding (gzip and deflate are supported)");
    case BodyDecode::kCorrupt:
      throw InternalError("The request body is not valid data of its Content-Encoding");
    case BodyDecode::kTooLarge:
      break;
  }
  ApiError e = ValidationError(fmt::format("Request size exceeds {} bytes", max_bytes));
  e.http_status = 413;
  throw e;
}

// The request's Content-Type without parameters, or DynamoDB's when it is
// not one of the two JSON types (errors must still reach the client as JSON).
std::string ErrorContentType(const HttpRequest& req) {
  std::string_view ctype = req.Header("content-type");
  ctype = ctype.substr(0, ctype.find(';'));
  while (!ctype.empty() && ctype.back() == ' ') ctype.remove_suffix(1);
  return std::string(ctype == kJson ? kJson : kAmzJson);
}

// The access key id of a SigV4 Authorization header ("AWS4-HMAC-SHA256
// Credential=AKID/date/region/service/aws4_request, ..."), "" if none.
std::string_view AccessKeyId(const HttpRequest& req) {
  std::string_view a = req.Header("authorization");
  const size_t at = a.find("Credential=");
  if (at == std::string_view::npos) return {};
  a.remove_prefix(at + 11);
  return a.substr(0, std::min(a.find('/'), a.find_first_of(", ")));
}

// Tells `observer` about one answered request.
void Report(RequestObserver* observer, std::string_view operation, std::string_view table,
            std::string_view access_key_id, const HttpResponse* response,
            std::chrono::steady_clock::time_point start) {
  RequestRecord r;
  r.operation = operation;
  r.table = table;
  r.access_key_id = access_key_id;
  r.response = response;
  r.latency_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  observer->OnRequest(r);
}

// Tells ServiceOptions::observer about one request when it goes out of scope
// (request_observer.h); nothing at all without an observer.
class ObservedRequest {
 public:
  ObservedRequest(RequestObserver* observer, const HttpRequest& req, const HttpResponse* resp)
      : observer_(observer), req_(req), resp_(resp) {
    if (observer_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ObservedRequest() {
    if (observer_ == nullptr) return;
    Report(observer_, operation_, table_,
           observer_->wants_details ? AccessKeyId(req_) : std::string_view(), resp_, start_);
  }
  ObservedRequest(const ObservedRequest&) = delete;
  ObservedRequest& operator=(const ObservedRequest&) = delete;
  // operation: a key of an operations map (outlives the request).
  void Set(std::string_view operation, const json::object& body) {
    if (observer_ == nullptr) return;
    operation_ = operation;
    if (!observer_->wants_details) return;
    if (const json::value* t = body.if_contains("TableName"); t != nullptr && t->is_string()) {
      table_ = std::string(t->get_string());
    }
  }

 private:
  RequestObserver* const observer_;
  const HttpRequest& req_;
  const HttpResponse* const resp_;
  std::chrono::steady_clock::time_point start_;
  std::string_view operation_;
  std::string table_;
};
}  // namespace

uint64_t NowMs(const ServiceOptions* options) {
  return options != nullptr && options->now_ms ? options->now_ms() : NowMs();
}

uint64_t Service::NowMs() const { return api::NowMs(&options_); }

bool Service::Authenticate(const HttpRequest& req, auth::Identity* identity,
                           HttpResponse* resp) const {
  auth::SignedRequest signed_request;
  signed_request.method = req.method;
  signed_request.target = req.target;
  signed_request.headers = &req.headers;
  signed_request.body = req.body;
  auth::AuthError error;
  if (options_.authenticator->Authenticate(signed_request, static_cast<int64_t>(NowMs() / 1000),
                                           identity, &error)) {
    return true;
  }
  // DynamoDB answers every authentication failure with HTTP 400.
  WriteError(CoralError(error.type, error.message), ErrorContentType(req), resp);
  return false;
}

void ConfigureTableStore(table::TableStoreOptions* options) {
  options->legacy_index_decoder = DecodeLegacyIndexJson;
}

std::string Context::TableArn(const std::string& table) const {
  return fmt::format("arn:aws:dynamodb:{}:{}:table/{}", options->region, options->account, table);
}

Service::Service(table::TableStore* store, ServiceOptions options) : options_(std::move(options)) {
  ctx_.store = store;
  ctx_.options = &options_;
  CapacityOptions co = options_.capacity;
  co.region = options_.region;
  co.account = options_.account;
  capacity_ = std::make_unique<CapacityManager>(std::move(co));
  capacity_->SetStore(store);
  ctx_.capacity = capacity_.get();
  ContributorInsights::Options io;
  io.now_ms = options_.now_ms;
  insights_ = std::make_unique<ContributorInsights>(std::move(io));
  ctx_.insights = insights_.get();
  LoadContributorInsights(store, insights_.get());
  insights_listener_ = NewContributorInsightsListener(insights_.get());
  capacity_->AddListener(insights_listener_.get());
  RegisterTableOperations(&ops_);
  RegisterTagOperations(&ops_);
  RegisterItemOperations(&ops_);
  RegisterReadOperations(&ops_);
  RegisterBatchOperations(&ops_);
  RegisterTtlOperations(&ops_);
  RegisterTransactionOperations(&ops_);
  RegisterPartiqlOperations(&ops_);
  RegisterResourcePolicyOperations(&ops_);
  RegisterContributorInsightsOperations(&ops_);
  RegisterBackupOperations(&ops_);
  RegisterContinuousBackupOperations(&ops_);
  RegisterExportOperations(&ops_);
  RegisterImportOperations(&ops_);
  RegisterStreamsOperations(&streams_ops_);
}

void Service::AddOperations(std::string target_prefix,
                            std::map<std::string, Operation, std::less<>> ops) {
  extra_ops_.emplace_back(std::move(target_prefix), std::move(ops));
}

bool Service::Writes(const HttpRequest& req) {
  // ExecuteStatement may be a SELECT; telling would mean parsing it here, and
  // a read on a blocking thread costs only the hand-over.
  static constexpr std::string_view kWrites[] = {"PutItem",
                                                 "UpdateItem",
                                                 "DeleteItem",
                                                 "BatchWriteItem",
                                                 "TransactWriteItems",
                                                 "ExecuteStatement",
                                                 "BatchExecuteStatement",
                                                 "ExecuteTransaction",
                                                 "CreateTable",
                                                 "UpdateTable",
                                                 "DeleteTable",
                                                 "UpdateTimeToLive",
                                                 "TagResource",
                                                 "UntagResource",
                                                 "PutResourcePolicy",
                                                 "DeleteResourcePolicy",
                                                 "UpdateContributorInsights",
                                                 "CreateBackup",
                                                 "DeleteBackup",
                                                 "RestoreTableFromBackup",
                                                 "UpdateContinuousBackups",
                                                 "RestoreTableToPointInTime",
                                                 "ExportTableToPointInTime",
                                                 "ImportTable"};
  std::string_view target = req.Header("x-amz-target");
  // Basalt's own API families (AddOperations) change durable state.
  if (target.starts_with("Basalt")) return true;
  if (!target.starts_with(kTargetPrefix)) return false;
  target.remove_prefix(kTargetPrefix.size());
  for (std::string_view op : kWrites) {
    if (target == op) return true;
  }
  return false;
}

namespace {
std::optional<ItemWrite::Kind> AsyncKind(const HttpRequest& req) {
  std::string_view target = req.Header("x-amz-target");
  if (req.method != "POST" || !target.starts_with(kTargetPrefix)) return std::nullopt;
  target.remove_prefix(kTargetPrefix.size());
  if (target == "PutItem") return ItemWrite::Kind::kPut;
  if (target == "UpdateItem") return ItemWrite::Kind::kUpdate;
  if (target == "DeleteItem") return ItemWrite::Kind::kDelete;
  return std::nullopt;
}
}  // namespace

bool Service::TakesAsync(const HttpRequest& req) { return AsyncKind(req).has_value(); }

bool Service::HandleAsync(const HttpRequest& req, HttpResponder& respond) {
  const std::optional<ItemWrite::Kind> kind = AsyncKind(req);
  if (!kind) return false;
  const auto start = options_.observer ? std::chrono::steady_clock::now()
                                       : std::chrono::steady_clock::time_point();
  // Anything unusual takes the synchronous way, which answers it.
  std::string_view ctype = req.Header("content-type");
  ctype = ctype.substr(0, ctype.find(';'));
  while (!ctype.empty() && ctype.back() == ' ') ctype.remove_suffix(1);
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if ((path != "/" && !path.empty()) || (ctype != kAmzJson && ctype != kJson)) return false;
  // A refused signature is answered by Handle, which checks it again.
  auto identity = std::make_shared<auth::Identity>();
  if (options_.authenticator) {
    HttpResponse refused;
    if (!Authenticate(req, identity.get(), &refused)) return false;
  }
  // Authentication (server/auth) goes before this: SigV4 signs the body as sent.
  DecodedBody bytes;  // a body that does not decode is answered by Handle
  if (DecodeRequestBody(req, options_.max_request_bytes, &bytes) != BodyDecode::kOk) return false;
  json::parse_options po;
  po.max_depth = 1000;  // as Handle
  json::error_code ec;
  json::value body = json::parse(bytes.view(), ec, {}, po);
  if (ec || !body.is_object()) return false;

  struct State {
    json::value body;
    std::shared_ptr<auth::Identity> identity;
    Context ctx;
    std::optional<ItemWrite> write;
    std::string content_type;
    HttpResponder respond;
    // ServiceOptions::observer (null: none) and what it is told.
    RequestObserver* observer = nullptr;
    std::chrono::steady_clock::time_point start;
    std::string_view operation;
    std::string table;
    std::string access_key_id;
  };
  auto st = std::make_shared<State>();
  st->body = std::move(body);
  st->identity = std::move(identity);
  st->ctx = ctx_;
  st->ctx.host = std::string(req.Header("host"));
  if (options_.authenticator) st->ctx.identity = st->identity.get();
  st->content_type = std::string(ctype);
  st->respond = std::move(respond);
  // May run on the engine's committer thread: nothing may escape it.
  auto answer = [](State& state, const json::object* out, const ApiError* error) {
    HttpResponse r;
    try {
      if (out != nullptr) {
        r.status = 200;
        r.content_type = state.content_type;
        r.body = json::serialize(*out);
      } else {
        WriteError(*error, state.content_type, &r);
      }
    } catch (...) {  // out of memory
      r = HttpResponse();
      r.status = 500;
    }
    if (state.observer != nullptr) {
      Report(state.observer, state.operation, state.table, state.access_key_id, &r, state.start);
    }
    HttpResponder send = std::move(state.respond);
    send(std::move(r));
  };
  static constexpr std::string_view kOps[] = {"PutItem", "UpdateItem", "DeleteItem"};
  if (options_.observer) {
    st->observer = options_.observer.get();
    st->start = start;
    st->operation = kOps[static_cast<int>(*kind)];
    if (st->observer->wants_details) {
      st->access_key_id = std::string(AccessKeyId(req));
      const json::object& o = st->body.get_object();
      if (const json::value* t = o.if_contains("TableName"); t != nullptr && t->is_string()) {
        st->table = std::string(t->get_string());
      }
    }
  }
  try {
    AuthorizeRequest(st->ctx, kOps[static_cast<int>(*kind)], false, st->body.get_object());
    st->write.emplace(*kind, st->body.get_object(), ItemWrite::Source{});
    st->write->Resolve(st->ctx);
    st->write->Locate();
    const bool started = StartSingleWrite(
        st->ctx, *st->write,
        [st, answer](const json::object* out, const ApiError* error) { answer(*st, out, error); });
    if (!started) respond = std::move(st->respond);  // declined: nothing happened
    return started;
  } catch (const ApiError& e) {
    answer(*st, nullptr, &e);
  } catch (const std::exception& e) {
    LogInfo("internal error: {}", e.what());
    const ApiError internal = InternalError(e.what());
    answer(*st, nullptr, &internal);
  }
  return true;
}

void Service::AddGetHandler(std::string path, GetHandler handler) {
  get_handlers_[std::move(path)] = std::move(handler);
}

void Service::Handle(const HttpRequest& req, HttpResponse* resp) {
  if ((req.method == "GET" || req.method == "HEAD") && !get_handlers_.empty()) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (auto it = get_handlers_.find(path); it != get_handlers_.end()) {
      it->second(req, resp);
      return;
    }
  }
  if (req.method == "GET" && (req.target == "/" || req.target.empty())) {
    resp->status = 200;
    resp->content_type = "text/plain";
    // DynamoDB names the host it was reached at (observed: "healthy:
    // dynamodb.us-east-1.amazonaws.com "); without a Host header, its own name.
    const std::string_view host = req.Header("host");
    resp->body = host.empty() ? fmt::format("healthy: dynamodb.{}.amazonaws.com ", options_.region)
                              : fmt::format("healthy: {} ", host);
    return;
  }
  ObservedRequest observed(options_.observer.get(), req, resp);
  // Authentication comes before anything else looks at the request (an
  // unsigned request for an unknown operation gets
  // MissingAuthenticationTokenException, as from DynamoDB).
  auth::Identity identity;
  if (options_.authenticator && !Authenticate(req, &identity, resp)) return;
  // Content-Type may carry parameters ("application/json; charset=utf-8").
  std::string_view ctype = req.Header("content-type");
  ctype = ctype.substr(0, ctype.find(';'));
  while (!ctype.empty() && ctype.back() == ' ') ctype.remove_suffix(1);
  // Operations are POSTs to "/" (a query string aside); another path is no
  // operation (DynamoDB: 404 or, signed, InvalidSignatureException).
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  const bool root = path == "/" || path.empty();
  if (req.method != "POST" || !root || (ctype != kAmzJson && ctype != kJson)) {
    resp->status = 404;
    resp->content_type = "application/xml";
    resp->body = "<UnknownOperationException/>";
    return;
  }
  const std::string content_type(ctype);
  try {
    // Authentication (server/auth) goes before this: SigV4 signs the body as sent.
    DecodedBody bytes;
    DecodeBody(req, options_.max_request_bytes, &bytes);
    // JSON nesting bound. DynamoDB accepts 32 levels of L/M nesting and
    // answers a deeper item with ValidationException "Nesting Levels have
    // exceeded supported limits..." (table::kNestingTooDeepMessage; observed:
    // ScyllaDB's Alternator suite, run against DynamoDB, puts 50 levels in
    // test_exceed_nested_level_a_little and expects that answer). Each level
    // takes two JSON levels (the L/M value and its AttributeValue object), so
    // a parse bound of 256 cut in at 127 levels and answered those with a
    // bare SerializationException. The bound now is the one of DynamoDB's JSON
    // parser, Jackson: StreamReadConstraints' default maximum nesting depth of
    // 1000 (Jackson 2.15+). Every item nested less than ~500 levels gets the
    // ValidationException, only a document Jackson refuses to parse gets the
    // SerializationException of unparsable JSON (DynamoDB states no answer
    // for it). The bound also bounds the recursion of ParseValue and of the
    // value's validation and destruction (500 frames, far within a thread's
    // stack).
    json::parse_options po;
    po.max_depth = 1000;
    json::error_code ec;
    json::value body = json::parse(bytes.view(), ec, {}, po);
    // DynamoDB answers JSON it cannot parse with a bare SerializationException
    // (no message), and JSON that is not an object with this text (observed).
    if (ec) throw SerializationError("");
    if (!body.is_object()) {
      throw SerializationError("Start of structure or map found where not expected.");
    }
    std::string_view target = req.Header("x-amz-target");
    const std::map<std::string, Operation, std::less<>>* ops = nullptr;
    if (target.starts_with(kTargetPrefix)) {
      target.remove_prefix(kTargetPrefix.size());
      ops = &ops_;
    } else if (target.starts_with(kStreamsTargetPrefix)) {
      target.remove_prefix(kStreamsTargetPrefix.size());
      ops = &streams_ops_;
    } else {
      for (const auto& [prefix, extra] : extra_ops_) {
        if (!target.starts_with(prefix)) continue;
        target.remove_prefix(prefix.size());
        ops = &extra;
        break;
      }
      if (ops == nullptr) throw UnknownOperation();
    }
    auto it = ops->find(target);
    if (it == ops->end()) throw UnknownOperation();
    observed.Set(it->first, body.get_object());
    Context ctx = ctx_;
    ctx.host = std::string(req.Header("host"));
    if (options_.authenticator) ctx.identity = &identity;
    // AddOperations' families authorize themselves.
    if (ops == &ops_ || ops == &streams_ops_) {
      AuthorizeRequest(ctx, it->first, ops == &streams_ops_, body.get_object());
    }
    json::object out = it->second(ctx, body.get_object());
    resp->status = 200;
    resp->content_type = content_type;
    // TagResource and UntagResource answer with an empty body, as DynamoDB.
    const bool empty_body = it->first == "TagResource" || it->first == "UntagResource";
    resp->body = empty_body ? std::string() : json::serialize(out);
  } catch (const ApiError& e) {
    WriteError(e, content_type, resp);
  } catch (const std::exception& e) {
    LogInfo("internal error: {}", e.what());
    WriteError(InternalError(e.what()), content_type, resp);
  }
}

}  // namespace basalt::server::api
