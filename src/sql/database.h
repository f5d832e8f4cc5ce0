#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

/// The one wrapper of DuckDB's C API (duckdb.h). Nothing outside src/sql and
/// src/lake/parquet includes duckdb.h; DuckDB handles stay behind pimpl here.
///
/// Thread safety: a Database may be shared by threads; a Connection, its QueryResults,
/// PreparedStatements and Appenders are used by one thread at a time (DuckDB's rule).
namespace tributary::sql {

class Connection;
class BatchScan;

/// Options for Database::Open.
struct DatabaseOptions {
  /// Database file; empty means an in-memory database. Default: "" (in-memory).
  std::string path;
  /// DuckDB configuration options passed to duckdb_open_ext, e.g. {"threads", "2"},
  /// {"memory_limit", "1GB"}, {"access_mode", "READ_ONLY"}. Default: none.
  std::map<std::string, std::string> config;
};

/// An open DuckDB database (in memory or a file). Close by destroying it after every
/// Connection made from it is gone.
class Database {
 public:
  /// Opens (or creates) the database. Errors: kInvalidArgument for a bad config option,
  /// kIo when the file cannot be opened.
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {});

  /// Convenience: an in-memory database with one connection, for one-off queries.
  /// The connection keeps the database alive.
  static Result<std::unique_ptr<Connection>> OpenInMemoryConnection();

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// A new connection. Errors: kInternal if DuckDB refuses.
  Result<std::unique_ptr<Connection>> Connect();

  struct Impl;

 private:
  explicit Database(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// Broad column types of a result (duckdb_type folded); kOther covers the rest.
enum class ColumnType {
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInteger,
  kBigInt,
  kHugeInt,
  kUTinyInt,
  kUSmallInt,
  kUInteger,
  kUBigInt,
  kFloat,
  kDouble,
  kDecimal,
  kVarchar,
  kBlob,
  kDate,
  kTime,
  kTimestamp,    ///< TIMESTAMP (no zone), microseconds
  kTimestampTz,  ///< TIMESTAMP WITH TIME ZONE, microseconds UTC
  kTimestampOther,
  kInterval,
  kUuid,
  kList,
  kStruct,
  kMap,
  kArray,
  kNull,
  kOther,
};

/// A fully materialized query result. Row and column indices are 0-based and must be in
/// range (checked: an out-of-range index is a programming error). Every cell is copied
/// into C++ memory (numbers as numbers, everything else as text or bytes): keep large row
/// sets inside DuckDB (COPY ... TO, INSERT ... SELECT) instead of querying them out.
class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  size_t column_count() const;
  size_t row_count() const;
  /// Rows changed by an INSERT/UPDATE/DELETE.
  int64_t rows_changed() const;
  const std::string& column_name(size_t column) const;
  ColumnType column_type(size_t column) const;
  /// The DuckDB SQL type name of a column, e.g. "DECIMAL(10,2)", "STRUCT(a INTEGER)".
  std::string column_type_name(size_t column) const;

  bool IsNull(size_t column, size_t row) const;
  /// Typed getters; a NULL reads as 0 / false / "". Values are cast by DuckDB when the
  /// column type differs (e.g. GetInt64 on a DECIMAL truncates).
  bool GetBool(size_t column, size_t row) const;
  int64_t GetInt64(size_t column, size_t row) const;
  uint64_t GetUInt64(size_t column, size_t row) const;
  double GetDouble(size_t column, size_t row) const;
  /// The value as text (DuckDB's cast to VARCHAR: "2021-09-08 11:11:11", "[1, 2]",
  /// "{'a': 1}"); "" for NULL.
  std::string GetString(size_t column, size_t row) const;
  /// GetString, or std::nullopt for NULL.
  std::optional<std::string> GetOptionalString(size_t column, size_t row) const;
  /// The raw bytes of a BLOB column (other types: their text form).
  std::string GetBlob(size_t column, size_t row) const;

  /// Index of the column named `name`, or std::nullopt.
  std::optional<size_t> ColumnIndex(std::string_view name) const;

  struct Impl;

 private:
  friend class Connection;
  friend class PreparedStatement;
  explicit QueryResult(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A statement with `?` or `$1` parameters, bound by 1-based index.
class PreparedStatement {
 public:
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  /// Number of parameters.
  size_t parameter_count() const;
  /// Bind parameter `index` (1-based). Errors: kInvalidArgument (bad index or type).
  Status BindNull(size_t index);
  Status BindBool(size_t index, bool value);
  Status BindInt64(size_t index, int64_t value);
  Status BindDouble(size_t index, double value);
  Status BindString(size_t index, std::string_view value);
  Status BindBlob(size_t index, std::string_view bytes);
  /// Runs the statement with the current bindings. Errors as Connection::Query.
  Result<QueryResult> Execute();

  struct Impl;

 private:
  friend class Connection;
  explicit PreparedStatement(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Fast row-wise insertion into an existing table (duckdb_appender). Append one value per
/// column, then EndRow(); Close() flushes and reports any constraint error.
class Appender {
 public:
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  Status AppendNull();
  Status AppendBool(bool value);
  Status AppendInt64(int64_t value);
  Status AppendDouble(double value);
  /// Strings are cast by DuckDB to the column type (so dates, decimals, timestamps can be
  /// appended in their text form).
  Status AppendString(std::string_view value);
  Status AppendBlob(std::string_view bytes);
  Status EndRow();
  Status Flush();
  /// Flushes and closes; further appends fail. Called by the destructor if not called
  /// (errors then are dropped: call Close() to see them).
  Status Close();

  struct Impl;

 private:
  friend class Connection;
  explicit Appender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A connection to a Database. Keeps its Database alive.
class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more SQL statements and returns the result of the last one.
  /// Errors: kInvalidArgument (parser/binder/catalog errors), kIo (file errors),
  /// kCorruption (bad data read, e.g. an unreadable Parquet file), kCancelled
  /// (interrupted), kInternal (other); the message is DuckDB's, plus the statement's
  /// first 200 characters.
  Result<QueryResult> Query(std::string_view sql);
  /// Query() and discard the result.
  Status Execute(std::string_view sql);
  /// Prepares one statement. Errors as Query.
  Result<std::unique_ptr<PreparedStatement>> Prepare(std::string_view sql);
  /// An appender on `schema`.`table` (schema "" means main). Errors: kNotFound (no
  /// table).
  Result<std::unique_ptr<Appender>> CreateAppender(std::string_view schema,
                                                   std::string_view table);
  /// Interrupts a running query on this connection (callable from another thread).
  void Interrupt();
  /// Registers the table function `function_name()` reading a RowBatch (row_batch.h) in
  /// this connection's database. Errors: kAlreadyExists when a function of that name
  /// exists there already.
  Result<std::unique_ptr<BatchScan>> CreateBatchScan(std::string_view function_name);

  struct Impl;

 private:
  friend class Database;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// `name` as a double-quoted SQL identifier ("my ""col""").
std::string QuoteIdentifier(std::string_view name);
/// `value` as a single-quoted SQL string literal ('it''s'). NUL bytes are rejected by
/// DuckDB; callers pass text.
std::string QuoteLiteral(std::string_view value);

}  // namespace tributary::sql
