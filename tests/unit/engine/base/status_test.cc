#include "engine/base/status.h"

#include <doctest/doctest.h>

using namespace basalt;

TEST_CASE("status: codes, messages and copies") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "OK");
  Status s = Status::Corruption("bad block", "000012.sst");
  CHECK(s.IsCorruption());
  CHECK(s.message() == "bad block: 000012.sst");
  CHECK(s.ToString() == "Corruption: bad block: 000012.sst");
  Status c = s;
  CHECK(c.IsCorruption());
  CHECK(c.message() == s.message());
  Status m = std::move(c);
  CHECK(m.IsCorruption());
  CHECK(Status::IOError("x").IsIOError());
  CHECK(Status::Busy("x").IsBusy());
  CHECK(Status::Aborted("x").IsAborted());
}

TEST_CASE("status: sub-codes travel with copies and moves, OK has none") {
  CHECK(Status::OK().subcode() == Status::SubCode::kNone);
  CHECK(!Status::OK().Is(Status::SubCode::kNone));
  Status s = Status::InvalidArgument(Status::SubCode::kTreeGone, "no tree", "7");
  CHECK(s.IsInvalidArgument());
  CHECK(s.Is(Status::SubCode::kTreeGone));
  CHECK(!s.Is(Status::SubCode::kKeyOutOfRange));
  CHECK(s.message() == "no tree: 7");
  Status c = s;
  CHECK(c.Is(Status::SubCode::kTreeGone));
  Status m = std::move(c);
  CHECK(m.Is(Status::SubCode::kTreeGone));
  Status a;
  a = m;
  CHECK(a.Is(Status::SubCode::kTreeGone));
  CHECK(Status::InvalidArgument("plain").subcode() == Status::SubCode::kNone);
  // Frozen values (documented as append-only).
  CHECK(static_cast<int>(Status::SubCode::kTreeGone) == 1);
  CHECK(static_cast<int>(Status::SubCode::kStoreClosed) == 14);
}
