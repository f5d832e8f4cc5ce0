#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "core/result.h"
#include "devserver/sql_rows.h"

namespace tributary::devserver {

namespace internal {
struct Account;
}  // namespace internal

/// How a local MariaDB server is set up. None of these can change while it runs.
struct MariaDbServerOptions {
  /// Directory holding everything: data/ (datadir, binlogs mariadb-bin.*), my.cnf,
  /// mariadbd.sock, mariadbd.pid, mariadbd.err (error log), mariadbd.log (stdout/stderr),
  /// install.log. Created if missing. An existing data/ with a mysql/ schema is reused.
  /// Required.
  std::filesystem::path work_dir;
  /// The server binary. Default: "/usr/sbin/mariadbd".
  std::filesystem::path mariadbd = "/usr/sbin/mariadbd";
  /// The data directory initializer. Default: "/usr/bin/mariadb-install-db".
  std::filesystem::path install_db = "/usr/bin/mariadb-install-db";
  /// System account the server runs as when we are root; ignored otherwise.
  /// Default: "mysql".
  std::string run_as_user = "mysql";
  /// As PostgresServerOptions::make_parents_searchable. Default: false.
  bool make_parents_searchable = false;
  /// An account created on first start with ALL PRIVILEGES (replication included) WITH
  /// GRANT OPTION, reachable from 127.0.0.1. Default: "tributary".
  std::string user = "tributary";
  /// Its password; empty means none. Never logged. Default: empty.
  std::string password;
  /// A database created on first start. Default: "tributary".
  std::string database = "tributary";
  /// TCP port on 127.0.0.1. 0: a free port is picked (retried on collision). Default: 0.
  uint16_t port = 0;
  /// server_id; 0 picks a random one in [2, 2^31), so that several servers (and a binlog
  /// client using its own id) never clash. Default: 0.
  uint32_t server_id = 0;
  /// gtid_strict_mode=ON. Default: false.
  bool gtid_strict_mode = false;
  /// Durable commits (sync_binlog=1, innodb_flush_log_at_trx_commit=1). Off is fine for
  /// tests. Default: false.
  bool fsync = false;
  /// Extra [mariadbd] settings (name, value) written after ours, e.g. {"binlog_format",
  /// "MIXED"} to test a misconfigured source.
  std::vector<std::pair<std::string, std::string>> extra_settings;
  /// How long Start() waits for the server to accept connections. Default: 60 s.
  std::chrono::milliseconds start_timeout{60000};
  /// How long Stop() waits after SIGTERM before SIGKILL. Default: 30 s.
  std::chrono::milliseconds stop_timeout{30000};
  /// The server gets SIGKILL when the thread that started it dies. Default: true.
  bool stop_with_parent = true;
  /// Delete work_dir when the server object is destroyed (after stopping). Default:
  /// false.
  bool remove_work_dir = false;
  /// As PostgresServerOptions::template_cache_dir, for mariadb-install-db.
  /// Default: empty (no cache).
  std::filesystem::path template_cache_dir;

  /// Errors: kInvalidArgument naming the bad field.
  Status Validate() const;
};

/// Whether mariadbd and mariadb-install-db exist at the given paths.
/// Errors: kNotFound naming the missing binary and the Debian package to install.
Status FindMariaDbBinaries(
    const std::filesystem::path& mariadbd = "/usr/sbin/mariadbd",
    const std::filesystem::path& install_db = "/usr/bin/mariadb-install-db");

/// A throwaway MariaDB server on 127.0.0.1 with a row-based binlog (log_bin,
/// binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL, a unique
/// server_id), started directly (mariadbd is our child) and stopped by its pid, never by
/// process name.
///
/// Thread safety and lifetime as PostgresServer.
class MariaDbServer {
 public:
  /// Validates options, checks the binaries, prepares work_dir and runs
  /// mariadb-install-db unless data/ already holds a server. Does not start it.
  /// Errors: kInvalidArgument, kNotFound, kIo, kInternal (install failed: log tail
  /// included).
  static Result<std::unique_ptr<MariaDbServer>> Create(MariaDbServerOptions options);

  /// Create() then Start().
  static Result<std::unique_ptr<MariaDbServer>> CreateAndStart(
      MariaDbServerOptions options);

  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  /// Starts mariadbd and waits until it accepts connections; on the first start creates
  /// options.user and options.database. Port handling as PostgresServer::Start().
  /// No-op when running. Errors: kTimeout, kInternal (server exited: log tail included).
  Status Start();

  /// SIGTERM (clean shutdown) to mariadbd's pid, SIGKILL after options.stop_timeout.
  Status Stop();

  /// SIGKILL: as after a crash; InnoDB recovers on the next start.
  Status StopImmediately();

  /// Stop() then Start() on the same data dir and port.
  Status Restart();

  /// Runs `sql` (one or more statements separated by ';') over TCP as options.user in
  /// `database` ("" = options.database) and returns the rows of the last statement.
  /// Errors: kNetwork (cannot connect), kInvalidArgument (the server rejected the SQL:
  /// its error number and message included).
  Result<SqlRows> Exec(const std::string& sql, const std::string& database = "") const;

  /// Creates a database. Errors: as Exec.
  Status CreateDatabase(const std::string& name) const;

  /// Creates `name`@'%' with `password` and the given privileges on *.*
  /// (e.g. "SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT").
  /// Errors: as Exec.
  Status CreateUser(const std::string& name,
                    const std::string& password,
                    const std::string& privileges = "ALL PRIVILEGES") const;

  /// "host=127.0.0.1 port=... user=... [password=...] dbname=..." (libpq-style key/value;
  /// values quoted as libpq does). Contains the password: never log it.
  std::string Dsn(const std::string& database = "") const;
  /// "mysql://user[:password]@127.0.0.1:port/database". Contains the password.
  std::string Url(const std::string& database = "") const;
  /// Dsn() with the password replaced by "********".
  std::string RedactedDsn(const std::string& database = "") const;

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  uint32_t server_id() const { return server_id_; }
  const std::string& user() const { return options_.user; }
  const std::string& password() const { return options_.password; }
  const std::string& database() const { return options_.database; }
  const std::filesystem::path& work_dir() const { return options_.work_dir; }
  std::filesystem::path data_dir() const { return options_.work_dir / "data"; }
  std::filesystem::path socket_path() const {
    return options_.work_dir / "mariadbd.sock";
  }
  std::filesystem::path pid_file() const { return options_.work_dir / "mariadbd.pid"; }
  /// The server's error log (startup failures, warnings).
  std::filesystem::path error_log() const { return options_.work_dir / "mariadbd.err"; }

 private:
  explicit MariaDbServer(MariaDbServerOptions options);

  Status Initialize();
  Status WriteConfig();
  Result<bool> StartOnce();  // false: the port was taken, pick another
  Status Bootstrap();
  Status StopWith(int first_signal);

  MariaDbServerOptions options_;
  std::shared_ptr<internal::Account> account_;
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  bool port_fixed_ = false;
  uint32_t server_id_ = 0;
  pid_t pid_ = 0;
  bool bootstrapped_ = false;
};

}  // namespace tributary::devserver
