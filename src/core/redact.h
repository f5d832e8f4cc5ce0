#pragma once

#include <string>
#include <string_view>

namespace tributary {

/// What every redacted secret is replaced with.
inline constexpr std::string_view kRedacted = "***";

/// True when a configuration or connection key names a secret: any key containing
/// "password", "passwd", "secret", "token", "credential", "api_key"/"apikey", plus "pwd",
/// "sasl.jaas.config" and "ssl.key.pem". Case-insensitive. Used for libpq keywords,
/// URI query parameters and librdkafka properties (sasl.password, ssl.key.password).
bool IsSensitiveKey(std::string_view key);

/// Returns a connection string safe to print. Understands:
///  - libpq keyword/value strings: `host=h password=secret` -> `host=h password=***`
///    (single-quoted values with backslash escapes included);
///  - URIs of any scheme: `postgres://user:secret@host/db?sslpassword=x`
///    -> `postgres://user:***@host/db?sslpassword=***` (mysql://, mariadb://, ... alike);
///  - `key=value;key=value` strings (ODBC/JDBC style).
/// Everything that is not a secret is kept byte for byte. Never fails: text it does not
/// understand is passed through RedactSecrets().
std::string RedactDsn(std::string_view dsn);

/// Redacts secrets anywhere in free text (log lines, error messages): URI passwords
/// (`scheme://user:pass@`), `key=value`, `key: value` and JSON `"key": "value"` pairs
/// whose key IsSensitiveKey(). Text without secrets is returned unchanged.
std::string RedactSecrets(std::string_view text);

}  // namespace tributary
