#include "lake/parquet/parquet_writer.h"

#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/value.h"

namespace tributary::lake::parquet {

namespace {

bool IsNested(std::string_view duckdb_type) {
  return (duckdb_type.find('(') != std::string_view::npos &&
             (duckdb_type.rfind("STRUCT", 0) == 0 || duckdb_type.rfind("MAP", 0) == 0 ||
              duckdb_type.rfind("UNION", 0) == 0)) ||
         (!duckdb_type.empty() && duckdb_type.back() == ']');
}

bool IsTimestamp(std::string_view duckdb_type) {
  return duckdb_type == "TIMESTAMP" || duckdb_type == "TIMESTAMP WITH TIME ZONE" ||
         duckdb_type == "TIMESTAMP_MS" || duckdb_type == "TIMESTAMP_NS" ||
         duckdb_type == "TIMESTAMP_S";
}

// One merged statistic: min or max over the row groups of column `name`, cast to its type.
std::string StatExpression(std::string_view aggregate, std::string_view stat_column,
                           const std::string& name, const std::string& duckdb_type) {
  std::string filter = fmt::format("path_in_schema = {}", sql::QuoteLiteral(name));
  std::string value =
      fmt::format("{}(TRY_CAST({} AS {})) FILTER (WHERE {})", aggregate, stat_column,
                  duckdb_type, filter);
  if (IsTimestamp(duckdb_type)) {
    value = fmt::format("epoch_us({})", value);
  }
  // NULL when any row group lacks the statistic: a partial min/max would be wrong.
  return fmt::format(
      "CASE WHEN count({}) FILTER (WHERE {}) = count(*) FILTER (WHERE {}) THEN CAST({} AS "
      "VARCHAR) END",
      stat_column, filter, filter, value);
}

// COPY ... (RETURN_STATS) returns column_statistics as a MAP(VARCHAR, MAP(VARCHAR,
// VARCHAR)) keyed by the column path as SQL identifiers ('"a"', '"s"."x"'), read here
// from its text form: {'key'={'min'='1', 'max'='9', 'null_count'='0', ...}, ...} with
// strings in single quotes ('' inside a string is one quote).
class StatsMapParser {
 public:
  explicit StatsMapParser(std::string_view text) : text_(text) {}

  // column path -> (statistic -> value); nullopt when the text is not of that form.
  std::optional<std::map<std::string, std::map<std::string, std::string>>> Parse() {
    std::map<std::string, std::map<std::string, std::string>> out;
    if (!Consume('{')) {
      return std::nullopt;
    }
    if (Consume('}')) {
      return out;
    }
    while (true) {
      auto key = Quoted();
      if (!key || !Consume('=') || !Consume('{')) {
        return std::nullopt;
      }
      auto& stats = out[*key];
      if (!Consume('}')) {
        while (true) {
          auto name = Quoted();
          if (!name || !Consume('=')) {
            return std::nullopt;
          }
          auto value = Quoted();
          if (!value) {
            return std::nullopt;
          }
          stats[*name] = std::move(*value);
          if (Consume('}')) {
            break;
          }
          if (!Consume(',')) {
            return std::nullopt;
          }
        }
      }
      if (Consume('}')) {
        break;
      }
      if (!Consume(',')) {
        return std::nullopt;
      }
    }
    SkipSpaces();
    if (pos_ != text_.size()) {
      return std::nullopt;
    }
    return out;
  }

