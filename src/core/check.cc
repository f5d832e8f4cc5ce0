#include "core/check.h"

#include <cstdio>

namespace tributary::internal {

void CheckFailed(const char* file, int line, const char* condition,
                 const std::string& message) {
  std::fprintf(stderr, "tributary: internal invariant violated at %s:%d: %s: %s\n", file, line,
               condition, message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tributary::internal
