#include "devserver/internal/config_render.h"

#include <random>
#include <sstream>

namespace tributary::devserver::internal {
namespace {

std::string DoubleQuoteChar(std::string_view value, char quote) {
  std::string out(1, quote);
  for (char c : value) {
    out += c;
    if (c == quote) {
      out += quote;
    }
  }
  out += quote;
  return out;
}

// A my.cnf value: bare when safe, otherwise double-quoted with \ escapes
// (https://mariadb.com/kb/en/configuring-mariadb-with-option-files/#option-file-syntax).
std::string QuoteCnfValue(std::string_view value) {
  bool bare =
      !value.empty() && value.find_first_of(" \t\"'\\#;=") == std::string_view::npos;
  if (bare) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string PercentEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    bool unreserved = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                      (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                      byte == '_' || byte == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string QuotePgConfValue(std::string_view value) {
  return DoubleQuoteChar(value, '\'');
}

std::string RenderPostgresConf(const PostgresServerOptions& options,
                               uint16_t port,
                               const std::filesystem::path& socket_dir) {
  std::ostringstream out;
  out << "# Written by tributary devserver on every start; edits are overwritten.\n";
  out << "listen_addresses = '127.0.0.1'\n";
  out << "port = " << port << "\n";
  out << "unix_socket_directories = " << QuotePgConfValue(socket_dir.string()) << "\n";
  out << "unix_socket_permissions = 0700\n";
  out << "wal_level = logical\n";
  out << "max_replication_slots = " << options.max_replication_slots << "\n";
  out << "max_wal_senders = " << options.max_wal_senders << "\n";
  out << "max_connections = 100\n";
  out << "shared_buffers = '32MB'\n";
  out << "dynamic_shared_memory_type = posix\n";
  out << "logging_collector = off\n";
  out << "log_destination = 'stderr'\n";
  out << "log_line_prefix = '%m [%p] '\n";
  out << "log_timezone = 'UTC'\n";
  out << "timezone = 'UTC'\n";
  const char* durable = options.fsync ? "on" : "off";
  out << "fsync = " << durable << "\n";
  out << "full_page_writes = " << durable << "\n";
  // synchronous_commit stays on: with fsync off it costs nothing, and off would hide
  // committed changes from logical decoding (which reads flushed WAL only) for up to
  // wal_writer_delay and lose them on an immediate shutdown.
  out << "synchronous_commit = on\n";
  for (const auto& [name, value] : options.extra_settings) {
    out << name << " = " << QuotePgConfValue(value) << "\n";
  }
  return out.str();
}

std::string RenderPgHba(bool password_auth) {
  const char* method = password_auth ? "scram-sha-256" : "trust";
  std::ostringstream out;
  out << "# Written by tributary devserver. TYPE DATABASE USER ADDRESS METHOD\n";
  out << "local   all          all                 trust\n";
  out << "local   replication  all                 trust\n";
  out << "host    all          all   127.0.0.1/32  " << method << "\n";
  out << "host    replication  all   127.0.0.1/32  " << method << "\n";
  return out.str();
}

std::string QuoteDsnValue(std::string_view value) {
  bool bare = !value.empty() && value.find_first_of(" \t\n'\\") == std::string_view::npos;
  if (bare) {
    return std::string(value);
  }
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string BuildDsn(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (value.empty()) {
      continue;
    }
    if (!out.empty()) {
      out += ' ';
    }
    out += key;
    out += '=';
    out += QuoteDsnValue(value);
  }
  return out;
}

std::string QuotePgIdentifier(std::string_view name) {
  return DoubleQuoteChar(name, '"');
}

std::string QuotePgLiteral(std::string_view value) {
  return DoubleQuoteChar(value, '\'');
}

std::string QuoteMySqlIdentifier(std::string_view name) {
  return DoubleQuoteChar(name, '`');
}

std::string QuoteMySqlLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string RenderMariaDbConf(const MariaDbServerOptions& options,
                              const MariaDbLayout& layout) {
  std::ostringstream out;
  out << "# Written by tributary devserver on every start; edits are overwritten.\n";
  out << "[mariadbd]\n";
  out << "datadir = " << QuoteCnfValue(layout.data_dir.string()) << "\n";
  out << "socket = " << QuoteCnfValue(layout.socket.string()) << "\n";
  out << "pid-file = " << QuoteCnfValue(layout.pid_file.string()) << "\n";
  out << "log-error = " << QuoteCnfValue(layout.error_log.string()) << "\n";
  out << "bind-address = 127.0.0.1\n";
  out << "port = " << layout.port << "\n";
  out << "skip-name-resolve\n";
  // Change data capture needs full row images with column metadata.
  out << "server_id = " << layout.server_id << "\n";
  out << "log_bin = mariadb-bin\n";
  out << "binlog_format = ROW\n";
  out << "binlog_row_image = FULL\n";
  out << "binlog_row_metadata = FULL\n";
  out << "gtid_strict_mode = " << (options.gtid_strict_mode ? "ON" : "OFF") << "\n";
  out << "sync_binlog = " << (options.fsync ? 1 : 0) << "\n";
  out << "innodb_flush_log_at_trx_commit = " << (options.fsync ? 1 : 2) << "\n";
  out << "character-set-server = utf8mb4\n";
  out << "collation-server = utf8mb4_general_ci\n";
  out << "default-time-zone = '+00:00'\n";
  // Small footprint and fast start: several servers may run at once on a small machine.
  out << "innodb_buffer_pool_size = 32M\n";
  out << "innodb_log_file_size = " << kMariaDbInnodbLogFileSize << "\n";
  out << "innodb_use_native_aio = 0\n";
  out << "performance_schema = OFF\n";
  out << "max_connections = 100\n";
  for (const auto& [name, value] : options.extra_settings) {
    out << name << " = " << QuoteCnfValue(value) << "\n";
  }
  return out.str();
}

std::string FindConfSetting(const std::string& conf, std::string_view name) {
  std::istringstream in(conf);
  std::string line;
  std::string found;
  while (std::getline(in, line)) {
    size_t equals = line.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    auto trim = [](std::string s) {
      size_t begin = s.find_first_not_of(" \t");
      size_t end = s.find_last_not_of(" \t\r");
      return begin == std::string::npos ? std::string()
                                        : s.substr(begin, end - begin + 1);
    };
    if (trim(line.substr(0, equals)) == name) {
      found = trim(line.substr(equals + 1));
    }
  }
  return found;
}

uint32_t RandomServerId() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> distribution(2, 0x7fffffff);
  return distribution(device);
}

std::string BuildMySqlUrl(const std::string& user,
                          const std::string& password,
                          const std::string& host,
                          uint16_t port,
                          const std::string& database) {
  std::string out = "mysql://" + PercentEncode(user);
  if (!password.empty()) {
    out += ":" + PercentEncode(password);
  }
  out += "@" + host + ":" + std::to_string(port) + "/" + PercentEncode(database);
  return out;
}

}  // namespace tributary::devserver::internal
