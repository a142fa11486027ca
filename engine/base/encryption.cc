// KeyRing and FileCipher (encryption.h) on OpenSSL 3 EVP.
#include "engine/base/encryption.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <set>

#include "engine/base/base64.h"
#include "engine/base/coding.h"

namespace basalt {

namespace {

// ---- OpenSSL plumbing ----

// The AES-256-GCM implementation, fetched once: an explicit fetch avoids
// OpenSSL 3's implicit fetch (a lookup under a lock) on every Init.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Each thread keeps a few EVP contexts with a file key already set up, by
// FileCipher id (an EVP_CIPHER_CTX is not thread-safe). Setting a key costs
// an AES key expansion and GCM's hash key (~250 ns, as long as a 150-byte
// record's encryption); a context whose key is already set only takes the
// new nonce. Contexts belong to the thread and are freed (and cleansed by
// OpenSSL) when it exits; an entry of a destroyed cipher is simply reused.
constexpr int kThreadContexts = 8;

std::atomic<uint64_t> next_cipher_id{1};

// Sets up a context for key (cipher id) and nonce, for encryption or
// decryption. nullptr if OpenSSL fails.
EVP_CIPHER_CTX* ContextFor(uint64_t id, const unsigned char* key, const unsigned char* nonce,
                           bool encrypt) {
  struct Cache {
    EVP_CIPHER_CTX* ctx[kThreadContexts] = {};
    uint64_t id[kThreadContexts] = {};
    int next = 0;  // the entry replaced next (round robin)
    ~Cache() {
      for (EVP_CIPHER_CTX* c : ctx) EVP_CIPHER_CTX_free(c);
    }
  };
  thread_local Cache cache;
  const EVP_CIPHER* cipher = Aes256Gcm();
  if (cipher == nullptr) return nullptr;
  for (int i = 0; i < kThreadContexts; i++) {
    if (cache.id[i] == id && cache.ctx[i] != nullptr) {
      const int r = encrypt ? EVP_EncryptInit_ex2(cache.ctx[i], nullptr, nullptr, nonce, nullptr)
                            : EVP_DecryptInit_ex2(cache.ctx[i], nullptr, nullptr, nonce, nullptr);
      return r == 1 ? cache.ctx[i] : nullptr;
    }
  }
  const int i = cache.next;
  cache.next = (cache.next + 1) % kThreadContexts;
  if (cache.ctx[i] == nullptr) cache.ctx[i] = EVP_CIPHER_CTX_new();
  cache.id[i] = 0;
  if (cache.ctx[i] == nullptr) return nullptr;
  const int r = encrypt ? EVP_EncryptInit_ex2(cache.ctx[i], cipher, key, nonce, nullptr)
                        : EVP_DecryptInit_ex2(cache.ctx[i], cipher, key, nonce, nullptr);
  if (r != 1) return nullptr;
  cache.id[i] = id;
  return cache.ctx[i];
}

// Random nonces, drawn from RAND_bytes kNoncePool at a time per thread: one
// call of 3 KiB costs about as much as one of 12 bytes (~0.6-0.9 us on the
// development machine), so this takes the random generator out of the
// per-record cost without changing what a nonce is: 96 bits from RAND_bytes,
// used once. After fork() the child discards the pool it inherited (the
// parent keeps using it), so parent and child never share nonces.
constexpr size_t kNoncePool = 256;
std::atomic<uint64_t> fork_generation{0};

bool NextNonce(unsigned char* nonce) {
  struct Pool {
    unsigned char bytes[kNoncePool * kEncryptionNonceBytes];
    size_t used = kNoncePool;  // empty
    uint64_t generation = 0;
    ~Pool() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
  };
  static std::once_flag atfork;
  std::call_once(atfork,
                 [] { pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }); });
  thread_local Pool pool;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.used == kNoncePool || pool.generation != generation) {
    if (RAND_bytes(pool.bytes, static_cast<int>(sizeof(pool.bytes))) != 1) return false;
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(nonce, pool.bytes + pool.used * kEncryptionNonceBytes, kEncryptionNonceBytes);
  pool.used++;
  return true;
}

// AAD = kind u8 | file number fixed64 | offset fixed64 | type u8.
constexpr size_t kAadBytes = 1 + 8 + 8 + 1;
void EncodeAad(unsigned char* aad, EncryptedFileKind kind, uint64_t number, uint64_t offset,
               uint8_t type) {
  char* p = reinterpret_cast<char*>(aad);
  p[0] = static_cast<char>(kind);
  EncodeFixed64(p + 1, number);
  EncodeFixed64(p + 9, offset);
  p[17] = static_cast<char>(type);
}

