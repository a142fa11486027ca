// Tests of engine/base/encryption.h: the AES-256-GCM cipher of one file, its
// header and key check, and the key file.
#include "engine/base/encryption.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/temp_dir.h"

using namespace basalt;

namespace {

std::string Key(char fill) { return std::string(kEncryptionKeyBytes, fill); }

std::shared_ptr<const KeyRing> Ring(std::vector<std::pair<uint32_t, std::string>> keys) {
  std::shared_ptr<const KeyRing> ring;
  Status s = KeyRing::FromKeys(keys, &ring);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return ring;
}

std::unique_ptr<FileCipher> NewCipher(const KeyRing& ring, EncryptedFileKind kind,
                                      uint64_t number) {
  std::unique_ptr<FileCipher> c;
  REQUIRE(FileCipher::ForNewFile(ring, kind, number, &c).ok());
  return c;
}

std::string Header(const FileCipher& c) {
  std::string h;
  c.EncodeHeader(&h);
  return h;
}

bool Decrypts(const FileCipher& c, uint64_t offset, uint8_t type, std::string_view sealed,
              std::string* out) {
  if (sealed.size() < kEncryptionOverhead) return false;
  out->assign(sealed.size() - kEncryptionOverhead, '\0');
  return c.Decrypt(offset, type, sealed, out->data());
}

// "AAAA..." base64 of 32 bytes of 'k' (0x6b).
const char* kKeyB64 = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";

Status ParseRing(std::string_view json, std::shared_ptr<const KeyRing>* ring = nullptr) {
  std::shared_ptr<const KeyRing> local;
  return KeyRing::Parse(json, "keys.json", ring != nullptr ? ring : &local);
}

}  // namespace

TEST_CASE("encryption: round trip, every byte authenticated, place bound by the AAD") {
  auto ring = Ring({{1, Key('a')}});
  auto c = NewCipher(*ring, EncryptedFileKind::kWal, 12);
  for (size_t len : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{4096}, size_t{100000}}) {
    std::string plain(len, '\0');
    for (size_t i = 0; i < len; i++) plain[i] = static_cast<char>(i * 7 + len);
    std::string sealed;
    REQUIRE(c->Encrypt(4096, 2, plain, &sealed).ok());
    REQUIRE(sealed.size() == len + kEncryptionOverhead);
    if (len >= 16) CHECK(sealed.find(plain.substr(0, 16)) == std::string::npos);
    std::string out;
    REQUIRE(Decrypts(*c, 4096, 2, sealed, &out));
    CHECK(out == plain);
    CHECK_FALSE(Decrypts(*c, 4097, 2, sealed, &out));  // another offset
    CHECK_FALSE(Decrypts(*c, 4096, 1, sealed, &out));  // another type byte
    // Every byte: nonce, ciphertext and tag.
    for (size_t i = 0; i < sealed.size(); i += std::max<size_t>(1, sealed.size() / 64)) {
      std::string bad = sealed;
      bad[i] ^= 0x01;
      CHECK_FALSE(Decrypts(*c, 4096, 2, bad, &out));
    }
    CHECK_FALSE(Decrypts(*c, 4096, 2, sealed.substr(0, sealed.size() - 1), &out));
  }
  std::string out;
  CHECK_FALSE(Decrypts(*c, 0, 2, "short", &out));
}

TEST_CASE("encryption: nonces and salts are fresh for every encryption and every file") {
  auto ring = Ring({{1, Key('a')}});
  auto c = NewCipher(*ring, EncryptedFileKind::kTable, 5);
  std::set<std::string> nonces;
  for (int i = 0; i < 1000; i++) {
    std::string sealed;
    REQUIRE(c->Encrypt(0, 0, "same plaintext, same place", &sealed).ok());
    nonces.insert(sealed.substr(0, kEncryptionNonceBytes));
  }
  CHECK(nonces.size() == 1000);
  // Two files with the same kind and number (never happens, but a reused
  // number must not reuse a key) get different salts, so different keys.
  auto c2 = NewCipher(*ring, EncryptedFileKind::kTable, 5);
  CHECK(Header(*c) != Header(*c2));
  std::string sealed, out;
  REQUIRE(c->Encrypt(0, 0, "x", &sealed).ok());
  CHECK_FALSE(Decrypts(*c2, 0, 0, sealed, &out));
}

