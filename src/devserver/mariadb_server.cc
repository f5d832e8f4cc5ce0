#include "devserver/mariadb_server.h"

#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <mysql.h>
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
constexpr size_t kMaxSocketPathLength = 107;

struct MysqlDeleter {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
struct MysqlResultDeleter {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlDeleter>;
using MysqlResultPtr = std::unique_ptr<MYSQL_RES, MysqlResultDeleter>;

// mysql_library_init is not thread-safe; mysql_init calls it on first use.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// Where and as whom to connect.
struct Endpoint {
  std::string host;  // "" with a socket
  uint16_t port = 0;
  std::string socket;
  std::string user;
  std::string password;
  std::string database;
  std::string display;  // for error messages: no password
};

Result<MysqlPtr> Connect(const Endpoint& endpoint, unsigned int timeout_seconds) {
  InitLibraryOnce();
  MysqlPtr mysql(mysql_init(nullptr));
  if (mysql == nullptr) {
    return MakeError(ErrorCode::kInternal, "mysql_init failed (out of memory)");
  }
  mysql_options(mysql.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout_seconds);
  mysql_options(mysql.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!endpoint.socket.empty()) {
    unsigned int protocol = MYSQL_PROTOCOL_SOCKET;
    mysql_options(mysql.get(), MYSQL_OPT_PROTOCOL, &protocol);
  } else {
    unsigned int protocol = MYSQL_PROTOCOL_TCP;
    mysql_options(mysql.get(), MYSQL_OPT_PROTOCOL, &protocol);
  }
  MYSQL* connected = mysql_real_connect(
      mysql.get(), endpoint.socket.empty() ? endpoint.host.c_str() : "localhost",
      endpoint.user.c_str(),
      endpoint.password.empty() ? nullptr : endpoint.password.c_str(),
      endpoint.database.empty() ? nullptr : endpoint.database.c_str(), endpoint.port,
      endpoint.socket.empty() ? nullptr : endpoint.socket.c_str(),
      CLIENT_MULTI_STATEMENTS);
  if (connected == nullptr) {
    return MakeError(ErrorCode::kNetwork,
                     "cannot connect to MariaDB at {}: {} (error {})", endpoint.display,
                     mysql_error(mysql.get()), mysql_errno(mysql.get()));
  }
  return mysql;
}

Result<SqlRows> RunSql(const Endpoint& endpoint, const std::string& sql) {
  TRIB_ASSIGN_OR_RETURN(MysqlPtr mysql, Connect(endpoint, 10));
  MYSQL* conn = mysql.get();
  auto rejected = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "MariaDB ({}) rejected SQL: {} (error {}, SQLSTATE {})",
                     endpoint.display, mysql_error(conn), mysql_errno(conn),
                     mysql_sqlstate(conn));
  };
  if (mysql_real_query(conn, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return rejected();
  }
  SqlRows last;
  while (true) {
    MysqlResultPtr result(mysql_store_result(conn));
    SqlRows rows;
    if (result != nullptr) {
      const unsigned int columns = mysql_num_fields(result.get());
      MYSQL_FIELD* fields = mysql_fetch_fields(result.get());
      for (unsigned int column = 0; column < columns; ++column) {
        rows.columns.emplace_back(fields[column].name);
      }
      while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
        unsigned long* lengths = mysql_fetch_lengths(result.get());
        std::vector<std::optional<std::string>> values;
        values.reserve(columns);
        for (unsigned int column = 0; column < columns; ++column) {
          if (row[column] == nullptr) {
            values.emplace_back(std::nullopt);
          } else {
            values.emplace_back(std::string(row[column], lengths[column]));
          }
        }
        rows.rows.push_back(std::move(values));
      }
      rows.affected_rows = rows.rows.size();
    } else if (mysql_field_count(conn) == 0) {
      rows.affected_rows = static_cast<uint64_t>(mysql_affected_rows(conn));
    } else {
      return rejected();
    }
    last = std::move(rows);
    int next = mysql_next_result(conn);
    if (next > 0) {
      return rejected();
    }
    if (next < 0) {
      break;
    }
  }
  return last;
}

bool LogSaysPortTaken(const std::string& log) {
  return log.find("Address already in use") != std::string::npos ||
         log.find("Bind on TCP/IP port") != std::string::npos;
}

}  // namespace

