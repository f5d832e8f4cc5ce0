#include "lake/delta/optimize.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/internal/data_files.h"
#include "lake/delta/snapshot_cache.h"

namespace tributary::lake::delta {

Result<OptimizeResult> Optimize(sql::Connection& conn, const std::filesystem::path& table_root,
                                const OptimizeOptions& options) {
  // The write snapshot (cached, advanced by reading new commits): no listing of the log.
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshotForWrite(table_root, &conn));
  TRIB_RETURN_IF_ERROR(CheckWriteSupport(*snapshot, /*removes_data=*/false));
  int64_t target = options.target_file_size_bytes;
  if (auto property = snapshot->metadata().Config("delta.targetFileSize")) {
    try {
      target = std::stoll(*property);
    } catch (const std::exception&) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "Delta table '{}': delta.targetFileSize '{}' is not a number of bytes",
                       table_root.string(), *property);
    }
  }
  if (target <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "optimize: target file size must be > 0");
  }

  // Small files per partition, smallest first.
  std::map<PartitionValues, std::vector<const AddFile*>> partitions;
  for (const auto& add : snapshot->files()) {
    if (add.size < target && !add.deletion_vector) {
      partitions[add.partition_values].push_back(&add);
    }
  }
  std::vector<std::vector<const AddFile*>> bins;
  for (auto& [values, files] : partitions) {
    std::sort(files.begin(), files.end(), [](const AddFile* a, const AddFile* b) {
      return a->size != b->size ? a->size < b->size : a->path < b->path;
    });
    std::vector<const AddFile*> bin;
    int64_t bin_size = 0;
    for (const AddFile* file : files) {
      if (!bin.empty() && bin_size + file->size > target) {
        if (bin.size() >= 2) {
          bins.push_back(std::move(bin));
        }
        bin.clear();
        bin_size = 0;
      }
      bin.push_back(file);
      bin_size += file->size;
    }
    if (bin.size() >= 2) {
      bins.push_back(std::move(bin));
    }
  }
  OptimizeResult result;
  if (bins.empty()) {
    return result;
  }
  std::vector<Action> removes;
  std::vector<AddFile> adds;
  ReadSet read_set;
  read_set.read_version = snapshot->version();
  read_set.scope = ReadSet::Scope::kNone;
  const int64_t now = NowMillis();
  std::map<PartitionValues, bool> touched;
  for (const auto& bin : bins) {
    std::string source;
    for (const AddFile* file : bin) {
      TRIB_ASSIGN_OR_RETURN(auto relation, internal::FileRelation(conn, *snapshot, *file));
      source += (source.empty() ? "" : " UNION ALL ") + relation;
      removes.emplace_back(internal::RemoveFor(*file, now, /*data_change=*/false));
      read_set.read_files.insert(file->path);
      ++result.files_removed;
      result.bytes_removed += file->size;
    }
    touched[bin.front()->partition_values] = true;
    WriteOptions write = options.write;
    write.max_rows_per_file = 0;
    TRIB_RETURN_IF_ERROR(internal::WriteDataFiles(conn, table_root, snapshot->schema(),
                                                  snapshot->partition_columns(), write,
                                                  /*data_change=*/false, source, &adds));
  }
  result.partitions_optimized = static_cast<int64_t>(touched.size());
  std::vector<Action> actions = std::move(removes);
  for (auto& add : adds) {
    ++result.files_added;
    result.bytes_added += add.size;
    actions.emplace_back(std::move(add));
  }
  CommitInfo info;
  info.operation = "OPTIMIZE";
  info.operation_parameters["predicate"] = "[]";
  info.operation_parameters["targetSize"] = std::to_string(target);
  info.operation_metrics["numRemovedFiles"] = std::to_string(result.files_removed);
  info.operation_metrics["numAddedFiles"] = std::to_string(result.files_added);
  info.operation_metrics["numRemovedBytes"] = std::to_string(result.bytes_removed);
  info.operation_metrics["numAddedBytes"] = std::to_string(result.bytes_added);
  info.operation_metrics["numPartitionsOptimized"] =
      std::to_string(result.partitions_optimized);
  info.is_blind_append = false;
  CommitRequest request;
  request.actions = std::move(actions);
  request.commit_info = std::move(info);
  request.read_set = std::move(read_set);
  request.in_commit_timestamps =
      ConfigTrue(snapshot->metadata().configuration, "delta.enableInCommitTimestamps");
  TRIB_ASSIGN_OR_RETURN(auto committed,
                        Commit(table_root, std::move(request), options.write.commit));
  result.version = committed.version;
  if (options.write.auto_checkpoint && committed.version > 0 &&
      committed.version % CheckpointInterval(snapshot->metadata()) == 0) {
    result.checkpoint_problem =
        CheckpointProblem(WriteCheckpointAt(conn, table_root, committed.version),
                          committed.version);
  }
  return result;
}

}  // namespace tributary::lake::delta
