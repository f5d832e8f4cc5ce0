// Reads every golden Delta table in ../shared/golden/delta in place and checks the rows
// against _expected/<table>/*.parquet and the per-version, per-timestamp and change-feed
// expectations written down in ../shared/golden/delta/EXPECTED.md.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/cdf.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/time_travel.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

fs::path GoldenRoot() {
  return fs::path(TRIB_SHARED_DIR) / "golden" / "delta";
}
fs::path Golden(const std::string& table) {
  return GoldenRoot() / table;
}

class LakeGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
  }

  std::shared_ptr<const Snapshot> Load(const fs::path& root,
                                       SnapshotOptions options = {}) {
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root, options);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  std::shared_ptr<const Snapshot> LoadVersion(const std::string& table, int64_t version) {
    SnapshotOptions options;
    options.version = version;
    return Load(Golden(table), options);
  }

  std::string Query(const Snapshot& snapshot, const ScanOptions& options = {}) {
    auto query = BuildScanQuery(snapshot, *conn_, options);
    EXPECT_TRUE(query.ok()) << query.status().ToString();
    return query.ok() ? *query : "SELECT 1 WHERE false";
  }

  // Every row of `query` as "v1|v2|..." (NULL for nulls), sorted: a multiset.
  std::vector<std::string> Rows(const std::string& query) {
    auto result = conn_->Query(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> rows;
    if (!result.ok()) {
      return rows;
    }
    for (size_t row = 0; row < result->row_count(); ++row) {
      std::string line;
      for (size_t col = 0; col < result->column_count(); ++col) {
        line += col > 0 ? "|" : "";
        line += result->IsNull(col, row) ? "NULL" : result->GetString(col, row);
      }
      rows.push_back(std::move(line));
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  // Sorted values of one integer column.
  std::vector<int64_t> Ints(const std::string& query, const std::string& column) {
    auto result =
        conn_->Query(fmt::format("SELECT CAST({} AS BIGINT) FROM ({}) ORDER BY 1",
                                 sql::QuoteIdentifier(column), query));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<int64_t> out;
    if (result.ok()) {
      for (size_t row = 0; row < result->row_count(); ++row) {
        out.push_back(result->GetInt64(0, row));
      }
    }
    return out;
  }

  int64_t Count(const std::string& query) {
    auto result = conn_->Query(fmt::format("SELECT count(*) FROM ({})", query));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->GetInt64(0, 0) : -1;
  }

  // Column name -> DuckDB type of a query.
  std::vector<std::pair<std::string, std::string>> Describe(const std::string& query) {
    auto result = conn_->Query("DESCRIBE " + query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::pair<std::string, std::string>> out;
    if (result.ok()) {
      for (size_t row = 0; row < result->row_count(); ++row) {
        out.emplace_back(result->GetString(0, row), result->GetString(1, row));
      }
    }
    return out;
  }

  // Multiset comparison of the scan against Spark's expected parquet, over all columns
  // (EXCEPT ALL both ways). Timestamps are compared as UTC instants.
  void ExpectMatchesExpectedParquet(const std::string& query, const std::string& table) {
    std::string expected = fmt::format(
        "SELECT * FROM read_parquet({})",
        sql::QuoteLiteral((GoldenRoot() / "_expected" / table / "*.parquet").string()));
    auto ours = Describe(query);
    auto theirs = Describe(expected);
    std::map<std::string, std::string> their_types(theirs.begin(), theirs.end());
    ASSERT_EQ(ours.size(), theirs.size()) << table << ": column count differs";
    std::string ours_list;
    std::string theirs_list;
    for (const auto& [name, type] : ours) {
      ASSERT_TRUE(their_types.count(name))
          << table << ": expected has no column " << name;
      std::string quoted = sql::QuoteIdentifier(name);
      auto normalize = [&](const std::string& t) {
        return t.find("TIME ZONE") != std::string::npos
                   ? fmt::format("timezone('UTC', {})", quoted)
                   : quoted;
      };
      ours_list += (ours_list.empty() ? "" : ", ") + normalize(type) + " AS " + quoted;
      theirs_list += (theirs_list.empty() ? "" : ", ") + normalize(their_types[name]) +
                     " AS " + quoted;
    }
    std::string a = fmt::format("SELECT {} FROM ({})", ours_list, query);
    std::string b = fmt::format("SELECT {} FROM ({})", theirs_list, expected);
    EXPECT_EQ(Count(a), Count(b)) << table << ": row counts differ";
    EXPECT_EQ(Count(fmt::format("{} EXCEPT ALL {}", a, b)), 0)
        << table << ": rows in the scan but not expected";
    EXPECT_EQ(Count(fmt::format("{} EXCEPT ALL {}", b, a)), 0)
        << table << ": expected rows missing from the scan";
  }

  static std::vector<std::string> Sorted(std::vector<std::string> rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  static std::vector<int64_t> Range(int64_t from, int64_t to_inclusive) {
    std::vector<int64_t> out;
    for (int64_t i = from; i <= to_inclusive; ++i) {
      out.push_back(i);
    }
    return out;
  }

  static std::vector<int64_t> Concat(std::vector<std::vector<int64_t>> parts) {
    std::vector<int64_t> out;
    for (auto& part : parts) {
      out.insert(out.end(), part.begin(), part.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Copies a golden table to a temp dir (mtimes are set on the copy only).
  fs::path CopyTable(const std::string& table, testing::TempDir& dir) {
    fs::path target = dir.path() / table;
    fs::copy(Golden(table), target, fs::copy_options::recursive);
    return target;
  }

  static void SetCommitMtime(const fs::path& root, int64_t version, int64_t epoch_ms) {
    auto system_time =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(epoch_ms));
    fs::last_write_time(CommitFilePath(root, version),
                        std::chrono::file_clock::from_sys(system_time));
  }

  std::unique_ptr<sql::Connection> conn_;
};

// ---------------------------------------------------------------------------------------
// Every table with an _expected dir: latest snapshot equals Spark's expected rows.

class ExpectedParquetTest : public LakeGoldenTest,
                            public ::testing::WithParamInterface<std::string> {};

TEST_P(ExpectedParquetTest, LatestSnapshotMatchesExpectedParquet) {
  const std::string table = GetParam();
  auto snapshot = Load(Golden(table));
  ASSERT_NE(snapshot, nullptr);
  ScanOptions options;
  if (table == "data-reader-partition-values") {
    // EXPECTED.md: the partition timestamp "2021-09-08 11:11:11" was written in the
    // writer's zone, America/Los_Angeles; Spark's expected parquet holds 18:11:11Z.
    options.partition_timezone = "America/Los_Angeles";
  }
  ExpectMatchesExpectedParquet(Query(*snapshot, options), table);
}

std::vector<std::string> TablesWithExpected() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(GoldenRoot() / "_expected", ec)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Golden,
                         ExpectedParquetTest,
                         ::testing::ValuesIn(TablesWithExpected()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) {
                               c = '_';
                             }
                           }
                           return name;
                         });

TEST_F(LakeGoldenTest, PartitionTimestampReadAsUtcByDefault) {
  // The other accepted answer for data-reader-partition-values (EXPECTED.md caveat).
  auto snapshot = Load(Golden("data-reader-partition-values"));
  ASSERT_NE(snapshot, nullptr);
  auto rows = Rows(fmt::format("SELECT DISTINCT CAST(as_timestamp AS VARCHAR) FROM ({})",
                               Query(*snapshot)));
  EXPECT_EQ(rows, (std::vector<std::string>{"2021-09-08 11:11:11+00", "NULL"}));
}

// ---------------------------------------------------------------------------------------
// Per-version expectations (EXPECTED.md tables).

TEST_F(LakeGoldenTest, BasicInsertsDeletesCheckpointPerVersion) {
  const std::string table = "basic-with-inserts-deletes-checkpoint";
  const std::map<int64_t, int64_t> counts = {{0, 10},  {4, 50},  {5, 45},  {9, 25},
                                             {10, 35}, {11, 45}, {12, 55}, {13, 41}};
  for (const auto& [version, count] : counts) {
    auto snapshot = LoadVersion(table, version);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(Count(Query(*snapshot)), count) << "version " << version;
  }
  auto latest = Load(Golden(table));
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version(), 13);
  EXPECT_EQ(Ints(Query(*latest), "id"),
            Concat({Range(0, 4), Range(10, 14), Range(20, 24), Range(30, 34),
                    Range(40, 44), Range(50, 65)}));
}

TEST_F(LakeGoldenTest, OverwriteRestorePerVersion) {
  const std::string table = "basic-with-inserts-overwrite-restore";
  const std::map<int64_t, std::vector<int64_t>> ids = {
      {0, Range(0, 99)}, {1, Range(0, 199)}, {2, Range(500, 999)}, {3, Range(0, 199)}};
  for (const auto& [version, expected] : ids) {
    auto snapshot = LoadVersion(table, version);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(Ints(Query(*snapshot), "id"), expected) << "version " << version;
  }
}

TEST_F(LakeGoldenTest, SnapshotRepartitionedPerVersion) {
  const std::string table = "snapshot-repartitioned";
  auto rows_of = [](int batch, int n) {
    std::vector<std::string> rows;
    for (int i = 0; i < n; ++i) {
      rows.push_back(fmt::format("{}|data-{}-{}", i, batch, i));
    }
    return rows;
  };
  auto join = [](std::vector<std::vector<std::string>> parts) {
    std::vector<std::string> out;
    for (auto& p : parts) {
      out.insert(out.end(), p.begin(), p.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::map<int64_t, std::vector<std::string>> expected = {
      {0, join({rows_of(0, 10)})}, {1, join({rows_of(0, 10), rows_of(1, 10)})},
      {2, join({rows_of(2, 10)})}, {3, join({rows_of(2, 10), rows_of(3, 20)})},
      {4, join({rows_of(3, 20)})}, {5, join({rows_of(3, 20)})}};
  for (const auto& [version, rows] : expected) {
    auto snapshot = LoadVersion(table, version);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(Rows(Query(*snapshot)), rows) << "version " << version;
  }
}

TEST_F(LakeGoldenTest, TimeTravelByVersion) {
  const std::string table = "time-travel-start-start20-start40";
  for (int64_t version = 0; version <= 2; ++version) {
    auto snapshot = LoadVersion(table, version);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(Ints(Query(*snapshot), "id"), Range(0, 10 * (version + 1) - 1));
  }
  SnapshotOptions beyond;
  beyond.version = 3;
  auto missing = Snapshot::Load(Golden(table), beyond);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST_F(LakeGoldenTest, TimeTravelByFileTimestamp) {
  testing::TempDir dir("lake-golden");
  fs::path root = CopyTable("time-travel-start-start20-start40", dir);
  const int64_t start = 1540415658000;
  const int64_t minute = 60 * 1000;
  SetCommitMtime(root, 0, start);
  SetCommitMtime(root, 1, start + 20 * minute);
  SetCommitMtime(root, 2, start + 40 * minute);
  const std::vector<std::pair<int64_t, int64_t>> cases = {{start, 0},
                                                          {start + 10 * minute, 0},
                                                          {start + 20 * minute, 1},
                                                          {start + 40 * minute, 2},
                                                          {start + 90 * minute, 2}};
  for (const auto& [timestamp, version] : cases) {
    SnapshotOptions options;
    options.timestamp_ms = timestamp;
    auto snapshot = Load(root, options);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(snapshot->version(), version) << FormatTimestampMs(timestamp);
    EXPECT_EQ(Count(Query(*snapshot)), 10 * (version + 1));
  }
  SnapshotOptions before;
  before.timestamp_ms = start - 1;
  auto too_early = Snapshot::Load(root, before);
  ASSERT_FALSE(too_early.ok());
  EXPECT_EQ(too_early.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeGoldenTest, SimpleTablePerVersionIgnoresTmpDir) {
  const std::string table = "simple_table";
  auto latest = Load(Golden(table));
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version(), 4) << "_delta_log/.tmp/ must be ignored";
  const std::map<int64_t, std::vector<int64_t>> ids = {{0, Range(0, 4)},
                                                       {1, Range(0, 19)},
                                                       {2, Range(5, 9)},
                                                       {3, {5, 7, 9, 106, 108}},
                                                       {4, {5, 7, 9}}};
  for (const auto& [version, expected] : ids) {
    auto snapshot = LoadVersion(table, version);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(Ints(Query(*snapshot), "id"), expected) << "version " << version;
  }
}

TEST_F(LakeGoldenTest, SimpleTableTimestampTravel) {
  testing::TempDir dir("lake-golden");
  fs::path root = CopyTable("simple_table", dir);
  const std::vector<int64_t> seconds = {1588398451, 1588484851, 1588571251, 1588657651,
                                        1588744051};
  for (size_t v = 0; v < seconds.size(); ++v) {
    SetCommitMtime(root, static_cast<int64_t>(v), seconds[v] * 1000);
  }
  auto at = [&](const std::string& text) -> Result<int64_t> {
    TRIB_ASSIGN_OR_RETURN(int64_t ts, ParseTimestamp(text));
    SnapshotOptions options;
    options.timestamp_ms = ts;
    options.connection = conn_.get();
    TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(root, options));
    return snapshot->version();
  };
  auto v1 = at("2020-05-02T22:47:31-07:00");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1);
  auto v4 = at("2020-05-25T22:47:31-07:00");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(*v4, 4);
  // "2020-05-01T00:47:31-07:00" is 22 hours before the first commit: delta-rs clamps it
  // to v0, the Kernel rule that EXPECTED.md adopts makes it an error.
  auto early = at("2020-05-01T00:47:31-07:00");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeGoldenTest, SchemaChangesPerVersion) {
  auto v0 = LoadVersion("time-travel-schema-changes-b", 0);
  ASSERT_NE(v0, nullptr);
  EXPECT_EQ(v0->schema().fields.size(), 1u);
  EXPECT_EQ(Ints(Query(*v0), "id"), Range(0, 9));
  auto v1 = LoadVersion("time-travel-schema-changes-b", 1);
  ASSERT_NE(v1, nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    expected.push_back(i < 10 ? fmt::format("{}|NULL", i) : fmt::format("{}|{}", i, i));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Rows(Query(*v1)), expected);
}

TEST_F(LakeGoldenTest, PartitionChangesPerVersion) {
  auto v0 = LoadVersion("time-travel-partition-changes-b", 0);
  ASSERT_NE(v0, nullptr);
  EXPECT_EQ(v0->partition_columns(), (std::vector<std::string>{"part5"}));
  EXPECT_EQ(v0->files().size(), 10u);
  std::vector<std::string> rows0;
  for (int i = 0; i < 10; ++i) {
    rows0.push_back(fmt::format("{}|{}", i, i % 5));
  }
  std::sort(rows0.begin(), rows0.end());
  EXPECT_EQ(Rows(Query(*v0)), rows0);
  auto v1 = LoadVersion("time-travel-partition-changes-b", 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->partition_columns(), (std::vector<std::string>{"part2"}));
  EXPECT_EQ(v1->files().size(), 4u);
  std::vector<std::string> rows1;
  for (int i = 10; i < 20; ++i) {
    rows1.push_back(fmt::format("{}|{}", i, i % 2));
  }
  std::sort(rows1.begin(), rows1.end());
  EXPECT_EQ(Rows(Query(*v1)), rows1);
}

TEST_F(LakeGoldenTest, CheckpointTablesPerVersion) {
  struct Case {
    std::string table;
    std::map<int64_t, int64_t> counts;
  };
  const std::vector<Case> cases = {
      {"multi-part-checkpoint", {{0, 1}, {1, 31}}},
      {"v2-checkpoint-json", {{0, 0}, {1, 0}, {2, 10}}},
      {"dv-partitioned-with-checkpoint", {{0, 50}, {1, 49}, {9, 41}, {10, 40}, {15, 35}}},
      {"dv-with-columnmapping", {{0, 50}, {15, 35}}},
      {"log-replay-dv-key-cases", {{0, 50}, {1, 49}, {2, 48}, {3, 47}}},
      {"only-checkpoint-files", {{0, 10}, {1, 5}, {2, 25}}},
      {"corrupted-last-checkpoint-kernel", {{0, 10}, {5, 60}, {10, 110}, {11, 100}}},
      {"v2-checkpoints-parquet-with-sidecars",
       {{0, 1}, {1, 2}, {2, 32}, {3, 132}, {4, 232}, {5, 1232}, {6, 1233}}},
      {"app-txn-checkpoint", {{0, 11}, {1, 22}}},
      {"cdc_ict_table", {{1, 4}, {3, 2}}},
      {"compacted-log-files-table", {{5, 3}, {10, 4}, {15, 8}, {20, 8}, {25, 5}}},
  };
  for (const auto& c : cases) {
    for (const auto& [version, count] : c.counts) {
      auto snapshot = LoadVersion(c.table, version);
      ASSERT_NE(snapshot, nullptr) << c.table << " v" << version;
      EXPECT_EQ(Count(Query(*snapshot)), count) << c.table << " version " << version;
    }
  }
}

TEST_F(LakeGoldenTest, MultiPartCheckpointContent) {
  auto snapshot = Load(Golden("multi-part-checkpoint"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Ints(Query(*snapshot), "id"), Concat({{0}, Range(0, 29)}));
}

TEST_F(LakeGoldenTest, DvKeyCasesMissingIds) {
  auto snapshot = Load(Golden("log-replay-dv-key-cases"));
  ASSERT_NE(snapshot, nullptr);
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 50; ++i) {
    if (i != 0 && i != 7 && i != 14) {
      expected.push_back(i);
    }
  }
  EXPECT_EQ(Ints(Query(*snapshot), "id"), expected);
  ASSERT_EQ(snapshot->files().size(), 1u);
  ASSERT_TRUE(snapshot->files()[0].deletion_vector.has_value());
  EXPECT_EQ(snapshot->files()[0].deletion_vector->cardinality, 3);
}

TEST_F(LakeGoldenTest, DvPartitionedContent) {
  for (const std::string table :
       {"dv-partitioned-with-checkpoint", "dv-with-columnmapping"}) {
    auto snapshot = Load(Golden(table));
    ASSERT_NE(snapshot, nullptr);
    std::vector<std::string> expected;
    for (int x = 0; x < 50; ++x) {
      if (x < 30 && x % 2 == 0) {
        continue;
      }
      expected.push_back(fmt::format("{}|{}|foo{}", x % 10, x, x % 5));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Rows(fmt::format("SELECT part, col1, col2 FROM ({})", Query(*snapshot))),
              expected)
        << table;
  }
}

TEST_F(LakeGoldenTest, V2CheckpointParquetSidecarsMultiset) {
  auto snapshot = Load(Golden("v2-checkpoints-parquet-with-sidecars"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Ints(Query(*snapshot), "id"),
            Concat({{0, 0, 0}, Range(0, 29), Range(0, 99), Range(0, 99), Range(0, 999)}));
}

// ---------------------------------------------------------------------------------------
// Tables without _expected: the rows EXPECTED.md lists.

TEST_F(LakeGoldenTest, CdfTableLatest) {
  auto snapshot = Load(Golden("cdf-table"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Rows(Query(*snapshot)),
            Sorted({"1|Steve|2023-12-22", "10|Borb|2023-12-25", "2|Bob|2023-12-22",
                    "3|Dave|2023-12-22", "4|Kate|2023-12-22", "5|Emily|2023-12-29",
                    "6|Carl|2023-12-29", "8|Claire|2023-12-25", "9|Ada|2023-12-25"}));
}

TEST_F(LakeGoldenTest, CompactedLogFilesLatestAndEquivalence) {
  const std::string table = "compacted-log-files-table";
  auto snapshot = Load(Golden(table));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Rows(Query(*snapshot)),
            Sorted({"0|new", "10|merge1-insert", "12|merge2-insert",
                    "1|after-large-delete", "2|"}));
  for (int64_t version = 0; version <= 25; ++version) {
    SnapshotOptions plain;
    plain.version = version;
    SnapshotOptions compacted = plain;
    compacted.use_compaction_files = true;
    auto a = Load(Golden(table), plain);
    auto b = Load(Golden(table), compacted);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(Rows(Query(*a)), Rows(Query(*b))) << "version " << version;
    EXPECT_EQ(a->files().size(), b->files().size()) << "version " << version;
  }
}

TEST_F(LakeGoldenTest, ShortDv) {
  auto snapshot = Load(Golden("with-short-dv"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(
      Rows(Query(*snapshot)),
      (std::vector<std::string>{"3|3|2023-05-31 18:58:33.633+00|0.7918174793484931",
                                "4|4|2023-05-31 18:58:33.633+00|0.9281049271981882",
                                "5|5|2023-05-31 18:58:33.633+00|0.27796520310701633",
                                "6|6|2023-05-31 18:58:33.633+00|0.15263801464228832",
                                "7|7|2023-05-31 18:58:33.633+00|0.1981143710215575",
                                "8|8|2023-05-31 18:58:33.633+00|0.3069439236599195",
                                "9|9|2023-05-31 18:58:33.633+00|0.5175919190815845"}));
}

TEST_F(LakeGoldenTest, TypeWidening) {
  auto snapshot = Load(Golden("type-widening"));
  ASSERT_NE(snapshot, nullptr);
  std::string q = Query(*snapshot);
  EXPECT_EQ(
      Rows(fmt::format("SELECT byte_long, int_long, float_double, byte_double, "
                       "short_double, int_double, "
                       "date_timestamp_ntz, decimal_decimal_same_scale, "
                       "decimal_decimal_greater_scale, "
                       "byte_decimal, short_decimal, int_decimal, long_decimal FROM ({})",
                       q)),
      (std::vector<std::string>{
          "1|2|3.4000000953674316|5.0|6.0|7.0|2024-09-09 "
          "00:00:00|123.45|67.89000|1.0|2.0|3.0|"
          "4.0",
          "9223372036854775807|9223372036854775807|1.234567890123|1.234567890123|"
          "1.234567890123|1.234567890123|2024-09-09 12:34:56.123456|12345678901234.56|"
          "12345678901.23456|123.4|12345.6|1234567890.1|123456789012345678.9"}));
}

TEST_F(LakeGoldenTest, AppTransactionsAndPartitions) {
  auto snapshot = Load(Golden("app-txn-checkpoint"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->GetAppTransactionVersion("my-app"), 3);
  EXPECT_EQ(snapshot->GetAppTransactionVersion("my-app2"), 2);
  EXPECT_EQ(snapshot->GetAppTransactionVersion("nobody"), std::nullopt);
  auto v0 = LoadVersion("app-txn-checkpoint", 0);
  ASSERT_NE(v0, nullptr);
  EXPECT_EQ(v0->GetAppTransactionVersion("my-app"), 1);
  std::string q = Query(*snapshot);
  EXPECT_EQ(Count(q), 22);
  EXPECT_EQ(Ints(fmt::format("SELECT value FROM ({}) WHERE modified = '2021-02-01'", q),
                 "value"),
            Concat({Range(4, 11), Range(4, 11)}));
  EXPECT_EQ(Ints(fmt::format("SELECT value FROM ({}) WHERE modified = '2021-02-02'", q),
                 "value"),
            Concat({Range(1, 3), Range(1, 3)}));
}

TEST_F(LakeGoldenTest, TimestampPartitionIso) {
  auto snapshot = Load(Golden("timestamp-partitioned-table"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Rows(Query(*snapshot)),
            (std::vector<std::string>{"1|0.5||1971-07-22 03:06:40+00"}));
}

TEST_F(LakeGoldenTest, SpecialPartitionCharacters) {
  auto snapshot = Load(Golden("delta-0.8.0-special-partition"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Rows(Query(*snapshot)), (std::vector<std::string>{"A/A|1", "B B|2"}));
  auto escaped = Load(Golden("data-reader-escaped-chars"));
  ASSERT_NE(escaped, nullptr);
  EXPECT_EQ(Rows(Query(*escaped)),
            (std::vector<std::string>{"foo1|bar+%21", "foo2|bar+%22", "foo3|bar+%23"}));
}

TEST_F(LakeGoldenTest, PartitionTypePrimitives) {
  auto snapshot = Load(Golden("partition-type-primitives"));
  ASSERT_NE(snapshot, nullptr);
  std::vector<std::string> expected;
  for (int id = 1; id <= 16; ++id) {
    int within = (id - 1) % 8;
    std::string year = id <= 8 ? "2020" : "2021.0";
    std::string active = within < 4 ? "true" : "false";
    std::string date = (within % 4) < 2 ? "2023-01-01" : "2023-01-02";
    std::string category = within % 2 == 0 ? "A" : "B";
    expected.push_back(
        fmt::format("{}|record_{}|{}|{}|{}|{}", id, id, year, active, date, category));
  }
  std::sort(expected.begin(), expected.end());
  std::string q = Query(*snapshot);
  EXPECT_EQ(Rows(q), expected);
  EXPECT_EQ(Count(fmt::format("SELECT * FROM ({}) WHERE year = '2020'", q)), 8);
  EXPECT_EQ(Count(fmt::format("SELECT * FROM ({}) WHERE is_active = 'true'", q)), 8);
}

TEST_F(LakeGoldenTest, CdcIctTableLatest) {
  auto snapshot = Load(Golden("cdc_ict_table"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Rows(Query(*snapshot)),
            (std::vector<std::string>{"Kate|1995|37", "Steve|1986|41"}));
  EXPECT_EQ(snapshot->timestamp_ms(), 1783874213881);
  auto v1 = LoadVersion("cdc_ict_table", 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(Rows(Query(*v1)),
            (std::vector<std::string>{"Dan|1995|14", "Dave|1995|22", "Kate|1995|36",
                                      "Steve|1986|40"}));
  EXPECT_EQ(v1->timestamp_ms(), 1683874206883)
      << "the in-commit timestamp, not the file time";
  // As of the ICT of v2 gives v2; v3's ICT gives v3.
  SnapshotOptions at_v2;
  at_v2.timestamp_ms = 1783874212175;
  auto s2 = Load(Golden("cdc_ict_table"), at_v2);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->version(), 2);
  SnapshotOptions at_v3;
  at_v3.timestamp_ms = 1783874213881;
  auto s3 = Load(Golden("cdc_ict_table"), at_v3);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->version(), 3);
}

// ---------------------------------------------------------------------------------------
// Change data feed.

TEST_F(LakeGoldenTest, CdcIctChangeFeedFromTimestamp) {
  ChangeFeedOptions options;
  auto start = ParseTimestamp("2026-07-11T16:36:53.881Z");
  ASSERT_TRUE(start.ok());
  options.start_timestamp_ms = *start;
  auto query = BuildChangeFeedQuery(Golden("cdc_ict_table"), *conn_, options);
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(
      Rows(fmt::format("SELECT name, age, birthyear, _change_type, _commit_version, "
                       "_commit_timestamp FROM ({})",
                       *query)),
      (std::vector<std::string>{
          "Dan|14|1995|delete|2|2026-07-12 16:36:52.175+00",
          "Dave|22|1995|delete|2|2026-07-12 16:36:52.175+00",
          "Kate|36|1995|update_preimage|3|2026-07-12 16:36:53.881+00",
          "Kate|37|1995|update_postimage|3|2026-07-12 16:36:53.881+00",
          "Steve|40|1986|update_preimage|3|2026-07-12 16:36:53.881+00",
          "Steve|41|1986|update_postimage|3|2026-07-12 16:36:53.881+00"}));
  // The full feed adds v1's four inserts.
  auto full = BuildChangeFeedQuery(Golden("cdc_ict_table"), *conn_, {});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(
      Rows(fmt::format("SELECT name, age, birthyear, _commit_version FROM ({}) WHERE "
                       "_change_type = 'insert'",
                       *full)),
      (std::vector<std::string>{"Dan|14|1995|1", "Dave|22|1995|1", "Kate|36|1995|1",
                                "Steve|40|1986|1"}));
  EXPECT_EQ(Count(*full), 10);
}

TEST_F(LakeGoldenTest, CdfTableChangeFeed) {
  // _commit_timestamp comes from the file times: set them on a copy to the commitInfo
  // timestamps (what delta-rs reports) so the values are reproducible.
  testing::TempDir dir("lake-golden");
  fs::path root = CopyTable("cdf-table", dir);
  const std::vector<int64_t> commit_ms = {1703265018828, 1703265021675, 1703886093785,
                                          1704559499570};
  for (size_t v = 0; v < commit_ms.size(); ++v) {
    SetCommitMtime(root, static_cast<int64_t>(v), commit_ms[v]);
  }
  auto query = BuildChangeFeedQuery(root, *conn_, {});
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  std::vector<std::string> expected;
  const std::vector<std::pair<int, std::string>> people = {
      {1, "Steve"}, {2, "Bob"},    {3, "Dave"},   {4, "Kate"}, {5, "Emily"},
      {6, "Carl"},  {7, "Dennis"}, {8, "Claire"}, {9, "Ada"},  {10, "Borb"}};
  const std::vector<std::string> v0_birthdays = {
      "2023-12-22", "2023-12-23", "2023-12-23", "2023-12-23", "2023-12-24",
      "2023-12-24", "2023-12-24", "2023-12-25", "2023-12-25", "2023-12-25"};
  const std::vector<std::string> ts = {
      "2023-12-22 17:10:18.828+00", "2023-12-22 17:10:21.675+00",
      "2023-12-29 21:41:33.785+00", "2024-01-06 16:44:59.57+00"};
  for (size_t i = 0; i < people.size(); ++i) {
    expected.push_back(fmt::format("{}|{}|{}|insert|0|{}", people[i].first,
                                   people[i].second, v0_birthdays[i], ts[0]));
  }
  for (int i = 1; i <= 3; ++i) {  // ids 2,3,4: 12-23 -> 12-22
    const auto& [id, name] = people[static_cast<size_t>(i)];
    expected.push_back(
        fmt::format("{}|{}|2023-12-23|update_preimage|1|{}", id, name, ts[1]));
    expected.push_back(
        fmt::format("{}|{}|2023-12-22|update_postimage|1|{}", id, name, ts[1]));
  }
  for (int i = 4; i <= 6; ++i) {  // ids 5,6,7: 12-24 -> 12-29
    const auto& [id, name] = people[static_cast<size_t>(i)];
    expected.push_back(
        fmt::format("{}|{}|2023-12-24|update_preimage|2|{}", id, name, ts[2]));
    expected.push_back(
        fmt::format("{}|{}|2023-12-29|update_postimage|2|{}", id, name, ts[2]));
  }
  expected.push_back(fmt::format("7|Dennis|2023-12-29|delete|3|{}", ts[3]));
  std::sort(expected.begin(), expected.end());
  // EXPECTED.md's headline says 25 rows; its itemized list (and the _change_data files:
  // 13 rows, plus 10 inserts) add up to 23.
  EXPECT_EQ(Rows(*query), expected);
}

TEST_F(LakeGoldenTest, ChangeFeedFromAddRemoveWithoutCdcFiles) {
  // simple_table has no cdc files: inserts and deletes come from add/remove actions.
  ChangeFeedOptions options;
  options.start_version = 4;
  auto query = BuildChangeFeedQuery(Golden("simple_table"), *conn_, options);
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  auto v3 = LoadVersion("simple_table", 3);
  auto v4 = LoadVersion("simple_table", 4);
  ASSERT_NE(v3, nullptr);
  ASSERT_NE(v4, nullptr);
  // Net effect of the v4 DELETE: deletes minus re-inserted rows equals v3 minus v4.
  std::string net = fmt::format(
      "SELECT id FROM ({0}) WHERE _change_type = 'delete' EXCEPT ALL "
      "SELECT id FROM ({0}) WHERE _change_type = 'insert'",
      *query);
  std::string diff = fmt::format("SELECT id FROM ({}) EXCEPT ALL SELECT id FROM ({})",
                                 Query(*v3), Query(*v4));
  EXPECT_EQ(Ints(net, "id"), Ints(diff, "id"));
  EXPECT_EQ(Ints(diff, "id"), (std::vector<int64_t>{106, 108}));
}

// ---------------------------------------------------------------------------------------
// Negative tables.

TEST_F(LakeGoldenTest, InvalidProtocolVersionIsUnsupported) {
  auto snapshot = Snapshot::Load(Golden("deltalog-invalid-protocol-version"));
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(snapshot.status().ToString().find("reader version 99"), std::string::npos)
      << snapshot.status().ToString();
}

TEST_F(LakeGoldenTest, VersionsNotContiguousIsAnError) {
  auto snapshot = Snapshot::Load(Golden("versions-not-contiguous"));
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(snapshot.status().ToString().find("missing version 1"), std::string::npos)
      << snapshot.status().ToString();
}

TEST_F(LakeGoldenTest, EmptyLastCheckpointFallsBackToListing) {
  auto snapshot = Load(Golden("corrupted-last-checkpoint-kernel"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version(), 11);
  EXPECT_EQ(Ints(Query(*snapshot), "id"), Range(0, 99));
}

TEST_F(LakeGoldenTest, HistoryListsCommitsNewestFirst) {
  auto history = ReadHistory(Golden("cdc_ict_table"));
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].version, 3);
  ASSERT_TRUE((*history)[0].commit_info.has_value());
  EXPECT_EQ((*history)[0].commit_info->operation, "UPDATE");
  EXPECT_EQ((*history)[0].timestamp_ms, 1783874213881);
  EXPECT_EQ((*history)[3].commit_info->operation, "CREATE OR REPLACE TABLE");
}

}  // namespace
}  // namespace tributary::lake::delta
