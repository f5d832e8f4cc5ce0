#include "datasets/dsn.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/redact.h"

namespace tributary::datasets {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

Result<std::string> PercentDecode(std::string_view text, std::string_view what,
                                  const std::string& redacted) {
  std::string out;
  for (size_t idx = 0; idx < text.size(); ++idx) {
    if (text[idx] != '%') {
      out.push_back(text[idx]);
      continue;
    }
    unsigned value = 0;
    if (idx + 2 >= text.size()) {
      return MakeError(ErrorCode::kInvalidArgument, "DSN '{}': truncated %-escape in {}",
                       redacted, what);
    }
    const auto* begin = text.data() + idx + 1;
    const auto [ptr, ec] = std::from_chars(begin, begin + 2, value, 16);
    if (ec != std::errc() || ptr != begin + 2) {
      return MakeError(ErrorCode::kInvalidArgument, "DSN '{}': bad %-escape in {}", redacted,
                       what);
    }
    out.push_back(static_cast<char>(value));
    idx += 2;
  }
  return out;
}

Result<MySqlConnectParams> ParseMySqlUri(std::string_view uri, const std::string& redacted) {
  MySqlConnectParams params;
  std::string_view rest = uri.substr(uri.find("://") + 3);
  std::string_view query;
  if (const size_t question = rest.find('?'); question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view password;
    if (const size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      password = userinfo.substr(colon + 1);
      userinfo = userinfo.substr(0, colon);
    }
    TRIB_ASSIGN_OR_RETURN(params.user, PercentDecode(userinfo, "the user", redacted));
    TRIB_ASSIGN_OR_RETURN(params.password, PercentDecode(password, "the password", redacted));
  }
  std::string_view host = authority;
  if (const size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port_text = authority.substr(colon + 1);
    uint32_t port = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return MakeError(ErrorCode::kInvalidArgument, "DSN '{}': bad port '{}'", redacted,
                       port_text);
    }
    params.port = port;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  params.host = std::string(host);
  TRIB_ASSIGN_OR_RETURN(params.database, PercentDecode(path, "the database", redacted));
  if (params.database.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "DSN '{}': a MySQL URI needs a database: mysql://user@host:port/DATABASE",
                     redacted);
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (key == "socket" || key == "unix_socket") {
      TRIB_ASSIGN_OR_RETURN(params.socket, PercentDecode(value, "the socket", redacted));
    } else if (key == "password") {
      TRIB_ASSIGN_OR_RETURN(params.password, PercentDecode(value, "the password", redacted));
    } else if (key == "user") {
      TRIB_ASSIGN_OR_RETURN(params.user, PercentDecode(value, "the user", redacted));
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "DSN '{}': unknown parameter '{}' (known: socket, user, password)",
                       redacted, key);
    }
  }
  return params;
}

}  // namespace

Result<TargetDsn> ParseTargetDsn(std::string_view dsn) {
  TargetDsn target;
  target.redacted = RedactDsn(dsn);
  if (dsn.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "empty DSN: give a PostgreSQL connection string (postgres://... or "
                     "'host=... dbname=...') or a mysql:// URI");
  }
  if (StartsWith(dsn, "mysql://") || StartsWith(dsn, "mariadb://")) {
    target.dialect = Dialect::kMySql;
    TRIB_ASSIGN_OR_RETURN(target.mysql, ParseMySqlUri(dsn, target.redacted));
    return target;
  }
  if (StartsWith(dsn, "postgres://") || StartsWith(dsn, "postgresql://") ||
      (dsn.find("://") == std::string_view::npos && dsn.find('=') != std::string_view::npos)) {
    target.dialect = Dialect::kPostgres;
    target.postgres_conninfo = std::string(dsn);
    return target;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "DSN '{}' is neither PostgreSQL (postgres://..., 'host=... dbname=...') "
                   "nor MySQL/MariaDB (mysql://user@host:port/database)",
                   target.redacted);
}

}  // namespace tributary::datasets
