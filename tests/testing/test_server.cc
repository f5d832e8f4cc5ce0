#include "testing/test_server.h"

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace tributary::testing {

bool E2eRequired() {
  const char* value = std::getenv("TRIB_E2E_REQUIRED");
  return value != nullptr && std::string(value) == "1";
}

namespace {
std::string TempBase() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
}
}  // namespace

std::filesystem::path TemplateCacheDir() {
  return std::filesystem::path(TempBase()) / "tributary-devserver-cache";
}

Result<std::filesystem::path> MakeWorkDir(const std::string& prefix) {
  std::string pattern = TempBase() + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return MakeError(ErrorCode::kIo, "cannot create a temp dir {}: {}", pattern,
                     std::error_code(errno, std::generic_category()).message());
  }
  return std::filesystem::path(buffer.data());
}

}  // namespace tributary::testing
