#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace tributary::pipeline {

/// Counters of a running pipeline, for logs, `run --once` summaries and (later) the
/// dashboard. Every field is an atomic updated by the stage that owns it and may be read
/// from any thread. Counts are totals since the process started (not persisted).
struct PipelineMetrics {
  /// Events accepted by the bronze sinks (after dropping replays of committed input).
  std::atomic<int64_t> bronze_events{0};
  /// Replayed events dropped because bronze already held them.
  std::atomic<int64_t> bronze_replayed_events_dropped{0};
  std::atomic<int64_t> bronze_commits{0};
  /// Latest committed bronze version (-1 before the first).
  std::atomic<int64_t> bronze_version{-1};
  /// Rows upserted / deleted in silver tables (after per-key collapse).
  std::atomic<int64_t> silver_rows_upserted{0};
  std::atomic<int64_t> silver_rows_deleted{0};
  std::atomic<int64_t> silver_commits{0};
  /// The bronze version every silver table has applied (-1 before the first).
  std::atomic<int64_t> silver_bronze_version{-1};
  /// Rows that failed a validation rule (silver/_quarantine).
  std::atomic<int64_t> quarantined_rows{0};
  /// Events that could not be decoded or keyed (silver/_dead_letter).
  std::atomic<int64_t> dead_letter_rows{0};
  std::atomic<int64_t> gold_refreshes{0};
  std::atomic<int64_t> gold_failures{0};
  /// The bronze version the gold models were last computed at (-1 before the first).
  std::atomic<int64_t> gold_bronze_version{-1};
  std::atomic<int64_t> compactions{0};
  /// Bronze compaction checks the maintenance thread put off because the pipeline was
  /// behind (PipelineOptions::batch_interval_max).
  std::atomic<int64_t> compaction_checks_deferred{0};
  /// The bronze batch interval in ms (the longest of the sources'): batch_interval at
  /// light load, up to batch_interval_max while a backlog waits.
  std::atomic<int64_t> bronze_batch_interval_ms{0};
  /// Source commit time (us since epoch) of the newest event applied to silver, and the
  /// wall time it was applied: their difference is the silver latency of that event.
  std::atomic<int64_t> silver_last_commit_time_us{0};
  std::atomic<int64_t> silver_last_applied_time_us{0};

  /// One line: "bronze_events=.. silver_commits=.. ...".
  std::string Summary() const;
};

}  // namespace tributary::pipeline
