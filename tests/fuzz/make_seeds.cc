// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/):
// a handful of small valid inputs each, made with the engine's own encoders
// so that binary seeds (items, keys, SSTables, WAL segments, manifests) are
// real. Built in the fuzz build (basalt_fuzz_seeds); run by hand after a
// format change:  build/fuzz/basalt_fuzz_seeds tests/fuzz/corpus
// Each file is named <target>/<nn>-<what>; existing files are overwritten.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_writer.h"
#include "engine/lsm/write_batch.h"
#include "engine/table/decimal.h"
#include "engine/table/item_codec.h"
#include "engine/table/key_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace lsm = basalt::lsm;
namespace table = basalt::table;
using table::Decimal;
using table::Item;
using table::Value;

namespace {

std::string g_root;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  std::filesystem::create_directories(g_root + "/" + target);
  std::string path = g_root + "/" + target + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

std::string Sel(uint8_t sel, std::string_view rest) {
  return std::string(1, static_cast<char>(sel)) + std::string(rest);
}

Value N(const char* text) {
  Decimal d;
  if (!Decimal::Parse(text, &d).ok()) std::abort();
  return Value::MakeN(d);
}

// Input chunk as fuzz::Input::Chunk reads it.
void Chunk(std::string* dst, std::string_view bytes) {
  if (bytes.size() < 255) {
    dst->push_back(static_cast<char>(bytes.size()));
  } else {
    dst->push_back('\xff');
    dst->push_back(static_cast<char>(bytes.size() & 0xff));
    dst->push_back(static_cast<char>(bytes.size() >> 8));
  }
  dst->append(bytes);
}

void Decimals() {
  const char* texts[] = {"0",
                         "1",
                         "-1.5e10",
                         "+001.2300",
                         ".5",
                         "1e125",
                         "9.9999999999999999999999999999999999999E+125",
                         "1E-130",
                         "12345678901234567890123456789012345678",
                         "1,2",
                         "1e50,1",
                         "-0.001,1000",
                         "0e126",
                         "1e-131",
                         "NaN"};
  int i = 0;
  for (const char* t : texts) Write("decimal", fmt::format("{:02}-text", i++), t);
  for (const char* t : {"-7.25", "100"}) {
    Decimal d;
    (void)Decimal::Parse(t, &d);
    std::string ord, compact;
    d.EncodeOrdered(&ord);
    d.EncodeCompact(&compact);
    Write("decimal", fmt::format("{:02}-ordered", i++), ord);
    Write("decimal", fmt::format("{:02}-compact", i++), compact);
  }
}

void Keys() {
  std::vector<Value> vals = {Value::MakeS("abc"), N("12.5"), Value::MakeB(std::string("\0\1", 2))};
  int i = 0;
  for (int p = 0; p < 3; p++) {
    for (int s = 0; s < 4; s += 2) {  // no sort key, or one of the pk's type + 1
      int st = (p + 1) % 3;
      const Value* sk = s == 0 ? nullptr : &vals[st];
      std::string key;
      if (!table::EncodeItemKey(vals[p], sk, &key).ok()) std::abort();
      uint8_t sel = static_cast<uint8_t>(p + 3 * (s == 0 ? 0 : st + 1));
      Write("key_codec", fmt::format("{:02}-key", i++), Sel(sel, key));
    }
  }
}

std::vector<Item> SampleItems() {
  std::vector<Item> items(1);  // empty
  Item m;
  m.Set("x", N("1"));
  m.Set("y", Value::MakeS("str"));
  Item a;
  a.Set("pk", Value::MakeS("k"));
  a.Set("n", N("-3.25"));
  a.Set("b", Value::MakeB("\x01\x02"));
  a.Set("t", Value::MakeBool(true));
  a.Set("z", Value::MakeNull());
  items.push_back(a);
  Item b;
  b.Set("l", Value::MakeL({N("1"), Value::MakeS("x"), Value::MakeM(m)}));
  b.Set("m", Value::MakeM(m));
  b.Set("ss", Value::MakeSS({"a", "b"}));
  b.Set("ns", Value::MakeNS({Decimal::FromInt64(1), Decimal::FromInt64(20)}));
  b.Set("bs", Value::MakeBS({"\x01", "\x02"}));
  items.push_back(b);
  Value deep = Value::MakeS("leaf");
  for (int i = 0; i < 30; i++) deep = Value::MakeL({deep});
  Item c;
  c.Set("deep", deep);
  items.push_back(c);
  return items;
}

void Items() {
  int i = 0;
  for (const Item& item : SampleItems()) {
    std::string enc;
    table::EncodeItem(item, &enc);
    Write("item_codec", fmt::format("{:02}-item", i++), enc);
  }
}

void Expressions() {
  const std::pair<uint8_t, const char*> exprs[] = {
      {0, "a = :v"},
      {0, "attribute_exists(#a) AND begins_with(b, :s)"},
      {0x80, "size(l) > :v OR NOT (a BETWEEN :v AND :w)"},
      {0, "a IN (:v, :w, :s) AND contains(ss, :s) AND attribute_type(m, :s)"},
      {0, "#m.x <> :v AND l[1][0] < :s"},
      {1, "SET a = a + :v, l = list_append(l, :l) REMOVE b ADD ss :ss DELETE ns :ns"},
      {1, "SET #m.x = if_not_exists(#m.x, :v), l[5] = :m"},
      {2, "a, b.c, l[0].x, #m"},
      {3, "pk = :s"},
      {4, "pk = :s AND sk BETWEEN :v AND :w"},
      {4, "#pk = :s AND begins_with(#sk, :s)"},
      {5, "pk = :s AND a = :v AND sk = :v AND b > :s"},
  };
  int i = 0;
  for (const auto& [sel, text] : exprs) {
    Write("expression", fmt::format("{:02}-expr", i++), Sel(sel, text));
  }
}

void Partiql() {
  const std::pair<uint8_t, const char*> stmts[] = {
      {0, R"j(SELECT * FROM "t" WHERE pk = 'k' AND sk > 3)j"},
      {0, R"j(SELECT a, b.c[1] FROM t."i" WHERE pk IN ['a','b'] ORDER BY sk DESC)j"},
      {0, R"j(INSERT INTO t VALUE {'pk': 'k', 'n': 1, 's': <<'a','b'>>, 'l': [1, {'x': true}]})j"},
      {2,
       R"j(UPDATE t SET a = 1 SET b = set_add(b, <<1>>) REMOVE c WHERE pk = ? AND sk = ? RETURNING ALL NEW *)j"},
      {1, R"j(DELETE FROM t WHERE pk = ? RETURNING ALL OLD *)j"},
      {0, R"j(EXISTS(SELECT * FROM t WHERE pk = 'a'))j"},
      {0,
       R"j(SELECT * FROM t WHERE a IS NOT MISSING AND begins_with(b, 'x') OR size(c) BETWEEN 1 AND 3;)j"},
      {0, "-- comment\nselect \"a\" from \"t\" where \"pk\" = 'x' and contains(s, 1.5e3)"},
  };
  int i = 0;
  for (const auto& [sel, text] : stmts) {
    Write("partiql", fmt::format("{:02}-stmt", i++), Sel(sel, text));
  }
}

void Requests() {
  // Indexes into service_request_fuzz.cc's kOps.
  const std::pair<uint8_t, const char*> reqs[] = {
      {0,
       R"j({"TableName":"tab1","Item":{"pk":{"S":"a"},"n":{"N":"1"},"l":{"L":[{"S":"x"},{"M":{"y":{"BOOL":true}}}]}}})j"},
      {0,
       R"j({"TableName":"tab2","Item":{"pk":{"S":"a"},"sk":{"N":"2"},"g":{"S":"G"},"ss":{"SS":["a","b"]},"b":{"B":"AQI="}},"ConditionExpression":"attribute_not_exists(pk)","ReturnValues":"ALL_OLD"})j"},
      {1,
       R"j({"TableName":"tab1","Key":{"pk":{"S":"a"}},"ProjectionExpression":"#n, l[1].y","ExpressionAttributeNames":{"#n":"n"},"ConsistentRead":true})j"},
      {2,
       R"j({"TableName":"tab1","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET n = n + :one ADD s :s REMOVE l[0]","ExpressionAttributeValues":{":one":{"N":"1"},":s":{"NS":["3"]}},"ReturnValues":"UPDATED_NEW"})j"},
      {3,
       R"j({"TableName":"tab2","Key":{"pk":{"S":"a"},"sk":{"N":"2"}},"Expected":{"g":{"Value":{"S":"G"}}}})j"},
      {4,
       R"j({"TableName":"tab2","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"a"},":a":{"N":"0"},":b":{"N":"9"}},"ScanIndexForward":false,"Limit":2})j"},
      {4,
       R"j({"TableName":"tab2","IndexName":"gsi","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"G"}}})j"},
      {5,
       R"j({"TableName":"tab1","FilterExpression":"size(l) > :z","ExpressionAttributeValues":{":z":{"N":"0"}},"Segment":0,"TotalSegments":2,"ReturnConsumedCapacity":"TOTAL"})j"},
      {6, R"j({"RequestItems":{"tab1":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}]}}})j"},
      {7,
       R"j({"RequestItems":{"tab1":[{"PutRequest":{"Item":{"pk":{"S":"c"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]}})j"},
      {8,
       R"j({"TransactItems":[{"Put":{"TableName":"tab1","Item":{"pk":{"S":"x"}}}},{"ConditionCheck":{"TableName":"tab2","Key":{"pk":{"S":"a"},"sk":{"N":"2"}},"ConditionExpression":"attribute_exists(pk)"}}],"ClientRequestToken":"tok"})j"},
      {9, R"j({"TransactItems":[{"Get":{"TableName":"tab1","Key":{"pk":{"S":"x"}}}}]})j"},
      {10,
       R"j({"Statement":"SELECT * FROM tab2 WHERE pk = ? AND sk > ?","Parameters":[{"S":"a"},{"N":"0"}]})j"},
      {11,
       R"j({"Statements":[{"Statement":"INSERT INTO tab1 VALUE {'pk':'p'}"},{"Statement":"UPDATE tab1 SET n = 3 WHERE pk = 'p'"}]})j"},
      {12, R"j({"TransactStatements":[{"Statement":"DELETE FROM tab1 WHERE pk = 'p'"}]})j"},
      {13, R"j({"TableName":"tab2"})j"},
      {14, R"j({"Limit":1})j"},
      {15,
       R"j({"TableName":"tab1","TimeToLiveSpecification":{"AttributeName":"ttl","Enabled":true}})j"},
      {17,
       R"j({"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tab1","Tags":[{"Key":"k","Value":"v"}]})j"},
      {22,
       R"j({"TableName":"tab3","KeySchema":[{"AttributeName":"h","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"h","AttributeType":"B"}],"BillingMode":"PAY_PER_REQUEST"})j"},
      {23, R"j({"TableName":"tab1"})j"},
      {25, R"j({"TableName":"tab2"})j"},
      {27,
       R"j({"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tab2/stream/x","ShardId":"s","ShardIteratorType":"TRIM_HORIZON"})j"},
  };
  int i = 0;
  for (const auto& [op, body] : reqs) {
    Write("service_request", fmt::format("{:02}-op{}", i++, op), Sel(op, body));
  }
}

