#include "lake/delta/cdf.h"

#include <algorithm>
#include <map>
#include <system_error>

#include "lake/delta/deletion_vector.h"
#include "lake/delta/internal/file_select.h"
#include "lake/delta/log_segment.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/time_travel.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;
using internal::FileRead;

namespace {

Result<std::vector<uint64_t>> DeletedRows(
    const fs::path& table_root, const std::optional<DeletionVectorDescriptor>& dv) {
  if (!dv) {
    return std::vector<uint64_t>();
  }
  return LoadDeletionVector(table_root, *dv);
}

Result<std::string> ResolveExisting(const Snapshot& snapshot,
                                    const std::string& log_path,
                                    int64_t version) {
  TRIB_ASSIGN_OR_RETURN(fs::path path, snapshot.ResolvePath(log_path));
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return MakeError(ErrorCode::kNotFound, "file '{}' named by version {} does not exist",
                     path.string(), version);
  }
  return path.string();
}

}  // namespace

Result<std::string> BuildChangeFeedQuery(const fs::path& table_root,
                                         sql::Connection& connection,
                                         const ChangeFeedOptions& options) {
  TRIB_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
  TRIB_ASSIGN_OR_RETURN(auto timestamps, ListCommitTimestamps(listing));
  if (timestamps.empty()) {
    return MakeError(ErrorCode::kNotFound, "table '{}' has no commits",
                     table_root.string());
  }
  int64_t end = options.end_version.value_or(timestamps.back().version);
  if (options.start_version < 0 || options.start_version > end) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "change feed start version {} is after end version {}",
                     options.start_version, end);
  }
  SnapshotOptions end_options;
  end_options.version = end;
  end_options.connection = &connection;
  TRIB_ASSIGN_OR_RETURN(auto end_snapshot, Snapshot::Load(table_root, end_options));

  internal::SelectSpec base;
  base.columns = end_snapshot->schema().fields;
  base.partition_columns = end_snapshot->partition_columns();
  base.mode = end_snapshot->column_mapping_mode();
  base.partition_timezone = options.partition_timezone;

  // Live files before the first commit read, by path, to find the partition values and
  // deletion vectors of removed files.
  std::map<std::string, AddFile> live;
  if (options.start_version > 0) {
    SnapshotOptions before;
    before.version = options.start_version - 1;
    before.connection = &connection;
    TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(table_root, before));
    for (const auto& file : snapshot->files()) {
      live[file.path] = file;
    }
  }

  std::vector<std::string> parts;
  for (const auto& ts : timestamps) {
    if (ts.version < options.start_version || ts.version > end) {
      continue;
    }
    TRIB_ASSIGN_OR_RETURN(auto actions, ReadCommit(table_root, ts.version));
    bool in_range =
        (!options.start_timestamp_ms || ts.timestamp_ms >= *options.start_timestamp_ms) &&
        (!options.end_timestamp_ms || ts.timestamp_ms <= *options.end_timestamp_ms);
    std::vector<const AddFile*> adds;
    std::vector<const RemoveFile*> removes;
    std::vector<const AddCdcFile*> cdcs;
    for (const auto& action : actions) {
      if (const auto* add = std::get_if<AddFile>(&action)) {
        adds.push_back(add);
      } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
        removes.push_back(remove);
      } else if (const auto* cdc = std::get_if<AddCdcFile>(&action)) {
        cdcs.push_back(cdc);
      }
    }
    if (in_range) {
      std::string version_sql = std::to_string(ts.version);
      std::string ts_sql =
          fmt::format("timezone('UTC', epoch_ms(CAST({} AS BIGINT)))", ts.timestamp_ms);
      auto spec_with = [&](const std::string& change_type_expr) {
        internal::SelectSpec spec = base;
        spec.extras = {{"_change_type", change_type_expr, "VARCHAR"},
                       {"_commit_version", version_sql, "BIGINT"},
                       {"_commit_timestamp", ts_sql, "TIMESTAMP WITH TIME ZONE"}};
        return spec;
      };
      if (!cdcs.empty()) {
        std::vector<FileRead> reads;
        for (const auto* cdc : cdcs) {
          FileRead read;
          TRIB_ASSIGN_OR_RETURN(read.path,
                                ResolveExisting(*end_snapshot, cdc->path, ts.version));
          read.partition_values = cdc->partition_values;
          reads.push_back(std::move(read));
        }
        TRIB_ASSIGN_OR_RETURN(
            std::string part,
            internal::BuildFilesSelect(connection, spec_with("\"_change_type\""), reads));
        parts.push_back(std::move(part));
      } else {
        std::vector<FileRead> inserts;
        std::vector<FileRead> deletes;
        for (const auto* add : adds) {
          if (!add->data_change) {
            continue;
          }
          FileRead read;
          TRIB_ASSIGN_OR_RETURN(read.path,
                                ResolveExisting(*end_snapshot, add->path, ts.version));
          read.partition_values = add->partition_values;
          TRIB_ASSIGN_OR_RETURN(auto now_deleted,
                                DeletedRows(table_root, add->deletion_vector));
          auto same_path =
              std::find_if(removes.begin(), removes.end(),
                           [&](const RemoveFile* r) { return r->path == add->path; });
          if (same_path != removes.end()) {
            // A DV update on a file that stays: the newly deleted rows are deletes.
            TRIB_ASSIGN_OR_RETURN(auto before_deleted,
                                  DeletedRows(table_root, (*same_path)->deletion_vector));
            std::vector<uint64_t> diff;
            std::set_difference(now_deleted.begin(), now_deleted.end(),
                                before_deleted.begin(), before_deleted.end(),
                                std::back_inserter(diff));
            read.filter = FileRead::RowFilter::kOnly;
            read.rows = std::move(diff);
            deletes.push_back(std::move(read));
            continue;
          }
          if (!now_deleted.empty()) {
            read.filter = FileRead::RowFilter::kExclude;
            read.rows = std::move(now_deleted);
          }
          inserts.push_back(std::move(read));
        }
        for (const auto* remove : removes) {
          if (!remove->data_change) {
            continue;
          }
          bool re_added = std::any_of(adds.begin(), adds.end(), [&](const AddFile* a) {
            return a->path == remove->path;
          });
          if (re_added) {
            continue;
          }
          FileRead read;
          TRIB_ASSIGN_OR_RETURN(read.path,
                                ResolveExisting(*end_snapshot, remove->path, ts.version));
          auto known = live.find(remove->path);
          if (remove->partition_values) {
            read.partition_values = *remove->partition_values;
          } else if (known != live.end()) {
            read.partition_values = known->second.partition_values;
          }
          auto dv = remove->deletion_vector;
          if (!dv && known != live.end()) {
            dv = known->second.deletion_vector;
          }
          TRIB_ASSIGN_OR_RETURN(auto deleted, DeletedRows(table_root, dv));
          if (!deleted.empty()) {
            read.filter = FileRead::RowFilter::kExclude;
            read.rows = std::move(deleted);
          }
          deletes.push_back(std::move(read));
        }
        if (!inserts.empty()) {
          TRIB_ASSIGN_OR_RETURN(
              std::string part,
              internal::BuildFilesSelect(connection, spec_with("'insert'"), inserts));
          parts.push_back(std::move(part));
        }
        if (!deletes.empty()) {
          TRIB_ASSIGN_OR_RETURN(
              std::string part,
              internal::BuildFilesSelect(connection, spec_with("'delete'"), deletes));
          parts.push_back(std::move(part));
        }
      }
    }
    // Advance the live-file state.
    for (const auto* remove : removes) {
      live.erase(remove->path);
    }
    for (const auto* add : adds) {
      live[add->path] = *add;
    }
  }
  if (parts.empty()) {
    internal::SelectSpec spec = base;
    spec.extras = {{"_change_type", "NULL", "VARCHAR"},
                   {"_commit_version", "NULL", "BIGINT"},
                   {"_commit_timestamp", "NULL", "TIMESTAMP WITH TIME ZONE"}};
    return internal::BuildFilesSelect(connection, spec, {});
  }
  std::string out;
  for (const auto& part : parts) {
    out += out.empty() ? part : "\nUNION ALL\n" + part;
  }
  return out;
}

}  // namespace tributary::lake::delta
