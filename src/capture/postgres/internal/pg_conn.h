#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct pg_conn;

namespace tributary::capture::postgres::internal {

/// The rows of a query in text format. A NULL is std::nullopt.
struct QueryResult {
  std::vector<std::string> column_names;
  std::vector<std::vector<std::optional<std::string>>> rows;

  /// The index of `name` in column_names, or -1.
  int ColumnIndex(std::string_view name) const;
};

/// "name" with embedded quotes doubled: an SQL identifier that is safe in any context.
std::string QuoteIdentifier(std::string_view name);
/// 'value' as an SQL string literal (E'' form when it holds a backslash).
std::string QuoteLiteral(std::string_view value);
/// "schema"."table".
std::string QuoteQualified(std::string_view schema, std::string_view table);

/// One libpq connection, either a normal SQL session or a walsender session
/// (`replication=database`, PostgreSQL 15 docs §55.4). Owns the PGconn. Not thread-safe.
///
/// Errors carry the libpq message and the server address (host, port, database, never the
/// password); connection failures and a lost connection are kNetwork (retryable).
class PgConnection {
 public:
  /// Connects with `dsn` (a key=value string or a postgresql:// URI). With `replication`,
  /// the session is a logical walsender (`replication=database`). `application_name` is
  /// shown in pg_stat_activity / pg_stat_replication. `options` is libpq's `options`
  /// keyword (session settings such as "-c TimeZone=UTC"); empty keeps the DSN's.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& dsn,
                                                       bool replication,
                                                       const std::string& application_name,
                                                       const std::string& options = "");
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs one statement (simple query protocol) and returns its rows; kNetwork when the
  /// connection is gone, otherwise the server's error with SQLSTATE and `sql`.
  Result<QueryResult> Query(std::string_view sql);
  /// Runs one statement with text parameters $1.. (extended protocol; not on walsenders).
  Result<QueryResult> QueryParams(std::string_view sql,
                                  const std::vector<std::optional<std::string>>& params);
  /// Runs statements, discarding rows.
  Status Exec(std::string_view sql);

  /// Sends START_REPLICATION and waits for the server to enter CopyBoth mode.
  Status StartReplication(std::string_view command);

  /// Waits up to `timeout` for one CopyData message from the server. Returns the payload,
  /// or std::nullopt when the timeout passed with no message. kNetwork when the connection
  /// broke. The returned view stays valid
  /// until the next call.
  Result<std::optional<std::string_view>> ReadCopyData(std::chrono::milliseconds timeout);

  /// Sends one CopyData message and flushes it.
  Status SendCopyData(std::string_view data);

  /// "host:port/dbname" for messages (no credentials).
  const std::string& description() const { return description_; }
  /// server_version_num (150000 for 15.0).
  int server_version() const;
  /// The SQLSTATE of the last failed query, or "".
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  /// The process id of the server backend (pg_stat_replication.pid / pg_stat_activity.pid).
  int backend_pid() const;

 private:
  PgConnection(pg_conn* conn, std::string description)
      : conn_(conn), description_(std::move(description)) {}
  Error ConnectionError(std::string_view doing) const;
  void FreeCopyBuffer();

  pg_conn* conn_;
  std::string description_;
  std::string last_sqlstate_;
  char* copy_buffer_ = nullptr;
};

}  // namespace tributary::capture::postgres::internal