Status MariaDbServerOptions::Validate() const {
  if (work_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "MariaDB work_dir is required");
  }
  if (user.empty() || user == "root") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "MariaDB user must be set and must not be 'root' (got '{}')", user);
  }
  if (database.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "MariaDB database name is empty");
  }
  if (server_id == 1) {
    // 1 is what many tools default to; a binlog client using it would clash.
    return MakeError(ErrorCode::kInvalidArgument, "MariaDB server_id must not be 1");
  }
  if (start_timeout.count() <= 0 || stop_timeout.count() <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "MariaDB start_timeout and stop_timeout must be positive");
  }
  return internal::ValidateSettingNames(extra_settings, "MariaDB", "'\"");
}

Status FindMariaDbBinaries(const std::filesystem::path& mariadbd,
                           const std::filesystem::path& install_db) {
  return internal::FindServerBinaries({mariadbd, install_db}, "MariaDB",
                                      "mariadb-server");
}

MariaDbServer::MariaDbServer(MariaDbServerOptions options)
    : options_(std::move(options)),
      port_(options_.port),
      port_fixed_(options_.port != 0) {}

MariaDbServer::~MariaDbServer() {
  internal::ShutDownForDestructor(
      pid_, [this] { return Stop(); }, options_.work_dir, options_.remove_work_dir);
}

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::Create(
    MariaDbServerOptions options) {
  TRIB_RETURN_IF_ERROR(options.Validate());
  TRIB_RETURN_IF_ERROR(FindMariaDbBinaries(options.mariadbd, options.install_db));
  TRIB_ASSIGN_OR_RETURN(options.work_dir,
                        internal::AbsoluteWorkDir(options.work_dir, "MariaDB"));
  std::unique_ptr<MariaDbServer> server(new MariaDbServer(std::move(options)));
  TRIB_RETURN_IF_ERROR(server->Initialize().WithContext(
      fmt::format("preparing MariaDB in {}", server->options_.work_dir.string())));
  return server;
}

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::CreateAndStart(
    MariaDbServerOptions options) {
  TRIB_ASSIGN_OR_RETURN(std::unique_ptr<MariaDbServer> server,
                        Create(std::move(options)));
  TRIB_RETURN_IF_ERROR(server->Start());
  return server;
}

Status MariaDbServer::Initialize() {
  TRIB_ASSIGN_OR_RETURN(std::optional<Account> account,
                        internal::ServerAccount(options_.run_as_user));
  if (account) {
    account_ = std::make_shared<Account>(*account);
  }
  if (socket_path().string().size() > kMaxSocketPathLength) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "socket path {} is too long for a unix socket (max {} chars): choose a "
        "shorter work dir",
        socket_path().string(), kMaxSocketPathLength);
  }
  TRIB_RETURN_IF_ERROR(internal::MakeOwnedDir(options_.work_dir, account, 0700));
  TRIB_RETURN_IF_ERROR(internal::EnsureReachable(options_.work_dir, account,
                                                 options_.make_parents_searchable));

  // Keep the server_id of an existing server: binlog readers may remember it.
  server_id_ = options_.server_id;
  std::filesystem::path conf = options_.work_dir / "my.cnf";
  if (server_id_ == 0) {
    auto existing = internal::ReadFile(conf);
    if (existing.ok()) {
      std::string value = internal::FindConfSetting(*existing, "server_id");
      try {
        server_id_ = value.empty() ? 0 : static_cast<uint32_t>(std::stoul(value));
      } catch (const std::exception&) {
        server_id_ = 0;
      }
    }
  }
  if (server_id_ == 0) {
    server_id_ = internal::RandomServerId();
  }
  TRIB_RETURN_IF_ERROR(WriteConfig());

  std::error_code ec;
  if (!std::filesystem::exists(data_dir() / "mysql", ec)) {
    std::filesystem::remove_all(data_dir(), ec);
    auto build = [&](const std::filesystem::path& target) -> Status {
      TRIB_RETURN_IF_ERROR(internal::MakeOwnedDir(target, account, 0700));
      internal::SpawnOptions spawn;
      // Only settings fixed at creation time, so the result can serve as a template for
      // any server; no log_bin, so bootstrap statements never reach a binlog.
      spawn.argv = {
          options_.install_db.string(),
          "--no-defaults",
          "--datadir=" + target.string(),
          "--auth-root-authentication-method=normal",
          "--skip-test-db",
          "--skip-name-resolve",
          std::string("--innodb-log-file-size=") + internal::kMariaDbInnodbLogFileSize,
          "--innodb-buffer-pool-size=32M",
          "--innodb-use-native-aio=0"};
      if (account) {
        spawn.argv.push_back("--user=" + account->name);
      }
      spawn.account = account;
      spawn.log_file = options_.work_dir / "install.log";
      spawn.cwd = options_.work_dir;
      spawn.env = {"TZ=UTC"};
      if (account) {
        spawn.env.push_back("USER=" + account->name);
        spawn.env.push_back("HOME=" + options_.work_dir.string());
      }
      TRIB_ASSIGN_OR_RETURN(int exit_code,
                            internal::RunToCompletion(spawn, std::chrono::minutes(2)));
      if (exit_code != 0) {
        return MakeError(ErrorCode::kInternal,
                         "mariadb-install-db exited with code {}:\n{}", exit_code,
                         internal::TailOfFile(spawn.log_file));
      }
      return OkStatus();
    };
    const std::string key =
        internal::TemplateKey("mariadb", {internal::kMariaDbInnodbLogFileSize},
                              {options_.mariadbd, options_.install_db});
    TRIB_RETURN_IF_ERROR(internal::MaterializeDataDir(options_.template_cache_dir, key,
                                                      account, build, data_dir()));
  }
  return OkStatus();
}

