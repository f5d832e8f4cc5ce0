#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace tributary {

/// Log verbosity, most verbose first (spdlog's levels).
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

/// How log lines are written.
enum class LogFormat {
  kText,  ///< `2026-11-21T20:05:00.123Z info  message` (colored on a terminal)
  kJson,  ///< one JSON object per line: {"ts":...,"level":...,"logger":...,"msg":...}
};

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off".
/// Errors: kInvalidArgument naming the accepted values.
Result<LogLevel> ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);

/// Parses "text" or "json". Errors: kInvalidArgument.
Result<LogFormat> ParseLogFormat(std::string_view text);
std::string_view LogFormatName(LogFormat format);

struct LoggingOptions {
  /// Lines below this level are dropped. Default: info.
  LogLevel level = LogLevel::kInfo;
  /// Default: text.
  LogFormat format = LogFormat::kText;
  /// Where lines go: empty for standard error (stdout is for data), else a file appended
  /// to. Default: empty.
  std::string file;
};

/// Installs the process-wide default spdlog logger ("tributary") from `options`; modules
/// log through spdlog's free functions (spdlog::info(...)). Every message passes through
/// RedactSecrets() before it is written, so a DSN or librdkafka property logged by
/// mistake does not leak its password. May be called again to reconfigure (e.g. after the
/// config file's [log] table is read); not thread-safe against concurrent logging during
/// the call. Errors: kIo when the log file cannot be opened.
Status SetupLogging(const LoggingOptions& options);

}  // namespace tributary
