#include "core/debezium_json.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/internal/base64.h"
#include "core/internal/debezium_connect.h"
#include "core/json_writer.h"

// Debezium JSON change events, as described in the Debezium reference documentation:
//  - "Debezium connector for PostgreSQL" > "Data change events" (key, value envelope,
//    create/update/delete/truncate/message events, the `source` block fields) and
//    "Data type mappings";
//  - "Debezium connector for MySQL" > "Data change events" and "Data type mappings";
//  - "Transaction metadata" (the `transaction` block: id, total_order,
//    data_collection_order);
//  - Kafka Connect JsonConverter with schemas.enable=true ({"schema", "payload"}).
// Debezium 2.6 (DBZ-7107) added ts_us/ts_ns to the envelope and the source block and made
// the Envelope schema version 2; this encoder writes that current (3.x) field set.
namespace tributary::core {
namespace {

using internal::OrderedJson;

constexpr std::string_view kSnapshotAllowed =
    "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

Error FieldError(const std::string& path, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, "field '{}': {}", path, what);
}

std::string Join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

// ---------------------------------------------------------------------------------------
// Encoding

OrderedJson Field(std::string_view type, bool optional, std::string_view name) {
  return OrderedJson{{"type", type}, {"optional", optional}, {"field", name}};
}

OrderedJson SourceSchema(Connector connector, bool with_origin) {
  OrderedJson fields = OrderedJson::array();
  fields.push_back(Field("string", false, "version"));
  fields.push_back(Field("string", false, "connector"));
  fields.push_back(Field("string", false, "name"));
  fields.push_back(Field("int64", false, "ts_ms"));
  fields.push_back(OrderedJson{{"type", "string"},
                               {"optional", true},
                               {"name", "io.debezium.data.Enum"},
                               {"version", 1},
                               {"parameters", {{"allowed", kSnapshotAllowed}}},
                               {"default", "false"},
                               {"field", "snapshot"}});
  fields.push_back(Field("string", false, "db"));
  fields.push_back(Field("string", true, "sequence"));
  fields.push_back(Field("int64", true, "ts_us"));
  fields.push_back(Field("int64", true, "ts_ns"));
  if (connector == Connector::kPostgres) {
    fields.push_back(Field("string", false, "schema"));
    fields.push_back(Field("string", false, "table"));
    fields.push_back(Field("int64", true, "txId"));
    fields.push_back(Field("int64", true, "lsn"));
    fields.push_back(Field("int64", true, "xmin"));
    if (with_origin) {
      fields.push_back(Field("string", true, "origin"));
      fields.push_back(Field("int64", true, "origin_lsn"));
    }
  } else {
    fields.push_back(Field("string", true, "table"));
    fields.push_back(Field("int64", false, "server_id"));
    fields.push_back(Field("string", true, "gtid"));
    fields.push_back(Field("string", false, "file"));
    fields.push_back(Field("int64", false, "pos"));
    fields.push_back(Field("int32", false, "row"));
    fields.push_back(Field("int64", true, "thread"));
    fields.push_back(Field("string", true, "query"));
  }
  return OrderedJson{{"type", "struct"},
                     {"fields", std::move(fields)},
                     {"optional", false},
                     {"name", connector == Connector::kPostgres
                                  ? "io.debezium.connector.postgresql.Source"
                                  : "io.debezium.connector.mysql.Source"},
                     {"field", "source"}};
}

OrderedJson TransactionSchema() {
  OrderedJson fields = OrderedJson::array(
      {Field("string", false, "id"), Field("int64", false, "total_order"),
       Field("int64", false, "data_collection_order")});
  return OrderedJson{{"type", "struct"}, {"fields", std::move(fields)},
                     {"optional", true}, {"name", "event.block"},
                     {"version", 1},     {"field", "transaction"}};
}

Result<OrderedJson> RowStructSchema(const TableSchema& schema,
                                    const std::string& name,
                                    const std::vector<Column>& columns,
                                    bool optional,
                                    std::string_view field,
                                    const DebeziumEncodeOptions& options) {
  OrderedJson fields = OrderedJson::array();
  for (const Column& column : columns) {
    Result<OrderedJson> field_schema = internal::ConnectFieldSchema(column, options);
    if (!field_schema.ok()) {
      return std::move(field_schema)
          .WithContext(
              fmt::format("encoding the schema of table {}", schema.id.ToString()));
    }
    fields.push_back(std::move(*field_schema));
  }
  OrderedJson out{{"type", "struct"},
                  {"fields", std::move(fields)},
                  {"optional", optional},
                  {"name", name}};
  if (!field.empty()) {
    out["field"] = field;
  }
  return out;
}

// The "schema" half of a JsonConverter value with schemas.enable: the Envelope struct.
Result<OrderedJson> ValueSchemaJson(const ChangeEvent& event,
                                    const DebeziumEncodeOptions& options) {
  std::string topic = event.Topic();
  OrderedJson fields = OrderedJson::array();
  if (event.op != Op::kMessage) {
    TableSchema empty;
    const TableSchema& schema = event.schema ? *event.schema : empty;
    for (std::string_view which : {"before", "after"}) {
      TRIB_ASSIGN_OR_RETURN(OrderedJson row_schema,
                            RowStructSchema(schema, topic + ".Value", schema.columns,
                                            true, which, options));
      fields.push_back(std::move(row_schema));
    }
  }
  fields.push_back(SourceSchema(event.source.connector,
                                event.source.origin || event.source.origin_lsn));
  if (event.op == Op::kMessage) {
    fields.push_back(
        OrderedJson{{"type", "struct"},
                    {"fields", OrderedJson::array({Field("string", false, "prefix"),
                                                   Field("bytes", true, "content")})},
                    {"optional", false},
                    {"name", "io.debezium.connector.postgresql.Message"},
                    {"field", "message"}});
  }
  fields.push_back(TransactionSchema());
  fields.push_back(Field("string", false, "op"));
  fields.push_back(Field("int64", true, "ts_ms"));
  fields.push_back(Field("int64", true, "ts_us"));
  fields.push_back(Field("int64", true, "ts_ns"));
  OrderedJson schema{
      {"type", "struct"},
      {"fields", std::move(fields)},
      {"optional", false},
      {"name", event.op == Op::kMessage ? "io.debezium.connector.postgresql.MessageValue"
                                        : topic + ".Envelope"},
      {"version", 2}};
  return schema;
}

// Rendered JSON per table schema version: the `schema` half of every schemas.enable
// record of a table is the same until its TableSchema changes (a new shared_ptr), and so
// are the escaped column keys and the head of the source block, so they are rendered
// once. Entries hold the TableSchema alive, so a pointer match means the same version.
// One cache per thread (the encoder functions are free functions used from several
// threads); bounded by kMaxEntries. A returned Entry& stays valid until For() is called
// with a different key.
class SchemaCache {
 public:
  struct Entry {
    std::shared_ptr<const TableSchema> schema;
    std::string source_name;
    TableId table;
    Connector connector = Connector::kPostgres;
    bool with_origin = false;
    bool message = false;
    DebeziumEncodeOptions::DecimalHandling decimal_handling =
        DebeziumEncodeOptions::DecimalHandling::kPrecise;
    std::string version;
    std::optional<std::string> value_schema;  ///< rendered Envelope schema
    std::optional<std::string> key_schema;    ///< rendered Key schema
    /// `"<column>":` per column of `schema`; empty when a name is not UTF-8 (then the
    /// row writer escapes, and reports, it itself).
    std::vector<std::string> column_keys;
    /// `{"version":...,"connector":...,"name":...` of the source block; empty when a
    /// string is not UTF-8.
    std::string source_head;

