// Encryption at rest in the LSM engine (Options::encryption_keys): no
// plaintext in any file, tampering reported as Corruption naming file and
// offset, torn WAL tails still torn tails, missing keys, rotation, and old
// plain files. Formats: docs/format/{wal,sstable,manifest}.md, "Encryption".
#include "engine/base/encryption.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/io/fault_env.h"
#include "engine/lsm/db.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/sstable/format.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/verify.h"
#include "engine/lsm/wal/log_format.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

namespace fs = std::filesystem;

std::string KeyBytes(uint32_t id) {
  std::string k(kEncryptionKeyBytes, '\0');
  for (size_t i = 0; i < k.size(); i++) k[i] = static_cast<char>(i * 37 + id * 101 + 13);
  return k;
}

std::shared_ptr<const KeyRing> Ring(std::vector<uint32_t> ids, char salt = 0) {
  std::vector<std::pair<uint32_t, std::string>> keys;
  for (uint32_t id : ids) {
    std::string k = KeyBytes(id);
    k[0] = static_cast<char>(k[0] ^ salt);
    keys.emplace_back(id, k);
  }
  std::shared_ptr<const KeyRing> ring;
  REQUIRE(KeyRing::FromKeys(keys, &ring).ok());
  return ring;
}

Options Small(std::shared_ptr<const KeyRing> keys) {
  Options o;
  o.write_buffer_size = 64 << 10;
  o.table.block_size = 1024;
  o.encryption_keys = std::move(keys);
  return o;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::vector<std::string> FilesWith(const std::string& dir, const std::string& ext) {
  std::vector<std::string> r;
  for (auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
      r.push_back(e.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}

std::string Value(int i) {
  Random rnd(static_cast<uint32_t>(i + 1));
  std::string v = "VALUE-" + std::to_string(i) + "-";
  for (int j = 0; j < 24; j++) v.push_back("0123456789abcdef"[rnd.Uniform(16)]);
  return v;
}
std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "KEY-%06d-marker", i);
  return buf;
}

std::unique_ptr<DB> OpenDb(const Options& o, const std::string& dir) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return db;
}

// Writes keys [from, to) one write (one WAL record) each.
void PutRange(DB* db, int from, int to) {
  for (int i = from; i < to; i++)
    REQUIRE(db->Put(WriteOptions(), kDefaultTree, Key(i), Value(i)).ok());
}

void CheckRange(DB* db, int from, int to) {
  for (int i = from; i < to; i++) {
    std::string v;
    Status s = db->Get(ReadOptions(), kDefaultTree, Key(i), &v);
    REQUIRE_MESSAGE(s.ok(), Key(i), " ", s.ToString());
    CHECK(v == Value(i));
  }
}

// The WAL segment holding records (the one larger than its header).
std::string WalWithRecords(const std::string& dir) {
  for (const std::string& p : FilesWith(dir, ".log")) {
    if (fs::file_size(p) > static_cast<uint64_t>(log::kEncryptedFileHeaderRecordSize)) return p;
  }
  FAIL("no WAL segment with records");
  return "";
}

// Offsets of the records of a log file (framing only).
std::vector<uint64_t> RecordOffsets(const std::string& data) {
  std::vector<uint64_t> r;
  uint64_t p = 0;
  while (p + log::kHeaderSize <= data.size()) {
    r.push_back(p);
    p += log::kHeaderSize + DecodeFixed32(data.data() + p);
  }
  return r;
}

// Flips a byte of the payload of the record at offset; with fix_checksum the
// record's XXH3 is recomputed, so only authentication can tell.
void FlipInRecord(const std::string& path, uint64_t offset, size_t payload_byte,
                  bool fix_checksum) {
  std::string data = ReadAll(path);
  REQUIRE(data.size() >= offset + log::kHeaderSize);
  const uint32_t len = DecodeFixed32(data.data() + offset);
  REQUIRE(payload_byte < len);
  data[offset + log::kHeaderSize + payload_byte] ^= 0x20;
  if (fix_checksum) {
    EncodeFixed64(data.data() + offset + 9,
                  Checksum2(std::string_view(data.data() + offset + 4, 1),
                            std::string_view(data.data() + offset + log::kHeaderSize, len)));
  }
  WriteAll(path, data);
}

