#include "core/change_event.h"

#include <ostream>

#include <fmt/format.h>

namespace tributary::core {

char OpCode(Op op) {
  switch (op) {
    case Op::kRead:
      return 'r';
    case Op::kCreate:
      return 'c';
    case Op::kUpdate:
      return 'u';
    case Op::kDelete:
      return 'd';
    case Op::kTruncate:
      return 't';
    case Op::kMessage:
      return 'm';
  }
  return '?';
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kRead:
      return "read";
    case Op::kCreate:
      return "create";
    case Op::kUpdate:
      return "update";
    case Op::kDelete:
      return "delete";
    case Op::kTruncate:
      return "truncate";
    case Op::kMessage:
      return "message";
  }
  return "unknown";
}

Result<Op> ParseOpCode(std::string_view code) {
  if (code.size() == 1) {
    switch (code[0]) {
      case 'r':
        return Op::kRead;
      case 'c':
        return Op::kCreate;
      case 'u':
        return Op::kUpdate;
      case 'd':
        return Op::kDelete;
      case 't':
        return Op::kTruncate;
      case 'm':
        return Op::kMessage;
      default:
        break;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "'{}' is not a Debezium op code (expected r, c, u, d, t or m)", code);
}

namespace {
constexpr SnapshotMarker kAllMarkers[] = {
    SnapshotMarker::kFalse,
    SnapshotMarker::kTrue,
    SnapshotMarker::kFirst,
    SnapshotMarker::kFirstInDataCollection,
    SnapshotMarker::kLastInDataCollection,
    SnapshotMarker::kLast,
    SnapshotMarker::kIncremental,
};
}  // namespace

std::string_view SnapshotMarkerName(SnapshotMarker marker) {
  switch (marker) {
    case SnapshotMarker::kFalse:
      return "false";
    case SnapshotMarker::kTrue:
      return "true";
    case SnapshotMarker::kFirst:
      return "first";
    case SnapshotMarker::kFirstInDataCollection:
      return "first_in_data_collection";
    case SnapshotMarker::kLastInDataCollection:
      return "last_in_data_collection";
    case SnapshotMarker::kLast:
      return "last";
    case SnapshotMarker::kIncremental:
      return "incremental";
  }
  return "false";
}

Result<SnapshotMarker> ParseSnapshotMarker(std::string_view text) {
  for (SnapshotMarker marker : kAllMarkers) {
    if (SnapshotMarkerName(marker) == text) {
      return marker;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "'{}' is not a Debezium snapshot marker (expected true, first, "
                   "first_in_data_collection, last_in_data_collection, last, false or "
                   "incremental)",
                   text);
}

std::string_view ConnectorName(Connector connector) {
  switch (connector) {
    case Connector::kPostgres:
      return "postgresql";
    case Connector::kMysql:
      return "mysql";
  }
  return "unknown";
}

Result<Connector> ParseConnectorName(std::string_view name) {
  if (name == "postgresql") {
    return Connector::kPostgres;
  }
  if (name == "mysql") {
    return Connector::kMysql;
  }
  return MakeError(
      ErrorCode::kUnsupported,
      "Debezium connector '{}' is not supported (expected postgresql or mysql)", name);
}

std::string ChangeEvent::Topic() const {
  const std::string& middle =
      source.connector == Connector::kPostgres ? table.schema : table.database;
  return fmt::format("{}.{}.{}", source.name, middle, table.table);
}

Result<Row> ChangeEvent::KeyValues() const {
  if (!schema || schema->primary_key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "table {} has no primary key",
                     table.ToString());
  }
  const std::optional<Row>& row = op == Op::kDelete ? before : after;
  if (!row) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{} event for table {} has no {} row to take the key from",
                     OpName(op), table.ToString(),
                     op == Op::kDelete ? "before" : "after");
  }
  Row key;
  for (size_t idx : schema->primary_key) {
    if (idx >= row->size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "table {}: key column index {} beyond the row's {} values",
                       table.ToString(), idx, row->size());
    }
    key.push_back((*row)[idx]);
  }
  return key;
}

