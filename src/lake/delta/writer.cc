#include "lake/delta/writer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <iterator>
#include <ctime>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/deletion_vector.h"
#include "lake/delta/internal/data_files.h"
#include "lake/delta/internal/file_select.h"
#include "lake/delta/internal/write_util.h"
#include "lake/delta/snapshot_cache.h"

namespace tributary::lake::delta {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool HasTypeKind(const DataType& type, TypeKind kind) {
  if (type.kind == kind) {
    return true;
  }
  for (const auto& field : type.fields) {
    if (HasTypeKind(field.type, kind)) {
      return true;
    }
  }
  for (const auto& child : type.children) {
    if (HasTypeKind(child, kind)) {
      return true;
    }
  }
  return false;
}

bool SchemaHasKind(const StructType& schema, TypeKind kind) {
  for (const auto& field : schema.fields) {
    if (HasTypeKind(field.type, kind)) {
      return true;
    }
  }
  return false;
}

bool FieldHasMetadata(const StructField& field, std::string_view prefix) {
  for (const auto& [key, value] : field.metadata) {
    if (key.rfind(prefix, 0) == 0) {
      return true;
    }
  }
  for (const auto& child : field.type.fields) {
    if (FieldHasMetadata(child, prefix)) {
      return true;
    }
  }
  return false;
}

bool SchemaHasMetadata(const StructType& schema, std::string_view prefix) {
  for (const auto& field : schema.fields) {
    if (FieldHasMetadata(field, prefix)) {
      return true;
    }
  }
  return false;
}

std::string CodecSuffix(const std::string& compression) {
  if (EqualsIgnoreCase(compression, "snappy")) {
    return ".snappy.parquet";
  }
  if (EqualsIgnoreCase(compression, "zstd")) {
    return ".zstd.parquet";
  }
  if (EqualsIgnoreCase(compression, "gzip")) {
    return ".gz.parquet";
  }
  return ".parquet";
}

// Drops the temp tables a write created, whatever happens.
class TempTables {
 public:
  explicit TempTables(sql::Connection& conn) : conn_(conn) {}
  ~TempTables() {
    for (const auto& name : names_) {
      (void)conn_.Execute("DROP TABLE IF EXISTS " + QuoteIdentifier(name));
    }
  }
  TempTables(const TempTables&) = delete;
  TempTables& operator=(const TempTables&) = delete;

  std::string NewName(std::string_view purpose) {
    std::string uuid = internal::RandomUuid();
    uuid.erase(std::remove(uuid.begin(), uuid.end(), '-'), uuid.end());
    names_.push_back(fmt::format("__trib_{}_{}", purpose, uuid));
    return names_.back();
  }

 private:
  sql::Connection& conn_;
  std::vector<std::string> names_;
};

// Formats microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmm" (UTC).
std::string FormatTimestampMillis(int64_t micros) {
  int64_t millis = micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);
  int64_t seconds = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
  int64_t ms = millis - seconds * 1000;
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// Truncates UTF-8 text to at most `max_chars` code points.
std::string TruncateUtf8(const std::string& text, size_t max_chars, bool* truncated) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80) {
      if (chars == max_chars) {
        *truncated = true;
        return text.substr(0, i);
      }
      ++chars;
    }
  }
  *truncated = false;
  return text;
}

// A Delta stats value from a footer statistic, or null json when it cannot be expressed.
json StatValue(const DataType& type, const std::string& text, bool is_max) {
  try {
    switch (type.kind) {
      case TypeKind::kLong:
      case TypeKind::kInteger:
      case TypeKind::kShort:
      case TypeKind::kByte:
        return json(std::stoll(text));
      case TypeKind::kFloat:
      case TypeKind::kDouble: {
        double value = std::stod(text);
        return std::isfinite(value) ? json(value) : json();
      }
      case TypeKind::kDecimal: {
        // JSON numbers are read back as doubles by most engines: a bound with more
        // significant digits than a double holds could end up on the wrong side.
        size_t digits = static_cast<size_t>(
            std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
        if (digits > 15) {
          return json();
        }
        json value = json::parse(text);
        return value.is_number() ? value : json();
      }
      case TypeKind::kString: {
        bool truncated = false;
        std::string prefix = TruncateUtf8(text, 32, &truncated);
        // A truncated prefix is still a valid lower bound, never an upper bound.
        if (truncated && is_max) {
          return json();
        }
        return json(prefix);
      }
      case TypeKind::kDate:
        return json(text);
      case TypeKind::kTimestamp:
        return json(FormatTimestampMillis(std::stoll(text)) + "Z");
      case TypeKind::kTimestampNtz:
        return json(FormatTimestampMillis(std::stoll(text)));
      default:
        return json();
    }
  } catch (const std::exception&) {
    return json();
  }
}

// SQL text of a partition value (PROTOCOL.md "Partition Value Serialization") of a typed
// expression.
std::string PartitionTextExpr(const DataType& type, const std::string& expr) {
  switch (type.kind) {
    case TypeKind::kTimestamp:
      return fmt::format("strftime(make_timestamp(epoch_us({})), '%Y-%m-%d %H:%M:%S.%f')",
                         expr);
    case TypeKind::kTimestampNtz:
      return fmt::format("strftime({}, '%Y-%m-%d %H:%M:%S.%f')", expr);
    case TypeKind::kDate:
      return fmt::format("strftime({}, '%Y-%m-%d')", expr);
    case TypeKind::kBoolean:
      return fmt::format("CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END", expr);
    default:
      return fmt::format("CAST({} AS VARCHAR)", expr);
  }
}

// A typed SQL literal of a serialized partition value.
std::string PartitionLiteral(const DataType& type, const std::optional<std::string>& value) {
  std::string duck = DuckDbTypeOf(type);
  if (!value) {
    return fmt::format("CAST(NULL AS {})", duck);
  }
  if (type.kind == TypeKind::kTimestamp) {
    std::string text = *value;
    if (text.find('Z') == std::string::npos && text.find('+') == std::string::npos) {
      text += "+00";
    }
    return fmt::format("CAST({} AS TIMESTAMPTZ)", QuoteLiteral(text));
  }
  if (type.kind == TypeKind::kString) {
    return QuoteLiteral(*value);
  }
  return fmt::format("CAST({} AS {})", QuoteLiteral(*value), duck);
}

Result<std::vector<InputColumn>> DescribeQuery(sql::Connection& conn, std::string_view query) {
  TRIB_ASSIGN_OR_RETURN(
      auto described,
      conn.Query(fmt::format("DESCRIBE SELECT * FROM ({}) AS __trib_q", query)));
  std::vector<InputColumn> columns;
  for (size_t row = 0; row < described.row_count(); ++row) {
    columns.push_back({described.GetString(0, row), described.GetString(1, row)});
  }
  return columns;
}

bool IsIntegerType(std::string_view t, int* rank) {
  static const std::pair<std::string_view, int> kRanks[] = {
      {"TINYINT", 1},  {"UTINYINT", 2},  {"SMALLINT", 2}, {"USMALLINT", 3},
      {"INTEGER", 3},  {"UINTEGER", 4},  {"BIGINT", 4}};
  for (const auto& [name, r] : kRanks) {
    if (t == name) {
      *rank = r;
      return true;
    }
  }
  return false;
}

int IntegerRank(TypeKind kind) {
  switch (kind) {
    case TypeKind::kByte:
      return 1;
    case TypeKind::kShort:
      return 2;
    case TypeKind::kInteger:
      return 3;
    case TypeKind::kLong:
      return 4;
    default:
      return 0;
  }
}

// Whether an input column of DuckDB type `input` may be written to a column of `type`
// without losing information.
bool Compatible(const std::string& input, const DataType& type) {
  std::string target = DuckDbTypeOf(type);
  if (input == target || input == "\"NULL\"" || input == "NULL") {
    return true;
  }
  int rank = 0;
  if (IsIntegerType(input, &rank) && IntegerRank(type.kind) >= rank) {
    return true;
  }
  if (input == "FLOAT" && type.kind == TypeKind::kDouble) {
    return true;
  }
  if (type.kind == TypeKind::kDecimal && input.rfind("DECIMAL(", 0) == 0) {
    int precision = 0;
    int scale = 0;
    if (std::sscanf(input.c_str(), "DECIMAL(%d,%d)", &precision, &scale) == 2) {
      return scale == type.scale && precision - scale <= type.precision - type.scale;
    }
  }
  if (type.kind == TypeKind::kTimestamp && (input == "TIMESTAMP WITH TIME ZONE" ||
                                            input == "TIMESTAMP")) {
    return true;
  }
  if (type.kind == TypeKind::kString && input == "VARCHAR") {
    return true;
  }
  if (type.kind == TypeKind::kBinary && input == "BLOB") {
    return true;
  }
  // Nested types: DuckDB spells field names unquoted in DESCRIBE; compare loosely.
  if (!type.is_primitive()) {
    std::string loose = target;
    loose.erase(std::remove(loose.begin(), loose.end(), '"'), loose.end());
    std::string loose_input = input;
    loose_input.erase(std::remove(loose_input.begin(), loose_input.end(), '"'),
                      loose_input.end());
    return loose == loose_input;
  }
  return false;
}

// The input of a write, checked against the table schema: `select_list` projects the
// input (alias q) to every table column with the table's types, in schema order.
struct Projection {
  std::string select_list;
  std::vector<std::string> extra_columns;  ///< allowed extra input columns, passed through
};

Result<Projection> ProjectColumns(const fs::path& table_root, const StructType& schema,
                                  const std::vector<InputColumn>& input,
                                  const std::vector<std::string>& allowed_extra) {
  Projection projection;
  std::vector<bool> used(input.size(), false);
  for (const auto& field : schema.fields) {
    int found = -1;
    for (size_t i = 0; i < input.size(); ++i) {
      if (input[i].name == field.name) {
        found = static_cast<int>(i);
        break;
      }
    }
    if (found < 0) {
      for (size_t i = 0; i < input.size(); ++i) {
        if (EqualsIgnoreCase(input[i].name, field.name)) {
          found = static_cast<int>(i);
          break;
        }
      }
    }
    if (!projection.select_list.empty()) {
      projection.select_list += ", ";
    }
    std::string target = DuckDbTypeOf(field.type);
    if (found < 0) {
      if (!field.nullable) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "schema mismatch writing to Delta table '{}': non-nullable column "
                         "'{}' ({}) is missing from the input",
                         table_root.string(), field.name, field.type.ToString());
      }
      projection.select_list +=
          fmt::format("CAST(NULL AS {}) AS {}", target, QuoteIdentifier(field.name));
      continue;
    }
    const auto& column = input[static_cast<size_t>(found)];
    used[static_cast<size_t>(found)] = true;
    if (!Compatible(column.type, field.type)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "schema mismatch writing to Delta table '{}': column '{}' is {} in "
                       "the input but {} ({}) in the table",
                       table_root.string(), field.name, column.type, field.type.ToString(),
                       target);
    }
    projection.select_list +=
        fmt::format("CAST(__trib_q.{} AS {}) AS {}", QuoteIdentifier(column.name), target,
                    QuoteIdentifier(field.name));
  }
  for (size_t i = 0; i < input.size(); ++i) {
    if (used[i]) {
      continue;
    }
    bool allowed = std::any_of(allowed_extra.begin(), allowed_extra.end(),
                               [&](const std::string& name) {
                                 return EqualsIgnoreCase(name, input[i].name);
                               });
    if (!allowed) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "schema mismatch writing to Delta table '{}': input column '{}' ({}) "
                       "is not a column of the table",
                       table_root.string(), input[i].name, input[i].type);
    }
    projection.select_list += fmt::format(", __trib_q.{}", QuoteIdentifier(input[i].name));
    projection.extra_columns.push_back(input[i].name);
  }
  return projection;
}