std::string BuildTable(const lsm::TableOptions& o, int n) {
  std::string file;
  basalt::fuzz::MemWritableFile out(&file);
  lsm::TableBuilder b(o, &out);
  for (int i = 0; i < n; i++) {
    std::string k;
    lsm::AppendInternalKey(&k, fmt::format("key{:04}", i), 100 - i % 7,
                           i % 5 == 0 ? lsm::ValueKind::kDelete : lsm::ValueKind::kValue);
    b.Add(k, i % 5 == 0 ? "" : fmt::format("value-{}-{}", i, std::string(i % 40, 'v')));
  }
  if (!b.Finish().ok()) std::abort();
  return file;
}

void Sstables() {
  lsm::TableOptions small;
  small.block_size = 256;
  small.block_restart_interval = 4;
  Write("sstable", "00-file", Sel(0, BuildTable(small, 40)));
  lsm::TableOptions plain;
  plain.compression = false;
  plain.bloom_bits_per_key = 0;
  Write("sstable", "01-file-nofilter", Sel(0, BuildTable(plain, 8)));
  Write("sstable", "02-file-empty", Sel(0, BuildTable(plain, 0)));
  // Recipes (mode 1): options, mutation count, entries (key, value, seq byte).
  std::string r = "\x01\x02";
  r.push_back('\0');
  for (int i = 0; i < 12; i++) {
    Chunk(&r, fmt::format("k{}", i % 9));
    Chunk(&r, std::string(i * 3, 'a' + i));
    r.push_back(static_cast<char>(i * 17));
  }
  Write("sstable", "03-recipe", r);
  std::string m = "\x01\x41\x02";
  m += std::string("\x10\x00\x55\xf0\xff\x01", 6);
  Chunk(&m, "key");
  Chunk(&m, "value");
  m.push_back('\x03');
  Write("sstable", "04-recipe-mutated", m);
}

