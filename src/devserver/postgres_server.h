#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
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

/// Where the PostgreSQL 15 server binaries live on Debian 12.
inline constexpr const char* kDefaultPostgresBinDir = "/usr/lib/postgresql/15/bin";

/// How a local PostgreSQL server is set up. None of these can change while it runs;
/// Restart() keeps the data dir and the port.
struct PostgresServerOptions {
  /// Directory holding everything: data/ (PGDATA), run/ (unix socket), postgres.log,
  /// initdb.log. Created if missing. An existing data/ with PG_VERSION is reused (no
  /// initdb). Required.
  std::filesystem::path work_dir;
  /// Directory with initdb and postgres. Default: kDefaultPostgresBinDir.
  std::filesystem::path bin_dir = kDefaultPostgresBinDir;
  /// System account the server runs as when we are root (PostgreSQL refuses root);
  /// ignored otherwise. Default: "postgres".
  std::string run_as_user = "postgres";
  /// When root: add o+x to ancestors of work_dir that we own and that keep run_as_user
  /// out (e.g. a mkdtemp dir). When false such a work dir is an error. Default: false.
  bool make_parents_searchable = false;
  /// Name of the bootstrap superuser (initdb -U); it also holds REPLICATION.
  /// Default: "postgres".
  std::string superuser = "postgres";
  /// The superuser's password, set on first start. Empty: loopback and socket connections
  /// are trusted (fine for a server bound to 127.0.0.1 in a private dir). Set: TCP
  /// connections need it (scram-sha-256); the unix socket stays trusted. It appears in
  /// Dsn(), never in logs or errors. Default: empty.
  std::string password;
  /// A database created on first start (skipped when it is "postgres").
  /// Default: "tributary".
  std::string database = "tributary";
  /// TCP port on 127.0.0.1. 0: a free port is picked (retried on collision). Default: 0.
  uint16_t port = 0;
  /// fsync and full_page_writes. Off is fine for tests: data may be lost on a machine
  /// crash, not on a server crash or restart (synchronous_commit stays on). Default:
  /// false.
  bool fsync = false;
  /// max_replication_slots and max_wal_senders (both >= 10 for capture tests).
  /// Default: 10.
  int max_replication_slots = 10;
  int max_wal_senders = 10;
  /// Extra postgresql.conf settings (name, value), written after ours. Values are quoted.
  std::vector<std::pair<std::string, std::string>> extra_settings;
  /// How long Start() waits for the server to accept connections. Default: 60 s.
  std::chrono::milliseconds start_timeout{60000};
  /// How long Stop() waits after the fast-shutdown signal before escalating (SIGQUIT,
  /// then SIGKILL). Default: 30 s.
  std::chrono::milliseconds stop_timeout{30000};
  /// The server gets SIGQUIT (immediate shutdown) when the thread that started it dies,
  /// so an aborted test leaks no server. Start servers from a long-lived thread. Default:
  /// true.
  bool stop_with_parent = true;
  /// Delete work_dir when the server object is destroyed (after stopping). Default:
  /// false.
  bool remove_work_dir = false;
  /// When set, initdb runs once per (binaries, superuser) into a template under this dir
  /// and new servers copy it, which is much faster than initdb. The dir must be owned by
  /// us and writable by no one else, otherwise it is ignored. Default: empty (no cache).
  std::filesystem::path template_cache_dir;

  /// Errors: kInvalidArgument naming the bad field.
  Status Validate() const;
};

/// Whether PostgreSQL server binaries (initdb, postgres) exist in `bin_dir`.
/// Errors: kNotFound naming the missing binary and the Debian package to install.
Status FindPostgresBinaries(
    const std::filesystem::path& bin_dir = kDefaultPostgresBinDir);

