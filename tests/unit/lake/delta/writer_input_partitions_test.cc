// WriteOptions::input_partitions: an input the caller split by partition is written
// exactly as the writer's own split (SELECT DISTINCT over the partition values, one
// filtered COPY per partition) writes it.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "sql/row_batch.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

StructField Column(std::string name, TypeKind kind) {
  StructField field;
  field.name = std::move(name);
  field.type = DataType::Primitive(kind);
  return field;
}

// id, name, region (partition, may be null), day (partition, date).
CreateTableOptions EventsTable() {
  CreateTableOptions create;
  create.schema.fields = {
      Column("id", TypeKind::kLong), Column("name", TypeKind::kString),
      Column("region", TypeKind::kString), Column("day", TypeKind::kDate)};
  create.partition_columns = {"region", "day"};
  return create;
}

struct SourceRow {
  int64_t id;
  std::optional<std::string> name;
  std::optional<std::string> region;
  int32_t day;           // days since 1970-01-01
  std::string day_text;  // the same day serialized
};

// 12 rows over 3 regions (one null, one needing path escapes) x 2 dates, the partitions
// interleaved in source order.
std::vector<SourceRow> SourceRows() {
  const std::optional<std::string> regions[] = {"east", std::nullopt, "we st/x"};
  std::vector<SourceRow> rows;
  for (int i = 0; i < 12; ++i) {
    SourceRow row;
    row.id = 100 - i;  // descending: order in a file is source order, not id order
    if (i % 5 != 0) {
      row.name = fmt::format("name {}", i);
    }
    row.region = regions[i % 3];
    const bool first_day = i % 4 < 2;
    row.day = first_day ? 19724 : 19725;
    row.day_text = first_day ? "2024-01-02" : "2024-01-03";
    rows.push_back(std::move(row));
  }
  return rows;
}

class WriterInputPartitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    auto scan = conn_->CreateBatchScan("input_rows");
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    scan_ = std::move(*scan);
    for (const SourceRow& row : SourceRows()) {
      batch_.AppendInt64(row.id);
      if (row.name) {
        batch_.AppendString(*row.name);
      } else {
        batch_.AppendNull();
      }
      if (row.region) {
        batch_.AppendString(*row.region);
      } else {
        batch_.AppendNull();
      }
      batch_.AppendInt64(row.day);
      batch_.EndRow();
    }
    // The writes describe their query (no WriteOptions::input_columns): that binds it.
    scan_->Set(&batch_);
  }

  std::shared_ptr<const Snapshot> Load(const fs::path& root) {
    SnapshotOptions options;
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root, options);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  // Each live file's partition values and its rows ("id|name" in file order).
  std::multimap<PartitionValues, std::vector<std::string>> FilesByPartition(
      const fs::path& root) {
    std::multimap<PartitionValues, std::vector<std::string>> files;
    auto snapshot = Load(root);
    if (snapshot == nullptr) {
      return files;
    }
    for (const AddFile& add : snapshot->files()) {
      auto path = snapshot->ResolvePath(add.path);
      EXPECT_TRUE(path.ok()) << add.path;
      PartitionValues values;
      for (const std::string& column : snapshot->partition_columns()) {
        values[column] = snapshot->PartitionValue(add, column);
      }
      auto rows = conn_->Query(
          fmt::format("SELECT id, name FROM read_parquet({}, hive_partitioning = false)",
                      sql::QuoteLiteral(path->string())));
      EXPECT_TRUE(rows.ok()) << rows.status().ToString();
      std::vector<std::string> lines;
      for (size_t row = 0; rows.ok() && row < rows->row_count(); ++row) {
        lines.push_back(fmt::format("{}|{}", rows->GetInt64(0, row),
                                    rows->GetOptionalString(1, row).value_or("NULL")));
      }
      // Data files hold the data columns only.
      EXPECT_TRUE(rows.ok() && rows->column_count() == 2u);
      files.emplace(std::move(values), std::move(lines));
    }
    return files;
  }

  // The table's rows through the project's reader (scan.h), sorted.
  std::vector<std::string> ScannedRows(const fs::path& root) {
    std::vector<std::string> lines;
    auto snapshot = Load(root);
    if (snapshot == nullptr) {
      return lines;
    }
    auto scan = BuildScanQuery(*snapshot, *conn_);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    auto rows = conn_->Query(fmt::format(
        "SELECT id, name, region, day::VARCHAR FROM ({}) ORDER BY id", *scan));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (size_t row = 0; rows.ok() && row < rows->row_count(); ++row) {
      lines.push_back(fmt::format("{}|{}|{}|{}", rows->GetInt64(0, row),
                                  rows->GetOptionalString(1, row).value_or("NULL"),
                                  rows->GetOptionalString(2, row).value_or("NULL"),
                                  rows->GetString(3, row)));
    }
    return lines;
  }

  // The input split in first-appearance order, row order kept within a partition.
  struct Split {
    std::vector<PartitionValues> values;
    std::vector<std::vector<uint32_t>> rows;
  };
  static Split SplitRows() {
    Split split;
    const std::vector<SourceRow> rows = SourceRows();
    for (size_t i = 0; i < rows.size(); ++i) {
      PartitionValues values{{"region", rows[i].region}, {"day", rows[i].day_text}};
      size_t group = 0;
      while (group < split.values.size() && split.values[group] != values) {
        ++group;
      }
      if (group == split.values.size()) {
        split.values.push_back(values);
        split.rows.emplace_back();
      }
      split.rows[group].push_back(static_cast<uint32_t>(i));
    }
    return split;
  }

  WriteOptions SplitOptions(const Split& split) {
    WriteOptions options;
    for (size_t group = 0; group < split.values.size(); ++group) {
      const std::vector<uint32_t>* rows = &split.rows[group];
      options.input_partitions.push_back({split.values[group], [this, rows]() -> Status {
                                            scan_->SetRows(&batch_, *rows);
                                            return OkStatus();
                                          }});
    }
    return options;
  }

  testing::TempDir dir_;
  std::unique_ptr<sql::Connection> conn_;
  std::unique_ptr<sql::BatchScan> scan_;
  sql::RowBatch batch_{{{"id", sql::BatchType::kBigInt},
                        {"name", sql::BatchType::kVarchar},
                        {"region", sql::BatchType::kVarchar},
                        {"day", sql::BatchType::kDate}}};
};

