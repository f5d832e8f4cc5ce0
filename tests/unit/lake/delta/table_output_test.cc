#include "lake/delta/table_output.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

fs::path Golden(const std::string& table) {
  return fs::path(TRIB_SHARED_DIR) / "golden" / "delta" / table;
}

TEST(TableOutputTest, ScanAsTableCsvAndJsonl) {
  ScanCommandOptions options;
  options.version = 1;
  std::ostringstream table;
  auto status = RunScanCommand(Golden("cdc_ict_table"), options, table);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_NE(table.str().find("| name  | birthyear | age |"), std::string::npos)
      << table.str();
  EXPECT_NE(table.str().find("(4 rows)"), std::string::npos) << table.str();

  options.format = OutputFormat::kCsv;
  options.version.reset();
  std::ostringstream csv;
  ASSERT_TRUE(RunScanCommand(Golden("cdc_ict_table"), options, csv).ok());
  EXPECT_EQ(csv.str().substr(0, csv.str().find('\n')), "name,birthyear,age");
  EXPECT_NE(csv.str().find("Kate,1995,37\n"), std::string::npos) << csv.str();

  options.format = OutputFormat::kJsonl;
  options.limit = 1;
  std::ostringstream jsonl;
  ASSERT_TRUE(RunScanCommand(Golden("with-short-dv"), options, jsonl).ok());
  std::string line = jsonl.str();
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_NE(line.find("\"timestamp\":\"2023-05-31 18:58:33.633+00\""), std::string::npos)
      << line;
}

TEST(TableOutputTest, ScanToParquetKeepsTypes) {
  testing::TempDir dir("table-output");
  ScanCommandOptions options;
  options.format = OutputFormat::kParquet;
  std::ostringstream out;
  auto refused = RunScanCommand(Golden("type-widening"), options, out);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  options.output_file = (dir.path() / "out.parquet").string();
  auto status = RunScanCommand(Golden("type-widening"), options, out);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_NE(out.str().find("wrote 2 rows of version 2"), std::string::npos) << out.str();
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto described =
      (*conn)->Query("DESCRIBE SELECT long_decimal, date_timestamp_ntz FROM " +
                     sql::QuoteLiteral(options.output_file));
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->GetString(1, 0), "DECIMAL(21,1)");
  EXPECT_EQ(described->GetString(1, 1), "TIMESTAMP");
}

TEST(TableOutputTest, ScanByTimestampAndErrors) {
  ScanCommandOptions options;
  options.timestamp = "2026-07-12T16:36:52.175Z";  // v2's in-commit timestamp
  options.format = OutputFormat::kCsv;
  std::ostringstream out;
  auto status = RunScanCommand(Golden("cdc_ict_table"), options, out);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  options.timestamp = "not a time";
  EXPECT_FALSE(RunScanCommand(Golden("cdc_ict_table"), options, out).ok());
  ScanCommandOptions bad;
  auto unsupported =
      RunScanCommand(Golden("deltalog-invalid-protocol-version"), bad, out);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.status().code(), ErrorCode::kUnsupported);
}

TEST(TableOutputTest, HistoryTableAndJsonl) {
  std::ostringstream table;
  auto status = RunHistoryCommand(Golden("cdc_ict_table"), {}, table);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_NE(table.str().find("| 3       | 2026-07-12T16:36:53.881Z | UPDATE"),
            std::string::npos)
      << table.str();
  HistoryCommandOptions options;
  options.format = OutputFormat::kJsonl;
  options.limit = 2;
  std::ostringstream jsonl;
  ASSERT_TRUE(RunHistoryCommand(Golden("cdc_ict_table"), options, jsonl).ok());
  std::string text = jsonl.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find("\"version\":3"), std::string::npos) << text;
  EXPECT_NE(text.find("\"operation\":\"DELETE\""), std::string::npos) << text;
  EXPECT_FALSE(ParseOutputFormat("xml").ok());
}

}  // namespace
}  // namespace tributary::lake::delta
