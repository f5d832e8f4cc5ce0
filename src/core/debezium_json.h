#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/change_event.h"
#include "core/result.h"
#include "core/schema.h"

namespace tributary::core {

/// Debezium's placeholder for a column value the connector does not have (unchanged TOAST
/// in PostgreSQL, `unavailable.value.placeholder`). Decoded as Value::Unavailable().
inline constexpr std::string_view kDebeziumUnavailablePlaceholder =
    "__debezium_unavailable_value";

/// How Debezium JSON is written. Mirrors the Kafka Connect JsonConverter and Debezium
/// connector options of the same names.
struct DebeziumEncodeOptions {
  /// JsonConverter `schemas.enable`: wrap as {"schema": ..., "payload": ...}.
  /// Default: false.
  bool schemas_enable = false;
  /// Debezium `decimal.handling.mode`: fixed-scale decimals as Connect Decimal (base64
  /// bytes, the default "precise") or as plain strings ("string"). Variable-scale
  /// decimals follow the same choice. Default: precise.
  enum class DecimalHandling : uint8_t { kPrecise, kString };
  DecimalHandling decimal_handling = DecimalHandling::kPrecise;
};

/// How Debezium JSON is read.
struct DebeziumDecodeOptions {
  /// The connector to assume when `source.connector` is missing. Default: none (missing
  /// connector is an error).
  std::optional<Connector> default_connector;
};

/// One decoded Kafka record: a change event, or a tombstone (null value) with its key.
struct DebeziumRecord {
  /// nullopt for a tombstone.
  std::optional<ChangeEvent> event;
  /// The key's column values in key order, when a key was given and is not null.
  std::optional<Row> key;
  /// The key's columns (names and types, from its schema when present). Set with `key`.
  std::shared_ptr<const TableSchema> key_schema;
};

/// A Kafka Connect schema as JSON text (the `schema` half of a record JsonConverter wrote
/// with schemas.enable=true), parsed once to decode many payloads that share it (records
/// whose schema is kept apart, e.g. in a schema registry). Immutable; share it freely.
class ConnectSchema {
 public:
  /// Errors: kInvalidArgument when `json` is not valid JSON or not an object.
  static Result<std::shared_ptr<const ConnectSchema>> Parse(std::string_view json);
  ~ConnectSchema();
  ConnectSchema(const ConnectSchema&) = delete;
  ConnectSchema& operator=(const ConnectSchema&) = delete;

  struct Parsed;  ///< defined in debezium_json.cc
  const Parsed& parsed() const { return *parsed_; }

