#include "engine/base/status.h"

namespace basalt {

Status::Status(Code code, std::string_view msg, std::string_view msg2, SubCode sub)
    : code_(code), subcode_(sub) {
  std::string m(msg);
  if (!msg2.empty()) {
    m.append(": ");
    m.append(msg2);
  }
  msg_ = std::make_unique<std::string>(std::move(m));
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "NotFound";
      break;
    case Code::kCorruption:
      name = "Corruption";
      break;
    case Code::kNotSupported:
      name = "NotSupported";
      break;
    case Code::kInvalidArgument:
      name = "InvalidArgument";
      break;
    case Code::kIOError:
      name = "IOError";
      break;
    case Code::kBusy:
      name = "Busy";
      break;
    case Code::kAborted:
      name = "Aborted";
      break;
  }
  std::string r(name);
  r.append(": ");
  r.append(message());
  return r;
}

}  // namespace basalt
