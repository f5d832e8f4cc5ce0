#include "capture/postgres/internal/pg_conn.h"

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <libpq-fe.h>

namespace tributary::capture::postgres::internal {

int QueryResult::ColumnIndex(std::string_view name) const {
  for (size_t column_idx = 0; column_idx < column_names.size(); ++column_idx) {
    if (column_names[column_idx] == name) {
      return static_cast<int>(column_idx);
    }
  }
  return -1;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view value) {
  bool has_backslash = value.find('\\') != std::string_view::npos;
  std::string out = has_backslash ? "E'" : "'";
  for (char c : value) {
    if (c == '\'' || (has_backslash && c == '\\')) {
      out += c;
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string QuoteQualified(std::string_view schema, std::string_view table) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(table);
}

namespace {

std::string TrimMessage(const char* message) {
  std::string out = message == nullptr ? "" : message;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

// Class 08 (connection exception) and 57P (operator intervention: admin shutdown, crash
// shutdown, cannot connect now) are worth retrying after a backoff.
bool IsRetryableSqlState(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
         sqlstate == "53300";  // too_many_connections
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& dsn, bool replication, const std::string& application_name,
    const std::string& options) {
  // expand_dbname=1: "dbname" holds the whole DSN; the later keys override what it says.
  std::vector<const char*> keywords = {"dbname", "application_name"};
  std::vector<const char*> values = {dsn.c_str(), application_name.c_str()};
  if (replication) {
    keywords.push_back("replication");
    values.push_back("database");
  }
  if (!options.empty()) {
    keywords.push_back("options");
    values.push_back(options.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 1);
  if (conn == nullptr) {
    return MakeError(ErrorCode::kInternal, "libpq could not allocate a connection");
  }
  std::string description =
      fmt::format("{}:{}/{}", PQhost(conn) ? PQhost(conn) : "?",
                  PQport(conn) ? PQport(conn) : "?", PQdb(conn) ? PQdb(conn) : "?");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = TrimMessage(PQerrorMessage(conn));
    PQfinish(conn);
    // A rejected login or a missing database will not fix itself, but the common case
    // (server starting, restarting, unreachable) will.
    bool permanent = message.find("password authentication failed") != std::string::npos ||
                     message.find("does not exist") != std::string::npos ||
                     message.find("no pg_hba.conf entry") != std::string::npos ||
                     message.find("must have replication") != std::string::npos ||
                     message.find("permission denied") != std::string::npos;
    return MakeError(permanent ? ErrorCode::kInvalidArgument : ErrorCode::kNetwork,
                     "cannot connect to PostgreSQL at {}{}: {}", description,
                     replication ? " (replication connection)" : "", message);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, std::move(description)));
}

PgConnection::~PgConnection() {
  FreeCopyBuffer();
  PQfinish(conn_);
}

void PgConnection::FreeCopyBuffer() {
  if (copy_buffer_ != nullptr) {
    PQfreemem(copy_buffer_);
    copy_buffer_ = nullptr;
  }
}

int PgConnection::server_version() const { return PQserverVersion(conn_); }

int PgConnection::backend_pid() const { return PQbackendPID(conn_); }

Error PgConnection::ConnectionError(std::string_view doing) const {
  return MakeError(ErrorCode::kNetwork, "PostgreSQL connection to {} failed while {}: {}",
                   description_, doing, TrimMessage(PQerrorMessage(conn_)));
}

namespace {

Result<QueryResult> TakeResult(PGconn* conn, PGresult* result, std::string_view sql,
                               const std::string& description, std::string& last_sqlstate) {
  last_sqlstate.clear();
  if (result == nullptr) {
    return MakeError(ErrorCode::kNetwork, "PostgreSQL at {} returned no result for `{}`: {}",
                     description, sql, TrimMessage(PQerrorMessage(conn)));
  }
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    last_sqlstate = state == nullptr ? "" : state;
    std::string message = TrimMessage(PQresultErrorMessage(result));
    PQclear(result);
    ErrorCode code = ErrorCode::kInternal;
    if (PQstatus(conn) != CONNECTION_OK || IsRetryableSqlState(last_sqlstate)) {
      code = ErrorCode::kNetwork;
    } else if (last_sqlstate == "42P01" || last_sqlstate == "42704") {
      code = ErrorCode::kNotFound;  // undefined table / object
    } else if (last_sqlstate == "42710") {
      code = ErrorCode::kAlreadyExists;  // duplicate object (slot, publication)
    } else if (last_sqlstate == "55006") {
      code = ErrorCode::kConflict;  // object in use: a slot active elsewhere
    } else if (last_sqlstate.starts_with("42") || last_sqlstate.starts_with("22") ||
               last_sqlstate == "55000") {
      code = ErrorCode::kInvalidArgument;  // syntax, privilege, data, prerequisite state
    }
    return MakeError(code, "PostgreSQL at {} rejected `{}`: {} (SQLSTATE {})", description,
                     sql, message, last_sqlstate.empty() ? "none" : last_sqlstate);
  }
  QueryResult out;
  int column_count = PQnfields(result);
  int row_count = PQntuples(result);
  for (int column_idx = 0; column_idx < column_count; ++column_idx) {
    out.column_names.emplace_back(PQfname(result, column_idx));
  }
  out.rows.reserve(static_cast<size_t>(row_count));
  for (int row_idx = 0; row_idx < row_count; ++row_idx) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<size_t>(column_count));
    for (int column_idx = 0; column_idx < column_count; ++column_idx) {
      if (PQgetisnull(result, row_idx, column_idx)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result, row_idx, column_idx),
                                     static_cast<size_t>(PQgetlength(result, row_idx,
                                                                     column_idx))));
      }
    }
    out.rows.push_back(std::move(row));
  }
  PQclear(result);
  return out;
}

}  // namespace

