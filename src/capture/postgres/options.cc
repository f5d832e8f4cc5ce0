#include "capture/postgres/options.h"

namespace tributary::capture::postgres {

std::string_view SnapshotModeName(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial:
      return "initial";
    case SnapshotMode::kNever:
      return "never";
    case SnapshotMode::kInitialOnly:
      return "initial_only";
    case SnapshotMode::kAlways:
      return "always";
  }
  return "initial";
}

Result<SnapshotMode> ParseSnapshotMode(std::string_view text) {
  for (auto mode : {SnapshotMode::kInitial, SnapshotMode::kNever,
                    SnapshotMode::kInitialOnly, SnapshotMode::kAlways}) {
    if (SnapshotModeName(mode) == text) {
      return mode;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown snapshot mode '{}': expected initial, never, initial_only or "
                   "always",
                   text);
}

Result<TableSelection> ParseTableName(std::string_view text) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '"') {
      if (quoted && pos + 1 < text.size() && text[pos + 1] == '"') {
        parts.back() += '"';
        ++pos;
      } else {
        quoted = !quoted;
      }
    } else if (c == '.' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  if (quoted || parts.size() > 2) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "table name '{}' must be \"table\" or \"schema.table\"", text);
  }
  for (const auto& part : parts) {
    if (part.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "table name '{}' has an empty part",
                       text);
    }
  }
  TableSelection selection;
  if (parts.size() == 2) {
    selection.schema = parts[0];
    selection.table = parts[1];
  } else {
    selection.table = parts[0];
  }
  return selection;
}

namespace {

bool ValidSlotName(std::string_view name) {
  // Replication slot names: lower-case letters, digits and underscores, at most 63 bytes.
  if (name.empty() || name.size() > 63) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status PostgresCaptureOptions::Validate() const {
  if (dsn.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "postgres capture: dsn is required");
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "postgres capture: name is empty");
  }
  if (!ValidSlotName(slot_name)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "postgres capture: slot_name '{}' must be 1-63 characters of a-z, 0-9 "
        "and _",
        slot_name);
  }
  if (publication_name.empty() || publication_name.size() > 63) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture: publication_name '{}' must be 1-63 bytes",
                     publication_name);
  }
  if (protocol_version != 1 && protocol_version != 2) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture: protocol_version {} is not supported (1 or 2)",
                     protocol_version);
  }
  if (streaming && protocol_version < 2) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture: streaming needs protocol_version 2");
  }
  if (snapshot_fetch_rows == 0 || max_batch_events == 0) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "postgres capture: snapshot_fetch_rows and max_batch_events must be > 0");
  }
  if (status_interval.count() <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture: status_interval must be positive");
  }
  if (heartbeat_interval.count() < 0 || reconnect_backoff_initial.count() <= 0 ||
      reconnect_backoff_max < reconnect_backoff_initial) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture: heartbeat_interval must be >= 0 and "
                     "0 < reconnect_backoff_initial <= reconnect_backoff_max");
  }
  if (!heartbeat_table.empty()) {
    auto parsed = ParseTableName(heartbeat_table);
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext("postgres capture: heartbeat_table");
    }
    if (!heartbeat_action_query.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "postgres capture: set heartbeat_table or heartbeat_action_query, "
                       "not both");
    }
  }
  for (const auto& table : tables) {
    if (table.table.empty() || table.schema.empty()) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "postgres capture: a table selection has an empty schema or table");
    }
  }
  return OkStatus();
}

}  // namespace tributary::capture::postgres
