#include "server/export/csv.h"

#include <utility>

#include "engine/base/base64.h"
#include "server/export/attribute_json.h"

namespace basalt::server::exports {

using table::Item;
using table::Value;
using table::ValueType;

Status CsvReader::Next(std::vector<std::string>* fields, bool* eof) {
  fields->clear();
  *eof = false;
  std::string field;
  bool quoted = false;      // inside quotes
  bool was_quoted = false;  // the current field started with a quote
  bool any = false;
  size_t total = 0;
  while (true) {
    char c = 0;
    bool ok = false;
    if (Status s = in_->Get(&c, &ok); !s.ok()) return s;
    if (!ok) {
      if (quoted) return Status::InvalidArgument("unterminated quoted CSV field");
      if (!any) {
        *eof = true;
        return Status::OK();
      }
      break;
    }
    any = true;
    if (++total > max_record_) {
      return Status::InvalidArgument("a CSV record is longer than the limit of " +
                                     std::to_string(max_record_) + " bytes");
    }
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
        continue;
      }
      // A quote ends the field unless another follows.
      char n = 0;
      bool more = false;
      if (Status s = in_->Get(&n, &more); !s.ok()) return s;
      if (more && n == '"') {
        field.push_back('"');
        continue;
      }
      quoted = false;
      if (!more) break;
      c = n;  // handle the character after the closing quote below
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
      continue;
    }
    if (c == delim_) {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      break;
    } else {
      field.push_back(c);
    }
  }
  if (!was_quoted && !field.empty() && field.back() == '\r') field.pop_back();
  fields->push_back(std::move(field));
  return Status::OK();
}

Status CsvRecordToItem(const std::vector<std::string>& header,
                       const std::vector<std::string>& fields,
                       const std::map<std::string, ValueType>& key_types, Item* out) {
  if (fields.size() != header.size()) {
    return Status::InvalidArgument("the record has " + std::to_string(fields.size()) +
                                   " fields, the header " + std::to_string(header.size()));
  }
  std::vector<Item::Entry> entries;
  entries.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); i++) {
    const std::string& name = header[i];
    const std::string& text = fields[i];
    auto k = key_types.find(name);
    if (k == key_types.end()) {
      if (!text.empty()) entries.emplace_back(name, Value::MakeS(text));
      continue;
    }
    Value v;
    if (k->second == ValueType::kN) {
      if (Status s = Value::ParseN(text, &v); !s.ok()) {
        return Status::InvalidArgument("the value of key attribute " + name +
                                       " is not a number: " + std::string(s.message()));
      }
    } else if (k->second == ValueType::kB) {
      std::string bytes;
      if (!Base64Decode(text, &bytes)) {
        return Status::InvalidArgument("the value of key attribute " + name + " is not base64");
      }
      v = Value::MakeB(std::move(bytes));
    } else {
      v = Value::MakeS(text);
    }
    entries.emplace_back(name, std::move(v));
  }
  *out = Item::FromUnsorted(std::move(entries));
  return Status::OK();
}

}  // namespace basalt::server::exports
