#include "core/redact.h"

#include <array>
#include <cctype>

namespace tributary {
namespace {

char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' ||
         c == '-';
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '.' ||
         c == '-';
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = Lower(c);
  }
  return out;
}

// The length of a quoted value starting at text[0] (a ' or "), closing quote included;
// backslash escapes the next character (libpq and JSON both do). Unterminated: all of it.
size_t QuotedLength(std::string_view text) {
  const char quote = text[0];
  for (size_t pos = 1; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == quote) {
      return pos + 1;
    }
  }
  return text.size();
}

// Appends `uri` (one URI, no surrounding text) with the password of its userinfo
// replaced. The userinfo ends at the last '@' before the query, so a raw '@' or '/' in a
// password that should have been percent-encoded is still covered.
void AppendRedactedUriAuthority(std::string_view uri, std::string& out) {
  const size_t scheme_end = uri.find("://");
  const size_t authority_begin = scheme_end + 3;
  size_t query = uri.find('?', authority_begin);
  if (query == std::string_view::npos) {
    query = uri.size();
  }
  const size_t at = uri.substr(0, query).rfind('@');
  if (at == std::string_view::npos || at < authority_begin) {
    out.append(uri);
    return;
  }
  const size_t colon = uri.find(':', authority_begin);
  if (colon == std::string_view::npos || colon > at) {
    out.append(uri);
    return;
  }
  out.append(uri.substr(0, colon + 1));
  out.append(kRedacted);
  out.append(uri.substr(at));
}

// Redacts sensitive query parameters (`?sslpassword=x&password=y`) of a URI in place.
std::string RedactUriQuery(const std::string& uri) {
  const size_t query = uri.find('?');
  if (query == std::string::npos) {
    return uri;
  }
  std::string out = uri.substr(0, query + 1);
  size_t pos = query + 1;
  while (pos <= uri.size()) {
    size_t end = uri.find_first_of("&#", pos);
    if (end == std::string::npos) {
      end = uri.size();
    }
    std::string_view param(uri.data() + pos, end - pos);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && IsSensitiveKey(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out.append(kRedacted);
    } else {
      out.append(param);
    }
    if (end == uri.size()) {
      break;
    }
    out.push_back(uri[end]);
    if (uri[end] == '#') {
      out.append(uri.substr(end + 1));
      break;
    }
    pos = end + 1;
  }
  return out;
}

std::string RedactUri(std::string_view uri) {
  std::string out;
  AppendRedactedUriAuthority(uri, out);
  return RedactUriQuery(out);
}

// libpq keyword/value: `key = value` pairs separated by whitespace, values optionally
// single-quoted with backslash escapes (libpq "Connection Strings", 34.1.1.1).
std::string RedactKeywordValue(std::string_view dsn) {
  std::string out;
  size_t pos = 0;
  while (pos < dsn.size()) {
    // Copy whitespace.
    while (pos < dsn.size() && IsSpace(dsn[pos])) {
      out.push_back(dsn[pos++]);
    }
    if (pos >= dsn.size()) {
      break;
    }
    const size_t key_begin = pos;
    while (pos < dsn.size() && dsn[pos] != '=' && !IsSpace(dsn[pos])) {
      ++pos;
    }
    const std::string_view key = dsn.substr(key_begin, pos - key_begin);
    // Whitespace and '=' between key and value.
    while (pos < dsn.size() && IsSpace(dsn[pos])) {
      ++pos;
    }
    if (pos >= dsn.size() || dsn[pos] != '=') {
      // Not keyword/value syntax: copy what we read and let the caller's fallback decide.
      out.append(dsn.substr(key_begin, pos - key_begin));
      continue;
    }
    ++pos;
    while (pos < dsn.size() && IsSpace(dsn[pos])) {
      ++pos;
    }
    out.append(dsn.substr(key_begin, pos - key_begin));
    size_t value_length = 0;
    if (pos < dsn.size() && dsn[pos] == '\'') {
      value_length = QuotedLength(dsn.substr(pos));
    } else {
      while (pos + value_length < dsn.size() && !IsSpace(dsn[pos + value_length])) {
        ++value_length;
      }
    }
    if (IsSensitiveKey(key)) {
      out.append(kRedacted);
    } else {
      out.append(dsn.substr(pos, value_length));
    }
    pos += value_length;
  }
  return out;
}

