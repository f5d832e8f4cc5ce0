#pragma once

#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

#include "core/error.h"

namespace tributary {

/// A value or an Error. A thin [[nodiscard]] wrapper over tl::expected so that the spelling
/// at call sites survives a move to std::expected (C++23). Construct from a T for success and
/// from an Error for failure.
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;

  Result(Error error) : Base(tl::unexpect, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return this->has_value(); }
  /// Requires !ok().
  const Error& status() const& { return this->error(); }
  Error&& status() && { return std::move(this->error()); }

  /// Adds context to the error, if any, and passes the result on.
  Result WithContext(std::string line) && {
    if (!ok()) {
      this->error().AddContext(std::move(line));
    }
    return std::move(*this);
  }
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> : public tl::expected<void, Error> {
 public:
  using Base = tl::expected<void, Error>;
  using Base::Base;

  Result(Error error) : Base(tl::unexpect, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return this->has_value(); }
  const Error& status() const& { return this->error(); }
  Error&& status() && { return std::move(this->error()); }

  Result WithContext(std::string line) && {
    if (!ok()) {
      this->error().AddContext(std::move(line));
    }
    return std::move(*this);
  }
};

using Status = Result<void>;

/// The success Status.
inline Status OkStatus() { return Status(); }

namespace internal {
template <typename T>
Error TakeError(Result<T>&& result) {
  return std::move(result.error());
}
}  // namespace internal

}  // namespace tributary

#define TRIB_CONCAT_IMPL(a, b) a##b
#define TRIB_CONCAT(a, b) TRIB_CONCAT_IMPL(a, b)

/// Returns the error of a failed Result/Status from the current function.
/// Expands to several statements: use inside braces.
#define TRIB_RETURN_IF_ERROR(expr)                                          \
  do {                                                                      \
    auto&& _trib_status = (expr);                                           \
    if (!_trib_status.has_value()) {                                        \
      return ::tributary::Error(std::move(_trib_status.error()));           \
    }                                                                       \
  } while (false)

#define TRIB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                          \
  auto tmp = (expr);                                                        \
  if (!tmp.has_value()) {                                                   \
    return ::tributary::Error(std::move(tmp.error()));                      \
  }                                                                         \
  lhs = std::move(*tmp)

/// `TRIB_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns the error.
/// Expands to several statements: use inside braces.
#define TRIB_ASSIGN_OR_RETURN(lhs, expr) \
  TRIB_ASSIGN_OR_RETURN_IMPL(TRIB_CONCAT(_trib_result_, __LINE__), lhs, expr)