Result<Projection> ProjectInput(sql::Connection& conn, const fs::path& table_root,
                                const StructType& schema, std::string_view query,
                                const std::vector<std::string>& allowed_extra,
                                const std::vector<InputColumn>& declared = {}) {
  if (!declared.empty()) {
    return ProjectColumns(table_root, schema, declared, allowed_extra);
  }
  TRIB_ASSIGN_OR_RETURN(auto input, DescribeQuery(conn, query));
  return ProjectColumns(table_root, schema, input, allowed_extra);
}

const StructField* FindField(const StructType& schema, std::string_view name) {
  return schema.Find(name);
}

// Whether `text` is a serialized partition value of `type` as PartitionTextExpr would
// produce it, for the types whose form is easy to get wrong (PROTOCOL.md "Partition Value
// Serialization"): dates "YYYY-MM-DD", booleans "true"/"false", integers in decimal.
// Other types are taken as given.
bool IsSerializedPartitionValue(const DataType& type, std::string_view text) {
  auto digits = [](std::string_view part) {
    return !part.empty() && std::all_of(part.begin(), part.end(),
                                        [](char c) { return c >= '0' && c <= '9'; });
  };
  switch (type.kind) {
    case TypeKind::kDate: {
      // [-]YYYY-MM-DD: at least four year digits (strftime's %Y), then month and day.
      if (!text.empty() && text[0] == '-') {
        text.remove_prefix(1);
      }
      const size_t n = text.size();
      if (n < 10 || text[n - 6] != '-' || text[n - 3] != '-' ||
          !digits(text.substr(0, n - 6)) || !digits(text.substr(n - 5, 2)) ||
          !digits(text.substr(n - 2, 2))) {
        return false;
      }
      const int month = (text[n - 5] - '0') * 10 + (text[n - 4] - '0');
      const int day = (text[n - 2] - '0') * 10 + (text[n - 1] - '0');
      return month >= 1 && month <= 12 && day >= 1 && day <= 31;
    }
    case TypeKind::kBoolean:
      return text == "true" || text == "false";
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
      if (!text.empty() && text[0] == '-') {
        text.remove_prefix(1);
      }
      return digits(text) && (text.size() == 1 || text[0] != '0');
    default:
      return true;
  }
}

// WriteOptions::input_partitions checked against the table: the values of each entry,
// keyed by the table's spelling of its partition columns.
Result<std::vector<PartitionValues>> CheckInputPartitions(const Snapshot& snapshot,
                                                          const WriteOptions& options) {
  const std::vector<std::string>& columns = snapshot.partition_columns();
  const std::string table = snapshot.table_root().string();
  if (columns.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Delta table '{}' is not partitioned, but the write's input comes "
                     "split into {} partitions",
                     table, options.input_partitions.size());
  }
  std::vector<PartitionValues> checked;
  checked.reserve(options.input_partitions.size());
  for (size_t i = 0; i < options.input_partitions.size(); ++i) {
    const InputPartition& partition = options.input_partitions[i];
    if (!partition.select) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "input partition {} of a write to Delta table '{}' has no select "
                       "function",
                       i, table);
    }
    PartitionValues values;
    for (const auto& [name, value] : partition.values) {
      auto column =
          std::find_if(columns.begin(), columns.end(),
                       [&](const std::string& c) { return EqualsIgnoreCase(c, name); });
      if (column == columns.end()) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            "input partition {} of a write to Delta table '{}' gives a value "
            "for '{}', which is not a partition column (partition columns: "
            "{})",
            i, table, name, fmt::join(columns, ", "));
      }
      if (value) {
        const StructField* field = FindField(snapshot.schema(), *column);
        TRIB_CHECK(field != nullptr, "partition column '{}' of '{}' is not in the schema",
                   *column, table);
        if (!IsSerializedPartitionValue(field->type, *value)) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "input partition {} of a write to Delta table '{}': '{}' is "
                           "not a serialized {} value for partition column '{}'",
                           i, table, *value, field->type.ToString(), *column);
        }
      }
      if (!values.emplace(*column, value).second) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            "input partition {} of a write to Delta table '{}' gives partition "
            "column '{}' twice",
            i, table, *column);
      }
    }
    for (const std::string& column : columns) {
      if (values.find(column) == values.end()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "input partition {} of a write to Delta table '{}' has no value "
                         "for partition column '{}' (std::nullopt stands for null)",
                         i, table, column);
      }
    }
    checked.push_back(std::move(values));
  }
  return checked;
}

// Writes the rows of `source` (a relation with every table column, typed) as new data
// files and returns their add actions (dataChange as given).
class FileWriter {
 public:
  FileWriter(sql::Connection& conn, fs::path table_root, const StructType& schema,
             std::vector<std::string> partition_columns, const WriteOptions& options,
             bool data_change)
      : conn_(conn),
        table_root_(std::move(table_root)),
        schema_(schema),
        partition_columns_(std::move(partition_columns)),
        options_(options),
        data_change_(data_change) {}

  Status Write(std::string_view source, std::vector<AddFile>* adds) {
    const std::string data_columns = DataColumns();
    if (partition_columns_.empty()) {
      return WriteGroup(fmt::format("SELECT {} FROM ({}) AS __trib_src", data_columns, source),
                        PartitionValues{}, adds);
    }
    TempTables temps(conn_);
    std::string stage;
    std::string pv_select;
    for (size_t i = 0; i < partition_columns_.size(); ++i) {
      const StructField* field = FindField(schema_, partition_columns_[i]);
      TRIB_CHECK(field != nullptr, "partition column '{}' vanished from the schema",
                 partition_columns_[i]);
      pv_select += fmt::format(", {} AS __trib_pv_{}",
                               PartitionTextExpr(field->type, QuoteIdentifier(field->name)),
                               i);
    }
    std::string relation;
    if (options_.repeatable_input) {
      // Read the input once per partition (and once for the partition values) rather
      // than copying every row into a temporary table first.
      relation = fmt::format("(SELECT *{} FROM ({}) AS __trib_src) AS __trib_part",
                             pv_select, source);
    } else {
      stage = temps.NewName("part");
      TRIB_RETURN_IF_ERROR(conn_.Execute(
          fmt::format("CREATE TEMP TABLE {} AS SELECT *{} FROM ({}) AS __trib_src",
                      QuoteIdentifier(stage), pv_select, source)));
      relation = QuoteIdentifier(stage);
    }
    std::string pv_columns;
    for (size_t i = 0; i < partition_columns_.size(); ++i) {
      pv_columns += fmt::format("{}__trib_pv_{}", i == 0 ? "" : ", ", i);
    }
    TRIB_ASSIGN_OR_RETURN(
        auto groups,
        conn_.Query(fmt::format("SELECT DISTINCT {} FROM {}", pv_columns, relation)));
    for (size_t row = 0; row < groups.row_count(); ++row) {
      PartitionValues values;
      std::string where;
      for (size_t i = 0; i < partition_columns_.size(); ++i) {
        auto value = groups.GetOptionalString(i, row);
        values[partition_columns_[i]] = value;
        where += fmt::format("{}__trib_pv_{} IS NOT DISTINCT FROM {}", i == 0 ? "" : " AND ",
                             i, value ? QuoteLiteral(*value) : std::string("NULL"));
      }
      TRIB_RETURN_IF_ERROR(WriteGroup(
          fmt::format("SELECT {} FROM {} WHERE {}", data_columns, relation, where), values,
          adds));
    }
    return OkStatus();
  }

  // Write(), or WritePartitions() when the caller split the input by partition
  // (WriteOptions::input_partitions; `split_values` from CheckInputPartitions).
  Status WriteInput(std::string_view source,
                    const std::vector<PartitionValues>& split_values,
                    std::vector<AddFile>* adds) {
    if (options_.input_partitions.empty()) {
      return Write(source, adds);
    }
    return WritePartitions(source, options_.input_partitions, split_values, adds);
  }

  // Writes an input the caller split by partition (WriteOptions::input_partitions):
  // `values[i]` (checked by CheckInputPartitions) are the partition values of the rows
  // `source` returns after `partitions[i].select()`.
  Status WritePartitions(std::string_view source,
                         const std::vector<InputPartition>& partitions,
                         const std::vector<PartitionValues>& values,
                         std::vector<AddFile>* adds) {
    TRIB_CHECK(partitions.size() == values.size() && !partition_columns_.empty(),
               "WritePartitions: {} partitions with {} value sets", partitions.size(),
               values.size());
    const std::string select =
        fmt::format("SELECT {} FROM ({}) AS __trib_src", DataColumns(), source);
    for (size_t i = 0; i < partitions.size(); ++i) {
      Status selected = partitions[i].select();
      if (!selected.ok()) {
        return std::move(selected).status().AddContext(
            fmt::format("selecting input partition {} ({}) of Delta table '{}'", i,
                        internal::PartitionDirectory(partition_columns_, values[i]),
                        table_root_.string()));
      }
      TRIB_RETURN_IF_ERROR(WriteGroup(select, values[i], adds));
    }
    return OkStatus();
  }

 private:
  // The table's non-partition columns, quoted, comma-separated: what data files hold.
  std::string DataColumns() const {
    std::string data_columns;
    for (const auto& field : schema_.fields) {
      if (IsPartitionColumn(field.name)) {
        continue;
      }
      if (!data_columns.empty()) {
        data_columns += ", ";
      }
      data_columns += QuoteIdentifier(field.name);
    }
    return data_columns;
  }

  bool IsPartitionColumn(const std::string& name) const {
    return std::any_of(partition_columns_.begin(), partition_columns_.end(),
                       [&](const std::string& p) { return EqualsIgnoreCase(p, name); });
  }

  std::string NewFileName() {
    return fmt::format("part-{:05d}-{}-c000{}", file_index_++, internal::RandomUuid(),
                       CodecSuffix(options_.parquet.compression));
  }

  Status AddWritten(const parquet::ParquetFileInfo& info, const std::string& relative,
                    const PartitionValues& values, std::vector<AddFile>* adds) {
    if (info.num_rows == 0) {
      std::error_code ec;
      fs::remove(info.path, ec);
      return OkStatus();
    }
    AddFile add;
    add.path = internal::PercentEncodePath(relative);
    add.partition_values = values;
    add.size = info.size_bytes;
    std::error_code ec;
    auto mtime = fs::last_write_time(info.path, ec);
    add.modification_time =
        ec ? NowMillis()
           : std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                 .count();
    add.data_change = data_change_;
    add.stats = StatsJson(info, schema_);
    adds->push_back(std::move(add));
    return OkStatus();
  }

