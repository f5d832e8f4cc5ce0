#include "cli/pipeline_wiring.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/config.h"

namespace tributary::cli {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

Result<capture::postgres::PostgresCaptureOptions> Convert(const std::string& text) {
  auto config = ParseConfig(text, "conf/pipeline.toml");
  if (!config.ok()) {
    return std::move(config).status();
  }
  EXPECT_EQ(config->sources.size(), 1u);
  return PostgresCaptureOptionsFromConfig(*config, config->sources.at(0));
}

TEST(PostgresCaptureOptionsFromConfigTest, MapsEveryPostgresSourceKey) {
  auto options = Convert(R"(
[pipeline]
reconnect_backoff_min_ms = 300
reconnect_backoff_max_ms = 9000

[[sources]]
name = "db"
type = "postgres"
dsn = "host=localhost dbname=shop"
tables = ["public.orders", "inv.\"Stock.Items\""]
snapshot_mode = "initial_only"
snapshot_chunk_rows = 777
heartbeat_interval_ms = 1500
heartbeat_table = "ops.heartbeat"
status_interval_ms = 2500
streaming = false
slot_name = "shop_slot"
publication_name = "shop_pub"
)");
  ASSERT_TRUE(options.ok()) << options.error().ToString();
  EXPECT_EQ(options->dsn, "host=localhost dbname=shop");
  EXPECT_EQ(options->name, "db");
  EXPECT_EQ(options->slot_name, "shop_slot");
  EXPECT_EQ(options->publication_name, "shop_pub");
  ASSERT_EQ(options->tables.size(), 2u);
  EXPECT_EQ(options->tables[0].schema, "public");
  EXPECT_EQ(options->tables[0].table, "orders");
  EXPECT_EQ(options->tables[1].schema, "inv");
  EXPECT_EQ(options->tables[1].table, "Stock.Items");
  EXPECT_EQ(options->snapshot_mode, capture::postgres::SnapshotMode::kInitialOnly);
  EXPECT_EQ(options->snapshot_fetch_rows, 777u);
  EXPECT_EQ(options->heartbeat_interval, milliseconds(1500));
  EXPECT_EQ(options->heartbeat_table, "ops.heartbeat");
  EXPECT_EQ(options->status_interval, milliseconds(2500));
  EXPECT_FALSE(options->streaming);
  EXPECT_EQ(options->reconnect_backoff_initial, milliseconds(300));
  EXPECT_EQ(options->reconnect_backoff_max, milliseconds(9000));
  EXPECT_TRUE(options->Validate().ok());
}

TEST(PostgresCaptureOptionsFromConfigTest, DefaultsSlotAndPublicationFromTheSourceName) {
  auto options = Convert(R"([[sources]]
name = "Shop-DB.2"
type = "postgres"
dsn = "host=localhost"
)");
  ASSERT_TRUE(options.ok()) << options.error().ToString();
  EXPECT_EQ(options->slot_name, "tributary_shop_db_2");
  EXPECT_EQ(options->publication_name, "tributary_shop_db_2");
  EXPECT_TRUE(options->tables.empty());
  EXPECT_EQ(options->snapshot_mode, capture::postgres::SnapshotMode::kInitial);
  EXPECT_EQ(options->heartbeat_interval, milliseconds(0));
  EXPECT_EQ(options->heartbeat_table, "");
  EXPECT_TRUE(options->streaming);
}

TEST(PostgresCaptureOptionsFromConfigTest, NamesTheSourceOfABadTableName) {
  auto options = Convert(R"([[sources]]
name = "db"
type = "postgres"
dsn = "host=localhost"
tables = ["a.b.c"]
)");
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(options.error().ToString(), HasSubstr("a.b.c"));
  EXPECT_THAT(options.error().ToString(), HasSubstr("source db"));
}

}  // namespace
}  // namespace tributary::cli