// `Server=h;Uid=u;Pwd=secret;` (ODBC/JDBC style).
std::string RedactSemicolonPairs(std::string_view dsn) {
  if (dsn.find(';') == std::string_view::npos) {
    return std::string(dsn);
  }
  std::string out;
  size_t pos = 0;
  while (pos <= dsn.size()) {
    size_t end = dsn.find(';', pos);
    if (end == std::string_view::npos) {
      end = dsn.size();
    }
    const std::string_view pair = dsn.substr(pos, end - pos);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && IsSensitiveKey(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out.append(kRedacted);
    } else {
      out.append(pair);
    }
    if (end == dsn.size()) {
      break;
    }
    out.push_back(';');
    pos = end + 1;
  }
  return out;
}

bool IsValueTerminator(char c) {
  return IsSpace(c) || c == '&' || c == ';' || c == ',' || c == ')' || c == ']' ||
         c == '}' || c == '"' || c == '\'';
}

}  // namespace

bool IsSensitiveKey(std::string_view key) {
  std::string lower = ToLower(key);
  // Trim quotes and spaces a caller may have left around the key.
  while (!lower.empty() &&
         (lower.back() == '"' || lower.back() == '\'' || IsSpace(lower.back()))) {
    lower.pop_back();
  }
  size_t first = 0;
  while (first < lower.size() &&
         (lower[first] == '"' || lower[first] == '\'' || IsSpace(lower[first]))) {
    ++first;
  }
  const std::string_view name = std::string_view(lower).substr(first);
  static constexpr std::array<std::string_view, 7> kSubstrings = {
      "password", "passwd", "secret", "token", "credential", "api_key", "apikey"};
  for (std::string_view part : kSubstrings) {
    if (name.find(part) != std::string_view::npos) {
      return true;
    }
  }
  return name == "pwd" || name == "pass" || name == "sasl.jaas.config" ||
         name == "ssl.key.pem" || name == "sasl.oauthbearer.config";
}

std::string RedactDsn(std::string_view dsn) {
  const size_t scheme_end = dsn.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0) {
    bool is_uri = true;
    for (size_t idx = 0; idx < scheme_end; ++idx) {
      is_uri = is_uri && IsSchemeChar(dsn[idx]);
    }
    if (is_uri) {
      return RedactUri(dsn);
    }
  }
  // Keyword/value first (it knows libpq quoting), then `;`-separated pairs, then the
  // free-text scan as a safety net; each pass leaves what it does not understand alone.
  return RedactSecrets(RedactSemicolonPairs(RedactKeywordValue(dsn)));
}

std::string RedactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    // A URI: "scheme://" with the scheme directly before the "://".
    if (c == ':' && text.substr(pos, 3) == "://") {
      size_t scheme_begin = out.size();
      while (scheme_begin > 0 && IsSchemeChar(out[scheme_begin - 1])) {
        --scheme_begin;
      }
      if (scheme_begin < out.size()) {
        size_t end = pos + 3;
        while (end < text.size() && !IsSpace(text[end]) && text[end] != '"' &&
               text[end] != '\'' && text[end] != '>' && text[end] != '<') {
          ++end;
        }
        const std::string uri =
            out.substr(scheme_begin) + std::string(text.substr(pos, end - pos));
        out.resize(scheme_begin);
        out.append(RedactUri(uri));
        pos = end;
        continue;
      }
    }
    if (c == '=' || c == ':') {
      // The key is the run of key characters before the separator, possibly closed by a
      // quote ("password": ...) and followed by spaces (password = ...).
      size_t key_end = out.size();
      while (key_end > 0 && out[key_end - 1] == ' ') {
        --key_end;
      }
      if (key_end > 0 && (out[key_end - 1] == '"' || out[key_end - 1] == '\'')) {
        --key_end;
      }
      size_t key_begin = key_end;
      while (key_begin > 0 && IsKeyChar(out[key_begin - 1])) {
        --key_begin;
      }
      if (key_begin < key_end &&
          IsSensitiveKey(std::string_view(out).substr(key_begin, key_end - key_begin))) {
        out.push_back(c);
        ++pos;
        while (pos < text.size() && text[pos] == ' ') {
          out.push_back(text[pos++]);
        }
        if (pos < text.size() && (text[pos] == '"' || text[pos] == '\'')) {
          const char quote = text[pos];
          const size_t length = QuotedLength(text.substr(pos));
          out.push_back(quote);
          out.append(kRedacted);
          if (length >= 2 && text[pos + length - 1] == quote) {
            out.push_back(quote);
          }
          pos += length;
        } else {
          size_t end = pos;
          while (end < text.size() && !IsValueTerminator(text[end])) {
            ++end;
          }
          if (end > pos) {
            out.append(kRedacted);
          }
          pos = end;
        }
        continue;
      }
    }
    out.push_back(c);
    ++pos;
  }
  return out;
}

}  // namespace tributary
