// Lambda event filtering over DynamoDB Streams records: every operator, the
// DynamoDB examples of the AWS docs, AND/OR semantics, limits and invalid
// patterns (server/triggers/event_filter.h).
#include "server/triggers/event_filter.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace basalt;
using basalt::server::triggers::EventFilter;
using basalt::server::triggers::EventFilterOptions;

namespace {

// FilterCriteria JSON with one filter per pattern text.
boost::json::value Criteria(const std::vector<std::string>& patterns) {
  boost::json::array filters;
  for (const std::string& p : patterns) {
    boost::json::object f;
    f["Pattern"] = p;
    filters.push_back(std::move(f));
  }
  boost::json::object c;
  c["Filters"] = std::move(filters);
  return c;
}

EventFilter MustParse(const std::vector<std::string>& patterns) {
  EventFilter f;
  Status s = EventFilter::Parse(Criteria(patterns), &f);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return f;
}

// Whether one pattern matches one record (both JSON text).
bool Match(std::string_view pattern, std::string_view record) {
  EventFilter f = MustParse({std::string(pattern)});
  return f.Matches(boost::json::parse(record));
}

// The message of a Parse that must fail with InvalidArgument.
std::string ParseError(const boost::json::value& criteria, const EventFilterOptions& options = {}) {
  EventFilter f;
  Status s = EventFilter::Parse(criteria, &f, options);
  CHECK_MESSAGE(s.IsInvalidArgument(), s.ToString());
  return std::string(s.message());
}
std::string PatternError(std::string_view pattern) {
  return ParseError(Criteria({std::string(pattern)}));
}
bool HasInvalidPrefix(const std::string& msg) {
  return msg.starts_with("Invalid filter pattern definition.");
}

// A DynamoDB Streams record as Lambda delivers it (the example record of
// "Using event filtering with a DynamoDB event source", with eventName etc.).
constexpr std::string_view kRecord = R"({
  "eventID": "1",
  "eventName": "INSERT",
  "eventVersion": "1.1",
  "eventSource": "aws:dynamodb",
  "awsRegion": "us-east-1",
  "dynamodb": {
    "ApproximateCreationDateTime": 1678831218,
    "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
    "NewImage": {
      "AccountManager": {"S": "Pat Candella"},
      "PaymentTerms": {"S": "60 days"},
      "CustomerName": {"S": "AnyCompany Industries"},
      "Balance": {"N": "101"},
      "Active": {"BOOL": true},
      "Note": {"NULL": true},
      "Empty": {"S": ""},
      "Tags": {"SS": ["red", "green"]},
      "Organizations": {"L": [{"S": "Sales"}, {"S": "Marketing"}, {"S": "Support"}]}
    },
    "OldImage": {
      "AccountManager": {"S": "Terry Whitlock"},
      "CustomerName": {"S": "AnyCompany Industries"}
    },
    "SequenceNumber": "111",
    "SizeBytes": 26,
    "StreamViewType": "NEW_AND_OLD_IMAGES"
  },
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-05-01T00:00:00.000"
})";

}  // namespace

TEST_CASE("event_filter: no filters match everything") {
  EventFilter f;
  CHECK(f.empty());
  CHECK(f.Matches(boost::json::parse(kRecord)));
  for (std::string_view text : {"null", "{}", R"({"Filters": []})", R"({"Filters": null})"}) {
    EventFilter g = MustParse({"{\"a\": [1]}"});
    Status s = EventFilter::Parse(boost::json::parse(text), &g);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK_MESSAGE(g.empty(), text);
    CHECK(g.size() == 0);
    CHECK(g.Matches(boost::json::parse(kRecord)));
  }
}

