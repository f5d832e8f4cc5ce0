#include "cli/sql_shell.h"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/value.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"

namespace tributary::cli {

namespace delta = lake::delta;

namespace {

bool StartsWithIgnoreCase(std::string_view text, size_t at, std::string_view word) {
  if (at + word.size() > text.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) {
      return false;
    }
  }
  return true;
}

void SkipSpaces(std::string_view text, size_t& at) {
  while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])) != 0) {
    ++at;
  }
}

// Reads a single-quoted SQL literal at `at` ('' escapes a quote).
Result<std::string> ReadLiteral(std::string_view text, size_t& at) {
  if (at >= text.size() || text[at] != '\'') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "delta_scan: expected a quoted string at offset {}", at);
  }
  std::string out;
  for (++at; at < text.size(); ++at) {
    if (text[at] == '\'') {
      if (at + 1 < text.size() && text[at + 1] == '\'') {
        out.push_back('\'');
        ++at;
        continue;
      }
      ++at;
      return out;
    }
    out.push_back(text[at]);
  }
  return MakeError(ErrorCode::kInvalidArgument, "delta_scan: unterminated string");
}

}  // namespace

Result<std::string> ExpandDeltaScans(std::string_view query, sql::Connection& conn) {
  std::string out;
  size_t at = 0;
  while (at < query.size()) {
    char c = query[at];
    if (c == '\'' || c == '"') {
      // Copy a literal or quoted identifier verbatim.
      size_t end = at + 1;
      while (end < query.size()) {
        if (query[end] == c) {
          if (end + 1 < query.size() && query[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      end = std::min(end + 1, query.size());
      out.append(query.substr(at, end - at));
      at = end;
      continue;
    }
    bool word_start =
        at == 0 || !(std::isalnum(static_cast<unsigned char>(query[at - 1])) ||
                     query[at - 1] == '_');
    if (word_start && StartsWithIgnoreCase(query, at, "delta_scan")) {
      size_t p = at + 10;
      SkipSpaces(query, p);
      if (p < query.size() && query[p] == '(') {
        ++p;
        SkipSpaces(query, p);
        TRIB_ASSIGN_OR_RETURN(std::string path, ReadLiteral(query, p));
        SkipSpaces(query, p);
        delta::SnapshotOptions options;
        if (p < query.size() && query[p] == ',') {
          ++p;
          SkipSpaces(query, p);
          if (StartsWithIgnoreCase(query, p, "version")) {
            p += 7;
            SkipSpaces(query, p);
            if (query.substr(p, 2) != "=>") {
              return MakeError(ErrorCode::kInvalidArgument,
                               "delta_scan('{}'): expected => after version", path);
            }
            p += 2;
            SkipSpaces(query, p);
            size_t start = p;
            while (p < query.size() &&
                   std::isdigit(static_cast<unsigned char>(query[p]))) {
              ++p;
            }
            if (start == p) {
              return MakeError(ErrorCode::kInvalidArgument,
                               "delta_scan('{}'): version must be a number", path);
            }
            options.version = std::stoll(std::string(query.substr(start, p - start)));
          } else if (StartsWithIgnoreCase(query, p, "timestamp")) {
            p += 9;
            SkipSpaces(query, p);
            if (query.substr(p, 2) != "=>") {
              return MakeError(ErrorCode::kInvalidArgument,
                               "delta_scan('{}'): expected => after timestamp", path);
            }
            p += 2;
            SkipSpaces(query, p);
            TRIB_ASSIGN_OR_RETURN(std::string text, ReadLiteral(query, p));
            TRIB_ASSIGN_OR_RETURN(int64_t micros, core::ParseTimestamp(text));
            options.timestamp_ms = micros / 1000;
          } else {
            return MakeError(
                ErrorCode::kInvalidArgument,
                "delta_scan('{}'): expected version => N or timestamp => '...'", path);
          }
          SkipSpaces(query, p);
        }
        if (p >= query.size() || query[p] != ')') {
          return MakeError(ErrorCode::kInvalidArgument, "delta_scan('{}'): expected ')'",
                           path);
        }
        ++p;
        options.connection = &conn;
        auto snapshot = delta::Snapshot::Load(path, options);
        if (!snapshot.ok()) {
          return std::move(snapshot).status().AddContext(
              fmt::format("delta_scan('{}')", path));
        }
        TRIB_ASSIGN_OR_RETURN(std::string scan, delta::BuildScanQuery(**snapshot, conn));
        out += "(" + scan + ")";
        at = p;
        continue;
      }
    }
    out.push_back(c);
    ++at;
  }
  return out;
}

namespace {

bool IsNumeric(sql::ColumnType type) {
  switch (type) {
    case sql::ColumnType::kTinyInt:
    case sql::ColumnType::kSmallInt:
    case sql::ColumnType::kInteger:
    case sql::ColumnType::kBigInt:
    case sql::ColumnType::kHugeInt:
    case sql::ColumnType::kUTinyInt:
    case sql::ColumnType::kUSmallInt:
    case sql::ColumnType::kUInteger:
    case sql::ColumnType::kUBigInt:
    case sql::ColumnType::kFloat:
    case sql::ColumnType::kDouble:
    case sql::ColumnType::kDecimal:
      return true;
    default:
      return false;
  }
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) {
    return text;
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') {
      out += "\"\"";
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// Display width in code points (UTF-8 continuation bytes do not count).
size_t Width(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

}  // namespace

void PrintResult(const sql::QueryResult& result,
                 SqlOutputFormat format,
                 std::ostream& out) {
  const size_t columns = result.column_count();
  const size_t rows = result.row_count();
  auto cell = [&](size_t column, size_t row) -> std::string {
    return result.IsNull(column, row) ? std::string("NULL")
                                      : result.GetString(column, row);
  };
  switch (format) {
    case SqlOutputFormat::kCsv: {
      for (size_t column = 0; column < columns; ++column) {
        out << (column == 0 ? "" : ",") << CsvField(result.column_name(column));
      }
      out << "\n";
      for (size_t row = 0; row < rows; ++row) {
        for (size_t column = 0; column < columns; ++column) {
          out << (column == 0 ? "" : ",")
              << (result.IsNull(column, row) ? ""
                                             : CsvField(result.GetString(column, row)));
        }
        out << "\n";
      }
      return;
    }
    case SqlOutputFormat::kJsonl: {
      for (size_t row = 0; row < rows; ++row) {
        nlohmann::ordered_json object = nlohmann::ordered_json::object();
        for (size_t column = 0; column < columns; ++column) {
          const std::string& name = result.column_name(column);
          if (result.IsNull(column, row)) {
            object[name] = nullptr;
          } else if (result.column_type(column) == sql::ColumnType::kBoolean) {
            object[name] = result.GetBool(column, row);
          } else if (IsNumeric(result.column_type(column))) {
            std::string text = result.GetString(column, row);
            try {
              object[name] = nlohmann::ordered_json::parse(text);
            } catch (const nlohmann::json::exception&) {
              object[name] = text;
            }
          } else {
            object[name] = result.GetString(column, row);
          }
        }
        out << object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
      }
      return;
    }
    case SqlOutputFormat::kTable: {
      if (columns == 0) {
        return;
      }
      std::vector<size_t> widths(columns);
      std::vector<bool> right(columns);
      for (size_t column = 0; column < columns; ++column) {
        widths[column] = Width(result.column_name(column));
        right[column] = IsNumeric(result.column_type(column));
        for (size_t row = 0; row < rows; ++row) {
          widths[column] = std::max(widths[column], Width(cell(column, row)));
        }
      }
      auto line = [&](auto get) {
        for (size_t column = 0; column < columns; ++column) {
          std::string text = get(column);
          size_t pad = widths[column] - Width(text);
          out << (column == 0 ? "" : " | ");
          if (right[column]) {
            out << std::string(pad, ' ') << text;
          } else {
            out << text << (column + 1 == columns ? "" : std::string(pad, ' '));
          }
        }
        out << "\n";
      };
      line([&](size_t column) { return result.column_name(column); });
      for (size_t column = 0; column < columns; ++column) {
        out << (column == 0 ? "" : "-+-") << std::string(widths[column], '-');
      }
      out << "\n";
      for (size_t row = 0; row < rows; ++row) {
        line([&](size_t column) { return cell(column, row); });
      }
      out << "(" << rows << (rows == 1 ? " row)" : " rows)") << "\n";
      return;
    }
  }
}

Status RunSqlQuery(sql::Connection& conn,
                   std::string_view query,
                   SqlOutputFormat format,
                   std::ostream& out) {
  TRIB_ASSIGN_OR_RETURN(std::string expanded, ExpandDeltaScans(query, conn));
  TRIB_ASSIGN_OR_RETURN(auto result, conn.Query(expanded));
  PrintResult(result, format, out);
  return OkStatus();
}

int RunSqlPrompt(sql::Connection& conn,
                 std::istream& in,
                 std::ostream& out,
                 std::ostream& err,
                 SqlOutputFormat format,
                 bool prompt) {
  int failures = 0;
  std::string statement;
  std::string line;
  if (prompt) {
    out << "tributary> " << std::flush;
  }
  while (std::getline(in, line)) {
    statement += line;
    statement += "\n";
    std::string trimmed = line;
    while (!trimmed.empty() &&
           std::isspace(static_cast<unsigned char>(trimmed.back())) != 0) {
      trimmed.pop_back();
    }
    if (!trimmed.empty() && trimmed.back() == ';') {
      auto status = RunSqlQuery(conn, statement, format, out);
      if (!status.ok()) {
        ++failures;
        err << "error: " << status.error().ToString() << "\n";
      }
      statement.clear();
    }
    if (prompt) {
      out << (statement.empty() ? "tributary> " : "       ...> ") << std::flush;
    }
  }
  std::string rest = statement;
  rest.erase(
      std::remove_if(rest.begin(), rest.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
      rest.end());
  if (!rest.empty()) {
    auto status = RunSqlQuery(conn, statement, format, out);
    if (!status.ok()) {
      ++failures;
      err << "error: " << status.error().ToString() << "\n";
    }
  }
  return failures;
}

}  // namespace tributary::cli
