#include "lake/delta/internal/uri.h"

namespace tributary::lake::delta::internal {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

Result<std::filesystem::path> ResolveLogPath(const std::filesystem::path& base,
                                             std::string_view log_path) {
  std::string_view path = log_path;
  if (path.substr(0, 7) == "file://") {
    path.remove_prefix(7);
    return std::filesystem::path(PercentDecode(path));
  }
  if (path.substr(0, 5) == "file:") {
    path.remove_prefix(5);
    return std::filesystem::path(PercentDecode(path));
  }
  size_t colon = path.find(':');
  size_t slash = path.find('/');
  if (colon != std::string_view::npos &&
      (slash == std::string_view::npos || colon < slash) && colon + 2 < path.size() &&
      path.substr(colon, 3) == "://") {
    return MakeError(
        ErrorCode::kUnsupported,
        "path '{}' uses a URI scheme this reader cannot open (local files only)",
        log_path);
  }
  std::string decoded = PercentDecode(path);
  if (!decoded.empty() && decoded[0] == '/') {
    return std::filesystem::path(decoded);
  }
  return base / decoded;
}

}  // namespace tributary::lake::delta::internal