TEST_CASE("event_filter: DynamoDB examples of the AWS docs") {
  // Filtering with table keys.
  CHECK(Match(R"({"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}})",
              kRecord));
  CHECK_FALSE(Match(R"({"dynamodb": {"Keys": {"CustomerName": {"S": ["Other"]}}}})", kRecord));
  // Filtering with table attributes: values of an array are ORed.
  CHECK(Match(
      R"({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}}})",
      kRecord));
  CHECK_FALSE(Match(
      R"({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Shirley Rodriguez"]}}}})", kRecord));
  // Filtering with Boolean expressions: the docs repeat the "dynamodb" key, AND.
  const std::string both =
      R"({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}}},
          "dynamodb": {"OldImage": {"AccountManager": {"S": ["Terry Whitlock"]}}}})";
  CHECK(Match(both, kRecord));
  const std::string wrong_old =
      R"({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}}},
          "dynamodb": {"OldImage": {"AccountManager": {"S": ["Someone Else"]}}}})";
  CHECK_FALSE(Match(wrong_old, kRecord));
  // Metadata: eventName.
  CHECK(Match(R"({"eventName": ["INSERT"]})", kRecord));
  CHECK(Match(R"({"eventName": ["INSERT", "MODIFY"]})", kRecord));
  CHECK_FALSE(Match(R"({"eventName": ["REMOVE"]})", kRecord));
  // The brief's shape: a string attribute.
  CHECK(Match(R"({"dynamodb": {"NewImage": {"PaymentTerms": {"S": ["60 days"]}}}})", kRecord));
  // Numbers are strings inside {"N": ...}: exact match on the string works...
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Balance": {"N": ["101"]}}}})", kRecord));
  CHECK_FALSE(Match(R"({"dynamodb": {"NewImage": {"Balance": {"N": [101]}}}})", kRecord));
  // ...and numeric operators never match them ("DynamoDB event filtering
  // doesn't support the use of numeric operators").
  CHECK_FALSE(Match(R"({"dynamodb": {"NewImage": {"Balance": {"N": [{"numeric": ["=", 101]}]}}}})",
                    kRecord));
  CHECK_FALSE(
      Match(R"({"dynamodb": {"NewImage": {"Balance": {"N": [{"numeric": [">", 0]}]}}}})", kRecord));
  // Exists only works on leaf nodes: on "Organizations" it never matches; on
  // {"L": {"S": ...}} it does.
  CHECK_FALSE(
      Match(R"({"dynamodb": {"NewImage": {"Organizations": [{"exists": true}]}}})", kRecord));
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Organizations": {"L": {"S": [{"exists": true}]}}}}})",
              kRecord));
  // exists:false for a missing attribute.
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Missing": {"S": [{"exists": false}]}}}})", kRecord));
  CHECK_FALSE(Match(R"({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"exists": false}]}}}})",
                    kRecord));
  // BOOL attribute (the CDK example).
  CHECK(
      Match(R"({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"Active": {"BOOL": [true]}}}})",
            kRecord));
  CHECK_FALSE(Match(R"({"dynamodb": {"NewImage": {"Active": {"BOOL": [false]}}}})", kRecord));
}

TEST_CASE("event_filter: exact match of strings, numbers, booleans, null and empty") {
  const std::string rec =
      R"({"s": "Alice", "i": 300, "d": 300.0, "neg": -7, "big": 18446744073709551615,
          "t": true, "f": false, "n": null, "e": "", "num_str": "300"})";
  CHECK(Match(R"({"s": ["Alice"]})", rec));
  CHECK_FALSE(Match(R"({"s": ["alice"]})", rec));  // no case folding
  CHECK_FALSE(Match(R"({"s": ["Alic"]})", rec));
  // Numbers compare by their written form: 300 is not 300.0.
  CHECK(Match(R"({"i": [300]})", rec));
  CHECK_FALSE(Match(R"({"i": [300.0]})", rec));
  CHECK(Match(R"({"d": [300.0]})", rec));
  CHECK_FALSE(Match(R"({"d": [300]})", rec));
  CHECK(Match(R"({"neg": [-7]})", rec));
  CHECK_FALSE(Match(R"({"neg": [7]})", rec));
  CHECK(Match(R"({"big": [18446744073709551615]})", rec));
  CHECK_FALSE(Match(R"({"i": ["300"]})", rec));      // a string is not a number
  CHECK_FALSE(Match(R"({"num_str": [300]})", rec));  // nor the reverse
  CHECK(Match(R"({"num_str": ["300"]})", rec));
  CHECK(Match(R"({"t": [true]})", rec));
  CHECK_FALSE(Match(R"({"t": [false]})", rec));
  CHECK(Match(R"({"f": [false]})", rec));
  CHECK_FALSE(Match(R"({"t": ["true"]})", rec));
  // Null matches a JSON null, not a missing field and not "".
  CHECK(Match(R"({"n": [null]})", rec));
  CHECK_FALSE(Match(R"({"missing": [null]})", rec));
  CHECK_FALSE(Match(R"({"e": [null]})", rec));
  // Empty matches "", not null and not a missing field.
  CHECK(Match(R"({"e": [""]})", rec));
  CHECK_FALSE(Match(R"({"n": [""]})", rec));
  CHECK_FALSE(Match(R"({"missing": [""]})", rec));
  // A field absent from the record fails any value match.
  CHECK_FALSE(Match(R"({"missing": ["Alice"]})", rec));
  // A field whose record value is an object is not a leaf.
  CHECK_FALSE(Match(R"({"o": ["x"]})", R"({"o": {"x": 1}})"));
}

