#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include "capture/postgres/postgres_capture.h"
#include "cli/commands.h"
#include "cli/pipeline_wiring.h"
#include "core/debezium_json.h"
#include "core/json_writer.h"

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

// Output is collected in one buffer, written when it reaches this size and written and
// flushed whenever a poll returned the end of a transaction (one write for all the
// transactions a poll returned, never one per line). Positions are acknowledged only
// after the flush that holds them, at most every kAckInterval (or when the sources are
// idle, and at exit): a standby status message per small transaction would cost more
// than the transaction.
constexpr size_t kStdoutBufferBytes = 256 * 1024;
constexpr auto kAckInterval = std::chrono::milliseconds(50);

// glibc returns freed memory at the top of the heap to the kernel once more than
// M_TRIM_THRESHOLD bytes are free there, and serves blocks above M_MMAP_THRESHOLD with
// their own mmap: both make the page-sized memory of every batch (thousands of events,
// allocated and freed per poll) fault in again, which cost about a tenth of the capture's
// CPU. These bounds keep up to that much freed memory for reuse.
constexpr int kMallocTrimThresholdBytes = 16 << 20;
constexpr int kMallocMmapThresholdBytes = 16 << 20;

// The quoted topic of the last event: consecutive events mostly share their table.
struct TopicCache {
  bool valid = false;
  bool message = false;
  core::Connector connector = core::Connector::kPostgres;
  std::string name;
  std::string middle;
  std::string table;
  std::string quoted;  ///< the JSON string literal
};

// Appends the stdout line(s) of `event` to `buffer`:
// {"topic": ..., "key": <Debezium key JSON or null>, "value": <Debezium value JSON or null>}
// with the key and value embedded as JSON (not as strings), plus the tombstone line
// (same key, null value) after a delete. On error `buffer` is left as it was.
Status AppendEventLines(const core::ChangeEvent& event,
                        TopicCache& topic_cache,
                        std::string& buffer) {
  size_t start = buffer.size();
  bool message = event.op == core::Op::kMessage;
  // ChangeEvent::Topic(), without building the string.
  const std::string& middle = event.source.connector == core::Connector::kPostgres
                                  ? event.table.schema
                                  : event.table.database;
  if (!topic_cache.valid || topic_cache.message != message ||
      topic_cache.connector != event.source.connector ||
      topic_cache.name != event.source.name ||
      (!message && (topic_cache.middle != middle || topic_cache.table != event.table.table))) {
    topic_cache.valid = false;
    topic_cache.quoted.clear();
    core::JsonWriter topic(topic_cache.quoted);
    if (message) {
      // Debezium sends logical decoding messages to "<prefix>.message".
      topic.StringParts({event.source.name, ".message"});
    } else {
      topic.StringParts({event.source.name, ".", middle, ".", event.table.table});
    }
    if (!topic.ok()) {
      return MakeError(ErrorCode::kInvalidArgument, "the topic name for {} is not UTF-8: {}",
                       event.table.ToString(), topic.error());
    }
    topic_cache.message = message;
    topic_cache.connector = event.source.connector;
    topic_cache.name = event.source.name;
    topic_cache.middle = middle;
    topic_cache.table = event.table.table;
    topic_cache.valid = true;
  }
  buffer.append("{\"topic\":");
  size_t topic_start = buffer.size();
  buffer.append(topic_cache.quoted);
  size_t topic_end = buffer.size();
  buffer.append(",\"key\":");
  size_t key_start = buffer.size();
  Result<bool> has_key = core::AppendDebeziumKey(event, {}, buffer);
  if (!has_key.ok()) {
    buffer.resize(start);
    return std::move(has_key).status();
  }
  if (!*has_key) {
    buffer.append("null");
  }
  size_t key_end = buffer.size();
  buffer.append(",\"value\":");
  Status value = core::AppendDebeziumValue(event, {}, buffer);
  if (!value.ok()) {
    buffer.resize(start);
    return value;
  }
  buffer.append("}\n");
  if (core::NeedsTombstone(event) && *has_key) {
    size_t topic_length = topic_end - topic_start;
    size_t key_length = key_end - key_start;
    // Reserve first: the appends below copy from the buffer itself.
    buffer.reserve(buffer.size() + topic_length + key_length + 40);
    buffer.append("{\"topic\":");
    buffer.append(buffer.data() + topic_start, topic_length);
    buffer.append(",\"key\":");
    buffer.append(buffer.data() + key_start, key_length);
    buffer.append(",\"value\":null}\n");
  }
  return OkStatus();
}

