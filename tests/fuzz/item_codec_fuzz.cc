// Fuzz target: the item codec (engine/table/item_codec.h) on arbitrary bytes.
// DecodeItem and the lazy ItemView must never read outside the input; an item
// that decodes must encode to bytes that decode to the same item and encode
// to themselves again, and the ItemView must agree with DecodeItem on it
// (ToItem, Find per attribute, walking every nested value).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/table/item_codec.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
using basalt::table::Item;
using basalt::table::ItemView;
using basalt::table::Value;
using basalt::table::ValueCursor;
using basalt::table::ValueType;
using basalt::table::ValueView;
namespace table = basalt::table;

namespace {

// Visits every value under v through the view API; errors are fine (the
// bytes may be malformed), crashes and out-of-bounds reads are not.
void Walk(const ValueView& v, int budget) {
  if (budget <= 0) return;
  Value out;
  (void)v.ToValue(&out);
  basalt::table::Decimal d;
  if (v.type() == ValueType::kN) (void)v.GetNumber(&d);
  if (v.type() == ValueType::kL || v.type() == ValueType::kM || v.type() == ValueType::kSS ||
      v.type() == ValueType::kNS || v.type() == ValueType::kBS) {
    ValueCursor c = v.Elements();
    int n = 0;
    while (c.Next() && n++ < 64) Walk(c.value(), budget - 1);
    ValueView e;
    (void)v.ElementAt(0, &e);
    (void)v.ElementAt(v.count() > 0 ? v.count() - 1 : 0, &e);
    (void)v.FindMember("a", &e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Item item;
  Status s = table::DecodeItem(bytes, &item);

  ItemView view;
  if (ItemView::Open(bytes, &view).ok()) {
    ValueCursor c = view.Attributes();
    int n = 0;
    while (c.Next() && n++ < 256) {
      Walk(c.value(), 40);
      ValueView found;
      (void)view.Find(c.name(), &found);
    }
    Item via_view;
    Status vs = view.ToItem(&via_view);
    FUZZ_CHECK(vs.ok() == s.ok(), "ItemView::ToItem %s, DecodeItem %s", vs.ToString().c_str(),
               s.ToString().c_str());
    if (vs.ok()) FUZZ_CHECK(via_view == item, "ItemView::ToItem differs from DecodeItem");
  } else {
    FUZZ_CHECK(!s.ok(), "DecodeItem accepted what ItemView::Open refused");
  }

  if (s.ok()) {
    std::string enc;
    table::EncodeItem(item, &enc);
    Item again;
    Status s2 = table::DecodeItem(enc, &again);
    FUZZ_CHECK(s2.ok(), "re-encoded item does not decode: %s", s2.ToString().c_str());
    FUZZ_CHECK(again == item, "re-encoded item decodes differently");
    std::string enc2;
    table::EncodeItem(again, &enc2);
    FUZZ_CHECK(enc2 == enc, "encoding is not a fixpoint");
    for (const auto& e : item) {
      Value v;
      Status g = view.GetAttribute(e.first, &v);
      FUZZ_CHECK(g.ok() && v == e.second, "GetAttribute(%s)", e.first.c_str());
    }
  }
  return 0;
}
