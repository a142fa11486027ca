// Credentials: the identities `--auth sigv4` knows, loaded from a JSON file
// (docs/security.md), and the Authenticator that checks a request's SigV4
// signature against them.
//
// File shape (fields beyond these are refused, so that a typo is noticed):
//   {"account": "123456789012",
//    "users": [{"name": "alice",
//               "accessKeyId": "AKIA...", "secretAccessKey": "...",
//               "sessionToken": null,                  (optional)
//               "sessionTokenExpiration": null,        (optional: ISO 8601
//                                                       "2026-12-06T12:00:00Z"
//                                                       or Unix seconds)
//               "userId": "AIDA...",                   (optional; derived
//                                                       from account and name)
//               "policies": [ <IAM policy documents> ]}]}
// Names and access key ids are unique; every policy must parse
// (server/auth/policy.h). A file that does not load leaves the credentials in
// force unchanged (Authenticator::Replace is only called with a good one).
//
// Thread safety: a Credentials is immutable once loaded and shared through
// shared_ptr; Authenticator::Authenticate and Replace may run concurrently
// (the snapshot is swapped atomically; a request keeps the one it started with).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/status.h"
#include "server/auth/policy.h"
#include "server/auth/sigv4.h"

namespace basalt::server::auth {

struct User {
  std::string name;
  std::string arn;     // arn:aws:iam::<account>:user/<name>
  std::string userid;  // aws:userid
  KeySecret key;
  std::string access_key_id;
  std::vector<Policy> policies;
};

class Credentials {
 public:
  // Parses the file's text. InvalidArgument naming the field at fault.
  static Status Parse(std::string_view json_text, Credentials* out);
  // Reads and parses `path`. IOError when it cannot be read.
  static Status Load(const std::string& path, Credentials* out);

  const std::string& account() const { return account_; }
  const std::vector<User>& users() const { return users_; }
  // The user owning `access_key_id`, or nullptr.
  const User* FindKey(std::string_view access_key_id) const;

 private:
  std::string account_;
  std::vector<User> users_;
  std::unordered_map<std::string, size_t> by_key_;
};

// Who sent a request: the credentials snapshot it was checked against (which
// keeps `user` alive) and the user.
struct Identity {
  std::shared_ptr<const Credentials> credentials;
  const User* user = nullptr;
};

class Authenticator {
 public:
  Authenticator(SigV4Options options, std::shared_ptr<const Credentials> credentials);

  // Checks the request's signature (sigv4.h lists the checks and errors).
  bool Authenticate(const SignedRequest& request, int64_t now_unix_s, Identity* identity,
                    AuthError* error);
  // Puts new credentials in force (on SIGHUP). Requests in flight finish with
  // the snapshot they started with.
  void Replace(std::shared_ptr<const Credentials> credentials);
  std::shared_ptr<const Credentials> credentials() const;

 private:
  SigV4Verifier verifier_;
  std::atomic<std::shared_ptr<const Credentials>> credentials_;
};

}  // namespace basalt::server::auth
