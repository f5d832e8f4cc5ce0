#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "capture/postgres/postgres_capture.h"
#include "cli/commands.h"
#include "core/debezium_json.h"

// `tributary capture -c CONFIG --sink stdout|kafka`: the Debezium connector's role.
// The Kafka sink comes with the Kafka issue.
namespace tributary::cli {
namespace {

struct CaptureOptions {
  std::string config_path;
  /// "stdout": one {"topic","key","value"} JSON object per line; "kafka": [kafka] topics.
  std::string sink = "stdout";
  /// Exit after reaching the server's WAL/binlog position at start.
  bool once = false;
};

std::atomic<bool> g_stop_requested{false};

extern "C" void HandleStopSignal(int /*signal*/) { g_stop_requested.store(true); }

std::string SlotNameFor(const std::string& source) {
  std::string out = "tributary_";
  for (char c : source) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) != 0 ? static_cast<char>(std::tolower(u)) : '_');
  }
  return out;
}

Result<capture::postgres::PostgresCaptureOptions> PostgresOptionsFor(
    const PipelineConfig& config, const SourceConfig& source) {
  capture::postgres::PostgresCaptureOptions options;
  options.dsn = source.dsn;
  options.name = source.name;
  options.slot_name = source.slot_name.empty() ? SlotNameFor(source.name) : source.slot_name;
  options.publication_name =
      source.publication_name.empty() ? SlotNameFor(source.name) : source.publication_name;
  for (const auto& table : source.tables) {
    TRIB_ASSIGN_OR_RETURN(auto selection, capture::postgres::ParseTableName(table));
    options.tables.push_back(std::move(selection));
  }
  TRIB_ASSIGN_OR_RETURN(options.snapshot_mode,
                        capture::postgres::ParseSnapshotMode(
                            SnapshotModeName(source.snapshot_mode)));
  options.snapshot_fetch_rows = static_cast<size_t>(source.snapshot_chunk_rows);
  options.heartbeat_interval = std::chrono::milliseconds(source.heartbeat_interval_ms);
  options.status_interval = std::chrono::milliseconds(source.status_interval_ms);
  options.streaming = source.streaming;
  options.reconnect_backoff_initial =
      std::chrono::milliseconds(config.pipeline.reconnect_backoff_min_ms);
  options.reconnect_backoff_max =
      std::chrono::milliseconds(config.pipeline.reconnect_backoff_max_ms);
  return options;
}

// {"topic": ..., "key": <Debezium key JSON or null>, "value": <Debezium value JSON or null>}
// with the key and value embedded as JSON (not as strings).
std::string StdoutLine(const std::string& topic,
                       const std::optional<std::string>& key,
                       const std::optional<std::string>& value) {
  std::string line = "{\"topic\":";
  line += nlohmann::json(topic).dump();
  line += ",\"key\":";
  line += key ? *key : "null";
  line += ",\"value\":";
  line += value ? *value : "null";
  line += "}\n";
  return line;
}

Status WriteEvent(const core::ChangeEvent& event, std::ostream& out) {
  // Debezium sends logical decoding messages to "<prefix>.message".
  std::string topic =
      event.op == core::Op::kMessage ? event.source.name + ".message" : event.Topic();
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> key, core::EncodeDebeziumKey(event));
  TRIB_ASSIGN_OR_RETURN(std::string value, core::EncodeDebeziumValue(event));
  out << StdoutLine(topic, key, value);
  if (core::NeedsTombstone(event) && key) {
    out << StdoutLine(topic, key, std::nullopt);
  }
  return OkStatus();
}

