// Policy variables, wildcard matching and ARN matching (policy_internal.h).
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/auth/policy_internal.h"

namespace basalt::server::auth {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

void AddConditionKey(ConditionKeys* keys, std::string_view name, std::string value) {
  (*keys)[Lower(name)].push_back(std::move(value));
}

void SetConditionKey(ConditionKeys* keys, std::string_view name, std::string value) {
  std::vector<std::string>& v = (*keys)[Lower(name)];
  v.clear();
  v.push_back(std::move(value));
}

void SetConditionKeyEmpty(ConditionKeys* keys, std::string_view name) {
  (*keys)[Lower(name)].clear();
}

namespace internal {

namespace {

unsigned char LowerByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AppendText(Template* t, std::string_view text) {
  if (text.empty()) return;
  if (t->parts.empty() || t->parts.back().kind != Template::Part::kText) {
    t->parts.push_back(Template::Part{});
  }
  t->parts.back().text.append(text);
}

void AppendGlobText(Glob* g, std::string_view text) {
  for (char c : text) g->push_back(static_cast<int16_t>(static_cast<unsigned char>(c)));
}

// The value of a variable for this request, or nullopt.
std::optional<std::string_view> VariableValue(const Template::Part& p, const RequestView& req) {
  auto values = req.Lookup(p.text);
  if (values && values->size() == 1) return std::string_view((*values)[0]);
  if (p.has_default) return std::string_view(p.default_value);
  return std::nullopt;
}

}  // namespace

std::optional<std::span<const std::string>> RequestView::Lookup(std::string_view key) const {
  const Principal& p = r_.principal;
  const std::string* own = nullptr;
  if (key == "aws:username") {
    own = &p.username;
  } else if (key == "aws:userid") {
    own = &p.userid;
  } else if (key == "aws:principalarn") {
    own = &p.arn;
  } else if (key == "aws:principalaccount") {
    own = &p.account;
  }
  if (own != nullptr) {
    if (own->empty()) return std::nullopt;
    return std::span<const std::string>(own, 1);
  }
  auto it = r_.keys.find(key);
  if (it != r_.keys.end()) return std::span<const std::string>(it->second);
  // A key the caller stored without lower-casing it: still found, so that a
  // Deny conditioned on it cannot be dodged by the spelling of its name.
  for (const auto& [name, values] : r_.keys) {
    if (name.size() != key.size()) continue;
    bool same = true;
    for (size_t i = 0; same && i < name.size(); i++) {
      same = LowerByte(static_cast<unsigned char>(name[i])) == static_cast<unsigned char>(key[i]);
    }
    if (same) return std::span<const std::string>(values);
  }
  return std::nullopt;
}

// Policy variables:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
// "${key}" or "${key, 'default'}" (a quote inside the default is written ''),
// and the escapes ${*}, ${?}, ${$} for the literal characters.
std::string ParseTemplate(std::string_view s, bool variables, bool wildcards, Template* out) {
  Template t;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (variables && c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      // Find the closing brace, skipping a quoted default value.
      size_t j = i + 2;
      bool quoted = false;
      for (; j < s.size(); j++) {
        if (quoted) {
          if (s[j] == '\'') {
            if (j + 1 < s.size() && s[j + 1] == '\'') {
              j++;
            } else {
              quoted = false;
            }
          }
        } else if (s[j] == '\'') {
          quoted = true;
        } else if (s[j] == '}') {
          break;
        }
      }
      if (j >= s.size()) {
        return "unterminated policy variable in \"" + std::string(s) + "\"";
      }
      const std::string_view inner = Trim(s.substr(i + 2, j - i - 2));
      i = j + 1;
      if (inner == "*" || inner == "?" || inner == "$") {
        AppendText(&t, inner);
        continue;
      }
      Template::Part var;
      var.kind = Template::Part::kVariable;
      const size_t comma = inner.find(',');
      const std::string_view key = Trim(inner.substr(0, comma));
      if (key.empty()) return "empty policy variable in \"" + std::string(s) + "\"";
      if (key.find_first_of(" '{$") != std::string_view::npos) {
        return "invalid policy variable name \"" + std::string(key) + "\" in \"" + std::string(s) +
               "\"";
      }
      var.text = Lower(key);
      if (comma != std::string_view::npos) {
        const std::string_view def = Trim(inner.substr(comma + 1));
        if (def.size() < 2 || def.front() != '\'' || def.back() != '\'') {
          return "the default value of policy variable ${" + std::string(key) +
                 "} must be in single quotes";
        }
        var.has_default = true;
        const std::string_view body = def.substr(1, def.size() - 2);
        for (size_t k = 0; k < body.size(); k++) {
          if (body[k] == '\'') {
            if (k + 1 < body.size() && body[k + 1] == '\'') {
              k++;
            } else {
              return "a quote in the default value of policy variable ${" + std::string(key) +
                     "} must be doubled ('')";
            }
          }
          var.default_value.push_back(body[k]);
        }
      }
      t.parts.push_back(std::move(var));
      t.has_variables = true;
      continue;
    }
    if (wildcards && (c == '*' || c == '?')) {
      Template::Part w;
      w.kind = c == '*' ? Template::Part::kStar : Template::Part::kQuestion;
      t.parts.push_back(std::move(w));
      i++;
      continue;
    }
    AppendText(&t, s.substr(i, 1));
    i++;
  }
  if (!t.has_variables) {
    for (const Template::Part& p : t.parts) {
      switch (p.kind) {
        case Template::Part::kText:
          t.text += p.text;
          AppendGlobText(&t.glob, p.text);
          break;
        case Template::Part::kStar:
          t.text += '*';
          t.glob.push_back(kStar);
          break;
        case Template::Part::kQuestion:
          t.text += '?';
          t.glob.push_back(kQuestion);
          break;
        case Template::Part::kVariable:
          break;
      }
    }
  }
  *out = std::move(t);
  return {};
}

const std::string* TextFor(const Template& t, const RequestView& req, std::string* scratch) {
  if (!t.has_variables) return &t.text;
  scratch->clear();
  for (const Template::Part& p : t.parts) {
    switch (p.kind) {
      case Template::Part::kText:
        scratch->append(p.text);
        break;
      case Template::Part::kStar:
        scratch->push_back('*');
        break;
      case Template::Part::kQuestion:
        scratch->push_back('?');
        break;
      case Template::Part::kVariable: {
        std::optional<std::string_view> v = VariableValue(p, req);
        if (!v) return nullptr;
        scratch->append(*v);
        break;
      }
    }
  }
  return scratch;
}

const Glob* GlobFor(const Template& t, const RequestView& req, Glob* scratch) {
  if (!t.has_variables) return &t.glob;
  scratch->clear();
  for (const Template::Part& p : t.parts) {
    switch (p.kind) {
      case Template::Part::kText:
        AppendGlobText(scratch, p.text);
        break;
      case Template::Part::kStar:
        scratch->push_back(kStar);
        break;
      case Template::Part::kQuestion:
        scratch->push_back(kQuestion);
        break;
      case Template::Part::kVariable: {
        // A substituted value is literal: its '*' and '?' are no wildcards.
        std::optional<std::string_view> v = VariableValue(p, req);
        if (!v) return nullptr;
        AppendGlobText(scratch, *v);
        break;
      }
    }
  }
  return scratch;
}

// Iterative wildcard matching with backtracking to the last '*': linear in
// practice, O(pattern x text) at worst; no recursion, no regex.
bool GlobMatch(std::span<const int16_t> p, std::string_view s, bool fold_case) {
  size_t pi = 0;
  size_t si = 0;
  size_t star_p = std::string_view::npos;  // pattern index after the last '*'
  size_t star_s = 0;                       // text index that '*' was tried at
  auto advance_char = [&](size_t i) {
    // One UTF-8 code point: the lead byte and its continuation bytes.
    i++;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) i++;
    return i;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == kStar) {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      if (p[pi] == kQuestion) {
        pi++;
        si = advance_char(si);
        continue;
      }
      const unsigned char t = static_cast<unsigned char>(s[si]);
      if (p[pi] == (fold_case ? LowerByte(t) : t)) {
        pi++;
        si++;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == kStar) pi++;
  return pi == p.size();
}

// Resource ARNs:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// ("You can use wildcard characters (* and ?) within any ARN segment (the
// parts separated by colons)"); the Arn* operators match each of the six
// colon-delimited components separately
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
bool ArnMatch(std::span<const int16_t> p, std::string_view arn) {
  if (p.size() == 1 && p[0] == kStar) return true;
  size_t pp = 0;  // start of the current pattern piece
  size_t ap = 0;  // start of the current ARN piece
  for (int piece = 0;; piece++) {
    size_t pc = p.size();
    if (piece < 5) {
      for (size_t k = pp; k < p.size(); k++) {
        if (p[k] == ':') {
          pc = k;
          break;
        }
      }
    }
    if (pc == p.size()) {
      // The last pattern piece: the sixth takes the rest of the ARN, colons
      // included; an earlier one only an ARN that has no more pieces.
      if (piece < 5 && arn.find(':', ap) != std::string_view::npos) return false;
      return GlobMatch(p.subspan(pp), arn.substr(ap), false);
    }
    const size_t ac = arn.find(':', ap);
    if (ac == std::string_view::npos) return false;
    if (!GlobMatch(p.subspan(pp, pc - pp), arn.substr(ap, ac - ap), false)) return false;
    pp = pc + 1;
    ap = ac + 1;
  }
}

}  // namespace internal
}  // namespace basalt::server::auth
