#include "lake/delta/checkpoint_writer.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lake/delta/commit.h"
#include "lake/delta/internal/write_util.h"
#include "lake/delta/log_cleanup.h"
#include "lake/delta/snapshot_cache.h"

namespace tributary::lake::delta {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The classic checkpoint schema (PROTOCOL.md "Checkpoint Schema"), as DuckDB types for
// read_json: each row has exactly one non-null action column.
constexpr std::string_view kPartitionMap = "MAP(VARCHAR, VARCHAR)";

std::string CheckpointColumns() {
  std::string dv =
      "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, "
      "sizeInBytes INTEGER, cardinality BIGINT)";
  return fmt::format(
      "{{'txn': 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)', "
      "'add': 'STRUCT(path VARCHAR, partitionValues {0}, size BIGINT, modificationTime "
      "BIGINT, dataChange BOOLEAN, stats VARCHAR, tags {0}, deletionVector {1}, baseRowId "
      "BIGINT, defaultRowCommitVersion BIGINT)', "
      "'remove': 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, "
      "extendedFileMetadata BOOLEAN, partitionValues {0}, size BIGINT, tags {0}, "
      "deletionVector {1}, baseRowId BIGINT, defaultRowCommitVersion BIGINT)', "
      "'metaData': 'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format "
      "STRUCT(provider VARCHAR, options {0}), schemaString VARCHAR, partitionColumns "
      "VARCHAR[], configuration {0}, createdTime BIGINT)', "
      "'protocol': 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, "
      "readerFeatures VARCHAR[], writerFeatures VARCHAR[])', "
      "'domainMetadata': 'STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)'}}",
      kPartitionMap, dv);
}

}  // namespace

int64_t CheckpointInterval(const Metadata& metadata) {
  auto value = metadata.Config("delta.checkpointInterval");
  if (value) {
    try {
      int64_t interval = std::stoll(*value);
      if (interval > 0) {
        return interval;
      }
    } catch (const std::exception&) {
    }
  }
  return 10;
}

Result<int64_t> ParseIntervalMillis(std::string_view value) {
  std::string text(value);
  for (auto& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view rest = text;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  if (rest.rfind("interval", 0) == 0) {
    rest.remove_prefix(8);
  }
  int64_t number = 0;
  char unit[32] = {0};
  std::string body(rest);
  long long parsed = 0;
  if (std::sscanf(body.c_str(), " %lld %31s", &parsed, unit) != 2 || parsed < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot parse interval '{}' (expected e.g. 'interval 7 days')", value);
  }
  number = static_cast<int64_t>(parsed);
  std::string_view u = unit;
  if (!u.empty() && u.back() == 's') {
    u.remove_suffix(1);
  }
  int64_t factor = 0;
  if (u == "week") {
    factor = 7LL * 24 * 3600 * 1000;
  } else if (u == "day") {
    factor = 24LL * 3600 * 1000;
  } else if (u == "hour") {
    factor = 3600LL * 1000;
  } else if (u == "minute") {
    factor = 60LL * 1000;
  } else if (u == "second") {
    factor = 1000;
  } else if (u == "millisecond") {
    factor = 1;
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "unknown unit '{}' in interval '{}'", unit,
                     value);
  }
  return number * factor;
}

Result<int64_t> DeletedFileRetentionMillis(const Metadata& metadata) {
  auto value = metadata.Config("delta.deletedFileRetentionDuration");
  if (!value) {
    return int64_t{7LL * 24 * 3600 * 1000};
  }
  return std::move(ParseIntervalMillis(*value))
      .WithContext("reading table property delta.deletedFileRetentionDuration");
}

namespace {

// read_json's maximum_object_size for lines of at most `longest` bytes: a power of two
// with room to spare, at least 1 MiB (DuckDB's buffer is a multiple of it).
uint64_t MaximumObjectSize(size_t longest) {
  uint64_t size = uint64_t{1} << 20;
  while (size < static_cast<uint64_t>(longest) + 2) {
    size <<= 1;
  }
  return size;
}

}  // namespace

std::optional<std::string> CheckpointProblem(const Result<CheckpointInfo>& checkpoint,
                                             int64_t version) {
  if (!checkpoint.ok()) {
    return fmt::format("checkpoint of version {} failed: {}", version,
                       checkpoint.status().ToString());
  }
  if (checkpoint->cleanup_error) {
    return fmt::format("log cleanup after the checkpoint of version {} failed: {}", version,
                       *checkpoint->cleanup_error);
  }
  return std::nullopt;
}

