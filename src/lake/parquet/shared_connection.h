#pragma once

#include <memory>

#include "core/result.h"
#include "sql/database.h"

namespace tributary::lake::parquet {

/// A connection borrowed from the process-wide DuckDB database that reads Delta metadata
/// files (checkpoints, sidecars, Parquet footers) for callers that have no connection of
/// their own. Opening a DuckDB database costs milliseconds and starts threads, far more
/// than reading a small checkpoint, so one in-memory database is created on first use and
/// kept for the life of the process; connections are pooled and handed back when the
/// PooledConnection is destroyed.
///
/// The shared database runs each query on the calling thread only (DuckDB `threads=1`):
/// metadata reads are small, and on a loaded machine waiting for worker threads to be
/// scheduled costs more than the parallelism gains.
///
/// Thread safety: AcquireSharedConnection() may be called from any thread; each
/// PooledConnection is used by one thread at a time (DuckDB's rule for connections).
/// Only read-only work belongs here: temp tables or settings would leak to the next user.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&&) noexcept = default;
  PooledConnection& operator=(PooledConnection&&) noexcept = default;
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  /// Returns the connection to the pool.
  ~PooledConnection();

  sql::Connection& operator*() const { return *connection_; }
  sql::Connection* operator->() const { return connection_.get(); }
  sql::Connection* get() const { return connection_.get(); }

 private:
  friend Result<PooledConnection> AcquireSharedConnection();
  explicit PooledConnection(std::unique_ptr<sql::Connection> connection)
      : connection_(std::move(connection)) {}
  std::unique_ptr<sql::Connection> connection_;
};

/// A connection to the shared metadata database (created on the first call).
/// Errors: kInternal when DuckDB cannot open the database or a connection.
Result<PooledConnection> AcquireSharedConnection();

}  // namespace tributary::lake::parquet