// NIST SP 800-108r1 KDF in counter mode with HMAC-SHA256, one block:
//   out = HMAC(key, [1]_32be | label | 0x00 | context | [bits]_32be), truncated.
// context = salt | kind u8 | file number fixed64. false if OpenSSL fails.
[[nodiscard]] bool DeriveKey(const unsigned char* master, std::string_view label,
                             const unsigned char* salt, EncryptedFileKind kind, uint64_t number,
                             unsigned char* out, size_t out_len) {
  std::string input;
  PutBigEndian32(&input, 1);
  input.append(label);
  input.push_back('\0');
  input.append(reinterpret_cast<const char*>(salt), kEncryptionSaltBytes);
  input.push_back(static_cast<char>(kind));
  PutFixed64(&input, number);
  PutBigEndian32(&input, static_cast<uint32_t>(out_len * 8));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const bool ok = HMAC(EVP_sha256(), master, static_cast<int>(kEncryptionKeyBytes),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                       &mac_len) != nullptr &&
                  mac_len >= out_len;
  if (ok) std::memcpy(out, mac, out_len);
  OPENSSL_cleanse(mac, sizeof(mac));
  return ok;
}

Status KdfError() { return Status::IOError("encryption: key derivation failed (OpenSSL HMAC)"); }

constexpr std::string_view kFileKeyLabel = "basalt file key";
constexpr std::string_view kKeyCheckLabel = "basalt key check";

std::string KindName(EncryptedFileKind kind) {
  switch (kind) {
    case EncryptedFileKind::kWal:
      return "WAL segment";
    case EncryptedFileKind::kManifest:
      return "manifest";
    case EncryptedFileKind::kTable:
      return "sstable";
  }
  return "file";
}

// ---- key file ----

// A key's base64 text (padded); false if malformed or implausibly long.
bool DecodeBase64(std::string_view in, std::string* out) {
  return !in.empty() && in.size() <= 4096 && Base64Decode(in, out);
}

Status KeyFileError(std::string_view source, std::string_view what) {
  return Status::InvalidArgument(fmt::format("encryption key file {}", source), what);
}

}  // namespace

// ---------------------------------------------------------------------------
// KeyRing

KeyRing::~KeyRing() {
  for (auto& [id, key] : keys_) OPENSSL_cleanse(key.data(), key.size());
}

std::vector<uint32_t> KeyRing::ids() const {
  std::vector<uint32_t> r;
  for (const auto& [id, key] : keys_) r.push_back(id);
  return r;
}

const unsigned char* KeyRing::Find(uint32_t id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : it->second.data();
}

Status KeyRing::FromKeys(const std::vector<std::pair<uint32_t, std::string>>& keys,
                         std::shared_ptr<const KeyRing>* ring) {
  if (keys.empty()) return Status::InvalidArgument("encryption: no keys");
  std::shared_ptr<KeyRing> r(new KeyRing());
  for (const auto& [id, key] : keys) {
    if (id == 0) return Status::InvalidArgument("encryption: key id 0 is reserved");
    if (key.size() != kEncryptionKeyBytes) {
      return Status::InvalidArgument(
          fmt::format("encryption: key id {} is {} bytes, AES-256 needs {}", id, key.size(),
                      kEncryptionKeyBytes));
    }
    auto [it, inserted] = r->keys_.try_emplace(id);
    if (!inserted)
      return Status::InvalidArgument(fmt::format("encryption: key id {} repeated", id));
    std::memcpy(it->second.data(), key.data(), kEncryptionKeyBytes);
  }
  *ring = std::move(r);
  return Status::OK();
}