// Writes the buffered lines to `out` and empties the buffer.
Status WriteBuffered(std::string& buffer, std::ostream& out) {
  if (!buffer.empty()) {
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
  }
  if (!out) {
    return MakeError(ErrorCode::kIo, "writing to standard output failed");
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
    /// The end of the last complete transaction buffered but not yet written.
    std::optional<core::SourcePosition> buffered;
    /// The end of the last transaction written and flushed but not yet acknowledged.
    std::optional<core::SourcePosition> unacked;
  };
  std::vector<Running> captures;
  for (const auto& source : config->sources) {
    if (source.type != SourceType::kPostgres) {
      return context.ReportError(MakeError(
          ErrorCode::kUnsupported, "{}:{}: source {}: `capture` supports postgres sources only",
          config->source_name, source.line, source.name));
    }
    auto pg_options = PostgresCaptureOptionsFromConfig(*config, source);
    if (!pg_options.ok()) {
      return context.ReportError(pg_options.error());
    }
    auto created = capture::postgres::PostgresCapture::Create(std::move(*pg_options));
    if (!created.ok()) {
      return context.ReportError(created.error());
    }
    captures.push_back(
        Running{source.name, std::move(*created), std::nullopt, std::nullopt, std::nullopt});
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
  mallopt(M_TRIM_THRESHOLD, kMallocTrimThresholdBytes);
  mallopt(M_MMAP_THRESHOLD, kMallocMmapThresholdBytes);
  std::ostream& out = context.out();
  std::string pending;
  pending.reserve(2 * kStdoutBufferBytes);
  TopicCache topic_cache;
  auto last_ack = std::chrono::steady_clock::now();
  // Writes what is buffered and flushes: every complete transaction buffered becomes
  // acknowledgeable (for the stdout sink, written and flushed is durable).
  auto write_and_flush = [&]() -> Status {
    Status written = WriteBuffered(pending, out);
    out.flush();
    if (!written.ok() || !out) {
      return MakeError(ErrorCode::kIo, "writing to standard output failed");
    }
    for (auto& running : captures) {
      if (running.buffered) {
        running.unacked = std::move(running.buffered);
        running.buffered.reset();
      }
    }
    return OkStatus();
  };
  // Writes and flushes, then acknowledges every transaction written so far.
  auto write_and_ack = [&]() -> Status {
    TRIB_RETURN_IF_ERROR(write_and_flush());
    last_ack = std::chrono::steady_clock::now();
    for (auto& running : captures) {
      if (running.unacked) {
        Status acked = running.capture->Acknowledge(*running.unacked);
        running.unacked.reset();
        if (!acked.ok()) {
          return acked;
        }
      }
    }
    return OkStatus();
  };
  while (!g_stop_requested.load()) {
    bool all_reached = options.once;
    bool any_events = false;
    for (auto& running : captures) {
      // --once ends on an empty poll after the target is reached: a short wait keeps that
      // tail (and the ReachedLsn keepalive probe round trip) from adding to the run.
      auto batch = running.capture->Poll(std::chrono::milliseconds(options.once ? 2 : 100));
      if (!batch.ok()) {
        return context.ReportError(std::move(batch).status().AddContext("source " +
                                                                      running.name));
      }
      any_events = any_events || !batch->events.empty();
      for (const auto& event : batch->events) {
        Status written = AppendEventLines(event, topic_cache, pending);
        if (written.ok() && pending.size() >= kStdoutBufferBytes) {
          // Mid-transaction: written, but nothing new to acknowledge.
          written = WriteBuffered(pending, out);
        }
        if (!written.ok()) {
          // What was converted before the failure is still written, as it was line by line.
          (void)WriteBuffered(pending, out);
          out.flush();
          return context.ReportError(written.error());
        }
      }
      if (batch->ends_transaction && !batch->resume_position.empty()) {
        running.buffered = batch->resume_position;
      }
      if (options.once) {
        bool reached = batch->events.empty() && batch->ends_transaction &&
                       (running.capture->done() || running.capture->ReachedLsn(*running.target));
        all_reached = all_reached && reached;
      }
    }
    // Flush the transactions this round completed; acknowledge when the sources had
    // nothing to return (idle, or the end of --once) or kAckInterval passed.
    bool has_buffered = false;
    bool has_unacked = false;
    for (const auto& running : captures) {
      has_buffered = has_buffered || running.buffered.has_value();
      has_unacked = has_unacked || running.unacked.has_value();
    }
    if ((has_buffered || has_unacked) &&
        (!any_events || std::chrono::steady_clock::now() - last_ack >= kAckInterval)) {
      Status written = write_and_ack();
      if (!written.ok()) {
        return context.ReportError(written.error());
      }
    } else if (has_buffered) {
      Status written = write_and_flush();
      if (!written.ok()) {
        return context.ReportError(written.error());
      }
    }
    if (options.once && all_reached) {
      break;
    }
  }
  {
    Status written = write_and_ack();
    if (!written.ok()) {
      return context.ReportError(written.error());
    }
  }
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
