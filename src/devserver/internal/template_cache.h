#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "devserver/internal/process.h"

namespace tributary::devserver::internal {

/// Builds a fresh data directory at the given path (which does not exist; its parent does
/// and is reachable by the server account).
using DataDirBuilder = std::function<Status(const std::filesystem::path& data_dir)>;

/// A cache key: `prefix` plus a hash of `parts` and of the size and mtime of each file in
/// `binaries` (so a package upgrade invalidates the templates built by the old binaries).
std::string TemplateKey(const std::string& prefix,
                        const std::vector<std::string>& parts,
                        const std::vector<std::filesystem::path>& binaries);

/// Makes `dest` (which must not exist) a copy of the template data dir `key` in
/// `cache_dir`, building the template once with `build` under an exclusive lock, so
/// concurrent test processes share one initdb / mariadb-install-db run. The copy is
/// handed to `account`.
///
/// The cache is only trusted when `cache_dir` is owned by us and writable by nobody else;
/// otherwise (and when `cache_dir` is empty) `build(dest)` runs directly.
/// Errors: whatever `build` returns, kIo for copy failures.
Status MaterializeDataDir(const std::filesystem::path& cache_dir,
                          const std::string& key,
                          const std::optional<Account>& account,
                          const DataDirBuilder& build,
                          const std::filesystem::path& dest);

}  // namespace tributary::devserver::internal
