// Micro-benchmarks of the item and key codecs (engine/table):
//
//   BM_ItemEncode        EncodeItem of a typical 10-attribute item (~250 bytes)
//   BM_ItemDecode        DecodeItem of the same bytes into an Item
//   BM_ItemViewFind      ItemView::Open + Find + ToValue of one attribute;
//                        arg = which attribute (0 = first in name order, 9 = last)
//   BM_ItemViewIterate   ItemView::Open + a pass over all attribute names/types
//   BM_ItemKeyEncode     EncodeItemKey of an S partition key + N sort key
//
// The item: partition and sort key strings, three numbers, a BOOL, a status
// string, a list of three tags, a three-field address map and a string set.
// Run: basalt_micro --benchmark_filter='Item'

#include <benchmark/benchmark.h>

#include <string>

#include "engine/table/item_codec.h"
#include "engine/table/key_codec.h"

namespace basalt::table {
namespace {

Value Num(std::string_view text) {
  Value v;
  Value::ParseN(text, &v).PermitUnchecked();
  return v;
}

Item TypicalItem() {
  return AttributeMap::FromUnsorted({
      {"pk", Value::MakeS("customer#000123456")},
      {"sk", Value::MakeS("order#2024-06-01T12:34:56Z#8812")},
      {"price", Num("129.99")},
      {"quantity", Num("3")},
      {"created_at", Num("1717245296123")},
      {"gift", Value::MakeBool(false)},
      {"status", Value::MakeS("SHIPPED")},
      {"tags", Value::MakeL({Value::MakeS("electronics"), Value::MakeS("priority"),
                             Value::MakeS("fragile")})},
      {"address",
       Value::MakeM(AttributeMap::FromUnsorted({{"street", Value::MakeS("1234 Elm Street, Apt 5B")},
                                                {"city", Value::MakeS("Springfield")},
                                                {"zip", Value::MakeS("62704")}}))},
      {"categories", Value::MakeSS({"audio", "home", "sale"})},
  });
}

void BM_ItemEncode(benchmark::State& state) {
  const Item item = TypicalItem();
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    EncodeItem(item, &buf);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
  state.counters["encoded_bytes"] = static_cast<double>(buf.size());
  state.counters["item_size"] = static_cast<double>(ItemSize(item));
}
BENCHMARK(BM_ItemEncode);

void BM_ItemDecode(benchmark::State& state) {
  std::string enc;
  EncodeItem(TypicalItem(), &enc);
  Item item;
  for (auto _ : state) {
    if (!DecodeItem(enc, &item).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(item.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(enc.size()));
}
BENCHMARK(BM_ItemDecode);

void BM_ItemViewFind(benchmark::State& state) {
  const Item item = TypicalItem();
  std::string enc;
  EncodeItem(item, &enc);
  const std::string name = item[static_cast<size_t>(state.range(0))].first;
  Value v;
  for (auto _ : state) {
    ItemView view;
    if (!ItemView::Open(enc, &view).ok() || !view.GetAttribute(name, &v).ok()) {
      state.SkipWithError("lookup failed");
    }
    benchmark::DoNotOptimize(&v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(name);
}
BENCHMARK(BM_ItemViewFind)->Arg(0)->Arg(5)->Arg(9)->ArgName("attr");

void BM_ItemViewIterate(benchmark::State& state) {
  std::string enc;
  EncodeItem(TypicalItem(), &enc);
  for (auto _ : state) {
    ItemView view;
    if (!ItemView::Open(enc, &view).ok()) state.SkipWithError("open failed");
    size_t n = 0;
    for (ValueCursor c = view.Attributes(); c.Next();) {
      n += c.name().size() + static_cast<size_t>(c.value().type());
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ItemViewIterate);

void BM_ItemKeyEncode(benchmark::State& state) {
  const Value pk = Value::MakeS("customer#000123456");
  const Value sk = Num("1717245296123");
  std::string key;
  for (auto _ : state) {
    key.clear();
    EncodeItemKey(pk, &sk, &key).PermitUnchecked();
    benchmark::DoNotOptimize(key.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["key_bytes"] = static_cast<double>(key.size());
}
BENCHMARK(BM_ItemKeyEncode);

}  // namespace
}  // namespace basalt::table
