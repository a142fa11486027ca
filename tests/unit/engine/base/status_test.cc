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
