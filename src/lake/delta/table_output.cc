#include "lake/delta/table_output.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/time_travel.h"
#include "sql/database.h"

namespace tributary::lake::delta {

namespace {

constexpr size_t kMaxCellWidth = 60;

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    return value;
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  return out + "\"";
}

// Display width of UTF-8 text (code points; good enough for aligned tables).
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

std::string Truncate(const std::string& text) {
  if (DisplayWidth(text) <= kMaxCellWidth) {
    return text;
  }
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (width + 1 >= kMaxCellWidth) {
        break;
      }
      ++width;
    }
    out += text[i];
  }
  return out + "…";
}

std::string CleanCell(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  return Truncate(text);
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows,
                std::ostream& out) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = DisplayWidth(header[c]);
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    out << "|";
    for (size_t c = 0; c < cells.size(); ++c) {
      out << " " << cells[c] << std::string(widths[c] - DisplayWidth(cells[c]), ' ')
          << " |";
    }
    out << "\n";
  };
  auto print_rule = [&]() {
    out << "+";
    for (size_t width : widths) {
      out << std::string(width + 2, '-') << "+";
    }
    out << "\n";
  };
  print_rule();
  print_row(header);
  print_rule();
  for (const auto& row : rows) {
    print_row(row);
  }
  print_rule();
  out << "(" << rows.size() << (rows.size() == 1 ? " row)" : " rows)") << "\n";
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  if (text == "table") {
    return OutputFormat::kTable;
  }
  if (text == "csv") {
    return OutputFormat::kCsv;
  }
  if (text == "jsonl") {
    return OutputFormat::kJsonl;
  }
  if (text == "parquet") {
    return OutputFormat::kParquet;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown output format '{}': use table, csv, jsonl or parquet", text);
}

Status RunScanCommand(const std::filesystem::path& table_root,
                      const ScanCommandOptions& options,
                      std::ostream& out) {
  if (options.version && options.timestamp) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "give --version or --timestamp, not both");
  }
  if (options.format == OutputFormat::kParquet && options.output_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "parquet output needs an output file");
  }
  TRIB_ASSIGN_OR_RETURN(auto conn, sql::Database::OpenInMemoryConnection());
  // Render TIMESTAMPTZ values (and write CSV/JSON) in UTC, whatever the machine's zone.
  TRIB_RETURN_IF_ERROR(conn->Execute("SET TimeZone = 'UTC'"));
  SnapshotOptions snapshot_options;
  snapshot_options.connection = conn.get();
  snapshot_options.version = options.version;
  if (options.timestamp) {
    TRIB_ASSIGN_OR_RETURN(snapshot_options.timestamp_ms,
                          ParseTimestamp(*options.timestamp));
  }
  TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(table_root, snapshot_options));
  TRIB_ASSIGN_OR_RETURN(std::string query, BuildScanQuery(*snapshot, *conn));
  if (options.limit) {
    query = fmt::format("SELECT * FROM ({}) LIMIT {}", query, *options.limit);
  }

  if (!options.output_file.empty()) {
    std::string format;
    switch (options.format) {
      case OutputFormat::kParquet:
        format = "FORMAT parquet";
        break;
      case OutputFormat::kCsv:
        format = "FORMAT csv, HEADER true";
        break;
      case OutputFormat::kJsonl:
        format = "FORMAT json";
        break;
      case OutputFormat::kTable:
        break;
    }
    if (!format.empty()) {
      auto copied = conn->Query(fmt::format(
          "COPY ({}) TO {} ({})", query, sql::QuoteLiteral(options.output_file), format));
      if (!copied.ok()) {
        return std::move(copied).status().AddContext(
            fmt::format("writing '{}'", options.output_file));
      }
      int64_t written = copied->row_count() > 0 && copied->column_count() > 0
                            ? copied->GetInt64(0, 0)
                            : copied->rows_changed();
      out << fmt::format("wrote {} rows of version {} to {}\n", written,
                         snapshot->version(), options.output_file);
      return OkStatus();
    }
  }

  std::ofstream file;
  std::ostream* sink = &out;
  if (!options.output_file.empty()) {
    file.open(options.output_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      return MakeError(ErrorCode::kIo, "cannot open '{}' for writing",
                       options.output_file);
    }
    sink = &file;
  }
  if (options.format == OutputFormat::kJsonl) {
    TRIB_ASSIGN_OR_RETURN(
        auto rows, conn->Query(fmt::format("SELECT CAST(to_json(t) AS VARCHAR) FROM "
                                           "({}) AS t",
                                           query)));
    for (size_t row = 0; row < rows.row_count(); ++row) {
      *sink << rows.GetString(0, row) << "\n";
    }
  } else {
    TRIB_ASSIGN_OR_RETURN(auto rows, conn->Query(query));
    std::vector<std::string> header;
    for (size_t c = 0; c < rows.column_count(); ++c) {
      header.push_back(rows.column_name(c));
    }
    if (options.format == OutputFormat::kCsv) {
      for (size_t c = 0; c < header.size(); ++c) {
        *sink << (c > 0 ? "," : "") << CsvField(header[c]);
      }
      *sink << "\n";
      for (size_t row = 0; row < rows.row_count(); ++row) {
        for (size_t c = 0; c < rows.column_count(); ++c) {
          *sink << (c > 0 ? "," : "")
                << (rows.IsNull(c, row) ? "" : CsvField(rows.GetString(c, row)));
        }
        *sink << "\n";
      }
    } else {
      std::vector<std::vector<std::string>> cells;
      cells.reserve(rows.row_count());
      for (size_t row = 0; row < rows.row_count(); ++row) {
        std::vector<std::string> line;
        for (size_t c = 0; c < rows.column_count(); ++c) {
          line.push_back(rows.IsNull(c, row) ? "NULL"
                                             : CleanCell(rows.GetString(c, row)));
        }
        cells.push_back(std::move(line));
      }
      PrintTable(header, cells, *sink);
    }
  }
  if (file.is_open()) {
    file.close();
    if (!file) {
      return MakeError(ErrorCode::kIo, "cannot write '{}'", options.output_file);
    }
  }
  return OkStatus();
}

