// basalt_db_bench's command-line flags: a small registry. BENCH_FLAG(ctype,
// ftype, name, default, help) defines FLAGS_name and registers it, so that
// ParseFlag sets it from "--name=value" and PrintFlags lists it with its
// default. Flags are defined at namespace scope (static initialisation) and
// set once, on the main thread, before any benchmark runs.
#pragma once

#include <string>
#include <vector>

namespace basalt::bench {

enum class FlagType { kBool, kInt, kBytes, kDouble, kString };
struct FlagInfo {
  const char* name;
  FlagType type;
  void* ptr;
  const char* help;
};
// Every flag, in definition order.
std::vector<FlagInfo>& Flags();
struct FlagRegistrar {
  FlagRegistrar(const char* name, FlagType type, void* ptr, const char* help) {
    Flags().push_back({name, type, ptr, help});
  }
};
#define BENCH_FLAG(ctype, ftype, name, value, help)                                             \
  ctype FLAGS_##name = value;                                                                   \
  ::basalt::bench::FlagRegistrar flag_registrar_##name(#name, ::basalt::bench::FlagType::ftype, \
                                                       &FLAGS_##name, help)

// Sets the flag "--name=value" names: bool 0/1/true/false, int, bytes with
// an optional K/M/G (KiB/MB...) suffix, double, string. False for anything
// else (unknown name, no '=', a bad value).
bool ParseFlag(const char* arg);
// "  --name=<current value>\n      help\n" for every flag but `skip`.
void PrintFlags(const char* skip);

}  // namespace basalt::bench
