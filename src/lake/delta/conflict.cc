#include "lake/delta/conflict.h"

#include <utility>
#include <variant>

namespace tributary::lake::delta {

namespace {

bool PartitionMatches(const PartitionValues& file, const PartitionValues& filter) {
  for (const auto& [column, value] : filter) {
    auto it = file.find(column);
    std::optional<std::string> file_value =
        it == file.end() ? std::nullopt : it->second;
    if (file_value != value) {
      return false;
    }
  }
  return true;
}

bool InReadScope(const ReadSet& read_set, const AddFile& add) {
  switch (read_set.scope) {
    case ReadSet::Scope::kNone:
      return false;
    case ReadSet::Scope::kAll:
      return true;
    case ReadSet::Scope::kPartitions:
      for (const auto& partition : read_set.partitions) {
        if (PartitionMatches(add.partition_values, partition)) {
          return true;
        }
      }
      return false;
  }
  return true;
}

}  // namespace

TransactionSummary SummarizeTransaction(const std::vector<Action>& actions,
                                        ReadSet read_set) {
  TransactionSummary summary;
  for (const auto& action : actions) {
    if (const auto* remove = std::get_if<RemoveFile>(&action)) {
      summary.removed_paths.insert(remove->path);
    } else if (const auto* txn = std::get_if<SetTransaction>(&action)) {
      summary.written_app_ids.insert(txn->app_id);
      read_set.app_ids.insert(txn->app_id);
    } else if (std::holds_alternative<Metadata>(action) ||
               std::holds_alternative<Protocol>(action)) {
      summary.changes_metadata = true;
    }
  }
  summary.read_set = std::move(read_set);
  return summary;
}

// Delta Spark ConflictChecker.checkConflicts, WriteSerializable: protocol, metadata,
// files added in the read scope by non-blind-append commits, deleted-read and
// deleted-deleted overlaps, application transaction ids.
Status CheckConflict(const TransactionSummary& txn, int64_t winning_version,
                     const std::vector<Action>& winning_actions) {
  bool winner_blind_append = false;
  bool winner_has_data_change = false;
  for (const auto& action : winning_actions) {
    if (const auto* info = std::get_if<CommitInfo>(&action)) {
      winner_blind_append = info->is_blind_append.value_or(false);
    }
  }
  for (const auto& action : winning_actions) {
    if (std::holds_alternative<Protocol>(action)) {
      return MakeError(ErrorCode::kConflict,
                       "concurrent commit {} changed the table protocol (read version {})",
                       winning_version, txn.read_set.read_version);
    }
    if (std::holds_alternative<Metadata>(action)) {
      return MakeError(ErrorCode::kConflict,
                       "concurrent commit {} changed the table metadata (read version {})",
                       winning_version, txn.read_set.read_version);
    }
    if (const auto* add = std::get_if<AddFile>(&action)) {
      winner_has_data_change = winner_has_data_change || add->data_change;
      if (add->data_change && !winner_blind_append && InReadScope(txn.read_set, *add)) {
        return MakeError(ErrorCode::kConflict,
                         "concurrent commit {} added file '{}' in data this transaction "
                         "read at version {} (ConcurrentAppend)",
                         winning_version, add->path, txn.read_set.read_version);
      }
    } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
      winner_has_data_change = winner_has_data_change || remove->data_change;
      if (txn.read_set.read_files.count(remove->path) > 0) {
        return MakeError(ErrorCode::kConflict,
                         "concurrent commit {} removed file '{}' that this transaction "
                         "read at version {} (ConcurrentDeleteRead)",
                         winning_version, remove->path, txn.read_set.read_version);
      }
      if (txn.removed_paths.count(remove->path) > 0) {
        return MakeError(ErrorCode::kConflict,
                         "concurrent commit {} also removed file '{}' (ConcurrentDeleteDelete)",
                         winning_version, remove->path);
      }
    } else if (const auto* set_txn = std::get_if<SetTransaction>(&action)) {
      if (txn.read_set.app_ids.count(set_txn->app_id) > 0) {
        return MakeError(ErrorCode::kConflict,
                         "concurrent commit {} wrote txn version {} for appId '{}' that this "
                         "transaction depends on (ConcurrentTransaction)",
                         winning_version, set_txn->version, set_txn->app_id);
      }
    }
  }
  if (txn.changes_metadata && winner_has_data_change) {
    return MakeError(ErrorCode::kConflict,
                     "this transaction changes the table metadata but concurrent commit {} "
                     "changed data after read version {}",
                     winning_version, txn.read_set.read_version);
  }
  return OkStatus();
}

}  // namespace tributary::lake::delta
