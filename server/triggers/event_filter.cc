// EventFilter: parsing a FilterCriteria into a small tree, and matching
// records against it (contract and sources in event_filter.h).
//
// A Pattern's text is parsed with Boost.JSON's SAX parser into a RawNode tree
// that keeps repeated keys (boost::json::parse keeps only the last one, but
// AWS's own DynamoDB example repeats "dynamodb" and means AND). The RawNode
// tree is then compiled into a Conjunction: leaf rules with their full path
// from the record's root, plus $or groups of Conjunctions. Matching walks each
// leaf rule's path through the record, flattening arrays, with no allocation.
//
// Numbers: Lambda compares numbers in exact-match values by their string form
// ("300, 300.0, and 3.0e2 are not considered equal"). The record arrives
// parsed (a boost::json::value), so its written form is gone; here an integer
// literal equals an integer of the same value and a literal with a fraction or
// exponent equals a double of the same value, so 300 != 300.0 as in Lambda,
// but 300.0 == 3.0e2 (Lambda: not equal). Numeric ranges compare values, on
// numbers between -5e9 and 5e9 (EventBridge's limit); they never match
// strings, hence never DynamoDB attribute values ({"N": "101"}).
#include "server/triggers/event_filter.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace basalt::server::triggers {

namespace {

constexpr std::string_view kInvalidPattern = "Invalid filter pattern definition.";
// EventBridge's range for numeric matching (event-ruler ComparableNumber).
constexpr double kMaxNumeric = 5e9;
// Deepest array-in-array nesting a record may have at one path; deeper values
// are not looked at (DynamoDB items nest at most 32 levels).
constexpr int kMaxRecordArrayDepth = 64;

// ---- Pattern JSON, keeping repeated keys ----

struct RawNode {
  enum class Kind { kObject, kArray, kString, kInt64, kUint64, kDouble, kBool, kNull };
  Kind kind = Kind::kNull;
  std::string str;                // kString
  int64_t i = 0;                  // kInt64
  uint64_t u = 0;                 // kUint64
  double d = 0;                   // kDouble
  bool b = false;                 // kBool
  std::vector<std::string> keys;  // kObject: keys[k] names children[k]
  std::vector<RawNode> children;  // kObject, kArray

  bool IsNumber() const {
    return kind == Kind::kInt64 || kind == Kind::kUint64 || kind == Kind::kDouble;
  }
  double AsDouble() const {
    switch (kind) {
      case Kind::kInt64:
        return static_cast<double>(i);
      case Kind::kUint64:
        return static_cast<double>(u);
      default:
        return d;
    }
  }
};

// Handler of boost::json::basic_parser that builds a RawNode tree.
class RawBuilder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  RawNode& root() { return root_; }

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) {
    stack_.emplace_back();
    stack_.back().kind = RawNode::Kind::kArray;
    return true;
  }
  bool on_array_end(std::size_t, boost::json::error_code&) { return Close(); }
  bool on_object_begin(boost::json::error_code&) {
    stack_.emplace_back();
    stack_.back().kind = RawNode::Kind::kObject;
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code&) { return Close(); }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    buf_.append(s.data(), s.size());
    RawNode n;
    n.kind = RawNode::Kind::kString;
    n.str = std::move(buf_);
    buf_.clear();
    Add(std::move(n));
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    buf_.append(s.data(), s.size());
    keys_.push_back(std::move(buf_));
    buf_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(int64_t v, boost::json::string_view, boost::json::error_code&) {
    RawNode n;
    n.kind = RawNode::Kind::kInt64;
    n.i = v;
    Add(std::move(n));
    return true;
  }
  bool on_uint64(uint64_t v, boost::json::string_view, boost::json::error_code&) {
    RawNode n;
    n.kind = RawNode::Kind::kUint64;
    n.u = v;
    Add(std::move(n));
    return true;
  }
  bool on_double(double v, boost::json::string_view, boost::json::error_code&) {
    RawNode n;
    n.kind = RawNode::Kind::kDouble;
    n.d = v;
    Add(std::move(n));
    return true;
  }
  bool on_bool(bool v, boost::json::error_code&) {
    RawNode n;
    n.kind = RawNode::Kind::kBool;
    n.b = v;
    Add(std::move(n));
    return true;
  }
  bool on_null(boost::json::error_code&) {
    Add(RawNode());
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  bool Close() {
    RawNode n = std::move(stack_.back());
    stack_.pop_back();
    Add(std::move(n));
    return true;
  }
  void Add(RawNode&& n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      return;
    }
    RawNode& parent = stack_.back();
    if (parent.kind == RawNode::Kind::kObject) {
      parent.keys.push_back(std::move(keys_.back()));
      keys_.pop_back();
    }
    parent.children.push_back(std::move(n));
  }

  RawNode root_;
  std::vector<RawNode> stack_;     // open objects and arrays
  std::vector<std::string> keys_;  // keys waiting for their values
  std::string buf_;                // the string or key being read
};