 private:
  void SkipSpaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<std::string> Quoted() {
    if (!Consume('\'')) {
      return std::nullopt;
    }
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c != '\'') {
        out.push_back(c);
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '\'') {
        out.push_back('\'');
        ++pos_;
        continue;
      }
      return out;
    }
    return std::nullopt;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// The column name of a top-level column path ("\"a\"" -> a, with "" as one quote);
// nullopt for a nested path ("\"s\".\"x\"").
std::optional<std::string> TopLevelName(std::string_view path) {
  if (path.size() < 2 || path.front() != '"' || path.back() != '"') {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    if (path[i] == '"') {
      if (i + 2 < path.size() && path[i + 1] == '"') {
        out.push_back('"');
        ++i;
        continue;
      }
      return std::nullopt;  // a quote ending an identifier before the end: nested
    }
    out.push_back(path[i]);
  }
  return out;
}

// Microseconds since the epoch of DuckDB's timestamp text "YYYY-MM-DD HH:MM:SS[.ffffff]"
// with an optional UTC offset "+HH[:MM[:SS]]" / "-HH..." (TIMESTAMP WITH TIME ZONE in
// the connection's time zone); nullopt for anything else (BC dates, infinity).
std::optional<int64_t> TimestampTextMicros(std::string_view text) {
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    if (pos + n > text.size()) {
      return std::nullopt;
    }
    int64_t value = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto year = digits(0, 4);
  auto month = digits(5, 2);
  auto day = digits(8, 2);
  auto hour = digits(11, 2);
  auto minute = digits(14, 2);
  auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int64_t sign = text[pos] == '-' ? -1 : 1;
    auto oh = digits(pos + 1, 2);
    if (!oh) {
      return std::nullopt;
    }
    offset_seconds = *oh * 3600;
    pos += 3;
    for (int64_t unit : {int64_t{60}, int64_t{1}}) {
      if (pos < text.size() && text[pos] == ':') {
        auto part = digits(pos + 1, 2);
        if (!part) {
          return std::nullopt;
        }
        offset_seconds += *part * unit;
        pos += 3;
      }
    }
    offset_seconds *= sign;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const int64_t days =
      core::DaysFromCivil(static_cast<int32_t>(*year), static_cast<uint32_t>(*month),
                          static_cast<uint32_t>(*day));
  const int64_t seconds =
      days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_seconds;
  return seconds * 1000000 + fraction;
}

// Fills num_rows, size and the column statistics of `info` (columns named and typed)
// from a COPY ... RETURN_STATS result row. False when the result is not in the expected
// form (the caller reads the footer instead).
bool FillReturnedStats(const sql::QueryResult& copied, ParquetFileInfo* info) {
  auto count = copied.ColumnIndex("count");
  auto size = copied.ColumnIndex("file_size_bytes");
  auto statistics = copied.ColumnIndex("column_statistics");
  if (!count || !size || !statistics || copied.IsNull(*statistics, 0)) {
    return false;
  }
  auto parsed = StatsMapParser(copied.GetString(*statistics, 0)).Parse();
  if (!parsed) {
    return false;
  }
  std::map<std::string, const std::map<std::string, std::string>*> by_name;
  for (const auto& [path, stats] : *parsed) {
    if (auto name = TopLevelName(path)) {
      by_name[*name] = &stats;
    }
  }
  for (auto& column : info->columns) {
    if (IsNested(column.duckdb_type)) {
      continue;
    }
    auto it = by_name.find(column.name);
    if (it == by_name.end()) {
      continue;
    }
    const auto& stats = *it->second;
    auto value = [&](const char* key) -> std::optional<std::string> {
      auto found = stats.find(key);
      if (found == stats.end()) {
        return std::nullopt;
      }
      if (IsTimestamp(column.duckdb_type)) {
        auto micros = TimestampTextMicros(found->second);
        if (!micros) {
          return std::nullopt;
        }
        return std::to_string(*micros);
      }
      return found->second;
    };
    column.min = value("min");
    column.max = value("max");
    auto nulls = stats.find("null_count");
    if (nulls != stats.end()) {
      try {
        column.null_count = std::stoll(nulls->second);
      } catch (const std::exception&) {
        return false;
      }
    }
  }
  info->num_rows = copied.GetInt64(*count, 0);
  info->size_bytes = copied.GetInt64(*size, 0);
  return true;
}

// Statistics merged over every row group (min of minima, max of maxima, sum of null
// counts; NULL when a row group lacks one).
Status ReadMergedStats(sql::Connection& conn, const std::string& path, ParquetFileInfo* info) {
  const std::string file = sql::QuoteLiteral(path);
  std::string select = "SELECT (SELECT num_rows FROM parquet_file_metadata(" + file + "))";
  for (const auto& column : info->columns) {
    if (IsNested(column.duckdb_type)) {
      continue;
    }
    std::string filter = fmt::format("path_in_schema = {}", sql::QuoteLiteral(column.name));
    select += ", " + StatExpression("min", "stats_min_value", column.name, column.duckdb_type);
    select += ", " + StatExpression("max", "stats_max_value", column.name, column.duckdb_type);
    select += fmt::format(
        ", CASE WHEN count(stats_null_count) FILTER (WHERE {0}) = count(*) FILTER (WHERE "
        "{0}) THEN sum(stats_null_count) FILTER (WHERE {0}) END",
        filter);
  }
  select += " FROM parquet_metadata(" + file + ")";
  TRIB_ASSIGN_OR_RETURN(auto stats, conn.Query(select));
  if (stats.row_count() != 1) {
    return MakeError(ErrorCode::kCorruption, "no footer metadata in Parquet file '{}'", path);
  }
  info->num_rows = stats.GetInt64(0, 0);
  size_t stat_column = 1;
  for (auto& column : info->columns) {
    if (IsNested(column.duckdb_type)) {
      continue;
    }
    column.min = stats.GetOptionalString(stat_column, 0);
    column.max = stats.GetOptionalString(stat_column + 1, 0);
    if (!stats.IsNull(stat_column + 2, 0)) {
      column.null_count = stats.GetInt64(stat_column + 2, 0);
    }
    stat_column += 3;
  }
  return OkStatus();
}

// The typed text form of one footer statistic of a column of `duckdb_type` (the same
// form StatExpression produces, without aggregating).
std::string StatText(std::string_view stat_column, const std::string& duckdb_type) {
  std::string value = fmt::format("TRY_CAST({} AS {})", stat_column, duckdb_type);
  if (IsTimestamp(duckdb_type)) {
    value = fmt::format("epoch_us({})", value);
  }
  return fmt::format("CAST({} AS VARCHAR)", value);
}

// Statistics of a file with one row group: the footer's values, typed per column with one
// CASE, no aggregates. A DuckDB aggregate with a FILTER clause allocates its own vectors,
// so the general query below (nine of them per column) cost more than writing a small
// file. Returns false when the file has more than one row group (the caller merges).
Result<bool> ReadSingleRowGroupStats(sql::Connection& conn, const std::string& file,
                                     ParquetFileInfo* info) {
  std::string min_case;
  std::string max_case;
  for (const auto& column : info->columns) {
    if (IsNested(column.duckdb_type)) {
      continue;
    }
    const std::string name = sql::QuoteLiteral(column.name);
    min_case += fmt::format(" WHEN {} THEN {}", name,
                            StatText("stats_min_value", column.duckdb_type));
    max_case += fmt::format(" WHEN {} THEN {}", name,
                            StatText("stats_max_value", column.duckdb_type));
  }
  if (min_case.empty()) {
    min_case = " WHEN NULL THEN NULL";
    max_case = min_case;
  }
  TRIB_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query(fmt::format(
          "SELECT path_in_schema, row_group_id, row_group_num_rows, CASE path_in_schema{} "
          "END, CASE path_in_schema{} END, stats_null_count, (SELECT num_rows FROM "
          "parquet_file_metadata({})) FROM parquet_metadata({})",
          min_case, max_case, file, file)));
  if (rows.row_count() == 0) {
    // No column chunks: no row groups (an empty file).
    return false;
  }
  for (size_t row = 0; row < rows.row_count(); ++row) {
    if (rows.GetInt64(1, row) != 0) {
      return false;
    }
  }
  info->num_rows = rows.GetInt64(6, 0);
  for (auto& column : info->columns) {
    if (IsNested(column.duckdb_type)) {
      continue;
    }
    for (size_t row = 0; row < rows.row_count(); ++row) {
      if (rows.GetString(0, row) != column.name) {
        continue;
      }
      column.min = rows.GetOptionalString(3, row);
      column.max = rows.GetOptionalString(4, row);
      if (!rows.IsNull(5, row)) {
        column.null_count = rows.GetInt64(5, row);
      }
      break;
    }
  }
  return true;
}

}  // namespace

