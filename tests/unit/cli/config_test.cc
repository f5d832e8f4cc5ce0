#include "cli/config.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <variant>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::cli {
namespace {

using ::testing::HasSubstr;

// The core example from issue 2, exactly as written there.
constexpr const char* kCoreExample = R"(
[lake]
root = "/var/lib/tributary/lake"     # bronze/, silver/, gold/ live under it

[[sources]]
name = "dbserver1"                   # Debezium's topic.prefix
type = "postgres"                    # postgres | mysql | kafka
dsn = "host=127.0.0.1 port=5432 dbname=appdb user=app"   # libpq string or a URI
tables = ["public.customer", "public.product"]           # optional: default all tables
)";

// A minimal valid source to append sections to.
constexpr const char* kSource = R"([[sources]]
name = "db"
type = "postgres"
dsn = "host=localhost"
)";

// Parses `text` as "conf/pipeline.toml" and expects an error mentioning
// "conf/pipeline.toml:<line>: <key>" and `detail`.
void ExpectError(const std::string& text,
                 int line,
                 const std::string& key,
                 const std::string& detail) {
  auto result = ParseConfig(text, "conf/pipeline.toml");
  ASSERT_FALSE(result.ok()) << "expected an error for:\n" << text;
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
  const std::string message = result.status().ToString();
  EXPECT_THAT(message, HasSubstr(fmt::format("conf/pipeline.toml:{}: {}:", line, key)))
      << "for:\n"
      << text;
  EXPECT_THAT(message, HasSubstr(detail)) << "for:\n" << text;
}

