// Status: the result of an engine operation, returned as a value (no exceptions).
//
// OK carries no allocation; an error carries a code and a message. Every
// function that can fail returns Status (or takes an out-parameter and returns
// Status); callers must look at it ([[nodiscard]]).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace basalt {

class [[nodiscard]] Status {
 public:
  // Frozen: codes may be logged or shown to users; append only.
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kBusy = 6,     // resource locked (e.g. DB directory held by another process)
    kAborted = 7,  // operation refused, e.g. DB in a failed state after an I/O error
  };

  Status() noexcept = default;
  Status(const Status& s) : code_(s.code_), msg_(s.msg_ ? new std::string(*s.msg_) : nullptr) {}
  Status& operator=(const Status& s) {
    if (this != &s) {
      code_ = s.code_;
      msg_.reset(s.msg_ ? new std::string(*s.msg_) : nullptr);
    }
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotFound, msg, msg2);
  }
  static Status Corruption(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kCorruption, msg, msg2);
  }
  static Status NotSupported(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotSupported, msg, msg2);
  }
  static Status InvalidArgument(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kInvalidArgument, msg, msg2);
  }
  static Status IOError(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kIOError, msg, msg2);
  }
  static Status Busy(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kBusy, msg, msg2);
  }
  static Status Aborted(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kAborted, msg, msg2);
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsAborted() const { return code_ == Code::kAborted; }
  Code code() const { return code_; }

  // The message without the code prefix ("" for OK).
  std::string_view message() const { return msg_ ? std::string_view(*msg_) : std::string_view(); }
  // "OK" or "<Code>: <message>".
  std::string ToString() const;

  // Marks a status as deliberately ignored (documentation at the call site).
  void PermitUnchecked() const {}

 private:
  Status(Code code, std::string_view msg, std::string_view msg2);

  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;
};

}  // namespace basalt