Result<ParquetFileInfo> ReadParquetFileInfo(sql::Connection& conn, const std::string& path) {
  const std::string file = sql::QuoteLiteral(path);
  ParquetFileInfo info;
  info.path = path;
  {
    TRIB_ASSIGN_OR_RETURN(
        auto described,
        conn.Query(fmt::format("DESCRIBE SELECT * FROM read_parquet({})", file)));
    for (size_t row = 0; row < described.row_count(); ++row) {
      ColumnStatistics column;
      column.name = described.GetString(0, row);
      column.duckdb_type = described.GetString(1, row);
      info.columns.push_back(std::move(column));
    }
  }
  TRIB_ASSIGN_OR_RETURN(bool single, ReadSingleRowGroupStats(conn, file, &info));
  if (!single) {
    TRIB_RETURN_IF_ERROR(ReadMergedStats(conn, path, &info));
  }
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot stat Parquet file '{}': {}", path, ec.message());
  }
  info.size_bytes = static_cast<int64_t>(size);
  return info;
}

namespace {

Result<ParquetFileInfo> CopyToParquet(sql::Connection& conn, std::string_view query,
                                      const std::string& path,
                                      const ParquetWriteOptions& options,
                                      std::vector<ColumnStatistics> columns) {
  std::string copy_options = fmt::format("FORMAT parquet, COMPRESSION {}, RETURN_STATS true",
                                         sql::QuoteLiteral(options.compression));
  if (options.row_group_size > 0) {
    copy_options += fmt::format(", ROW_GROUP_SIZE {}", options.row_group_size);
  }
  auto copied = conn.Query(
      fmt::format("COPY ({}) TO {} ({})", query, sql::QuoteLiteral(path), copy_options));
  if (!copied.ok()) {
    return std::move(copied).status().AddContext(
        fmt::format("writing Parquet file '{}'", path));
  }
  ParquetFileInfo info;
  info.path = path;
  info.columns = std::move(columns);
  if (copied->row_count() == 1 && copied->column_count() >= 5 &&
      FillReturnedStats(*copied, &info)) {
    return info;
  }
  // Statistics in a form this reader does not know: read them from the footer.
  return std::move(ReadParquetFileInfo(conn, path))
      .WithContext(fmt::format("reading statistics of '{}'", path));
}

}  // namespace