TEST_CASE("encryption: many files and threads share the per-thread contexts correctly") {
  auto ring = Ring({{1, Key('a')}, {2, Key('b')}});
  // More ciphers than a thread caches contexts for, used round robin.
  std::vector<std::unique_ptr<FileCipher>> ciphers;
  for (uint64_t n = 1; n <= 20; n++)
    ciphers.push_back(NewCipher(*ring, EncryptedFileKind::kTable, n));
  std::vector<std::string> sealed(ciphers.size());
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < ciphers.size(); i++) {
      sealed[i].clear();
      REQUIRE(ciphers[i]->Encrypt(i, 1, "block " + std::to_string(i), &sealed[i]).ok());
    }
    for (size_t i = ciphers.size(); i-- > 0;) {
      std::string out;
      REQUIRE(Decrypts(*ciphers[i], i, 1, sealed[i], &out));
      CHECK(out == "block " + std::to_string(i));
      // Another file's key fails, even right after this one's was used.
      CHECK_FALSE(Decrypts(*ciphers[(i + 1) % ciphers.size()], i, 1, sealed[i], &out));
    }
  }
  // Sealed on this thread, opened on others (and the other way round).
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < ciphers.size(); i++) {
        std::string out, mine;
        if (Decrypts(*ciphers[i], i, 1, sealed[i], &out) && out == "block " + std::to_string(i) &&
            ciphers[i]->Encrypt(99, t, "x", &mine).ok() &&
            Decrypts(*ciphers[i], 99, t, mine, &out) && out == "x") {
          ok++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 4 * static_cast<int>(ciphers.size()));
}

TEST_CASE("encryption: a forked child never reuses its parent's nonces") {
  auto ring = Ring({{1, Key('a')}});
  auto c = NewCipher(*ring, EncryptedFileKind::kWal, 3);
  std::string warm;
  REQUIRE(c->Encrypt(0, 2, "fill this thread's nonce pool", &warm).ok());
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string child;
    const bool ok = c->Encrypt(0, 2, "x", &child).ok();
    const ssize_t n = ok ? write(fds[1], child.data(), kEncryptionNonceBytes) : -1;
    _exit(n == static_cast<ssize_t>(kEncryptionNonceBytes) ? 0 : 1);
  }
  close(fds[1]);
  std::string child_nonce(kEncryptionNonceBytes, '\0');
  REQUIRE(read(fds[0], child_nonce.data(), child_nonce.size()) ==
          static_cast<ssize_t>(child_nonce.size()));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  std::string parent;
  REQUIRE(c->Encrypt(0, 2, "x", &parent).ok());
  CHECK(parent.substr(0, kEncryptionNonceBytes) != child_nonce);
}

TEST_CASE("encryption: a file's header reopens its cipher, other keys, numbers, kinds fail") {
  auto ring = Ring({{1, Key('a')}, {2, Key('b')}});
  CHECK(ring->current_id() == 2);
  auto c = NewCipher(*ring, EncryptedFileKind::kManifest, 77);
  CHECK(c->key_id() == 2);
  const std::string header = Header(*c);
  REQUIRE(header.size() == kEncryptionHeaderBytes);
  std::string sealed;
  REQUIRE(c->Encrypt(37, 2, "version edit", &sealed).ok());

  std::unique_ptr<FileCipher> r;
  Status s = FileCipher::ForExistingFile(ring.get(), EncryptedFileKind::kManifest, 77, header,
                                         "MANIFEST-000077", &r);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string out;
  REQUIRE(Decrypts(*r, 37, 2, sealed, &out));
  CHECK(out == "version edit");

  // No key file at all.
  s = FileCipher::ForExistingFile(nullptr, EncryptedFileKind::kManifest, 77, header,
                                  "MANIFEST-000077", &r);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("MANIFEST-000077") != std::string::npos);
  CHECK(s.ToString().find("no encryption key file") != std::string::npos);
  // A key file without key id 2.
  auto only1 = Ring({{1, Key('a')}});
  s = FileCipher::ForExistingFile(only1.get(), EncryptedFileKind::kManifest, 77, header,
                                  "MANIFEST-000077", &r);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("key id 2") != std::string::npos);
  // Another key under id 2.
  auto other = Ring({{2, Key('c')}});
  s = FileCipher::ForExistingFile(other.get(), EncryptedFileKind::kManifest, 77, header,
                                  "MANIFEST-000077", &r);
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find("key check failed") != std::string::npos);
  // The header of another file (number or kind), or a changed salt.
  CHECK(FileCipher::ForExistingFile(ring.get(), EncryptedFileKind::kManifest, 78, header, "m", &r)
            .IsCorruption());
  CHECK(FileCipher::ForExistingFile(ring.get(), EncryptedFileKind::kWal, 77, header, "m", &r)
            .IsCorruption());
  std::string bad = header;
  bad[6] ^= 1;
  CHECK(FileCipher::ForExistingFile(ring.get(), EncryptedFileKind::kManifest, 77, bad, "m", &r)
            .IsCorruption());
  CHECK(FileCipher::ForExistingFile(ring.get(), EncryptedFileKind::kManifest, 77, header.substr(1),
                                    "m", &r)
            .IsCorruption());
}

