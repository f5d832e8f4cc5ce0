#pragma once

#include <string>
#include <string_view>

#include "datasets/table.h"

namespace tributary::datasets {

/// The SQL dialects the loaders write.
enum class Dialect {
  kPostgres,  ///< PostgreSQL 15
  kMySql,     ///< MySQL 8 / MariaDB 10.11
};

/// Quotes an identifier: "name" for PostgreSQL, `name` for MySQL, with the quote character
/// doubled inside. Every identifier the loaders send goes through this.
std::string QuoteIdentifier(std::string_view name, Dialect dialect);

/// The column type in `dialect`. PostgreSQL: boolean, integer, bigint, numeric(p,s), date,
/// timestamp, text. MySQL: BOOLEAN, INT, BIGINT, DECIMAL(p,s), DATE, DATETIME(6), and for
/// text LONGTEXT, or VARCHAR(255) when `in_key` (MySQL cannot index a TEXT column whole).
std::string SqlColumnType(const ColumnSpec& column, Dialect dialect, bool in_key);

/// CREATE TABLE with columns (NOT NULL where not nullable), the primary key and the foreign
/// keys. MySQL tables are InnoDB with utf8mb4.
std::string CreateTableSql(const TableSpec& spec, Dialect dialect);

/// DROP TABLE IF EXISTS for `table`.
std::string DropTableSql(std::string_view table, Dialect dialect);

}  // namespace tributary::datasets
