// The export/import formats (server/export): DynamoDB JSON and Ion values both
// ways (every type, AWS's documented examples), CSV records, compressed
// sources (gzip, multi-member gzip, zstd), the gzip writer's MD5, the
// export-root path rules and the job records' JSON.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zstd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/base/base64.h"
#include "server/export/attribute_json.h"
#include "server/export/csv.h"
#include "server/export/file_io.h"
#include "server/export/ion_text.h"
#include "server/export/jobs.h"
#include "server/export/layout.h"

using namespace basalt;
using namespace basalt::server::exports;
using table::Decimal;
using table::Item;
using table::Value;

namespace {

Value N(const char* text) {
  Value v;
  REQUIRE(Value::ParseN(text, &v).ok());
  return v;
}

Decimal D(const char* text) {
  Decimal d;
  REQUIRE(Decimal::Parse(text, &d).ok());
  return d;
}

// An item with every type, nested.
Item Sample() {
  Item inner;
  inner.Set("x", Value::MakeS("in\"ner\n"));
  inner.Set("weird name", N("-0.00125"));
  Item it;
  it.Set("pk", Value::MakeS("key-1"));
  it.Set("n", N("600"));
  it.Set("big", N("1E+100"));
  it.Set("frac", N("1.5"));
  it.Set("b", Value::MakeB(std::string("\x00\xff\x10", 3)));
  it.Set("t", Value::MakeBool(true));
  it.Set("nul", Value::MakeNull());
  it.Set("l", Value::MakeL({Value::MakeS("a"), N("2"), Value::MakeM(inner)}));
  it.Set("m", Value::MakeM(inner));
  it.Set("ss", Value::MakeSS({"a", "b"}));
  it.Set("ns", Value::MakeNS({D("1"), D("2.5")}));
  it.Set("bs", Value::MakeBS({std::string("\x01", 1), std::string("\x02\x03", 2)}));
  it.Set("empty", Value::MakeS(""));
  it.Set("$sym", Value::MakeS("dollar"));
  it.Set("null", Value::MakeS("keyword name"));
  return it;
}

std::string TempDir() {
  char tmpl[] = "/tmp/basalt-export-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

std::string ReadAll(ByteSource* src) {
  std::string out;
  char buf[7];  // small reads cross every boundary
  while (true) {
    size_t got = 0;
    REQUIRE(src->Read(buf, sizeof(buf), &got).ok());
    if (got == 0) return out;
    out.append(buf, got);
  }
}

}  // namespace

TEST_CASE("base64 round trip and rejects") {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("foob"), std::string("\x00\xff\xfe", 3)}) {
    std::string back;
    REQUIRE(Base64Decode(Base64Encode(s), &back));
    CHECK(back == s);
  }
  std::string out;
  CHECK(Base64Encode("foob") == "Zm9vYg==");
  CHECK_FALSE(Base64Decode("Zm9", &out));
  CHECK_FALSE(Base64Decode("Zm9v!A==", &out));
  CHECK_FALSE(Base64Decode("Zg==Zg==", &out));
}

TEST_CASE("DynamoDB JSON round trip of every type") {
  const Item it = Sample();
  const std::string text = boost::json::serialize(ItemToDynamoJson(it));
  Item back;
  REQUIRE(ItemFromDynamoJson(boost::json::parse(text), &back).ok());
  CHECK(back == it);
  // Numbers travel as canonical strings, binary as base64.
  const boost::json::object o = boost::json::parse(text).as_object();
  CHECK(o.at("n").as_object().at("N").as_string() == "600");
  CHECK(o.at("b").as_object().at("B").as_string() == "AP8Q");
}

TEST_CASE("DynamoDB JSON rejects malformed values") {
  Item out;
  for (const char* bad : {R"({"a": {"S": 5}})", R"({"a": {"N": "abc"}})", R"({"a": {"B": "!!"}})",
                          R"({"a": {"NULL": false}})", R"({"a": {"S": "x", "N": "1"}})",
                          R"({"a": {"Q": "x"}})", R"({"a": {"SS": "x"}})", R"([1])"}) {
    CAPTURE(bad);
    CHECK(ItemFromDynamoJson(boost::json::parse(bad), &out).IsInvalidArgument());
  }
}

