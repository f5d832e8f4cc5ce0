#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "devserver/mariadb_server.h"
#include "devserver/postgres_server.h"

namespace tributary::devserver::internal {

/// A postgresql.conf value in single quotes, quotes doubled
/// (https://www.postgresql.org/docs/15/config-setting.html#CONFIG-SETTING-CONFIGURATION-FILE).
std::string QuotePgConfValue(std::string_view value);

/// The settings file included from postgresql.conf: listen on 127.0.0.1:`port`, socket in
/// `socket_dir`, wal_level=logical, replication slots/senders, durability per
/// options.fsync, then options.extra_settings.
std::string RenderPostgresConf(const PostgresServerOptions& options,
                               uint16_t port,
                               const std::filesystem::path& socket_dir);

/// pg_hba.conf: local socket connections trusted; TCP from 127.0.0.1 (normal and
/// replication) trusted when `password_auth` is false, scram-sha-256 otherwise.
std::string RenderPgHba(bool password_auth);

/// A libpq connection-string value: bare when it is non-empty and has no space, quote or
/// backslash; otherwise single-quoted with ' and \ backslash-escaped
/// (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
std::string QuoteDsnValue(std::string_view value);

/// "key=value key=value" with each value quoted by QuoteDsnValue; empty values skipped.
std::string BuildDsn(const std::vector<std::pair<std::string, std::string>>& pairs);

/// A PostgreSQL identifier in double quotes, quotes doubled.
std::string QuotePgIdentifier(std::string_view name);
/// A PostgreSQL string literal in single quotes, quotes doubled
/// (standard_conforming_strings).
std::string QuotePgLiteral(std::string_view value);

/// A MariaDB identifier in backticks, backticks doubled.
std::string QuoteMySqlIdentifier(std::string_view name);
/// A MariaDB string literal in single quotes with \ and ' backslash-escaped.
std::string QuoteMySqlLiteral(std::string_view value);

/// innodb_log_file_size of every server (and of the data dir templates, which must
/// match).
inline constexpr const char* kMariaDbInnodbLogFileSize = "16M";

/// Paths and ids the MariaDB config refers to.
struct MariaDbLayout {
  std::filesystem::path data_dir;
  std::filesystem::path socket;
  std::filesystem::path pid_file;
  std::filesystem::path error_log;
  uint16_t port = 0;
  uint32_t server_id = 0;
};

/// my.cnf with one [mariadbd] group: bind to 127.0.0.1:port, the row-based binlog
/// settings CDC needs (log_bin, binlog_format=ROW, binlog_row_image=FULL,
/// binlog_row_metadata=FULL), server_id, utf8mb4, small buffers for fast start, then
/// options.extra_settings.
std::string RenderMariaDbConf(const MariaDbServerOptions& options,
                              const MariaDbLayout& layout);

/// The value of `name` in the [mariadbd] settings text `conf` ("" when absent).
std::string FindConfSetting(const std::string& conf, std::string_view name);

/// A random server_id in [2, 2^31).
uint32_t RandomServerId();

/// A MariaDB connection URL, "mysql://user[:password]@host:port/database", with user and
/// password percent-encoded.
std::string BuildMySqlUrl(const std::string& user,
                          const std::string& password,
                          const std::string& host,
                          uint16_t port,
                          const std::string& database);

}  // namespace tributary::devserver::internal
