#include "bench/db_bench/backend.h"

namespace basalt::bench {

bool Backend::GetRange(std::string_view start, size_t n,
                       std::vector<std::pair<std::string, std::string>>* out, std::string* err) {
  out->clear();
  std::unique_ptr<Cursor> c = NewCursor();
  for (c->Seek(start); c->Valid() && out->size() < n; c->Next()) {
    out->emplace_back(std::string(c->key()), std::string(c->value()));
  }
  *err = c->Error();
  return err->empty();
}

}  // namespace basalt::bench