TEST_CASE("event_filter: AND across fields, OR inside arrays, OR across filters") {
  const std::string rec = R"({"Location": "New York", "Day": "Monday"})";
  CHECK(Match(R"({"Location": ["New York"], "Day": ["Monday"]})", rec));
  CHECK_FALSE(Match(R"({"Location": ["New York"], "Day": ["Tuesday"]})", rec));
  CHECK(Match(R"({"Day": ["Sunday", "Monday"]})", rec));
  CHECK(Match(R"({"Day": ["Sunday", {"prefix": "Mon"}]})", rec));
  // Filters are ORed: a record passes if any one matches.
  EventFilter f = MustParse({R"({"Day": ["Sunday"]})", R"({"Location": ["New York"]})"});
  CHECK(f.size() == 2);
  CHECK(f.Matches(boost::json::parse(rec)));
  EventFilter g = MustParse({R"({"Day": ["Sunday"]})", R"({"Location": ["Boston"]})"});
  CHECK_FALSE(g.Matches(boost::json::parse(rec)));
  // Repeating a key with the same path ANDs the two rules.
  CHECK(Match(R"({"Day": ["Monday"], "Day": [{"prefix": "M"}]})", rec));
  CHECK_FALSE(Match(R"({"Day": ["Monday"], "Day": ["Sunday"]})", rec));
}

TEST_CASE("event_filter: $or") {
  const std::string rec = R"({"Location": "New York", "Day": "Monday", "detail": {"c": 3}})";
  CHECK(Match(R"({"$or": [{"Location": ["New York"]}, {"Day": ["Sunday"]}]})", rec));
  CHECK(Match(R"({"$or": [{"Location": ["Boston"]}, {"Day": ["Monday"]}]})", rec));
  CHECK_FALSE(Match(R"({"$or": [{"Location": ["Boston"]}, {"Day": ["Sunday"]}]})", rec));
  // Combined with a sibling field (AND), nested in an object, nested $or.
  CHECK(Match(R"({"Day": ["Monday"], "$or": [{"Location": ["Boston"]}, {"detail": {"c": [3]}}]})",
              rec));
  CHECK_FALSE(Match(
      R"({"Day": ["Sunday"], "$or": [{"Location": ["New York"]}, {"detail": {"c": [3]}}]})", rec));
  CHECK(Match(R"({"detail": {"$or": [{"c": [{"numeric": [">", 2]}]}, {"d": ["x"]}]}})", rec));
  CHECK_FALSE(Match(R"({"detail": {"$or": [{"c": [{"numeric": [">", 3]}]}, {"d": ["x"]}]}})", rec));
  CHECK(Match(
      R"({"$or": [{"Day": ["x"]}, {"$or": [{"Location": ["y"]}, {"Location": ["New York"]}]}]})",
      rec));
  // Two $or groups at one level: both must hold.
  CHECK_FALSE(Match(
      R"({"$or": [{"Day": ["Monday"]}, {"Day": ["x"]}], "detail": {"$or": [{"c": [4]}, {"c": [5]}]}})",
      rec));
}