    // The parts of a PostgreSQL record that change per transaction, not per row: rendered
    // for the last transaction seen (a transaction's rows come one after the other).
    /// `"ts_ms":...,"snapshot":...,"db":...,"sequence":` and `"ts_us":...,"ts_ns":...,
    /// "schema":...,"table":...,"txId":...,"lsn":`, for `txn_key_*`.
    bool txn_parts_valid = false;
    int64_t txn_key_commit_time_us = 0;
    SnapshotMarker txn_key_snapshot = SnapshotMarker::kFalse;
    std::optional<int64_t> txn_key_txid;
    std::string source_before_sequence;
    std::string source_before_lsn;
    /// `"transaction":{"id":...,"total_order":` for transaction id `transaction_id`.
    bool transaction_head_valid = false;
    std::string transaction_id;
    std::string transaction_head;
    /// `"op":...,"ts_ms":...,"ts_us":...,"ts_ns":...` for (tail_op, tail_time_ns).
    bool tail_valid = false;
    Op tail_op = Op::kCreate;
    int64_t tail_time_ns = 0;
    std::string tail;
  };

  Entry& For(const ChangeEvent& event, const DebeziumEncodeOptions& options) {
    bool with_origin =
        event.source.origin.has_value() || event.source.origin_lsn.has_value();
    bool message = event.op == Op::kMessage;
    auto matches = [&](const Entry& entry) {
      return entry.schema.get() == event.schema.get() &&
             entry.connector == event.source.connector &&
             entry.with_origin == with_origin && entry.message == message &&
             entry.decimal_handling == options.decimal_handling &&
             entry.source_name == event.source.name && entry.table == event.table &&
             entry.version == event.source.version;
    };
    if (last_ != nullptr && matches(*last_)) {
      return *last_;
    }
    for (auto& entry : entries_) {
      if (matches(*entry)) {
        last_ = entry.get();
        return *entry;
      }
    }
    if (entries_.size() >= kMaxEntries) {
      entries_.clear();
    }
    auto entry = std::make_unique<Entry>();
    entry->schema = event.schema;
    entry->source_name = event.source.name;
    entry->table = event.table;
    entry->connector = event.source.connector;
    entry->with_origin = with_origin;
    entry->message = message;
    entry->decimal_handling = options.decimal_handling;
    entry->version = event.source.version;
    Render(*entry);
    last_ = entry.get();
    entries_.push_back(std::move(entry));
    return *last_;
  }

 private:
  // The parts of every record of the entry that depend only on its key.
  static void Render(Entry& entry) {
    if (entry.schema) {
      for (const Column& column : entry.schema->columns) {
        std::string key;
        if (!AppendJsonString(key, column.name)) {
          entry.column_keys.clear();
          break;
        }
        key.push_back(':');
        entry.column_keys.push_back(std::move(key));
      }
    }
    std::string& head = entry.source_head;
    head = "{\"version\":";
    bool ok = AppendJsonString(head, entry.version);
    head += ",\"connector\":";
    ok = ok && AppendJsonString(head, ConnectorName(entry.connector));
    head += ",\"name\":";
    ok = ok && AppendJsonString(head, entry.source_name);
    if (!ok) {
      head.clear();
    }
  }

