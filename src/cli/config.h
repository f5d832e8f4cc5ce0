#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/logging.h"
#include "core/result.h"

/// The TOML pipeline configuration (docs/CONFIG.md documents every key), loaded and
/// validated up front into plain structs. Only cli/ reads this file; commands translate
/// the parts they need into each module's own options struct.
///
/// Conventions: durations are integers in milliseconds (`*_ms`) or hours (`*_hours`),
/// sizes in bytes (`*_bytes`); relative paths written in the file are resolved against
/// the file's directory; `${VAR}` / `${VAR:-default}` expand environment variables in the
/// keys docs/CONFIG.md marks (DSNs, Kafka settings, lake.root), `$$` is a literal `$`.
namespace tributary::cli {

enum class SourceType { kPostgres, kMysql, kKafka };
enum class SnapshotMode {
  kInitial,      ///< snapshot the tables once (no committed position yet), then stream
  kNever,        ///< stream only, from the slot/binlog's current position
  kInitialOnly,  ///< snapshot, then stop
  kAlways,       ///< snapshot on every start, then stream
};
enum class Materialization {
  kTable,        ///< rebuilt from its SQL on every refresh
  kIncremental,  ///< merged by key for the rows whose inputs changed
  kScd2,         ///< type-2 history by key: valid_from, valid_to, is_current
};
enum class OffsetReset { kEarliest, kLatest };

std::string_view SourceTypeName(SourceType type);
std::string_view SnapshotModeName(SnapshotMode mode);
std::string_view MaterializationName(Materialization materialization);
std::string_view OffsetResetName(OffsetReset reset);

/// [lake]
struct LakeConfig {
  /// Root directory of the lake: bronze/, silver/, gold/ live under it.
  /// Default: "lake" next to the config file.
  std::filesystem::path root;
};

/// One [[sources]] entry.
struct SourceConfig {
  /// Required. Debezium's topic.prefix: names topics (`<name>.<schema>.<table>`) and the
  /// source in bronze. Letters, digits, '_', '-', '.'; unique among sources.
  std::string name;
  /// Required.
  SourceType type = SourceType::kPostgres;
  /// postgres: libpq keyword/value string or postgres:// URI. mysql: mysql:// URI.
  /// Required for postgres and mysql, not allowed for kafka. May carry a password: print
  /// it only through RedactDsn().
  std::string dsn;
  /// Tables to capture ("schema.table"; "database.table" for mysql). Empty: all tables.
  std::vector<std::string> tables;

  // postgres and mysql
  /// Default: kInitial.
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  /// Rows read per chunk of the initial snapshot (bounds memory). Default: 10000.
  int64_t snapshot_chunk_rows = 10000;
  /// Interval of heartbeats while idle, ms; 0 disables them. postgres: a write to
  /// heartbeat_table or a logical message, so an idle slot does not hold WAL; mysql: the
  /// binlog heartbeat period. Default: 0.
  int64_t heartbeat_interval_ms = 0;

  // postgres only
  /// Logical replication slot. Default: "tributary_<name>" (lower case, other characters
  /// replaced by '_').
  std::string slot_name;
  /// Publication. Default: same as the default slot name.
  std::string publication_name;
  /// Table written by heartbeats ("schema.table", created if missing); empty: heartbeats
  /// are logical messages (pg_logical_emit_message). Default: empty.
  std::string heartbeat_table;
  /// Interval of standby status updates (flush position feedback), ms; must be well below
  /// the server's wal_sender_timeout. Default: 10000.
  int64_t status_interval_ms = 10000;
  /// Use pgoutput protocol v2 streaming of in-progress transactions. Default: true.
  bool streaming = true;

  // mysql only
  /// Replica server id sent with COM_BINLOG_DUMP; unique among the server's replicas.
  /// Default: derived from the source name (stable, in 100000..4294967295).
  uint32_t server_id = 0;

  // kafka only
  /// Default: kafka.bootstrap_servers; required from one of the two.
  std::string bootstrap_servers;
  /// Topics to consume. Default: the topics of `tables`
  /// (`<kafka.topic_prefix><name>.<table>`), or every topic matching
  /// `^<kafka.topic_prefix><name>\.` when tables is empty.
  std::vector<std::string> topics;
  /// Consumer group. Default: "tributary-<name>".
  std::string group_id;
  /// Where a group without committed offsets starts. Default: kEarliest.
  OffsetReset auto_offset_reset = OffsetReset::kEarliest;

