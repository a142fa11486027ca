// Fuzz target: WAL replay (engine/lsm/wal/log_reader.h and the WriteBatch
// decoder behind it). The first byte picks the mode: even, the rest is a
// whole WAL segment; odd, the rest describes a segment built with valid
// framing (fuzz_util.h, BuildLogFile) so that the batches inside are fuzzed
// past the checksums. Every record read is decoded as a WriteBatch; one that
// iterates must rebuild into a batch that iterates to the same entries.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/lsm/wal/log_reader.h"
#include "engine/lsm/write_batch.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
namespace lsm = basalt::lsm;
namespace fuzz = basalt::fuzz;

namespace {

struct Collect : lsm::WriteBatch::Handler {
  lsm::WriteBatch rebuilt;
  std::vector<std::string> log;
  void Put(lsm::TreeId tree, std::string_view key, std::string_view value) override {
    rebuilt.Put(tree, key, value);
    log.push_back("P" + std::to_string(tree) + ":" + std::string(key) + "=" + std::string(value));
  }
  void Delete(lsm::TreeId tree, std::string_view key) override {
    rebuilt.Delete(tree, key);
    log.push_back("D" + std::to_string(tree) + ":" + std::string(key));
  }
};

void DecodeBatch(std::string_view payload) {
  lsm::WriteBatch b;
  if (!b.SetContents(payload).ok()) return;
  (void)b.Sequence();
  (void)b.Count();
  Collect c;
  if (!b.Iterate(&c).ok()) return;
  FUZZ_CHECK(c.log.size() == b.Count(), "Iterate saw %zu entries, Count() %u", c.log.size(),
             b.Count());
  Collect again;
  FUZZ_CHECK(c.rebuilt.Iterate(&again).ok() && again.log == c.log, "rebuilt batch differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.Byte();
  std::string file =
      mode % 2 == 0 ? std::string(in.Rest()) : fuzz::BuildLogFile(&in, lsm::log::kWalMagic);
  const std::string path = fuzz::ScratchDir() + "/000007.log";
  fuzz::WriteFile(path, file);

  std::unique_ptr<lsm::log::Reader> reader;
  Status s = lsm::log::Reader::Open(basalt::io::Env::Posix(), path, lsm::log::kWalMagic, &reader);
  if (!s.ok()) {
    // InvalidArgument: a well-formed encrypted (version 2) header, no key.
    FUZZ_CHECK(s.IsCorruption() || s.IsInvalidArgument(), "%s", s.ToString().c_str());
    return 0;
  }
  std::string_view payload;
  uint64_t offset = 0, last = 0;
  bool first = true;
  while (reader->ReadRecord(&payload, &offset)) {
    FUZZ_CHECK(first || offset > last, "record offsets do not increase");
    FUZZ_CHECK(offset < file.size());
    first = false;
    last = offset;
    DecodeBatch(payload);
  }
  FUZZ_CHECK(reader->valid_end() <= file.size());
  FUZZ_CHECK(reader->status().ok() || reader->status().IsCorruption());
  if (mode & 2) DecodeBatch(file);  // the raw bytes as one batch too
  return 0;
}