  static constexpr size_t kMaxEntries = 256;
  std::vector<std::unique_ptr<Entry>> entries_;
  Entry* last_ = nullptr;
};

SchemaCache& ThreadSchemaCache() {
  thread_local SchemaCache cache;
  return cache;
}

template <typename T>
void WriteOptionalInt(JsonWriter& writer, const std::optional<T>& value) {
  if (value) {
    writer.Int(*value);
  } else {
    writer.Null();
  }
}

void WriteOptionalString(JsonWriter& writer, const std::optional<std::string>& value) {
  if (value) {
    writer.String(*value);
  } else {
    writer.Null();
  }
}

// The `source` block, fields in the order the Debezium connectors write them.
// Renders the per-transaction parts of a PostgreSQL source block into `cached`; false
// (nothing cached) when a string is not UTF-8, so that the field-by-field path reports it.
bool RenderSourceTxnParts(const ChangeEvent& event, SchemaCache::Entry& cached) {
  cached.txn_parts_valid = false;
  char digits[24];
  auto append_int = [&](std::string& out, int64_t value) {
    auto result = std::to_chars(digits, digits + sizeof(digits), value);
    out.append(digits, static_cast<size_t>(result.ptr - digits));
  };
  std::string& first = cached.source_before_sequence;
  first.assign("\"ts_ms\":");
  append_int(first, FloorDiv(event.commit_time_us, 1000));
  first.append(",\"snapshot\":");
  bool ok = AppendJsonString(first, SnapshotMarkerName(event.snapshot));
  first.append(",\"db\":");
  ok = ok && AppendJsonString(first, event.table.database);
  first.append(",\"sequence\":");
  std::string& second = cached.source_before_lsn;
  second.assign("\"ts_us\":");
  append_int(second, event.commit_time_us);
  second.append(",\"ts_ns\":");
  append_int(second, event.commit_time_us * 1000);
  second.append(",\"schema\":");
  ok = ok && AppendJsonString(second, event.table.schema);
  second.append(",\"table\":");
  ok = ok && AppendJsonString(second, event.table.table);
  second.append(",\"txId\":");
  if (event.source.txid) {
    append_int(second, *event.source.txid);
  } else {
    second.append("null");
  }
  second.append(",\"lsn\":");
  if (!ok) {
    return false;
  }
  cached.txn_key_commit_time_us = event.commit_time_us;
  cached.txn_key_snapshot = event.snapshot;
  cached.txn_key_txid = event.source.txid;
  cached.txn_parts_valid = true;
  return true;
}

// The fields of a PostgreSQL `source` block after `lsn`: xmin, and origin/origin_lsn when
// the change carries a replication origin. Shared by the cached and the plain paths.
void WritePostgresSourceTail(JsonWriter& writer, const SourceInfo& source) {
  writer.LiteralKey("xmin");
  WriteOptionalInt(writer, source.xmin);
  if (source.origin || source.origin_lsn) {
    writer.LiteralKey("origin");
    WriteOptionalString(writer, source.origin);
    writer.LiteralKey("origin_lsn");
    WriteOptionalInt(writer, source.origin_lsn);
  }
}

void WriteSource(JsonWriter& writer,
                 const ChangeEvent& event,
                 SchemaCache::Entry& cached) {
  const SourceInfo& source = event.source;
  if (!cached.source_head.empty() && source.connector == Connector::kPostgres) {
    // The rows of one transaction differ only in `sequence`, `lsn` (and `xmin`, origin).
    bool cached_parts = cached.txn_parts_valid &&
                        cached.txn_key_commit_time_us == event.commit_time_us &&
                        cached.txn_key_snapshot == event.snapshot &&
                        cached.txn_key_txid == source.txid;
    if (cached_parts || RenderSourceTxnParts(event, cached)) {
      writer.Raw(cached.source_head);  // opens the object
      writer.RawKey(cached.source_before_sequence);
      WriteOptionalString(writer, source.sequence);
      writer.RawKey(cached.source_before_lsn);
      WriteOptionalInt(writer, source.lsn);
      WritePostgresSourceTail(writer, source);
      writer.EndObject();
      return;
    }
  }
  if (!cached.source_head.empty()) {
    writer.Raw(cached.source_head);  // opens the object
  } else {
    writer.BeginObject();
    writer.LiteralKey("version");
    writer.String(source.version);
    writer.LiteralKey("connector");
    writer.String(ConnectorName(source.connector));
    writer.LiteralKey("name");
    writer.String(source.name);
  }
  writer.LiteralKey("ts_ms");
  writer.Int(FloorDiv(event.commit_time_us, 1000));
  writer.LiteralKey("snapshot");
  writer.String(SnapshotMarkerName(event.snapshot));
  writer.LiteralKey("db");
  writer.String(event.table.database);
  writer.LiteralKey("sequence");
  WriteOptionalString(writer, source.sequence);
  writer.LiteralKey("ts_us");
  writer.Int(event.commit_time_us);
  writer.LiteralKey("ts_ns");
  writer.Int(event.commit_time_us * 1000);
  if (source.connector == Connector::kPostgres) {
    writer.LiteralKey("schema");
    writer.String(event.table.schema);
    writer.LiteralKey("table");
    writer.String(event.table.table);
    writer.LiteralKey("txId");
    WriteOptionalInt(writer, source.txid);
    writer.LiteralKey("lsn");
    WriteOptionalInt(writer, source.lsn);
    WritePostgresSourceTail(writer, source);
  } else {
    writer.LiteralKey("table");
    if (event.table.table.empty()) {
      writer.Null();
    } else {
      writer.String(event.table.table);
    }
    writer.LiteralKey("server_id");
    WriteOptionalInt(writer, source.server_id);
    writer.LiteralKey("gtid");
    WriteOptionalString(writer, source.gtid);
    writer.LiteralKey("file");
    WriteOptionalString(writer, source.file);
    writer.LiteralKey("pos");
    WriteOptionalInt(writer, source.pos);
    writer.LiteralKey("row");
    WriteOptionalInt(writer, source.row);
    writer.LiteralKey("thread");
    WriteOptionalInt(writer, source.thread);
    writer.LiteralKey("query");
    WriteOptionalString(writer, source.query);
  }
  writer.EndObject();
}

Status WriteRow(JsonWriter& writer,
                const TableSchema& schema,
                const std::optional<Row>& row,
                std::string_view which,
                const DebeziumEncodeOptions& options,
                const std::vector<std::string>& column_keys) {
  if (!row) {
    writer.Null();
    return OkStatus();
  }
  if (row->size() != schema.columns.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "table {}: the {} row has {} values but the table has {} columns",
                     schema.id.ToString(), which, row->size(), schema.columns.size());
  }
  internal::FieldPath row_path{nullptr, which, std::nullopt};
  writer.BeginObject();
  for (size_t idx = 0; idx < row->size(); ++idx) {
    const Column& column = schema.columns[idx];
    if (column_keys.size() == schema.columns.size()) {
      writer.RawKey(column_keys[idx]);
    } else {
      writer.Key(column.name);
    }
    Status written = internal::WriteConnectValue(
        writer, (*row)[idx], column.type, options,
        internal::FieldPath{&row_path, column.name, std::nullopt});
    if (!written.ok()) {
      return std::move(written).WithContext(
          fmt::format("encoding table {}", schema.id.ToString()));
    }
  }
  writer.EndObject();
  return OkStatus();
}

