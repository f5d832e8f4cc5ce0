// MySQL/MariaDB target: CREATE TABLE, then multi-row INSERT statements in one transaction,
// through MariaDB Connector/C (https://mariadb.com/kb/en/mariadb-connector-c-api-functions/).

#include <mysql.h>

#include <memory>
#include <string>

#include <fmt/format.h>

#include "datasets/internal/loader.h"
#include "datasets/sql_dialect.h"

namespace tributary::datasets::internal {
namespace {

constexpr size_t kMaxStatementBytes = 4 << 20;
constexpr unsigned kConnectTimeoutSeconds = 10;

struct MysqlDeleter {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlDeleter>;

struct MysqlResultDeleter {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using MysqlResultPtr = std::unique_ptr<MYSQL_RES, MysqlResultDeleter>;

const char* NullIfEmpty(const std::string& text) {
  return text.empty() ? nullptr : text.c_str();
}

class MySqlLoader final : public TableLoader {
 public:
  MySqlLoader(MysqlPtr mysql, std::string redacted_dsn)
      : mysql_(std::move(mysql)), redacted_dsn_(std::move(redacted_dsn)) {}

  Result<bool> TableExists(std::string_view table) override {
    const std::string sql = fmt::format(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
        "table_name = {}",
        QuoteString(table));
    TRIB_RETURN_IF_ERROR(Exec(sql, fmt::format("checking whether table '{}' exists", table)));
    MysqlResultPtr result(mysql_store_result(mysql_.get()));
    if (result == nullptr) {
      return MakeError(ErrorCode::kInternal, "checking whether table '{}' exists in {}: {}",
                       table, redacted_dsn_, mysql_error(mysql_.get()));
    }
    MYSQL_ROW row = mysql_fetch_row(result.get());
    return row != nullptr && row[0] != nullptr && std::string_view(row[0]) != "0";
  }

  Status DropTable(std::string_view table) override {
    return Exec(DropTableSql(table, Dialect::kMySql), fmt::format("dropping table '{}'", table));
  }

  Status CreateAndFill(const TableData& table, const LoadOptions& options) override {
    const std::string& name = table.spec.name;
    // MySQL DDL commits implicitly, so the table is created first and dropped again if
    // filling it fails: either the whole table is there or none of it.
    TRIB_RETURN_IF_ERROR(Exec(CreateTableSql(table.spec, Dialect::kMySql),
                              fmt::format("creating table '{}'", name)));
    Status status = Fill(table, options);
    if (!status.ok()) {
      (void)Exec("ROLLBACK", "rolling back");
      (void)Exec(DropTableSql(name, Dialect::kMySql), "dropping the partly loaded table");
      return status;
    }
    return OkStatus();
  }

 private:
  Status Exec(const std::string& sql, const std::string& what) {
    if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) {
      const unsigned code = mysql_errno(mysql_.get());
      // 2000-2999 are client errors: the connection, not the statement, failed.
      const ErrorCode error_code =
          code >= 2000 && code < 3000 ? ErrorCode::kNetwork : ErrorCode::kInvalidArgument;
      return MakeError(error_code, "{} in {}: {} (MySQL error {})", what, redacted_dsn_,
                       mysql_error(mysql_.get()), code);
    }
    return OkStatus();
  }

  std::string QuoteString(std::string_view value) {
    std::string out(value.size() * 2 + 3, '\0');
    out[0] = '\'';
    const unsigned long length = mysql_real_escape_string(mysql_.get(), out.data() + 1,
                                                          value.data(), value.size());
    out.resize(length + 1);
    out.push_back('\'');
    return out;
  }

  void AppendValue(const ColumnSpec& column, const std::optional<std::string>& value,
                   std::string& out) {
    if (!value) {
      out += "NULL";
    } else if (column.type == ColumnType::kBoolean && (*value == "true" || *value == "false")) {
      out += *value == "true" ? "TRUE" : "FALSE";
    } else {
      // Everything else goes as a string literal and the server converts it under
      // STRICT_ALL_TABLES, so a bad value is an error, never a silent truncation.
      out += QuoteString(*value);
    }
  }