Result<ParquetFileInfo> WriteParquetFile(sql::Connection& conn, std::string_view query,
                                         const std::string& path,
                                         const ParquetWriteOptions& options) {
  // The column types decide how statistics are read (timestamps become microseconds);
  // DESCRIBE only binds the query.
  TRIB_ASSIGN_OR_RETURN(auto described,
                        conn.Query(fmt::format("DESCRIBE SELECT * FROM ({})", query)));
  std::vector<ColumnStatistics> columns;
  for (size_t row = 0; row < described.row_count(); ++row) {
    ColumnStatistics column;
    column.name = described.GetString(0, row);
    column.duckdb_type = described.GetString(1, row);
    columns.push_back(std::move(column));
  }
  return CopyToParquet(conn, query, path, options, std::move(columns));
}

Result<ParquetFileInfo> WriteParquetFile(sql::Connection& conn, std::string_view query,
                                         const std::string& path,
                                         const ParquetWriteOptions& options,
                                         const std::vector<QueryColumn>& columns) {
  std::vector<ColumnStatistics> stats;
  stats.reserve(columns.size());
  for (const auto& column : columns) {
    ColumnStatistics entry;
    entry.name = column.name;
    entry.duckdb_type = column.duckdb_type;
    stats.push_back(std::move(entry));
  }
  return CopyToParquet(conn, query, path, options, std::move(stats));
}

}  // namespace tributary::lake::parquet