  Status WriteGroup(const std::string& select, const PartitionValues& values,
                    std::vector<AddFile>* adds) {
    std::string dir = internal::PartitionDirectory(partition_columns_, values);
    fs::path directory = table_root_ / dir;
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot create '{}': {}", directory.string(),
                       ec.message());
    }
    if (options_.max_rows_per_file <= 0) {
      std::string name = NewFileName();
      // `select` casts every column to its table type: no DESCRIBE needed.
      std::vector<parquet::QueryColumn> columns;
      for (const auto& field : schema_.fields) {
        if (!IsPartitionColumn(field.name)) {
          columns.push_back({field.name, DuckDbTypeOf(field.type)});
        }
      }
      TRIB_ASSIGN_OR_RETURN(auto info,
                            parquet::WriteParquetFile(conn_, select,
                                                      (directory / name).string(),
                                                      options_.parquet, columns));
      return AddWritten(info, dir + name, values, adds);
    }
    // Split by rows: DuckDB writes a directory of files, which are then renamed.
    fs::path tmp = directory / fmt::format(".trib-tmp-{}", internal::RandomUuid());
    int64_t row_group = options_.parquet.row_group_size > 0 ? options_.parquet.row_group_size
                                                            : 122880;
    row_group = std::min(row_group, options_.max_rows_per_file);
    int64_t groups_per_file = std::max<int64_t>(1, options_.max_rows_per_file / row_group);
    Status copied = conn_.Execute(fmt::format(
        "COPY ({}) TO {} (FORMAT parquet, COMPRESSION {}, ROW_GROUP_SIZE {}, "
        "ROW_GROUPS_PER_FILE {}, FILENAME_PATTERN 'f{{i}}')",
        select, QuoteLiteral(tmp.string()), QuoteLiteral(options_.parquet.compression),
        row_group, groups_per_file));
    if (!copied.ok()) {
      fs::remove_all(tmp, ec);
      return std::move(copied).status().AddContext(
          fmt::format("writing data files under '{}'", directory.string()));
    }
    std::vector<fs::path> written;
    for (const auto& entry : fs::directory_iterator(tmp, ec)) {
      written.push_back(entry.path());
    }
    std::sort(written.begin(), written.end());
    Status status = OkStatus();
    for (const auto& file : written) {
      std::string name = NewFileName();
      fs::rename(file, directory / name, ec);
      if (ec) {
        status = MakeError(ErrorCode::kIo, "cannot rename '{}': {}", file.string(),
                           ec.message());
        break;
      }
      auto info = parquet::ReadParquetFileInfo(conn_, (directory / name).string());
      if (!info.ok()) {
        status = std::move(info).status();
        break;
      }
      status = AddWritten(*info, dir + name, values, adds);
      if (!status.ok()) {
        break;
      }
    }
    fs::remove_all(tmp, ec);
    return status;
  }

  sql::Connection& conn_;
  fs::path table_root_;
  const StructType& schema_;
  std::vector<std::string> partition_columns_;
  const WriteOptions& options_;
  bool data_change_;
  int file_index_ = 0;
};

RemoveFile MakeRemove(const AddFile& add, int64_t now, bool data_change) {
  RemoveFile remove;
  remove.path = add.path;
  remove.deletion_timestamp = now;
  remove.data_change = data_change;
  remove.extended_file_metadata = true;
  remove.partition_values = add.partition_values;
  remove.size = add.size;
  if (!add.stats.empty()) {
    remove.stats = add.stats;
  }
  if (!add.tags.empty()) {
    remove.tags = add.tags;
  }
  remove.deletion_vector = add.deletion_vector;
  return remove;
}

Result<std::shared_ptr<const Snapshot>> LoadForWrite(sql::Connection& conn,
                                                     const fs::path& table_root,
                                                     bool removes_data) {
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshotForWrite(table_root, &conn));
  TRIB_RETURN_IF_ERROR(CheckWriteSupport(*snapshot, removes_data));
  return snapshot;
}

void AddMetric(CommitInfo* info, const std::string& key, int64_t value) {
  info->operation_metrics[key] = std::to_string(value);
}

// Commits `actions` (plus the txn of `options`) and checkpoints when due.
Result<WriteResult> FinishWrite(sql::Connection& conn, const Snapshot& snapshot,
                                std::vector<Action> actions, CommitInfo info,
                                ReadSet read_set, const WriteOptions& options,
                                WriteResult result) {
  if (options.txn) {
    SetTransaction txn = *options.txn;
    if (!txn.last_updated) {
      txn.last_updated = NowMillis();
    }
    actions.emplace_back(std::move(txn));
  }
  if (actions.empty()) {
    return result;
  }
  for (const auto& [key, value] : options.operation_parameters) {
    info.operation_parameters[key] = value;
  }
  CommitRequest request;
  request.actions = actions;
  request.commit_info = std::move(info);
  request.read_set = std::move(read_set);
  request.in_commit_timestamps =
      ConfigTrue(snapshot.metadata().configuration, "delta.enableInCommitTimestamps");
  const bool in_commit_timestamps = request.in_commit_timestamps;
  TRIB_ASSIGN_OR_RETURN(auto committed,
                        Commit(snapshot.table_root(), std::move(request), options.commit));
  result.version = committed.version;
  result.commit_attempts = committed.attempts;
  // The next write starts from this snapshot without reading the log.
  std::shared_ptr<const Snapshot> next = RecordCommittedSnapshot(
      snapshot, actions, committed.version,
      in_commit_timestamps ? std::optional<int64_t>(committed.timestamp) : std::nullopt);
  if (options.auto_checkpoint && committed.version > 0 &&
      committed.version %
              CheckpointInterval(next != nullptr ? next->metadata() : snapshot.metadata()) ==
          0) {
    // The commit is durable; a failed checkpoint only costs read time, so it is not an
    // error of the write. Checkpoint the snapshot in hand when there is one.
    auto checkpoint = next != nullptr
                          ? WriteCheckpoint(conn, *next)
                          : WriteCheckpointAt(conn, snapshot.table_root(), committed.version);
    result.checkpoint_written = checkpoint.ok();
    result.checkpoint_problem = CheckpointProblem(checkpoint, committed.version);
  }
  return result;
}

WriteResult CountAdds(const std::vector<AddFile>& adds) {
  WriteResult result;
  for (const auto& add : adds) {
    ++result.files_added;
    result.bytes_written += add.size;
    result.rows_written += add.NumRecords().value_or(0);
  }
  return result;
}

// One relation (SELECT) per file of `files`, each with every table column in schema order
// and the table's types, built like the reader's scan (internal::BuildFilesSelect):
// columns and nested struct fields a file lacks because they were added after it was
// written read as NULL (PROTOCOL.md "Schema Evolution": added columns are nullable),
// narrower physical types are cast to the table type ("Type Widening"), partition values
// come from the log as typed constants, and rows deleted by the file's deletion vector are
// filtered out. With `file_ids`, the column __trib_file holds file_ids[i]; with
// `with_row_number`, __trib_row holds the physical row index (for deletion vectors). The
// Parquet footers of all files are read in one query.
Result<std::vector<std::string>> FileRelations(sql::Connection& conn,
                                               const Snapshot& snapshot,
                                               const std::vector<const AddFile*>& files,
                                               const std::vector<int64_t>* file_ids,
                                               bool with_row_number) {
  TRIB_CHECK(file_ids == nullptr || file_ids->size() == files.size(),
             "FileRelations: one file id per file is required");
  std::vector<std::string> relations;
  if (files.empty()) {
    return relations;
  }
  internal::SelectSpec base;
  base.columns = snapshot.schema().fields;
  base.partition_columns = snapshot.partition_columns();
  base.mode = snapshot.column_mapping_mode();
  std::vector<internal::FileRead> reads;
  std::vector<std::string> paths;
  reads.reserve(files.size());
  paths.reserve(files.size());
  for (const AddFile* add : files) {
    TRIB_ASSIGN_OR_RETURN(fs::path path, snapshot.ResolvePath(add->path));
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return MakeError(ErrorCode::kNotFound,
                       "data file '{}' of table '{}' (version {}) does not exist",
                       path.string(), snapshot.table_root().string(), snapshot.version());
    }
    internal::FileRead read;
    read.path = path.string();
    read.partition_values = add->partition_values;
    if (add->deletion_vector) {
      auto deleted = LoadDeletionVector(snapshot.table_root(), *add->deletion_vector);
      if (!deleted.ok()) {
        return std::move(deleted).status().AddContext(fmt::format(
            "deletion vector of '{}' (version {})", add->path, snapshot.version()));
      }
      read.filter = internal::FileRead::RowFilter::kExclude;
      read.rows = std::move(*deleted);
    } else if (with_row_number) {
      // An empty exclusion list: no filter, but file_row_number is read.
      read.filter = internal::FileRead::RowFilter::kExclude;
    }
    paths.push_back(read.path);
    reads.push_back(std::move(read));
  }
  TRIB_ASSIGN_OR_RETURN(auto schemas, parquet::ReadSchemas(conn, paths));
  relations.reserve(files.size());
  for (size_t i = 0; i < reads.size(); ++i) {
    internal::SelectSpec spec = base;
    if (with_row_number) {
      spec.extras.push_back({"__trib_row", "file_row_number", "BIGINT"});
    }
    if (file_ids != nullptr) {
      spec.extras.push_back({"__trib_file", std::to_string((*file_ids)[i]), "BIGINT"});
    }
    auto relation = internal::BuildFilesSelect(spec, {reads[i]}, schemas);
    if (!relation.ok()) {
      return std::move(relation).status().AddContext(
          fmt::format("reading data file '{}' of table '{}' (version {})", paths[i],
                      snapshot.table_root().string(), snapshot.version()));
    }
    relations.push_back(std::move(*relation));
  }
  return relations;
}

bool DeletionVectorsEnabled(const Snapshot& snapshot) {
  return ConfigTrue(snapshot.metadata().configuration, "delta.enableDeletionVectors") &&
         snapshot.protocol().HasWriterFeature("deletionVectors");
}

// Writes `bitmaps` into one new DV file (PROTOCOL.md "Deletion Vector File Storage
// Format": version byte 1, then per DV a big-endian int32 size, the serialized
// RoaringBitmapArray and its big-endian CRC-32) and returns their "u" descriptors.
Result<std::vector<DeletionVectorDescriptor>> WriteDeletionVectorFile(
    const fs::path& table_root, const std::vector<std::vector<uint64_t>>& bitmaps) {
  std::string uuid = internal::RandomUuid();
  std::string uuid_bytes;
  for (size_t i = 0; i < uuid.size(); i += 2) {
    if (uuid[i] == '-') {
      --i;
      continue;
    }
    uuid_bytes += static_cast<char>(std::stoi(uuid.substr(i, 2), nullptr, 16));
  }
  TRIB_CHECK(uuid_bytes.size() == 16, "uuid '{}' did not give 16 bytes", uuid);
  auto put_be32 = [](std::string* out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      out->push_back(static_cast<char>((value >> shift) & 0xFF));
    }
  };
  std::string content(1, '\x01');
  std::vector<DeletionVectorDescriptor> descriptors;
  const std::string encoded_id = Z85Encode(uuid_bytes);
  for (const auto& rows : bitmaps) {
    std::string data = EncodeRoaringBitmapArray(rows);
    DeletionVectorDescriptor dv;
    dv.storage_type = "u";
    dv.path_or_inline_dv = encoded_id;
    dv.offset = static_cast<int32_t>(content.size());
    dv.size_in_bytes = static_cast<int32_t>(data.size());
    dv.cardinality = static_cast<int64_t>(rows.size());
    put_be32(&content, static_cast<uint32_t>(data.size()));
    content += data;
    put_be32(&content, Crc32(data));
    descriptors.push_back(std::move(dv));
  }
  TRIB_RETURN_IF_ERROR(
      WriteFileIfAbsent(table_root / fmt::format("deletion_vector_{}.bin", uuid), content));
  return descriptors;
}

