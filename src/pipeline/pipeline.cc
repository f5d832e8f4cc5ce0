#include "pipeline/pipeline.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lake/delta/snapshot.h"
#include "pipeline/bronze_sink.h"
#include "pipeline/database_options.h"
#include "pipeline/types.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Pipeline::Impl {
 public:
  Impl(PipelineOptions options, std::vector<PipelineSource> sources)
      : options_(std::move(options)), sources_(std::move(sources)) {}

  fs::path bronze_root() const { return options_.lake_root / "bronze" / "all_events"; }

  Status Open() {
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

  Status CommitSource(size_t index) {
    const auto started = std::chrono::steady_clock::now();
    TRIB_ASSIGN_OR_RETURN(auto commit, sinks_[index]->Commit());
    if (!commit) {
      return OkStatus();
    }
    const auto committed = std::chrono::steady_clock::now();
    TRIB_RETURN_IF_ERROR(AcknowledgeAndApply(index, *commit));
    if (commit->version >= 0) {
      const auto done = std::chrono::steady_clock::now();
      spdlog::debug(
          "bronze version {}: {} events, bronze commit {} ms, silver {} ms",
          commit->version, commit->event_count,
          std::chrono::duration_cast<std::chrono::milliseconds>(committed - started)
              .count(),
          std::chrono::duration_cast<std::chrono::milliseconds>(done - committed)
              .count());
      // Group commit: nothing is read from the source while this commit and its silver
      // apply run, so the next batch stays open at least as long
      // (BronzeSink::SetBatchWindow). A backlog then goes in large batches.
      sinks_[index]->SetBatchWindow(std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started));
    }
    return OkStatus();
  }

  Status AcknowledgeAndApply(size_t index, const BronzeCommit& commit) {
    if (!commit.resume_position.empty()) {
      // DESIGN.md invariant 1: acknowledged only after the bronze commit holding it.
      TRIB_RETURN_IF_ERROR(sources_[index].source->Acknowledge(commit.resume_position));
    }
    if (commit.version < 0) {
      return OkStatus();
    }
    TRIB_RETURN_IF_ERROR(silver_->ApplyCommit(commit));
    if (++bronze_commits_since_check_ >= options_.compaction.check_every_commits * 4) {
      bronze_commits_since_check_ = 0;
      auto compacted = MaybeCompactBronze();
      if (!compacted.ok()) {
        spdlog::warn("bronze: compaction failed: {}", compacted.status().ToString());
      }
    }
    NotifyGold();
    return OkStatus();
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
      gold_thread = std::jthread([this](std::stop_token token) { GoldLoop(token); });
      NotifyGold();
    }
    Status status = Loop(stop);
    // Stop gold before the final steps so that it does not race the last refresh.
    if (gold_thread.joinable()) {
      gold_thread.request_stop();
      gold_cv_.notify_all();
      gold_thread.join();
    }
    if (status.ok()) {
      status = Drain();
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

  Status Drain() {
    for (size_t i = 0; i < sources_.size(); ++i) {
      TRIB_RETURN_IF_ERROR(CommitSource(i));
    }
    return silver_->RecordProgress();
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

  Status Loop(std::stop_token stop) {
    for (size_t i = 0; i < sources_.size(); ++i) {
      TRIB_RETURN_IF_ERROR(StartSource(i, stop));
    }
    std::vector<std::chrono::steady_clock::time_point> idle_since(
        sources_.size(), std::chrono::steady_clock::now());
    while (!stop.stop_requested()) {
      bool all_caught_up = options_.once;
      for (size_t i = 0; i < sources_.size(); ++i) {
        auto timeout = sinks_[i]->staged_rows() > 0 ? std::min<std::chrono::milliseconds>(
                                                          options_.poll_timeout, 20ms)
                                                    : options_.poll_timeout;
        TRIB_ASSIGN_OR_RETURN(auto batch, sources_[i].source->Poll(timeout));
        bool empty = batch.events.empty() && batch.resume_position.empty();
        if (!empty) {
          idle_since[i] = std::chrono::steady_clock::now();
          TRIB_RETURN_IF_ERROR(sinks_[i]->WriteBatch(batch));
        }
        if (sinks_[i]->CommitDue()) {
          TRIB_RETURN_IF_ERROR(CommitSource(i));
        }
        if (options_.once) {
          bool caught_up = false;
          if (empty) {
            auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - idle_since[i]);
            if (sources_[i].caught_up) {
              TRIB_ASSIGN_OR_RETURN(caught_up, sources_[i].caught_up(idle));
            } else {
              caught_up = idle >= 1000ms;
            }
          }
          all_caught_up = all_caught_up && caught_up;
        }
      }
      if (options_.once && all_caught_up) {
        spdlog::info("--once: every source is caught up");
        break;
      }
    }
    return OkStatus();
  }

  const PipelineMetrics& metrics() const { return metrics_; }

 private:
  PipelineOptions options_;
  std::vector<PipelineSource> sources_;
  std::vector<std::unique_ptr<BronzeSink>> sinks_;
  std::unique_ptr<SilverStage> silver_;
  std::unique_ptr<GoldStage> gold_;
  PipelineMetrics metrics_;
  int64_t bronze_commits_since_check_ = 0;
  std::unique_ptr<sql::Database> maintenance_db_;
  std::unique_ptr<sql::Connection> maintenance_conn_;
  std::mutex gold_mutex_;
  std::condition_variable_any gold_cv_;
  int64_t gold_target_ = -1;
  int64_t gold_done_ = -1;
  std::mutex gold_run_mutex_;
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
