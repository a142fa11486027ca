// Logger: where the engine reports what it chose and what went wrong.
// The default logger writes to stderr; tests may install a quiet one.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace basalt {

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(std::string_view line) = 0;
};

// Process-wide logger used by the engine; never null. Not owned.
Logger* GetLogger();
// Installs a logger (nullptr restores stderr). Not thread-safe with Log calls.
void SetLogger(Logger* logger);

template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  GetLogger()->Log(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace basalt
