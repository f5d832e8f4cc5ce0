#include "lake/parquet/parquet_writer.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

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

Result<ParquetFileInfo> WriteParquetFile(sql::Connection& conn, std::string_view query,
                                         const std::string& path,
                                         const ParquetWriteOptions& options) {
  std::string copy_options = fmt::format("FORMAT parquet, COMPRESSION {}",
                                         sql::QuoteLiteral(options.compression));
  if (options.row_group_size > 0) {
    copy_options += fmt::format(", ROW_GROUP_SIZE {}", options.row_group_size);
  }
  TRIB_RETURN_IF_ERROR(
      std::move(conn.Execute(fmt::format("COPY ({}) TO {} ({})", query,
                                         sql::QuoteLiteral(path), copy_options)))
          .WithContext(fmt::format("writing Parquet file '{}'", path)));
  return std::move(ReadParquetFileInfo(conn, path))
      .WithContext(fmt::format("reading statistics of '{}'", path));
}

}  // namespace tributary::lake::parquet
