// Runs the real binary's `tributary quickstart --exit` (stdin not a terminal) the way the
// README's first command does, then checks what a user sees and what it leaves behind:
// every live change shown arriving in silver and gold with a latency, the gold tables
// printed, bronze/silver/gold Delta tables with the expected row counts, and no server
// process left running.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datasets/generate.h"
#include "devserver/mariadb_server.h"
#include "devserver/postgres_server.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "sql/database.h"
#include "testing/run_binary.h"
#include "testing/temp_dir.h"
#include "testing/test_server.h"

namespace tributary {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::RunResult;

// The row count of the latest snapshot of the Delta table at `root`.
Result<int64_t> CountRows(const fs::path& root) {
  TRIB_ASSIGN_OR_RETURN(auto conn, sql::Database::OpenInMemoryConnection());
  TRIB_ASSIGN_OR_RETURN(auto snapshot, lake::delta::Snapshot::LoadLatest(root));
  TRIB_ASSIGN_OR_RETURN(std::string scan, lake::delta::BuildScanQuery(*snapshot, *conn));
  TRIB_ASSIGN_OR_RETURN(auto result, conn->Query("SELECT count(*) FROM (" + scan + ")"));
  return result.GetInt64(0, 0);
}

Result<std::vector<std::string>> ColumnNames(const fs::path& root) {
  TRIB_ASSIGN_OR_RETURN(auto conn, sql::Database::OpenInMemoryConnection());
  TRIB_ASSIGN_OR_RETURN(auto snapshot, lake::delta::Snapshot::LoadLatest(root));
  TRIB_ASSIGN_OR_RETURN(std::string scan, lake::delta::BuildScanQuery(*snapshot, *conn));
  TRIB_ASSIGN_OR_RETURN(auto result, conn->Query("SELECT * FROM (" + scan + ") LIMIT 0"));
  std::vector<std::string> names;
  for (size_t i = 0; i < result.column_count(); ++i) {
    names.push_back(result.column_name(i));
  }
  return names;
}

size_t CountMatches(const std::string& text, const std::regex& pattern) {
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), pattern),
                    std::sregex_iterator()));
}

