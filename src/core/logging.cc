#include "core/logging.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/redact.h"

namespace tributary {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string_view SpdlogLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// Appends `text` as the body of a JSON string (RFC 8259 section 7).
void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (const char c : text) {
    switch (c) {
      case '"':
        dest.append(std::string_view("\\\""));
        break;
      case '\\':
        dest.append(std::string_view("\\\\"));
        break;
      case '\n':
        dest.append(std::string_view("\\n"));
        break;
      case '\r':
        dest.append(std::string_view("\\r"));
        break;
      case '\t':
        dest.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(dest), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          dest.push_back(c);
        }
    }
  }
}

// "2026-11-21T20:05:00.123Z" (UTC, milliseconds).
void AppendTimestamp(spdlog::log_clock::time_point time, spdlog::memory_buf_t& dest) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds)
          .count();
  const std::time_t time_t_value = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time_t_value, &utc);
  fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, millis);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string payload =
        RedactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("{\"ts\":\""));
    AppendTimestamp(msg.time, dest);
    dest.append(std::string_view("\",\"level\":\""));
    dest.append(SpdlogLevelName(msg.level));
    dest.append(std::string_view("\",\"logger\":\""));
    AppendJsonEscaped(std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                      dest);
    dest.append(std::string_view("\",\"thread\":"));
    fmt::format_to(std::back_inserter(dest), "{}", msg.thread_id);
    dest.append(std::string_view(",\"msg\":\""));
    AppendJsonEscaped(payload, dest);
    dest.append(std::string_view("\"}\n"));
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// spdlog's pattern formatter, with every payload redacted first.
class RedactingTextFormatter final : public spdlog::formatter {
 public:
  RedactingTextFormatter()
      : inner_(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string payload =
        RedactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(payload.data(), payload.size());
    inner_->format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingTextFormatter>();
  }

 private:
  std::unique_ptr<spdlog::pattern_formatter> inner_;
};

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "trace") {
    return LogLevel::kTrace;
  }
  if (text == "debug") {
    return LogLevel::kDebug;
  }
  if (text == "info") {
    return LogLevel::kInfo;
  }
  if (text == "warn" || text == "warning") {
    return LogLevel::kWarn;
  }
  if (text == "error") {
    return LogLevel::kError;
  }
  if (text == "critical") {
    return LogLevel::kCritical;
  }
  if (text == "off") {
    return LogLevel::kOff;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown log level \"{}\" (expected trace, debug, info, warn, error, "
                   "critical or off)",
                   text);
}

std::string_view LogLevelName(LogLevel level) {
  return SpdlogLevelName(ToSpdlog(level));
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") {
    return LogFormat::kText;
  }
  if (text == "json") {
    return LogFormat::kJson;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown log format \"{}\" (expected text or json)", text);
}

std::string_view LogFormatName(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

Status SetupLogging(const LoggingOptions& options) {
  spdlog::sink_ptr sink;
  try {
    if (!options.file.empty()) {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, false);
    } else if (options.format == LogFormat::kJson) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
  } catch (const spdlog::spdlog_ex& e) {
    return MakeError(ErrorCode::kIo, "cannot open log file '{}': {}", options.file,
                     e.what());
  }
  if (options.format == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<RedactingTextFormatter>());
  }
  auto logger = std::make_shared<spdlog::logger>("tributary", std::move(sink));
  logger->set_level(ToSpdlog(options.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return OkStatus();
}

}  // namespace tributary