TEST_CASE("Ion text round trip of every type, and AWS's number form") {
  const Item it = Sample();
  std::string text = "$ion_1_0 {Item:";
  AppendIonStruct(it, &text);
  text += "}";
  std::vector<IonValue> values;
  REQUIRE(ParseIon(text, &values).ok());
  REQUIRE(values.size() == 1);
  REQUIRE(values[0].fields.size() == 1);
  Item back;
  REQUIRE(IonToItem(values[0].fields[0].value, &back).ok());
  CHECK(back == it);
  std::string n;
  AppendIonValue(N("600"), &n);
  AppendIonValue(N("103"), &n);
  AppendIonValue(N("1.5"), &n);
  AppendIonValue(N("0"), &n);
  CHECK(n == "6d2103.15d-10.");
}

TEST_CASE("Ion: the Developer Guide's export example") {
  const std::string doc = R"($ion_1_0 {
    Item:{
        Authors:$dynamodb_SS::["Author1","Author2"],
        Dimensions:"8.5 x 11.0 x 1.5",
        ISBN:"333-3333333333",
        Id:103.,
        InPublication:false,
        PageCount:6d2,
        Price:2d3,
        ProductCategory:"Book",
        Title:"Book 103 Title"
    }
})";
  std::vector<IonValue> values;
  REQUIRE(ParseIon(doc, &values).ok());
  REQUIRE(values.size() == 1);
  Item item;
  REQUIRE(IonToItem(values[0].fields[0].value, &item).ok());
  CHECK(item.Find("PageCount")->n() == D("600"));
  CHECK(item.Find("Price")->n() == D("2000"));
  CHECK(item.Find("Id")->n() == D("103"));
  CHECK(item.Find("Authors")->type() == table::ValueType::kSS);
  CHECK(item.Find("InPublication")->boolean() == false);
}

TEST_CASE("Ion reader: ints, floats, escapes, comments, long strings, typed nulls") {
  std::vector<IonValue> values;
  REQUIRE(ParseIon(R"(/* c */ {a: 1_000, b: 1.5e3, c: "\u00e9\x41\n", 'd e': '''lo''' '''ng''',
                      f: null.string, g: {{AAEC}}, h: [1, 2], // end
                      i: sym })",
                   &values)
              .ok());
  Item item;
  REQUIRE(IonToItem(values[0], &item).ok());
  CHECK(item.Find("a")->n() == D("1000"));
  CHECK(item.Find("b")->n() == D("1500"));
  CHECK(item.Find("c")->s() ==
        "\xc3\xa9"
        "A\n");
  CHECK(item.Find("d e")->s() == "long");
  CHECK(item.Find("f")->type() == table::ValueType::kNull);
  CHECK(item.Find("g")->b() == std::string("\x00\x01\x02", 3));
  CHECK(item.Find("i")->s() == "sym");
  for (const char* bad : {"{a:", "{a 1}", "{a:\"x}", "{a:2020-01-01T}", "{a: (x y)}"}) {
    CAPTURE(bad);
    values.clear();
    Status s = ParseIon(bad, &values);
    if (s.ok()) s = IonToItem(values.at(0), &item);
    CHECK(s.IsInvalidArgument());
  }
}

