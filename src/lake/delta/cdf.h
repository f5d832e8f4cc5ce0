#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "sql/database.h"

namespace tributary::lake::delta {

/// Which commits a change data feed read covers. Versions are inclusive. When timestamps
/// are given, a commit is included when its timestamp (time_travel.h rules: in-commit
/// timestamp, else file time) lies within them.
struct ChangeFeedOptions {
  /// First version. Default: 0.
  int64_t start_version = 0;
  /// Last version. Default: unset (the latest).
  std::optional<int64_t> end_version;
  /// Only commits with timestamp >= this (ms since epoch). Default: unset.
  std::optional<int64_t> start_timestamp_ms;
  /// Only commits with timestamp <= this (ms since epoch). Default: unset.
  std::optional<int64_t> end_timestamp_ms;
  /// As ScanOptions::partition_timezone. Default: "UTC".
  std::string partition_timezone = "UTC";
};

/// Builds a DuckDB SELECT over the table's change data feed (PROTOCOL.md "Add CDC File",
/// "Reader Requirements for AddCDCFile", "Change Data Files"): the table columns (schema
/// of the last version read) followed by `_change_type` VARCHAR ("insert", "delete",
/// "update_preimage", "update_postimage"), `_commit_version` BIGINT and
/// `_commit_timestamp` TIMESTAMPTZ.
/// Per commit: when it has `cdc` actions, exactly the rows of those `_change_data` files;
/// otherwise rows of `add` actions with dataChange=true are inserts and rows of `remove`
/// actions with dataChange=true are deletes; a deletion vector added to a file that stays
/// (remove + add of the same path) yields only the newly deleted rows as deletes.
/// Commits without data changes contribute nothing.
/// Errors: kNotFound (versions outside the log, missing files), kCorruption,
/// kUnsupported.
Result<std::string> BuildChangeFeedQuery(const std::filesystem::path& table_root,
                                         sql::Connection& connection,
                                         const ChangeFeedOptions& options = {});

}  // namespace tributary::lake::delta