Status KeyRing::Parse(std::string_view json, std::string_view source,
                      std::shared_ptr<const KeyRing>* ring) {
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  if (ec) return KeyFileError(source, fmt::format("is not valid JSON ({})", ec.message()));
  if (!doc.is_object()) return KeyFileError(source, "must be a JSON object {\"keys\": [...]}");
  const boost::json::object& top = doc.get_object();
  for (const auto& field : top) {
    if (field.key() != "keys") {
      return KeyFileError(source, fmt::format("unknown field \"{}\" (only \"keys\")",
                                              std::string_view(field.key())));
    }
  }
  const boost::json::value* keys = top.if_contains("keys");
  if (keys == nullptr || !keys->is_array() || keys->get_array().empty()) {
    return KeyFileError(source, "\"keys\" must be a non-empty array of {\"id\": N, \"key\": B64}");
  }
  std::vector<std::pair<uint32_t, std::string>> parsed;
  std::set<uint32_t> seen;
  size_t index = 0;
  Status result;
  for (const boost::json::value& entry : keys->get_array()) {
    const std::string where = fmt::format("keys[{}]", index++);
    if (!entry.is_object()) {
      result = KeyFileError(source, where + " is not an object {\"id\": N, \"key\": B64}");
      break;
    }
    const boost::json::object& o = entry.get_object();
    for (const auto& field : o) {
      if (field.key() != "id" && field.key() != "key") {
        result = KeyFileError(
            source, fmt::format("{}: unknown field \"{}\"", where, std::string_view(field.key())));
        break;
      }
    }
    if (!result.ok()) break;
    const boost::json::value* id = o.if_contains("id");
    const boost::json::value* key = o.if_contains("key");
    if (id == nullptr || key == nullptr) {
      result = KeyFileError(source, where + " needs both \"id\" and \"key\"");
      break;
    }
    int64_t id_value = 0;
    if (id->is_int64()) {
      id_value = id->get_int64();
    } else if (id->is_uint64()) {
      id_value = -1;  // too large
    } else {
      result = KeyFileError(source, where + ": \"id\" must be an integer");
      break;
    }
    if (id_value < 1 || id_value > static_cast<int64_t>(UINT32_MAX)) {
      result = KeyFileError(source, where + ": \"id\" must be in [1, 4294967295]");
      break;
    }
    const auto key_id = static_cast<uint32_t>(id_value);
    if (!seen.insert(key_id).second) {
      result = KeyFileError(source, fmt::format("{}: key id {} appears twice", where, key_id));
      break;
    }
    if (!key->is_string()) {
      result =
          KeyFileError(source, fmt::format("key id {}: \"key\" must be a base64 string", key_id));
      break;
    }
    std::string bytes;
    const boost::json::string& text = key->get_string();
    if (!DecodeBase64(std::string_view(text.data(), text.size()), &bytes)) {
      result = KeyFileError(source, fmt::format("key id {}: \"key\" is not base64", key_id));
      break;
    }
    if (bytes.size() != kEncryptionKeyBytes) {
      result = KeyFileError(source,
                            fmt::format("key id {}: the key is {} bytes, AES-256 needs {} (base64 "
                                        "of 32 random bytes, e.g. `openssl rand -base64 32`)",
                                        key_id, bytes.size(), kEncryptionKeyBytes));
      OPENSSL_cleanse(bytes.data(), bytes.size());
      break;
    }
    parsed.emplace_back(key_id, std::move(bytes));
  }
  if (result.ok()) result = FromKeys(parsed, ring);
  for (auto& [id, bytes] : parsed) OPENSSL_cleanse(bytes.data(), bytes.size());
  return result;
}

Status KeyRing::Load(const std::string& path, std::shared_ptr<const KeyRing>* ring) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::InvalidArgument(fmt::format("encryption key file {}", path),
                                   std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  Status s;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::InvalidArgument(fmt::format("encryption key file {}", path),
                                  std::strerror(errno));
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) {
      s = KeyFileError(path, "is larger than 1 MiB");
      break;
    }
  }
  ::close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  if (s.ok()) s = Parse(text, path, ring);
  OPENSSL_cleanse(text.data(), text.size());
  return s;
}

// ---------------------------------------------------------------------------
// FileCipher

FileCipher::~FileCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

Status FileCipher::ForNewFile(const KeyRing& ring, EncryptedFileKind kind, uint64_t file_number,
                              std::unique_ptr<FileCipher>* cipher) {
  std::unique_ptr<FileCipher> c(new FileCipher());
  c->id_ = next_cipher_id.fetch_add(1);
  c->kind_ = kind;
  c->file_number_ = file_number;
  c->key_id_ = ring.current_id();
  if (RAND_bytes(c->salt_.data(), static_cast<int>(c->salt_.size())) != 1) {
    return Status::IOError("encryption: the random generator failed (RAND_bytes)");
  }
  const unsigned char* master = ring.Find(c->key_id_);
  if (!DeriveKey(master, kFileKeyLabel, c->salt_.data(), kind, file_number, c->key_.data(),
                 c->key_.size()) ||
      !DeriveKey(master, kKeyCheckLabel, c->salt_.data(), kind, file_number, c->check_.data(),
                 c->check_.size())) {
    return KdfError();
  }
  *cipher = std::move(c);
  return Status::OK();
}

