#include "lake/parquet/shared_connection.h"

#include <mutex>
#include <utility>
#include <vector>

namespace tributary::lake::parquet {

namespace {

// Idle connections kept for reuse; more concurrent borrowers than this simply close
// their connection when done.
constexpr size_t kMaxIdleConnections = 8;

struct Pool {
  std::mutex mutex;
  std::unique_ptr<sql::Database> database;  // guarded by mutex; created on first use
  std::vector<std::unique_ptr<sql::Connection>> idle;  // guarded by mutex
};

// Never destroyed: connections may be handed back from static destructors or detached
// threads at exit, and DuckDB's own teardown at exit buys nothing.
Pool& SharedPool() {
  static Pool* pool = new Pool();
  return *pool;
}

}  // namespace

PooledConnection::~PooledConnection() {
  if (connection_ == nullptr) {
    return;  // moved from
  }
  Pool& pool = SharedPool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  if (pool.idle.size() < kMaxIdleConnections) {
    pool.idle.push_back(std::move(connection_));
  }
}

Result<PooledConnection> AcquireSharedConnection() {
  Pool& pool = SharedPool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  if (!pool.idle.empty()) {
    std::unique_ptr<sql::Connection> connection = std::move(pool.idle.back());
    pool.idle.pop_back();
    return PooledConnection(std::move(connection));
  }
  if (pool.database == nullptr) {
    sql::DatabaseOptions options;
    options.config["threads"] = "1";
    auto database = sql::Database::Open(options);
    if (!database.ok()) {
      return std::move(database).status().AddContext(
          "opening the shared DuckDB database for Delta metadata reads");
    }
    pool.database = std::move(*database);
  }
  TRIB_ASSIGN_OR_RETURN(auto connection, pool.database->Connect());
  return PooledConnection(std::move(connection));
}

}  // namespace tributary::lake::parquet
