#pragma once

#include <chrono>
#include <cstdint>

namespace tributary::pipeline::internal {

/// The bronze batch interval of one source, lengthened while a backlog waits (issue 5).
///
/// Each bronze commit, and each silver apply of it, pays fixed costs (DuckDB statements,
/// a Parquet file per partition, a Delta commit), so while input waits bigger commits
/// give more rows/s; at light load the base interval keeps latency low. The bronze
/// thread tells it when it found the source's capture queue empty (NoteIdle) and, after
/// each commit, whether input was waiting (OnCommit). The pipeline counts as behind after
/// a commit when input was waiting when it closed and the bronze thread never found the
/// queue empty since the previous commit: a backlog (also when silver is the slower
/// stage: the bronze thread then waits for room in silver's queue while input piles up),
/// not input that arrived during a commit at light load. A slow commit alone does not
/// count (bench/pipeline_bench on a loaded machine: commits starved of CPU at light load
/// lengthened the interval and p99 latency passed 500 ms). Then the interval doubles, up
/// to `max`. After a commit that is not behind, or when the queue is found empty, the
/// interval returns to `base` at once. Pure bookkeeping: no clock, no locking (the
/// bronze thread owns it).
class AdaptiveBatchInterval {
 public:
  /// `base` >= 1 ms; `max` below `base` is taken as `base` (adaptation off).
  AdaptiveBatchInterval(std::chrono::milliseconds base, std::chrono::milliseconds max);

  /// The interval for the batch being staged.
  std::chrono::milliseconds current() const { return current_; }
  /// Whether the last commit found a backlog (current() > base).
  bool behind() const { return current_ > base_; }

  /// The bronze thread found this source's capture queue empty: the backlog is drained,
  /// so the interval returns to `base` now, not only after the next commit. Rows still
  /// staged are the backlog's tail: they commit `base` after their first event (which has
  /// usually passed) instead of waiting out a lengthened interval (bench/pipeline_bench
  /// case b: the last 2,000 rows of a catch-up waited ~500 ms, an eighth of the run).
  void NoteIdle() {
    idle_ = true;
    current_ = base_;
  }

  /// A commit closed; `input_waiting`: events of this source were queued or taken but not
  /// staged yet. Returns the interval for the next batch.
  std::chrono::milliseconds OnCommit(bool input_waiting);

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  bool idle_ = false;
};

/// When the maintenance thread checks bronze for compaction: every `every` bronze commits,
/// but while the pipeline is behind it defers the check (a compaction rewrites every small
/// file and takes CPU from the stages) until `defer_limit` commits passed since the last
/// check. Each bronze commit adds at least one file, so a deferred table holds at most
/// about defer_limit commits' files beyond what the last check left. Pure bookkeeping; the
/// caller guards it.
class CompactionSchedule {
 public:
  enum class Decision { kWait, kDefer, kCheck };

  /// `every` >= 1; `defer_limit` below `every` is taken as `every` (no deferral).
  CompactionSchedule(int64_t every, int64_t defer_limit);

  /// With `commits` bronze commits so far and the pipeline `behind` or not: kWait (not
  /// due), kDefer (due, deferred) or kCheck (check now, then call Checked()).
  Decision Decide(int64_t commits, bool behind) const;
  /// A check ran at `commits` bronze commits.
  void Checked(int64_t commits) { checked_at_ = commits; }

  int64_t every() const { return every_; }
  int64_t defer_limit() const { return defer_limit_; }

 private:
  int64_t every_;
  int64_t defer_limit_;
  int64_t checked_at_ = 0;
};

}  // namespace tributary::pipeline::internal
