#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"

namespace tributary::lake::delta {

/// What a transaction depended on, for optimistic conflict detection. Modelled on Delta
/// Spark's ConflictChecker at the WriteSerializable isolation level (the Delta default):
/// PROTOCOL.md leaves conflict rules to writers, and these are the ones Spark and delta-rs
/// implement.
struct ReadSet {
  /// The table version the transaction read; -1 when the transaction creates the table.
  int64_t read_version = -1;

  /// Which existing data the transaction's output depended on.
  enum class Scope {
    kNone,        ///< a blind append: nothing read
    kPartitions,  ///< rows in the partitions listed in `partitions`
    kAll,         ///< any row of the table (unpartitioned merge/delete/update/overwrite)
  };
  Scope scope = Scope::kNone;
  /// For kPartitions: the partitions read (partition column -> serialized value).
  std::vector<PartitionValues> partitions;

  /// Paths (as written in the log) of the files whose rows the transaction read.
  std::set<std::string> read_files;

  /// Application ids whose `txn` version the transaction depends on (every appId the
  /// transaction writes is added automatically).
  std::set<std::string> app_ids;
};

/// A summary of the transaction being committed.
struct TransactionSummary {
  ReadSet read_set;
  /// Paths of the files the transaction removes.
  std::set<std::string> removed_paths;
  /// Application ids of the `txn` actions the transaction writes.
  std::set<std::string> written_app_ids;
  /// True if the transaction changes the protocol or metadata (create, schema change).
  bool changes_metadata = false;
};

/// Builds the summary of a transaction from its actions and read set.
TransactionSummary SummarizeTransaction(const std::vector<Action>& actions,
                                        ReadSet read_set);

/// Checks one commit that won the race (`winning_version`, its actions) against the
/// transaction. Returns OkStatus() when the transaction can be retried at the next version.
///
/// Errors (all kConflict, naming `winning_version` and the file or appId involved):
///  - the winning commit changed the protocol or the metadata;
///  - the transaction changes metadata and the winner changed anything;
///  - the winner (not a blind append) added data files in the scope the transaction read;
///  - the winner removed a file the transaction read or removes;
///  - the winner wrote a `txn` for an appId the transaction depends on.
Status CheckConflict(const TransactionSummary& txn, int64_t winning_version,
                     const std::vector<Action>& winning_actions);

}  // namespace tributary::lake::delta
