#pragma once

#include <filesystem>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_segment.h"

namespace tributary::sql {
class Connection;
}  // namespace tributary::sql

namespace tributary::lake::delta {

/// Reads every action of a checkpoint (PROTOCOL.md "Checkpoints", "Checkpoint Schema",
/// "V2 Spec", "Sidecar Files"): classic and multi-part Parquet checkpoints, UUID-named V2
/// checkpoints as JSON or Parquet manifests, and the sidecar files a V2 manifest lists in
/// `_delta_log/_sidecars/`. Parquet is read through `connection` (DuckDB).
/// Sidecar and checkpointMetadata actions are returned too (after the sidecars' own
/// file actions), so callers can see how the checkpoint was laid out.
/// Errors: kCorruption naming the checkpoint (or sidecar) file and version when a file is
/// unreadable, truncated or malformed; kNotFound for a missing sidecar.
Result<std::vector<Action>> ReadCheckpoint(sql::Connection& connection,
                                           const std::filesystem::path& table_root,
                                           const CheckpointFiles& checkpoint);

/// Reads the actions stored in Parquet files with the checkpoint schema (one action per
/// row, one non-null action column). Errors: kCorruption naming the first file.
Result<std::vector<Action>> ReadParquetActions(
    sql::Connection& connection, const std::vector<std::filesystem::path>& files);

}  // namespace tributary::lake::delta
