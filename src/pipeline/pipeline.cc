#include "pipeline/pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lake/delta/snapshot.h"
#include "pipeline/bronze_sink.h"
#include "pipeline/database_options.h"
#include "pipeline/internal/load_pacing.h"
#include "pipeline/types.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using core::SourcePosition;
using namespace std::chrono_literals;

namespace {

/// Names the calling thread for `top -H`, perf and debuggers (at most 15 characters).
void NameThread(const char* name) { (void)pthread_setname_np(pthread_self(), name); }

/// Lowers the calling thread's CPU priority to `nice` (Linux applies setpriority with a
/// thread id to that thread only). Failure is logged: the thread runs at normal priority.
void LowerThreadPriority(int nice) {
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, nice) != 0) {
    spdlog::debug("cannot lower the priority of thread {} to nice {}", tid, nice);
  }
}

std::chrono::milliseconds ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - since);
}

}  // namespace

class Pipeline::Impl {
 public:
  Impl(PipelineOptions options, std::vector<PipelineSource> sources)
      : options_(std::move(options)),
        sources_(std::move(sources)),
        compaction_schedule_(options_.compaction.check_every_commits * 4,
                             options_.compaction.min_files * 4) {}

  fs::path bronze_root() const { return options_.lake_root / "bronze" / "all_events"; }

  Status Open() {
    captures_ = std::vector<CaptureState>(sources_.size());
    for (size_t i = 0; i < sources_.size(); ++i) {
      pacers_.emplace_back(options_.batch_interval, options_.batch_interval_max);
    }
    metrics_.bronze_batch_interval_ms = pacers_.front().current().count();
    for (auto& source : sources_) {
      BronzeOptions bronze;
      bronze.table_root = bronze_root();
      bronze.source = source.source->name();
      bronze.max_rows = options_.batch_max_rows;
      bronze.max_bytes = options_.batch_max_bytes;
      bronze.max_interval = options_.batch_interval;
      bronze.checkpoint_interval = options_.checkpoint_interval;
      TRIB_ASSIGN_OR_RETURN(auto sink, BronzeSink::Open(std::move(bronze), &metrics_));
      sinks_.push_back(std::move(sink));
    }
    SilverOptions silver;
    silver.silver_root = options_.lake_root / "silver";
    silver.bronze_root = bronze_root();
    silver.tables = options_.silver_tables;
    silver.checkpoint_interval = options_.checkpoint_interval;
    silver.compaction = options_.compaction;
    // Compaction checks and progress commits run when the silver thread is idle (or
    // once overdue), not between a bronze commit and its silver apply.
    silver.maintain_in_apply = false;
    TRIB_ASSIGN_OR_RETURN(silver_, SilverStage::Open(std::move(silver), &metrics_));
    if (!options_.gold_models.empty()) {
      GoldOptions gold;
      gold.lake_root = options_.lake_root;
      gold.models = options_.gold_models;
      gold.checkpoint_interval = options_.checkpoint_interval;
      TRIB_ASSIGN_OR_RETURN(gold_, GoldStage::Open(std::move(gold), &metrics_));
    }
    return OkStatus();
  }

