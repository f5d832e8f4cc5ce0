#include "datasets/csv.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace tributary::datasets {
namespace {

/// Returns the byte offset of the first invalid UTF-8 sequence in `text`, or npos.
/// Rejects overlong forms, surrogates and code points above U+10FFFF (RFC 3629 §4).
size_t FindInvalidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x80) {
      ++pos;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1Fu;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0Fu;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07u;
    } else {
      return pos;
    }
    if (pos + length > text.size()) {
      return pos;
    }
    for (size_t i = 1; i < length; ++i) {
      const auto next = static_cast<unsigned char>(text[pos + i]);
      if ((next & 0xC0) != 0x80) {
        return pos;
      }
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    const bool overlong = (length == 2 && code_point < 0x80) ||
                          (length == 3 && code_point < 0x800) ||
                          (length == 4 && code_point < 0x10000);
    if (overlong || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return pos;
    }
    pos += length;
  }
  return std::string_view::npos;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The single-pass RFC 4180 state machine. Kept as a class so the error helpers can name
/// the source, line and field without passing them around.
class CsvParser {
 public:
  CsvParser(std::string_view text, std::string_view source_name)
      : text_(text), source_(source_name) {}

  Result<CsvDocument> Parse() {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") {
      pos_ = 3;
    }
    CsvDocument document;
    bool have_header = false;
    while (pos_ < text_.size()) {
      const int64_t record_line = line_;
      Row record;
      TRIB_ASSIGN_OR_RETURN(bool is_empty_line, ParseRecord(record));
      if (is_empty_line) {
        continue;
      }
      if (!have_header) {
        TRIB_RETURN_IF_ERROR(SetHeader(record, record_line, document));
        have_header = true;
        continue;
      }
      if (record.size() != document.header.size()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{} line {}: ragged row: expected {} fields (as in the header), "
                         "found {}",
                         source_, record_line, document.header.size(), record.size());
      }
      document.rows.push_back(std::move(record));
      document.row_lines.push_back(record_line);
    }
    if (!have_header) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: empty CSV file: expected a header row", source_);
    }
    return document;
  }

 private:
  Status SetHeader(Row& record, int64_t record_line, CsvDocument& document) {
    std::set<std::string> seen;
    for (size_t field_idx = 0; field_idx < record.size(); ++field_idx) {
      const std::string name = record[field_idx].value_or("");
      if (name.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{} line {}: header field {} is empty: every column needs a name",
                         source_, record_line, field_idx + 1);
      }
      if (!seen.insert(LowerAscii(name)).second) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{} line {}: header field {} repeats the column name '{}'",
                         source_, record_line, field_idx + 1, name);
      }
      document.header.push_back(name);
    }
    return OkStatus();
  }

  /// Parses one record starting at pos_, leaving pos_ after its line break. Returns true
  /// for an empty line (no record).
  Result<bool> ParseRecord(Row& record) {
    if (AtLineBreak()) {
      SkipLineBreak();
      return true;
    }
    while (true) {
      TRIB_ASSIGN_OR_RETURN(auto field, ParseField(record.size() + 1));
      record.push_back(std::move(field));
      if (pos_ >= text_.size()) {
        return false;
      }
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      // ParseField stops only at ',', a line break or the end.
      SkipLineBreak();
      return false;
    }
  }

  bool AtLineBreak() const {
    return pos_ < text_.size() &&
           (text_[pos_] == '\n' ||
            (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'));
  }

  void SkipLineBreak() {
    if (text_[pos_] == '\r') {
      ++pos_;
    }
    ++pos_;
    ++line_;
  }

  Result<std::optional<std::string>> ParseField(size_t field_number) {
    const int64_t field_line = line_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      std::string value;
      while (true) {
        if (pos_ >= text_.size()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "{} line {}: field {}: quoted field is never closed (missing "
                           "'\"' before the end of the file)",
                           source_, field_line, field_number);
        }
        const char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            value.push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (c == '\n') {
          ++line_;
        }
        value.push_back(c);
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{} line {}: field {}: unexpected character '{}' after the closing "
                         "quote (a quote inside a quoted field must be doubled)",
                         source_, line_, field_number, text_[pos_]);
      }
      TRIB_RETURN_IF_ERROR(CheckValue(value, field_line, field_number));
      return std::optional<std::string>(std::move(value));
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && !AtLineBreak()) {
      if (text_[pos_] == '"') {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{} line {}: field {}: '\"' inside an unquoted field (quote the "
                         "whole field and double the inner quotes)",
                         source_, line_, field_number);
      }
      ++pos_;
    }
    if (pos_ == start) {
      return std::optional<std::string>();
    }
    std::string value(text_.substr(start, pos_ - start));
    TRIB_RETURN_IF_ERROR(CheckValue(value, field_line, field_number));
    return std::optional<std::string>(std::move(value));
  }

  Status CheckValue(std::string_view value, int64_t field_line, size_t field_number) {
    if (value.find('\0') != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} line {}: field {}: NUL byte in value (databases cannot store it "
                       "in text)",
                       source_, field_line, field_number);
    }
    const size_t bad = FindInvalidUtf8(value);
    if (bad != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} line {}: field {}: invalid UTF-8 (byte 0x{:02X} at offset {} of "
                       "the value); convert the file to UTF-8",
                       source_, field_line, field_number,
                       static_cast<unsigned>(static_cast<unsigned char>(value[bad])), bad);
    }
    return OkStatus();
  }

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

}  // namespace

Result<CsvDocument> ParseCsv(std::string_view text, std::string_view source_name) {
  return CsvParser(text, source_name).Parse();
}

Result<CsvDocument> ReadCsvFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return MakeError(ErrorCode::kNotFound, "CSV file '{}' does not exist", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kIo, "cannot open CSV file '{}'", path.string());
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return MakeError(ErrorCode::kIo, "error reading CSV file '{}'", path.string());
  }
  return ParseCsv(buffer.str(), path.filename().string());
}

std::string FormatCsvField(const std::optional<std::string>& value) {
  if (!value) {
    return {};
  }
  if (!value->empty() && value->find_first_of(",\"\r\n") == std::string::npos) {
    return *value;
  }
  std::string out = "\"";
  for (char c : *value) {
    if (c == '"') {
      out.push_back('"');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string FormatCsv(const TableData& table) {
  std::string out;
  for (size_t column_idx = 0; column_idx < table.spec.columns.size(); ++column_idx) {
    if (column_idx > 0) {
      out.push_back(',');
    }
    out += FormatCsvField(table.spec.columns[column_idx].name);
  }
  out.push_back('\n');
  for (const Row& row : table.rows) {
    for (size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
      if (column_idx > 0) {
        out.push_back(',');
      }
      out += FormatCsvField(row[column_idx]);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace tributary::datasets
