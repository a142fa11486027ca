// Fuzz target: the item key codec (engine/table/key_codec.h). The first byte
// picks the partition key type (S, N, B) and the sort key type (none, S, N,
// B); the rest is an item key to decode. A key that decodes must re-encode to
// the same bytes (the encoding is canonical), and its parts must order as the
// encoding does. The rest is also walked as a run of key parts, and used as a
// prefix for PrefixSuccessor.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/table/key_codec.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
using basalt::table::Value;
using basalt::table::ValueType;
namespace table = basalt::table;

namespace {

constexpr ValueType kKeyTypes[3] = {ValueType::kS, ValueType::kN, ValueType::kB};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  basalt::fuzz::Input in(data, size);
  uint8_t sel = in.Byte();
  ValueType pk_type = kKeyTypes[sel % 3];
  std::optional<ValueType> sk_type;
  if ((sel / 3) % 4 != 0) sk_type = kKeyTypes[(sel / 3) % 4 - 1];
  std::string_view key = in.Rest();

  Value pk, sk;
  Status s = table::DecodeItemKey(key, pk_type, sk_type, &pk, &sk);
  if (s.ok()) {
    FUZZ_CHECK(pk.type() == pk_type);
    std::string enc;
    Status e = table::EncodeItemKey(pk, sk_type ? &sk : nullptr, &enc);
    FUZZ_CHECK(e.ok(), "%s", e.ToString().c_str());
    FUZZ_CHECK(enc == key, "item key does not re-encode to itself");
    uint64_t h = 0;
    FUZZ_CHECK(table::ExtractPartitionHash(key, &h) && h == table::PartitionHash(pk));
    std::string prefix;
    FUZZ_CHECK(table::EncodePartitionPrefix(pk, &prefix).ok() && key.starts_with(prefix));
  }

  // The bytes as consecutive key parts of the chosen types.
  std::string_view parts = key;
  Value prev;
  std::string prev_enc;
  for (int i = 0; i < 64 && !parts.empty(); i++) {
    ValueType t = kKeyTypes[(sel + i) % 3];
    std::string_view before = parts;
    Value v;
    if (!table::DecodeKeyPart(t, &parts, &v).ok()) break;
    FUZZ_CHECK(parts.size() < before.size(), "DecodeKeyPart consumed nothing");
    std::string enc;
    FUZZ_CHECK(table::EncodeKeyPart(v, &enc).ok());
    FUZZ_CHECK(enc == before.substr(0, before.size() - parts.size()),
               "key part does not re-encode to itself");
    if (i > 0 && prev.type() == v.type()) {
      // Same type: the order of the encodings is the order of the values.
      int c = prev_enc.compare(enc);
      FUZZ_CHECK((c == 0) == (prev == v), "equal encodings of unequal values");
      if (t == ValueType::kN) {
        int dc = prev.n().Compare(v.n());
        FUZZ_CHECK((c < 0) == (dc < 0) && (c > 0) == (dc > 0), "number order");
      }
    }
    prev = std::move(v);
    prev_enc = std::move(enc);
  }

  std::string succ = table::PrefixSuccessor(key);
  if (!succ.empty()) {
    FUZZ_CHECK(succ > key && !succ.starts_with(key), "PrefixSuccessor");
  } else {
    FUZZ_CHECK(key.find_first_not_of('\xff') == std::string_view::npos, "PrefixSuccessor empty");
  }
  return 0;
}