// Marks rows deleted with deletion vectors instead of rewriting files: `deleted_rows` is a
// table (__trib_file, __trib_row) of newly deleted physical rows. Each touched file is
// removed and re-added with the union of its old and new DV (one commit, with the adds of
// `extra_rows`, a relation with every table column, may be empty).
Result<WriteResult> ApplyDeletionVectors(sql::Connection& conn, const Snapshot& snapshot,
                                         const std::string& deleted_rows,
                                         const std::string& extra_rows, CommitInfo info,
                                         ReadSet read_set, const WriteOptions& options,
                                         WriteResult result) {
  std::vector<size_t> touched;
  std::vector<std::vector<uint64_t>> bitmaps;
  if (!deleted_rows.empty()) {  // empty: nothing deleted
    TRIB_ASSIGN_OR_RETURN(auto rows, conn.Query(fmt::format(
                                         "SELECT DISTINCT __trib_file, __trib_row FROM "
                                         "{} ORDER BY 1, 2",
                                         QuoteIdentifier(deleted_rows))));
    for (size_t row = 0; row < rows.row_count(); ++row) {
      auto file = static_cast<size_t>(rows.GetInt64(0, row));
      if (touched.empty() || touched.back() != file) {
        touched.push_back(file);
        bitmaps.emplace_back();
      }
      bitmaps.back().push_back(static_cast<uint64_t>(rows.GetInt64(1, row)));
    }
  }
  std::vector<Action> actions;
  const int64_t now = NowMillis();
  std::vector<size_t> rewritten;  // files keeping rows, to re-add with a DV
  std::vector<std::vector<uint64_t>> dv_rows;
  for (size_t n = 0; n < touched.size(); ++n) {
    const AddFile& add = snapshot.files()[touched[n]];
    std::vector<uint64_t> merged = std::move(bitmaps[n]);
    if (add.deletion_vector) {
      TRIB_ASSIGN_OR_RETURN(auto old,
                            LoadDeletionVector(snapshot.table_root(), *add.deletion_vector));
      std::vector<uint64_t> both;
      std::set_union(old.begin(), old.end(), merged.begin(), merged.end(),
                     std::back_inserter(both));
      merged = std::move(both);
    }
    actions.emplace_back(MakeRemove(add, now, /*data_change=*/true));
    ++result.files_removed;
    auto records = add.NumRecords();
    if (records && static_cast<int64_t>(merged.size()) >= *records) {
      continue;  // every row deleted: the file just goes
    }
    rewritten.push_back(touched[n]);
    dv_rows.push_back(std::move(merged));
  }
  std::vector<AddFile> adds;
  if (!dv_rows.empty()) {
    TRIB_ASSIGN_OR_RETURN(auto descriptors,
                          WriteDeletionVectorFile(snapshot.table_root(), dv_rows));
    for (size_t n = 0; n < rewritten.size(); ++n) {
      AddFile add = snapshot.files()[rewritten[n]];
      add.deletion_vector = descriptors[n];
      add.data_change = true;
      if (!add.stats.empty()) {
        try {
          json stats = json::parse(add.stats);
          stats["tightBounds"] = false;
          add.stats = stats.dump();
        } catch (const json::exception&) {
          add.stats.clear();
        }
      }
      result.bytes_written += descriptors[n].size_in_bytes;
      adds.push_back(std::move(add));
    }
  }
  std::vector<AddFile> new_files;
  if (!extra_rows.empty()) {
    FileWriter writer(conn, snapshot.table_root(), snapshot.schema(),
                      snapshot.partition_columns(), options, /*data_change=*/true);
    TRIB_RETURN_IF_ERROR(writer.Write(extra_rows, &new_files));
  }
  WriteResult counts = CountAdds(new_files);
  result.files_added = counts.files_added;
  result.rows_written = counts.rows_written;
  result.bytes_written += counts.bytes_written;
  result.rows_copied = 0;
  for (auto& add : adds) {
    actions.emplace_back(std::move(add));
  }
  for (auto& add : new_files) {
    actions.emplace_back(std::move(add));
  }
  AddMetric(&info, "numAddedFiles", result.files_added);
  AddMetric(&info, "numRemovedFiles", result.files_removed);
  AddMetric(&info, "numDeletionVectorsAdded", static_cast<int64_t>(dv_rows.size()));
  AddMetric(&info, "numOutputRows", result.rows_written);
  AddMetric(&info, "numOutputBytes", result.bytes_written);
  AddMetric(&info, "numDeletedRows", result.rows_deleted);
  info.is_blind_append = false;
  if (actions.empty() && !options.txn) {
    return result;
  }
  return FinishWrite(conn, snapshot, std::move(actions), std::move(info), std::move(read_set),
                     options, result);
}

std::string TableProjection(const StructType& schema, std::string_view alias) {
  std::string select;
  for (const auto& field : schema.fields) {
    if (!select.empty()) {
      select += ", ";
    }
    select += fmt::format("{}.{}", alias, QuoteIdentifier(field.name));
  }
  return select;
}

bool ChangeDataFeedEnabled(const Snapshot& snapshot) {
  return ConfigTrue(snapshot.metadata().configuration, "delta.enableChangeDataFeed");
}

// Writes the rows of `change_rows` (every table column, then _change_type) as change data
// files under `_change_data/` (PROTOCOL.md "Change Data Files": the data files' layout,
// partition directories included, plus the _change_type column) and returns their `cdc`
// actions ("Add CDC File", dataChange=false).
Result<std::vector<AddCdcFile>> WriteChangeFiles(sql::Connection& conn,
                                                 const Snapshot& snapshot,
                                                 const std::string& change_rows,
                                                 const WriteOptions& options) {
  StructType cdc_schema = snapshot.schema();
  StructField change_type;
  change_type.name = "_change_type";
  change_type.type = DataType::Primitive(TypeKind::kString);
  cdc_schema.fields.push_back(std::move(change_type));
  WriteOptions cdc_options = options;
  cdc_options.max_rows_per_file = 0;
  std::vector<AddFile> written;
  FileWriter writer(conn, snapshot.table_root() / "_change_data", cdc_schema,
                    snapshot.partition_columns(), cdc_options, /*data_change=*/false);
  TRIB_RETURN_IF_ERROR(writer.Write(change_rows, &written));
  std::vector<AddCdcFile> cdcs;
  for (auto& add : written) {
    AddCdcFile cdc;
    cdc.path = "_change_data/" + add.path;
    cdc.partition_values = std::move(add.partition_values);
    cdc.size = add.size;
    cdc.data_change = false;
    cdcs.push_back(std::move(cdc));
  }
  return cdcs;
}

// Rewrites `files` (indexes into snapshot.files()) keeping the rows of each that satisfy
// `keep_condition` (SQL over alias f), plus `extra_rows` (a relation with every table
// column, may be empty); commits removes + adds.
Result<WriteResult> RewriteFiles(sql::Connection& conn,
                                 const Snapshot& snapshot,
                                 const std::vector<size_t>& files,
                                 const std::string& keep_condition,
                                 const std::string& extra_rows,
                                 const std::string& change_rows,
                                 CommitInfo info,
                                 ReadSet read_set,
                                 const WriteOptions& options,
                                 WriteResult result) {
  std::string source;
  std::vector<const AddFile*> rewritten;
  for (size_t index : files) {
    rewritten.push_back(&snapshot.files()[index]);
  }
  TRIB_ASSIGN_OR_RETURN(auto relations, FileRelations(conn, snapshot, rewritten, nullptr,
                                                      /*with_row_number=*/false));
  for (const auto& relation : relations) {
    if (!source.empty()) {
      source += " UNION ALL ";
    }
    source += fmt::format("SELECT {} FROM ({}) AS f WHERE {}",
                          TableProjection(snapshot.schema(), "f"), relation, keep_condition);
  }
  if (!extra_rows.empty()) {
    if (!source.empty()) {
      source += " UNION ALL ";
    }
    source += extra_rows;
  }
  std::vector<AddFile> adds;
  if (!source.empty()) {
    FileWriter writer(conn, snapshot.table_root(), snapshot.schema(),
                      snapshot.partition_columns(), options, /*data_change=*/true);
    TRIB_RETURN_IF_ERROR(writer.Write(source, &adds));
  }
  WriteResult counts = CountAdds(adds);
  result.files_added = counts.files_added;
  result.bytes_written = counts.bytes_written;
  result.rows_written = counts.rows_written;
  std::vector<Action> actions;
  int64_t now = NowMillis();
  for (size_t index : files) {
    const AddFile& add = snapshot.files()[index];
    actions.emplace_back(MakeRemove(add, now, /*data_change=*/true));
    ++result.files_removed;
    result.bytes_removed += add.size;
  }
  for (auto& add : adds) {
    actions.emplace_back(std::move(add));
  }
  if (!change_rows.empty()) {
    TRIB_ASSIGN_OR_RETURN(auto cdcs,
                          WriteChangeFiles(conn, snapshot, change_rows, options));
    AddMetric(&info, "numAddedChangeFiles", static_cast<int64_t>(cdcs.size()));
    for (auto& cdc : cdcs) {
      actions.emplace_back(std::move(cdc));
    }
  }
  AddMetric(&info, "numAddedFiles", result.files_added);
  AddMetric(&info, "numRemovedFiles", result.files_removed);
  AddMetric(&info, "numOutputRows", result.rows_written);
  AddMetric(&info, "numOutputBytes", result.bytes_written);
  AddMetric(&info, "numRemovedBytes", result.bytes_removed);
  AddMetric(&info, "numCopiedRows", result.rows_copied);
  AddMetric(&info, "numDeletedRows", result.rows_deleted);
  info.is_blind_append = false;
  if (result.files_removed == 0 && result.files_added == 0 && !options.txn) {
    return result;
  }
  return FinishWrite(conn, snapshot, std::move(actions), std::move(info),
                     std::move(read_set), options, result);
}

// What Merge works on: the snapshot, the key columns, the staging relation (every table
// column in the table's types, then __trib_del).
struct MergeContext {
  sql::Connection& conn;
  const Snapshot& snapshot;
  const std::vector<std::string>& keys;
  /// SQL relation usable after FROM/JOIN: a quoted temp table name, or a parenthesized
  /// query when the input is repeatable (WriteOptions::repeatable_input).
  const std::string& stage;
  bool use_dv = false;
  bool change_data_feed = false;
  std::string key_list;   // "k1", "k2"
  std::string key_equal;  // s."k1" = f."k1" AND ...
};

// What Merge found: the files that may hold staging keys (scanned, in the read set), the
// files that do, the row counts, and the temp table of matched target rows
// (__trib_file, keys[, __trib_row]); empty when no table was needed.
struct MergePlan {
  std::vector<size_t> candidates;
  std::vector<size_t> matched_files;
  WriteResult counts;  // rows_inserted, rows_updated, rows_deleted
  std::string matches;
  ReadSet read_set;
};

// The scan of `files` with (__trib_file, keys[, __trib_row]) for matching keys.
Result<std::string> CandidateScan(const MergeContext& context, const std::vector<size_t>& files,
                                  ReadSet* read_set) {
  const auto& all = context.snapshot.files();
  std::vector<const AddFile*> scanned;
  for (size_t index : files) {
    read_set->read_files.insert(all[index].path);
    scanned.push_back(&all[index]);
  }
  TRIB_ASSIGN_OR_RETURN(auto relations, FileRelations(context.conn, context.snapshot, scanned,
                                                      nullptr, context.use_dv));
  std::string scan;
  for (size_t n = 0; n < files.size(); ++n) {
    scan += fmt::format("{}SELECT {} AS __trib_file, {}{} FROM ({}) AS f",
                        n == 0 ? "" : " UNION ALL ", files[n], context.key_list,
                        context.use_dv ? ", __trib_row" : "", relations[n]);
  }
  return scan;
}