// The data block handles of a table, in file order.
std::vector<BlockHandle> DataBlocks(const std::string& path, const KeyRing* keys) {
  std::unique_ptr<io::RandomAccessFile> file;
  REQUIRE(io::Env::Posix()->NewRandomAccessFile(path, &file).ok());
  const uint64_t size = file->Size();
  std::unique_ptr<Table> table;
  Status s = Table::Open(std::move(file), size, &table, nullptr, Table::kNewCacheId, keys);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<BlockHandle> r;
  auto it = table->NewIndexIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view v = it->value();
    BlockHandle h;
    REQUIRE(h.DecodeFrom(&v));
    r.push_back(h);
  }
  return r;
}

// Flips a byte inside a block and recomputes its trailer checksum.
void FlipInBlock(const std::string& path, const BlockHandle& h, size_t at) {
  std::string data = ReadAll(path);
  REQUIRE(at < h.size);
  REQUIRE(data.size() >= h.offset + h.size + kBlockTrailerSize);
  data[h.offset + at] ^= 0x01;
  char* trailer = data.data() + h.offset + h.size;
  EncodeFixed64(trailer + 1, Checksum2(std::string_view(data.data() + h.offset, h.size),
                                       std::string_view(trailer, 1)));
  WriteAll(path, data);
}

// Reads every entry of the default tree; the iterator's status.
Status ScanAll(DB* db, int* n = nullptr) {
  auto it = db->NewIterator(ReadOptions(), kDefaultTree);
  int count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) count++;
  if (n != nullptr) *n = count;
  return it->status();
}

std::vector<std::string> Verify(const std::string& dir, const KeyRing* keys, bool* intact) {
  std::vector<std::string> lines;
  REQUIRE(VerifyDbDirectory(io::Env::Default(), dir, &lines, intact, keys).ok());
  return lines;
}

bool Contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "encryption: no plaintext of written keys or values in any file, and with encryption off it is "
    "there") {
  for (const bool encrypted : {true, false}) {
    CAPTURE(encrypted);
    test::TempDir dir;
    auto ring = Ring({1});
    Options o = Small(encrypted ? ring : nullptr);
    // The control run stores blocks uncompressed, so that every value is
    // there to be found; the encrypted run compresses, then encrypts.
    o.table.compression = encrypted;
    const int n = 3000;  // ~150 KiB: flushes to tables; the rest stays in the WAL
    {
      auto db = OpenDb(o, dir.path());
      PutRange(db.get(), 0, n);
      REQUIRE(db->Flush(kDefaultTree).ok());
      PutRange(db.get(), n, n + 200);  // in the WAL only
      REQUIRE(db->Close().ok());
    }
    std::string all;  // every byte of every file
    int tables = 0, wals = 0;
    for (auto& e : fs::directory_iterator(dir.path())) {
      all += ReadAll(e.path().string());
      tables += e.path().extension() == ".sst";
      wals += e.path().extension() == ".log";
    }
    CHECK(tables > 0);
    CHECK(wals > 0);
    int keys_found = 0, values_found = 0;
    for (int i = 0; i < n + 200; i++) {
      keys_found += Contains(all, Key(i));
      values_found += Contains(all, Value(i));
    }
    if (encrypted) {
      CHECK(keys_found == 0);
      CHECK(values_found == 0);
      CHECK_FALSE(Contains(all, "KEY-"));
      CHECK_FALSE(Contains(all, "VALUE-"));
      CHECK_FALSE(Contains(all, "default"));  // the tree name, in the manifest
      CHECK_FALSE(Contains(all, KeyBytes(1)));
    } else {
      CHECK(values_found == n + 200);
      CHECK(keys_found > 0);  // keys are prefix-compressed in blocks: not all whole
    }
    auto db = OpenDb(o, dir.path());
    CheckRange(db.get(), 0, n + 200);
    REQUIRE(db->Close().ok());
  }
}

