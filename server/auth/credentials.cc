#include "server/auth/credentials.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <sstream>

namespace basalt::server::auth {

namespace json = boost::json;

namespace {

Status Bad(std::string message) {
  return Status::InvalidArgument("credentials: " + std::move(message));
}

// An optional string field: absent or null -> "", a string -> it, else error.
Status OptionalString(const json::object& o, std::string_view field, std::string_view where,
                      std::string* out) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (!v->is_string()) return Bad(fmt::format("{}.{} must be a string", where, field));
  *out = std::string(v->get_string());
  return Status::OK();
}

Status RequiredString(const json::object& o, std::string_view field, std::string_view where,
                      std::string* out) {
  Status s = OptionalString(o, field, where, out);
  if (!s.ok()) return s;
  if (out->empty()) return Bad(fmt::format("{}.{} is required (a non-empty string)", where, field));
  return Status::OK();
}

// "2026-12-06T12:00:00Z" (seconds optional fraction ignored) or Unix seconds.
bool ParseExpiration(const json::value& v, int64_t* unix_s) {
  if (v.is_int64()) {
    *unix_s = v.get_int64();
    return true;
  }
  if (!v.is_string()) return false;
  const std::string_view s = v.get_string();
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return false;
  }
  const std::string basic =
      fmt::format("{}{}{}T{}{}{}Z", s.substr(0, 4), s.substr(5, 2), s.substr(8, 2), s.substr(11, 2),
                  s.substr(14, 2), s.substr(17, 2));
  return sigv4::ParseRequestDate(basic, unix_s);
}

// IAM user ids are "AIDA" and 17 more characters; one derived from the
// account and name stays the same across reloads.
std::string DerivedUserId(const std::string& account, const std::string& name) {
  std::string hex = sigv4::Sha256Hex(account + ":" + name);
  std::string id = "AIDA";
  for (size_t i = 0; i < 17; ++i) {
    const char c = hex[i];
    id.push_back(c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return id;
}

bool ValidAccount(std::string_view a) {
  if (a.size() != 12) return false;
  for (char c : a) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Status Credentials::Parse(std::string_view json_text, Credentials* out) {
  json::error_code ec;
  const json::value doc = json::parse(json_text, ec);
  if (ec) return Bad("not valid JSON: " + ec.message());
  if (!doc.is_object()) return Bad("the document must be a JSON object");
  const json::object& root = doc.get_object();
  for (const auto& field : root) {
    if (field.key() != "account" && field.key() != "users") {
      return Bad(fmt::format("unknown field \"{}\" (expected account, users)",
                             std::string_view(field.key())));
    }
  }
  Credentials c;
  Status s = RequiredString(root, "account", "the document", &c.account_);
  if (!s.ok()) return s;
  if (!ValidAccount(c.account_)) return Bad("account must be 12 digits");
  const json::value* users = root.if_contains("users");
  if (users == nullptr || !users->is_array()) return Bad("users must be an array");
  const json::array& list = users->get_array();
  static constexpr std::string_view kFields[] = {
      "name",   "accessKeyId", "secretAccessKey", "sessionToken", "sessionTokenExpiration",
      "userId", "policies"};
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("users[{}]", i);
    if (!list[i].is_object()) return Bad(where + " must be an object");
    const json::object& u = list[i].get_object();
    for (const auto& field : u) {
      if (std::find(std::begin(kFields), std::end(kFields), field.key()) == std::end(kFields)) {
        return Bad(fmt::format("{}: unknown field \"{}\"", where, std::string_view(field.key())));
      }
    }
    User user;
    if (!(s = RequiredString(u, "name", where, &user.name)).ok()) return s;
    if (!(s = RequiredString(u, "accessKeyId", where, &user.access_key_id)).ok()) return s;
    if (!(s = RequiredString(u, "secretAccessKey", where, &user.key.secret_access_key)).ok()) {
      return s;
    }
    if (!(s = OptionalString(u, "sessionToken", where, &user.key.session_token)).ok()) return s;
    if (!(s = OptionalString(u, "userId", where, &user.userid)).ok()) return s;
    if (const json::value* exp = u.if_contains("sessionTokenExpiration");
        exp != nullptr && !exp->is_null()) {
      if (!ParseExpiration(*exp, &user.key.token_expires_unix_s)) {
        return Bad(where +
                   ".sessionTokenExpiration must be \"YYYY-MM-DDThh:mm:ssZ\" or Unix seconds");
      }
    }
    if (user.userid.empty()) user.userid = DerivedUserId(c.account_, user.name);
    user.arn = fmt::format("arn:aws:iam::{}:user/{}", c.account_, user.name);
    if (const json::value* policies = u.if_contains("policies"); policies != nullptr) {
      if (!policies->is_array()) return Bad(where + ".policies must be an array");
      const json::array& docs = policies->get_array();
      for (size_t p = 0; p < docs.size(); ++p) {
        Policy policy;
        s = Policy::Parse(docs[p], Policy::Kind::kIdentity, &policy);
        if (!s.ok()) return Bad(fmt::format("{}.policies[{}]: {}", where, p, s.message()));
        user.policies.push_back(std::move(policy));
      }
    }
    for (const User& other : c.users_) {
      if (other.name == user.name) return Bad(where + ": name \"" + user.name + "\" repeats");
      if (other.access_key_id == user.access_key_id) {
        return Bad(where + ": accessKeyId \"" + user.access_key_id + "\" repeats");
      }
    }
    c.by_key_.emplace(user.access_key_id, c.users_.size());
    c.users_.push_back(std::move(user));
  }
  *out = std::move(c);
  return Status::OK();
}

Status Credentials::Load(const std::string& path, Credentials* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("credentials: cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("credentials: cannot read " + path);
  return Parse(text.str(), out);
}

const User* Credentials::FindKey(std::string_view access_key_id) const {
  auto it = by_key_.find(std::string(access_key_id));
  return it == by_key_.end() ? nullptr : &users_[it->second];
}

Authenticator::Authenticator(SigV4Options options, std::shared_ptr<const Credentials> credentials)
    : verifier_(std::move(options)), credentials_(std::move(credentials)) {}

bool Authenticator::Authenticate(const SignedRequest& request, int64_t now_unix_s,
                                 Identity* identity, AuthError* error) {
  std::shared_ptr<const Credentials> snapshot = credentials_.load();
  const User* user = nullptr;
  auto lookup = [&](std::string_view key_id) -> const KeySecret* {
    user = snapshot->FindKey(key_id);
    return user == nullptr ? nullptr : &user->key;
  };
  std::string key_id;
  if (!verifier_.Verify(request, now_unix_s, lookup, &key_id, error)) return false;
  identity->credentials = std::move(snapshot);
  identity->user = user;
  return true;
}

void Authenticator::Replace(std::shared_ptr<const Credentials> credentials) {
  credentials_.store(std::move(credentials));
}

std::shared_ptr<const Credentials> Authenticator::credentials() const {
  return credentials_.load();
}

}  // namespace basalt::server::auth