// Merge planning in SQL, for any primitive key type: the duplicate check, pruning by a
// VALUES table of key ranges joined with the staging keys, a matches table and counts.
Status PlanMergeSql(const MergeContext& context, TempTables& temps, MergePlan* plan) {
  sql::Connection& conn = context.conn;
  const Snapshot& snapshot = context.snapshot;
  const StructType& schema = snapshot.schema();
  const auto& keys = context.keys;
  const std::string& stage = context.stage;
  {
    TRIB_ASSIGN_OR_RETURN(
        auto duplicates,
        conn.Query(fmt::format("SELECT {0}, count(*) FROM {1} GROUP BY {0} HAVING count(*) > "
                               "1 LIMIT 1",
                               context.key_list, stage)));
    if (duplicates.row_count() > 0) {
      std::string key_text;
      for (size_t i = 0; i < keys.size(); ++i) {
        key_text += fmt::format("{}{}={}", i == 0 ? "" : ", ", keys[i],
                                duplicates.GetString(i, 0));
      }
      return MakeError(ErrorCode::kInvalidArgument,
                       "merge into Delta table '{}': the staging input has {} rows for key "
                       "({}); collapse to one row per key first",
                       snapshot.table_root().string(), duplicates.GetInt64(keys.size(), 0),
                       key_text);
    }
  }
  // 1. Prune files with partition values and key min/max statistics.
  const auto& files = snapshot.files();
  if (!files.empty()) {
    const std::string ranges = temps.NewName("ranges");
    std::string values;
    std::string columns = "__trib_file";
    std::string join;
    for (size_t k = 0; k < keys.size(); ++k) {
      columns += fmt::format(", lo{0}, hi{0}", k);
      join += fmt::format(" AND (r.lo{0} IS NULL OR s.{1} >= r.lo{0}) AND (r.hi{0} IS NULL "
                          "OR s.{1} <= r.hi{0})",
                          k, QuoteIdentifier(keys[k]));
    }
    for (size_t index = 0; index < files.size(); ++index) {
      const AddFile& add = files[index];
      json stats;
      if (!add.stats.empty()) {
        try {
          stats = json::parse(add.stats);
        } catch (const json::exception&) {
          stats = json();
        }
      }
      std::string row = fmt::format("({}", index);
      for (size_t k = 0; k < keys.size(); ++k) {
        const StructField* field = schema.Find(keys[k]);
        std::string duck = DuckDbTypeOf(field->type);
        bool is_partition = std::any_of(
            snapshot.partition_columns().begin(), snapshot.partition_columns().end(),
            [&](const std::string& p) { return EqualsIgnoreCase(p, keys[k]); });
        std::string lo = fmt::format("CAST(NULL AS {})", duck);
        std::string hi = lo;
        if (is_partition) {
          auto value = snapshot.PartitionValue(add, keys[k]);
          if (value) {
            lo = hi = PartitionLiteral(field->type, value);
          }
        } else if (stats.is_object()) {
          auto bound = [&](const char* which) -> std::optional<std::string> {
            auto it = stats.find(which);
            if (it == stats.end() || !it->is_object()) {
              return std::nullopt;
            }
            auto v = it->find(keys[k]);
            if (v == it->end() || v->is_null() || v->is_object()) {
              return std::nullopt;
            }
            std::string text = v->is_string() ? v->get<std::string>() : v->dump();
            return fmt::format("TRY_CAST({} AS {})", QuoteLiteral(text), duck);
          };
          // Timestamp maxima are truncated to milliseconds: widen by 1 ms.
          if (auto v = bound("minValues")) {
            lo = *v;
          }
          if (auto v = bound("maxValues")) {
            hi = field->type.kind == TypeKind::kTimestamp ||
                         field->type.kind == TypeKind::kTimestampNtz
                     ? fmt::format("({} + INTERVAL 1 MILLISECOND)", *v)
                     : *v;
          }
        }
        row += fmt::format(", {}, {}", lo, hi);
      }
      row += ")";
      values += (index == 0 ? "" : ", ") + row;
    }
    TRIB_RETURN_IF_ERROR(conn.Execute(
        fmt::format("CREATE TEMP TABLE {} AS SELECT * FROM (VALUES {}) AS v({})",
                    QuoteIdentifier(ranges), values, columns)));
    TRIB_ASSIGN_OR_RETURN(
        auto hit,
        conn.Query(fmt::format("SELECT DISTINCT r.__trib_file FROM {} AS r JOIN {} AS s ON "
                               "true{} ORDER BY 1",
                               QuoteIdentifier(ranges), stage, join)));
    for (size_t row = 0; row < hit.row_count(); ++row) {
      plan->candidates.push_back(static_cast<size_t>(hit.GetInt64(0, row)));
    }
  }
  // 2. Scan the candidates for matched keys.
  plan->matches = temps.NewName("matches");
  const std::string matches = QuoteIdentifier(plan->matches);
  if (!plan->candidates.empty()) {
    TRIB_ASSIGN_OR_RETURN(auto scan, CandidateScan(context, plan->candidates, &plan->read_set));
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE TEMP TABLE {} AS SELECT f.* FROM ({}) AS f WHERE EXISTS (SELECT 1 FROM {} "
        "AS s WHERE {})",
        matches, scan, stage, context.key_equal)));
    TRIB_ASSIGN_OR_RETURN(auto hit,
                          conn.Query(fmt::format("SELECT DISTINCT __trib_file FROM {} ORDER "
                                                 "BY 1",
                                                 matches)));
    for (size_t row = 0; row < hit.row_count(); ++row) {
      plan->matched_files.push_back(static_cast<size_t>(hit.GetInt64(0, row)));
    }
  } else {
    TRIB_RETURN_IF_ERROR(conn.Execute(
        fmt::format("CREATE TEMP TABLE {} AS SELECT 0 AS __trib_file, 0::BIGINT AS "
                    "__trib_row, {} FROM {} WHERE false",
                    matches, context.key_list, stage)));
  }
  // 3. Counts: matched keys split by the delete flag, inserts.
  TRIB_ASSIGN_OR_RETURN(
      auto counts,
      conn.Query(fmt::format(
          "SELECT count(*) FILTER (WHERE m AND __trib_del), count(*) FILTER (WHERE m AND NOT "
          "__trib_del), count(*) FILTER (WHERE NOT m AND NOT __trib_del) FROM (SELECT s.*, "
          "EXISTS (SELECT 1 FROM {0} AS f WHERE {1}) AS m FROM {2} AS s)",
          matches, context.key_equal, stage)));
  plan->counts.rows_deleted = counts.GetInt64(0, 0);
  plan->counts.rows_updated = counts.GetInt64(1, 0);
  plan->counts.rows_inserted = counts.GetInt64(2, 0);
  return OkStatus();
}

// Key columns Merge compares in C++: integers and strings (byte order, as DuckDB
// compares VARCHAR and Parquet orders UTF-8 statistics).
bool IsNativeKeyKind(TypeKind kind) {
  return kind == TypeKind::kByte || kind == TypeKind::kShort || kind == TypeKind::kInteger ||
         kind == TypeKind::kLong || kind == TypeKind::kString;
}

// One key value; `numeric` columns use `number`, string columns `text`.
struct KeyCell {
  bool null = true;
  int64_t number = 0;
  std::string text;
};

int CompareCells(const KeyCell& a, const KeyCell& b, bool numeric) {
  if (a.null || b.null) {
    return a.null == b.null ? 0 : (a.null ? -1 : 1);
  }
  if (numeric) {
    return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  }
  int c = a.text.compare(b.text);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// A file's key bounds from its partition values or add stats (PROTOCOL.md "Per-file
// Statistics"); std::nullopt: unbounded (no stats, a null partition, a bound of an
// unexpected JSON type).
struct FileKeyBounds {
  std::vector<std::optional<KeyCell>> lo;
  std::vector<std::optional<KeyCell>> hi;
};

std::optional<KeyCell> CellFromText(const std::string& text, bool numeric) {
  KeyCell cell;
  cell.null = false;
  if (!numeric) {
    cell.text = text;
    return cell;
  }
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, cell.number);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return cell;
}

std::optional<KeyCell> CellFromJson(const json& value, bool numeric) {
  KeyCell cell;
  cell.null = false;
  if (numeric) {
    if (value.is_number_unsigned()) {
      auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      cell.number = static_cast<int64_t>(v);
      return cell;
    }
    if (value.is_number_integer()) {
      cell.number = value.get<int64_t>();
      return cell;
    }
    return std::nullopt;
  }
  if (!value.is_string()) {
    return std::nullopt;
  }
  cell.text = value.get<std::string>();
  return cell;
}

FileKeyBounds ParseKeyBounds(const Snapshot& snapshot, const AddFile& add,
                             const std::vector<std::string>& keys,
                             const std::vector<bool>& numeric,
                             const std::vector<bool>& is_partition) {
  FileKeyBounds bounds;
  bounds.lo.resize(keys.size());
  bounds.hi.resize(keys.size());
  json stats;
  bool parsed = false;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (is_partition[k]) {
      if (auto value = snapshot.PartitionValue(add, keys[k])) {
        bounds.lo[k] = bounds.hi[k] = CellFromText(*value, numeric[k]);
      }
      continue;
    }
    if (!parsed) {
      parsed = true;
      if (!add.stats.empty()) {
        try {
          stats = json::parse(add.stats);
        } catch (const json::exception&) {
          stats = json();
        }
      }
    }
    if (!stats.is_object()) {
      continue;
    }
    auto bound = [&](const char* which) -> std::optional<KeyCell> {
      auto it = stats.find(which);
      if (it == stats.end() || !it->is_object()) {
        return std::nullopt;
      }
      auto v = it->find(keys[k]);
      if (v == it->end()) {
        return std::nullopt;
      }
      return CellFromJson(*v, numeric[k]);
    };
    bounds.lo[k] = bound("minValues");
    bounds.hi[k] = bound("maxValues");
  }
  return bounds;
}

// Parsed key bounds per table, key set and file, kept across merges: a live file's stats
// never change (a re-add with a deletion vector has a new key).
struct KeyBoundsCache {
  std::mutex mutex;
  std::map<std::string, std::unordered_map<std::string, std::shared_ptr<const FileKeyBounds>>>
      tables;
};

KeyBoundsCache& TheKeyBoundsCache() {
  static KeyBoundsCache* cache = new KeyBoundsCache();  // outlives exit-time writers
  return *cache;
}

std::vector<std::shared_ptr<const FileKeyBounds>> KeyBoundsOf(
    const Snapshot& snapshot, const std::vector<std::string>& keys,
    const std::vector<bool>& numeric, const std::vector<bool>& is_partition) {
  const auto& files = snapshot.files();
  std::string table = fmt::format("{}\n{}", snapshot.table_root().string(),
                                  snapshot.metadata().id);
  for (size_t k = 0; k < keys.size(); ++k) {
    table += fmt::format("\n{}:{}:{}", keys[k], numeric[k] ? 'n' : 's',
                         is_partition[k] ? 'p' : 'd');
  }
  auto file_key = [](const AddFile& add) {
    return add.deletion_vector ? add.path + "\n" + add.deletion_vector->UniqueId()
                               : add.path;
  };
  std::vector<std::shared_ptr<const FileKeyBounds>> bounds(files.size());
  KeyBoundsCache& cache = TheKeyBoundsCache();
  {
    std::lock_guard lock(cache.mutex);
    auto it = cache.tables.find(table);
    if (it != cache.tables.end()) {
      for (size_t i = 0; i < files.size(); ++i) {
        auto found = it->second.find(file_key(files[i]));
        if (found != it->second.end()) {
          bounds[i] = found->second;
        }
      }
    }
  }
  bool computed = false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (bounds[i] == nullptr) {
      bounds[i] = std::make_shared<const FileKeyBounds>(
          ParseKeyBounds(snapshot, files[i], keys, numeric, is_partition));
      computed = true;
    }
  }
  if (computed) {
    std::lock_guard lock(cache.mutex);
    if (cache.tables.size() > 256) {
      cache.tables.clear();
    }
    auto& entries = cache.tables[table];
    if (entries.size() > 2 * files.size() + 64) {
      entries.clear();  // forget removed files
    }
    for (size_t i = 0; i < files.size(); ++i) {
      entries.emplace(file_key(files[i]), bounds[i]);
    }
  }
  return bounds;
}