std::string LogFile(uint64_t magic, const std::vector<std::string>& payloads) {
  std::string header;
  basalt::PutFixed64(&header, magic);
  basalt::PutFixed32(&header, lsm::log::kFormatVersion);
  basalt::PutFixed64(&header, 7);
  std::string file;
  lsm::log::EncodeRecord(&file, lsm::log::RecordType::kFileHeader, header);
  for (const std::string& p : payloads)
    lsm::log::EncodeRecord(&file, lsm::log::RecordType::kData, p);
  return file;
}

std::string Recipe(const std::vector<std::string>& payloads, uint8_t flags) {
  std::string r = "\x01";
  r.push_back(static_cast<char>(flags));
  for (const std::string& p : payloads) {
    r.push_back('\x02');
    Chunk(&r, p);
  }
  return r;
}

void Wals() {
  std::vector<std::string> batches;
  for (int i = 0; i < 3; i++) {
    lsm::WriteBatch b;
    b.Put(1, fmt::format("key{}", i), fmt::format("value{}", i));
    if (i == 1) b.Delete(2, "gone");
    b.SetSequence(10 + i);
    batches.emplace_back(b.Contents());
  }
  Write("wal", "00-segment", Sel(0, LogFile(lsm::log::kWalMagic, batches)));
  Write("wal", "01-segment-empty", Sel(0, LogFile(lsm::log::kWalMagic, {})));
  std::string torn = LogFile(lsm::log::kWalMagic, batches);
  torn.resize(torn.size() - 5);
  Write("wal", "02-segment-torn", Sel(0, torn));
  Write("wal", "03-recipe", Recipe(batches, 0));
  Write("wal", "04-recipe-raw-batch", Sel(3, batches[1]));
}