 private:
  explicit ConnectSchema(std::unique_ptr<Parsed> parsed);
  std::unique_ptr<Parsed> parsed_;
};

/// The Connect schema JsonConverter (schemas.enable=true) writes for the record value of
/// `event`: exactly the `schema` member of EncodeDebeziumValue's output with
/// schemas_enable, as JSON text. The same for every event of one table schema version,
/// source, connector and op class (change / message). Rendered once per version and
/// thread (see AppendDebeziumValue). Errors: kInvalidArgument as EncodeDebeziumValue.
Result<std::string> DebeziumValueSchema(const ChangeEvent& event,
                                        const DebeziumEncodeOptions& options = {});

/// The Connect schema of the record key of `event` (the `schema` member of
/// EncodeDebeziumKey's output with schemas_enable), or nullopt when the key is null (no
/// primary key, op t/m). Errors: kInvalidArgument for a key column outside the schema.
Result<std::optional<std::string>> DebeziumKeySchema(const ChangeEvent& event,
                                                     const DebeziumEncodeOptions& options = {});

/// Encodes the Kafka record value of `event` as Debezium JSON, following the Debezium
/// PostgreSQL / MySQL connector docs ("Data change events", "Data type mappings"): the
/// envelope {before, after, source, transaction, op, ts_ms, ts_us, ts_ns} (plus `message`
/// for op "m"), the current (3.x) source block field set of `event.source.connector`, and
/// with schemas_enable the Connect schema generated from `event.schema` (see
/// ConnectSchemaFor in internal/debezium_connect.h for the type mapping).
/// Errors: kInvalidArgument when a row does not match the schema (naming table and
/// column) or a value cannot be represented (e.g. NaN decimal in a fixed-scale column).
Result<std::string> EncodeDebeziumValue(const ChangeEvent& event,
                                        const DebeziumEncodeOptions& options = {});

/// Encodes the Kafka record key: a struct of the primary-key columns (Debezium
/// "<prefix>.<schema>.<table>.Key"), from `after` or, for deletes, `before`.
/// nullopt when the table has no primary key (Debezium sends a null key) or for op t/m.
Result<std::optional<std::string>> EncodeDebeziumKey(
    const ChangeEvent& event, const DebeziumEncodeOptions& options = {});

/// As EncodeDebeziumValue, appending the JSON text to `out` instead of returning it (the
/// allocation-free path for sinks that batch many records into one buffer). With
/// schemas_enable the Connect schema is rendered once per table schema version (per
/// thread; keyed by the `event.schema` pointer, which is immutable while shared) and
/// copied afterwards. On error `out` is left as it was.
Status AppendDebeziumValue(const ChangeEvent& event,
                           const DebeziumEncodeOptions& options,
                           std::string& out);

/// As EncodeDebeziumKey, appending to `out`. Returns false and appends nothing when the
/// record's key is null. On error `out` is left as it was.
Result<bool> AppendDebeziumKey(const ChangeEvent& event,
                               const DebeziumEncodeOptions& options,
                               std::string& out);

/// True when Debezium follows this event with a tombstone (a record with the same key and
/// a null value): deletes, with the default `tombstones.on.delete=true`.
bool NeedsTombstone(const ChangeEvent& event);

/// Decodes a Debezium record value, with or without the JsonConverter schema wrapper
/// (detected: an object with exactly "schema" and "payload"). With a schema, Connect
/// types and semantic names (io.debezium.time.*, Decimal, VariableScaleDecimal, Json,
/// Uuid, Enum, Bits, arrays) type the values and the TableSchema; without one, values are
/// typed from JSON: integers as int64, other numbers as double, strings, booleans,
/// arrays, and objects as JSON text. Columns holding only nulls are typed as string. The
/// table's primary key is unknown from a value alone (use DecodeDebeziumRecord with the
/// key). `position` of the result is the PostgresPosition / MysqlPosition read from the
/// source block (a Kafka consumer replaces it with the record's KafkaPosition). Errors:
/// kInvalidArgument naming the JSON field (e.g. "payload.source.lsn") for malformed JSON,
/// missing required fields, or values that do not match their schema; kInvalidArgument
/// for a null / empty value (a tombstone: use DecodeDebeziumRecord).
Result<ChangeEvent> DecodeDebeziumValue(std::string_view json,
                                        const DebeziumDecodeOptions& options = {});

/// Decodes a whole Kafka record: `key` and `value` are the raw JSON texts, nullopt for a
/// null key / null value. A null (or "null") value is a tombstone. When a key is given,
/// the event's schema gets its primary key from the key's fields.
Result<DebeziumRecord> DecodeDebeziumRecord(std::optional<std::string_view> key,
                                            std::optional<std::string_view> value,
                                            const DebeziumDecodeOptions& options = {});

/// As DecodeDebeziumRecord, for records written with schemas.enable=false whose Connect
/// schemas are held apart (a schema registry): `key` / `value` are bare payloads decoded
/// with `key_schema` / `value_schema` exactly as if they had been wrapped as
/// {"schema": <schema>, "payload": <payload>}. A null schema pointer decodes that part as
/// DecodeDebeziumRecord does (wrapper detected, else schemaless). Error paths name the
/// payload's fields without a "payload." prefix.
Result<DebeziumRecord> DecodeDebeziumRecord(std::optional<std::string_view> key,
                                            const ConnectSchema* key_schema,
                                            std::optional<std::string_view> value,
                                            const ConnectSchema* value_schema,
                                            const DebeziumDecodeOptions& options = {});

}  // namespace tributary::core
