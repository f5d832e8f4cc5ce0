// End-to-end tests of the medallion pipeline against a real PostgreSQL 15: snapshot + live
// changes of every op type + schema changes through `run --once` (in process and through
// the binary), silver compared with the source row by row. Exactly-once across 20 SIGKILLs
// of `tributary run` during a pgbench load is pipeline_kill_e2e_test.

#include "pipeline_e2e_util.h"

namespace tributary::pipeline_e2e {
namespace {

const std::vector<ComparedColumn>& CustomerColumns() {
  static const std::vector<ComparedColumn> columns = {
      Plain("id"),  Plain("name"),  Plain("balance"), Plain("born"), Epoch("updated"),
      Epoch("created"), Bool("vip"), Plain("uid"), Md5("bio")};
  return columns;
}

TEST_F(PipelinePostgresTest, SnapshotLiveChangesEveryOpAndSchemaChangeReachSilverExactly) {
  auto& pg = postgres();
  ASSERT_TRUE(pg.Exec(R"sql(
    CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2),
      born date, updated timestamptz, created timestamp, vip boolean, uid uuid, bio text);
    CREATE TABLE note (id bigint PRIMARY KEY, body text);
    INSERT INTO customer SELECT g, 'name ' || g, g * 1.25, date '2000-01-01' + g,
      timestamptz '2024-01-01 10:00:00.123456+02' + g * interval '1 hour',
      timestamp '2023-05-05 05:05:05.5' + g * interval '1 minute', g % 2 = 0,
      md5(g::text)::uuid,
      (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 200) AS i)
      FROM generate_series(1, 50) AS g;
    INSERT INTO note SELECT g, 'note ' || g FROM generate_series(1, 5) AS g;
  )sql").ok());
  tributary::testing::TempDir dir("trib-pipe-e2e");
  const fs::path lake = dir.path() / "lake";
  const std::string config = ConfigText(
      pg, lake,
      "\n[[silver.tables]]\ntable = \"public.customer\"\nnot_null = [\"name\"]\n"
      "ranges = { balance = { min = 0 } }\n"
      "\n[[gold.models]]\nname = \"customer_count\"\n"
      "query = \"SELECT count(*) AS n, sum(balance) AS total FROM silver.customer\"\n");
  Status first = RunOnce(config, "pipeline.toml");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(SilverRows(lake / "silver" / "customer", CustomerColumns()),
            PgRows(pg, "customer", CustomerColumns()));