// The value payload: {before, after, source, [message], transaction, op, ts_*}.
Status WritePayload(JsonWriter& writer,
                    const ChangeEvent& event,
                    const DebeziumEncodeOptions& options) {
  SchemaCache::Entry& cached = ThreadSchemaCache().For(event, options);
  writer.BeginObject();
  if (event.op != Op::kMessage) {
    if (event.schema) {
      writer.LiteralKey("before");
      TRIB_RETURN_IF_ERROR(WriteRow(writer, *event.schema, event.before, "before",
                                    options, cached.column_keys));
      writer.LiteralKey("after");
      TRIB_RETURN_IF_ERROR(WriteRow(writer, *event.schema, event.after, "after", options,
                                    cached.column_keys));
    } else {
      writer.LiteralKey("before");
      writer.Null();
      writer.LiteralKey("after");
      writer.Null();
    }
  }
  writer.LiteralKey("source");
  WriteSource(writer, event, cached);
  if (event.op == Op::kMessage) {
    writer.LiteralKey("message");
    writer.BeginObject();
    writer.LiteralKey("prefix");
    writer.String(event.message->prefix);
    writer.LiteralKey("content");
    writer.Base64(event.message->content);
    writer.EndObject();
  }
  if (event.transaction) {
    // The id is the same for every event of a transaction: escaped once.
    if (!cached.transaction_head_valid || cached.transaction_id != event.transaction->id) {
      cached.transaction_id = event.transaction->id;
      cached.transaction_head.assign("\"transaction\":{\"id\":");
      cached.transaction_head_valid =
          AppendJsonString(cached.transaction_head, event.transaction->id);
      cached.transaction_head.append(",\"total_order\":");
    }
    if (cached.transaction_head_valid) {
      writer.RawKey(cached.transaction_head);
    } else {
      writer.LiteralKey("transaction");
      writer.BeginObject();
      writer.LiteralKey("id");
      writer.String(event.transaction->id);
      writer.LiteralKey("total_order");
    }
    writer.Int(event.transaction->total_order);
    writer.LiteralKey("data_collection_order");
    writer.Int(event.transaction->data_collection_order);
    writer.EndObject();
  } else {
    writer.LiteralKey("transaction");
    writer.Null();
  }
  // op and the processing time are the same for runs of events (one time per batch).
  if (!cached.tail_valid || cached.tail_op != event.op ||
      cached.tail_time_ns != event.processing_time_ns) {
    std::string& tail = cached.tail;
    tail.assign("\"op\":\"");
    tail.push_back(OpCode(event.op));
    char digits[24];
    auto append_int = [&](int64_t value) {
      auto result = std::to_chars(digits, digits + sizeof(digits), value);
      tail.append(digits, static_cast<size_t>(result.ptr - digits));
    };
    tail.append("\",\"ts_ms\":");
    append_int(FloorDiv(event.processing_time_ns, 1'000'000));
    tail.append(",\"ts_us\":");
    append_int(FloorDiv(event.processing_time_ns, 1'000));
    tail.append(",\"ts_ns\":");
    append_int(event.processing_time_ns);
    cached.tail_op = event.op;
    cached.tail_time_ns = event.processing_time_ns;
    cached.tail_valid = true;
  }
  writer.Raw(cached.tail);
  writer.EndObject();
  return OkStatus();
}

// The rendered Envelope schema of `event` (cached per table schema version and thread).
// The pointer stays valid until the thread's cache is asked for another key.
Result<const std::string*> CachedValueSchema(const ChangeEvent& event,
                                             const DebeziumEncodeOptions& options) {
  SchemaCache::Entry& cached = ThreadSchemaCache().For(event, options);
  if (!cached.value_schema) {
    try {
      TRIB_ASSIGN_OR_RETURN(OrderedJson schema, ValueSchemaJson(event, options));
      cached.value_schema = schema.dump();
    } catch (const nlohmann::json::exception& e) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot encode the schema of {} as JSON: {}",
                       event.table.ToString(), e.what());
    }
  }
  return &*cached.value_schema;
}

// The rendered Key schema of `event`, whose schema has a primary key (the caller checks).
Result<const std::string*> CachedKeySchema(const ChangeEvent& event,
                                           const DebeziumEncodeOptions& options) {
  const TableSchema& schema = *event.schema;
  SchemaCache::Entry& cached = ThreadSchemaCache().For(event, options);
  if (!cached.key_schema) {
    try {
      std::vector<Column> key_columns;
      for (size_t idx : schema.primary_key) {
        if (idx >= schema.columns.size()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "table {}: key column index {} beyond its {} columns",
                           event.table.ToString(), idx, schema.columns.size());
        }
        key_columns.push_back(schema.columns[idx]);
      }
      TRIB_ASSIGN_OR_RETURN(OrderedJson key_schema,
                            RowStructSchema(schema, event.Topic() + ".Key", key_columns,
                                            false, "", options));
      cached.key_schema = key_schema.dump();
    } catch (const nlohmann::json::exception& e) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot encode the key schema of {} as JSON: {}",
                       event.table.ToString(), e.what());
    }
  }
  return &*cached.key_schema;
}

Status WriteValue(JsonWriter& writer,
                  const ChangeEvent& event,
                  const DebeziumEncodeOptions& options) {
  bool row_event = event.op != Op::kTruncate && event.op != Op::kMessage;
  if (row_event && !event.schema) {
    return MakeError(ErrorCode::kInvalidArgument, "{} event for table {} has no schema",
                     OpName(event.op), event.table.ToString());
  }
  if (event.op == Op::kMessage && !event.message) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "message event (op m) from {} has no message", event.source.name);
  }
  if (!options.schemas_enable) {
    return WritePayload(writer, event, options);
  }
  TRIB_ASSIGN_OR_RETURN(const std::string* value_schema, CachedValueSchema(event, options));
  writer.BeginObject();
  writer.LiteralKey("schema");
  writer.Raw(*value_schema);
  writer.LiteralKey("payload");
  TRIB_RETURN_IF_ERROR(WritePayload(writer, event, options));
  writer.EndObject();
  return OkStatus();
}

// Returns false (nothing written) when the record has a null key.
Result<bool> WriteKey(JsonWriter& writer,
                      const ChangeEvent& event,
                      const DebeziumEncodeOptions& options) {
  if (event.op == Op::kTruncate || event.op == Op::kMessage || !event.schema ||
      event.schema->primary_key.empty()) {
    return false;
  }
  const TableSchema& schema = *event.schema;
  const std::optional<Row>& row = event.op == Op::kDelete ? event.before : event.after;
  if (!row) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{} event for table {} has no {} row to take the key from",
                     OpName(event.op), event.table.ToString(),
                     event.op == Op::kDelete ? "before" : "after");
  }
  for (size_t idx : schema.primary_key) {
    if (idx >= row->size() || idx >= schema.columns.size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "table {}: key column index {} beyond the row's {} values",
                       event.table.ToString(), idx, row->size());
    }
  }
  if (options.schemas_enable) {
    TRIB_ASSIGN_OR_RETURN(const std::string* key_schema, CachedKeySchema(event, options));
    writer.BeginObject();
    writer.LiteralKey("schema");
    writer.Raw(*key_schema);
    writer.LiteralKey("payload");
  }
  internal::FieldPath key_path{nullptr, "key", std::nullopt};
  writer.BeginObject();
  for (size_t idx : schema.primary_key) {
    const Column& column = schema.columns[idx];
    writer.Key(column.name);
    TRIB_RETURN_IF_ERROR(internal::WriteConnectValue(
        writer, (*row)[idx], column.type, options,
        internal::FieldPath{&key_path, column.name, std::nullopt}));
  }
  writer.EndObject();
  if (options.schemas_enable) {
    writer.EndObject();
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Decoding

Result<OrderedJson> ParseJson(std::string_view text, std::string_view what) {
  try {
    return OrderedJson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "the {} is not valid JSON: {}", what,
                     e.what());
  }
}

// {"schema": ..., "payload": ...} as written by JsonConverter with schemas.enable=true.
bool IsSchemaWrapped(const OrderedJson& json) {
  return json.is_object() && json.size() == 2 && json.contains("schema") &&
         json.contains("payload");
}

