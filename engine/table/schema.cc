#include "engine/table/schema.h"

#include <algorithm>

namespace basalt::table {

const char* TableStatusName(TableStatus s) {
  switch (s) {
    case TableStatus::kCreating:
      return "CREATING";
    case TableStatus::kUpdating:
      return "UPDATING";
    case TableStatus::kDeleting:
      return "DELETING";
    case TableStatus::kActive:
      return "ACTIVE";
    case TableStatus::kInaccessibleEncryptionCredentials:
      return "INACCESSIBLE_ENCRYPTION_CREDENTIALS";
    case TableStatus::kArchiving:
      return "ARCHIVING";
    case TableStatus::kArchived:
      return "ARCHIVED";
  }
  return "ACTIVE";
}

const char* IndexStatusName(IndexStatus s) {
  switch (s) {
    case IndexStatus::kCreating:
      return "CREATING";
    case IndexStatus::kUpdating:
      return "UPDATING";
    case IndexStatus::kDeleting:
      return "DELETING";
    case IndexStatus::kActive:
      return "ACTIVE";
  }
  return "ACTIVE";
}

const char* TableClassName(TableClass c) {
  return c == TableClass::kStandardInfrequentAccess ? "STANDARD_INFREQUENT_ACCESS" : "STANDARD";
}

bool ParseTableClass(std::string_view name, TableClass* out) {
  if (name == "STANDARD") {
    *out = TableClass::kStandard;
  } else if (name == "STANDARD_INFREQUENT_ACCESS") {
    *out = TableClass::kStandardInfrequentAccess;
  } else {
    return false;
  }
  return true;
}

const char* ProjectionTypeName(ProjectionType p) {
  switch (p) {
    case ProjectionType::kKeysOnly:
      return "KEYS_ONLY";
    case ProjectionType::kInclude:
      return "INCLUDE";
    case ProjectionType::kAll:
      return "ALL";
  }
  return "ALL";
}

bool IndexDef::IsKeyAttribute(std::string_view attr) const {
  auto named = [&](const KeyAttribute& k) { return k.name == attr; };
  return std::any_of(partition_key.begin(), partition_key.end(), named) ||
         std::any_of(sort_key.begin(), sort_key.end(), named);
}

const IndexDef* TableDef::FindIndex(std::string_view index_name) const {
  for (const IndexDef& ix : indexes) {
    if (ix.name == index_name) return &ix;
  }
  return nullptr;
}

IndexDef* TableDef::FindIndex(std::string_view index_name) {
  for (IndexDef& ix : indexes) {
    if (ix.name == index_name) return &ix;
  }
  return nullptr;
}

std::vector<const KeyAttribute*> TableDef::KeyAttributes() const {
  std::vector<const KeyAttribute*> attrs{&partition_key};
  if (sort_key) attrs.push_back(&*sort_key);
  return attrs;
}

bool TableDef::SameKeySchema(const TableDef& other) const {
  return partition_key == other.partition_key && sort_key == other.sort_key;
}

}  // namespace basalt::table