int RunCapture(const CaptureOptions& options, CommandContext& context) {
  auto config = context.LoadPipelineConfig(options.config_path);
  if (!config.ok()) {
    return context.ReportError(config.error());
  }
  if (options.sink != "stdout") {
    return context.ReportUsageError("capture",
                                    "--sink kafka is not implemented yet (Kafka issue)");
  }
  struct Running {
    std::string name;
    std::unique_ptr<capture::postgres::PostgresCapture> capture;
    std::optional<uint64_t> target;  // --once: the server WAL position at start
  };
  std::vector<Running> captures;
  for (const auto& source : config->sources) {
    if (source.type != SourceType::kPostgres) {
      return context.ReportError(MakeError(
          ErrorCode::kUnsupported, "{}:{}: source {}: `capture` supports postgres sources only",
          config->source_name, source.line, source.name));
    }
    auto pg_options = PostgresOptionsFor(*config, source);
    if (!pg_options.ok()) {
      return context.ReportError(pg_options.error());
    }
    auto created = capture::postgres::PostgresCapture::Create(std::move(*pg_options));
    if (!created.ok()) {
      return context.ReportError(created.error());
    }
    captures.push_back(Running{source.name, std::move(*created), std::nullopt});
  }
  if (captures.empty()) {
    return context.ReportError(
        MakeError(ErrorCode::kInvalidArgument, "{}: no [[sources]] to capture",
                  config->source_name));
  }
  g_stop_requested.store(false);
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGTERM, HandleStopSignal);
  for (auto& running : captures) {
    // stdout keeps no state of its own: the slot's confirmed position is the resume point.
    Status started = running.capture->Start(std::nullopt);
    if (!started.ok()) {
      return context.ReportError(
          std::move(started).status().AddContext("starting source " + running.name));
    }
    if (options.once) {
      auto lsn = running.capture->ServerWalLsn();
      if (!lsn.ok()) {
        return context.ReportError(lsn.error());
      }
      running.target = *lsn;
    }
  }
  std::ostream& out = context.out();
  while (!g_stop_requested.load()) {
    bool all_reached = options.once;
    for (auto& running : captures) {
      auto batch = running.capture->Poll(std::chrono::milliseconds(100));
      if (!batch.ok()) {
        return context.ReportError(std::move(batch).status().AddContext("source " +
                                                                      running.name));
      }
      for (const auto& event : batch->events) {
        Status written = WriteEvent(event, out);
        if (!written.ok()) {
          return context.ReportError(written.error());
        }
      }
      if (batch->ends_transaction) {
        out.flush();
        if (!out) {
          return context.ReportError(
              MakeError(ErrorCode::kIo, "writing to standard output failed"));
        }
        // Written and flushed: for the stdout sink that is durable, so the slot may move.
        if (!batch->resume_position.empty()) {
          Status acked = running.capture->Acknowledge(batch->resume_position);
          if (!acked.ok()) {
            return context.ReportError(acked.error());
          }
        }
      }
      if (options.once) {
        bool reached = batch->events.empty() && batch->ends_transaction &&
                       (running.capture->done() || running.capture->ReachedLsn(*running.target));
        all_reached = all_reached && reached;
      }
    }
    if (options.once && all_reached) {
      break;
    }
  }
  out.flush();
  for (auto& running : captures) {
    Status closed = running.capture->Close();
    if (!closed.ok()) {
      spdlog::warn("closing source {}: {}", running.name, closed.error().ToString());
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return kExitOk;
}

}  // namespace

void RegisterCaptureCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<CaptureOptions>();
  CLI::App* command = app.add_subcommand(
      "capture", "Capture changes as Debezium JSON to stdout or Kafka (no lake)");
  command
      ->add_option("-c,--config", options->config_path, "Pipeline configuration (TOML)")
      ->required();
  command
      ->add_option("--sink", options->sink,
                   "stdout: one {topic, key, value} JSON object per line; kafka: the "
                   "[kafka] topics")
      ->check(CLI::IsMember({"stdout", "kafka"}))
      ->capture_default_str();
  command->add_flag("--once", options->once,
                    "Exit after reaching the server's position at start");
  OnRun(command, context, [options, &context] { return RunCapture(*options, context); });
}

}  // namespace tributary::cli