const OrderedJson* Find(const OrderedJson& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<std::optional<int64_t>> OptInt64(const OrderedJson& object,
                                        std::string_view key,
                                        const std::string& path) {
  const OrderedJson* value = Find(object, key);
  if (value == nullptr || value->is_null()) {
    return std::optional<int64_t>();
  }
  if (value->is_number_integer() && !value->is_number_unsigned()) {
    return std::optional<int64_t>(value->get<int64_t>());
  }
  if (value->is_number_unsigned() &&
      value->get<uint64_t>() <=
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::optional<int64_t>(static_cast<int64_t>(value->get<uint64_t>()));
  }
  return FieldError(Join(path, key),
                    fmt::format("expected an int64, got {} {}",
                                internal::JsonTypeName(*value), value->dump()));
}

Result<std::optional<std::string>> OptString(const OrderedJson& object,
                                             std::string_view key,
                                             const std::string& path) {
  const OrderedJson* value = Find(object, key);
  if (value == nullptr || value->is_null()) {
    return std::optional<std::string>();
  }
  if (!value->is_string()) {
    return FieldError(Join(path, key),
                      fmt::format("expected a string, got {} {}",
                                  internal::JsonTypeName(*value), value->dump()));
  }
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::string> RequiredString(const OrderedJson& object,
                                   std::string_view key,
                                   const std::string& path) {
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> value, OptString(object, key, path));
  if (!value) {
    return FieldError(Join(path, key), "missing");
  }
  return std::move(*value);
}

// Reads the source block into `event` (source, table, snapshot, commit time, position).
Status DecodeSource(const OrderedJson& source,
                    const std::string& path,
                    const DebeziumDecodeOptions& options,
                    ChangeEvent& event) {
  if (!source.is_object()) {
    return FieldError(
        path, fmt::format("expected an object, got {}", internal::JsonTypeName(source)));
  }
  SourceInfo& info = event.source;
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> connector,
                        OptString(source, "connector", path));
  if (connector) {
    Result<Connector> parsed = ParseConnectorName(*connector);
    if (!parsed.ok()) {
      return FieldError(Join(path, "connector"), parsed.status().message());
    }
    info.connector = *parsed;
  } else if (options.default_connector) {
    info.connector = *options.default_connector;
  } else {
    return FieldError(Join(path, "connector"), "missing");
  }
  TRIB_ASSIGN_OR_RETURN(info.version, RequiredString(source, "version", path));
  TRIB_ASSIGN_OR_RETURN(info.name, RequiredString(source, "name", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> db, OptString(source, "db", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<std::string> table,
                        OptString(source, "table", path));
  event.table.database = db.value_or("");
  event.table.table = table.value_or("");
  TRIB_ASSIGN_OR_RETURN(info.sequence, OptString(source, "sequence", path));

  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_ms, OptInt64(source, "ts_ms", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_us, OptInt64(source, "ts_us", path));
  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_ns, OptInt64(source, "ts_ns", path));
  if (ts_us) {
    event.commit_time_us = *ts_us;
  } else if (ts_ns) {
    event.commit_time_us = FloorDiv(*ts_ns, 1000);
  } else if (ts_ms) {
    event.commit_time_us = *ts_ms * 1000;
  }

  const OrderedJson* snapshot = Find(source, "snapshot");
  if (snapshot == nullptr || snapshot->is_null()) {
    event.snapshot = SnapshotMarker::kFalse;
  } else if (snapshot->is_boolean()) {
    // Older/illustrative messages use a boolean.
    event.snapshot =
        snapshot->get<bool>() ? SnapshotMarker::kTrue : SnapshotMarker::kFalse;
  } else if (snapshot->is_string()) {
    Result<SnapshotMarker> marker = ParseSnapshotMarker(snapshot->get<std::string>());
    if (!marker.ok()) {
      return FieldError(Join(path, "snapshot"), marker.status().message());
    }
    event.snapshot = *marker;
  } else {
    return FieldError(Join(path, "snapshot"), "expected a string");
  }

  if (info.connector == Connector::kPostgres) {
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> schema,
                          OptString(source, "schema", path));
    event.table.schema = schema.value_or("");
    TRIB_ASSIGN_OR_RETURN(info.txid, OptInt64(source, "txId", path));
    TRIB_ASSIGN_OR_RETURN(info.lsn, OptInt64(source, "lsn", path));
    TRIB_ASSIGN_OR_RETURN(info.xmin, OptInt64(source, "xmin", path));
    TRIB_ASSIGN_OR_RETURN(info.origin, OptString(source, "origin", path));
    TRIB_ASSIGN_OR_RETURN(info.origin_lsn, OptInt64(source, "origin_lsn", path));
    PostgresPosition position;
    // Debezium does not carry the commit LSN; the event LSN orders events the same way.
    position.commit_lsn = static_cast<uint64_t>(info.lsn.value_or(0));
    position.event_lsn = static_cast<uint64_t>(info.lsn.value_or(0));
    position.txid = static_cast<uint64_t>(info.txid.value_or(0));
    event.position = position;
  } else {
    TRIB_ASSIGN_OR_RETURN(info.server_id, OptInt64(source, "server_id", path));
    TRIB_ASSIGN_OR_RETURN(info.gtid, OptString(source, "gtid", path));
    TRIB_ASSIGN_OR_RETURN(info.file, OptString(source, "file", path));
    TRIB_ASSIGN_OR_RETURN(info.pos, OptInt64(source, "pos", path));
    TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> row, OptInt64(source, "row", path));
    if (row) {
      if (*row < 0 || *row > std::numeric_limits<int32_t>::max()) {
        return FieldError(Join(path, "row"), fmt::format("{} is out of range", *row));
      }
      info.row = static_cast<int32_t>(*row);
    }
    TRIB_ASSIGN_OR_RETURN(info.thread, OptInt64(source, "thread", path));
    TRIB_ASSIGN_OR_RETURN(info.query, OptString(source, "query", path));
    if (info.pos && *info.pos < 0) {
      return FieldError(Join(path, "pos"), fmt::format("{} is negative", *info.pos));
    }
    MysqlPosition position;
    position.file = info.file.value_or("");
    position.pos = static_cast<uint64_t>(info.pos.value_or(0));
    position.row = static_cast<uint32_t>(info.row.value_or(0));
    position.server_id = static_cast<uint32_t>(info.server_id.value_or(0));
    position.gtid = info.gtid.value_or("");
    event.position = std::move(position);
  }
  return OkStatus();
}