TEST_CASE("CSV: quotes, delimiters, typed keys") {
  auto src = MemorySource("pk,n,text\n\"a,1\",5,\"say \"\"hi\"\"\nthere\"\nb;2,7,\r\n",
                          Compression::kNone);
  LineReader lines(src.get(), 1 << 20);
  CsvReader csv(&lines, ',', 1 << 20);
  std::vector<std::string> f;
  bool eof = false;
  REQUIRE(csv.Next(&f, &eof).ok());
  CHECK(f == std::vector<std::string>{"pk", "n", "text"});
  const std::vector<std::string> header = f;
  std::map<std::string, table::ValueType> types{{"pk", table::ValueType::kS},
                                                {"n", table::ValueType::kN}};
  REQUIRE(csv.Next(&f, &eof).ok());
  CHECK(f == std::vector<std::string>{"a,1", "5", "say \"hi\"\nthere"});
  Item item;
  REQUIRE(CsvRecordToItem(header, f, types, &item).ok());
  CHECK(item.Find("n")->n() == D("5"));
  CHECK(item.Find("text")->s() == "say \"hi\"\nthere");
  REQUIRE(csv.Next(&f, &eof).ok());
  CHECK(f == std::vector<std::string>{"b;2", "7", ""});
  REQUIRE(CsvRecordToItem(header, f, types, &item).ok());
  CHECK(item.Find("text") == nullptr);  // empty non-key field left out
  REQUIRE(csv.Next(&f, &eof).ok());
  CHECK(eof);
  CHECK(CsvRecordToItem(header, {"x", "notanumber", ""}, types, &item).IsInvalidArgument());
  CHECK(CsvRecordToItem(header, {"x"}, types, &item).IsInvalidArgument());

  auto tabbed = MemorySource("a\tb\n\"unterminated\tx\n", Compression::kNone);
  LineReader l2(tabbed.get(), 1 << 20);
  CsvReader c2(&l2, '\t', 1 << 20);
  REQUIRE(c2.Next(&f, &eof).ok());
  CHECK(f == std::vector<std::string>{"a", "b"});
  CHECK(c2.Next(&f, &eof).IsInvalidArgument());
}

TEST_CASE("compressed sources: gzip (several members), zstd, none; line limits") {
  std::string text;
  for (int i = 0; i < 20000; i++) text += "line " + std::to_string(i) + "\n";
  const std::string gz = GzipBytes(text.substr(0, 1000)) + GzipBytes(text.substr(1000));
  CHECK(ReadAll(MemorySource(gz, Compression::kGzip).get()) == text);
  std::string zst(ZSTD_compressBound(text.size()), '\0');
  zst.resize(ZSTD_compress(zst.data(), zst.size(), text.data(), text.size(), 3));
  CHECK(ReadAll(MemorySource(zst, Compression::kZstd).get()) == text);
  CHECK(ReadAll(MemorySource(text, Compression::kNone).get()) == text);

  auto bad = MemorySource("not gzip at all", Compression::kGzip);
  char buf[16];
  size_t got = 0;
  CHECK_FALSE(bad->Read(buf, sizeof(buf), &got).ok());
  auto truncated = MemorySource(gz.substr(0, gz.size() - 5), Compression::kGzip);
  Status s;
  while ((s = truncated->Read(buf, sizeof(buf), &got)).ok() && got > 0) {
  }
  CHECK(s.IsCorruption());

  auto src = MemorySource("short\r\n" + std::string(100, 'x') + "\nlast", Compression::kNone);
  LineReader lines(src.get(), 50);
  std::string line;
  bool eof = false;
  REQUIRE(lines.Next(&line, &eof).ok());
  CHECK(line == "short");
  CHECK(lines.Next(&line, &eof).IsInvalidArgument());
}

TEST_CASE("gzip writer: readable back, MD5 of the file's bytes") {
  const std::string dir = TempDir();
  const std::string path = dir + "/f.json.gz";
  GzipFileWriter w;
  REQUIRE(w.Open(path).ok());
  REQUIRE(w.Append("{\"Item\":{}}\n").ok());
  REQUIRE(w.Append("second\n").ok());
  std::string md5;
  uint64_t size = 0;
  REQUIRE(w.Finish(&md5, &size).ok());
  std::unique_ptr<ByteSource> src;
  REQUIRE(OpenSource(path, Compression::kGzip, &src).ok());
  CHECK(ReadAll(src.get()) == "{\"Item\":{}}\nsecond\n");
  std::unique_ptr<ByteSource> raw;
  REQUIRE(OpenSource(path, Compression::kNone, &raw).ok());
  const std::string bytes = ReadAll(raw.get());
  CHECK(bytes.size() == size);
  CHECK(Md5Base64(bytes) == md5);
  CHECK(Md5Base64("") == "1B2M2Y8AsgTpgAmY7PhCfg==");
  GzipFileWriter again;
  CHECK_FALSE(again.Open(path).ok());  // never overwrites
  std::filesystem::remove_all(dir);
}