Status MariaDbServer::WriteConfig() {
  std::optional<Account> account;
  if (account_) {
    account = *account_;
  }
  internal::MariaDbLayout layout;
  layout.data_dir = data_dir();
  layout.socket = socket_path();
  layout.pid_file = pid_file();
  layout.error_log = error_log();
  layout.port = port_;
  layout.server_id = server_id_;
  // mariadbd ignores world-writable option files; 0640 owned by the server account.
  return internal::WriteOwnedFile(options_.work_dir / "my.cnf",
                                  internal::RenderMariaDbConf(options_, layout), account,
                                  0640);
}

Status MariaDbServer::Start() {
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
                                            "starting MariaDB in {} on port {}",
                                            options_.work_dir.string(), port_)));
    if (started) {
      port_fixed_ = true;
      if (!bootstrapped_) {
        TRIB_RETURN_IF_ERROR(Bootstrap());
      }
      return OkStatus();
    }
    if (port_fixed_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    } else {
      port_ = 0;
    }
  }
  return MakeError(
      ErrorCode::kNetwork,
      "MariaDB in {} could not bind a port on 127.0.0.1 after {} attempts (last "
      "{}); see {}",
      options_.work_dir.string(), kMaxPortAttempts, port_, error_log().string());
}

Result<bool> MariaDbServer::StartOnce() {
  const std::filesystem::path stdout_log = options_.work_dir / "mariadbd.log";
  const std::uintmax_t error_offset = internal::FileSizeOrZero(error_log());
  const std::uintmax_t stdout_offset = internal::FileSizeOrZero(stdout_log);
  internal::SpawnOptions spawn;
  // --defaults-file must come first.
  spawn.argv = {options_.mariadbd.string(),
                "--defaults-file=" + (options_.work_dir / "my.cnf").string()};
  if (account_) {
    spawn.account = *account_;
  }
  spawn.log_file = stdout_log;
  spawn.cwd = options_.work_dir;
  spawn.env = {"TZ=UTC"};
  spawn.parent_death_signal = options_.stop_with_parent ? SIGKILL : 0;
  TRIB_ASSIGN_OR_RETURN(pid_t pid, internal::Spawn(spawn));

  Endpoint root;
  root.socket = socket_path().string();
  root.user = "root";
  root.display = socket_path().string();
  const auto deadline = Clock::now() + options_.start_timeout;
  while (true) {
    if (internal::ReapIfExited(pid)) {
      std::string log = internal::FileTextSince(error_log(), error_offset) +
                        internal::FileTextSince(stdout_log, stdout_offset);
      if (LogSaysPortTaken(log)) {
        return false;
      }
      return MakeError(ErrorCode::kInternal, "mariadbd exited during startup:\n{}",
                       log.empty() ? internal::TailOfFile(error_log()) : log);
    }
    if (Connect(root, 1).ok()) {
      pid_ = pid;
      return true;
    }
    if (Clock::now() >= deadline) {
      TRIB_RETURN_IF_ERROR(internal::StopProcess(pid, {}));
      return MakeError(ErrorCode::kTimeout,
                       "mariadbd did not accept connections within {} ms:\n{}",
                       options_.start_timeout.count(), internal::TailOfFile(error_log()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status MariaDbServer::Bootstrap() {
  Endpoint root;
  root.socket = socket_path().string();
  root.user = "root";
  root.display = socket_path().string();
  const std::string account = internal::QuoteMySqlLiteral(options_.user) + "@'%'";
  std::string sql = "CREATE USER IF NOT EXISTS " + account;
  if (!options_.password.empty()) {
    sql += " IDENTIFIED BY " + internal::QuoteMySqlLiteral(options_.password);
  }
  sql += "; GRANT ALL PRIVILEGES ON *.* TO " + account + " WITH GRANT OPTION";
  sql += "; CREATE DATABASE IF NOT EXISTS " +
         internal::QuoteMySqlIdentifier(options_.database);
  TRIB_RETURN_IF_ERROR(RunSql(root, sql).WithContext(fmt::format(
      "creating MariaDB user '{}' and database '{}'", options_.user, options_.database)));
  bootstrapped_ = true;
  return OkStatus();
}

Status MariaDbServer::StopWith(int first_signal) {
  if (pid_ <= 0) {
    return OkStatus();
  }
  std::vector<std::pair<int, std::chrono::milliseconds>> signals;
  if (first_signal == SIGTERM) {
    signals.emplace_back(SIGTERM, options_.stop_timeout);
  }
  Status status = internal::StopProcess(pid_, signals);
  if (status.ok()) {
    pid_ = 0;
  }
  return std::move(status).WithContext(
      fmt::format("stopping MariaDB in {}", options_.work_dir.string()));
}

Status MariaDbServer::Stop() {
  return StopWith(SIGTERM);
}

Status MariaDbServer::StopImmediately() {
  return StopWith(SIGKILL);
}

Status MariaDbServer::Restart() {
  TRIB_RETURN_IF_ERROR(Stop());
  return Start();
}

Result<SqlRows> MariaDbServer::Exec(const std::string& sql,
                                    const std::string& database) const {
  Endpoint endpoint;
  endpoint.host = host_;
  endpoint.port = port_;
  endpoint.user = options_.user;
  endpoint.password = options_.password;
  endpoint.database = database.empty() ? options_.database : database;
  endpoint.display = RedactedDsn(endpoint.database);
  return RunSql(endpoint, sql);
}

Status MariaDbServer::CreateDatabase(const std::string& name) const {
  TRIB_RETURN_IF_ERROR(Exec("CREATE DATABASE " + internal::QuoteMySqlIdentifier(name))
                           .WithContext(fmt::format("creating database '{}'", name)));
  return OkStatus();
}

Status MariaDbServer::CreateUser(const std::string& name,
                                 const std::string& password,
                                 const std::string& privileges) const {
  const std::string account = internal::QuoteMySqlLiteral(name) + "@'%'";
  std::string sql = "CREATE USER " + account;
  if (!password.empty()) {
    sql += " IDENTIFIED BY " + internal::QuoteMySqlLiteral(password);
  }
  sql += "; GRANT " + privileges + " ON *.* TO " + account;
  TRIB_RETURN_IF_ERROR(
      Exec(sql).WithContext(fmt::format("creating MariaDB user '{}'", name)));
  return OkStatus();
}

std::string MariaDbServer::Dsn(const std::string& database) const {
  return internal::BuildDsn(
      {{"host", host_},
       {"port", std::to_string(port_)},
       {"user", options_.user},
       {"password", options_.password},
       {"dbname", database.empty() ? options_.database : database}});
}

std::string MariaDbServer::Url(const std::string& database) const {
  return internal::BuildMySqlUrl(options_.user, options_.password, host_, port_,
                                 database.empty() ? options_.database : database);
}

std::string MariaDbServer::RedactedDsn(const std::string& database) const {
  return internal::BuildDsn(
      {{"host", host_},
       {"port", std::to_string(port_)},
       {"user", options_.user},
       {"password", options_.password.empty() ? "" : "********"},
       {"dbname", database.empty() ? options_.database : database}});
}

}  // namespace tributary::devserver
