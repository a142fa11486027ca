// Configuration files for the command-line tools (basalt-server --config FILE).
//
// Format: one `key = value` per line; blank lines and lines whose first
// non-blank character is '#' or ';' are ignored. The key is a long option
// name without its leading "--" (`port = 8000`, `data-dir = /var/lib/basalt`);
// an option that takes no value (a flag, e.g. no-metrics) is written
// `key = true`, or `key = false` to leave it unset (a flag set in a file
// cannot be unset on the command line).
// Spaces around key and value are dropped; a value wholly in double quotes
// loses the quotes (`cors-origin = ""` is an empty value). There are no inline
// comments: everything after '=' is the value, '#' included. No sections, no
// continuation lines, no escapes. A key given twice: the later line wins, as
// on a command line.
//
// The options of a file are spliced in BEFORE the command line's, as if they
// had been typed first, so a command-line option overrides the file (the
// server's parser keeps the last value of an option). Whether a key is a
// known option, and whether its value is valid, is decided by the tool's own
// option parser, which names the file and line (Arguments::where).
//
// Errors are values: InvalidArgument for a malformed file (with "FILE:LINE:"),
// IOError for a file that cannot be read. Thread safety: plain functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace basalt::tools {

// One `key = value` line of a configuration file.
struct ConfigEntry {
  std::string key;    // the option name without "--", e.g. "data-dir"
  std::string value;  // may be empty
  int line = 0;       // 1-based line number in the file
};

// Parses the text of a configuration file; `name` (the file's path) prefixes
// error messages. Appends the entries to *entries in file order.
Status ParseConfig(std::string_view text, std::string_view name, std::vector<ConfigEntry>* entries);

// Reads the file at `path` (at most 1 MiB) and parses it with ParseConfig.
Status ReadConfigFile(const std::string& path, std::vector<ConfigEntry>* entries);

// A command line with its configuration files spliced in.
struct Arguments {
  // Everything after argv[0]: first the options of every --config file, in
  // the order the files were given, as "--KEY" "VALUE" pairs; then the
  // command line's arguments without the --config pairs.
  std::vector<std::string> args;
  // One per element of args: "" for a command-line argument, "FILE:LINE" for
  // one from a file (key and value share their line), for error messages.
  std::vector<std::string> where;
};

// Builds *out from argv: every `--config FILE` (anywhere on the line, more
// than once allowed) is read and its options placed before the command line's.
// The command line is walked as the tools parse it: an option takes the next
// argument as its value, except those in `flags` and `command_line_only`,
// which take none. A flag in a file is `key = true` (spliced in as "--key")
// or `key = false` (left out); `command_line_only` options (e.g. --help,
// --version) and `config` itself may not appear in a file.
Status ExpandConfigFiles(int argc, const char* const* argv,
                         const std::vector<std::string_view>& flags,
                         const std::vector<std::string_view>& command_line_only, Arguments* out);

}  // namespace basalt::tools