TEST_CASE("export root: bucket and prefix map inside it, escapes refused") {
  const std::string root = TempDir();
  const std::string outside = TempDir();
  std::filesystem::create_directories(root + "/bucket/a");
  std::string dir;
  REQUIRE(ResolveUnderRoot(root, "bucket", "", &dir).ok());
  CHECK(dir == root + "/bucket");
  REQUIRE(ResolveUnderRoot(root, "bucket", "a//b/./c/", &dir).ok());
  CHECK(dir == root + "/bucket/a/b/c");
  CHECK(ResolveUnderRoot(root, "bucket", "../x", &dir).IsInvalidArgument());
  CHECK(ResolveUnderRoot(root, "bucket", "a/../../x", &dir).IsInvalidArgument());
  CHECK(ResolveUnderRoot(root, "bucket", "/etc", &dir).IsInvalidArgument());
  CHECK(ResolveUnderRoot(root, "..", "", &dir).IsInvalidArgument());
  CHECK(ResolveUnderRoot(root, "a/b", "", &dir).IsInvalidArgument());
  std::filesystem::create_directory_symlink(outside, root + "/bucket/link");
  CHECK(ResolveUnderRoot(root, "bucket", "link/x", &dir).IsInvalidArgument());
  std::filesystem::create_directory_symlink(outside, root + "/evil");
  CHECK(ResolveUnderRoot(root, "evil", "", &dir).IsInvalidArgument());
  CHECK(KeyPrefix("") == "");
  CHECK(KeyPrefix("p/q") == "p/q/");
  CHECK(KeyPrefix("p/") == "p/");
  CHECK(IsoTime(1604474914028) == "2020-11-04T07:28:34.028Z");
  CHECK(NewJobId(1604474914028).size() == 23);
  CHECK(RandomFileName().size() == 26);

  // ListObjects: keys are prefixes, not directories; symlinks skipped.
  std::filesystem::create_directories(root + "/bucket/exp/data");
  for (const char* f : {"/bucket/exp/data/1.json.gz", "/bucket/exp/data/2.json.gz",
                        "/bucket/exp/manifest-files.json", "/bucket/exports.csv"}) {
    FILE* fp = std::fopen((root + f).c_str(), "w");
    std::fclose(fp);
  }
  std::vector<std::string> keys;
  REQUIRE(ListObjects(root + "/bucket", "exp/data/", 10, &keys).ok());
  CHECK(keys == std::vector<std::string>{"exp/data/1.json.gz", "exp/data/2.json.gz"});
  REQUIRE(ListObjects(root + "/bucket", "exp", 10, &keys).ok());
  CHECK(keys.size() == 4);
  CHECK(ListObjects(root + "/bucket", "exp", 2, &keys).IsInvalidArgument());
  std::filesystem::remove_all(root);
  std::filesystem::remove_all(outside);
}

TEST_CASE("job records: JSON round trip") {
  ExportRecord e;
  e.id = "01234567890123-abcdef01";
  e.arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/" + e.id;
  e.state = JobState::kFailed;
  e.incremental = true;
  e.from_ms = 5;
  e.to_ms = 7;
  e.failure_message = "x\"y";
  e.item_count = 42;
  ExportRecord e2;
  REQUIRE(DecodeExportRecord(EncodeExportRecord(e), &e2).ok());
  CHECK(EncodeExportRecord(e2) == EncodeExportRecord(e));
  ImportRecord i;
  i.id = "01234567890123-abcdef02";
  i.csv_delimiter = '\t';
  i.csv_header = {"a", "b"};
  i.csv_key_types = {{"a", "N"}};
  i.error_count = 3;
  ImportRecord i2;
  REQUIRE(DecodeImportRecord(EncodeImportRecord(i), &i2).ok());
  CHECK(EncodeImportRecord(i2) == EncodeImportRecord(i));
  CHECK(i2.csv_delimiter == '\t');
  CHECK(DecodeExportRecord("{]", &e2).IsCorruption());
}
