#include "lake/delta/vacuum.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"

namespace tributary::lake::delta {

namespace {

namespace fs = std::filesystem;

bool IsHidden(const std::string& name) {
  return (name.rfind('.', 0) == 0 || name.rfind('_', 0) == 0) &&
         name.find('=') == std::string::npos;
}

}  // namespace

Result<VacuumResult> Vacuum(const fs::path& table_root, const VacuumOptions& options) {
  TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::LoadLatest(table_root));
  TRIB_ASSIGN_OR_RETURN(int64_t table_retention,
                        DeletedFileRetentionMillis(snapshot->metadata()));
  VacuumResult result;
  result.dry_run = options.dry_run;
  result.retention_ms = table_retention;
  if (options.retention_hours) {
    if (*options.retention_hours < 0 || !std::isfinite(*options.retention_hours)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "vacuum '{}': retention must be a non-negative number of hours",
                       table_root.string());
    }
    result.retention_ms = static_cast<int64_t>(*options.retention_hours * 3600.0 * 1000.0);
    if (result.retention_ms < table_retention && !options.force) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "vacuum '{}': retention {} h is shorter than the table's "
                       "delta.deletedFileRetentionDuration ({} h); readers of older versions "
                       "could lose files. Use force to override",
                       table_root.string(), *options.retention_hours,
                       static_cast<double>(table_retention) / 3600000.0);
    }
  }
  const int64_t now = options.now_ms > 0 ? options.now_ms : NowMillis();
  const int64_t cutoff = now - result.retention_ms;

  std::set<fs::path> keep;
  for (const auto& add : snapshot->files()) {
    TRIB_ASSIGN_OR_RETURN(auto path, snapshot->ResolvePath(add.path));
    keep.insert(fs::absolute(path).lexically_normal());
  }
  for (const auto& remove : snapshot->tombstones()) {
    if (remove.deletion_timestamp.value_or(0) > cutoff) {
      auto path = snapshot->ResolvePath(remove.path);
      if (path.ok()) {
        keep.insert(fs::absolute(*path).lexically_normal());
      }
    }
  }
  std::error_code ec;
  const fs::path root = fs::absolute(table_root, ec).lexically_normal();
  fs::recursive_directory_iterator it(root, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "vacuum: cannot list '{}': {}", root.string(),
                     ec.message());
  }
  std::vector<std::pair<fs::path, int64_t>> doomed;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return MakeError(ErrorCode::kIo, "vacuum: cannot list under '{}': {}", root.string(),
                       ec.message());
    }
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    if (IsHidden(name)) {
      if (it->is_directory(ec)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(ec) || name.rfind("deletion_vector_", 0) == 0) {
      continue;
    }
    fs::path normal = path.lexically_normal();
    if (keep.count(normal) > 0) {
      continue;
    }
    auto mtime = it->last_write_time(ec);
    if (ec) {
      continue;
    }
    int64_t mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                           .count();
    if (mtime_ms >= cutoff) {
      continue;
    }
    auto size = it->file_size(ec);
    doomed.emplace_back(normal, ec ? 0 : static_cast<int64_t>(size));
  }
  std::sort(doomed.begin(), doomed.end());
  for (const auto& [path, size] : doomed) {
    if (!options.dry_run) {
      fs::remove(path, ec);
      if (ec) {
        return MakeError(ErrorCode::kIo, "vacuum: cannot delete '{}': {}", path.string(),
                         ec.message());
      }
    }
    result.files.push_back(path.lexically_relative(root).string());
    result.bytes += size;
  }
  return result;
}

}  // namespace tributary::lake::delta
