// A strict reader of the Prometheus text format 0.0.4, for the metrics
// tests: every line is a comment (# HELP, # TYPE, or other), blank, or a
// sample `name{label="value",...} value`; a family's samples are contiguous
// and come after its # TYPE line, which appears at most once.
#pragma once

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace basalt::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

inline bool PromNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// The family of a sample name: without _bucket/_sum/_count when that family
// is a histogram or summary.
inline std::string PromFamily(const std::string& name,
                              const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

inline bool ParsePrometheus(const std::string& text, std::vector<PromSample>* samples,
                            std::map<std::string, std::string>* types, std::string* error) {
  samples->clear();
  types->clear();
  std::set<std::string> closed;  // families whose samples ended
  std::string current;
  std::istringstream in(text);
  int lineno = 0;
  for (std::string line; std::getline(in, line);) {
    lineno++;
    auto fail = [&](const std::string& why) {
      *error = "line " + std::to_string(lineno) + ": " + why + ": " + line;
      return false;
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kw, name, rest;
      ls >> hash >> kw >> name;
      if (kw == "TYPE") {
        ls >> rest;
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(rest)) return fail("bad type");
        if (types->count(name)) return fail("second TYPE");
        if (closed.count(name)) return fail("TYPE after the family's samples");
        (*types)[name] = rest;
      }
      continue;
    }
    PromSample s;
    size_t i = 0;
    while (i < line.size() && PromNameChar(line[i], i == 0)) i++;
    if (i == 0) return fail("no metric name");
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      i++;
      while (i < line.size() && line[i] != '}') {
        size_t j = i;
        while (j < line.size() && PromNameChar(line[j], j == i) && line[j] != ':') j++;
        if (j == i || j >= line.size() || line[j] != '=') return fail("bad label name");
        std::string lname = line.substr(i, j - i);
        i = j + 1;
        if (i >= line.size() || line[i] != '"') return fail("label value not quoted");
        i++;
        std::string value;
        bool closed_quote = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed_quote = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) return fail("dangling escape");
            char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return fail("bad escape");
            }
          } else {
            value += c;
          }
        }
        if (!closed_quote) return fail("unterminated label value");
        if (s.labels.count(lname)) return fail("repeated label");
        s.labels[lname] = value;
        if (i < line.size() && line[i] == ',') i++;
      }
      if (i >= line.size()) return fail("unterminated labels");
      i++;
    }
    if (i >= line.size() || line[i] != ' ') return fail("no space before the value");
    const std::string v = line.substr(i + 1);
    if (v == "+Inf") {
      s.value = 1e308 * 10;
    } else if (v == "-Inf") {
      s.value = -1e308 * 10;
    } else if (v == "NaN") {
      s.value = 0.0 / 1.0;
    } else {
      char* end = nullptr;
      s.value = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0') return fail("bad value");
    }
    const std::string family = PromFamily(s.name, *types);
    if (family != current) {
      if (closed.count(family)) return fail("family's samples are not contiguous");
      if (!current.empty()) closed.insert(current);
      current = family;
    }
    samples->push_back(std::move(s));
  }
  return true;
}

}  // namespace basalt::test