Status FileCipher::ForExistingFile(const KeyRing* ring, EncryptedFileKind kind,
                                   uint64_t file_number, std::string_view header,
                                   std::string_view file, std::unique_ptr<FileCipher>* cipher) {
  if (header.size() != kEncryptionHeaderBytes) {
    return Status::Corruption(fmt::format("{}: encryption header is {} bytes, expected {}", file,
                                          header.size(), kEncryptionHeaderBytes));
  }
  std::unique_ptr<FileCipher> c(new FileCipher());
  c->id_ = next_cipher_id.fetch_add(1);
  c->kind_ = kind;
  c->file_number_ = file_number;
  c->key_id_ = DecodeFixed32(header.data());
  std::memcpy(c->salt_.data(), header.data() + 4, c->salt_.size());
  if (ring == nullptr) {
    return Status::InvalidArgument(
        fmt::format("{}: this {} is encrypted (key id {}) and no encryption key file was given",
                    file, KindName(kind), c->key_id_));
  }
  const unsigned char* master = ring->Find(c->key_id_);
  if (master == nullptr) {
    return Status::InvalidArgument(
        fmt::format("{}: this {} is encrypted with key id {}, which the encryption key file does "
                    "not hold (it holds ids {}); keep every key id still used by a file",
                    file, KindName(kind), c->key_id_, fmt::join(ring->ids(), ", ")));
  }
  unsigned char check[kEncryptionKeyCheckBytes];
  if (!DeriveKey(master, kKeyCheckLabel, c->salt_.data(), kind, file_number, check,
                 sizeof(check))) {
    return KdfError();
  }
  const bool match =
      CRYPTO_memcmp(check, header.data() + 4 + kEncryptionSaltBytes, kEncryptionKeyCheckBytes) == 0;
  if (!match) {
    return Status::Corruption(fmt::format(
        "{}: encryption key check failed for key id {}: the key file holds another key under "
        "this id, or the file's encryption header (or its name) was changed",
        file, c->key_id_));
  }
  std::memcpy(c->check_.data(), check, sizeof(check));
  if (!DeriveKey(master, kFileKeyLabel, c->salt_.data(), kind, file_number, c->key_.data(),
                 c->key_.size())) {
    return KdfError();
  }
  *cipher = std::move(c);
  return Status::OK();
}

void FileCipher::EncodeHeader(std::string* dst) const {
  PutFixed32(dst, key_id_);
  dst->append(reinterpret_cast<const char*>(salt_.data()), salt_.size());
  dst->append(reinterpret_cast<const char*>(check_.data()), check_.size());
}

Status FileCipher::Encrypt(uint64_t offset, uint8_t type, std::string_view plaintext,
                           std::string* dst) const {
  const size_t start = dst->size();
  dst->resize(start + plaintext.size() + kEncryptionOverhead);
  auto* nonce = reinterpret_cast<unsigned char*>(dst->data() + start);
  unsigned char* out = nonce + kEncryptionNonceBytes;
  unsigned char* tag = out + plaintext.size();
  unsigned char aad[kAadBytes];
  EncodeAad(aad, kind_, file_number_, offset, type);
  EVP_CIPHER_CTX* ctx = nullptr;
  bool ok =
      NextNonce(nonce) && (ctx = ContextFor(id_, key_.data(), nonce, /*encrypt=*/true)) != nullptr;
  int len = 0;
  ok = ok && EVP_EncryptUpdate(ctx, nullptr, &len, aad, static_cast<int>(sizeof(aad))) == 1;
  size_t done = 0;
  while (ok && done < plaintext.size()) {
    const size_t n = std::min<size_t>(plaintext.size() - done, INT_MAX / 2);
    ok = EVP_EncryptUpdate(ctx, out + done, &len,
                           reinterpret_cast<const unsigned char*>(plaintext.data()) + done,
                           static_cast<int>(n)) == 1;
    done += static_cast<size_t>(len);
  }
  ok = ok && EVP_EncryptFinal_ex(ctx, out + done, &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kEncryptionTagBytes),
                           tag) == 1;
  if (!ok) {
    dst->resize(start);
    return Status::IOError("encryption: AES-256-GCM encryption failed (OpenSSL)");
  }
  return Status::OK();
}

bool FileCipher::Decrypt(uint64_t offset, uint8_t type, std::string_view sealed, char* out) const {
  if (sealed.size() < kEncryptionOverhead) return false;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* in = nonce + kEncryptionNonceBytes;
  const size_t n = sealed.size() - kEncryptionOverhead;
  unsigned char tag[kEncryptionTagBytes];
  std::memcpy(tag, in + n, sizeof(tag));
  unsigned char aad[kAadBytes];
  EncodeAad(aad, kind_, file_number_, offset, type);
  auto* dst = reinterpret_cast<unsigned char*>(out);
  EVP_CIPHER_CTX* ctx = ContextFor(id_, key_.data(), nonce, /*encrypt=*/false);
  bool ok = ctx != nullptr;
  int len = 0;
  ok = ok && EVP_DecryptUpdate(ctx, nullptr, &len, aad, static_cast<int>(sizeof(aad))) == 1;
  size_t done = 0;
  while (ok && done < n) {
    const size_t chunk = std::min<size_t>(n - done, INT_MAX / 2);
    ok = EVP_DecryptUpdate(ctx, dst + done, &len, in + done, static_cast<int>(chunk)) == 1;
    done += static_cast<size_t>(len);
  }
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(sizeof(tag)), tag) == 1 &&
       EVP_DecryptFinal_ex(ctx, dst + done, &len) == 1;
  return ok;
}

}  // namespace basalt
