// Fuzz target: table::Decimal (DynamoDB numbers). The input, split at the
// first ',', is number text; each part that parses must print canonically
// (Parse(ToString()) gives the same value and the same text) and survive the
// ordered and compact encodings; two that parse must add and subtract back
// exactly when the result fits. The raw bytes are also fed to the two
// decoders, whose accepted prefix must re-encode to itself (canonical).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/table/decimal.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
using basalt::table::Decimal;

namespace {

void CheckValue(const Decimal& d) {
  std::string s = d.ToString();
  FUZZ_CHECK(s.size() <= Decimal::kMaxStringLength, "%s", s.c_str());
  Decimal again;
  Status st = Decimal::Parse(s, &again);
  FUZZ_CHECK(st.ok(), "%s: %s", s.c_str(), st.ToString().c_str());
  FUZZ_CHECK(again == d && again.ToString() == s, "%s", s.c_str());

  std::string ord;
  d.EncodeOrdered(&ord);
  FUZZ_CHECK(ord.size() <= Decimal::kMaxOrderedLength);
  std::string_view in = ord;
  Decimal dec;
  FUZZ_CHECK(Decimal::DecodeOrdered(&in, &dec) && in.empty() && dec == d, "%s", s.c_str());

  std::string compact;
  d.EncodeCompact(&compact);
  FUZZ_CHECK(compact.size() <= Decimal::kMaxCompactLength);
  in = compact;
  FUZZ_CHECK(Decimal::DecodeCompact(&in, &dec) && in.empty() && dec == d, "%s", s.c_str());

  FUZZ_CHECK(d.SizeInBytes() >= 1 && d.SizeInBytes() <= 22);
  FUZZ_CHECK(d.Negate().Negate() == d);
  int64_t i;
  if (d.ToInt64(&i)) FUZZ_CHECK(Decimal::FromInt64(i) == d, "%s", s.c_str());
}

void CheckDecoders(std::string_view bytes) {
  std::string_view in = bytes;
  Decimal d;
  if (Decimal::DecodeOrdered(&in, &d)) {
    std::string enc;
    d.EncodeOrdered(&enc);
    FUZZ_CHECK(enc == bytes.substr(0, bytes.size() - in.size()), "ordered not canonical");
    CheckValue(d);
  } else {
    FUZZ_CHECK(in.size() == bytes.size(), "DecodeOrdered advanced on failure");
  }
  in = bytes;
  if (Decimal::DecodeCompact(&in, &d)) {
    std::string enc;
    d.EncodeCompact(&enc);
    FUZZ_CHECK(enc == bytes.substr(0, bytes.size() - in.size()), "compact not canonical");
    CheckValue(d);
  } else {
    FUZZ_CHECK(in.size() == bytes.size(), "DecodeCompact advanced on failure");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckDecoders(text);

  size_t comma = text.find(',');
  std::string_view a_text = text.substr(0, comma);
  std::string_view b_text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
  Decimal a, b;
  bool a_ok = Decimal::Parse(a_text, &a).ok();
  bool b_ok = comma != std::string_view::npos && Decimal::Parse(b_text, &b).ok();
  if (a_ok) CheckValue(a);
  if (b_ok) CheckValue(b);
  if (a_ok && b_ok) {
    int c = a.Compare(b);
    FUZZ_CHECK(b.Compare(a) == -c);
    std::string ea, eb;
    a.EncodeOrdered(&ea);
    b.EncodeOrdered(&eb);
    int ce = ea.compare(eb);
    FUZZ_CHECK((ce < 0   ? -1
                : ce > 0 ? 1
                         : 0) == (c < 0   ? -1
                                  : c > 0 ? 1
                                          : 0),
               "ordered encoding disagrees with Compare");
    Decimal sum, back;
    if (Decimal::Add(a, b, &sum).ok()) {
      CheckValue(sum);
      if (Decimal::Subtract(sum, b, &back).ok()) {
        FUZZ_CHECK(back == a, "(a + b) - b != a");
      }
    }
    Decimal diff;
    if (Decimal::Subtract(a, b, &diff).ok()) CheckValue(diff);
  }
  return 0;
}
