#include "pipeline/database_options.h"

#include <gtest/gtest.h>

#include "sql/database.h"

namespace tributary::pipeline {
namespace {

TEST(StageDatabaseOptionsTest, BoundsMemoryAndGivesEachStageItsOwnSpillDirectory) {
  sql::DatabaseOptions bronze = StageDatabaseOptions("bronze");
  sql::DatabaseOptions silver = StageDatabaseOptions("silver");
  EXPECT_EQ(bronze.config.at("memory_limit"), kStageMemoryLimit);
  // Each stage runs on its own thread: DuckDB works on the caller's thread only.
  EXPECT_EQ(bronze.config.at("threads"), "1");
  EXPECT_NE(bronze.config.at("temp_directory"), silver.config.at("temp_directory"));
  EXPECT_NE(bronze.config.at("temp_directory").find("bronze"), std::string::npos);

  // DuckDB accepts the options and reports the limit back.
  auto db = sql::Database::Open(bronze);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto limit = (*conn)->Query("SELECT current_setting('memory_limit')");
  ASSERT_TRUE(limit.ok()) << limit.status().ToString();
  EXPECT_NE(limit->GetString(0, 0), "");
  EXPECT_NE(limit->GetString(0, 0).find("MiB"), std::string::npos) << limit->GetString(0, 0);
  auto threads = (*conn)->Query("SELECT current_setting('threads')");
  ASSERT_TRUE(threads.ok()) << threads.status().ToString();
  EXPECT_EQ(threads->GetString(0, 0), "1");
}

}  // namespace
}  // namespace tributary::pipeline
