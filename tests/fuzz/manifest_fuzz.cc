// Fuzz target: manifest recovery (engine/lsm/version/manifest.h) and the
// VersionEdit decoder. The first byte picks the mode (mod 4):
//   0: the rest is a whole manifest file, replayed as DB::Open does;
//   1: the rest describes a manifest built with valid framing (fuzz_util.h,
//      BuildLogFile), so that the edits inside are fuzzed past the checksums;
//   2: the rest is one VersionEdit: one that decodes must encode to bytes
//      that decode to the same edit (compared by DebugString) and encode to
//      themselves again;
//   3: the rest is a CURRENT file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/lsm/version/manifest.h"
#include "engine/lsm/version/version_edit.h"
#include "engine/lsm/wal/log_format.h"
#include "tests/fuzz/fuzz_util.h"

using basalt::Status;
namespace lsm = basalt::lsm;
namespace fuzz = basalt::fuzz;

namespace {

void CheckEdit(std::string_view bytes) {
  lsm::VersionEdit e;
  if (!e.DecodeFrom(bytes).ok()) return;
  std::string enc;
  e.EncodeTo(&enc);
  lsm::VersionEdit e2;
  Status s = e2.DecodeFrom(enc);
  FUZZ_CHECK(s.ok(), "re-encoded edit does not decode: %s", s.ToString().c_str());
  FUZZ_CHECK(e2.DebugString() == e.DebugString(), "re-encoded edit differs");
  std::string enc2;
  e2.EncodeTo(&enc2);
  FUZZ_CHECK(enc2 == enc, "edit encoding is not a fixpoint");
  lsm::ManifestState state;
  state.Apply(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.Byte() % 4;
  basalt::io::Env* env = basalt::io::Env::Posix();
  if (mode == 2) {
    CheckEdit(in.Rest());
    return 0;
  }
  if (mode == 3) {
    fuzz::WriteFile(fuzz::ScratchDir() + "/CURRENT", in.Rest());
    std::string name;
    (void)lsm::ReadCurrentFile(env, fuzz::ScratchDir(), &name);
    return 0;
  }
  std::string file =
      mode == 0 ? std::string(in.Rest()) : fuzz::BuildLogFile(&in, lsm::log::kManifestMagic);
  const std::string path = fuzz::ScratchDir() + "/MANIFEST-000007";
  fuzz::WriteFile(path, file);
  lsm::ManifestState state;
  lsm::ManifestReplayInfo info;
  Status s = lsm::ReplayManifest(env, path, &state, &info, /*keys=*/nullptr,
                                 [](uint64_t, const lsm::VersionEdit& e) {
                                   std::string enc;
                                   e.EncodeTo(&enc);
                                   CheckEdit(enc);
                                 });
  FUZZ_CHECK(s.ok() || s.IsCorruption() || s.IsInvalidArgument(), "%s", s.ToString().c_str());
  FUZZ_CHECK(info.valid_end <= file.size());
  return 0;
}