TEST_CASE("event_filter: prefix, suffix and equals-ignore-case") {
  const std::string rec = R"({"Region": "us-east-1", "FileName": "photo.PNG", "Name": "Alice"})";
  CHECK(Match(R"({"Region": [{"prefix": "us-"}]})", rec));
  CHECK_FALSE(Match(R"({"Region": [{"prefix": "eu-"}]})", rec));
  CHECK_FALSE(Match(R"({"Region": [{"prefix": "US-"}]})", rec));
  CHECK(Match(R"({"Region": [{"prefix": {"equals-ignore-case": "US-"}}]})", rec));
  CHECK(Match(R"({"FileName": [{"suffix": ".PNG"}]})", rec));
  CHECK_FALSE(Match(R"({"FileName": [{"suffix": ".png"}]})", rec));
  CHECK(Match(R"({"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]})", rec));
  CHECK_FALSE(Match(R"({"FileName": [{"suffix": {"equals-ignore-case": ".jpg"}}]})", rec));
  CHECK(Match(R"({"Name": [{"equals-ignore-case": "alice"}]})", rec));
  CHECK(Match(R"({"Name": [{"equals-ignore-case": "ALICE"}]})", rec));
  CHECK_FALSE(Match(R"({"Name": [{"equals-ignore-case": "alic"}]})", rec));
  // String operators never match numbers or missing fields.
  CHECK_FALSE(Match(R"({"n": [{"prefix": "1"}]})", R"({"n": 12})"));
  CHECK_FALSE(Match(R"({"missing": [{"prefix": ""}]})", rec));
  // On DynamoDB attributes.
  CHECK(Match(R"({"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"suffix": " days"}]}}}})",
              kRecord));
  CHECK(Match(R"({"dynamodb": {"Keys": {"CustomerName": {"S": [{"prefix": "AnyCompany"}]}}}})",
              kRecord));
}

TEST_CASE("event_filter: anything-but") {
  const std::string rec = R"({"Weather": "Sunny", "Count": 5, "Flag": true})";
  CHECK(Match(R"({"Weather": [{"anything-but": ["Raining"]}]})", rec));
  CHECK_FALSE(Match(R"({"Weather": [{"anything-but": ["Raining", "Sunny"]}]})", rec));
  CHECK_FALSE(Match(R"({"Weather": [{"anything-but": "Sunny"}]})", rec));
  CHECK(Match(R"({"Count": [{"anything-but": [1, 2]}]})", rec));
  CHECK_FALSE(Match(R"({"Count": [{"anything-but": [5, 6]}]})", rec));
  CHECK_FALSE(Match(R"({"Count": [{"anything-but": 5.0}]})", rec));  // numbers by value
  // Values of another type are "anything but" the listed ones.
  CHECK(Match(R"({"Count": [{"anything-but": ["5"]}]})", rec));
  CHECK(Match(R"({"Flag": [{"anything-but": ["true"]}]})", rec));
  // It needs a value: a missing field does not match.
  CHECK_FALSE(Match(R"({"Missing": [{"anything-but": ["x"]}]})", rec));
  // On DynamoDB: every eventName but REMOVE.
  CHECK(Match(R"({"eventName": [{"anything-but": ["REMOVE"]}]})", kRecord));
  CHECK_FALSE(Match(R"({"eventName": [{"anything-but": ["INSERT"]}]})", kRecord));
}

TEST_CASE("event_filter: numeric") {
  auto rec = [](std::string_view v) { return std::string(R"({"Price": )") + std::string(v) + "}"; };
  CHECK(Match(R"({"Price": [{"numeric": ["=", 100]}]})", rec("100")));
  CHECK(Match(R"({"Price": [{"numeric": ["=", 100]}]})", rec("100.0")));  // by value
  CHECK(Match(R"({"Price": [{"numeric": ["=", 3.0e2]}]})", rec("300")));
  CHECK_FALSE(Match(R"({"Price": [{"numeric": ["=", 100]}]})", rec("101")));
  const std::string range = R"({"Price": [{"numeric": [">", 10, "<=", 20]}]})";
  CHECK_FALSE(Match(range, rec("10")));
  CHECK(Match(range, rec("10.5")));
  CHECK(Match(range, rec("20")));
  CHECK_FALSE(Match(range, rec("20.01")));
  const std::string closed_open = R"({"Price": [{"numeric": [">=", 10, "<", 20]}]})";
  CHECK(Match(closed_open, rec("10")));
  CHECK_FALSE(Match(closed_open, rec("20")));
  CHECK(Match(R"({"Price": [{"numeric": ["<", 0]}]})", rec("-1")));
  CHECK_FALSE(Match(R"({"Price": [{"numeric": ["<", 0]}]})", rec("0")));
  CHECK(Match(R"({"Price": [{"numeric": ["<=", 0]}]})", rec("0")));
  CHECK(Match(R"({"Price": [{"numeric": [">", -5]}]})", rec("-4")));
  CHECK(Match(R"({"Price": [{"numeric": [">=", 5000000000]}]})", rec("5000000000")));
  // Beyond EventBridge's range (5e9) a record number does not match numerically.
  CHECK_FALSE(Match(R"({"Price": [{"numeric": [">", 0]}]})", rec("6000000000")));
  // Strings never match numerically.
  CHECK_FALSE(Match(R"({"Price": [{"numeric": [">", 0]}]})", rec("\"5\"")));
  CHECK_FALSE(Match(R"({"Price": [{"numeric": [">", 0]}]})", R"({"Other": 5})"));
  // Metadata numbers of a DynamoDB record.
  CHECK(Match(R"({"dynamodb": {"SizeBytes": [{"numeric": [">", 10, "<", 100]}]}})", kRecord));
  CHECK(Match(R"({"dynamodb": {"SizeBytes": [26]}})", kRecord));
}