Result<CheckpointInfo> WriteCheckpoint(sql::Connection& conn, const Snapshot& snapshot) {
  const fs::path log_dir = DeltaLogDir(snapshot.table_root());
  const int64_t version = snapshot.version();
  TRIB_ASSIGN_OR_RETURN(int64_t retention, DeletedFileRetentionMillis(snapshot.metadata()));
  const int64_t tombstone_cutoff = NowMillis() - retention;

  // The actions go to a temp NDJSON file that DuckDB converts to Parquet with the
  // checkpoint schema: no per-row work in C++ beyond serializing the actions.
  const std::string uuid = internal::RandomUuid();
  const fs::path json_path = log_dir / fmt::format(".checkpoint-{}.json.tmp", uuid);
  const fs::path parquet_tmp = log_dir / fmt::format(".checkpoint-{}.parquet.tmp", uuid);
  CheckpointInfo info;
  info.version = version;
  // read_json buffers about twice maximum_object_size at once: sized from the longest
  // action written, not a fixed 1 GiB (which failed with "Out of Memory" under the
  // pipeline's 512 MB stage limit, so no table it wrote was ever checkpointed).
  size_t longest_line = 0;
  {
    std::ofstream out(json_path, std::ios::binary | std::ios::trunc);
    if (!out) {
      return MakeError(ErrorCode::kIo, "cannot create '{}'", json_path.string());
    }
    auto write = [&](const Action& action) {
      const std::string line = SerializeAction(action);
      longest_line = std::max(longest_line, line.size());
      out << line << '\n';
      ++info.num_actions;
    };
    write(snapshot.protocol());
    write(snapshot.metadata());
    for (const auto& [app_id, txn] : snapshot.app_transactions()) {
      write(txn);
    }
    for (const auto& [domain, metadata] : snapshot.domain_metadata()) {
      write(metadata);
    }
    for (const auto& add : snapshot.files()) {
      AddFile copy = add;
      copy.data_change = false;
      write(copy);
      ++info.num_add_files;
    }
    for (const auto& remove : snapshot.tombstones()) {
      if (remove.deletion_timestamp.value_or(0) <= tombstone_cutoff) {
        continue;
      }
      RemoveFile copy = remove;
      copy.data_change = false;
      copy.stats.reset();
      write(copy);
    }
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(json_path, ec);
      return MakeError(ErrorCode::kIo, "cannot write '{}'", json_path.string());
    }
  }
  Status copied = conn.Execute(fmt::format(
      "COPY (SELECT txn, add, remove, metaData, protocol, domainMetadata FROM read_json({}, "
      "format = 'newline_delimited', columns = {}, maximum_object_size = {})) TO {} "
      "(FORMAT parquet, COMPRESSION 'snappy')",
      sql::QuoteLiteral(json_path.string()), CheckpointColumns(),
      MaximumObjectSize(longest_line),
      sql::QuoteLiteral(parquet_tmp.string())));
  std::error_code ec;
  fs::remove(json_path, ec);
  if (!copied.ok()) {
    fs::remove(parquet_tmp, ec);
    return std::move(copied).status().AddContext(
        fmt::format("writing checkpoint of version {} of '{}'", version,
                    snapshot.table_root().string()));
  }
  // Durable before it is renamed into place and named by _last_checkpoint (whose
  // replacement fsyncs the log directory, and with it the rename).
  if (Status synced = FsyncFile(parquet_tmp); !synced.ok()) {
    fs::remove(parquet_tmp, ec);
    return std::move(synced).status();
  }
  const fs::path target = log_dir / fmt::format("{:020d}.checkpoint.parquet", version);
  fs::rename(parquet_tmp, target, ec);
  if (ec) {
    fs::remove(parquet_tmp, ec);
    return MakeError(ErrorCode::kIo, "cannot rename checkpoint to '{}': {}", target.string(),
                     ec.message());
  }
  info.size_in_bytes = static_cast<int64_t>(fs::file_size(target, ec));
  json last = {{"version", version},
               {"size", info.num_actions},
               {"sizeInBytes", info.size_in_bytes},
               {"numOfAddFiles", info.num_add_files}};
  TRIB_RETURN_IF_ERROR(WriteFileReplace(log_dir / "_last_checkpoint", last.dump()));
  // PROTOCOL.md "Metadata Cleanup", after the checkpoint as Spark's doLogCleanup: the
  // checkpoint is durable now, so a failed cleanup only leaves files for the next one.
  auto cleanup =
      CleanUpExpiredLogs(snapshot.table_root(), snapshot.metadata(), NowMillis());
  if (cleanup.ok()) {
    info.log_files_deleted = cleanup->files_deleted;
    if (cleanup->files_deleted > 0) {
      info.log_oldest_version_kept = cleanup->oldest_version_kept;
    }
  } else {
    info.cleanup_error = cleanup.status().ToString();
  }
  return info;
}

Result<CheckpointInfo> WriteCheckpointAt(sql::Connection& conn, const fs::path& table_root,
                                         int64_t version) {
  // A writer checkpoints the version it just committed: the write snapshot, advanced by
  // reading that commit, is it, without listing the log.
  if (auto latest = LatestSnapshotForWrite(table_root, &conn);
      latest.ok() && (*latest)->version() == version) {
    return WriteCheckpoint(conn, **latest);
  }
  SnapshotOptions options;
  options.version = version;
  options.connection = &conn;
  TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(table_root, options));
  return WriteCheckpoint(conn, *snapshot);
}

}  // namespace tributary::lake::delta
