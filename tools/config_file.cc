#include "tools/config_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace basalt::tools {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Option names as the tools spell them: lower-case letters, digits and '-',
// starting with a letter.
bool ValidKey(std::string_view key) {
  if (key.empty() || key[0] < 'a' || key[0] > 'z') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

Status ParseConfig(std::string_view text, std::string_view name,
                   std::vector<ConfigEntry>* entries) {
  // A UTF-8 byte order mark, as some editors write one.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    line_no++;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("{}:{}: a NUL byte", name, line_no));
    }
    if (line[0] == '[') {
      return Status::InvalidArgument(
          fmt::format("{}:{}: '{}': sections are not supported (write key = value lines)", name,
                      line_no, line));
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: '{}': expected key = value", name, line_no, line));
    }
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (!ValidKey(key)) {
      return Status::InvalidArgument(fmt::format(
          "{}:{}: '{}' is not an option name (long option names without the leading --, "
          "e.g. data-dir)",
          name, line_no, key));
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    entries->push_back(ConfigEntry{std::string(key), std::string(value), line_no});
  }
  return Status::OK();
}

Status ReadConfigFile(const std::string& path, std::vector<ConfigEntry>* entries) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::IOError(
        fmt::format("cannot read config file {}: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buf[8192];
  int err = 0;
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof(buf), f);
    text.append(buf, n);
    if (text.size() > kMaxFileBytes) break;
    if (n < sizeof(buf)) {
      if (std::ferror(f)) err = errno;
      break;
    }
  }
  std::fclose(f);
  if (err != 0) {
    return Status::IOError(fmt::format("cannot read config file {}: {}", path, std::strerror(err)));
  }
  if (text.size() > kMaxFileBytes) {
    return Status::InvalidArgument(
        fmt::format("config file {}: larger than {} bytes", path, kMaxFileBytes));
  }
  return ParseConfig(text, path, entries);
}

Status ExpandConfigFiles(int argc, const char* const* argv,
                         const std::vector<std::string_view>& flags,
                         const std::vector<std::string_view>& command_line_only, Arguments* out) {
  auto in = [](const std::vector<std::string_view>& list, std::string_view a) {
    return std::find(list.begin(), list.end(), a) != list.end();
  };
  Arguments from_files;
  Arguments command_line;
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    if (a != "--config") {
      command_line.args.emplace_back(a);
      command_line.where.emplace_back();
      // An option's value is copied as it is, even one that reads "--config".
      if (!in(flags, a) && !in(command_line_only, a) && i + 1 < argc) {
        command_line.args.emplace_back(argv[++i]);
        command_line.where.emplace_back();
      }
      continue;
    }
    if (i + 1 >= argc) return Status::InvalidArgument("--config needs a file");
    const std::string path = argv[++i];
    std::vector<ConfigEntry> entries;
    Status s = ReadConfigFile(path, &entries);
    if (!s.ok()) return s;
    for (const ConfigEntry& e : entries) {
      const std::string option = "--" + e.key;
      if (e.key == "config" || in(command_line_only, option)) {
        return Status::InvalidArgument(
            fmt::format("{}:{}: '{}' cannot be set in a config file", path, e.line, e.key));
      }
      const std::string where = fmt::format("{}:{}", path, e.line);
      if (in(flags, option)) {
        // A flag: "true" sets it, "false" leaves it out.
        if (e.value != "true" && e.value != "false") {
          return Status::InvalidArgument(
              fmt::format("{}:{}: '{}' takes no value: write {} = true (or false)", path, e.line,
                          e.key, e.key));
        }
        if (e.value == "true") {
          from_files.args.push_back(option);
          from_files.where.push_back(where);
        }
        continue;
      }
      from_files.args.push_back(option);
      from_files.where.push_back(where);
      from_files.args.push_back(e.value);
      from_files.where.push_back(where);
    }
  }
  *out = std::move(from_files);
  out->args.insert(out->args.end(), command_line.args.begin(), command_line.args.end());
  out->where.insert(out->where.end(), command_line.where.begin(), command_line.where.end());
  return Status::OK();
}

}  // namespace basalt::tools