enum class ParseResult { kOk, kNotJson, kTooDeep };

// Parses `text` as one JSON document.
ParseResult ParseRaw(std::string_view text, RawNode* out) {
  boost::json::parse_options opt;
  opt.max_depth = EventFilter::kMaxPatternDepth;
  boost::json::basic_parser<RawBuilder> parser(opt);
  boost::json::error_code ec;
  size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (ec == boost::json::error::too_deep) return ParseResult::kTooDeep;
  if (ec || n != text.size() || !parser.done()) return ParseResult::kNotJson;
  *out = std::move(parser.handler().root());
  return ParseResult::kOk;
}

// Characters as AWS counts a String's length (UTF-16 code units).
size_t Utf16Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += (c >= 0xF0) ? 2 : 1;          // 4-byte sequences are surrogate pairs
  }
  return n;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Case-insensitive equality of ASCII letters; other bytes compare exactly.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (AsciiLower(a[k]) != AsciiLower(b[k])) return false;
  }
  return true;
}

// ---- The compiled form ----

// An exact-match number literal (see the file comment for equality).
struct NumberLit {
  bool integer = false;  // written without fraction or exponent
  bool negative = false;
  uint64_t magnitude = 0;  // integer: |value|
  double d = 0;            // !integer: the value
};

bool NumberEquals(const NumberLit& lit, const boost::json::value& v) {
  if (lit.integer) {
    if (v.is_int64()) {
      int64_t x = v.get_int64();
      if ((x < 0) != lit.negative) return false;
      uint64_t mag = x < 0 ? static_cast<uint64_t>(-(x + 1)) + 1 : static_cast<uint64_t>(x);
      return mag == lit.magnitude;
    }
    if (v.is_uint64()) return !lit.negative && v.get_uint64() == lit.magnitude;
    return false;
  }
  return v.is_double() && v.get_double() == lit.d;
}

// A number of the record as a double, if it is a number.
bool RecordNumber(const boost::json::value& v, double* out) {
  if (v.is_int64()) {
    *out = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    *out = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    *out = v.get_double();
  } else {
    return false;
  }
  return true;
}

// One value of a leaf rule's array.
struct Matcher {
  enum class Kind {
    kString,              // "x"
    kNumber,              // 5
    kBool,                // true / false
    kNull,                // null
    kPrefix,              // {"prefix": "x"}
    kPrefixIgnoreCase,    // {"prefix": {"equals-ignore-case": "x"}}
    kSuffix,              // {"suffix": "x"}
    kSuffixIgnoreCase,    // {"suffix": {"equals-ignore-case": "x"}}
    kEqualsIgnoreCase,    // {"equals-ignore-case": "x"}
    kAnythingButStrings,  // {"anything-but": "x" | ["x", ...]}
    kAnythingButNumbers,  // {"anything-but": 5 | [5, ...]}
    kNumeric,             // {"numeric": [...]}
    kExists,              // {"exists": true|false}
  };
  Kind kind = Kind::kNull;
  std::string str;                // kString, kPrefix*, kSuffix*, kEqualsIgnoreCase
  NumberLit num;                  // kNumber
  bool flag = false;              // kBool value, kExists value
  std::vector<std::string> strs;  // kAnythingButStrings
  std::vector<double> nums;       // kAnythingButNumbers
  // kNumeric: lo (<|<=) value (<|<=) hi, each bound optional.
  bool has_lo = false, lo_open = false, has_hi = false, hi_open = false;
  double lo = 0, hi = 0;

