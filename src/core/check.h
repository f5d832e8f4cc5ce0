#pragma once

#include <cstdlib>
#include <string>

#include <fmt/format.h>

/// Invariant checks (STYLE.md §4). TRIB_CHECK is always on: use it where a violation would
/// corrupt a table or lose a source position. TRIB_DCHECK is debug-only. Neither may fire on
/// bad input: bad input is an Error. Say next to each what went wrong.
namespace tributary::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);
}  // namespace tributary::internal

#define TRIB_CHECK(cond, ...)                                                    \
  do {                                                                           \
    if (!(cond)) [[unlikely]] {                                                  \
      ::tributary::internal::CheckFailed(__FILE__, __LINE__, #cond,              \
                                         ::fmt::format(__VA_ARGS__));            \
    }                                                                            \
  } while (false)

#ifdef NDEBUG
#define TRIB_DCHECK(cond, ...) \
  do {                         \
  } while (false)
#else
#define TRIB_DCHECK(cond, ...) TRIB_CHECK(cond, __VA_ARGS__)
#endif
