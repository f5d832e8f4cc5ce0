// PostgreSQL target: CREATE TABLE and COPY FROM STDIN in the text format
// (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format") sent with
// PQputCopyData (https://www.postgresql.org/docs/15/libpq-copy.html).

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "datasets/internal/loader.h"
#include "datasets/sql_dialect.h"

namespace tributary::datasets::internal {
namespace {

constexpr size_t kCopyChunkBytes = 1 << 20;

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string Field(const PGresult* result, int field) {
  const char* value = PQresultErrorField(result, field);
  return value == nullptr ? std::string() : std::string(value);
}

/// The server's error: primary message, detail and hint, on one line.
std::string DescribePgError(const PGresult* result, PGconn* conn) {
  std::string message = Field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) {
    message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
  }
  if (const std::string detail = Field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
    message += " (" + detail + ")";
  }
  return message;
}

/// COPY errors carry "COPY <table>, line N[, column C...]" in their context; returns N
/// (1-based line of the COPY data, which is row N-1 of the table) or 0.
int64_t CopyLineFromContext(const std::string& context) {
  const size_t pos = context.find(", line ");
  if (pos == std::string::npos) {
    return 0;
  }
  return std::strtoll(context.c_str() + pos + 7, nullptr, 10);
}

/// Appends `value` escaped for COPY's text format: backslash, tab, LF and CR are escaped,
/// NULL is \N.
void AppendCopyValue(const std::optional<std::string>& value, std::string& out) {
  if (!value) {
    out += "\\N";
    return;
  }
  for (char c : *value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

class PostgresLoader final : public TableLoader {
 public:
  PostgresLoader(PgConnPtr conn, std::string redacted_dsn)
      : conn_(std::move(conn)), redacted_dsn_(std::move(redacted_dsn)) {}

  Result<bool> TableExists(std::string_view table) override {
    const std::string quoted = QuoteIdentifier(table, Dialect::kPostgres);
    const char* params[] = {quoted.c_str()};
    PgResultPtr result(PQexecParams(conn_.get(), "SELECT to_regclass($1) IS NOT NULL", 1,
                                    nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return MakeError(ErrorCode::kInternal, "checking whether table '{}' exists in {}: {}",
                       table, redacted_dsn_, DescribePgError(result.get(), conn_.get()));
    }
    return std::string_view(PQgetvalue(result.get(), 0, 0)) == "t";
  }

  Status DropTable(std::string_view table) override {
    return Exec(DropTableSql(table, Dialect::kPostgres) + " CASCADE",
                fmt::format("dropping table '{}'", table));
  }

  Status CreateAndFill(const TableData& table, const LoadOptions& /*options*/) override {
    const std::string& name = table.spec.name;
    TRIB_RETURN_IF_ERROR(Exec("BEGIN", fmt::format("starting the load of table '{}'", name)));
    Status status = CreateAndCopy(table);
    if (!status.ok()) {
      PgResultPtr rollback(PQexec(conn_.get(), "ROLLBACK"));
      return status;
    }
    return Exec("COMMIT", fmt::format("committing table '{}'", name));
  }

 private:
  Status Exec(const std::string& sql, const std::string& what) {
    PgResultPtr result(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return MakeError(ErrorCode::kInvalidArgument, "{} in {}: {}", what, redacted_dsn_,
                       DescribePgError(result.get(), conn_.get()));
    }
    return OkStatus();
  }

  Status CreateAndCopy(const TableData& table) {
    const std::string& name = table.spec.name;
    TRIB_RETURN_IF_ERROR(Exec(CreateTableSql(table.spec, Dialect::kPostgres),
                              fmt::format("creating table '{}'", name)));
    std::string copy_sql =
        fmt::format("COPY {} (", QuoteIdentifier(name, Dialect::kPostgres));
    for (size_t column_idx = 0; column_idx < table.spec.columns.size(); ++column_idx) {
      copy_sql += column_idx > 0 ? ", " : "";
      copy_sql += QuoteIdentifier(table.spec.columns[column_idx].name, Dialect::kPostgres);
    }
    copy_sql += ") FROM STDIN";
    {
      PgResultPtr result(PQexec(conn_.get(), copy_sql.c_str()));
      if (PQresultStatus(result.get()) != PGRES_COPY_IN) {
        return MakeError(ErrorCode::kInternal, "starting COPY into table '{}' in {}: {}", name,
                         redacted_dsn_, DescribePgError(result.get(), conn_.get()));
      }
    }
    std::string buffer;
    buffer.reserve(kCopyChunkBytes + 4096);
    for (const Row& row : table.rows) {
      for (size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
        if (column_idx > 0) {
          buffer.push_back('\t');
        }
        AppendCopyValue(row[column_idx], buffer);
      }
      buffer.push_back('\n');
      if (buffer.size() >= kCopyChunkBytes) {
        TRIB_RETURN_IF_ERROR(PutCopyData(buffer, name));
        buffer.clear();
      }
    }
    if (!buffer.empty()) {
      TRIB_RETURN_IF_ERROR(PutCopyData(buffer, name));
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) {
      return MakeError(ErrorCode::kNetwork, "ending COPY into table '{}' in {}: {}", name,
                       redacted_dsn_, PQerrorMessage(conn_.get()));
    }
    Status status = OkStatus();
    while (PGresult* raw = PQgetResult(conn_.get())) {
      PgResultPtr result(raw);
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && status.ok()) {
        status = CopyError(table, result.get());
      }
    }
    return status;
  }

  Status PutCopyData(const std::string& buffer, const std::string& table) {
    if (PQputCopyData(conn_.get(), buffer.data(), static_cast<int>(buffer.size())) != 1) {
      return MakeError(ErrorCode::kNetwork, "sending COPY data for table '{}' to {}: {}", table,
                       redacted_dsn_, PQerrorMessage(conn_.get()));
    }
    return OkStatus();
  }

  Error CopyError(const TableData& table, const PGresult* result) {
    const std::string message = DescribePgError(result, conn_.get());
    const std::string column = Field(result, PG_DIAG_COLUMN_NAME);
    const std::string context = Field(result, PG_DIAG_CONTEXT);
    const int64_t copy_line = CopyLineFromContext(context);
    std::string where = fmt::format("table '{}'", table.spec.name);
    if (copy_line >= 1 && static_cast<size_t>(copy_line) <= table.rows.size()) {
      where += ", " + table.DescribeRow(static_cast<size_t>(copy_line - 1));
    } else if (!table.source.empty()) {
      where += ", " + table.source;
    }
    // The COPY context names the column for conversion errors: "..., column X: "value"".
    if (const size_t pos = context.find(", column "); pos != std::string::npos) {
      where += ", " + context.substr(pos + 2);
    } else if (!column.empty()) {
      where += ", column " + column;
    }
    return MakeError(ErrorCode::kInvalidArgument, "loading {} into {}: {}", where,
                     redacted_dsn_, message);
  }

  PgConnPtr conn_;
  std::string redacted_dsn_;
};

}  // namespace

Result<std::unique_ptr<TableLoader>> ConnectPostgres(const TargetDsn& target) {
  PgConnPtr conn(PQconnectdb(target.postgres_conninfo.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return MakeError(ErrorCode::kNetwork, "cannot connect to PostgreSQL at {}: {}",
                     target.redacted, message);
  }
  PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
  if (PQsetClientEncoding(conn.get(), "UTF8") != 0) {
    return MakeError(ErrorCode::kInternal, "setting client_encoding UTF8 on {}: {}",
                     target.redacted, PQerrorMessage(conn.get()));
  }
  return std::unique_ptr<TableLoader>(
      std::make_unique<PostgresLoader>(std::move(conn), target.redacted));
}

}  // namespace tributary::datasets::internal