TEST(QuickstartE2eTest, ShowsLiveChangesLeavesTheLakeAndStopsItsServers) {
  Status pg_binaries = devserver::FindPostgresBinaries();
  Status maria_binaries = devserver::FindMariaDbBinaries();
  for (const Status* status : {&pg_binaries, &maria_binaries}) {
    if (!status->ok()) {
      if (testing::E2eRequired()) {
        FAIL() << status->error().ToString();
      }
      GTEST_SKIP() << status->error().ToString();
    }
  }

  testing::TempDir temp("trib-quickstart");
  // The servers run as postgres/mysql: let them enter the (mkdtemp, 0700) temp dir.
  ASSERT_EQ(chmod(temp.path().c_str(), 0755), 0);
  const fs::path work_dir = temp.path() / "qs";
  testing::RunOptions options;
  options.timeout = std::chrono::seconds(840);
  RunResult run =
      testing::RunTributary({"quickstart", "--exit", "--work-dir", work_dir.string()}, options);
  SCOPED_TRACE("stdout:\n" + run.out + "\nstderr:\n" + run.err);
  EXPECT_EQ(run.exit_code, 0);

  // What the user sees.
  EXPECT_THAT(run.out, HasSubstr("PostgreSQL  127.0.0.1:"));
  EXPECT_THAT(run.out, HasSubstr("MariaDB     127.0.0.1:"));
  EXPECT_THAT(run.out, HasSubstr("MySQL/MariaDB capture is not built yet"));
  EXPECT_THAT(run.out, HasSubstr("Snapshot done"));
  for (int step = 1; step <= 5; ++step) {
    EXPECT_THAT(run.out, HasSubstr("[" + std::to_string(step) + "/5]"));
  }
  // Five changes, each with a silver line and a gold line carrying a latency.
  EXPECT_EQ(CountMatches(run.out, std::regex(R"(\n +silver\.\w+ +\+ *[0-9.]+ ms)")), 5u);
  EXPECT_EQ(CountMatches(run.out, std::regex(R"(\n +gold\.\w+ +\+ *[0-9.]+ ms)")), 5u);
  EXPECT_THAT(run.out, HasSubstr("row removed"));
  for (const char* model : {"dim_date", "dim_customer", "dim_customer_scd2", "dim_product",
                            "fact_sales", "sales_by_category_month"}) {
    EXPECT_THAT(run.out, HasSubstr(std::string("gold.") + model + ": "));
  }
  EXPECT_THAT(run.out, HasSubstr(" sql --lake " + (work_dir / "lake").string()));
  EXPECT_THAT(run.out, HasSubstr("Stopped MariaDB (pid "));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr("password")));

  // The lake: row counts follow from the generated dataset plus the live script
  // (+1 customer, +2 order lines, -1 order line; 6 change events in all).
  auto retail = datasets::GenerateDataset("retail", 1);
  ASSERT_TRUE(retail.ok()) << retail.status().ToString();
  std::map<std::string, int64_t> generated;
  int64_t generated_total = 0;
  for (const auto& table : *retail) {
    generated[table.spec.name] = static_cast<int64_t>(table.rows.size());
    generated_total += static_cast<int64_t>(table.rows.size());
  }
  const fs::path lake = work_dir / "lake";
  const std::map<std::string, int64_t> expected = {
      {"bronze/all_events", generated_total + 6},
      {"silver/customer", generated["customer"] + 1},
      {"silver/product", generated["product"]},
      {"silver/salesorder", generated["salesorder"] + 1},
      {"gold/dim_customer", generated["customer"] + 1},
      {"gold/dim_customer_scd2", generated["customer"] + 2},
      {"gold/dim_product", generated["product"]},
      {"gold/fact_sales", generated["salesorder"] + 1},
  };
  for (const auto& [table, rows] : expected) {
    EXPECT_TRUE(fs::is_directory(lake / table / "_delta_log")) << table;
    auto count = CountRows(lake / table);
    ASSERT_TRUE(count.ok()) << table << ": " << count.status().ToString();
    EXPECT_EQ(*count, rows) << table;
  }
  auto dim_date = CountRows(lake / "gold/dim_date");
  ASSERT_TRUE(dim_date.ok()) << dim_date.status().ToString();
  EXPECT_GT(*dim_date, 0);
  // Only its existence here: its totals are the gold stage's tests' business (the model's
  // refreshes currently fail on a HUGEINT vs decimal(38,0) column, which the quickstart
  // reports as a warning).
  EXPECT_TRUE(fs::is_directory(lake / "gold/sales_by_category_month/_delta_log"));
  // Silver keeps the source's column names plus metadata columns.
  auto columns = ColumnNames(lake / "silver/customer");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  EXPECT_THAT(*columns, ::testing::IsSupersetOf({"CustomerID", "FirstName", "LastName",
                                                 "EmailAddress"}));

  // The reusable config is there, and every server it started is gone.
  EXPECT_TRUE(fs::exists(work_dir / "quickstart.toml"));
  std::ifstream pids(work_dir / "quickstart.pids");
  ASSERT_TRUE(pids) << "no quickstart.pids in " << work_dir;
  std::map<std::string, long> recorded;
  std::string server;
  long pid = 0;
  while (pids >> server >> pid) {
    recorded[server] = pid;
  }
  EXPECT_EQ(recorded.count("postgres"), 1u);
  EXPECT_EQ(recorded.count("mariadbd"), 1u);
  for (const auto& [name, server_pid] : recorded) {
    ASSERT_GT(server_pid, 0);
    std::ifstream comm("/proc/" + std::to_string(server_pid) + "/comm");
    std::string running;
    std::getline(comm, running);
    EXPECT_NE(running, name) << name << " pid " << server_pid << " is still running";
  }
}

}  // namespace
}  // namespace tributary