TEST_CASE("event_filter: exists") {
  const std::string rec = R"({"ProductName": "x", "Obj": {"a": 1}, "Nul": null, "Arr": [],
                              "Arr2": [1, 2], "ObjArr": [{"a": 1}]})";
  CHECK(Match(R"({"ProductName": [{"exists": true}]})", rec));
  CHECK_FALSE(Match(R"({"ProductName": [{"exists": false}]})", rec));
  CHECK(Match(R"({"Missing": [{"exists": false}]})", rec));
  CHECK_FALSE(Match(R"({"Missing": [{"exists": true}]})", rec));
  // A null is a value.
  CHECK(Match(R"({"Nul": [{"exists": true}]})", rec));
  // Intermediate nodes are not leaves (the docs' "person.address" example).
  CHECK_FALSE(Match(R"({"Obj": [{"exists": true}]})", rec));
  CHECK(Match(R"({"Obj": [{"exists": false}]})", rec));
  CHECK(Match(R"({"Obj": {"a": [{"exists": true}]}})", rec));
  // Arrays: an empty array holds no value; an array of objects holds none at its own path.
  CHECK(Match(R"({"Arr": [{"exists": false}]})", rec));
  CHECK(Match(R"({"Arr2": [{"exists": true}]})", rec));
  CHECK(Match(R"({"ObjArr": {"a": [{"exists": true}]}})", rec));
  // A missing parent: every path below it is absent.
  CHECK(Match(R"({"Nope": {"deeper": [{"exists": false}]}})", rec));
  // ORed with a value.
  CHECK(Match(R"({"Missing": ["x", {"exists": false}]})", rec));
  CHECK(Match(R"({"ProductName": ["x", {"exists": false}]})", rec));
  CHECK_FALSE(Match(R"({"ProductName": ["y", {"exists": false}]})", rec));
  // DynamoDB: OldImage absent on an INSERT.
  const std::string insert =
      R"({"eventName": "INSERT", "dynamodb": {"NewImage": {"k": {"S": "1"}}}})";
  CHECK(Match(R"({"dynamodb": {"OldImage": {"k": {"S": [{"exists": false}]}}}})", insert));
}

TEST_CASE("event_filter: arrays in the record: any element matches") {
  const std::string rec = R"({"tags": ["a", "b"], "items": [{"k": "x"}, {"k": "y"}],
                              "nested": [["p"], ["q", ["r"]]]})";
  CHECK(Match(R"({"tags": ["b"]})", rec));
  CHECK(Match(R"({"tags": ["z", "a"]})", rec));
  CHECK_FALSE(Match(R"({"tags": ["z"]})", rec));
  CHECK(Match(R"({"items": {"k": ["y"]}})", rec));
  CHECK_FALSE(Match(R"({"items": {"k": ["z"]}})", rec));
  CHECK(Match(R"({"nested": ["r"]})", rec));
  CHECK(Match(R"({"tags": [{"anything-but": ["a"]}]})", rec));  // "b" is not "a"
  // DynamoDB sets and lists.
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Tags": {"SS": ["green"]}}}})", kRecord));
  CHECK_FALSE(Match(R"({"dynamodb": {"NewImage": {"Tags": {"SS": ["blue"]}}}})", kRecord));
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Organizations": {"L": {"S": ["Support"]}}}}})",
              kRecord));
  // NULL attribute type.
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Note": {"NULL": [true]}}}})", kRecord));
  CHECK(Match(R"({"dynamodb": {"NewImage": {"Empty": {"S": [""]}}}})", kRecord));
}

