#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "datasets/sql_dialect.h"

namespace tributary::datasets {

/// Connection parameters for MySQL/MariaDB, from a mysql:// or mariadb:// URI.
struct MySqlConnectParams {
  std::string host;  ///< empty: the client default (local socket)
  uint32_t port = 0;  ///< 0: the client default (3306)
  std::string user;
  std::string password;
  std::string database;
  std::string socket;  ///< unix socket path, from ?socket=
};

/// Where `tributary load` writes: a parsed target DSN.
struct TargetDsn {
  Dialect dialect = Dialect::kPostgres;
  /// PostgreSQL: the libpq connection string (keyword/value or URI), passed on unchanged.
  std::string postgres_conninfo;
  /// MySQL/MariaDB: the parsed URI.
  MySqlConnectParams mysql;
  /// The DSN with its secrets masked (core RedactDsn), for messages.
  std::string redacted;
};

/// Parses a target DSN:
///  - postgres://... or postgresql://... URIs and libpq keyword/value strings
///    ("host=/tmp port=5432 dbname=shop"): PostgreSQL;
///  - mysql://user:password@host:port/database?socket=/path/mysqld.sock (or mariadb://):
///    MySQL/MariaDB; user, password, database and socket are percent-decoded.
/// Errors: kInvalidArgument for an unknown scheme, a bad port, a MySQL URI without a
/// database, or an empty DSN (the message shows the DSN redacted).
Result<TargetDsn> ParseTargetDsn(std::string_view dsn);

}  // namespace tributary::datasets