  /// Line of the [[sources]] header in the config file (for later error messages).
  uint32_t line = 0;
};

/// [kafka]: the transport used by `capture --sink kafka`, `process` and kafka sources.
struct KafkaConfig {
  /// librdkafka bootstrap.servers, "host:port,...". Default: empty.
  std::string bootstrap_servers;
  /// Prepended to every topic name tributary produces or derives. Default: empty
  /// (Debezium's naming, `<source>.<schema>.<table>`).
  std::string topic_prefix;
  /// librdkafka properties passed as-is to producers / consumers; they override
  /// tributary's own settings. Values may be strings, integers, floats or booleans.
  std::map<std::string, std::string> producer;
  std::map<std::string, std::string> consumer;
};

/// [pipeline]
struct PipelineSettings {
  /// A batch is flushed (committed) when it reaches any of these. Defaults: 10000 rows,
  /// 16 MiB, 50 ms after its first event.
  int64_t batch_max_rows = 10000;
  int64_t batch_max_bytes = 16 * 1024 * 1024;
  int64_t batch_interval_ms = 50;
  /// Longest batch interval while a backlog waits (PipelineOptions::batch_interval_max),
  /// ms; at least batch_interval_ms. Default: 500, or batch_interval_ms when larger.
  int64_t batch_interval_max_ms = 500;
  /// A Delta checkpoint is written every this many commits of a table. Default: 10.
  int64_t checkpoint_interval = 10;
  /// A table (partition) is compacted when it holds at least compact_min_files files
  /// smaller than compact_small_file_bytes, into files of about
  /// compact_target_file_bytes. Defaults: 32 files, 16 MiB, 128 MiB.
  int64_t compact_min_files = 32;
  int64_t compact_small_file_bytes = 16 * 1024 * 1024;
  int64_t compact_target_file_bytes = 128 * 1024 * 1024;
  /// Gold models refresh at most this often, ms. Default: 1000.
  int64_t gold_min_refresh_interval_ms = 1000;
  /// Reconnect backoff after a lost connection: doubles from min to max, ms.
  /// Defaults: 100, 30000.
  int64_t reconnect_backoff_min_ms = 100;
  int64_t reconnect_backoff_max_ms = 30000;
};

/// A bound of a range rule: an integer, a float, or text (TOML dates and times are kept
/// in their ISO 8601 form, strings as written).
using RuleValue = std::variant<int64_t, double, std::string>;

struct RangeRule {
  std::optional<RuleValue> min;  ///< inclusive
  std::optional<RuleValue> max;  ///< inclusive
};

/// One [[silver.tables]] entry: how a source table becomes its silver table.
struct SilverTableConfig {
  /// Required: the source table, "schema.table" ("database.table" for mysql).
  std::string table;
  /// Only this source's table; empty: the table of that name in any source. Default:
  /// empty.
  std::string source;
  /// Silver table name. Default: the table name (schema-qualified with "__" when two
  /// schemas have a table of that name).
  std::string target;
  /// Key columns for a table without a primary key. Default: the source's primary key.
  std::vector<std::string> key;
  /// Validation: a row failing any rule goes to silver/_quarantine instead.
  std::vector<std::string> not_null;
  /// column -> accepted values, compared with the value's text form.
  std::map<std::string, std::vector<std::string>> accepted_values;
  std::map<std::string, RangeRule> ranges;
  /// column -> ECMAScript regular expression the whole text form must match.
  std::map<std::string, std::string> regex;
  uint32_t line = 0;
};

/// [silver]
struct SilverConfig {
  std::vector<SilverTableConfig> tables;
};

/// One [[gold.models]] entry.
struct GoldModelConfig {
  /// Required: the gold table name, gold/<name>. [A-Za-z_][A-Za-z0-9_]*, unique.
  std::string name;
  /// The model's SQL file (DuckDB SQL over silver.<table>), resolved and checked to
  /// exist; exactly one of sql_file and query is set.
  std::filesystem::path sql_file;
  /// Inline SQL (the `query` key).
  std::string query;
  /// Key columns; required for incremental and scd2.
  std::vector<std::string> key;
  /// Default: kTable.
  Materialization materialization = Materialization::kTable;
  /// The config file or gold.include file that defines the model, and the line of its
  /// [[gold.models]] header.
  std::string defined_in;
  uint32_t line = 0;
};

/// [gold]
struct GoldConfig {
  /// Models in refresh order: those of the `include` files (TOML files holding only
  /// [[gold.models]], e.g. models/retail/models.toml; their sql paths are relative to
  /// them), in the order listed, then the ones written in this file.
  std::vector<GoldModelConfig> models;
};

/// [http]: the dashboard, health, JSON status and Prometheus metrics.
struct HttpConfig {
  /// Serve while `tributary run`/`process` runs (`serve` always serves). Default: false.
  bool enabled = false;
  /// Default: "127.0.0.1" (loopback only).
  std::string bind = "127.0.0.1";
  /// TCP port; 0 picks a free one. Default: 8080.
  uint16_t port = 8080;
};

/// [log]. Command-line flags (-v, --log-level, --log-format) override it.
struct LogConfig {
  LoggingOptions options;
  /// Which keys were present in the file (so flags can tell "default" from "set").
  bool level_set = false;
  bool format_set = false;
};

/// The whole file.
struct PipelineConfig {
  /// The file it came from, as given (error messages name it).
  std::string source_name;
  LakeConfig lake;
  std::vector<SourceConfig> sources;
  KafkaConfig kafka;
  PipelineSettings pipeline;
  SilverConfig silver;
  GoldConfig gold;
  HttpConfig http;
  LogConfig log;

  /// The source named `name`, or nullptr.
  const SourceConfig* FindSource(std::string_view name) const;
};

/// Parses and validates TOML text. `name` is the file name used in error messages and the
/// base for relative paths (its parent directory; the current one when it has none).
/// Errors: kInvalidArgument, one line of the form
///   `pipeline.toml:7: sources[0].type: expected one of postgres, mysql, kafka, got
///   "oracle"`
/// for syntax errors, unknown keys, wrong types, missing required keys, bad values,
/// duplicate names, unset environment variables and missing SQL files.
Result<PipelineConfig> ParseConfig(std::string_view text, std::string_view name);

/// Reads `path` and parses it with ParseConfig(text, path).
/// Errors: kNotFound / kIo when the file cannot be read, else as ParseConfig.
Result<PipelineConfig> LoadConfig(const std::filesystem::path& path);

/// A multi-line human-readable summary (sources with redacted DSNs, lake root, models),
/// safe to log.
std::string DescribeConfig(const PipelineConfig& config);

}  // namespace tributary::cli