TEST_F(WriterInputPartitionsTest, WritesTheSamePartitionsAndRowsAsTheWritersOwnSplit) {
  const fs::path by_writer = dir_.path() / "by_writer";
  const fs::path by_caller = dir_.path() / "by_caller";
  ASSERT_TRUE(CreateTable(by_writer, EventsTable()).ok());
  ASSERT_TRUE(CreateTable(by_caller, EventsTable()).ok());

  WriteOptions plain;
  plain.repeatable_input = true;
  scan_->Set(&batch_);
  auto written = Append(*conn_, by_writer, "SELECT * FROM input_rows()", plain);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->files_added, 6);

  const Split split = SplitRows();
  ASSERT_EQ(split.values.size(), 6u);
  auto split_written =
      Append(*conn_, by_caller, "SELECT * FROM input_rows()", SplitOptions(split));
  ASSERT_TRUE(split_written.ok()) << split_written.status().ToString();
  EXPECT_EQ(split_written->files_added, 6);
  EXPECT_EQ(split_written->rows_written, 12);

  auto writer_files = FilesByPartition(by_writer);
  auto caller_files = FilesByPartition(by_caller);
  ASSERT_EQ(caller_files.size(), 6u);
  EXPECT_EQ(writer_files, caller_files);
  // A null partition value, both dates, and rows in source order within each file.
  auto null_first =
      caller_files.find(PartitionValues{{"region", std::nullopt}, {"day", "2024-01-02"}});
  ASSERT_NE(null_first, caller_files.end());
  EXPECT_EQ(null_first->second, (std::vector<std::string>{"99|name 1", "96|name 4"}));
  auto escaped_second =
      caller_files.find(PartitionValues{{"region", "we st/x"}, {"day", "2024-01-03"}});
  ASSERT_NE(escaped_second, caller_files.end());
  EXPECT_EQ(escaped_second->second,
            (std::vector<std::string>{"98|name 2", "89|name 11"}));

  // Read back through the project's reader, the partition columns come back too.
  const std::vector<std::string> scanned = ScannedRows(by_caller);
  ASSERT_EQ(scanned.size(), 12u);
  EXPECT_EQ(scanned, ScannedRows(by_writer));
  EXPECT_EQ(scanned.front(), "89|name 11|we st/x|2024-01-03");
  EXPECT_EQ(scanned.back(), "100|NULL|east|2024-01-02");

  // The same directories on disk.
  auto snapshot = Load(by_caller);
  ASSERT_NE(snapshot, nullptr);
  bool saw_null_dir = false;
  for (const AddFile& add : snapshot->files()) {
    if (add.path.rfind("region=__HIVE_DEFAULT_PARTITION__/day=2024-01-02/", 0) == 0) {
      saw_null_dir = true;
    }
  }
  EXPECT_TRUE(saw_null_dir);
}