TEST(ConfigTest, CoreExampleParses) {
  auto config = ParseConfig(kCoreExample, "pipeline.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake.root, "/var/lib/tributary/lake");
  ASSERT_EQ(config->sources.size(), 1u);
  const SourceConfig& source = config->sources[0];
  EXPECT_EQ(source.name, "dbserver1");
  EXPECT_EQ(source.type, SourceType::kPostgres);
  EXPECT_EQ(source.dsn, "host=127.0.0.1 port=5432 dbname=appdb user=app");
  EXPECT_THAT(source.tables, ::testing::ElementsAre("public.customer", "public.product"));
  EXPECT_EQ(source.line, 5u);
  EXPECT_EQ(config->FindSource("dbserver1"), &source);
  EXPECT_EQ(config->FindSource("other"), nullptr);
}

TEST(ConfigTest, DefaultsApplied) {
  auto config = ParseConfig(kSource, "conf/pipeline.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  // Relative to the config file's directory.
  EXPECT_EQ(config->lake.root, "conf/lake");
  const SourceConfig& source = config->sources[0];
  EXPECT_TRUE(source.tables.empty());
  EXPECT_EQ(source.snapshot_mode, SnapshotMode::kInitial);
  EXPECT_EQ(source.snapshot_chunk_rows, 10000);
  EXPECT_EQ(source.heartbeat_interval_ms, 0);
  EXPECT_EQ(source.slot_name, "tributary_db");
  EXPECT_EQ(source.publication_name, "tributary_db");
  EXPECT_EQ(source.heartbeat_table, "");
  EXPECT_EQ(source.status_interval_ms, 10000);
  EXPECT_TRUE(source.streaming);
  const PipelineSettings& pipeline = config->pipeline;
  EXPECT_EQ(pipeline.batch_max_rows, 10000);
  EXPECT_EQ(pipeline.batch_max_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(pipeline.batch_interval_ms, 50);
  EXPECT_EQ(pipeline.batch_interval_max_ms, 500);
  EXPECT_EQ(pipeline.checkpoint_interval, 10);
  EXPECT_EQ(pipeline.compact_min_files, 32);
  EXPECT_EQ(pipeline.gold_min_refresh_interval_ms, 1000);
  EXPECT_EQ(pipeline.reconnect_backoff_min_ms, 100);
  EXPECT_EQ(pipeline.reconnect_backoff_max_ms, 30000);
  EXPECT_TRUE(config->kafka.bootstrap_servers.empty());
  EXPECT_TRUE(config->silver.tables.empty());
  EXPECT_TRUE(config->gold.models.empty());
  EXPECT_FALSE(config->http.enabled);
  EXPECT_EQ(config->http.bind, "127.0.0.1");
  EXPECT_EQ(config->http.port, 8080);
  EXPECT_EQ(config->log.options.level, LogLevel::kInfo);
  EXPECT_EQ(config->log.options.format, LogFormat::kText);
  EXPECT_FALSE(config->log.level_set);
}

TEST(ConfigTest, SlotNameDefaultIsSanitized) {
  auto config = ParseConfig(R"([[sources]]
name = "Shop-DB.eu"
type = "postgres"
dsn = "x=y"
)",
                            "p.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sources[0].slot_name, "tributary_shop_db_eu");
}

TEST(ConfigTest, MysqlServerIdDefaultIsStableAndExplicitWins) {
  const std::string text = R"([[sources]]
name = "shop"
type = "mysql"
dsn = "mysql://repl@127.0.0.1:3306/shop"

[[sources]]
name = "shop2"
type = "mysql"
dsn = "mysql://repl@127.0.0.1:3306/shop"
server_id = 42
)";
  auto first = ParseConfig(text, "p.toml");
  auto second = ParseConfig(text, "p.toml");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_GE(first->sources[0].server_id, 100000u);
  EXPECT_EQ(first->sources[0].server_id, second->sources[0].server_id);
  EXPECT_EQ(first->sources[1].server_id, 42u);
}

TEST(ConfigTest, KafkaSectionAndKafkaSource) {
  auto config = ParseConfig(R"(
[kafka]
bootstrap_servers = "127.0.0.1:9092"
topic_prefix = "cdc."
[kafka.producer]
"linger.ms" = 5
"enable.idempotence" = true
"compression.type" = "zstd"
[kafka.consumer]
"fetch.wait.max.ms" = 100

[[sources]]
name = "topics"
type = "kafka"
tables = ["public.customer"]
)",
                            "p.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->kafka.topic_prefix, "cdc.");
  EXPECT_EQ(config->kafka.producer.at("linger.ms"), "5");
  EXPECT_EQ(config->kafka.producer.at("enable.idempotence"), "true");
  EXPECT_EQ(config->kafka.producer.at("compression.type"), "zstd");
  EXPECT_EQ(config->kafka.consumer.at("fetch.wait.max.ms"), "100");
  const SourceConfig& source = config->sources[0];
  EXPECT_EQ(source.type, SourceType::kKafka);
  EXPECT_EQ(source.bootstrap_servers, "127.0.0.1:9092");  // inherited from [kafka]
  EXPECT_EQ(source.group_id, "tributary-topics");
  EXPECT_EQ(source.auto_offset_reset, OffsetReset::kEarliest);
  EXPECT_TRUE(source.dsn.empty());
}

TEST(ConfigTest, SilverValidationRules) {
  auto config = ParseConfig(std::string(kSource) + R"(
[[silver.tables]]
table = "public.customer"
source = "db"
target = "customers"
key = "id"
not_null = ["id", "email"]
accepted_values = { status = ["active", "inactive"], tier = [1, 2, 3] }
regex = { email = "^[^@]+@[^@]+$" }
[silver.tables.ranges]
age = { min = 0, max = 150 }
score = { min = 0.5 }
since = { min = 2000-01-01, max = 2099-12-31 }
)",
                            "p.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->silver.tables.size(), 1u);
  const SilverTableConfig& table = config->silver.tables[0];
  EXPECT_EQ(table.table, "public.customer");
  EXPECT_EQ(table.source, "db");
  EXPECT_EQ(table.target, "customers");
  EXPECT_THAT(table.key, ::testing::ElementsAre("id"));
  EXPECT_THAT(table.not_null, ::testing::ElementsAre("id", "email"));
  EXPECT_THAT(table.accepted_values.at("status"),
              ::testing::ElementsAre("active", "inactive"));
  EXPECT_THAT(table.accepted_values.at("tier"), ::testing::ElementsAre("1", "2", "3"));
  EXPECT_EQ(table.regex.at("email"), "^[^@]+@[^@]+$");
  EXPECT_EQ(std::get<int64_t>(*table.ranges.at("age").min), 0);
  EXPECT_EQ(std::get<int64_t>(*table.ranges.at("age").max), 150);
  EXPECT_DOUBLE_EQ(std::get<double>(*table.ranges.at("score").min), 0.5);
  EXPECT_FALSE(table.ranges.at("score").max.has_value());
  EXPECT_EQ(std::get<std::string>(*table.ranges.at("since").min), "2000-01-01");
  EXPECT_EQ(std::get<std::string>(*table.ranges.at("since").max), "2099-12-31");
}

TEST(ConfigTest, GoldModelsResolveSqlFilesAgainstTheConfigDirectory) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "models");
  std::ofstream(dir.path() / "models" / "dim_customer.sql") << "SELECT 1 AS id";
  const std::string name = (dir.path() / "pipeline.toml").string();
  auto config = ParseConfig(std::string(kSource) + R"(
[[gold.models]]
name = "dim_customer"
sql = "models/dim_customer.sql"
key = ["id"]
materialization = "incremental"

[[gold.models]]
name = "totals"
query = "SELECT count(*) AS n FROM silver.customer"
)",
                            name);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->gold.models.size(), 2u);
  EXPECT_EQ(config->gold.models[0].sql_file, dir.path() / "models" / "dim_customer.sql");
  EXPECT_EQ(config->gold.models[0].materialization, Materialization::kIncremental);
  EXPECT_EQ(config->gold.models[1].materialization, Materialization::kTable);
  EXPECT_EQ(config->gold.models[1].query, "SELECT count(*) AS n FROM silver.customer");
  EXPECT_EQ(config->lake.root, dir.path() / "lake");
}

