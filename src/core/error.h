#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace tributary {

/// What kind of failure an Error is. Callers branch on the code (retry, back off, report),
/// never on the message text.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  ///< bad input: a config key, a malformed event, a bad flag
  kNotFound,         ///< a table, file, slot or key that should exist does not
  kIo,               ///< local filesystem failure
  kNetwork,          ///< connection refused/reset, server gone away (retryable)
  kTimeout,          ///< a deadline passed (retryable)
  kCorruption,       ///< on-disk or on-wire data violates its format
  kConflict,         ///< an optimistic commit lost a race with a conflicting writer
  kUnsupported,      ///< a valid input this build cannot handle (protocol version, type)
  kCancelled,        ///< stopped on request (Ctrl-C, stop_token)
  kInternal,         ///< a bug or a failure of a library we call
  kAlreadyExists,    ///< put-if-absent found the target present
};

/// The stable, lower-case name of an error code ("invalid argument", "conflict").
std::string_view ErrorCodeName(ErrorCode code);

/// A failure: a code, an operator-facing message naming what went wrong (the key, table,
/// LSN or file), and context lines added as it travels up the stack (outermost last).
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& context() const { return context_; }

  /// Adds a line saying what the caller was doing ("reading _delta_log/00..05.json").
  Error& AddContext(std::string line) & {
    context_.push_back(std::move(line));
    return *this;
  }
  Error&& AddContext(std::string line) && {
    context_.push_back(std::move(line));
    return std::move(*this);
  }

  /// True for failures that may go away on retry with backoff: network, timeout, conflict.
  bool IsRetryable() const {
    return code_ == ErrorCode::kNetwork || code_ == ErrorCode::kTimeout ||
           code_ == ErrorCode::kConflict;
  }
  bool IsNotFound() const { return code_ == ErrorCode::kNotFound; }
  bool IsConflict() const { return code_ == ErrorCode::kConflict; }
  bool IsCancelled() const { return code_ == ErrorCode::kCancelled; }
  bool IsAlreadyExists() const { return code_ == ErrorCode::kAlreadyExists; }

  /// "context (outermost): ...: message", the form printed to operators.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<std::string> context_;
};

/// Builds an Error with a fmt-formatted message:
///   return MakeError(ErrorCode::kNotFound, "table '{}' has no _delta_log", path);
template <typename... Args>
Error MakeError(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tributary