// Columns from the envelope schema's before/after struct, or nullopt when it has none.
Result<std::optional<std::vector<Column>>> ColumnsFromEnvelopeSchema(
    const OrderedJson& schema, const std::string& path) {
  const OrderedJson* fields = schema.is_object() ? Find(schema, "fields") : nullptr;
  if (fields == nullptr || !fields->is_array()) {
    return FieldError(Join(path, "fields"), "the envelope schema has no fields array");
  }
  const OrderedJson* row_schema = nullptr;
  size_t row_idx = 0;
  for (size_t idx = 0; idx < fields->size(); ++idx) {
    const OrderedJson& field = (*fields)[idx];
    const OrderedJson* name = field.is_object() ? Find(field, "field") : nullptr;
    if (name == nullptr || !name->is_string()) {
      continue;
    }
    if (*name == "after" || (*name == "before" && row_schema == nullptr)) {
      row_schema = &field;
      row_idx = idx;
    }
  }
  if (row_schema == nullptr) {
    return std::optional<std::vector<Column>>();
  }
  std::string row_path = fmt::format("{}.fields[{}]", path, row_idx);
  const OrderedJson* row_fields = Find(*row_schema, "fields");
  if (row_fields == nullptr || !row_fields->is_array()) {
    return FieldError(Join(row_path, "fields"), "the row struct has no fields array");
  }
  std::vector<Column> columns;
  for (size_t idx = 0; idx < row_fields->size(); ++idx) {
    TRIB_ASSIGN_OR_RETURN(
        Column column,
        internal::ColumnFromConnectField((*row_fields)[idx],
                                         fmt::format("{}.fields[{}]", row_path, idx)));
    columns.push_back(std::move(column));
  }
  return std::optional<std::vector<Column>>(std::move(columns));
}

// Columns typed from the JSON values of the given row objects (schemaless).
Result<std::vector<Column>> InferColumns(const std::vector<const OrderedJson*>& rows,
                                         const std::vector<std::string>& paths) {
  std::vector<Column> columns;
  std::vector<bool> typed;
  for (size_t row_idx = 0; row_idx < rows.size(); ++row_idx) {
    for (const auto& [key, value] : rows[row_idx]->items()) {
      size_t idx = 0;
      while (idx < columns.size() && columns[idx].name != key) {
        ++idx;
      }
      if (idx == columns.size()) {
        Column column;
        column.name = key;
        column.type = DataType::Of(TypeKind::kString);
        columns.push_back(std::move(column));
        typed.push_back(false);
      }
      if (value.is_string() &&
          value.get_ref<const std::string&>() == kDebeziumUnavailablePlaceholder) {
        continue;
      }
      std::optional<DataType> inferred = internal::InferDataType(value);
      if (!inferred) {
        continue;
      }
      if (!typed[idx]) {
        columns[idx].type = *inferred;
        typed[idx] = true;
        continue;
      }
      std::optional<DataType> merged =
          internal::MergeInferredTypes(columns[idx].type, *inferred);
      if (!merged) {
        return FieldError(
            Join(paths[row_idx], key),
            fmt::format("holds a {} where other rows hold {}", inferred->ToString(),
                        columns[idx].type.ToString()));
      }
      columns[idx].type = *merged;
    }
  }
  for (Column& column : columns) {
    // An array whose elements were all null: string elements.
    if (column.type.kind == TypeKind::kArray && column.type.source_type == "?") {
      column.type.source_type.clear();
    }
  }
  return columns;
}

Result<std::optional<Row>> DecodeRow(const OrderedJson* json,
                                     const TableSchema& schema,
                                     bool with_schema,
                                     const std::string& path) {
  if (json == nullptr || json->is_null()) {
    return std::optional<Row>();
  }
  if (!json->is_object()) {
    return FieldError(path, fmt::format("expected an object or null, got {}",
                                        internal::JsonTypeName(*json)));
  }
  for (const auto& [key, value] : json->items()) {
    if (schema.Find(key) == nullptr) {
      return FieldError(Join(path, key), "not a column of the row schema");
    }
  }
  Row row;
  row.reserve(schema.columns.size());
  for (const Column& column : schema.columns) {
    const OrderedJson* value = Find(*json, column.name);
    std::string value_path = Join(path, column.name);
    if (value == nullptr) {
      row.push_back(Value::Null());
      continue;
    }
    Result<Value> decoded =
        with_schema ? internal::DecodeConnectValue(*value, column.type, value_path)
                    : internal::DecodeSchemalessValue(*value, column.type, value_path);
    if (!decoded.ok()) {
      return std::move(decoded).status();
    }
    row.push_back(std::move(*decoded));
  }
  return std::optional<Row>(std::move(row));
}

