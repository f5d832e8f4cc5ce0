#include "devserver/postgres_server.h"

#include <fstream>
#include <system_error>
#include <thread>

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include "devserver/internal/config_render.h"
#include "devserver/internal/process.h"
#include "devserver/internal/template_cache.h"
#include "devserver/port.h"

namespace tributary::devserver {
namespace {

using internal::Account;
using Clock = std::chrono::steady_clock;

constexpr int kMaxPortAttempts = 8;
constexpr const char* kIncludeLine = "include_if_exists = 'tributary.conf'";
// sun_path is 108 bytes; PostgreSQL appends "/.s.PGSQL.65535.lock".
constexpr size_t kMaxSocketDirLength = 107 - 21;

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string TrimMessage(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

bool LogSaysPortTaken(const std::string& log) {
  return log.find("Address already in use") != std::string::npos ||
         log.find("could not bind IPv4 address") != std::string::npos;
}

}  // namespace

Status PostgresServerOptions::Validate() const {
  if (work_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "PostgreSQL work_dir is required");
  }
  if (superuser.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "PostgreSQL superuser name is empty");
  }
  if (database.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "PostgreSQL database name is empty");
  }
  if (max_replication_slots < 1 || max_wal_senders < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "max_replication_slots ({}) and max_wal_senders ({}) must be >= 1",
                     max_replication_slots, max_wal_senders);
  }
  if (start_timeout.count() <= 0 || stop_timeout.count() <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PostgreSQL start_timeout and stop_timeout must be positive");
  }
  return internal::ValidateSettingNames(extra_settings, "PostgreSQL", "'");
}

Status FindPostgresBinaries(const std::filesystem::path& bin_dir) {
  return internal::FindServerBinaries({bin_dir / "initdb", bin_dir / "postgres"},
                                      "PostgreSQL", "postgresql-15");
}

PostgresServer::PostgresServer(PostgresServerOptions options)
    : options_(std::move(options)),
      port_(options_.port),
      port_fixed_(options_.port != 0) {}