void Manifests() {
  std::vector<std::string> edits;
  {
    lsm::VersionEdit e;
    e.next_file_number = 9;
    e.last_sequence = 100;
    e.next_tree_id = 3;
    e.created_trees = {{1, "default"}, {2, "t1/p0"}};
    edits.emplace_back();
    e.EncodeTo(&edits.back());
  }
  {
    lsm::VersionEdit e;
    lsm::FileMetaData f;
    f.number = 7;
    f.file_size = 4096;
    lsm::AppendInternalKey(&f.smallest, "a", 5, lsm::ValueKind::kValue);
    lsm::AppendInternalKey(&f.largest, "z", 9, lsm::ValueKind::kDelete);
    f.smallest_seq = 5;
    f.largest_seq = 9;
    f.num_entries = 12;
    e.new_files.push_back({1, 0, f});
    e.flushed_seqs.push_back({1, 9});
    e.tree_bounds.push_back({2, "m", std::string("q")});
    edits.emplace_back();
    e.EncodeTo(&edits.back());
  }
  {
    lsm::VersionEdit e;
    e.deleted_files.push_back({1, 0, 7});
    e.dropped_trees.push_back(2);
    edits.emplace_back();
    e.EncodeTo(&edits.back());
  }
  Write("manifest", "00-manifest", Sel(0, LogFile(lsm::log::kManifestMagic, edits)));
  Write("manifest", "01-recipe", Recipe(edits, 0));
  for (size_t i = 0; i < edits.size(); i++) {
    Write("manifest", fmt::format("{:02}-edit", 2 + i), Sel(2, edits[i]));
  }
  std::string name = "MANIFEST-000007";
  Write("manifest", "05-current",
        Sel(3, fmt::format("{} {:016x}\n", name, basalt::Checksum(name))));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  Decimals();
  Keys();
  Items();
  Expressions();
  Partiql();
  Requests();
  Sstables();
  Wals();
  Manifests();
  return 0;
}
