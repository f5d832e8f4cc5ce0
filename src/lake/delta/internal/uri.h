#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tributary::lake::delta::internal {

/// Percent-decodes a URI path exactly once ("%2520" -> "%20"). Malformed escapes ("%zz",
/// a trailing '%') are kept literally, as Hadoop's Path does.
std::string PercentDecode(std::string_view text);

/// Resolves a path stored in the log (PROTOCOL.md "Add File and Remove File": `path` is a
/// URI, relative to `base` unless absolute) to a local path: "file:" URIs and absolute
/// paths are taken as is, relative ones are joined to `base`; all are percent-decoded
/// once. Errors: kUnsupported for other URI schemes (s3://, abfss://, ...).
Result<std::filesystem::path> ResolveLogPath(const std::filesystem::path& base,
                                             std::string_view log_path);

}  // namespace tributary::lake::delta::internal
