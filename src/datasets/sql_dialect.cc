#include "datasets/sql_dialect.h"

#include <set>

#include <fmt/format.h>

namespace tributary::datasets {
namespace {

std::string QuoteList(const std::vector<std::string>& names, Dialect dialect) {
  std::string out;
  for (size_t idx = 0; idx < names.size(); ++idx) {
    if (idx > 0) {
      out += ", ";
    }
    out += QuoteIdentifier(names[idx], dialect);
  }
  return out;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name, Dialect dialect) {
  const char quote = dialect == Dialect::kPostgres ? '"' : '`';
  std::string out(1, quote);
  for (char c : name) {
    if (c == quote) {
      out.push_back(quote);
    }
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

std::string SqlColumnType(const ColumnSpec& column, Dialect dialect, bool in_key) {
  const bool pg = dialect == Dialect::kPostgres;
  switch (column.type) {
    case ColumnType::kBoolean:
      return pg ? "boolean" : "BOOLEAN";
    case ColumnType::kInteger:
      return pg ? "integer" : "INT";
    case ColumnType::kBigint:
      return pg ? "bigint" : "BIGINT";
    case ColumnType::kNumeric:
      return fmt::format("{}({},{})", pg ? "numeric" : "DECIMAL", column.precision,
                         column.scale);
    case ColumnType::kDate:
      return pg ? "date" : "DATE";
    case ColumnType::kTimestamp:
      return pg ? "timestamp" : "DATETIME(6)";
    case ColumnType::kText:
      if (pg) {
        return "text";
      }
      return in_key ? "VARCHAR(255)" : "LONGTEXT";
  }
  return "text";
}

std::string CreateTableSql(const TableSpec& spec, Dialect dialect) {
  std::set<std::string> key_columns(spec.primary_key.begin(), spec.primary_key.end());
  for (const ForeignKey& foreign_key : spec.foreign_keys) {
    key_columns.insert(foreign_key.columns.begin(), foreign_key.columns.end());
  }
  std::string sql = fmt::format("CREATE TABLE {} (", QuoteIdentifier(spec.name, dialect));
  bool first = true;
  for (const ColumnSpec& column : spec.columns) {
    sql += first ? "\n  " : ",\n  ";
    first = false;
    sql += QuoteIdentifier(column.name, dialect);
    sql += ' ';
    sql += SqlColumnType(column, dialect, key_columns.count(column.name) > 0);
    if (!column.nullable) {
      sql += " NOT NULL";
    }
  }
  if (!spec.primary_key.empty()) {
    sql += fmt::format(",\n  PRIMARY KEY ({})", QuoteList(spec.primary_key, dialect));
  }
  for (const ForeignKey& foreign_key : spec.foreign_keys) {
    sql += fmt::format(",\n  FOREIGN KEY ({}) REFERENCES {} ({})",
                       QuoteList(foreign_key.columns, dialect),
                       QuoteIdentifier(foreign_key.ref_table, dialect),
                       QuoteList(foreign_key.ref_columns, dialect));
  }
  sql += "\n)";
  if (dialect == Dialect::kMySql) {
    sql += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  }
  return sql;
}

std::string DropTableSql(std::string_view table, Dialect dialect) {
  return fmt::format("DROP TABLE IF EXISTS {}", QuoteIdentifier(table, dialect));
}

}  // namespace tributary::datasets