Result<QueryResult> PgConnection::Query(std::string_view sql) {
  std::string statement(sql);
  PGresult* result = PQexec(conn_, statement.c_str());
  // PQexec returns the last result of a multi-statement string; earlier errors stop it.
  return TakeResult(conn_, result, sql, description_, last_sqlstate_);
}

Result<QueryResult> PgConnection::QueryParams(
    std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  std::string statement(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) {
    values.push_back(param ? param->c_str() : nullptr);
  }
  PGresult* result =
      PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()), nullptr,
                   values.data(), nullptr, nullptr, 0);
  return TakeResult(conn_, result, sql, description_, last_sqlstate_);
}

Status PgConnection::Exec(std::string_view sql) {
  TRIB_ASSIGN_OR_RETURN(auto ignored, Query(sql));
  static_cast<void>(ignored);
  return OkStatus();
}

Status PgConnection::StartReplication(std::string_view command) {
  std::string statement(command);
  PGresult* result = PQexec(conn_, statement.c_str());
  if (result == nullptr) {
    return ConnectionError("starting replication");
  }
  if (PQresultStatus(result) != PGRES_COPY_BOTH) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    last_sqlstate_ = state == nullptr ? "" : state;
    std::string message = TrimMessage(PQresultErrorMessage(result));
    PQclear(result);
    ErrorCode code = ErrorCode::kInternal;
    if (PQstatus(conn_) != CONNECTION_OK || IsRetryableSqlState(last_sqlstate_)) {
      code = ErrorCode::kNetwork;
    } else if (last_sqlstate_ == "55006") {  // object_in_use: slot active elsewhere
      code = ErrorCode::kConflict;
    } else if (last_sqlstate_ == "42704") {  // undefined_object: slot/publication missing
      code = ErrorCode::kNotFound;
    } else if (!last_sqlstate_.empty()) {
      code = ErrorCode::kInvalidArgument;
    }
    return MakeError(code, "PostgreSQL at {} rejected `{}`: {} (SQLSTATE {})", description_,
                     command, message, last_sqlstate_.empty() ? "none" : last_sqlstate_);
  }
  PQclear(result);
  return OkStatus();
}

Result<std::optional<std::string_view>> PgConnection::ReadCopyData(
    std::chrono::milliseconds timeout) {
  FreeCopyBuffer();
  // Only read the clock when there is nothing buffered: this runs once per message.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  while (true) {
    int length = PQgetCopyData(conn_, &copy_buffer_, 1);
    if (length > 0) {
      return std::optional<std::string_view>(
          std::string_view(copy_buffer_, static_cast<size_t>(length)));
    }
    if (length == -1) {
      // The server ended the COPY: collect the final result to report why.
      PGresult* result = PQgetResult(conn_);
      std::string message = "server ended the replication stream";
      if (result != nullptr) {
        if (PQresultStatus(result) == PGRES_FATAL_ERROR) {
          message = TrimMessage(PQresultErrorMessage(result));
        }
        PQclear(result);
      }
      return MakeError(ErrorCode::kNetwork, "replication stream from {} ended: {}",
                       description_, message);
    }
    if (length == -2) {
      return ConnectionError("reading the replication stream");
    }
    // length == 0: no complete message buffered; wait for the socket.
    auto now = std::chrono::steady_clock::now();
    if (!deadline) {
      deadline = now + timeout;
    }
    if (now >= *deadline) {
      return std::optional<std::string_view>();
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
    pollfd fd{};
    fd.fd = PQsocket(conn_);
    fd.events = POLLIN;
    int ready = poll(&fd, 1, static_cast<int>(wait.count()) + 1);
    if (ready < 0 && errno != EINTR) {
      return MakeError(ErrorCode::kNetwork, "poll on the replication socket to {} failed: {}",
                       description_, std::strerror(errno));
    }
    if (ready > 0 && PQconsumeInput(conn_) == 0) {
      return ConnectionError("reading the replication stream");
    }
  }
}

Status PgConnection::SendCopyData(std::string_view data) {
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
    return ConnectionError("sending a standby status update");
  }
  if (PQflush(conn_) != 0) {
    return ConnectionError("flushing a standby status update");
  }
  return OkStatus();
}

}  // namespace tributary::capture::postgres::internal
