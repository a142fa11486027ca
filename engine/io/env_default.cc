// Env::Default(): the Env the engine uses when Options::env is null
// (env_uring.h describes the choice), and, in builds without liburing
// (BASALT_URING=OFF, or AUTO when pkg-config finds none; docs/io.md), the
// io_uring entry points that report it unavailable.

#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/base/logging.h"
#include "engine/io/env.h"
#include "engine/io/env_uring.h"

namespace basalt::io {

#ifndef BASALT_HAVE_URING
std::string UringUnavailableReason() {
  return "built without io_uring support (liburing not found, or BASALT_URING=OFF)";
}

Env* Env::Uring() { return nullptr; }
#endif

Env* Env::Default() {
  static Env* env = [] {
    const char* choice = std::getenv("BASALT_IO");
    std::string_view want = choice != nullptr ? choice : "";
    if (want == "posix") {
      LogInfo("io: BASALT_IO=posix, using posix pread/pwrite env");
      return Env::Posix();
    }
    if (!want.empty() && want != "auto" && want != "uring" && want != "io_uring") {
      LogInfo("io: ignoring unknown BASALT_IO={} (expected posix, uring or auto)", want);
    }
    if (Env* uring = Env::Uring()) {
      LogInfo("io: using io_uring env (liburing)");
      return uring;
    }
    LogInfo("io: io_uring unavailable ({}), using posix pread/pwrite env",
            UringUnavailableReason());
    return Env::Posix();
  }();
  return env;
}

}  // namespace basalt::io
