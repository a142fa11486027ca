// Micro-benchmarks of the exact decimal behind DynamoDB's N type
// (engine/table/decimal.h). Each runs over 4096 inputs of one shape, chosen by
// the benchmark argument:
//   shape 0  small integers      "1" .. "9999999"        (counters, ids, epoch seconds)
//   shape 1  short fractions     "-273.15", "0.0042"     (prices, measurements)
//   shape 2  38-digit numbers    "1234...678.9012"       (the widest DynamoDB allows)
//   shape 3  scientific input    "1.5E-30", "-7.25e+88"  (exponent far from the point)
//
//   BM_DecimalParse          Decimal::Parse of the text (numbers/s)
//   BM_DecimalToString       canonical text of a parsed value (plain notation)
//   BM_DecimalAdd            Decimal::Add of two shape-N values (shape 0: the
//                            atomic-counter case x + 1); counter error_rate is the
//                            share of sums rejected as needing > 38 digits
//   BM_DecimalCompare        numeric Compare of two random values of the shape
//   BM_DecimalEncodeOrdered  order-preserving key bytes
//   BM_DecimalDecodeOrdered  back from key bytes
//
// Run: basalt_micro --benchmark_filter=Decimal

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/random.h"
#include "engine/table/decimal.h"

namespace basalt::table {
namespace {

constexpr size_t kInputs = 4096;  // a power of two

std::string Digits(Random* rnd, int n) {
  std::string s;
  for (int i = 0; i < n; i++) {
    int d = static_cast<int>(rnd->Uniform(10));
    if (i == 0 && d == 0) d = 1;
    s += static_cast<char>('0' + d);
  }
  return s;
}

std::vector<std::string> Texts(int shape, uint64_t seed) {
  Random rnd(seed);
  std::vector<std::string> out;
  out.reserve(kInputs);
  for (size_t i = 0; i < kInputs; i++) {
    std::string sign = rnd.OneIn(4) ? "-" : "";
    switch (shape) {
      case 0:
        out.push_back(std::to_string(1 + rnd.Uniform(9999999)));
        break;
      case 1: {
        std::string d = Digits(&rnd, 1 + static_cast<int>(rnd.Uniform(6)));
        size_t point = rnd.Uniform(d.size() + 1);
        out.push_back(sign + (point == 0 ? "0" : d.substr(0, point)) + "." + d.substr(point) + "1");
        break;
      }
      case 2: {
        std::string d = Digits(&rnd, 37) + "7";
        out.push_back(sign + d.substr(0, 34) + "." + d.substr(34));
        break;
      }
      default: {
        std::string d = Digits(&rnd, 1 + static_cast<int>(rnd.Uniform(10)));
        int exp = static_cast<int>(rnd.Uniform(200)) - 100;
        out.push_back(sign + d.substr(0, 1) + "." + d.substr(1) + (rnd.OneIn(2) ? "e" : "E") +
                      std::to_string(exp));
        break;
      }
    }
  }
  return out;
}

std::vector<Decimal> Values(int shape, uint64_t seed) {
  std::vector<Decimal> out;
  for (const std::string& t : Texts(shape, seed)) {
    Decimal d;
    if (!Decimal::Parse(t, &d).ok()) abort();
    out.push_back(d);
  }
  return out;
}

void ShapeArgs(benchmark::internal::Benchmark* b) {
  b->ArgName("shape");
  for (int s = 0; s < 4; s++) b->Arg(s);
}

void BM_DecimalParse(benchmark::State& state) {
  const std::vector<std::string> texts = Texts(static_cast<int>(state.range(0)), 1);
  size_t i = 0, bytes = 0;
  Decimal d;
  for (auto _ : state) {
    const std::string& t = texts[i++ & (kInputs - 1)];
    Status s = Decimal::Parse(t, &d);
    benchmark::DoNotOptimize(s.ok());
    benchmark::DoNotOptimize(&d);
    bytes += t.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_DecimalParse)->Apply(ShapeArgs);

void BM_DecimalToString(benchmark::State& state) {
  const std::vector<Decimal> values = Values(static_cast<int>(state.range(0)), 2);
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    values[i++ & (kInputs - 1)].AppendToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecimalToString)->Apply(ShapeArgs);

void BM_DecimalAdd(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const std::vector<Decimal> a = Values(shape, 3);
  // Shape 0 adds 1 (a counter); the others add a value of the same shape (for
  // shapes 2 and 3 many sums need more than 38 digits and fail: error_rate).
  const std::vector<Decimal> b =
      shape == 0 ? std::vector<Decimal>(kInputs, Decimal::FromInt64(1)) : Values(shape, 4);
  size_t i = 0;
  int64_t errors = 0;
  Decimal r;
  for (auto _ : state) {
    const size_t k = i++ & (kInputs - 1);
    errors += !Decimal::Add(a[k], b[k], &r).ok();
    benchmark::DoNotOptimize(&r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["error_rate"] =
      static_cast<double>(errors) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
}
BENCHMARK(BM_DecimalAdd)->Apply(ShapeArgs);

void BM_DecimalCompare(benchmark::State& state) {
  const std::vector<Decimal> a = Values(static_cast<int>(state.range(0)), 5);
  const std::vector<Decimal> b = Values(static_cast<int>(state.range(0)), 6);
  size_t i = 0;
  int sum = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kInputs - 1);
    sum += a[k].Compare(b[k]);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecimalCompare)->Apply(ShapeArgs);

void BM_DecimalEncodeOrdered(benchmark::State& state) {
  const std::vector<Decimal> values = Values(static_cast<int>(state.range(0)), 7);
  std::string out;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    values[i++ & (kInputs - 1)].EncodeOrdered(&out);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_DecimalEncodeOrdered)->Apply(ShapeArgs);

void BM_DecimalDecodeOrdered(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const Decimal& d : Values(static_cast<int>(state.range(0)), 8)) {
    encoded.emplace_back();
    d.EncodeOrdered(&encoded.back());
  }
  size_t i = 0;
  int64_t failures = 0;
  Decimal d;
  for (auto _ : state) {
    std::string_view in(encoded[i++ & (kInputs - 1)]);
    failures += !Decimal::DecodeOrdered(&in, &d);
    benchmark::DoNotOptimize(&d);
  }
  if (failures != 0) state.SkipWithError("decode failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecimalDecodeOrdered)->Apply(ShapeArgs);

}  // namespace
}  // namespace basalt::table
