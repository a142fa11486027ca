// CSV import sources (DynamoDB Developer Guide, "Amazon S3 import formats for
// DynamoDB", CSV): records separated by newlines, fields by the delimiter
// (',' unless InputFormatOptions.Csv.Delimiter says one of , ; : | tab
// space); a field may be quoted with '"' ("" inside stands for one quote, and
// a quoted field may span lines). The first record is the header unless a
// HeaderList is given, in which case every record is data. Values become
// attributes named by the header: the key attributes of the table and of its
// GSIs typed by their AttributeDefinitions (N parsed as a number, B decoded
// from base64), every other column a string. An empty non-key field is left
// out of the item (an attribute needs a value).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/value.h"
#include "server/export/file_io.h"

namespace basalt::server::exports {

class CsvReader {
 public:
  CsvReader(LineReader* in, char delimiter, size_t max_record)
      : in_(in), delim_(delimiter), max_record_(max_record) {}
  // The next record's fields; *eof at the end. InvalidArgument for a record
  // over max_record bytes or an unterminated quote (the rest is unread).
  Status Next(std::vector<std::string>* fields, bool* eof);

 private:
  LineReader* in_;
  char delim_;
  size_t max_record_;
};

// Builds an item from one record. key_types: the typed (key) columns.
// InvalidArgument when the record's field count differs from the header's or
// a typed value does not parse.
Status CsvRecordToItem(const std::vector<std::string>& header,
                       const std::vector<std::string>& fields,
                       const std::map<std::string, table::ValueType>& key_types, table::Item* out);

}  // namespace basalt::server::exports