TEST_CASE("encryption: a tampered WAL record is Corruption naming file and offset") {
  test::TempDir src;
  auto ring = Ring({1});
  {
    auto db = OpenDb(Small(ring), src.path());
    PutRange(db.get(), 0, 10);
    REQUIRE(db->Close().ok());
  }
  const std::string wal_name = fs::path(WalWithRecords(src.path())).filename().string();
  const std::vector<uint64_t> recs = RecordOffsets(ReadAll(WalWithRecords(src.path())));
  REQUIRE(recs.size() == 11);  // header + 10 records
  CHECK(recs[1] == static_cast<uint64_t>(log::kEncryptedFileHeaderRecordSize));

  auto copy = [&](test::TempDir* d) {
    fs::copy(src.path(), d->path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return d->Sub(wal_name);
  };
  SUBCASE("ciphertext changed, checksum recomputed (the first record)") {
    test::TempDir d;
    FlipInRecord(copy(&d), recs[1], 40, /*fix_checksum=*/true);
    std::unique_ptr<DB> db;
    Status s = DB::Open(Small(ring), d.path(), &db);
    CHECK(s.IsCorruption());
    CHECK_MESSAGE(Contains(s.ToString(), wal_name), s.ToString());
    CHECK(Contains(s.ToString(), "record at offset " + std::to_string(recs[1])));
    CHECK(Contains(s.ToString(), "failed authentication"));
    bool intact = true;
    auto lines = Verify(d.path(), ring.get(), &intact);
    CHECK_FALSE(intact);
  }
  SUBCASE("the nonce changed in the last record, checksum recomputed: not a torn tail") {
    test::TempDir d;
    FlipInRecord(copy(&d), recs[10], 3, /*fix_checksum=*/true);
    std::unique_ptr<DB> db;
    Status s = DB::Open(Small(ring), d.path(), &db);
    CHECK(s.IsCorruption());
    CHECK(Contains(s.ToString(), "offset " + std::to_string(recs[10])));
  }
  SUBCASE("records swapped: each is bound to its offset") {
    test::TempDir d;
    const std::string path = copy(&d);
    std::string data = ReadAll(path);
    // Records 1 and 2 have the same length (one Put each, same-size key/value).
    const uint64_t len = recs[2] - recs[1];
    REQUIRE(recs[3] - recs[2] == len);
    std::string a = data.substr(recs[1], len), b = data.substr(recs[2], len);
    data.replace(recs[1], len, b);
    data.replace(recs[2], len, a);
    WriteAll(path, data);
    std::unique_ptr<DB> db;
    Status s = DB::Open(Small(ring), d.path(), &db);
    CHECK(s.IsCorruption());
    CHECK(Contains(s.ToString(), "failed authentication"));
  }
  SUBCASE("a garbled record followed by intact ones: corruption, as without encryption") {
    test::TempDir d;
    FlipInRecord(copy(&d), recs[5], 40, /*fix_checksum=*/false);
    std::unique_ptr<DB> db;
    Status s = DB::Open(Small(ring), d.path(), &db);
    CHECK(s.IsCorruption());
    CHECK(Contains(s.ToString(), "followed by an intact record"));
  }
  SUBCASE("a garbled or cut last record is a torn tail: truncated, the rest kept") {
    for (const bool cut : {false, true}) {
      test::TempDir d;
      const std::string path = copy(&d);
      if (cut) {
        fs::resize_file(path, fs::file_size(path) - 7);
      } else {
        FlipInRecord(path, recs[10], 50, /*fix_checksum=*/false);
      }
      auto db = OpenDb(Small(ring), d.path());
      CheckRange(db.get(), 0, 9);
      std::string v;
      CHECK(db->Get(ReadOptions(), kDefaultTree, Key(9), &v).IsNotFound());
      REQUIRE(db->Close().ok());
    }
  }
}

TEST_CASE("encryption: a tampered manifest record is Corruption naming file and offset") {
  test::TempDir d;
  auto ring = Ring({1});
  {
    auto db = OpenDb(Small(ring), d.path());
    PutRange(db.get(), 0, 100);
    REQUIRE(db->Flush(kDefaultTree).ok());
    REQUIRE(db->Close().ok());
  }
  std::vector<std::string> manifests;
  for (auto& e : fs::directory_iterator(d.path())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) manifests.push_back(e.path());
  }
  REQUIRE(manifests.size() == 1);
  const std::string data = ReadAll(manifests[0]);
  const std::vector<uint64_t> recs = RecordOffsets(data);
  REQUIRE(recs.size() >= 2);
  CHECK_FALSE(Contains(data, "default"));
  FlipInRecord(manifests[0], recs[1], 20, /*fix_checksum=*/true);
  std::unique_ptr<DB> db;
  Status s = DB::Open(Small(ring), d.path(), &db);
  CHECK(s.IsCorruption());
  CHECK_MESSAGE(Contains(s.ToString(), fs::path(manifests[0]).filename().string()), s.ToString());
  CHECK(Contains(s.ToString(), "record at offset " + std::to_string(recs[1])));
  CHECK(Contains(s.ToString(), "failed authentication"));
}

