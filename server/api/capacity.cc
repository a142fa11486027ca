#include "server/api/capacity.h"

namespace basalt::server::api {

ReturnCapacity ReturnCapacityFromName(const std::string& name) {
  if (name == "TOTAL") return ReturnCapacity::kTotal;
  if (name == "INDEXES") return ReturnCapacity::kIndexes;
  return ReturnCapacity::kNone;
}

double ReadUnits(size_t bytes, bool strongly_consistent) {
  size_t units = bytes == 0 ? 1 : (bytes + 4095) / 4096;
  return strongly_consistent ? static_cast<double>(units) : static_cast<double>(units) / 2;
}

double WriteUnits(size_t bytes) {
  return static_cast<double>(bytes == 0 ? 1 : (bytes + 1023) / 1024);
}

boost::json::object CapacityJson(const std::string& table, double units, ReturnCapacity mode,
                                 bool read) {
  boost::json::object o{{"TableName", table}, {"CapacityUnits", units}};
  if (mode == ReturnCapacity::kIndexes) {
    o[read ? "ReadCapacityUnits" : "WriteCapacityUnits"] = units;
    o["Table"] = {{"CapacityUnits", units},
                  {read ? "ReadCapacityUnits" : "WriteCapacityUnits", units}};
  }
  return o;
}

}  // namespace basalt::server::api