TEST_F(WriterInputPartitionsTest, SplitsFilesByRowsAndWritesNothingForAnEmptyPartition) {
  const fs::path root = dir_.path() / "table";
  ASSERT_TRUE(CreateTable(root, EventsTable()).ok());
  Split split = SplitRows();
  // An extra, empty partition writes no file.
  split.values.push_back(PartitionValues{{"region", "north"}, {"day", "2024-02-29"}});
  split.rows.emplace_back();
  WriteOptions options = SplitOptions(split);
  options.max_rows_per_file = 1;
  auto written = Append(*conn_, root, "SELECT * FROM input_rows()", options);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  // At least one file per non-empty partition (DuckDB may keep small row groups whole).
  EXPECT_GE(written->files_added, 6);
  EXPECT_EQ(written->rows_written, 12);
  EXPECT_EQ(ScannedRows(root).size(), 12u);
  auto files = FilesByPartition(root);
  EXPECT_EQ(files.size(), static_cast<size_t>(written->files_added));
  for (const auto& [values, rows] : files) {
    EXPECT_NE(values.at("region"), std::optional<std::string>("north"));
    EXPECT_FALSE(rows.empty());
  }
}

TEST_F(WriterInputPartitionsTest,
       BadPartitionValuesNameTheColumnAndTableAndCommitNothing) {
  const fs::path root = dir_.path() / "table";
  ASSERT_TRUE(CreateTable(root, EventsTable()).ok());
  auto select_all = [this]() -> Status {
    scan_->Set(&batch_);
    return OkStatus();
  };
  auto append = [&](PartitionValues values) {
    WriteOptions options;
    options.input_partitions.push_back({std::move(values), select_all});
    return Append(*conn_, root, "SELECT * FROM input_rows()", options);
  };
  auto expect_error = [&](const Result<WriteResult>& result, std::string_view column) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
    const std::string message = result.status().ToString();
    EXPECT_NE(message.find(column), std::string::npos) << message;
    EXPECT_NE(message.find(root.string()), std::string::npos) << message;
  };
  expect_error(append({{"region", "east"}, {"dya", "2024-01-02"}, {"day", "2024-01-02"}}),
               "'dya'");
  expect_error(append({{"region", "east"}}), "'day'");
  expect_error(append({{"region", "east"}, {"day", "2024-1-2"}}), "'day'");
  expect_error(append({{"region", "east"}, {"day", "2024-01-02"}, {"DAY", "2024-01-02"}}),
               "'day'");

  // A select that fails fails the write with the partition named.
  WriteOptions failing;
  failing.input_partitions.push_back(
      {{{"region", std::nullopt}, {"day", "2024-01-02"}},
       []() -> Status { return MakeError(ErrorCode::kInternal, "no rows for you"); }});
  auto failed = Append(*conn_, root, "SELECT * FROM input_rows()", failing);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().ToString().find("no rows for you"), std::string::npos);
  EXPECT_NE(failed.status().ToString().find("region=__HIVE_DEFAULT_PARTITION__"),
            std::string::npos)
      << failed.status().ToString();

  // No select function; Merge does not take a split input.
  WriteOptions no_select;
  no_select.input_partitions.push_back({{{"region", "a"}, {"day", "2024-01-02"}}, {}});
  EXPECT_FALSE(Append(*conn_, root, "SELECT * FROM input_rows()", no_select).ok());
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.write.input_partitions.push_back(
      {{{"region", "a"}, {"day", "2024-01-02"}}, select_all});
  auto merged = Merge(*conn_, root, "SELECT * FROM input_rows()", merge);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().code(), ErrorCode::kInvalidArgument);

  auto snapshot = Load(root);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version(), 0);

  // A table without partitions refuses a split input.
  const fs::path flat = dir_.path() / "flat";
  CreateTableOptions create;
  create.schema.fields = {Column("id", TypeKind::kLong)};
  ASSERT_TRUE(CreateTable(flat, create).ok());
  WriteOptions options;
  options.input_partitions.push_back({{{"region", "a"}}, select_all});
  auto unpartitioned = Append(*conn_, flat, "SELECT id FROM input_rows()", options);
  ASSERT_FALSE(unpartitioned.ok());
  EXPECT_EQ(unpartitioned.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unpartitioned.status().ToString().find("not partitioned"), std::string::npos);
  EXPECT_NE(unpartitioned.status().ToString().find(flat.string()), std::string::npos);
}

}  // namespace
}  // namespace tributary::lake::delta