// Merge planning with the staging keys in C++ (integer and string keys): one query reads
// the keys and delete flags; duplicates, pruning by key bounds and counts are computed
// here; candidate files are scanned in one query for matched keys. When nothing can
// match, no scan and no temp table: the staging rows are inserted.
Status PlanMergeNative(const MergeContext& context, TempTables& temps, MergePlan* plan) {
  sql::Connection& conn = context.conn;
  const Snapshot& snapshot = context.snapshot;
  const auto& keys = context.keys;
  const size_t key_count = keys.size();
  std::vector<bool> numeric(key_count);
  std::vector<bool> is_partition(key_count);
  for (size_t k = 0; k < key_count; ++k) {
    numeric[k] = snapshot.schema().Find(keys[k])->type.kind != TypeKind::kString;
    is_partition[k] = std::any_of(
        snapshot.partition_columns().begin(), snapshot.partition_columns().end(),
        [&](const std::string& p) { return EqualsIgnoreCase(p, keys[k]); });
  }
  TRIB_ASSIGN_OR_RETURN(auto staged,
                        conn.Query(fmt::format("SELECT {}, __trib_del FROM {}",
                                               context.key_list, context.stage)));
  const size_t rows = staged.row_count();
  std::vector<KeyCell> cells(rows * key_count);
  std::vector<bool> deleted(rows);
  auto read_cells = [&](const sql::QueryResult& result, size_t first_column, size_t row,
                        KeyCell* out) {
    for (size_t k = 0; k < key_count; ++k) {
      KeyCell& cell = out[k];
      cell.null = result.IsNull(first_column + k, row);
      if (cell.null) {
        continue;
      }
      if (numeric[k]) {
        cell.number = result.GetInt64(first_column + k, row);
      } else {
        cell.text = result.GetString(first_column + k, row);
      }
    }
  };
  for (size_t row = 0; row < rows; ++row) {
    read_cells(staged, 0, row, &cells[row * key_count]);
    deleted[row] = staged.GetBool(key_count, row);
  }
  auto compare_tuples = [&](const KeyCell* a, const KeyCell* b) {
    for (size_t k = 0; k < key_count; ++k) {
      int c = CompareCells(a[k], b[k], numeric[k]);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  };
  auto row_key = [&](size_t row) { return &cells[row * key_count]; };
  std::vector<size_t> order(rows);
  for (size_t row = 0; row < rows; ++row) {
    order[row] = row;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return compare_tuples(row_key(a), row_key(b)) < 0;
  });
  // Duplicate keys (nulls equal, like GROUP BY).
  for (size_t i = 0; i + 1 < rows;) {
    size_t j = i + 1;
    while (j < rows && compare_tuples(row_key(order[i]), row_key(order[j])) == 0) {
      ++j;
    }
    if (j - i > 1) {
      std::string key_text;
      for (size_t k = 0; k < key_count; ++k) {
        const KeyCell& cell = row_key(order[i])[k];
        key_text += fmt::format("{}{}={}", k == 0 ? "" : ", ", keys[k],
                                cell.null ? std::string()
                                          : (numeric[k] ? std::to_string(cell.number)
                                                        : cell.text));
      }
      return MakeError(ErrorCode::kInvalidArgument,
                       "merge into Delta table '{}': the staging input has {} rows for key "
                       "({}); collapse to one row per key first",
                       snapshot.table_root().string(), j - i, key_text);
    }
    i = j;
  }
  // Rows with a null key match nothing (`=` is not true for null).
  std::vector<size_t> keyed;
  for (size_t row : order) {
    const KeyCell* key = row_key(row);
    if (std::none_of(key, key + key_count, [](const KeyCell& c) { return c.null; })) {
      keyed.push_back(row);
    }
  }
  // 1. Prune: a file is a candidate when some staging key lies within its bounds.
  const auto& files = snapshot.files();
  if (!keyed.empty() && !files.empty()) {
    auto bounds = KeyBoundsOf(snapshot, keys, numeric, is_partition);
    auto within = [&](size_t row, const FileKeyBounds& b) {
      const KeyCell* key = row_key(row);
      for (size_t k = 0; k < key_count; ++k) {
        if (b.lo[k] && CompareCells(key[k], *b.lo[k], numeric[k]) < 0) {
          return false;
        }
        if (b.hi[k] && CompareCells(key[k], *b.hi[k], numeric[k]) > 0) {
          return false;
        }
      }
      return true;
    };
    for (size_t index = 0; index < files.size(); ++index) {
      const FileKeyBounds& b = *bounds[index];
      // `keyed` is sorted by the first key: narrow to its range first.
      auto first = keyed.begin();
      auto last = keyed.end();
      if (b.lo[0]) {
        first = std::lower_bound(first, last, *b.lo[0], [&](size_t row, const KeyCell& lo) {
          return CompareCells(row_key(row)[0], lo, numeric[0]) < 0;
        });
      }
      if (b.hi[0]) {
        last = std::upper_bound(first, last, *b.hi[0], [&](const KeyCell& hi, size_t row) {
          return CompareCells(hi, row_key(row)[0], numeric[0]) < 0;
        });
      }
      if (std::any_of(first, last, [&](size_t row) { return within(row, b); })) {
        plan->candidates.push_back(index);
      }
    }
  }
  // 2. Scan the candidates for the staging keys they hold.
  std::vector<bool> row_matched(rows, false);
  if (!plan->candidates.empty()) {
    TRIB_ASSIGN_OR_RETURN(auto scan, CandidateScan(context, plan->candidates, &plan->read_set));
    const std::string select =
        fmt::format("SELECT f.* FROM ({}) AS f WHERE EXISTS (SELECT 1 FROM {} AS s WHERE {})",
                    scan, context.stage, context.key_equal);
    std::string source = "(" + select + ")";
    if (context.use_dv || context.change_data_feed) {
      // Deletion vectors need the matched row numbers, change data the matched keys.
      plan->matches = temps.NewName("matches");
      TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
          "CREATE TEMP TABLE {} AS {}", QuoteIdentifier(plan->matches), select)));
      source = QuoteIdentifier(plan->matches);
    }
    TRIB_ASSIGN_OR_RETURN(auto hit,
                          conn.Query(fmt::format("SELECT DISTINCT __trib_file, {} FROM {} AS m",
                                                 context.key_list, source)));
    std::set<size_t> matched_files;
    std::vector<KeyCell> key(key_count);
    for (size_t row = 0; row < hit.row_count(); ++row) {
      matched_files.insert(static_cast<size_t>(hit.GetInt64(0, row)));
      read_cells(hit, 1, row, key.data());
      auto it = std::lower_bound(keyed.begin(), keyed.end(), key.data(),
                                 [&](size_t staged_row, const KeyCell* k) {
                                   return compare_tuples(row_key(staged_row), k) < 0;
                                 });
      if (it != keyed.end() && compare_tuples(row_key(*it), key.data()) == 0) {
        row_matched[*it] = true;
      }
    }
    plan->matched_files.assign(matched_files.begin(), matched_files.end());
    if (plan->matched_files.empty() && !plan->matches.empty()) {
      plan->matches.clear();  // an empty matches table is the same as none
    }
  }
  // 3. Counts.
  for (size_t row = 0; row < rows; ++row) {
    if (row_matched[row]) {
      ++(deleted[row] ? plan->counts.rows_deleted : plan->counts.rows_updated);
    } else if (!deleted[row]) {
      ++plan->counts.rows_inserted;
    }
  }
  return OkStatus();
}

}  // namespace

std::string DuckDbTypeOf(const DataType& type) {
  switch (type.kind) {
    case TypeKind::kString:
      return "VARCHAR";
    case TypeKind::kLong:
      return "BIGINT";
    case TypeKind::kInteger:
      return "INTEGER";
    case TypeKind::kShort:
      return "SMALLINT";
    case TypeKind::kByte:
      return "TINYINT";
    case TypeKind::kFloat:
      return "FLOAT";
    case TypeKind::kDouble:
      return "DOUBLE";
    case TypeKind::kDecimal:
      return fmt::format("DECIMAL({},{})", type.precision, type.scale);
    case TypeKind::kBoolean:
      return "BOOLEAN";
    case TypeKind::kBinary:
      return "BLOB";
    case TypeKind::kDate:
      return "DATE";
    case TypeKind::kTimestamp:
      return "TIMESTAMP WITH TIME ZONE";
    case TypeKind::kTimestampNtz:
      return "TIMESTAMP";
    case TypeKind::kVariant:
      return "VARCHAR";
    case TypeKind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        out += fmt::format("{}{} {}", i == 0 ? "" : ", ", QuoteIdentifier(type.fields[i].name),
                           DuckDbTypeOf(type.fields[i].type));
      }
      return out + ")";
    }
    case TypeKind::kArray:
      return DuckDbTypeOf(type.element()) + "[]";
    case TypeKind::kMap:
      return fmt::format("MAP({}, {})", DuckDbTypeOf(type.key()), DuckDbTypeOf(type.value()));
  }
  return "VARCHAR";
}

std::string StatsJson(const parquet::ParquetFileInfo& file, const StructType& schema) {
  json stats = json::object();
  stats["numRecords"] = file.num_rows;
  json min_values = json::object();
  json max_values = json::object();
  json null_count = json::object();
  for (const auto& column : file.columns) {
    const StructField* field = schema.Find(column.name);
    if (field == nullptr || !field->type.is_primitive()) {
      continue;
    }
    if (column.null_count) {
      null_count[field->name] = *column.null_count;
    }
    if (column.min) {
      json value = StatValue(field->type, *column.min, /*is_max=*/false);
      if (!value.is_null()) {
        min_values[field->name] = std::move(value);
      }
    }
    if (column.max) {
      json value = StatValue(field->type, *column.max, /*is_max=*/true);
      if (!value.is_null()) {
        max_values[field->name] = std::move(value);
      }
    }
  }
  stats["minValues"] = std::move(min_values);
  stats["maxValues"] = std::move(max_values);
  stats["nullCount"] = std::move(null_count);
  return stats.dump();
}