  Status CatchUpSilver() {
    std::error_code ec;
    if (!fs::exists(bronze_root() / "_delta_log", ec)) {
      return OkStatus();
    }
    TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(bronze_root()));
    if (latest && *latest > silver_->position()) {
      spdlog::info("silver: replaying bronze versions {}..{}", silver_->position() + 1,
                   *latest);
      TRIB_RETURN_IF_ERROR(silver_->CatchUp(*latest));
    }
    if (latest) {
      metrics_.bronze_version = *latest;
    }
    return OkStatus();
  }

  // Bronze commit of source `index` (bronze thread): the acknowledgement goes to the
  // source's capture thread, the commit to the silver thread. `more_taken`: batches of
  // the source taken from its queue are not staged yet (input is waiting).
  Status CommitSource(size_t index, bool more_taken = false) {
    const auto started = std::chrono::steady_clock::now();
    TRIB_ASSIGN_OR_RETURN(auto commit, sinks_[index]->Commit());
    if (!commit) {
      return OkStatus();
    }
    if (commit->version >= 0) {
      spdlog::debug("bronze version {}: {} events, bronze commit {} ms, interval {} ms",
                    commit->version, commit->event_count, ElapsedMs(started).count(),
                    pacers_[index].current().count());
    }
    if (!commit->resume_position.empty()) {
      // DESIGN.md invariant 1: acknowledged only after the bronze commit holding it.
      PostAcknowledgement(index, commit->resume_position);
    }
    if (commit->version >= 0) {
      NoteBronzeCommit();
      TRIB_RETURN_IF_ERROR(EnqueueSilver(std::move(*commit)));
    }
    AdaptInterval(index, more_taken);
    return OkStatus();
  }

  // After a commit of source `index`: lengthens or resets its batch interval
  // (AdaptiveBatchInterval) and tells the maintenance thread whether the pipeline is
  // behind.
  void AdaptInterval(size_t index, bool more_taken) {
    bool queued = false;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      queued = !captures_[index].batches.empty();
    }
    const auto before = pacers_[index].current();
    pacers_[index].OnCommit(more_taken || queued);
    PublishInterval(index, before);
  }

  // After pacers_[index] changed from `before`: passes its interval to the source's sink
  // and tells the maintenance thread whether the pipeline is behind.
  void PublishInterval(size_t index, std::chrono::milliseconds before) {
    const auto interval = pacers_[index].current();
    if (interval == before) {
      return;
    }
    sinks_[index]->set_max_interval(interval);
    if (interval > options_.batch_interval && before == options_.batch_interval) {
      spdlog::debug("bronze: source {} is behind, batch interval {} ms",
                    sources_[index].source->name(), interval.count());
    } else if (interval == options_.batch_interval) {
      spdlog::debug("bronze: source {} caught up, batch interval {} ms",
                    sources_[index].source->name(), interval.count());
    }
    auto longest = std::max_element(
        pacers_.begin(), pacers_.end(),
        [](const auto& a, const auto& b) { return a.current() < b.current(); });
    metrics_.bronze_batch_interval_ms = longest->current().count();
    const bool behind = longest->behind();
    {
      std::lock_guard<std::mutex> lock(maintenance_mutex_);
      if (behind == pipeline_behind_) {
        return;
      }
      pipeline_behind_ = behind;
    }
    maintenance_cv_.notify_all();
  }

  // Silver thread: applies one bronze commit (in bronze version order).
  Status ApplySilver(const BronzeCommit& commit) {
    const auto started = std::chrono::steady_clock::now();
    TRIB_RETURN_IF_ERROR(silver_->ApplyCommit(commit));
    spdlog::debug("silver applied bronze version {} in {} ms", commit.version,
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count());
    NotifyGold();
    return OkStatus();
  }

  // Counts a bronze commit for the maintenance thread.
  void NoteBronzeCommit() {
    {
      std::lock_guard<std::mutex> lock(maintenance_mutex_);
      ++bronze_commits_;
    }
    maintenance_cv_.notify_all();
  }

  // Maintenance thread: compacts bronze's small files every few bronze commits, off the
  // capture -> bronze -> silver path (a compaction rewrites files with dataChange=false;
  // bronze appends are blind appends, so neither conflicts with the other), deferred
  // while the pipeline is behind (CompactionSchedule) and at a lower OS priority.
  // Failures are logged; the next check retries.
  void MaintenanceLoop(std::stop_token stop) {
    LowerThreadPriority(kMaintenanceNice);
    bool deferred = false;  // the check now due was counted as deferred
    while (!stop.stop_requested()) {
      {
        std::unique_lock<std::mutex> lock(maintenance_mutex_);
        maintenance_cv_.wait(lock, stop, [&] {
          const auto decision =
              compaction_schedule_.Decide(bronze_commits_, pipeline_behind_);
          if (decision == internal::CompactionSchedule::Decision::kDefer &&
              !deferred) {
            deferred = true;
            ++metrics_.compaction_checks_deferred;
            spdlog::debug("bronze: compaction check deferred while the pipeline is behind");
          }
          return decision == internal::CompactionSchedule::Decision::kCheck;
        });
        if (stop.stop_requested()) {
          return;
        }
        compaction_schedule_.Checked(bronze_commits_);
        deferred = false;
      }
      auto compacted = MaybeCompactBronze();
      if (!compacted.ok()) {
        spdlog::warn("bronze: compaction failed: {}", compacted.status().ToString());
      }
    }
  }

  Result<bool> MaybeCompactBronze() {
    if (!maintenance_conn_) {
      TRIB_ASSIGN_OR_RETURN(maintenance_db_,
                            sql::Database::Open(StageDatabaseOptions("maintenance")));
      TRIB_ASSIGN_OR_RETURN(maintenance_conn_, maintenance_db_->Connect());
    }
    TRIB_ASSIGN_OR_RETURN(bool compacted, MaybeCompact(*maintenance_conn_, bronze_root(),
                                                       options_.compaction));
    if (compacted) {
      ++metrics_.compactions;
    }
    return compacted;
  }

  void NotifyGold() {
    if (!gold_) {
      return;
    }
    {
      std::lock_guard<std::mutex> lock(gold_mutex_);
      gold_target_ = silver_->position();
    }
    gold_cv_.notify_all();
  }

  void GoldLoop(std::stop_token stop) {
    try {
      auto last = std::chrono::steady_clock::now() - options_.gold_min_refresh_interval;
      while (!stop.stop_requested()) {
        int64_t target = -1;
        {
          std::unique_lock<std::mutex> lock(gold_mutex_);
          gold_cv_.wait_for(lock, stop, 500ms, [&] { return gold_target_ > gold_done_; });
          if (stop.stop_requested()) {
            return;
          }
          if (gold_target_ <= gold_done_) {
            continue;
          }
        }
        auto wait =
            last + options_.gold_min_refresh_interval - std::chrono::steady_clock::now();
        if (wait > 0ms) {
          std::unique_lock<std::mutex> lock(gold_mutex_);
          gold_cv_.wait_for(lock, stop, wait, [] { return false; });
          if (stop.stop_requested()) {
            return;
          }
        }
        {
          std::lock_guard<std::mutex> lock(gold_mutex_);
          target = gold_target_;
        }
        last = std::chrono::steady_clock::now();
        auto refreshed = RefreshGold(target);
        if (!refreshed.ok()) {
          spdlog::error("gold refresh at bronze version {} failed: {}", target,
                        refreshed.status().ToString());
        }
        std::lock_guard<std::mutex> lock(gold_mutex_);
        gold_done_ = std::max(gold_done_, target);
      }
    } catch (const std::exception& e) {
      spdlog::error("gold thread stopped by an exception: {}", e.what());
    }
  }

  Status RefreshGold(int64_t target) {
    std::lock_guard<std::mutex> lock(gold_run_mutex_);
    if (target < 0) {
      return OkStatus();
    }
    return gold_->Refresh(target);
  }

  Status Run(std::stop_token stop) {
    TRIB_RETURN_IF_ERROR(CatchUpSilver());
    std::jthread gold_thread;
    if (gold_) {
      gold_thread = std::jthread([this](std::stop_token token) {
        NameThread("trib-gold");
        GoldLoop(token);
      });
      NotifyGold();
    }
    Status status = OkStatus();
    for (size_t i = 0; i < sources_.size() && status.ok(); ++i) {
      status = StartSource(i, stop);
    }
    if (status.ok() && options_.compaction.min_files > 0) {
      maintenance_thread_ = std::jthread([this](std::stop_token token) {
        NameThread("trib-maintain");
        MaintenanceLoop(token);
      });
    }
    if (status.ok()) {
      silver_thread_ = std::jthread([this] {
        NameThread("trib-silver");
        SilverLoop();
      });
      for (size_t i = 0; i < sources_.size(); ++i) {
        captures_[i].thread =
            std::jthread([this, i](std::stop_token token) {
              NameThread("trib-capture");
              CaptureLoop(i, token);
            });
      }
      // The caller's thread is the bronze thread from here on.
      NameThread("trib-bronze");
      status = Loop(stop);
      status = Finish(std::move(status));
    }
    if (maintenance_thread_.joinable()) {
      maintenance_thread_.request_stop();
      maintenance_cv_.notify_all();
      maintenance_thread_.join();
    }
    // Stop gold before the final steps so that it does not race the last refresh.
    if (gold_thread.joinable()) {
      gold_thread.request_stop();
      gold_cv_.notify_all();
      gold_thread.join();
    }
    if (status.ok()) {
      status = silver_->RecordProgress();
    }
    if (status.ok() && gold_ && options_.once) {
      auto refreshed = RefreshGold(silver_->position());
      if (!refreshed.ok()) {
        spdlog::error("final gold refresh failed: {}", refreshed.status().ToString());
      }
    }
    for (auto& source : sources_) {
      auto closed = source.source->Close();
      if (!closed.ok()) {
        spdlog::warn("closing source {}: {}", source.source->name(),
                     closed.status().ToString());
      }
    }
    spdlog::info("pipeline stopped: {}", metrics_.Summary());
    return status;
  }

  // After the bronze loop ended with `status`: stops the capture threads; on success
  // stages what they had queued, commits every staged whole transaction, lets silver
  // apply every commit and acknowledges the last positions. On failure silver stops after
  // the commit it is applying (bronze versions it did not apply are replayed on the next
  // start).
  Status Finish(Status status) {
    for (auto& capture : captures_) {
      capture.thread.request_stop();
    }
    capture_cv_.notify_all();
    for (auto& capture : captures_) {
      if (capture.thread.joinable()) {
        capture.thread.join();
      }
    }
    for (size_t i = 0; i < sources_.size() && status.ok(); ++i) {
      status = CaptureError(i);
    }
    for (size_t i = 0; i < sources_.size() && status.ok(); ++i) {
      std::deque<core::ChangeBatch> left;
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        left.swap(captures_[i].batches);
        captures_[i].queued_events = 0;
      }
      for (auto& batch : left) {
        status = sinks_[i]->WriteBatch(std::move(batch));
        if (!status.ok()) {
          break;
        }
      }
      if (status.ok()) {
        status = CommitSource(i);
      }
    }
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      silver_closing_ = true;
      silver_abort_ = !status.ok();
    }
    silver_cv_.notify_all();
    if (silver_thread_.joinable()) {
      silver_thread_.join();
    }
    if (status.ok()) {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      status = silver_error_;
    }
    // The capture threads are gone: acknowledge what bronze made durable last.
    for (size_t i = 0; i < sources_.size() && status.ok(); ++i) {
      std::optional<SourcePosition> ack;
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        ack = std::move(captures_[i].ack);
        captures_[i].ack.reset();
      }
      if (ack) {
        status = sources_[i].source->Acknowledge(*ack);
      }
    }
    return status;
  }

  // Starts a source after the position bronze holds for it. Retryable failures (a slot
  // still held by a killed predecessor's walsender, a server restarting) are retried with
  // backoff for up to a minute.
  Status StartSource(size_t index, const std::stop_token& stop) {
    auto resume = sinks_[index]->ResumePosition();
    auto delay = 100ms;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (true) {
      Status started = sources_[index].source->Start(resume);
      if (started.ok()) {
        return OkStatus();
      }
      if (!started.error().IsRetryable() || std::chrono::steady_clock::now() > deadline ||
          stop.stop_requested()) {
        return std::move(started).WithContext(
            fmt::format("starting source {}", sources_[index].source->name()));
      }
      spdlog::warn("starting source {} failed, retrying in {} ms: {}",
                   sources_[index].source->name(), delay.count(),
                   started.error().ToString());
      (void)sources_[index].source->Close();
      std::this_thread::sleep_for(delay);
      delay = std::min<std::chrono::milliseconds>(delay * 2, 2000ms);
    }
  }

  // Capture thread of source `index`: polls the source into its queue while the queue
  // holds fewer than queue_max_events events, and delivers the acknowledgements the
  // bronze thread posts (a ChangeSource is driven by one thread only). With once, it
  // reports when the source is caught up.
  void CaptureLoop(size_t index, std::stop_token stop) {
    Status status = OkStatus();
    try {
      status = Capture(index, stop);
    } catch (const std::exception& e) {
      status = MakeError(ErrorCode::kInternal, "capture thread of source {}: {}",
                         sources_[index].source->name(), e.what());
    }
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      captures_[index].error = std::move(status);
      captures_[index].finished = true;
    }
    bronze_cv_.notify_all();
  }

  Status Capture(size_t index, const std::stop_token& stop) {
    CaptureState& state = captures_[index];
    core::ChangeSource& source = *sources_[index].source;
    auto idle_since = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      std::optional<SourcePosition> ack;
      bool full = false;
      {
        std::unique_lock<std::mutex> lock(queue_mutex_);
        capture_cv_.wait(lock, stop, [&] {
          return state.queued_events < options_.queue_max_events || state.ack.has_value();
        });
        if (stop.stop_requested()) {
          break;
        }
        ack = std::move(state.ack);
        state.ack.reset();
        full = state.queued_events >= options_.queue_max_events;
      }
      if (ack) {
        TRIB_RETURN_IF_ERROR(source.Acknowledge(*ack));
      }
      if (full) {
        continue;
      }
      TRIB_ASSIGN_OR_RETURN(auto batch, source.Poll(options_.poll_timeout));
      if (!batch.events.empty() || !batch.resume_position.empty()) {
        idle_since = std::chrono::steady_clock::now();
        {
          std::lock_guard<std::mutex> lock(queue_mutex_);
          state.queued_events += static_cast<int64_t>(batch.events.size());
          state.batches.push_back(std::move(batch));
          state.caught_up = false;
        }
        bronze_cv_.notify_all();
        continue;
      }
      if (options_.once) {
        auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - idle_since);
        bool caught_up = false;
        if (sources_[index].caught_up) {
          TRIB_ASSIGN_OR_RETURN(caught_up, sources_[index].caught_up(idle));
        } else {
          caught_up = idle >= 1000ms;
        }
        if (caught_up) {
          {
            std::lock_guard<std::mutex> lock(queue_mutex_);
            state.caught_up = true;
          }
          bronze_cv_.notify_all();
        }
      }
    }
    return OkStatus();
  }

  Status CaptureError(size_t index) {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    return captures_[index].error;
  }

  void PostAcknowledgement(size_t index, const SourcePosition& position) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      captures_[index].ack = position;
    }
    capture_cv_.notify_all();
  }

  // Hands a bronze commit to the silver thread, waiting while silver_queue_commits are
  // already queued (memory stays bounded when silver is the slower stage).
  Status EnqueueSilver(BronzeCommit commit) {
    std::unique_lock<std::mutex> lock(queue_mutex_);
    silver_cv_.wait(lock, [&] {
      return static_cast<int64_t>(silver_queue_.size()) < options_.silver_queue_commits ||
             silver_done_;
    });
    if (silver_done_) {
      if (!silver_error_.ok()) {
        return silver_error_;
      }
      return MakeError(ErrorCode::kInternal, "the silver thread stopped");
    }
    silver_queue_.push_back(std::move(commit));
    lock.unlock();
    silver_cv_.notify_all();
    return OkStatus();
  }

  // Silver thread: applies the bronze commits in the order they were committed.
  void SilverLoop() {
    Status status = OkStatus();
    try {
      while (true) {
        BronzeCommit commit;
        {
          std::unique_lock<std::mutex> lock(queue_mutex_);
          // Idle: run the maintenance the applies left due, one step at a time, as long
          // as no commit waits.
          while (silver_queue_.empty() && !silver_closing_ && silver_->maintenance_due()) {
            lock.unlock();
            auto ran = silver_->RunMaintenance();
            lock.lock();
            if (!ran.ok()) {
              status = std::move(ran).status();
              break;
            }
            if (!*ran) {
              break;
            }
          }
          if (!status.ok()) {
            break;
          }
          silver_cv_.wait(lock,
                          [&] { return !silver_queue_.empty() || silver_closing_; });
          if (silver_abort_ || (silver_queue_.empty() && silver_closing_)) {
            break;
          }
          commit = std::move(silver_queue_.front());
          silver_queue_.pop_front();
        }
        silver_cv_.notify_all();
        status = ApplySilver(commit);
        if (!status.ok()) {
          break;
        }
      }
    } catch (const std::exception& e) {
      status = MakeError(ErrorCode::kInternal, "silver thread: {}", e.what());
    }
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      silver_error_ = std::move(status);
      silver_done_ = true;
    }
    silver_cv_.notify_all();
    bronze_cv_.notify_all();
  }

  // Bronze thread: stages what the capture threads queued and commits when a batch is
  // due. Returns on stop, on a failure of any stage, or (once) when every source is
  // caught up and everything it returned was staged.
  Status Loop(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      bool all_caught_up = options_.once;
      bool staged_any = false;
      for (size_t i = 0; i < sources_.size(); ++i) {
        std::deque<core::ChangeBatch> taken;
        bool caught_up = false;
        {
          std::lock_guard<std::mutex> lock(queue_mutex_);
          CaptureState& state = captures_[i];
          if (state.finished) {
            TRIB_RETURN_IF_ERROR(state.error);
            return MakeError(ErrorCode::kInternal,
                             "the capture thread of source {} stopped",
                             sources_[i].source->name());
          }
          if (silver_done_) {
            TRIB_RETURN_IF_ERROR(silver_error_);
            return MakeError(ErrorCode::kInternal, "the silver thread stopped");
          }
          taken.swap(state.batches);
          state.queued_events = 0;
          caught_up = state.caught_up;
        }
        if (!taken.empty()) {
          capture_cv_.notify_all();
          staged_any = true;
        } else {
          const auto before = pacers_[i].current();
          pacers_[i].NoteIdle();
          PublishInterval(i, before);
        }
        for (size_t batch_idx = 0; batch_idx < taken.size(); ++batch_idx) {
          TRIB_RETURN_IF_ERROR(sinks_[i]->WriteBatch(std::move(taken[batch_idx])));
          if (sinks_[i]->CommitDue()) {
            TRIB_RETURN_IF_ERROR(CommitSource(i, batch_idx + 1 < taken.size()));
          }
        }
        if (sinks_[i]->CommitDue()) {
          TRIB_RETURN_IF_ERROR(CommitSource(i));
        }
        all_caught_up = all_caught_up && caught_up && taken.empty();
      }
      if (options_.once && all_caught_up) {
        spdlog::info("--once: every source is caught up");
        break;
      }
      if (!staged_any) {
        // Wait for input, or (when rows are staged) briefly, for a batch to become due.
        bool staged = std::any_of(sinks_.begin(), sinks_.end(), [](const auto& sink) {
          return sink->staged_rows() > 0;
        });
        std::unique_lock<std::mutex> lock(queue_mutex_);
        bronze_cv_.wait_for(lock, stop, staged ? 5ms : options_.poll_timeout, [&] {
          return silver_done_ || std::any_of(captures_.begin(), captures_.end(),
                                             [](const CaptureState& c) {
                                               return !c.batches.empty() || c.finished ||
                                                      c.caught_up;
                                             });
        });
      }
    }
    return OkStatus();
  }

  const PipelineMetrics& metrics() const { return metrics_; }

 private:
  PipelineOptions options_;
  std::vector<PipelineSource> sources_;
  std::vector<std::unique_ptr<BronzeSink>> sinks_;
  /// Batch interval of each source's sink (bronze thread only).
  std::vector<internal::AdaptiveBatchInterval> pacers_;
  std::unique_ptr<SilverStage> silver_;
  std::unique_ptr<GoldStage> gold_;
  PipelineMetrics metrics_;
  // Maintenance thread (bronze compaction) and what it uses: declared after them, so it
  // is joined first on destruction. bronze_commits_ is guarded by maintenance_mutex_.
  std::unique_ptr<sql::Database> maintenance_db_;
  std::unique_ptr<sql::Connection> maintenance_conn_;
  std::mutex maintenance_mutex_;
  std::condition_variable_any maintenance_cv_;
  int64_t bronze_commits_ = 0;
  /// Some source's batch interval is lengthened (AdaptiveBatchInterval::behind()).
  bool pipeline_behind_ = false;
  internal::CompactionSchedule compaction_schedule_;
  std::jthread maintenance_thread_;
  std::mutex gold_mutex_;
  std::condition_variable_any gold_cv_;
  int64_t gold_target_ = -1;
  int64_t gold_done_ = -1;
  std::mutex gold_run_mutex_;

  // One source's capture thread and its queue to the bronze thread. Fields other than
  // `thread` are guarded by queue_mutex_.
  struct CaptureState {
    std::jthread thread;
    std::deque<core::ChangeBatch> batches;
    int64_t queued_events = 0;
    /// The newest position bronze made durable, not yet acknowledged to the source.
    std::optional<SourcePosition> ack;
    /// once: the source returned everything up to its position at start.
    bool caught_up = false;
    bool finished = false;
    Status error = OkStatus();
  };
  std::mutex queue_mutex_;
  /// Capture threads wait on it for queue space, an acknowledgement or stop.
  std::condition_variable_any capture_cv_;
  /// The bronze thread waits on it for input or a stopped stage.
  std::condition_variable_any bronze_cv_;
  /// The silver thread waits on it for commits; the bronze thread for queue space.
  std::condition_variable silver_cv_;
  std::vector<CaptureState> captures_;
  std::deque<BronzeCommit> silver_queue_;
  bool silver_closing_ = false;
  bool silver_abort_ = false;
  bool silver_done_ = false;
  Status silver_error_ = OkStatus();
  std::jthread silver_thread_;
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::Create(PipelineOptions options,
                                                   std::vector<PipelineSource> sources) {
  if (options.lake_root.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "pipeline needs a lake root");
  }
  if (sources.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "pipeline needs at least one source");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(sources));
  TRIB_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

Status Pipeline::Run(std::stop_token stop) {
  return impl_->Run(stop);
}
const PipelineMetrics& Pipeline::metrics() const {
  return impl_->metrics();
}

}  // namespace tributary::pipeline