TEST(ConfigTest, GoldIncludeReadsModelsFilesRelativeToThemselves) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "models" / "retail");
  std::ofstream(dir.path() / "models" / "retail" / "dim_date.sql")
      << "SELECT 1 AS date_key";
  std::ofstream(dir.path() / "models" / "retail" / "models.toml")
      << "# models only\n[[gold.models]]\nname = \"dim_date\"\nsql = \"dim_date.sql\"\n"
         "key = [\"date_key\"]\n";
  const std::string name = (dir.path() / "conf" / "pipeline.toml").string();
  auto config = ParseConfig(std::string(kSource) + R"(
[gold]
include = ["../models/retail/models.toml"]
[[gold.models]]
name = "extra"
query = "SELECT 2"
)",
                            name);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->gold.models.size(), 2u);
  EXPECT_EQ(config->gold.models[0].name, "dim_date");
  EXPECT_EQ(config->gold.models[0].sql_file,
            dir.path() / "models" / "retail" / "dim_date.sql");
  EXPECT_EQ(config->gold.models[0].line, 2u);
  EXPECT_EQ(config->gold.models[1].name, "extra");

  // Errors inside the included file name that file.
  std::ofstream(dir.path() / "models" / "retail" / "models.toml")
      << "[[gold.models]]\nname = \"dim_date\"\nsql = \"dim_date.sql\"\nmaterialisation "
         "= "
         "\"table\"\n";
  auto bad = ParseConfig(
      std::string(kSource) + "[gold]\ninclude = \"../models/retail/models.toml\"\n",
      name);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(
      bad.status().ToString(),
      HasSubstr("models/retail/models.toml:4: gold.models[0].materialisation: unknown "
                "key (did you mean \"materialization\"?)"));
  auto missing =
      ParseConfig(std::string(kSource) + "[gold]\ninclude = [\"nope.toml\"]\n", name);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().ToString(),
              HasSubstr("pipeline.toml:6: gold.include[0]: cannot read"));
}

