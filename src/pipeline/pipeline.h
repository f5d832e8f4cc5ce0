#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "core/change_source.h"
#include "core/result.h"
#include "pipeline/gold_stage.h"
#include "pipeline/metrics.h"
#include "pipeline/silver_stage.h"

namespace tributary::pipeline {

/// Everything `tributary run` needs besides the sources. Nothing can change while running.
struct PipelineOptions {
  /// Lake root: bronze/all_events, silver/<table>, gold/<model> under it. Required.
  std::filesystem::path lake_root;
  /// Bronze batches commit at any of these (whole source transactions only).
  /// Defaults: 10000 rows, 16 MiB, 50 ms.
  int64_t batch_max_rows = 10000;
  int64_t batch_max_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds batch_interval{50};
  /// While a backlog waits (a source's input keeps the bronze thread busy from one commit
  /// to the next) the interval doubles after each commit up to this, and returns to
  /// batch_interval once caught up: bigger commits spread each stage's fixed cost per
  /// commit over more rows. Equal to batch_interval: no adaptation. Default: 500 ms.
  std::chrono::milliseconds batch_interval_max{500};
  /// delta.checkpointInterval of the tables created. Default: 10.
  int64_t checkpoint_interval = 10;
  CompactionOptions compaction;
  /// Gold models refresh at most this often after silver changed. Default: 1 s.
  std::chrono::milliseconds gold_min_refresh_interval{1000};
  std::vector<SilverTableOptions> silver_tables;
  std::vector<GoldModel> gold_models;
  /// Process everything up to the sources' current positions, then return. Default: false.
  bool once = false;
  /// Longest wait for a source's next batch. Default: 50 ms.
  std::chrono::milliseconds poll_timeout{50};
  /// A source's capture thread stops reading while this many events it read wait for
  /// the bronze thread (the queue may exceed it by one batch). Default: 20000.
  int64_t queue_max_events = 20000;
  /// The bronze thread waits while this many bronze commits wait for the silver thread
  /// (each holds up to BronzeOptions::max_events_kept events in memory). Default: 2.
  int64_t silver_queue_commits = 2;
};

/// Nice value of the bronze maintenance thread (Linux: per thread): compaction gets the
/// CPU the capture, bronze and silver threads leave.
inline constexpr int kMaintenanceNice = 10;

/// A source and how to tell, for --once, that it is caught up.
struct PipelineSource {
  std::unique_ptr<core::ChangeSource> source;
  /// Called after an empty Poll() in --once mode with how long the source has been idle;
  /// true when everything up to the position the source had at start was returned.
  /// Default (unset): caught up after 1 s idle.
  std::function<Result<bool>(std::chrono::milliseconds idle_for)> caught_up;
};

/// capture -> bronze -> silver -> gold in one process (DESIGN.md "Data flow", ADR 0003).
///
/// Run():
///   1. opens one BronzeSink per source (creating bronze/all_events), the silver stage
///      (replaying bronze versions silver has not applied) and the gold stage;
///   2. starts each source after the position bronze holds for it;
///   3. runs the stages on their own threads, so that reading, the bronze commit and the
///      silver apply overlap:
///      - one capture thread per source polls it into a queue (at most queue_max_events
///        events) and acknowledges the positions the bronze thread posts to it (a
///        ChangeSource is driven by one thread only);
///      - the bronze thread (the caller's) stages the queued batches and commits when a
///        batch is due (BronzeSink: batch_max_rows, _bytes, batch_interval); after a
///        commit it posts the commit's resume position to the capture thread (DESIGN.md
///        invariant 1: acknowledged only after the bronze commit holding it) and queues
///        the commit for silver (at most silver_queue_commits waiting);
///      - the silver thread applies the commits in bronze version order and runs silver
///        maintenance when no commit waits; gold refreshes in its own thread when silver
///        moved and gold_min_refresh_interval passed;
///      - a maintenance thread at a lower OS priority (nice kMaintenanceNice) checks
///        bronze for compaction every compaction.check_every_commits * 4 bronze commits;
///        while the pipeline is behind (some source's batch interval is above
///        batch_interval) the check waits until 4 * compaction.min_files bronze commits
///        passed since the last one;
///   4. on stop (or, with once, when every source is caught up and its queue is empty):
///      stops the capture threads, stages and commits what they read, lets silver apply
///      every commit, acknowledges the last positions, records silver progress, refreshes
///      gold one last time (once) and closes the sources. After a failure of any stage
///      the others stop; bronze versions silver did not apply are replayed on restart.
class Pipeline {
 public:
  static Result<std::unique_ptr<Pipeline>> Create(PipelineOptions options,
                                                  std::vector<PipelineSource> sources);
  ~Pipeline();

  /// Runs until `stop` is requested (or caught up with once). Errors: the first
  /// failure of a source, a commit or the silver stage (gold failures are logged and
  /// counted, not fatal).
  Status Run(std::stop_token stop);

  /// Live counters (safe from any thread).
  const PipelineMetrics& metrics() const;

 private:
  class Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::pipeline