TEST_CASE("encryption: a tampered SSTable block is Corruption naming the table and offset") {
  test::TempDir src;
  auto ring = Ring({1});
  {
    Options o = Small(ring);
    o.write_buffer_size = 1 << 20;  // one flush makes the one table
    auto db = OpenDb(o, src.path());
    PutRange(db.get(), 0, 500);
    REQUIRE(db->Flush(kDefaultTree).ok());
    REQUIRE(db->Close().ok());
  }
  const std::vector<std::string> tables = FilesWith(src.path(), ".sst");
  REQUIRE(tables.size() == 1);
  const std::string name = fs::path(tables[0]).filename().string();
  const std::vector<BlockHandle> blocks = DataBlocks(tables[0], ring.get());
  REQUIRE(blocks.size() > 4);

  SUBCASE("a data block: open works, the read that needs it fails") {
    test::TempDir d;
    fs::copy(src.path(), d.path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    FlipInBlock(d.Sub(name), blocks[2], 30);
    auto db = OpenDb(Small(ring), d.path());
    Status s = ScanAll(db.get());
    CHECK(s.IsCorruption());
    CHECK_MESSAGE(Contains(s.ToString(), "sstable " + name), s.ToString());
    CHECK(Contains(s.ToString(), "block at offset " + std::to_string(blocks[2].offset)));
    CHECK(Contains(s.ToString(), "failed authentication"));
    REQUIRE(db->Close().ok());
    bool intact = true;
    auto lines = Verify(d.path(), ring.get(), &intact);
    CHECK_FALSE(intact);
    bool named = false;
    for (const auto& l : lines)
      named |= Contains(l, name + ": CORRUPT") && Contains(l, "failed authentication");
    CHECK(named);
  }
  SUBCASE("the index block (after the data, filter and properties): open fails") {
    test::TempDir d;
    fs::copy(src.path(), d.path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    // The index block is the last block before the footer: find it through
    // the footer.
    const std::string data = ReadAll(d.Sub(name));
    Footer footer;
    REQUIRE(
        footer.DecodeFrom(std::string_view(data).substr(data.size() - Footer::kMaxEncodedLength))
            .ok());
    CHECK(footer.format_version == kEncryptedTableFormatVersion);
    FlipInBlock(d.Sub(name), footer.index, footer.index.size / 2);
    std::unique_ptr<DB> db;
    Status s = DB::Open(Small(ring), d.path(), &db);
    CHECK(s.IsCorruption());
    CHECK(Contains(s.ToString(), name));
    CHECK(Contains(s.ToString(), "offset " + std::to_string(footer.index.offset)));
  }
}

TEST_CASE("encryption: blocks swapped between positions or files are detected") {
  test::TempDir dir;
  auto ring = Ring({1});
  // Two tables with the same entries; fixed-size entries and no compression
  // make every full data block the same size.
  TableOptions to;
  to.block_size = 512;
  to.block_restart_interval = 1;  // no prefix compression: every entry the same size
  to.compression = false;
  for (uint64_t number : {9, 10}) {
    std::unique_ptr<io::WritableFile> f;
    REQUIRE(io::Env::Posix()->NewWritableFile(TableFileName(dir.path(), number), &f).ok());
    std::unique_ptr<FileCipher> cipher;
    REQUIRE(FileCipher::ForNewFile(*ring, EncryptedFileKind::kTable, number, &cipher).ok());
    TableBuilder b(to, f.get(), std::move(cipher));
    for (int i = 0; i < 200; i++) {
      std::string ikey = Key(i);
      PutFixed64(&ikey, (uint64_t{1000} - i) << 8 | 1);
      b.Add(ikey, std::string(40, static_cast<char>('a' + i % 26)));
    }
    REQUIRE(b.Finish().ok());
    REQUIRE(f->Close().ok());
  }
  const std::string t9 = TableFileName(dir.path(), 9), t10 = TableFileName(dir.path(), 10);
  const std::vector<BlockHandle> blocks = DataBlocks(t9, ring.get());
  REQUIRE(blocks.size() > 3);
  REQUIRE(blocks[0].size == blocks[1].size);
  const std::string good9 = ReadAll(t9);
  const size_t n = blocks[0].size + kBlockTrailerSize;

  auto scan = [&](const std::string& path) {
    std::unique_ptr<io::RandomAccessFile> file;
    REQUIRE(io::Env::Posix()->NewRandomAccessFile(path, &file).ok());
    const uint64_t size = file->Size();
    std::unique_ptr<Table> table;
    Status s =
        Table::Open(std::move(file), size, &table, nullptr, Table::kNewCacheId, ring.get(), 9);
    if (!s.ok()) return s;
    auto it = table->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    return it->status();
  };
  REQUIRE(scan(t9).ok());
  // Blocks 0 and 1 swapped (their checksums still match: they cover the bytes only).
  std::string data = good9;
  data.replace(blocks[0].offset, n, good9.substr(blocks[1].offset, n));
  data.replace(blocks[1].offset, n, good9.substr(blocks[0].offset, n));
  WriteAll(t9, data);
  Status s = scan(t9);
  CHECK(s.IsCorruption());
  CHECK_MESSAGE(Contains(s.ToString(), "block at offset 0 failed authentication"), s.ToString());
  // Block 0 of table 10 (same offset, same size, same plaintext) in table 9.
  data = good9;
  data.replace(0, n, ReadAll(t10).substr(0, n));
  WriteAll(t9, data);
  s = scan(t9);
  CHECK(s.IsCorruption());
  CHECK(Contains(s.ToString(), "sstable 000009.sst: block at offset 0 failed authentication"));
  // Table 10 renamed to table 9.
  WriteAll(t9, ReadAll(t10));
  s = scan(t9);
  CHECK(s.IsCorruption());
  CHECK(Contains(s.ToString(), "footer names table 10"));
}

TEST_CASE("encryption: opening without the key fails clearly, never with garbage") {
  test::TempDir d;
  {
    auto db = OpenDb(Small(Ring({1})), d.path());
    PutRange(db.get(), 0, 500);
    REQUIRE(db->Flush(kDefaultTree).ok());
    PutRange(db.get(), 500, 510);
    REQUIRE(db->Close().ok());
  }
  std::unique_ptr<DB> db;
  Status s = DB::Open(Small(nullptr), d.path(), &db);
  CHECK(s.IsInvalidArgument());
  CHECK_MESSAGE(Contains(s.ToString(), "no encryption key file was given"), s.ToString());
  CHECK(Contains(s.ToString(), "MANIFEST-"));
  s = DB::Open(Small(Ring({2})), d.path(), &db);
  CHECK(s.IsInvalidArgument());
  CHECK_MESSAGE(Contains(s.ToString(), "key id 1, which the encryption key file does not hold"),
                s.ToString());
  s = DB::Open(Small(Ring({1}, /*salt=*/1)), d.path(), &db);  // another key under id 1
  CHECK(s.IsCorruption());
  CHECK(Contains(s.ToString(), "key check failed for key id 1"));
  bool intact = true;
  auto lines = Verify(d.path(), nullptr, &intact);
  CHECK_FALSE(intact);
  // The right key still opens it: the failed attempts changed nothing.
  db = OpenDb(Small(Ring({1})), d.path());
  CheckRange(db.get(), 0, 510);
  REQUIRE(db->Close().ok());
}

TEST_CASE("encryption: rotation keeps old files readable, new files use the new key") {
  test::TempDir d;
  {
    auto db = OpenDb(Small(Ring({1})), d.path());
    PutRange(db.get(), 0, 1000);
    REQUIRE(db->Flush(kDefaultTree).ok());
    PutRange(db.get(), 1000, 1010);  // in the WAL, under key 1
    REQUIRE(db->Close().ok());
  }
  bool intact = false;
  for (const auto& l : Verify(d.path(), Ring({1}).get(), &intact)) {
    if (Contains(l, ".sst: ok") || Contains(l, ".log: ok"))
      CHECK_MESSAGE(Contains(l, "key id 1"), l);
  }
  CHECK(intact);
  auto both = Ring({1, 2});
  {
    auto db = OpenDb(Small(both), d.path());
    CheckRange(db.get(), 0, 1010);
    PutRange(db.get(), 1010, 2000);
    REQUIRE(db->Flush(kDefaultTree).ok());
    REQUIRE(db->Close().ok());
  }
  int key1 = 0, key2 = 0;
  for (const auto& l : Verify(d.path(), both.get(), &intact)) {
    key1 += Contains(l, ".sst: ok") && Contains(l, "key id 1");
    key2 += Contains(l, ".sst: ok") && Contains(l, "key id 2");
    if (l.rfind("MANIFEST-", 0) == 0) CHECK_MESSAGE(Contains(l, "key id 2"), l);
  }
  CHECK(intact);
  CHECK(key1 > 0);
  CHECK(key2 > 0);
  // Key 1 is still needed by the old table (verify lists the key id of every
  // file, so an operator sees when a key is no longer used).
  std::unique_ptr<DB> db;
  Status s = DB::Open(Small(Ring({2})), d.path(), &db);
  CHECK(s.IsInvalidArgument());
  CHECK(Contains(s.ToString(), "key id 1"));
  db = OpenDb(Small(both), d.path());
  CheckRange(db.get(), 0, 2000);
  REQUIRE(db->Close().ok());
}

TEST_CASE("encryption: a plain DB opens with encryption on, old files plain, new ones encrypted") {
  test::TempDir d;
  {
    auto db = OpenDb(Small(nullptr), d.path());
    PutRange(db.get(), 0, 500);
    REQUIRE(db->Flush(kDefaultTree).ok());
    PutRange(db.get(), 500, 510);
    REQUIRE(db->Close().ok());
  }
  auto ring = Ring({1});
  {
    auto db = OpenDb(Small(ring), d.path());
    CheckRange(db.get(), 0, 510);
    PutRange(db.get(), 510, 1000);
    REQUIRE(db->Flush(kDefaultTree).ok());
    REQUIRE(db->Close().ok());
  }
  int plain = 0, encrypted = 0;
  bool intact = false;
  for (const auto& l : Verify(d.path(), ring.get(), &intact)) {
    if (!Contains(l, ".sst: ok")) continue;
    (Contains(l, "encrypted") ? encrypted : plain)++;
  }
  CHECK(intact);
  CHECK(plain > 0);
  CHECK(encrypted > 0);
  auto db = OpenDb(Small(ring), d.path());
  CheckRange(db.get(), 0, 1000);
  REQUIRE(db->Close().ok());
}

TEST_CASE("encryption: a DB directory of an earlier release opens with encryption on") {
  test::TempDir d;
  fs::copy(std::string(BASALT_FIXTURES_DIR) + "/catalog_v2", d.path(),
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  auto db = OpenDb(Small(Ring({1})), d.path());
  const size_t trees = db->ListTrees().size();
  CHECK(trees > 1);
  REQUIRE(db->Close().ok());
  db = OpenDb(Small(Ring({1})), d.path());
  CHECK(db->ListTrees().size() == trees);
  REQUIRE(db->Close().ok());
}

TEST_CASE("encryption: WAL errors and power loss: recovery keeps every acknowledged write") {
  test::TempDir d;
  io::FaultEnv fenv(io::Env::Posix());
  Options o = Small(Ring({1}));
  o.env = &fenv;
  o.error_recovery_interval_ms = 0;
  auto db = OpenDb(o, d.path());
  PutRange(db.get(), 0, 100);
  // A failed WAL append: the segment is cut back and continued in a new one.
  fenv.SetFailPathSubstring(".log");
  fenv.FailNthWrite(1);
  CHECK_FALSE(db->Put(WriteOptions(), kDefaultTree, "lost", "x").ok());
  fenv.SetFailPathSubstring("");
  PutRange(db.get(), 100, 200);
  // Unsynced writes vanish at "power loss"; synced ones survive.
  for (int i = 200; i < 300; i++) {
    REQUIRE(db->Put(WriteOptions{false}, kDefaultTree, Key(i), Value(i)).ok());
  }
  REQUIRE(fenv.DropUnsyncedData().ok());
  db.reset();  // the process "died"
  db = OpenDb(o, d.path());
  CheckRange(db.get(), 0, 200);
  std::string v;
  CHECK(db->Get(ReadOptions(), kDefaultTree, "lost", &v).IsNotFound());
  int n = 0;
  REQUIRE(ScanAll(db.get(), &n).ok());
  CHECK(n >= 200);
  REQUIRE(db->Close().ok());
}