  // Live changes: every op type, a primary-key change, unchanged TOAST, truncate, schema.
  ASSERT_TRUE(pg.Exec(R"sql(
    INSERT INTO customer VALUES (100, 'new', 1.00, '1999-12-31', now(), now()::timestamp,
      true, gen_random_uuid(), 'short');
    UPDATE customer SET balance = balance + 100 WHERE id <= 10;
    UPDATE customer SET name = 'renamed' WHERE id = 11;
    DELETE FROM customer WHERE id BETWEEN 20 AND 25;
    UPDATE customer SET id = 1000 WHERE id = 30;
    BEGIN; UPDATE customer SET vip = NOT vip WHERE id = 31; DELETE FROM customer WHERE id = 32;
      INSERT INTO customer (id, name) VALUES (32, 'reborn'); COMMIT;
    TRUNCATE note;
    INSERT INTO note VALUES (9, 'after truncate');
    ALTER TABLE customer ADD COLUMN email text;
    UPDATE customer SET email = 'c' || id || '@example.com' WHERE id % 3 = 0;
    ALTER TABLE customer DROP COLUMN uid;
    UPDATE customer SET name = name || '!' WHERE id = 40;
    INSERT INTO customer (id, name, balance) VALUES (200, 'bad balance', -5);
  )sql").ok());
  Status second = RunOnce(config, "pipeline.toml");
  ASSERT_TRUE(second.ok()) << second.error().ToString();

  std::vector<ComparedColumn> columns = CustomerColumns();
  columns.erase(std::remove_if(columns.begin(), columns.end(),
                               [](const ComparedColumn& c) {
                                 return c.pg.find("\"uid\"") != std::string::npos;
                               }),
                columns.end());
  columns.push_back(Plain("email"));
  // id 200 fails the range rule: it is quarantined, not in silver.
  auto expected = PgRows(pg, "customer WHERE id <> 200", columns);
  EXPECT_EQ(SilverRows(lake / "silver" / "customer", columns), expected);
  EXPECT_EQ(expected.size(), 50u + 1 - 6 - 1 + 1);
  EXPECT_EQ(SilverRows(lake / "silver" / "note", {Plain("id"), Plain("body")}),
            PgRows(pg, "note", {Plain("id"), Plain("body")}));
  // The dropped column stays, null from then on for changed rows.
  auto uid = QueryTable(lake / "silver" / "customer",
                        "SELECT count(*) FILTER (WHERE uid IS NOT NULL), count(*) FILTER "
                        "(WHERE id = 40 AND uid IS NULL) FROM {t}");
  ASSERT_TRUE(uid.ok()) << uid.status().ToString();
  EXPECT_GT(uid->GetInt64(0, 0), 0);
  EXPECT_EQ(uid->GetInt64(1, 0), 1);
  auto quarantine = QueryTable(lake / "silver" / "_quarantine",
                               "SELECT key_json, rule FROM {t}");
  ASSERT_TRUE(quarantine.ok()) << quarantine.status().ToString();
  ASSERT_EQ(quarantine->row_count(), 1u);
  EXPECT_EQ(quarantine->GetString(0, 0), "{\"id\":\"200\"}");
  auto gold = QueryTable(lake / "gold" / "customer_count", "SELECT n FROM {t}");
  ASSERT_TRUE(gold.ok()) << gold.status().ToString();
  EXPECT_EQ(gold->GetInt64(0, 0), static_cast<int64_t>(expected.size()));
  // Bronze holds every change once (no position twice).
  auto dup = QueryTable(lake / "bronze" / "all_events",
                        "SELECT count(*) FROM (SELECT position FROM {t} GROUP BY position "
                        "HAVING count(*) > 1)");
  ASSERT_TRUE(dup.ok()) << dup.status().ToString();
  EXPECT_EQ(dup->GetInt64(0, 0), 0);
}

TEST_F(PipelinePostgresTest, BinaryRunOnceAndSqlCommand) {
  auto& pg = postgres();
  ASSERT_TRUE(pg.Exec(R"sql(
    CREATE TABLE item (id int PRIMARY KEY, label text, price numeric(8,2));
    INSERT INTO item SELECT g, 'item ' || g, g FROM generate_series(1, 20) AS g;
  )sql").ok());
  tributary::testing::TempDir dir("trib-pipe-bin");
  const fs::path lake = dir.path() / "lake";
  const fs::path config = dir.path() / "pipeline.toml";
  std::ofstream(config) << fmt::format(
      "[lake]\nroot = \"{}\"\n\n[[sources]]\nname = \"bin\"\ntype = \"postgres\"\n"
      "dsn = \"{}\"\ntables = [\"public.item\"]\n",
      lake.string(), pg.Dsn());
  const fs::path log = dir.path() / "run.log";
  ASSERT_EQ(WaitExit(Spawn({"run", "-c", config.string(), "--once"}, log)), 0)
      << ReadFile(log);
  ASSERT_TRUE(pg.Exec("UPDATE item SET price = price * 2 WHERE id <= 5; DELETE FROM item "
                      "WHERE id = 20")
                  .ok());
  ASSERT_EQ(WaitExit(Spawn({"run", "-c", config.string(), "--once"}, log)), 0)
      << ReadFile(log);
  const fs::path out = dir.path() / "sql.out";
  ASSERT_EQ(WaitExit(Spawn({"sql", "--lake", lake.string(), "--format", "csv",
                            "SELECT count(*) AS n, sum(price) AS total FROM silver.item"},
                           out)),
            0)
      << ReadFile(out);
  EXPECT_EQ(ReadFile(out), "n,total\n19,205.00\n");
  const fs::path out2 = dir.path() / "sql2.out";
  ASSERT_EQ(WaitExit(Spawn({"sql", "--format", "jsonl",
                            fmt::format("SELECT count(*) AS n FROM delta_scan('{}', version "
                                        "=> 1)",
                                        (lake / "silver" / "item").string())},
                           out2)),
            0)
      << ReadFile(out2);
  EXPECT_EQ(ReadFile(out2), "{\"n\":20}\n");
}

}  // namespace
}  // namespace tributary::pipeline_e2e