TEST(ConfigTest, ShippedRetailAndStoreModelsAreValid) {
  for (const char* dataset : {"retail", "store"}) {
    const auto models =
        std::filesystem::path(TRIB_SOURCE_DIR) / "models" / dataset / "models.toml";
    if (!std::filesystem::exists(models)) {
      GTEST_SKIP() << models << " not present";
    }
    auto config = ParseConfig(
        std::string(kSource) + "[gold]\ninclude = \"" + models.string() + "\"\n",
        "p.toml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_FALSE(config->gold.models.empty()) << dataset;
  }
}

TEST(ConfigTest, HttpAndLog) {
  auto config = ParseConfig(std::string(kSource) + R"(
[http]
enabled = true
bind = "0.0.0.0"
port = 0
[log]
level = "debug"
format = "json"
file = "logs/tributary.log"
)",
                            "/etc/tributary/pipeline.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->http.enabled);
  EXPECT_EQ(config->http.bind, "0.0.0.0");
  EXPECT_EQ(config->http.port, 0);
  EXPECT_EQ(config->log.options.level, LogLevel::kDebug);
  EXPECT_EQ(config->log.options.format, LogFormat::kJson);
  EXPECT_TRUE(config->log.level_set);
  EXPECT_EQ(config->log.options.file, "/etc/tributary/logs/tributary.log");
}

TEST(ConfigTest, EnvironmentVariablesExpandInDsns) {
  ASSERT_EQ(setenv("TRIB_TEST_PGPASSWORD", "s3cret", 1), 0);
  unsetenv("TRIB_TEST_UNSET");
  auto config = ParseConfig(R"([[sources]]
name = "db"
type = "postgres"
dsn = "host=h password=${TRIB_TEST_PGPASSWORD} user=${TRIB_TEST_UNSET:-app} note=$$5"
)",
                            "p.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sources[0].dsn, "host=h password=s3cret user=app note=$5");
  // Never printed in clear.
  const std::string described = DescribeConfig(*config);
  EXPECT_THAT(described, ::testing::Not(HasSubstr("s3cret")));
  EXPECT_THAT(described, HasSubstr("password=***"));
}

TEST(ConfigTest, ExampleConfigsAreValid) {
  for (const char* name : {"minimal.toml", "pipeline.toml", "kafka.toml"}) {
    auto config = LoadConfig(std::filesystem::path(TRIB_SOURCE_DIR) / "examples" / name);
    EXPECT_TRUE(config.ok()) << name << ": " << config.status().ToString();
  }
}

// --- errors: each names the file, the line and the key ---

TEST(ConfigErrorTest, SyntaxError) {
  auto result = ParseConfig("[lake]\nroot = \"x\n", "conf/pipeline.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().ToString(), HasSubstr("conf/pipeline.toml:2:"));
  EXPECT_THAT(result.status().ToString(), HasSubstr("TOML syntax error"));
}

TEST(ConfigErrorTest, UnknownTopLevelKey) {
  ExpectError(std::string(kSource) + "\n[lakes]\nroot = \"x\"\n", 6, "lakes",
              "unknown key");
  ExpectError("verbose = true\n" + std::string(kSource), 1, "verbose", "unknown key");
}

TEST(ConfigErrorTest, UnknownNestedKey) {
  ExpectError(std::string(kSource) + "slot = \"s\"\n", 5, "sources[0].slot",
              "did you mean \"slot_name\"?");
  ExpectError("[lake]\nroot = \"x\"\npath = \"y\"\n" + std::string(kSource), 3,
              "lake.path", "unknown key");
  ExpectError(std::string(kSource) + "[pipeline]\nbatch_rows = 5\n", 6,
              "pipeline.batch_rows", "did you mean \"batch_max_rows\"?");
  ExpectError(
      std::string(kSource) +
          "[[silver.tables]]\ntable = \"public.t\"\nranges = { n = { minimum = 1 } }\n",
      7, "silver.tables[0].ranges.n.minimum", "unknown key");
}

TEST(ConfigErrorTest, WrongType) {
  ExpectError("[lake]\nroot = 5\n" + std::string(kSource), 2, "lake.root",
              "expected a string, got an integer");
  ExpectError(std::string(kSource) + "tables = \"public.customer\"\n", 5,
              "sources[0].tables", "expected an array of strings, got a string");
  ExpectError(std::string(kSource) + "streaming = \"yes\"\n", 5, "sources[0].streaming",
              "expected a boolean");
  ExpectError(std::string(kSource) + "[pipeline]\nbatch_max_rows = \"10\"\n", 6,
              "pipeline.batch_max_rows", "expected an integer, got a string");
  ExpectError(std::string(kSource) + "[http]\nport = 70000\n", 6, "http.port",
              "expected an integer from 0 to 65535, got 70000");
  ExpectError("lake = \"/data\"\n" + std::string(kSource), 1, "lake",
              "expected a table, got a string");
  ExpectError("sources = \"db\"\n", 1, "sources", "expected an array of tables");
}

TEST(ConfigErrorTest, MissingRequiredKey) {
  ExpectError("[lake]\nroot = \"x\"\n\n[[sources]]\ntype = \"postgres\"\ndsn = \"h\"\n",
              4, "sources[0].name", "missing required key");
  ExpectError(std::string(kSource) + "\n[[sources]]\nname = \"db2\"\ntype = \"mysql\"\n",
              6, "sources[1].dsn", "missing required key");
  ExpectError(std::string(kSource) + "[[gold.models]]\nquery = \"SELECT 1\"\n", 5,
              "gold.models[0].name", "missing required key");
  ExpectError("[lake]\nroot = \"x\"\n", 1, "sources", "missing required key");
}

TEST(ConfigErrorTest, BadEnumValue) {
  // The message from issue 2, to the letter.
  auto result = ParseConfig(R"([lake]
root = "/var/lib/tributary/lake"

[[sources]]
name = "dbserver1"

type = "oracle"
dsn = "host=127.0.0.1"
)",
                            "pipeline.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(
      result.status().ToString(),
      "pipeline.toml:7: sources[0].type: expected one of postgres, mysql, kafka, got "
      "\"oracle\"");
  ExpectError(std::string(kSource) + "snapshot_mode = \"sometimes\"\n", 5,
              "sources[0].snapshot_mode",
              "expected one of initial, never, initial_only, always, got \"sometimes\"");
  ExpectError(std::string(kSource) + "[log]\nformat = \"xml\"\n", 6, "log.format",
              "expected one of text, json");
  ExpectError(
      std::string(kSource) +
          "[[gold.models]]\nname = \"m\"\nquery = \"SELECT 1\"\nmaterialization = "
          "\"view\"\n",
      8, "gold.models[0].materialization", "got \"view\"");
}

TEST(ConfigErrorTest, DuplicateSourceNames) {
  ExpectError(std::string(kSource) +
                  "\n[[sources]]\nname = \"db\"\ntype = \"mysql\"\ndsn = "
                  "\"mysql://u@h/d\"\n",
              7, "sources[1].name",
              "duplicate source name \"db\" (also defined at line 1)");
}

TEST(ConfigErrorTest, KeyOfAnotherSourceType) {
  ExpectError(
      "[[sources]]\nname = \"m\"\ntype = \"mysql\"\ndsn = \"mysql://u@h/d\"\n"
      "slot_name = \"s\"\n",
      5, "sources[0].slot_name", "not valid for a mysql source");
  ExpectError(
      "[[sources]]\nname = \"k\"\ntype = \"kafka\"\ndsn = \"x\"\n"
      "bootstrap_servers = \"h:9092\"\n",
      4, "sources[0].dsn", "not valid for a kafka source");
}

TEST(ConfigErrorTest, BadValues) {
  ExpectError(std::string(kSource) + "tables = [\"customer\"]\n", 5,
              "sources[0].tables[0]", "expected \"schema.table\", got \"customer\"");
  ExpectError(std::string(kSource) + "slot_name = \"My-Slot\"\n", 5,
              "sources[0].slot_name", "not a valid replication slot name");
  ExpectError("[[sources]]\nname = \"k\"\ntype = \"kafka\"\n", 1,
              "sources[0].bootstrap_servers", "required for kafka sources");
  ExpectError(std::string(kSource) +
                  "[[silver.tables]]\ntable = \"public.t\"\nregex = { c = "
                  "\"([a-z\" }\n",
              7, "silver.tables[0].regex.c", "invalid regular expression");
  ExpectError(std::string(kSource) +
                  "[[silver.tables]]\ntable = \"public.t\"\nsource = "
                  "\"nope\"\n",
              7, "silver.tables[0].source", "no [[sources]] entry is named \"nope\"");
  ExpectError(
      std::string(kSource) +
          "[[silver.tables]]\ntable = \"public.t\"\nranges = { n = { min = 5, max = 1 "
          "} }\n",
      7, "silver.tables[0].ranges.n", "min is greater than max");
  ExpectError(
      std::string(kSource) + "[[gold.models]]\nname = \"m\"\nsql = \"nope.sql\"\n", 7,
      "gold.models[0].sql", "SQL file not found");
  ExpectError(std::string(kSource) +
                  "[[gold.models]]\nname = \"m\"\nquery = \"SELECT 1\"\n"
                  "materialization = \"incremental\"\n",
              8, "gold.models[0].key",
              "required when materialization is \"incremental\"");
  ExpectError(std::string(kSource) +
                  "[pipeline]\nreconnect_backoff_min_ms = 500\n"
                  "reconnect_backoff_max_ms = 100\n",
              7, "pipeline.reconnect_backoff_max_ms", "must be at least");
  ExpectError(std::string(kSource) +
                  "[pipeline]\nbatch_interval_ms = 200\n"
                  "batch_interval_max_ms = 100\n",
              7, "pipeline.batch_interval_max_ms",
              "must be at least batch_interval_ms (200)");
}

TEST(ConfigTest, BatchIntervalMax) {
  auto set = ParseConfig(std::string(kSource) +
                             "[pipeline]\nbatch_interval_ms = 20\n"
                             "batch_interval_max_ms = 500\n",
                         "pipeline.toml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->pipeline.batch_interval_ms, 20);
  EXPECT_EQ(set->pipeline.batch_interval_max_ms, 500);
  // Unset with a base interval above its default: the base (no adaptation), not an error.
  auto defaulted = ParseConfig(
      std::string(kSource) + "[pipeline]\nbatch_interval_ms = 5000\n", "pipeline.toml");
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().ToString();
  EXPECT_EQ(defaulted->pipeline.batch_interval_max_ms, 5000);
  // Equal to the base turns adaptation off.
  auto off = ParseConfig(std::string(kSource) +
                             "[pipeline]\nbatch_interval_ms = 50\n"
                             "batch_interval_max_ms = 50\n",
                         "pipeline.toml");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->pipeline.batch_interval_max_ms, 50);
}

TEST(ConfigErrorTest, UnsetEnvironmentVariable) {
  unsetenv("TRIB_TEST_SURELY_UNSET");
  ExpectError(
      "[[sources]]\nname = \"db\"\ntype = \"postgres\"\n"
      "dsn = \"password=${TRIB_TEST_SURELY_UNSET}\"\n",
      4, "sources[0].dsn", "environment variable TRIB_TEST_SURELY_UNSET is not set");
}

TEST(ConfigErrorTest, LoadConfigMissingFile) {
  auto result = LoadConfig("/nonexistent/tributary.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.status().ToString(), HasSubstr("/nonexistent/tributary.toml"));
}

TEST(ConfigErrorTest, LoadConfigNamesTheFileInErrors) {
  testing::TempDir dir;
  const auto path = dir.path() / "bad.toml";
  std::ofstream(path) << "[[sources]]\nname = \"db\"\ntype = \"oracle\"\n";
  auto result = LoadConfig(path);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().ToString(),
              HasSubstr(fmt::format("{}:3: sources[0].type:", path.string())));
}

}  // namespace
}  // namespace tributary::cli