Result<Protocol> MinimalProtocol(const StructType& schema,
                                 const std::map<std::string, std::string>& properties) {
  const bool change_data_feed = ConfigTrue(properties, "delta.enableChangeDataFeed");
  if (change_data_feed && ConfigTrue(properties, "delta.enableDeletionVectors")) {
    return MakeError(
        ErrorCode::kUnsupported,
        "table properties delta.enableChangeDataFeed=true and "
        "delta.enableDeletionVectors=true together are not supported by this "
        "writer (it writes change data files only for copy-on-write changes)");
  }
  auto mapping = properties.find("delta.columnMapping.mode");
  if (mapping != properties.end() && !EqualsIgnoreCase(mapping->second, "none")) {
    return MakeError(ErrorCode::kUnsupported,
                     "table property delta.columnMapping.mode={} is not supported by this "
                     "writer",
                     mapping->second);
  }
  for (const auto& [key, value] : properties) {
    if (key.rfind("delta.constraints.", 0) == 0) {
      return MakeError(ErrorCode::kUnsupported,
                       "CHECK constraint '{}' is not supported by this writer", key);
    }
  }
  Protocol protocol;
  protocol.min_reader_version = 1;
  protocol.min_writer_version = 2;
  std::vector<std::string> reader_features;
  std::vector<std::string> writer_features;
  if (SchemaHasKind(schema, TypeKind::kTimestampNtz)) {
    reader_features.emplace_back("timestampNtz");
    writer_features.emplace_back("timestampNtz");
  }
  if (ConfigTrue(properties, "delta.enableInCommitTimestamps")) {
    writer_features.emplace_back("inCommitTimestamp");
  }
  if (ConfigTrue(properties, "delta.enableDeletionVectors")) {
    reader_features.emplace_back("deletionVectors");
    writer_features.emplace_back("deletionVectors");
  }
  if (!writer_features.empty()) {
    // Table features (writer version 7) list every supported feature explicitly.
    if (ConfigTrue(properties, "delta.appendOnly")) {
      writer_features.emplace_back("appendOnly");
    }
    if (change_data_feed) {
      writer_features.emplace_back("changeDataFeed");
    }
    protocol.min_writer_version = 7;
    protocol.writer_features = writer_features;
    if (!reader_features.empty()) {
      protocol.min_reader_version = 3;
      protocol.reader_features = reader_features;
    }
  } else if (change_data_feed) {
    // PROTOCOL.md "Change Data Feed": writer version 4 without table features.
    protocol.min_writer_version = 4;
  }
  return protocol;
}

Status CheckWriteSupport(const Snapshot& snapshot, bool removes_data) {
  const Protocol& protocol = snapshot.protocol();
  const std::string table = snapshot.table_root().string();
  if (protocol.min_writer_version > 7) {
    return MakeError(ErrorCode::kUnsupported,
                     "Delta table '{}' needs writer version {}; this writer supports up to 7",
                     table, protocol.min_writer_version);
  }
  static const std::set<std::string> kSupported = {
      "appendOnly", "invariants", "timestampNtz", "inCommitTimestamp", "checkConstraints",
      "generatedColumns", "identityColumns", "changeDataFeed", "columnMapping",
      "domainMetadata", "vacuumProtocolCheck", "deletionVectors",
      // Type widening (PROTOCOL.md "Type Widening"): this writer never changes a column
      // type, keeps the schema's delta.typeChanges metadata as it is, and rewrites files
      // in the table's (wider) types.
      "typeWidening", "typeWidening-preview"};
  if (protocol.min_writer_version == 7 && protocol.writer_features) {
    for (const auto& feature : *protocol.writer_features) {
      if (kSupported.count(feature) == 0) {
        return MakeError(ErrorCode::kUnsupported,
                         "Delta table '{}' uses writer feature '{}', which this writer does "
                         "not support",
                         table, feature);
      }
    }
  }
  // Features this writer accepts only while they are not in use.
  const auto& config = snapshot.metadata().configuration;
  if (snapshot.column_mapping_mode() != ColumnMappingMode::kNone) {
    return MakeError(ErrorCode::kUnsupported,
                     "Delta table '{}' uses column mapping, which this writer does not "
                     "support",
                     table);
  }
  if (SchemaHasMetadata(snapshot.schema(), "delta.invariants")) {
    return MakeError(ErrorCode::kUnsupported,
                     "Delta table '{}' has column invariants, which this writer does not "
                     "enforce",
                     table);
  }
  if (SchemaHasMetadata(snapshot.schema(), "delta.generationExpression")) {
    return MakeError(ErrorCode::kUnsupported,
                     "Delta table '{}' has generated columns, which this writer does not "
                     "compute",
                     table);
  }
  if (SchemaHasMetadata(snapshot.schema(), "delta.identity")) {
    return MakeError(ErrorCode::kUnsupported,
                     "Delta table '{}' has identity columns, which this writer does not "
                     "assign",
                     table);
  }
  for (const auto& [key, value] : config) {
    if (key.rfind("delta.constraints.", 0) == 0) {
      return MakeError(ErrorCode::kUnsupported,
                       "Delta table '{}' has CHECK constraint '{}', which this writer does "
                       "not enforce",
                       table, key);
    }
  }
  if (removes_data && ConfigTrue(config, "delta.enableChangeDataFeed") &&
      DeletionVectorsEnabled(snapshot)) {
    return MakeError(
        ErrorCode::kUnsupported,
        "Delta table '{}' has change data feed and deletion vectors enabled; "
        "this writer writes change data files only for copy-on-write deletes "
        "and merges, so it can only append to this table",
        table);
  }
  if (removes_data && ConfigTrue(config, "delta.appendOnly")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Delta table '{}' is append-only (delta.appendOnly=true): rows cannot be "
                     "deleted or updated",
                     table);
  }
  return OkStatus();
}

Result<int64_t> CreateTable(const fs::path& table_root, const CreateTableOptions& options) {
  if (options.schema.fields.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot create Delta table '{}': the schema has no columns",
                     table_root.string());
  }
  std::set<std::string> seen;
  for (const auto& field : options.schema.fields) {
    std::string lower = field.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!seen.insert(lower).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot create Delta table '{}': duplicate column '{}'",
                       table_root.string(), field.name);
    }
  }
  for (const auto& column : options.partition_columns) {
    const StructField* field = options.schema.Find(column);
    if (field == nullptr || field->name != column) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot create Delta table '{}': partition column '{}' is not a "
                       "column of the schema",
                       table_root.string(), column);
    }
    if (!field->type.is_primitive() || field->type.kind == TypeKind::kBinary) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot create Delta table '{}': partition column '{}' has type {}, "
                       "which cannot be a partition column",
                       table_root.string(), column, field->type.ToString());
    }
  }
  if (options.partition_columns.size() == options.schema.fields.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot create Delta table '{}': every column is a partition column",
                     table_root.string());
  }
  TRIB_ASSIGN_OR_RETURN(auto protocol,
                        MinimalProtocol(options.schema, options.properties)
                            .WithContext(fmt::format("creating Delta table '{}'",
                                                     table_root.string())));
  Metadata metadata;
  metadata.id = internal::RandomUuid();
  metadata.name = options.name;
  metadata.description = options.description;
  metadata.schema_string = SerializeSchema(options.schema);
  metadata.partition_columns = options.partition_columns;
  metadata.created_time = NowMillis();
  metadata.configuration = options.properties;

  CommitInfo info;
  info.operation = "CREATE TABLE";
  info.operation_parameters["partitionBy"] = json(options.partition_columns).dump();
  info.operation_parameters["properties"] = json(options.properties).dump();
  info.is_blind_append = true;
  CommitRequest request;
  request.actions.emplace_back(protocol);
  request.actions.emplace_back(std::move(metadata));
  request.commit_info = std::move(info);
  request.read_set.read_version = -1;
  request.in_commit_timestamps =
      ConfigTrue(options.properties, "delta.enableInCommitTimestamps");
  TRIB_ASSIGN_OR_RETURN(auto committed, Commit(table_root, std::move(request)));
  return committed.version;
}

Result<WriteResult> Append(sql::Connection& conn, const fs::path& table_root,
                           std::string_view query, const WriteOptions& options) {
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadForWrite(conn, table_root, false));
  std::vector<PartitionValues> split_values;
  if (!options.input_partitions.empty()) {
    TRIB_ASSIGN_OR_RETURN(split_values, CheckInputPartitions(*snapshot, options));
  }
  TRIB_ASSIGN_OR_RETURN(auto projection,
                        ProjectInput(conn, table_root, snapshot->schema(), query, {},
                                     options.input_columns));
  std::string source =
      fmt::format("SELECT {} FROM ({}) AS __trib_q", projection.select_list, query);
  std::vector<AddFile> adds;
  FileWriter writer(conn, table_root, snapshot->schema(), snapshot->partition_columns(),
                    options, /*data_change=*/true);
  TRIB_RETURN_IF_ERROR(writer.WriteInput(source, split_values, &adds));
  WriteResult result = CountAdds(adds);
  CommitInfo info;
  info.operation = "WRITE";
  info.operation_parameters["mode"] = "Append";
  info.operation_parameters["partitionBy"] = json(snapshot->partition_columns()).dump();
  info.is_blind_append = true;
  AddMetric(&info, "numFiles", result.files_added);
  AddMetric(&info, "numOutputRows", result.rows_written);
  AddMetric(&info, "numOutputBytes", result.bytes_written);
  std::vector<Action> actions;
  for (auto& add : adds) {
    actions.emplace_back(std::move(add));
  }
  ReadSet read_set;
  read_set.read_version = snapshot->version();
  return FinishWrite(conn, *snapshot, std::move(actions), std::move(info),
                     std::move(read_set), options, result);
}

Result<WriteResult> Overwrite(sql::Connection& conn, const fs::path& table_root,
                              std::string_view query, const WriteOptions& options) {
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadForWrite(conn, table_root, true));
  std::vector<PartitionValues> split_values;
  if (!options.input_partitions.empty()) {
    TRIB_ASSIGN_OR_RETURN(split_values, CheckInputPartitions(*snapshot, options));
  }
  TRIB_ASSIGN_OR_RETURN(auto projection,
                        ProjectInput(conn, table_root, snapshot->schema(), query, {},
                                     options.input_columns));
  std::string source =
      fmt::format("SELECT {} FROM ({}) AS __trib_q", projection.select_list, query);
  std::vector<AddFile> adds;
  FileWriter writer(conn, table_root, snapshot->schema(), snapshot->partition_columns(),
                    options, /*data_change=*/true);
  TRIB_RETURN_IF_ERROR(writer.WriteInput(source, split_values, &adds));
  WriteResult result = CountAdds(adds);
  std::vector<Action> actions;
  int64_t now = NowMillis();
  ReadSet read_set;
  read_set.read_version = snapshot->version();
  read_set.scope = ReadSet::Scope::kAll;
  for (const auto& add : snapshot->files()) {
    actions.emplace_back(MakeRemove(add, now, true));
    read_set.read_files.insert(add.path);
    ++result.files_removed;
    result.bytes_removed += add.size;
  }
  for (auto& add : adds) {
    actions.emplace_back(std::move(add));
  }
  CommitInfo info;
  info.operation = "WRITE";
  info.operation_parameters["mode"] = "Overwrite";
  info.operation_parameters["partitionBy"] = json(snapshot->partition_columns()).dump();
  info.is_blind_append = false;
  AddMetric(&info, "numFiles", result.files_added);
  AddMetric(&info, "numRemovedFiles", result.files_removed);
  AddMetric(&info, "numOutputRows", result.rows_written);
  AddMetric(&info, "numOutputBytes", result.bytes_written);
  return FinishWrite(conn, *snapshot, std::move(actions), std::move(info),
                     std::move(read_set), options, result);
}