TEST_CASE("event_filter: the record need not be an object") {
  EventFilter f = MustParse({R"({"a": ["x"]})"});
  CHECK_FALSE(f.Matches(boost::json::value(nullptr)));
  CHECK_FALSE(f.Matches(boost::json::parse("[1, 2]")));
  EventFilter g = MustParse({R"({"a": [{"exists": false}]})"});
  CHECK(g.Matches(boost::json::value("text")));
}

TEST_CASE("event_filter: invalid patterns") {
  // Not JSON, not an object.
  for (std::string_view bad : {"", "{", "not json", R"({"a": ["x"]} trailing)",
                               R"([{"eventName": ["INSERT"]}])", "null", "\"text\"", "42"}) {
    std::string msg = PatternError(bad);
    CHECK_MESSAGE(HasInvalidPrefix(msg), msg);
    CHECK_MESSAGE(msg.find("Filters[0]") != std::string::npos, msg);
  }
  CHECK(PatternError("{bad").find("not valid JSON") != std::string::npos);
  CHECK(PatternError("[1]").find("Filter is not an object") != std::string::npos);
  // Structure.
  CHECK(PatternError("{}").find("Empty objects are not allowed") != std::string::npos);
  CHECK(PatternError(R"({"a": {}})").find("Empty objects are not allowed") != std::string::npos);
  CHECK(PatternError(R"({"a": []})").find("Empty arrays are not allowed") != std::string::npos);
  CHECK(PatternError(R"({"a": "x"})").find("\"a\" must be an object or an array") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": 1})").find("must be an object or an array") != std::string::npos);
  CHECK(PatternError(R"({"a": [["x"]]})").find("Match value must be String") != std::string::npos);
  // Operators.
  CHECK(PatternError(R"({"a": [{"regex": "x"}]})").find("Unrecognized match type regex") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"cidr": "10.0.0.0/8"}]})").find("Unrecognized match type") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{}]})").find("Match expression name not found") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"prefix": "x", "suffix": "y"}]})")
            .find("Only one key allowed in match expression") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"prefix": 1}]})").find("prefix match pattern must be a string") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"suffix": null}]})").find("suffix match pattern") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"prefix": {"exists": true}}]})").find("prefix match pattern") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"equals-ignore-case": ["x"]}]})").find("equals-ignore-case") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"exists": "true"}]})").find("either true or false") !=
        std::string::npos);
  // Not supported by Lambda (EventBridge-only).
  CHECK(PatternError(R"({"a": [{"wildcard": "*.png"}]})").find("not supported") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"anything-but": {"prefix": "us-"}}]})").find("not supported") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"anything-but": {"equals-ignore-case": "x"}}]})")
            .find("not supported") != std::string::npos);
  // anything-but operands.
  CHECK(PatternError(R"({"a": [{"anything-but": ["x", 1]}]})").find("mixed type") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"anything-but": []}]})").find("mixed type") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"anything-but": [null]}]})").find("null|boolean") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"anything-but": true}]})").find("must be an array or single") !=
        std::string::npos);
  // numeric operands.
  CHECK(PatternError(R"({"a": [{"numeric": 5}]})").find("must be an array") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": []}]})").find("Invalid member in numeric match") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": ["!=", 5]}]})")
            .find("Unrecognized numeric range operator: !=") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">", "5"]}]})").find("Value of > must be numeric") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">"]}]})").find("must be numeric") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": ["=", 5, "<", 6]}]})").find("Too many elements") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": ["<", 5, ">", 1]}]})").find("Too many elements") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">", 5, ">", 6]}]})")
            .find("Bad numeric range operator: >") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">", 5, "<", 6, "<", 7]}]})").find("Too many terms") !=
        std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">", 6, "<", 5]}]})")
            .find("Bottom must be less than top") != std::string::npos);
  CHECK(PatternError(R"({"a": [{"numeric": [">", 6e9]}]})").find("-5.0E9 and 5.0E9") !=
        std::string::npos);
  // $or.
  CHECK(PatternError(R"({"$or": {"a": ["x"]}})").find("Array followed with $or") !=
        std::string::npos);
  CHECK(PatternError(R"({"$or": [{"a": ["x"]}]})").find("at least 2 Objects") != std::string::npos);
  CHECK(PatternError(R"({"$or": [{"a": ["x"]}, "b"]})").find("Only JSON object is allowed") !=
        std::string::npos);
  // Nesting depth.
  std::string deep;
  for (size_t k = 0; k < EventFilter::kMaxPatternDepth + 1; ++k) deep += "{\"a\":";
  deep += "[1]";
  for (size_t k = 0; k < EventFilter::kMaxPatternDepth + 1; ++k) deep += "}";
  CHECK(PatternError(deep).find("nested deeper than") != std::string::npos);
  // The error names the filter that is wrong.
  std::string msg = ParseError(Criteria({R"({"a": ["x"]})", R"({"a": "x"})"}));
  CHECK_MESSAGE(msg.find("Filters[1]") != std::string::npos, msg);
}