  std::string InsertPrefix(const TableSpec& spec) {
    std::string sql = fmt::format("INSERT INTO {} (", QuoteIdentifier(spec.name, Dialect::kMySql));
    for (size_t column_idx = 0; column_idx < spec.columns.size(); ++column_idx) {
      sql += column_idx > 0 ? ", " : "";
      sql += QuoteIdentifier(spec.columns[column_idx].name, Dialect::kMySql);
    }
    sql += ") VALUES ";
    return sql;
  }

  void AppendRow(const TableSpec& spec, const Row& row, std::string& sql) {
    sql.push_back('(');
    for (size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
      if (column_idx > 0) {
        sql.push_back(',');
      }
      AppendValue(spec.columns[column_idx], row[column_idx], sql);
    }
    sql.push_back(')');
  }

  Status Fill(const TableData& table, const LoadOptions& options) {
    const std::string& name = table.spec.name;
    TRIB_RETURN_IF_ERROR(Exec("START TRANSACTION", fmt::format("starting the load of '{}'", name)));
    const std::string prefix = InsertPrefix(table.spec);
    size_t batch_start = 0;
    while (batch_start < table.rows.size()) {
      std::string sql = prefix;
      size_t batch_end = batch_start;
      while (batch_end < table.rows.size() && batch_end - batch_start < options.mysql_batch_rows &&
             sql.size() < kMaxStatementBytes) {
        if (batch_end > batch_start) {
          sql.push_back(',');
        }
        AppendRow(table.spec, table.rows[batch_end], sql);
        ++batch_end;
      }
      Status status = Exec(sql, fmt::format("inserting into table '{}'", name));
      if (!status.ok()) {
        if (status.status().code() == ErrorCode::kNetwork) {
          return status;
        }
        return LocateBadRow(table, prefix, batch_start, batch_end, std::move(status).status());
      }
      batch_start = batch_end;
    }
    return Exec("COMMIT", fmt::format("committing table '{}'", name));
  }

  /// A multi-row INSERT failed: the server rolled back that statement only, so insert its
  /// rows one at a time to name the row (file and line) that the server rejects.
  Error LocateBadRow(const TableData& table, const std::string& prefix, size_t batch_start,
                     size_t batch_end, Error batch_error) {
    for (size_t row_idx = batch_start; row_idx < batch_end; ++row_idx) {
      std::string sql = prefix;
      AppendRow(table.spec, table.rows[row_idx], sql);
      if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) {
        return MakeError(ErrorCode::kInvalidArgument, "loading table '{}', {} into {}: {} "
                         "(MySQL error {})",
                         table.spec.name, table.DescribeRow(row_idx), redacted_dsn_,
                         mysql_error(mysql_.get()), mysql_errno(mysql_.get()));
      }
    }
    return batch_error;
  }

  MysqlPtr mysql_;
  std::string redacted_dsn_;
};

}  // namespace

Result<std::unique_ptr<TableLoader>> ConnectMySql(const TargetDsn& target) {
  MysqlPtr mysql(mysql_init(nullptr));
  if (mysql == nullptr) {
    return MakeError(ErrorCode::kInternal, "mysql_init failed (out of memory)");
  }
  const MySqlConnectParams& params = target.mysql;
  unsigned timeout = kConnectTimeoutSeconds;
  mysql_options(mysql.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(mysql.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (mysql_real_connect(mysql.get(), NullIfEmpty(params.host), NullIfEmpty(params.user),
                         NullIfEmpty(params.password), NullIfEmpty(params.database),
                         params.port, NullIfEmpty(params.socket), 0) == nullptr) {
    return MakeError(ErrorCode::kNetwork, "cannot connect to MySQL/MariaDB at {}: {}",
                     target.redacted, mysql_error(mysql.get()));
  }
  const char* kSessionSql =
      "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
      "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";
  if (mysql_query(mysql.get(), kSessionSql) != 0) {
    return MakeError(ErrorCode::kInternal, "setting the session sql_mode on {}: {}",
                     target.redacted, mysql_error(mysql.get()));
  }
  return std::unique_ptr<TableLoader>(
      std::make_unique<MySqlLoader>(std::move(mysql), target.redacted));
}

}  // namespace tributary::datasets::internal