TEST_CASE("encryption: key file") {
  std::shared_ptr<const KeyRing> ring;
  Status s = ParseRing(std::string("{\"keys\": [{\"id\": 3, \"key\": \"") + kKeyB64 +
                           "\"}, {\"id\": 1, \"key\": \"" + kKeyB64 + "\"}]}",
                       &ring);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(ring->current_id() == 3);
  CHECK(ring->ids() == std::vector<uint32_t>{1, 3});
  REQUIRE(ring->Find(1) != nullptr);
  CHECK(std::string(reinterpret_cast<const char*>(ring->Find(1)), 32) == Key('k'));
  CHECK(ring->Find(2) == nullptr);

  struct Bad {
    std::string json;
    std::string says;
  };
  const std::string k = kKeyB64;
  const std::vector<Bad> bad = {
      {"not json", "not valid JSON"},
      {"[]", "JSON object"},
      {"{}", "non-empty array"},
      {"{\"keys\": []}", "non-empty array"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"" + k + "\"}], \"x\": 1}", "unknown field \"x\""},
      {"{\"keys\": [{\"id\": 1}]}", "needs both"},
      {"{\"keys\": [{\"key\": \"" + k + "\"}]}", "needs both"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"" + k + "\", \"note\": 2}]}", "unknown field"},
      {"{\"keys\": [{\"id\": 0, \"key\": \"" + k + "\"}]}", "[1, 4294967295]"},
      {"{\"keys\": [{\"id\": 4294967296, \"key\": \"" + k + "\"}]}", "[1, 4294967295]"},
      {"{\"keys\": [{\"id\": \"1\", \"key\": \"" + k + "\"}]}", "must be an integer"},
      {"{\"keys\": [{\"id\": 1.5, \"key\": \"" + k + "\"}]}", "must be an integer"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"" + k + "\"}, {\"id\": 1, \"key\": \"" + k + "\"}]}",
       "key id 1 appears twice"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"a2tra2tra2tra2tra2tra2tr\"}]}", "is 18 bytes"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"" + k + k + "\"}]}", "not base64"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tr\"}]}",
       "is 33 bytes"},
      {"{\"keys\": [{\"id\": 1, \"key\": \"a2tr!2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\"}]}",
       "not base64"},
      {"{\"keys\": [{\"id\": 1, \"key\": 5}]}", "base64 string"},
  };
  for (const Bad& b : bad) {
    s = ParseRing(b.json);
    CAPTURE(b.json);
    CHECK(s.IsInvalidArgument());
    CHECK_MESSAGE(s.ToString().find(b.says) != std::string::npos, s.ToString());
    CHECK(s.ToString().find("keys.json") != std::string::npos);
    CHECK(s.ToString().find(k) == std::string::npos);  // never the key
  }
}

TEST_CASE("encryption: key file from disk") {
  test::TempDir dir;
  std::shared_ptr<const KeyRing> ring;
  Status s = KeyRing::Load(dir.Sub("missing.json"), &ring);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find("missing.json") != std::string::npos);
  {
    std::ofstream f(dir.Sub("keys.json"));
    f << "{\"keys\": [{\"id\": 7, \"key\": \"" << kKeyB64 << "\"}]}\n";
  }
  s = KeyRing::Load(dir.Sub("keys.json"), &ring);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(ring->current_id() == 7);
}

TEST_CASE("encryption: FromKeys checks lengths and ids") {
  std::shared_ptr<const KeyRing> ring;
  CHECK(KeyRing::FromKeys({}, &ring).IsInvalidArgument());
  CHECK(KeyRing::FromKeys({{1, "short"}}, &ring).IsInvalidArgument());
  CHECK(KeyRing::FromKeys({{0, Key('a')}}, &ring).IsInvalidArgument());
  CHECK(KeyRing::FromKeys({{1, Key('a')}, {1, Key('b')}}, &ring).IsInvalidArgument());
}