  // Whether scalar record value `v` (not an object or array) matches. kExists
  // is decided by the caller.
  bool Match(const boost::json::value& v) const {
    switch (kind) {
      case Kind::kString:
        return v.is_string() && std::string_view(v.get_string()) == str;
      case Kind::kNumber:
        return NumberEquals(num, v);
      case Kind::kBool:
        return v.is_bool() && v.get_bool() == flag;
      case Kind::kNull:
        return v.is_null();
      case Kind::kPrefix:
        return v.is_string() && std::string_view(v.get_string()).starts_with(str);
      case Kind::kPrefixIgnoreCase: {
        if (!v.is_string()) return false;
        std::string_view s = v.get_string();
        return s.size() >= str.size() && EqualsIgnoreCase(s.substr(0, str.size()), str);
      }
      case Kind::kSuffix:
        return v.is_string() && std::string_view(v.get_string()).ends_with(str);
      case Kind::kSuffixIgnoreCase: {
        if (!v.is_string()) return false;
        std::string_view s = v.get_string();
        return s.size() >= str.size() && EqualsIgnoreCase(s.substr(s.size() - str.size()), str);
      }
      case Kind::kEqualsIgnoreCase:
        return v.is_string() && EqualsIgnoreCase(v.get_string(), str);
      case Kind::kAnythingButStrings: {
        if (!v.is_string()) return true;
        std::string_view s = v.get_string();
        for (const std::string& x : strs) {
          if (s == x) return false;
        }
        return true;
      }
      case Kind::kAnythingButNumbers: {
        double d;
        if (!RecordNumber(v, &d)) return true;
        for (double x : nums) {
          if (d == x) return false;
        }
        return true;
      }
      case Kind::kNumeric: {
        double d;
        if (!RecordNumber(v, &d) || d < -kMaxNumeric || d > kMaxNumeric) return false;
        if (has_lo && (lo_open ? !(d > lo) : !(d >= lo))) return false;
        if (has_hi && (hi_open ? !(d < hi) : !(d <= hi))) return false;
        return true;
      }
      case Kind::kExists:
        return false;
    }
    return false;
  }
};

// "field": [values...] at a path from the record's root.
struct LeafRule {
  std::vector<std::string> path;
  std::vector<Matcher> matchers;  // ORed
};

struct Conjunction;
// "$or": [alternatives...]
struct Disjunction {
  std::vector<Conjunction> alternatives;  // at least one must match
};
// The fields of one pattern object (with its nested objects), ANDed.
struct Conjunction {
  std::vector<LeafRule> leaves;
  std::vector<Disjunction> ors;
};

// Calls pred on each scalar at `path[idx..]` below `v`, arrays flattened;
// true as soon as pred is. `arrays` counts the arrays entered at one level.
template <class Pred>
bool AnyLeaf(const boost::json::value& v, const std::vector<std::string>& path, size_t idx,
             int arrays, const Pred& pred) {
  if (v.is_array()) {
    if (arrays >= kMaxRecordArrayDepth) return false;
    for (const boost::json::value& e : v.get_array()) {
      if (AnyLeaf(e, path, idx, arrays + 1, pred)) return true;
    }
    return false;
  }
  if (idx == path.size()) {
    if (v.is_object()) return false;  // an intermediate node, not a leaf
    return pred(v);
  }
  if (!v.is_object()) return false;
  const boost::json::object& o = v.get_object();
  auto it = o.find(path[idx]);
  if (it == o.end()) return false;
  return AnyLeaf(it->value(), path, idx + 1, 0, pred);
}

bool MatchLeaf(const LeafRule& rule, const boost::json::value& record) {
  bool any_value = false;
  bool has_value_matchers = false;
  for (const Matcher& m : rule.matchers) {
    if (m.kind != Matcher::Kind::kExists) has_value_matchers = true;
  }
  bool matched = AnyLeaf(record, rule.path, 0, 0, [&](const boost::json::value& v) {
    any_value = true;
    if (!has_value_matchers) return true;  // only exists: one value is enough
    for (const Matcher& m : rule.matchers) {
      if (m.kind != Matcher::Kind::kExists && m.Match(v)) return true;
    }
    return false;
  });
  if (matched && has_value_matchers) return true;
  for (const Matcher& m : rule.matchers) {
    if (m.kind == Matcher::Kind::kExists && m.flag == any_value) return true;
  }
  return false;
}

