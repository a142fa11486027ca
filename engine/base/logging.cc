#include "engine/base/logging.h"

#include <cstdio>
#include <mutex>

namespace basalt {
namespace {

class StderrLogger : public Logger {
 public:
  void Log(std::string_view line) override {
    std::lock_guard<std::mutex> l(mu_);
    std::fprintf(stderr, "basalt: %.*s\n", static_cast<int>(line.size()), line.data());
  }

 private:
  std::mutex mu_;
};

StderrLogger g_stderr_logger;
Logger* g_logger = &g_stderr_logger;

}  // namespace

Logger* GetLogger() { return g_logger; }
void SetLogger(Logger* logger) { g_logger = logger ? logger : &g_stderr_logger; }

}  // namespace basalt