/// A throwaway PostgreSQL server on 127.0.0.1 for tests and the quickstart: initdb'd with
/// wal_level=logical, started directly (the postmaster is our child), and stopped by its
/// pid, never by process name.
///
///   TRIB_ASSIGN_OR_RETURN(auto pg, PostgresServer::Create(options));  // initdb
///   TRIB_RETURN_IF_ERROR(pg->Start());                                   // postgres
///   TRIB_RETURN_IF_ERROR(pg->Exec("CREATE TABLE t (id int primary key)"));
///   std::string dsn = pg->Dsn();   // "host=127.0.0.1 port=... dbname=tributary
///   user=..."
///
/// Not thread-safe, except Exec() and the accessors, which may run concurrently with each
/// other (each Exec() opens its own connection). The destructor stops the server.
class PostgresServer {
 public:
  /// Validates options, checks the binaries, prepares work_dir and runs initdb unless
  /// data/ is already a cluster. Does not start the server.
  /// Errors: kInvalidArgument (options, unreachable work_dir), kNotFound (binaries,
  /// system user), kIo, kInternal (initdb failed: its log tail is in the message).
  static Result<std::unique_ptr<PostgresServer>> Create(PostgresServerOptions options);

  /// Create() then Start().
  static Result<std::unique_ptr<PostgresServer>> CreateAndStart(
      PostgresServerOptions options);

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// Starts the server and waits until it accepts connections; on the first start also
  /// creates options.database. A picked port that turns out taken is replaced by another;
  /// a port already in use by this server (a restart) or set in options is kept.
  /// No-op when running. Errors: kTimeout, kInternal (the server exited: its log tail is
  /// in the message), kNetwork.
  Status Start();

  /// Fast shutdown (SIGINT to the postmaster, its pid), escalating to SIGQUIT and SIGKILL
  /// after options.stop_timeout. No-op when not running.
  Status Stop();

  /// Immediate shutdown (SIGQUIT): no checkpoint, crash recovery on the next start, as
  /// after a server crash. No-op when not running.
  Status StopImmediately();

  /// Stop() then Start() on the same data dir and port: clients reconnect to the same
  /// DSN.
  Status Restart();

  /// Runs `sql` (one or more statements) in `database` ("" = options.database) over TCP
  /// as the superuser and returns the rows of the last statement. Errors: kNetwork
  /// (cannot connect), kInvalidArgument (the server rejected the SQL: message and
  /// SQLSTATE included).
  Result<SqlRows> Exec(const std::string& sql, const std::string& database = "") const;

  /// Creates a login role. `superuser` and `replication` grant those attributes.
  /// Errors: as Exec.
  Status CreateRole(const std::string& name,
                    const std::string& password,
                    bool superuser,
                    bool replication) const;

  /// Creates a database owned by `owner` ("" = the superuser). Errors: as Exec.
  Status CreateDatabase(const std::string& name, const std::string& owner = "") const;

  /// Dsn() over the unix socket (host=socket_dir()), which needs no password.
  std::string SocketDsn(const std::string& database = "") const;

  /// libpq key/value connection string for `database` ("" = options.database) as
  /// `user` ("" = the superuser, with its password if any; another role gets no password,
  /// append " password=..." yourself). Contains the password: never log it; use
  /// RedactedDsn() for messages.
  std::string Dsn(const std::string& database = "", const std::string& user = "") const;
  /// Dsn() with the password replaced by "********".
  std::string RedactedDsn(const std::string& database = "") const;

  bool running() const { return pid_ > 0; }
  /// The postmaster's pid, or 0 when stopped.
  pid_t pid() const { return pid_; }
  const std::string& host() const { return host_; }
  /// The TCP port; 0 before the first Start() when options.port is 0.
  uint16_t port() const { return port_; }
  const std::string& superuser() const { return options_.superuser; }
  const std::string& database() const { return options_.database; }
  const std::filesystem::path& work_dir() const { return options_.work_dir; }
  std::filesystem::path data_dir() const { return options_.work_dir / "data"; }
  /// The unix socket directory (libpq `host=` accepts it).
  std::filesystem::path socket_dir() const { return options_.work_dir / "run"; }
  /// The server's stdout/stderr log.
  std::filesystem::path log_file() const { return options_.work_dir / "postgres.log"; }

 private:
  explicit PostgresServer(PostgresServerOptions options);

  Status Initialize();
  Status WriteConfig();
  Result<bool> StartOnce();  // false: the port was taken, pick another
  Status Bootstrap();
  Status StopWith(int first_signal);

  PostgresServerOptions options_;
  std::shared_ptr<internal::Account>
      account_;  // set when we run the server as another user
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  bool port_fixed_ = false;
  pid_t pid_ = 0;
  bool bootstrapped_ = false;
};

}  // namespace tributary::devserver