PostgresServer::~PostgresServer() {
  internal::ShutDownForDestructor(
      pid_, [this] { return Stop(); }, options_.work_dir, options_.remove_work_dir);
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Create(
    PostgresServerOptions options) {
  TRIB_RETURN_IF_ERROR(options.Validate());
  TRIB_RETURN_IF_ERROR(FindPostgresBinaries(options.bin_dir));
  TRIB_ASSIGN_OR_RETURN(options.work_dir,
                        internal::AbsoluteWorkDir(options.work_dir, "PostgreSQL"));
  std::unique_ptr<PostgresServer> server(new PostgresServer(std::move(options)));
  TRIB_RETURN_IF_ERROR(server->Initialize().WithContext(
      fmt::format("preparing PostgreSQL in {}", server->options_.work_dir.string())));
  return server;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::CreateAndStart(
    PostgresServerOptions options) {
  TRIB_ASSIGN_OR_RETURN(std::unique_ptr<PostgresServer> server,
                        Create(std::move(options)));
  TRIB_RETURN_IF_ERROR(server->Start());
  return server;
}

Status PostgresServer::Initialize() {
  TRIB_ASSIGN_OR_RETURN(std::optional<Account> account,
                        internal::ServerAccount(options_.run_as_user));
  if (account) {
    account_ = std::make_shared<Account>(*account);
  }
  if (socket_dir().string().size() > kMaxSocketDirLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "socket dir {} is too long for a unix socket path (max {} chars): "
                     "choose a shorter work dir",
                     socket_dir().string(), kMaxSocketDirLength);
  }
  TRIB_RETURN_IF_ERROR(internal::MakeOwnedDir(options_.work_dir, account, 0700));
  TRIB_RETURN_IF_ERROR(internal::EnsureReachable(options_.work_dir, account,
                                                 options_.make_parents_searchable));
  TRIB_RETURN_IF_ERROR(internal::MakeOwnedDir(socket_dir(), account, 0700));

  std::error_code ec;
  if (!std::filesystem::exists(data_dir() / "PG_VERSION", ec)) {
    std::filesystem::remove_all(data_dir(), ec);
    const std::filesystem::path initdb = options_.bin_dir / "initdb";
    auto build = [&](const std::filesystem::path& target) -> Status {
      internal::SpawnOptions spawn;
      spawn.argv = {initdb.string(),
                    "--pgdata=" + target.string(),
                    "--username=" + options_.superuser,
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--auth=trust"};
      spawn.account = account;
      spawn.log_file = options_.work_dir / "initdb.log";
      spawn.cwd = options_.work_dir;
      spawn.env = {"LC_ALL=C", "TZ=UTC"};
      TRIB_ASSIGN_OR_RETURN(int exit_code,
                            internal::RunToCompletion(spawn, std::chrono::minutes(2)));
      if (exit_code != 0) {
        return MakeError(ErrorCode::kInternal, "initdb exited with code {}:\n{}",
                         exit_code, internal::TailOfFile(spawn.log_file));
      }
      return OkStatus();
    };
    const std::string key = internal::TemplateKey(
        "postgres", {options_.superuser}, {initdb, options_.bin_dir / "postgres"});
    TRIB_RETURN_IF_ERROR(internal::MaterializeDataDir(options_.template_cache_dir, key,
                                                      account, build, data_dir()));
  }

  TRIB_RETURN_IF_ERROR(internal::WriteOwnedFile(
      data_dir() / "pg_hba.conf", internal::RenderPgHba(!options_.password.empty()),
      account, 0600));
  std::filesystem::path conf = data_dir() / "postgresql.conf";
  TRIB_ASSIGN_OR_RETURN(std::string conf_text, internal::ReadFile(conf));
  if (conf_text.find(kIncludeLine) == std::string::npos) {
    conf_text += "\n";
    conf_text += kIncludeLine;
    conf_text += "\n";
    TRIB_RETURN_IF_ERROR(internal::WriteOwnedFile(conf, conf_text, account, 0600));
  }
  return OkStatus();
}

Status PostgresServer::WriteConfig() {
  std::optional<Account> account;
  if (account_) {
    account = *account_;
  }
  return internal::WriteOwnedFile(
      data_dir() / "tributary.conf",
      internal::RenderPostgresConf(options_, port_, socket_dir()), account, 0600);
}

Status PostgresServer::Start() {
  if (pid_ > 0) {
    if (internal::ProcessAlive(pid_)) {
      return OkStatus();
    }
    internal::ReapIfExited(pid_);
    pid_ = 0;
  }
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    if (port_ == 0) {
      TRIB_ASSIGN_OR_RETURN(port_, PickFreeLoopbackPort());
    }
    TRIB_RETURN_IF_ERROR(WriteConfig());
    TRIB_ASSIGN_OR_RETURN(bool started, StartOnce().WithContext(fmt::format(
                                            "starting PostgreSQL in {} on port {}",
                                            options_.work_dir.string(), port_)));
    if (started) {
      port_fixed_ = true;  // a restart must keep the port clients know
      if (!bootstrapped_) {
        TRIB_RETURN_IF_ERROR(Bootstrap());
      }
      return OkStatus();
    }
    if (port_fixed_) {
      // Our own port (a restart): wait for whoever holds it briefly.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    } else {
      port_ = 0;
    }
  }
  return MakeError(
      ErrorCode::kNetwork,
      "PostgreSQL in {} could not bind a port on 127.0.0.1 after {} attempts "
      "(last {}); see {}",
      options_.work_dir.string(), kMaxPortAttempts, port_, log_file().string());
}

Result<bool> PostgresServer::StartOnce() {
  const std::uintmax_t log_offset = internal::FileSizeOrZero(log_file());
  internal::SpawnOptions spawn;
  spawn.argv = {(options_.bin_dir / "postgres").string(), "-D", data_dir().string()};
  if (account_) {
    spawn.account = *account_;
  }
  spawn.log_file = log_file();
  spawn.cwd = options_.work_dir;
  spawn.env = {"LC_ALL=C", "TZ=UTC"};
  spawn.parent_death_signal = options_.stop_with_parent ? SIGQUIT : 0;
  TRIB_ASSIGN_OR_RETURN(pid_t pid, internal::Spawn(spawn));

  const std::string ping_info = internal::BuildDsn({{"host", host_},
                                                    {"port", std::to_string(port_)},
                                                    {"dbname", "postgres"},
                                                    {"user", options_.superuser},
                                                    {"connect_timeout", "2"}});
  const auto deadline = Clock::now() + options_.start_timeout;
  while (true) {
    if (internal::ReapIfExited(pid)) {
      std::string log = internal::FileTextSince(log_file(), log_offset);
      if (LogSaysPortTaken(log)) {
        return false;
      }
      return MakeError(ErrorCode::kInternal, "postgres exited during startup:\n{}",
                       internal::TailOfFile(log_file()));
    }
    if (PQping(ping_info.c_str()) == PQPING_OK) {
      pid_ = pid;
      return true;
    }
    if (Clock::now() >= deadline) {
      TRIB_RETURN_IF_ERROR(
          internal::StopProcess(pid, {{SIGQUIT, std::chrono::seconds(5)}}));
      return MakeError(ErrorCode::kTimeout,
                       "postgres did not accept connections within {} ms:\n{}",
                       options_.start_timeout.count(), internal::TailOfFile(log_file()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status PostgresServer::Bootstrap() {
  // Over the unix socket: it is trusted, so this works before the password is set.
  auto run = [this](const std::string& sql) -> Result<SqlRows> {
    PgConnPtr conn(PQconnectdb(SocketDsn("postgres").c_str()));
    if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
      return MakeError(ErrorCode::kNetwork, "cannot connect to PostgreSQL through {}: {}",
                       socket_dir().string(),
                       conn ? TrimMessage(PQerrorMessage(conn.get())) : "out of memory");
    }
    PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
    PgResultPtr result(PQexec(conn.get(), sql.c_str()));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return MakeError(ErrorCode::kInternal, "PostgreSQL bootstrap failed: {}",
                       TrimMessage(result ? PQresultErrorMessage(result.get())
                                          : PQerrorMessage(conn.get())));
    }
    SqlRows rows;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      rows.rows.push_back({std::string(PQgetvalue(result.get(), row, 0))});
    }
    return rows;
  };
  if (!options_.password.empty()) {
    TRIB_RETURN_IF_ERROR(run("ALTER ROLE " +
                             internal::QuotePgIdentifier(options_.superuser) +
                             " PASSWORD " + internal::QuotePgLiteral(options_.password))
                             .WithContext("setting the superuser password"));
  }
  if (options_.database != "postgres") {
    TRIB_ASSIGN_OR_RETURN(SqlRows rows, run("SELECT 1 FROM pg_database WHERE datname = " +
                                            internal::QuotePgLiteral(options_.database)));
    if (rows.empty()) {
      // FILE_COPY: a cheap checkpoint and a file copy instead of WAL-logging template1.
      TRIB_RETURN_IF_ERROR(
          run("CREATE DATABASE " + internal::QuotePgIdentifier(options_.database) +
              " STRATEGY FILE_COPY")
              .WithContext(fmt::format("creating database '{}'", options_.database)));
    }
  }
  bootstrapped_ = true;
  return OkStatus();
}

Status PostgresServer::StopWith(int first_signal) {
  if (pid_ <= 0) {
    return OkStatus();
  }
  std::vector<std::pair<int, std::chrono::milliseconds>> signals;
  if (first_signal == SIGINT) {
    signals.emplace_back(SIGINT, options_.stop_timeout);
  }
  signals.emplace_back(SIGQUIT, std::chrono::seconds(10));
  Status status = internal::StopProcess(pid_, signals);
  if (status.ok()) {
    pid_ = 0;
  }
  return std::move(status).WithContext(
      fmt::format("stopping PostgreSQL in {}", options_.work_dir.string()));
}

Status PostgresServer::Stop() {
  return StopWith(SIGINT);
}

Status PostgresServer::StopImmediately() {
  return StopWith(SIGQUIT);
}

Status PostgresServer::Restart() {
  TRIB_RETURN_IF_ERROR(Stop());
  return Start();
}

Result<SqlRows> PostgresServer::Exec(const std::string& sql,
                                     const std::string& database) const {
  const std::string db = database.empty() ? options_.database : database;
  PgConnPtr conn(PQconnectdb(Dsn(db).c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return MakeError(ErrorCode::kNetwork, "cannot connect to PostgreSQL at {}: {}",
                     RedactedDsn(db),
                     conn ? TrimMessage(PQerrorMessage(conn.get())) : "out of memory");
  }
  PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
  PgResultPtr result(PQexec(conn.get(), sql.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  SqlRows rows;
  if (status == PGRES_TUPLES_OK) {
    const int columns = PQnfields(result.get());
    const int tuples = PQntuples(result.get());
    for (int column = 0; column < columns; ++column) {
      rows.columns.emplace_back(PQfname(result.get(), column));
    }
    rows.rows.reserve(static_cast<size_t>(tuples));
    for (int row = 0; row < tuples; ++row) {
      std::vector<std::optional<std::string>> values;
      values.reserve(static_cast<size_t>(columns));
      for (int column = 0; column < columns; ++column) {
        if (PQgetisnull(result.get(), row, column) != 0) {
          values.emplace_back(std::nullopt);
        } else {
          values.emplace_back(
              std::string(PQgetvalue(result.get(), row, column),
                          static_cast<size_t>(PQgetlength(result.get(), row, column))));
        }
      }
      rows.rows.push_back(std::move(values));
    }
    rows.affected_rows = static_cast<uint64_t>(tuples);
    return rows;
  }
  if (status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) {
    const char* affected = result ? PQcmdTuples(result.get()) : "";
    if (affected != nullptr && *affected != '\0') {
      rows.affected_rows = std::stoull(affected);
    }
    return rows;
  }
  const char* sqlstate =
      result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  return MakeError(ErrorCode::kInvalidArgument, "PostgreSQL ({}) rejected SQL: {}{}",
                   RedactedDsn(db),
                   TrimMessage(result ? PQresultErrorMessage(result.get())
                                      : PQerrorMessage(conn.get())),
                   sqlstate ? fmt::format(" (SQLSTATE {})", sqlstate) : "");
}

Status PostgresServer::CreateRole(const std::string& name,
                                  const std::string& password,
                                  bool superuser,
                                  bool replication) const {
  std::string sql = "CREATE ROLE " + internal::QuotePgIdentifier(name) + " LOGIN";
  if (superuser) {
    sql += " SUPERUSER";
  }
  if (replication) {
    sql += " REPLICATION";
  }
  if (!password.empty()) {
    sql += " PASSWORD " + internal::QuotePgLiteral(password);
  }
  TRIB_RETURN_IF_ERROR(
      Exec(sql, "postgres").WithContext(fmt::format("creating role '{}'", name)));
  return OkStatus();
}

Status PostgresServer::CreateDatabase(const std::string& name,
                                      const std::string& owner) const {
  std::string sql = "CREATE DATABASE " + internal::QuotePgIdentifier(name);
  if (!owner.empty()) {
    sql += " OWNER " + internal::QuotePgIdentifier(owner);
  }
  // FILE_COPY: a checkpoint and a file copy, instead of writing template1 into the WAL
  // that logical decoding then has to read through.
  sql += " STRATEGY FILE_COPY";
  TRIB_RETURN_IF_ERROR(
      Exec(sql, "postgres").WithContext(fmt::format("creating database '{}'", name)));
  return OkStatus();
}

std::string PostgresServer::Dsn(const std::string& database,
                                const std::string& user) const {
  const bool as_superuser = user.empty() || user == options_.superuser;
  return internal::BuildDsn({{"host", host_},
                             {"port", std::to_string(port_)},
                             {"dbname", database.empty() ? options_.database : database},
                             {"user", as_superuser ? options_.superuser : user},
                             {"password", as_superuser ? options_.password : ""}});
}

std::string PostgresServer::SocketDsn(const std::string& database) const {
  return internal::BuildDsn({{"host", socket_dir().string()},
                             {"port", std::to_string(port_)},
                             {"dbname", database.empty() ? options_.database : database},
                             {"user", options_.superuser}});
}

std::string PostgresServer::RedactedDsn(const std::string& database) const {
  return internal::BuildDsn({{"host", host_},
                             {"port", std::to_string(port_)},
                             {"dbname", database.empty() ? options_.database : database},
                             {"user", options_.superuser},
                             {"password", options_.password.empty() ? "" : "********"}});
}

}  // namespace tributary::devserver
