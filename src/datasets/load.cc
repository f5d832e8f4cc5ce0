#include "datasets/load.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <system_error>

#include <fmt/format.h>

#include "datasets/csv.h"
#include "datasets/dsn.h"
#include "datasets/generate.h"
#include "datasets/infer.h"
#include "datasets/internal/loader.h"

namespace tributary::datasets {

Status LoadOptions::Validate() const {
  if (mysql_batch_rows == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "mysql_batch_rows must be at least 1");
  }
  return OkStatus();
}

Result<LoadReport> LoadTables(const std::vector<TableData>& tables, std::string_view dsn,
                              const LoadOptions& options) {
  TRIB_RETURN_IF_ERROR(options.Validate());
  TRIB_ASSIGN_OR_RETURN(TargetDsn target, ParseTargetDsn(dsn));
  std::unique_ptr<internal::TableLoader> loader;
  if (target.dialect == Dialect::kPostgres) {
    TRIB_ASSIGN_OR_RETURN(loader, internal::ConnectPostgres(target));
  } else {
    TRIB_ASSIGN_OR_RETURN(loader, internal::ConnectMySql(target));
  }
  // Check or clear every target first, so a refused load writes nothing.
  if (options.replace_existing) {
    for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
      TRIB_RETURN_IF_ERROR(loader->DropTable(it->spec.name));
    }
  } else {
    for (const TableData& table : tables) {
      TRIB_ASSIGN_OR_RETURN(bool exists, loader->TableExists(table.spec.name));
      if (exists) {
        return MakeError(ErrorCode::kAlreadyExists,
                         "table '{}' already exists in {}: drop it first, or load into another "
                         "database (nothing was loaded)",
                         table.spec.name, target.redacted);
      }
    }
  }
  LoadReport report;
  report.target = target.redacted;
  for (const TableData& table : tables) {
    const auto start = std::chrono::steady_clock::now();
    TRIB_RETURN_IF_ERROR(loader->CreateAndFill(table, options));
    TableLoadReport table_report;
    table_report.table = table.spec.name;
    table_report.source = table.source.empty() ? "generated" : table.source;
    table_report.rows = static_cast<int64_t>(table.rows.size());
    table_report.columns = table.spec.columns;
    table_report.primary_key = table.spec.primary_key;
    table_report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.tables.push_back(std::move(table_report));
  }
  return report;
}

Result<LoadReport> LoadDataset(std::string_view name, int scale, std::string_view dsn,
                               const LoadOptions& options) {
  TRIB_ASSIGN_OR_RETURN(std::vector<TableData> tables, GenerateDataset(name, scale));
  return LoadTables(tables, dsn, options)
      .WithContext(fmt::format("loading dataset '{}' at scale {}", name, scale));
}

Result<std::vector<TableData>> ReadCsvDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kNotFound, "CSV directory '{}' does not exist", dir.string());
  }
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) {
      continue;
    }
    std::string extension = it->path().extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension == ".csv") {
      files.push_back(it->path());
    }
  }
  if (ec) {
    return MakeError(ErrorCode::kIo, "listing CSV directory '{}': {}", dir.string(),
                     ec.message());
  }
  if (files.empty()) {
    return MakeError(ErrorCode::kNotFound, "CSV directory '{}' holds no *.csv files",
                     dir.string());
  }
  std::sort(files.begin(), files.end());
  std::vector<TableData> tables;
  for (const auto& file : files) {
    TRIB_ASSIGN_OR_RETURN(CsvDocument document, ReadCsvFile(file));
    tables.push_back(
        TableFromCsv(std::move(document), file.stem().string(), file.filename().string()));
  }
  return tables;
}

Result<LoadReport> LoadCsvDirectory(const std::filesystem::path& dir, std::string_view dsn,
                                    const LoadOptions& options) {
  TRIB_ASSIGN_OR_RETURN(std::vector<TableData> tables, ReadCsvDirectory(dir));
  return LoadTables(tables, dsn, options)
      .WithContext(fmt::format("loading CSV directory '{}'", dir.string()));
}

}  // namespace tributary::datasets