Status RunHistoryCommand(const std::filesystem::path& table_root,
                         const HistoryCommandOptions& options,
                         std::ostream& out) {
  if (options.format != OutputFormat::kTable && options.format != OutputFormat::kJsonl) {
    return MakeError(ErrorCode::kInvalidArgument, "history prints table or jsonl only");
  }
  TRIB_ASSIGN_OR_RETURN(auto history, ReadHistory(table_root, options.limit));
  auto map_text = [](const std::map<std::string, std::string>& map) {
    std::string text;
    for (const auto& [k, v] : map) {
      text += (text.empty() ? "" : ", ") + k + "=" + v;
    }
    return text;
  };
  if (options.format == OutputFormat::kJsonl) {
    for (const auto& entry : history) {
      nlohmann::json line = {{"version", entry.version},
                             {"timestamp", FormatTimestampMs(entry.timestamp_ms)},
                             {"operation", nullptr},
                             {"operationParameters", nlohmann::json::object()},
                             {"operationMetrics", nlohmann::json::object()},
                             {"numAddedFiles", entry.num_add},
                             {"numRemovedFiles", entry.num_remove}};
      if (entry.commit_info) {
        if (entry.commit_info->operation) {
          line["operation"] = *entry.commit_info->operation;
        }
        for (const auto& [k, v] : entry.commit_info->operation_parameters) {
          line["operationParameters"][k] = v;
        }
        for (const auto& [k, v] : entry.commit_info->operation_metrics) {
          line["operationMetrics"][k] = v;
        }
      }
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    return OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : history) {
    std::string operation;
    std::string parameters;
    std::string metrics;
    if (entry.commit_info) {
      operation = entry.commit_info->operation.value_or("");
      parameters = map_text(entry.commit_info->operation_parameters);
      metrics = map_text(entry.commit_info->operation_metrics);
    }
    rows.push_back({std::to_string(entry.version), FormatTimestampMs(entry.timestamp_ms),
                    CleanCell(operation), CleanCell(parameters), CleanCell(metrics)});
  }
  PrintTable({"version", "timestamp", "operation", "parameters", "metrics"}, rows, out);
  return OkStatus();
}

}  // namespace tributary::lake::delta
