#include "cli/pipeline_wiring.h"

#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "capture/postgres/postgres_capture.h"

namespace tributary::cli {

namespace {

pipeline::RuleBound ToBound(const RuleValue& value) {
  return std::visit([](const auto& v) -> pipeline::RuleBound { return v; }, value);
}

std::string DefaultSlotName(const std::string& source) {
  std::string out = "tributary_";
  for (char c : source) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) != 0 ? static_cast<char>(std::tolower(u)) : '_');
  }
  return out;
}

Result<capture::postgres::SnapshotMode> ToPostgresSnapshotMode(SnapshotMode mode) {
  using capture::postgres::SnapshotMode;
  switch (mode) {
    case cli::SnapshotMode::kInitial:
      return SnapshotMode::kInitial;
    case cli::SnapshotMode::kNever:
      return SnapshotMode::kNever;
    case cli::SnapshotMode::kInitialOnly:
      return SnapshotMode::kInitialOnly;
    case cli::SnapshotMode::kAlways:
      return SnapshotMode::kAlways;
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown snapshot mode");
}

}  // namespace

Result<pipeline::PipelineOptions> PipelineOptionsFromConfig(const PipelineConfig& config,
                                                            bool once) {
  pipeline::PipelineOptions options;
  options.lake_root = config.lake.root;
  options.batch_max_rows = config.pipeline.batch_max_rows;
  options.batch_max_bytes = config.pipeline.batch_max_bytes;
  options.batch_interval = std::chrono::milliseconds(config.pipeline.batch_interval_ms);
  options.batch_interval_max =
      std::chrono::milliseconds(config.pipeline.batch_interval_max_ms);
  options.checkpoint_interval = config.pipeline.checkpoint_interval;
  options.compaction.min_files = config.pipeline.compact_min_files;
  options.compaction.small_file_bytes = config.pipeline.compact_small_file_bytes;
  options.compaction.target_file_bytes = config.pipeline.compact_target_file_bytes;
  options.gold_min_refresh_interval =
      std::chrono::milliseconds(config.pipeline.gold_min_refresh_interval_ms);
  options.once = once;
  for (const auto& table : config.silver.tables) {
    pipeline::SilverTableOptions out;
    out.table = table.table;
    out.source = table.source;
    out.target = table.target;
    out.key = table.key;
    out.rules.not_null = table.not_null;
    out.rules.accepted_values = table.accepted_values;
    out.rules.regex = table.regex;
    for (const auto& [column, range] : table.ranges) {
      pipeline::RangeBounds bounds;
      if (range.min) {
        bounds.min = ToBound(*range.min);
      }
      if (range.max) {
        bounds.max = ToBound(*range.max);
      }
      out.rules.ranges[column] = bounds;
    }
    options.silver_tables.push_back(std::move(out));
  }
  for (const auto& model : config.gold.models) {
    pipeline::GoldModel out;
    out.name = model.name;
    out.key = model.key;
    switch (model.materialization) {
      case Materialization::kTable:
        out.materialization = pipeline::GoldMaterialization::kTable;
        break;
      case Materialization::kIncremental:
        out.materialization = pipeline::GoldMaterialization::kIncremental;
        break;
      case Materialization::kScd2:
        out.materialization = pipeline::GoldMaterialization::kScd2;
        break;
    }
    if (!model.sql_file.empty()) {
      std::ifstream in(model.sql_file);
      if (!in) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: gold model {}: cannot read {}",
                         config.source_name, model.name, model.sql_file.string());
      }
      std::stringstream text;
      text << in.rdbuf();
      out.sql = text.str();
    } else {
      out.sql = model.query;
    }
    options.gold_models.push_back(std::move(out));
  }
  return options;
}

Result<capture::postgres::PostgresCaptureOptions> PostgresCaptureOptionsFromConfig(
    const PipelineConfig& config, const SourceConfig& source) {
  capture::postgres::PostgresCaptureOptions options;
  options.dsn = source.dsn;
  options.name = source.name;
  options.slot_name =
      source.slot_name.empty() ? DefaultSlotName(source.name) : source.slot_name;
  options.publication_name = source.publication_name.empty()
                                 ? DefaultSlotName(source.name)
                                 : source.publication_name;
  for (const auto& table : source.tables) {
    auto selection = capture::postgres::ParseTableName(table);
    if (!selection.ok()) {
      return std::move(selection).status().AddContext(fmt::format(
          "{}:{}: source {}: tables", config.source_name, source.line, source.name));
    }
    options.tables.push_back(std::move(*selection));
  }
  TRIB_ASSIGN_OR_RETURN(options.snapshot_mode,
                        ToPostgresSnapshotMode(source.snapshot_mode));
  options.snapshot_fetch_rows = static_cast<size_t>(source.snapshot_chunk_rows);
  options.heartbeat_interval = std::chrono::milliseconds(source.heartbeat_interval_ms);
  options.heartbeat_table = source.heartbeat_table;
  options.status_interval = std::chrono::milliseconds(source.status_interval_ms);
  options.streaming = source.streaming;
  options.reconnect_backoff_initial =
      std::chrono::milliseconds(config.pipeline.reconnect_backoff_min_ms);
  options.reconnect_backoff_max =
      std::chrono::milliseconds(config.pipeline.reconnect_backoff_max_ms);
  Status valid = options.Validate();
  if (!valid.ok()) {
    return std::move(valid).status().AddContext(
        fmt::format("{}:{}: source {}", config.source_name, source.line, source.name));
  }
  return options;
}

Result<std::vector<pipeline::PipelineSource>> MakeSources(const PipelineConfig& config) {
  std::vector<pipeline::PipelineSource> sources;
  for (const auto& source : config.sources) {
    if (source.type != SourceType::kPostgres) {
      return MakeError(ErrorCode::kUnsupported,
                       "{}:{}: source {}: type {} is not supported by `run` yet",
                       config.source_name, source.line, source.name,
                       SourceTypeName(source.type));
    }
    TRIB_ASSIGN_OR_RETURN(auto options, PostgresCaptureOptionsFromConfig(config, source));
    options.snapshot_progress = false;
    TRIB_ASSIGN_OR_RETURN(auto capture,
                          capture::postgres::PostgresCapture::Create(std::move(options)));
    capture::postgres::PostgresCapture* raw = capture.get();
    auto target = std::make_shared<std::optional<uint64_t>>();
    pipeline::PipelineSource out;
    out.source = std::move(capture);
    out.caught_up = [raw, target](std::chrono::milliseconds /*idle*/) -> Result<bool> {
      if (!target->has_value()) {
        TRIB_ASSIGN_OR_RETURN(uint64_t lsn, raw->ServerWalLsn());
        *target = lsn;
      }
      auto metrics = raw->metrics();
      if (metrics.snapshot_running) {
        return false;
      }
      // Caught up only when everything committed before the target was returned: an
      // idle timer would end a run whose commits are merely slow with data in the slot.
      return raw->done() || raw->ReachedLsn(**target);
    };
    sources.push_back(std::move(out));
  }
  return sources;
}

}  // namespace tributary::cli
