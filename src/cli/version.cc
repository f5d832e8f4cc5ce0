#include "cli/version.h"

namespace tributary::cli {

std::string_view Version() {
  return TRIB_VERSION;
}

}  // namespace tributary::cli