bool MatchConjunction(const Conjunction& c, const boost::json::value& record) {
  for (const LeafRule& leaf : c.leaves) {
    if (!MatchLeaf(leaf, record)) return false;
  }
  for (const Disjunction& d : c.ors) {
    bool any = false;
    for (const Conjunction& alt : d.alternatives) {
      if (MatchConjunction(alt, record)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

// ---- Compiling a RawNode pattern ----

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out.push_back('"');
  return out;
}

class Compiler {
 public:
  // Error messages say which filter (0-based, as Filters[i]).
  explicit Compiler(size_t filter_index) : filter_index_(filter_index) {}

  Status Fail(std::string_view what) const {
    std::string msg(kInvalidPattern);
    msg.append(" Filters[");
    msg.append(std::to_string(filter_index_));
    msg.append("].Pattern: ");
    msg.append(what);
    return Status::InvalidArgument(msg);
  }

  Status CompileRoot(const RawNode& root, Conjunction* out) {
    if (root.kind != RawNode::Kind::kObject) return Fail("Filter is not an object");
    std::vector<std::string> path;
    return CompileObject(root, &path, out);
  }

 private:
  Status CompileObject(const RawNode& obj, std::vector<std::string>* path, Conjunction* out) {
    if (obj.children.empty()) return Fail("Empty objects are not allowed");
    for (size_t k = 0; k < obj.children.size(); ++k) {
      const std::string& key = obj.keys[k];
      const RawNode& child = obj.children[k];
      if (key == "$or") {
        Status s = CompileOr(child, path, out);
        if (!s.ok()) return s;
        continue;
      }
      if (child.kind == RawNode::Kind::kObject) {
        path->push_back(key);
        Status s = CompileObject(child, path, out);
        path->pop_back();
        if (!s.ok()) return s;
      } else if (child.kind == RawNode::Kind::kArray) {
        LeafRule leaf;
        leaf.path = *path;
        leaf.path.push_back(key);
        Status s = CompileValues(child, key, &leaf);
        if (!s.ok()) return s;
        out->leaves.push_back(std::move(leaf));
      } else {
        return Fail(Quote(key) + " must be an object or an array");
      }
    }
    return Status::OK();
  }

  Status CompileOr(const RawNode& arr, std::vector<std::string>* path, Conjunction* out) {
    if (arr.kind != RawNode::Kind::kArray) return Fail("It must be an Array followed with $or.");
    Disjunction d;
    for (const RawNode& alt : arr.children) {
      if (alt.kind != RawNode::Kind::kObject) {
        return Fail("Only JSON object is allowed in array of $or relationship.");
      }
      Conjunction c;
      Status s = CompileObject(alt, path, &c);
      if (!s.ok()) return s;
      d.alternatives.push_back(std::move(c));
    }
    if (d.alternatives.size() < 2) {
      return Fail("There must have at least 2 Objects in $or relationship.");
    }
    out->ors.push_back(std::move(d));
    return Status::OK();
  }

  Status CompileValues(const RawNode& arr, const std::string& field, LeafRule* leaf) {
    if (arr.children.empty()) return Fail("Empty arrays are not allowed");
    for (const RawNode& v : arr.children) {
      Matcher m;
      switch (v.kind) {
        case RawNode::Kind::kString:
          m.kind = Matcher::Kind::kString;
          m.str = v.str;
          break;
        case RawNode::Kind::kInt64:
          m.kind = Matcher::Kind::kNumber;
          m.num.integer = true;
          m.num.negative = v.i < 0;
          m.num.magnitude =
              v.i < 0 ? static_cast<uint64_t>(-(v.i + 1)) + 1 : static_cast<uint64_t>(v.i);
          break;
        case RawNode::Kind::kUint64:
          m.kind = Matcher::Kind::kNumber;
          m.num.integer = true;
          m.num.magnitude = v.u;
          break;
        case RawNode::Kind::kDouble:
          m.kind = Matcher::Kind::kNumber;
          m.num.d = v.d;
          break;
        case RawNode::Kind::kBool:
          m.kind = Matcher::Kind::kBool;
          m.flag = v.b;
          break;
        case RawNode::Kind::kNull:
          m.kind = Matcher::Kind::kNull;
          break;
        case RawNode::Kind::kObject: {
          Status s = CompileExpression(v, field, &m);
          if (!s.ok()) return s;
          break;
        }
        case RawNode::Kind::kArray:
          return Fail("Match value must be String, number, true, false, or null");
      }
      leaf->matchers.push_back(std::move(m));
    }
    return Status::OK();
  }

  // {"<operator>": operand}
  Status CompileExpression(const RawNode& expr, const std::string& field, Matcher* m) {
    if (expr.children.empty()) return Fail("Match expression name not found in " + Quote(field));
    if (expr.children.size() > 1) return Fail("Only one key allowed in match expression");
    const std::string& op = expr.keys[0];
    const RawNode& arg = expr.children[0];
    if (op == "prefix" || op == "suffix") {
      bool prefix = op == "prefix";
      if (arg.kind == RawNode::Kind::kString) {
        m->kind = prefix ? Matcher::Kind::kPrefix : Matcher::Kind::kSuffix;
        m->str = arg.str;
        return Status::OK();
      }
      if (arg.kind == RawNode::Kind::kObject && arg.children.size() == 1 &&
          arg.keys[0] == "equals-ignore-case" && arg.children[0].kind == RawNode::Kind::kString) {
        m->kind = prefix ? Matcher::Kind::kPrefixIgnoreCase : Matcher::Kind::kSuffixIgnoreCase;
        m->str = arg.children[0].str;
        return Status::OK();
      }
      return Fail(op + " match pattern must be a string");
    }
    if (op == "equals-ignore-case") {
      if (arg.kind != RawNode::Kind::kString) {
        return Fail("equals-ignore-case match pattern must be a string");
      }
      m->kind = Matcher::Kind::kEqualsIgnoreCase;
      m->str = arg.str;
      return Status::OK();
    }
    if (op == "anything-but") return CompileAnythingBut(arg, m);
    if (op == "numeric") return CompileNumeric(arg, m);
    if (op == "exists") {
      if (arg.kind != RawNode::Kind::kBool) {
        return Fail("exists match pattern must be either true or false.");
      }
      m->kind = Matcher::Kind::kExists;
      m->flag = arg.b;
      return Status::OK();
    }
    if (op == "wildcard") {
      return Fail("wildcard matching is not supported by Lambda event filtering");
    }
    return Fail("Unrecognized match type " + op);
  }

  Status CompileAnythingBut(const RawNode& arg, Matcher* m) {
    if (arg.kind == RawNode::Kind::kObject) {
      // {"anything-but": {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}}:
      // EventBridge rules only ("Pipe support: No"), not in Lambda's syntax.
      std::string what = arg.keys.empty() ? std::string("{}") : arg.keys[0];
      return Fail("anything-but with " + what + " is not supported by Lambda event filtering");
    }
    std::vector<const RawNode*> values;
    if (arg.kind == RawNode::Kind::kArray) {
      for (const RawNode& v : arg.children) values.push_back(&v);
    } else if (arg.kind == RawNode::Kind::kString || arg.IsNumber()) {
      values.push_back(&arg);
    } else {
      return Fail("Value of anything-but must be an array or single string/number value.");
    }
    bool strings = false, numbers = false;
    for (const RawNode* v : values) {
      if (v->kind == RawNode::Kind::kString) {
        strings = true;
        m->strs.push_back(v->str);
      } else if (v->IsNumber()) {
        double d = v->AsDouble();
        if (d < -kMaxNumeric || d > kMaxNumeric) {
          return Fail("Value must be between -5.0E9 and 5.0E9, inclusive");
        }
        numbers = true;
        m->nums.push_back(d);
      } else {
        return Fail("Inside anything but list, start|null|boolean is not supported.");
      }
    }
    if (strings == numbers) {  // both, or an empty list
      return Fail(
          "Inside anything but list, either all values are number or string, mixed type is not "
          "supported");
    }
    m->kind = strings ? Matcher::Kind::kAnythingButStrings : Matcher::Kind::kAnythingButNumbers;
    return Status::OK();
  }

  // ["=", n] | ["<"|"<=", n] | [">"|">=", n] | [">"|">=", n, "<"|"<=", m]
  Status CompileNumeric(const RawNode& arg, Matcher* m) {
    if (arg.kind != RawNode::Kind::kArray) return Fail("Value of numeric must be an array.");
    const std::vector<RawNode>& t = arg.children;
    if (t.empty() || t[0].kind != RawNode::Kind::kString) {
      return Fail("Invalid member in numeric match");
    }
    double v1;
    Status s = NumericOperand(t, 1, t[0].str, &v1);
    if (!s.ok()) return s;
    m->kind = Matcher::Kind::kNumeric;
    const std::string& op = t[0].str;
    if (op == "=" || op == "<" || op == "<=") {
      if (t.size() != 2) return Fail("Too many elements in numeric expression");
      m->has_hi = true;
      m->hi = v1;
      m->hi_open = op == "<";
      if (op == "=") {  // lo == hi, both closed
        m->has_lo = true;
        m->lo = v1;
      }
      return Status::OK();
    }
    if (op != ">" && op != ">=") return Fail("Unrecognized numeric range operator: " + op);
    m->has_lo = true;
    m->lo = v1;
    m->lo_open = op == ">";
    if (t.size() == 2) return Status::OK();
    if (t[2].kind != RawNode::Kind::kString) return Fail("Bad value in numeric range");
    const std::string& op2 = t[2].str;
    if (op2 != "<" && op2 != "<=") return Fail("Bad numeric range operator: " + op2);
    double v2;
    s = NumericOperand(t, 3, op2, &v2);
    if (!s.ok()) return s;
    if (t.size() != 4) return Fail("Too many terms in numeric range expression");
    if (!(v1 < v2)) return Fail("Bottom must be less than top");
    m->has_hi = true;
    m->hi = v2;
    m->hi_open = op2 == "<";
    return Status::OK();
  }

  Status NumericOperand(const std::vector<RawNode>& t, size_t k, const std::string& op,
                        double* out) {
    if (k >= t.size() || !t[k].IsNumber()) return Fail("Value of " + op + " must be numeric");
    double d = t[k].AsDouble();
    if (d < -kMaxNumeric || d > kMaxNumeric) {
      return Fail("Value must be between -5.0E9 and 5.0E9, inclusive");
    }
    *out = d;
    return Status::OK();
  }

  size_t filter_index_;
};

}  // namespace

struct EventFilter::Impl {
  std::vector<Conjunction> filters;  // ORed
};

EventFilter::EventFilter() = default;

bool EventFilter::empty() const { return !impl_ || impl_->filters.empty(); }

size_t EventFilter::size() const { return impl_ ? impl_->filters.size() : 0; }

bool EventFilter::Matches(const boost::json::value& record) const {
  if (empty()) return true;
  for (const Conjunction& c : impl_->filters) {
    if (MatchConjunction(c, record)) return true;
  }
  return false;
}

Status EventFilter::Parse(const boost::json::value& criteria, EventFilter* out,
                          const EventFilterOptions& options) {
  auto impl = std::make_shared<Impl>();
  if (criteria.is_null()) {
    *out = EventFilter();
    return Status::OK();
  }
  if (!criteria.is_object()) {
    return Status::InvalidArgument("FilterCriteria must be an object {\"Filters\": [...]}");
  }
  const boost::json::object& obj = criteria.get_object();
  auto it = obj.find("Filters");
  if (it != obj.end() && !it->value().is_null()) {
    if (!it->value().is_array()) {
      return Status::InvalidArgument("FilterCriteria.Filters must be an array of Filter objects");
    }
    const boost::json::array& filters = it->value().get_array();
    if (filters.size() > options.max_filters) {
      return Status::InvalidArgument(
          "Too many filters in FilterCriteria: " + std::to_string(filters.size()) +
          " given, at most " + std::to_string(options.max_filters) +
          " allowed per event source mapping");
    }
    for (size_t k = 0; k < filters.size(); ++k) {
      Compiler compiler(k);
      const boost::json::value& f = filters[k];
      if (!f.is_object()) {
        return Status::InvalidArgument("FilterCriteria.Filters[" + std::to_string(k) +
                                       "] must be an object {\"Pattern\": \"...\"}");
      }
      auto p = f.get_object().find("Pattern");
      if (p == f.get_object().end() || !p->value().is_string()) {
        return compiler.Fail("Pattern must be a string holding a JSON object");
      }
      std::string_view text = p->value().get_string();
      if (Utf16Length(text) > options.max_pattern_chars) {
        // AWS's wording for a length constraint (1-based member index).
        return Status::InvalidArgument(
            "1 validation error detected: Value at 'filterCriteria.filters." +
            std::to_string(k + 1) +
            ".member.pattern' failed to satisfy constraint: Member must have length less than "
            "or equal to " +
            std::to_string(options.max_pattern_chars));
      }
      RawNode root;
      ParseResult parsed = ParseRaw(text, &root);
      if (parsed == ParseResult::kTooDeep) {
        return compiler.Fail("nested deeper than " + std::to_string(kMaxPatternDepth) + " levels");
      }
      if (parsed != ParseResult::kOk) return compiler.Fail("Pattern is not valid JSON");
      Conjunction c;
      Status s = compiler.CompileRoot(root, &c);
      if (!s.ok()) return s;
      impl->filters.push_back(std::move(c));
    }
  }
  out->impl_ = std::move(impl);
  return Status::OK();
}

}  // namespace basalt::server::triggers
