// Encryption at rest: AES-256-GCM (OpenSSL EVP) of WAL records, manifest
// records and SSTable blocks. Formats: docs/format/wal.md, sstable.md,
// manifest.md ("Encryption"); the key file and the threat model:
// docs/security.md ("Encryption at rest").
//
// KeyRing: the master keys of one process, by key id, loaded from the key
// file. The highest id is the one new files use; older ids stay to read the
// files written with them (rotation = add a key with a higher id, restart).
//
// FileCipher: the encryption state of ONE file, bound to its kind and file
// number. A new file gets a fresh random 128-bit salt; its key is derived
// from the master key, the salt, the kind and the number (NIST SP 800-108r1,
// KDF in counter mode, HMAC-SHA256 as the PRF), so every file has its own
// AES key. Each record or block is sealed with a fresh 96-bit random nonce
// (RAND_bytes; NIST SP 800-38D section 8.2.2), and its place — file kind,
// file number, offset and a type byte — is the GCM additional authenticated
// data, so a record or block moved to another file or offset fails
// authentication. Sealed layout: nonce[12] | ciphertext | tag[16]. (Nonces
// are drawn from RAND_bytes 256 at a time per thread, and each thread keeps
// the EVP contexts of the last few file keys it used, so a small record costs
// one AES-GCM pass, not a key setup and a call into the random generator.)
//
// Why per-file keys and random nonces together: SP 800-38D section 8.3 caps
// random-nonce invocations of one key at 2^32; a busy node seals far more
// records than that under one master key, but no single file comes near it
// (a 64 MiB WAL segment holds about a million records at most). Random nonces
// (not a counter or the offset) stay unique even if a file's tail were ever
// rewritten at the same offset after a crash.
//
// A file records its key id, salt and a 16-byte key check (another output of
// the same KDF) in its header (WAL, manifest) or footer (SSTable), in the
// clear. Opening a file with a key ring that lacks its key id is
// InvalidArgument; with a different key under that id (or a header changed
// in place) the key check fails: Corruption. Both name the file.
//
// Errors: Encrypt returns IOError if the random generator or the cipher
// fails; Decrypt returns false on any authentication failure (callers turn
// that into Corruption naming the file and offset). Nothing here logs, and no
// message ever contains key material.
//
// Thread safety: KeyRing and FileCipher are immutable after creation and
// safe to share between threads (each thread uses its own EVP context).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace basalt {

inline constexpr size_t kEncryptionKeyBytes = 32;  // AES-256
inline constexpr size_t kEncryptionNonceBytes = 12;
inline constexpr size_t kEncryptionTagBytes = 16;
// Bytes a sealed record or block has beyond its plaintext.
inline constexpr size_t kEncryptionOverhead = kEncryptionNonceBytes + kEncryptionTagBytes;
inline constexpr size_t kEncryptionSaltBytes = 16;
inline constexpr size_t kEncryptionKeyCheckBytes = 16;
// The per-file encryption header: key id fixed32 | salt[16] | key check[16].
inline constexpr size_t kEncryptionHeaderBytes =
    4 + kEncryptionSaltBytes + kEncryptionKeyCheckBytes;

// Written to disk (part of every key derivation and AAD): DO NOT CHANGE.
enum class EncryptedFileKind : uint8_t {
  kWal = 1,
  kManifest = 2,
  kTable = 3,
};

class KeyRing {
 public:
  // Reads the JSON key file at path:
  //   {"keys": [{"id": 1, "key": "<base64 of 32 bytes>"}, ...]}
  // ids are integers in [1, 2^32 - 1]. InvalidArgument (naming the file and
  // the entry, never a key) for unreadable or malformed JSON, unknown fields,
  // no keys, a repeated id, a key that is not base64 or not 32 bytes.
  static Status Load(const std::string& path, std::shared_ptr<const KeyRing>* ring);
  // The same from the file's text; source names it in messages.
  static Status Parse(std::string_view json, std::string_view source,
                      std::shared_ptr<const KeyRing>* ring);
  // From raw keys (tests, tools): each key must be 32 bytes, ids distinct and > 0.
  static Status FromKeys(const std::vector<std::pair<uint32_t, std::string>>& keys,
                         std::shared_ptr<const KeyRing>* ring);

  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // The id new files use: the highest.
  uint32_t current_id() const { return keys_.rbegin()->first; }
  std::vector<uint32_t> ids() const;
  // The key with this id, or nullptr.
  const unsigned char* Find(uint32_t id) const;

 private:
  KeyRing() = default;
  std::map<uint32_t, std::array<unsigned char, kEncryptionKeyBytes>> keys_;  // never empty
};

class FileCipher {
 public:
  // For a file about to be written: the ring's current key, a fresh salt.
  // IOError if the random generator fails.
  static Status ForNewFile(const KeyRing& ring, EncryptedFileKind kind, uint64_t file_number,
                           std::unique_ptr<FileCipher>* cipher);
  // For a file read back: header is its kEncryptionHeaderBytes encryption
  // header; file names it in messages. ring may be null (no key file given).
  // InvalidArgument if ring is null or lacks the key id; Corruption if the key
  // check fails (another key under that id, or a changed header, kind or number).
  static Status ForExistingFile(const KeyRing* ring, EncryptedFileKind kind, uint64_t file_number,
                                std::string_view header, std::string_view file,
                                std::unique_ptr<FileCipher>* cipher);
  ~FileCipher();
  FileCipher(const FileCipher&) = delete;
  FileCipher& operator=(const FileCipher&) = delete;

  // Appends the kEncryptionHeaderBytes encryption header.
  void EncodeHeader(std::string* dst) const;
  uint32_t key_id() const { return key_id_; }
  EncryptedFileKind kind() const { return kind_; }
  uint64_t file_number() const { return file_number_; }

  // Appends nonce | AES-256-GCM(plaintext) | tag (plaintext.size() +
  // kEncryptionOverhead bytes) to *dst. offset and type are authenticated
  // with it: the same values must be given to Decrypt.
  Status Encrypt(uint64_t offset, uint8_t type, std::string_view plaintext, std::string* dst) const;
  // Checks and decrypts sealed (from Encrypt) into out, which must hold
  // sealed.size() - kEncryptionOverhead bytes. false if sealed is shorter
  // than kEncryptionOverhead or fails authentication (then out is garbage).
  bool Decrypt(uint64_t offset, uint8_t type, std::string_view sealed, char* out) const;

 private:
  FileCipher() = default;
  uint64_t id_ = 0;  // unique per FileCipher in this process: names its key in thread caches
  EncryptedFileKind kind_ = EncryptedFileKind::kWal;
  uint64_t file_number_ = 0;
  uint32_t key_id_ = 0;
  std::array<unsigned char, kEncryptionSaltBytes> salt_{};
  std::array<unsigned char, kEncryptionKeyCheckBytes> check_{};
  std::array<unsigned char, kEncryptionKeyBytes> key_{};  // the derived file key
};

}  // namespace basalt