namespace {
std::string RowString(const TableSchema* schema, const std::optional<Row>& row) {
  if (!row) {
    return "null";
  }
  std::string out = "{";
  for (size_t idx = 0; idx < row->size(); ++idx) {
    std::string name = schema != nullptr && idx < schema->columns.size()
                           ? schema->columns[idx].name
                           : fmt::format("#{}", idx);
    out += fmt::format("{}{}: {}", idx == 0 ? "" : ", ", name, (*row)[idx].ToString());
  }
  return out + "}";
}

template <typename T>
std::string Opt(const std::optional<T>& value) {
  return value ? fmt::format("{}", *value) : "null";
}
}  // namespace

std::string ChangeEvent::ToString() const {
  std::string out =
      fmt::format("op={} table={} position={} commit_time_us={}\n", OpCode(op),
                  table.FullName(), position.ToString(), commit_time_us);
  out += fmt::format("  before={}\n  after={}\n", RowString(schema.get(), before),
                     RowString(schema.get(), after));
  out += fmt::format(
      "  source: connector={} version={} name={} snapshot={} sequence={} txId={} lsn={} "
      "xmin={} server_id={} gtid={} file={} pos={} row={} thread={} query={}\n",
      ConnectorName(source.connector), source.version, source.name,
      SnapshotMarkerName(snapshot), Opt(source.sequence), Opt(source.txid),
      Opt(source.lsn), Opt(source.xmin), Opt(source.server_id), Opt(source.gtid),
      Opt(source.file), Opt(source.pos), Opt(source.row), Opt(source.thread),
      Opt(source.query));
  if (transaction) {
    out += fmt::format("  transaction: id={} total_order={} data_collection_order={}\n",
                       transaction->id, transaction->total_order,
                       transaction->data_collection_order);
  }
  if (message) {
    out += fmt::format("  message: prefix={} transactional={} content_bytes={}\n",
                       message->prefix, message->transactional, message->content.size());
  }
  out += fmt::format("  processing_time_ns={}", processing_time_ns);
  if (schema) {
    out += "\n  schema:";
    for (const Column& column : schema->columns) {
      out +=
          fmt::format(" {}:{}{}{}", column.name, column.type.ToString(),
                      column.nullable ? "" : " not null",
                      column.is_key() ? fmt::format(" key#{}", column.key_position) : "");
    }
  }
  return out;
}

bool ChangeEvent::operator==(const ChangeEvent& other) const {
  bool schemas_equal =
      (schema == other.schema) || (schema && other.schema && *schema == *other.schema);
  return schemas_equal && op == other.op && table == other.table &&
         before == other.before && after == other.after && position == other.position &&
         commit_time_us == other.commit_time_us && transaction == other.transaction &&
         snapshot == other.snapshot && message == other.message &&
         source == other.source && processing_time_ns == other.processing_time_ns;
}

std::ostream& operator<<(std::ostream& out, const ChangeEvent& event) {
  return out << event.ToString();
}

void FillSourceFromPosition(ChangeEvent& event) {
  if (const PostgresPosition* pg = event.position.postgres()) {
    event.source.connector = Connector::kPostgres;
    event.source.lsn =
        static_cast<int64_t>(pg->event_lsn != 0 ? pg->event_lsn : pg->commit_lsn);
    if (pg->txid != 0) {
      event.source.txid = static_cast<int64_t>(pg->txid);
    }
  } else if (const MysqlPosition* my = event.position.mysql()) {
    event.source.connector = Connector::kMysql;
    event.source.file = my->file;
    event.source.pos = static_cast<int64_t>(my->pos);
    event.source.row = static_cast<int32_t>(my->row);
    event.source.server_id = static_cast<int64_t>(my->server_id);
    if (!my->gtid.empty()) {
      event.source.gtid = my->gtid;
    }
  }
}

}  // namespace tributary::core