TEST_CASE("event_filter: FilterCriteria shape and limits") {
  CHECK(ParseError(boost::json::parse("[]")).find("FilterCriteria") != std::string::npos);
  CHECK(ParseError(boost::json::parse(R"({"Filters": {}})")).find("must be an array") !=
        std::string::npos);
  CHECK(ParseError(boost::json::parse(R"({"Filters": ["x"]})")).find("Filters[0]") !=
        std::string::npos);
  CHECK(HasInvalidPrefix(ParseError(boost::json::parse(R"({"Filters": [{}]})"))));
  CHECK(HasInvalidPrefix(ParseError(boost::json::parse(R"({"Filters": [{"Pattern": 5}]})"))));

  // Five filters by default; a sixth is refused, unless the quota is raised.
  std::vector<std::string> five(5, R"({"a": ["x"]})");
  EventFilter f = MustParse(five);
  CHECK(f.size() == 5);
  std::vector<std::string> six(6, R"({"a": ["x"]})");
  std::string msg = ParseError(Criteria(six));
  CHECK_MESSAGE(msg.find("Too many filters") != std::string::npos, msg);
  CHECK_MESSAGE(msg.find("at most 5") != std::string::npos, msg);
  EventFilterOptions ten;
  ten.max_filters = EventFilter::kQuotaMaxFilters;
  EventFilter g;
  CHECK(EventFilter::Parse(Criteria(six), &g, ten).ok());
  CHECK(g.size() == 6);

  // A Pattern of 4096 characters is accepted, 4097 is not.
  std::string prefix = R"({"a": [")";
  std::string suffix = R"("]})";
  std::string fill(EventFilter::kMaxPatternChars - prefix.size() - suffix.size(), 'x');
  std::string exact = prefix + fill + suffix;
  REQUIRE(exact.size() == 4096);
  MustParse({exact});
  std::string over = prefix + fill + "x" + suffix;
  msg = ParseError(Criteria({over}));
  CHECK_MESSAGE(msg.find("Member must have length less than or equal to 4096") != std::string::npos,
                msg);
  CHECK_MESSAGE(msg.find("filterCriteria.filters.1.member.pattern") != std::string::npos, msg);
  // Characters, not bytes: 4096 two-byte characters fit.
  std::string wide;
  for (size_t k = 0; k < EventFilter::kMaxPatternChars - prefix.size() - suffix.size(); ++k) {
    wide += "\xC3\xA9";  // U+00E9
  }
  MustParse({prefix + wide + suffix});

  // A failed Parse leaves *out unchanged.
  EventFilter keep = MustParse({R"({"a": ["x"]})"});
  Status s = EventFilter::Parse(Criteria({"{"}), &keep);
  CHECK(s.IsInvalidArgument());
  CHECK(keep.size() == 1);
  CHECK(keep.Matches(boost::json::parse(R"({"a": "x"})")));
}

TEST_CASE("event_filter: copies share the compiled form; Matches on many threads") {
  EventFilter f = MustParse(
      {R"({"eventName": ["INSERT"]})", R"({"dynamodb": {"NewImage": {"Balance": {"N": ["7"]}}}})"});
  EventFilter copy = f;
  CHECK(copy.size() == 2);
  boost::json::value insert = boost::json::parse(kRecord);
  boost::json::value remove = boost::json::parse(R"({"eventName": "REMOVE"})");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 1000; ++k) {
        if (copy.Matches(insert) && !f.Matches(remove)) ++ok[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int n : ok) CHECK(n == 1000);
}