// A value: the payload with its Connect schema (null: schemaless); `prefix` names the
// payload in error paths ("payload" inside a wrapper, "" for a bare payload).
Result<ChangeEvent> DecodeValueParts(const OrderedJson* schema,
                                     const OrderedJson* payload,
                                     const std::string& prefix,
                                     const DebeziumDecodeOptions& options) {
  if (!payload->is_object()) {
    return FieldError(
        prefix.empty() ? "value" : prefix,
        fmt::format("expected an object, got {}", internal::JsonTypeName(*payload)));
  }

  ChangeEvent event;
  TRIB_ASSIGN_OR_RETURN(std::string op_code, RequiredString(*payload, "op", prefix));
  {
    Result<Op> op = ParseOpCode(op_code);
    if (!op.ok()) {
      return FieldError(Join(prefix, "op"), op.status().message());
    }
    event.op = *op;
  }
  const OrderedJson* source = Find(*payload, "source");
  if (source == nullptr || source->is_null()) {
    return FieldError(Join(prefix, "source"), "missing");
  }
  TRIB_RETURN_IF_ERROR(DecodeSource(*source, Join(prefix, "source"), options, event));

  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_ms,
                        OptInt64(*payload, "ts_ms", prefix));
  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_us,
                        OptInt64(*payload, "ts_us", prefix));
  TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> ts_ns,
                        OptInt64(*payload, "ts_ns", prefix));
  if (ts_ns) {
    event.processing_time_ns = *ts_ns;
  } else if (ts_us) {
    event.processing_time_ns = *ts_us * 1000;
  } else if (ts_ms) {
    event.processing_time_ns = *ts_ms * 1'000'000;
  }

  if (const OrderedJson* tx = Find(*payload, "transaction");
      tx != nullptr && !tx->is_null()) {
    std::string tx_path = Join(prefix, "transaction");
    if (!tx->is_object()) {
      return FieldError(tx_path, "expected an object or null");
    }
    TransactionInfo info;
    TRIB_ASSIGN_OR_RETURN(info.id, RequiredString(*tx, "id", tx_path));
    TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> total,
                          OptInt64(*tx, "total_order", tx_path));
    TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> collection,
                          OptInt64(*tx, "data_collection_order", tx_path));
    info.total_order = total.value_or(0);
    info.data_collection_order = collection.value_or(0);
    event.transaction = std::move(info);
    if (event.position.postgres() != nullptr) {
      // total_order is 1-based; PostgresPosition::event_index is 0-based.
      PostgresPosition updated = *event.position.postgres();
      updated.event_index =
          static_cast<uint64_t>(std::max<int64_t>(total.value_or(1) - 1, 0));
      event.position = updated;
    }
  }

  if (event.op == Op::kMessage) {
    std::string message_path = Join(prefix, "message");
    const OrderedJson* message = Find(*payload, "message");
    if (message == nullptr || !message->is_object()) {
      return FieldError(message_path, "missing or not an object for op m");
    }
    LogicalMessage decoded;
    TRIB_ASSIGN_OR_RETURN(decoded.prefix,
                          RequiredString(*message, "prefix", message_path));
    TRIB_ASSIGN_OR_RETURN(std::optional<std::string> content,
                          OptString(*message, "content", message_path));
    if (content) {
      Result<std::vector<uint8_t>> bytes = internal::Base64Decode(*content);
      if (!bytes.ok()) {
        return FieldError(Join(message_path, "content"), bytes.status().message());
      }
      decoded.content = std::move(*bytes);
    }
    // Debezium has no flag for it; non-transactional messages carry no txId.
    decoded.transactional = event.source.txid.has_value();
    event.message = std::move(decoded);
    return event;
  }

  const OrderedJson* before = Find(*payload, "before");
  const OrderedJson* after = Find(*payload, "after");
  auto table_schema = std::make_shared<TableSchema>();
  table_schema->id = event.table;
  bool have_columns = false;
  bool needs_row = event.op != Op::kTruncate;
  if (schema != nullptr) {
    TRIB_ASSIGN_OR_RETURN(std::optional<std::vector<Column>> columns,
                          ColumnsFromEnvelopeSchema(*schema, "schema"));
    // A truncate of a table without known columns carries empty row structs.
    if (columns && (!columns->empty() || needs_row)) {
      table_schema->columns = std::move(*columns);
      have_columns = true;
    }
  } else {
    std::vector<const OrderedJson*> rows;
    std::vector<std::string> paths;
    for (auto [row, which] : {std::pair{before, "before"}, std::pair{after, "after"}}) {
      if (row != nullptr && row->is_object()) {
        rows.push_back(row);
        paths.push_back(Join(prefix, which));
      }
    }
    if (!rows.empty()) {
      TRIB_ASSIGN_OR_RETURN(table_schema->columns, InferColumns(rows, paths));
      have_columns = true;
    }
  }
  TRIB_ASSIGN_OR_RETURN(event.before, DecodeRow(before, *table_schema, schema != nullptr,
                                                Join(prefix, "before")));
  TRIB_ASSIGN_OR_RETURN(event.after, DecodeRow(after, *table_schema, schema != nullptr,
                                               Join(prefix, "after")));
  bool needs_before = event.op == Op::kDelete;
  bool needs_after =
      event.op == Op::kRead || event.op == Op::kCreate || event.op == Op::kUpdate;
  if (needs_before && !event.before) {
    return FieldError(Join(prefix, "before"), "a delete event needs a before row");
  }
  if (needs_after && !event.after) {
    return FieldError(Join(prefix, "after"),
                      fmt::format("a{} {} event needs an after row",
                                  event.op == Op::kUpdate ? "n" : "", OpName(event.op)));
  }
  if (have_columns) {
    event.schema = std::move(table_schema);
  }
  return event;
}

Result<ChangeEvent> DecodeValueJson(const OrderedJson& root,
                                    const DebeziumDecodeOptions& options) {
  if (root.is_null()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the value is null (a tombstone); use DecodeDebeziumRecord");
  }
  if (IsSchemaWrapped(root)) {
    const OrderedJson& payload = root["payload"];
    if (payload.is_null()) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "the value payload is null (a tombstone); use DecodeDebeziumRecord");
    }
    return DecodeValueParts(&root["schema"], &payload, "payload", options);
  }
  return DecodeValueParts(nullptr, &root, "", options);
}

// The key's columns and values. `key_schema_json` is null when schemaless.
Result<std::pair<std::shared_ptr<TableSchema>, Row>> DecodeKeyParts(
    const OrderedJson* schema, const OrderedJson* payload, const std::string& prefix) {
  if (!payload->is_object()) {
    return FieldError(prefix, fmt::format("expected an object, got {}",
                                          internal::JsonTypeName(*payload)));
  }
  auto key_schema = std::make_shared<TableSchema>();
  if (schema != nullptr) {
    const OrderedJson* fields = schema->is_object() ? Find(*schema, "fields") : nullptr;
    if (fields == nullptr || !fields->is_array()) {
      return FieldError("key.schema.fields", "missing or not an array");
    }
    for (size_t idx = 0; idx < fields->size(); ++idx) {
      TRIB_ASSIGN_OR_RETURN(
          Column column, internal::ColumnFromConnectField(
                             (*fields)[idx], fmt::format("key.schema.fields[{}]", idx)));
      key_schema->columns.push_back(std::move(column));
    }
  } else {
    TRIB_ASSIGN_OR_RETURN(key_schema->columns, InferColumns({payload}, {prefix}));
  }
  for (size_t idx = 0; idx < key_schema->columns.size(); ++idx) {
    key_schema->primary_key.push_back(idx);
  }
  key_schema->SyncKeyPositions();
  TRIB_ASSIGN_OR_RETURN(std::optional<Row> row,
                        DecodeRow(payload, *key_schema, schema != nullptr, prefix));
  return std::pair{std::move(key_schema), std::move(*row)};
}

Result<std::pair<std::shared_ptr<TableSchema>, Row>> DecodeKeyJson(
    const OrderedJson& root) {
  if (IsSchemaWrapped(root)) {
    return DecodeKeyParts(&root["schema"], &root["payload"], "key.payload");
  }
  return DecodeKeyParts(nullptr, &root, "key");
}

}  // namespace

struct ConnectSchema::Parsed {
  OrderedJson json;
};

ConnectSchema::ConnectSchema(std::unique_ptr<Parsed> parsed) : parsed_(std::move(parsed)) {}
ConnectSchema::~ConnectSchema() = default;