Result<WriteResult> DeleteWhere(sql::Connection& conn, const fs::path& table_root,
                                std::string_view predicate, const WriteOptions& options) {
  if (!options.input_partitions.empty()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "delete from Delta table '{}': input_partitions apply to appends and "
        "overwrites only",
        table_root.string());
  }
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadForWrite(conn, table_root, true));
  const auto& files = snapshot->files();
  std::vector<size_t> matched;
  WriteResult result;
  ReadSet read_set;
  read_set.read_version = snapshot->version();
  read_set.scope = ReadSet::Scope::kAll;
  const bool use_dv = DeletionVectorsEnabled(*snapshot);
  TempTables temps(conn);
  const std::string deleted_rows = temps.NewName("deleted");
  // Count matches per file in one scan (and keep their row numbers for deletion vectors).
  if (!files.empty()) {
    std::string scan;
    std::vector<const AddFile*> scanned;
    std::vector<int64_t> ids;
    for (size_t index = 0; index < files.size(); ++index) {
      scanned.push_back(&files[index]);
      ids.push_back(static_cast<int64_t>(index));
      read_set.read_files.insert(files[index].path);
    }
    TRIB_ASSIGN_OR_RETURN(auto relations,
                          FileRelations(conn, *snapshot, scanned, &ids, use_dv));
    for (size_t index = 0; index < relations.size(); ++index) {
      scan += fmt::format("{}SELECT * FROM ({}) AS f WHERE ({})",
                          index == 0 ? "" : " UNION ALL ", relations[index], predicate);
    }
    if (use_dv) {
      TRIB_RETURN_IF_ERROR(conn.Execute(
          fmt::format("CREATE TEMP TABLE {} AS SELECT __trib_file, __trib_row FROM ({})",
                      QuoteIdentifier(deleted_rows), scan)));
      scan = QuoteIdentifier(deleted_rows);
    } else {
      scan = "(" + scan + ")";
    }
    TRIB_ASSIGN_OR_RETURN(
        auto counts,
        conn.Query(fmt::format("SELECT __trib_file, count(*) FROM {} GROUP BY __trib_file "
                               "ORDER BY __trib_file",
                               scan)));
    for (size_t row = 0; row < counts.row_count(); ++row) {
      matched.push_back(static_cast<size_t>(counts.GetInt64(0, row)));
      result.rows_deleted += counts.GetInt64(1, row);
    }
  }
  CommitInfo info;
  info.operation = "DELETE";
  info.operation_parameters["predicate"] = json::array({std::string(predicate)}).dump();
  if (matched.empty()) {
    return FinishWrite(conn, *snapshot, {}, std::move(info), std::move(read_set), options,
                       result);
  }
  if (use_dv) {
    return ApplyDeletionVectors(conn, *snapshot, deleted_rows, "", std::move(info),
                                std::move(read_set), options, result);
  }
  std::string change_rows;
  if (ChangeDataFeedEnabled(*snapshot)) {
    // PROTOCOL.md "Change Data Files": the deleted rows, as `delete`.
    std::vector<const AddFile*> touched;
    for (size_t index : matched) {
      touched.push_back(&files[index]);
    }
    TRIB_ASSIGN_OR_RETURN(auto relations, FileRelations(conn, *snapshot, touched, nullptr,
                                                        /*with_row_number=*/false));
    for (const auto& relation : relations) {
      change_rows += fmt::format(
          "{}SELECT {}, 'delete' AS _change_type FROM ({}) AS f WHERE coalesce(({}), "
          "false)",
          change_rows.empty() ? "" : " UNION ALL ",
          TableProjection(snapshot->schema(), "f"), relation, predicate);
    }
  }
  return RewriteFiles(conn, *snapshot, matched,
                      fmt::format("NOT coalesce(({}), false)", predicate), "",
                      change_rows, std::move(info), std::move(read_set), options, result);
}

Result<WriteResult> Merge(sql::Connection& conn, const fs::path& table_root,
                          std::string_view staging_query, const MergeOptions& options) {
  if (options.key_columns.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "merge into Delta table '{}': no key columns given",
                     table_root.string());
  }
  if (!options.write.input_partitions.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "merge into Delta table '{}': input_partitions apply to appends and "
                     "overwrites only",
                     table_root.string());
  }
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadForWrite(conn, table_root, true));
  const StructType& schema = snapshot->schema();
  std::vector<std::string> keys;
  bool native_keys = true;
  for (const auto& key : options.key_columns) {
    const StructField* field = schema.Find(key);
    if (field == nullptr || !field->type.is_primitive()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "merge into Delta table '{}': key column '{}' is not a primitive "
                       "column of the table",
                       table_root.string(), key);
    }
    keys.push_back(field->name);
    native_keys = native_keys && IsNativeKeyKind(field->type.kind);
  }
  std::vector<std::string> extra;
  if (options.delete_flag_column) {
    extra.push_back(*options.delete_flag_column);
  }
  TRIB_ASSIGN_OR_RETURN(auto projection,
                        ProjectInput(conn, table_root, schema, staging_query, extra,
                                     options.write.input_columns));
  if (options.delete_flag_column && projection.extra_columns.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "merge into Delta table '{}': delete flag column '{}' is missing from "
                     "the staging input",
                     table_root.string(), *options.delete_flag_column);
  }
  TempTables temps(conn);
  // The staging rows in the table's types: read in place when the input is repeatable
  // (each planning and writing step runs the query again), else copied once into a
  // temporary table.
  std::string stage;
  {
    std::string flag_select;
    if (options.delete_flag_column) {
      flag_select = fmt::format(", coalesce(CAST(__trib_q.{} AS BOOLEAN), false) AS __trib_del",
                                QuoteIdentifier(projection.extra_columns[0]));
    } else {
      flag_select = ", false AS __trib_del";
    }
    // The projection passes the flag column through; select table columns explicitly.
    std::string table_columns;
    for (const auto& field : schema.fields) {
      table_columns += fmt::format("{}, ", QuoteIdentifier(field.name));
    }
    const std::string select = fmt::format(
        "SELECT {} __trib_del FROM (SELECT {}{} FROM ({}) AS __trib_q) AS __trib_p",
        table_columns, projection.select_list, flag_select, staging_query);
    if (options.write.repeatable_input) {
      stage = fmt::format("({})", select);
    } else {
      const std::string name = temps.NewName("stage");
      TRIB_RETURN_IF_ERROR(conn.Execute(
          fmt::format("CREATE TEMP TABLE {} AS {}", QuoteIdentifier(name), select)));
      stage = QuoteIdentifier(name);
    }
  }
  MergeContext context{conn,
                       *snapshot,
                       keys,
                       stage,
                       DeletionVectorsEnabled(*snapshot),
                       ChangeDataFeedEnabled(*snapshot),
                       std::string(),
                       std::string()};
  for (size_t i = 0; i < keys.size(); ++i) {
    context.key_list += fmt::format("{}{}", i == 0 ? "" : ", ", QuoteIdentifier(keys[i]));
    context.key_equal += fmt::format("{}s.{} = f.{}", i == 0 ? "" : " AND ",
                                     QuoteIdentifier(keys[i]), QuoteIdentifier(keys[i]));
  }
  MergePlan plan;
  plan.read_set.read_version = snapshot->version();
  plan.read_set.scope = ReadSet::Scope::kAll;
  if (native_keys) {
    TRIB_RETURN_IF_ERROR(PlanMergeNative(context, temps, &plan));
  } else {
    TRIB_RETURN_IF_ERROR(PlanMergeSql(context, temps, &plan));
  }
  const auto& files = snapshot->files();
  WriteResult result = plan.counts;
  std::string upserts = fmt::format("SELECT {} FROM {} AS s WHERE NOT __trib_del",
                                    TableProjection(schema, "s"), stage);
  if (result.rows_updated + result.rows_inserted == 0) {
    upserts.clear();
  }
  std::string keep =
      fmt::format("NOT EXISTS (SELECT 1 FROM {} AS s WHERE {})", stage,
                  context.key_equal);
  CommitInfo info;
  info.operation = "MERGE";
  info.operation_parameters["predicate"] =
      json::array({fmt::format("key ({})", context.key_list)}).dump();
  AddMetric(&info, "numTargetRowsInserted", result.rows_inserted);
  AddMetric(&info, "numTargetRowsUpdated", result.rows_updated);
  AddMetric(&info, "numTargetRowsDeleted", result.rows_deleted);
  AddMetric(&info, "numTargetFilesScanned", static_cast<int64_t>(plan.candidates.size()));
  AddMetric(&info, "numTargetFilesSkipped",
            static_cast<int64_t>(files.size() - plan.candidates.size()));
  int64_t matched_rows_total = 0;
  for (size_t index : plan.matched_files) {
    matched_rows_total += files[index].NumRecords().value_or(0);
  }
  result.rows_copied =
      std::max<int64_t>(0, matched_rows_total - result.rows_updated - result.rows_deleted);
  if (context.use_dv) {
    AddMetric(&info, "numTargetRowsCopied", 0);
    return ApplyDeletionVectors(conn, *snapshot, plan.matches, upserts, std::move(info),
                                std::move(plan.read_set), options.write, result);
  }
  AddMetric(&info, "numTargetRowsCopied", result.rows_copied);
  std::string change_rows;
  if (context.change_data_feed) {
    // PROTOCOL.md "Change Data Files": matched target rows as `delete` or
    // `update_preimage`, upserted staging rows as `update_postimage` or `insert`.
    std::vector<const AddFile*> touched;
    for (size_t index : plan.matched_files) {
      touched.push_back(&files[index]);
    }
    TRIB_ASSIGN_OR_RETURN(auto relations, FileRelations(conn, *snapshot, touched, nullptr,
                                                        /*with_row_number=*/false));
    for (const auto& relation : relations) {
      change_rows += fmt::format(
          "{}SELECT {}, CASE WHEN s.__trib_del THEN 'delete' ELSE 'update_preimage' END "
          "AS "
          "_change_type FROM ({}) AS f JOIN {} AS s ON {}",
          change_rows.empty() ? "" : " UNION ALL ", TableProjection(schema, "f"),
          relation, stage, context.key_equal);
    }
    if (!upserts.empty()) {
      std::string change_type =
          plan.matches.empty()
              ? std::string("'insert'")
              : fmt::format("CASE WHEN EXISTS (SELECT 1 FROM {} AS f WHERE {}) THEN "
                            "'update_postimage' ELSE 'insert' END",
                            QuoteIdentifier(plan.matches), context.key_equal);
      change_rows += fmt::format(
          "{}SELECT {}, {} AS _change_type FROM {} AS s WHERE NOT s.__trib_del",
          change_rows.empty() ? "" : " UNION ALL ", TableProjection(schema, "s"),
          change_type, stage);
    }
  }
  return RewriteFiles(conn, *snapshot, plan.matched_files, keep, upserts, change_rows,
                      std::move(info), std::move(plan.read_set), options.write, result);
}

Result<std::optional<int64_t>> ReadAppTransactionVersion(const fs::path& table_root,
                                                         std::string_view app_id) {
  auto snapshot = LatestSnapshotForWrite(table_root, nullptr);
  if (!snapshot.ok()) {
    // No table (yet) is not an error here; a broken one is.
    TRIB_ASSIGN_OR_RETURN(auto latest, LatestCommitVersion(table_root));
    if (!latest) {
      return std::optional<int64_t>();
    }
    return std::move(snapshot).status();
  }
  return (*snapshot)->GetAppTransactionVersion(app_id);
}

namespace internal {

Status WriteDataFiles(sql::Connection& conn, const fs::path& table_root,
                      const StructType& schema,
                      const std::vector<std::string>& partition_columns,
                      const WriteOptions& options, bool data_change, std::string_view source,
                      std::vector<AddFile>* adds) {
  FileWriter writer(conn, table_root, schema, partition_columns, options, data_change);
  return writer.Write(source, adds);
}

Result<std::string> FileRelation(sql::Connection& conn, const Snapshot& snapshot,
                                 const AddFile& add) {
  TRIB_ASSIGN_OR_RETURN(auto relations, FileRelations(conn, snapshot, {&add}, nullptr,
                                                      /*with_row_number=*/false));
  return std::move(relations.front());
}

RemoveFile RemoveFor(const AddFile& add, int64_t deletion_timestamp, bool data_change) {
  return MakeRemove(add, deletion_timestamp, data_change);
}

}  // namespace internal

}  // namespace tributary::lake::delta