Result<std::shared_ptr<const ConnectSchema>> ConnectSchema::Parse(std::string_view json) {
  TRIB_ASSIGN_OR_RETURN(OrderedJson parsed, ParseJson(json, "Connect schema"));
  if (!parsed.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the Connect schema is not a JSON object but {}",
                     internal::JsonTypeName(parsed));
  }
  auto holder = std::make_unique<Parsed>();
  holder->json = std::move(parsed);
  return std::shared_ptr<const ConnectSchema>(new ConnectSchema(std::move(holder)));
}

Result<std::string> DebeziumValueSchema(const ChangeEvent& event,
                                        const DebeziumEncodeOptions& options) {
  TRIB_ASSIGN_OR_RETURN(const std::string* schema, CachedValueSchema(event, options));
  return *schema;
}

Result<std::optional<std::string>> DebeziumKeySchema(const ChangeEvent& event,
                                                     const DebeziumEncodeOptions& options) {
  if (event.op == Op::kTruncate || event.op == Op::kMessage || !event.schema ||
      event.schema->primary_key.empty()) {
    return std::optional<std::string>();
  }
  TRIB_ASSIGN_OR_RETURN(const std::string* schema, CachedKeySchema(event, options));
  return std::optional<std::string>(*schema);
}

Status AppendDebeziumValue(const ChangeEvent& event,
                           const DebeziumEncodeOptions& options,
                           std::string& out) {
  size_t start = out.size();
  JsonWriter writer(out);
  Status written = WriteValue(writer, event, options);
  if (written.ok() && !writer.ok()) {
    // As nlohmann's dump() did: a string that is not UTF-8 cannot be written.
    written = MakeError(ErrorCode::kInvalidArgument,
                        "cannot encode the {} event for {} as JSON: {}", OpName(event.op),
                        event.table.ToString(), writer.error());
  }
  if (!written.ok()) {
    out.resize(start);
  }
  return written;
}

Result<bool> AppendDebeziumKey(const ChangeEvent& event,
                               const DebeziumEncodeOptions& options,
                               std::string& out) {
  size_t start = out.size();
  JsonWriter writer(out);
  Result<bool> written = WriteKey(writer, event, options);
  if (written.ok() && !writer.ok()) {
    written =
        MakeError(ErrorCode::kInvalidArgument, "cannot encode the key for {} as JSON: {}",
                  event.table.ToString(), writer.error());
  }
  if (!written.ok()) {
    out.resize(start);
  }
  return written;
}

Result<std::string> EncodeDebeziumValue(const ChangeEvent& event,
                                        const DebeziumEncodeOptions& options) {
  std::string out;
  TRIB_RETURN_IF_ERROR(AppendDebeziumValue(event, options, out));
  return out;
}

Result<std::optional<std::string>> EncodeDebeziumKey(
    const ChangeEvent& event, const DebeziumEncodeOptions& options) {
  std::string out;
  TRIB_ASSIGN_OR_RETURN(bool has_key, AppendDebeziumKey(event, options, out));
  if (!has_key) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(out));
}

bool NeedsTombstone(const ChangeEvent& event) {
  return event.op == Op::kDelete;
}

Result<ChangeEvent> DecodeDebeziumValue(std::string_view json,
                                        const DebeziumDecodeOptions& options) {
  if (json.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the value is empty (a tombstone); use DecodeDebeziumRecord");
  }
  TRIB_ASSIGN_OR_RETURN(OrderedJson root, ParseJson(json, "Debezium value"));
  try {
    return DecodeValueJson(root, options);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "malformed Debezium value: {}",
                     e.what());
  }
}

Result<DebeziumRecord> DecodeDebeziumRecord(std::optional<std::string_view> key,
                                            std::optional<std::string_view> value,
                                            const DebeziumDecodeOptions& options) {
  return DecodeDebeziumRecord(key, nullptr, value, nullptr, options);
}

Result<DebeziumRecord> DecodeDebeziumRecord(std::optional<std::string_view> key,
                                            const ConnectSchema* key_schema_json,
                                            std::optional<std::string_view> value,
                                            const ConnectSchema* value_schema_json,
                                            const DebeziumDecodeOptions& options) {
  DebeziumRecord record;
  std::shared_ptr<TableSchema> key_schema;
  try {
    if (key && !key->empty()) {
      TRIB_ASSIGN_OR_RETURN(OrderedJson key_json, ParseJson(*key, "Debezium key"));
      if (key_schema_json != nullptr) {
        if (!key_json.is_null()) {
          TRIB_ASSIGN_OR_RETURN(auto decoded,
                                DecodeKeyParts(&key_schema_json->parsed().json, &key_json,
                                               "key"));
          key_schema = std::move(decoded.first);
          record.key = std::move(decoded.second);
        }
      } else if (!key_json.is_null() &&
                 !(IsSchemaWrapped(key_json) && key_json["payload"].is_null())) {
        TRIB_ASSIGN_OR_RETURN(auto decoded, DecodeKeyJson(key_json));
        key_schema = std::move(decoded.first);
        record.key = std::move(decoded.second);
      }
    }
    if (value && !value->empty()) {
      TRIB_ASSIGN_OR_RETURN(OrderedJson value_json, ParseJson(*value, "Debezium value"));
      if (value_schema_json != nullptr) {
        if (!value_json.is_null()) {
          TRIB_ASSIGN_OR_RETURN(ChangeEvent event,
                                DecodeValueParts(&value_schema_json->parsed().json,
                                                 &value_json, "", options));
          record.event = std::move(event);
        }
      } else {
        bool tombstone = value_json.is_null() ||
                         (IsSchemaWrapped(value_json) && value_json["payload"].is_null());
        if (!tombstone) {
          TRIB_ASSIGN_OR_RETURN(ChangeEvent event, DecodeValueJson(value_json, options));
          record.event = std::move(event);
        }
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "malformed Debezium record: {}",
                     e.what());
  }
  if (record.event && key_schema) {
    key_schema->id = record.event->table;
    if (record.event->schema) {
      auto schema = std::make_shared<TableSchema>(*record.event->schema);
      schema->primary_key.clear();
      for (const Column& key_column : key_schema->columns) {
        std::optional<size_t> idx = schema->FindIndex(key_column.name);
        if (!idx) {
          return FieldError("key." + key_column.name,
                            fmt::format("key column is not a column of table {}",
                                        record.event->table.ToString()));
        }
        schema->primary_key.push_back(*idx);
      }
      schema->SyncKeyPositions();
      record.event->schema = std::move(schema);
    }
  }
  record.key_schema = std::move(key_schema);
  return record;
}

}  // namespace tributary::core
