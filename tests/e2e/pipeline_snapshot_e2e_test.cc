// End-to-end test of issue #5 against a real PostgreSQL 15: a snapshot taken again (with
// snapshot_mode = "always", and after the replication slot was dropped) replaces silver's
// rows, so rows deleted in the source while the pipeline was stopped disappear from
// silver too (also when the snapshot holds no row at all); silver is compared with the
// source row by row after each run.

#include "pipeline_e2e_util.h"

namespace tributary::pipeline_e2e {
namespace {

const std::vector<ComparedColumn>& CustomerColumns() {
  static const std::vector<ComparedColumn> columns = {Plain("id"), Plain("name"),
                                                      Plain("balance")};
  return columns;
}
const std::vector<ComparedColumn>& NoteColumns() {
  static const std::vector<ComparedColumn> columns = {Plain("id"), Plain("body")};
  return columns;
}

std::string WithSnapshotMode(std::string config, const std::string& mode) {
  const std::string anchor = "type = \"postgres\"\n";
  auto at = config.find(anchor);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) {
    config.insert(at + anchor.size(), "snapshot_mode = \"" + mode + "\"\n");
  }
  return config;
}

class PipelineSnapshotTest : public PipelinePostgresTest {
 protected:
  // The walsender of a finished run may still hold the slot for a moment.
  void DropSlot(const std::string& slot) {
    Status dropped = OkStatus();
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto result = postgres().Exec(fmt::format(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
          "slot_name = '{}'",
          slot));
      dropped = result.ok() ? OkStatus() : result.status();
      if (dropped.ok()) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "dropping slot " << slot << ": " << dropped.error().ToString();
  }

  void ExpectSilverEqualsSource(const fs::path& lake) {
    EXPECT_EQ(SilverRows(lake / "silver" / "customer", CustomerColumns()),
              PgRows(postgres(), "customer", CustomerColumns()));
    EXPECT_EQ(SilverRows(lake / "silver" / "note", NoteColumns()),
              PgRows(postgres(), "note", NoteColumns()));
    EXPECT_EQ(SilverRows(lake / "silver" / "tag", {Plain("id")}),
              PgRows(postgres(), "tag", {Plain("id")}));
  }
};

TEST_F(PipelineSnapshotTest, SnapshotTakenAgainDropsRowsDeletedWhileStopped) {
  auto& pg = postgres();
  ASSERT_TRUE(pg.Exec(R"sql(
    CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2));
    CREATE TABLE note (id bigint PRIMARY KEY, body text);
    CREATE TABLE tag (id int PRIMARY KEY);
    INSERT INTO customer SELECT g, 'name ' || g, g * 1.25 FROM generate_series(1, 300) AS g;
    INSERT INTO note SELECT g, 'note ' || g FROM generate_series(1, 20) AS g;
    INSERT INTO tag SELECT g FROM generate_series(1, 3) AS g;
  )sql")
                  .ok());
  tributary::testing::TempDir dir("trib-pipe-snap-e2e");
  const fs::path lake = dir.path() / "lake";
  const std::string config = ConfigText(pg, lake);
  Status first = RunOnce(config, "pipeline.toml");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ExpectSilverEqualsSource(lake);
  ASSERT_EQ(SilverRows(lake / "silver" / "tag", {Plain("id")}).size(), 3u);

  // Stopped: deletes, updates and inserts happen; then a snapshot is taken again.
  ASSERT_TRUE(pg.Exec(R"sql(
    DELETE FROM customer WHERE id BETWEEN 10 AND 120;
    UPDATE customer SET name = name || ' changed' WHERE id % 7 = 0;
    INSERT INTO customer SELECT g, 'late ' || g, 1 FROM generate_series(1000, 1040) AS g;
    DELETE FROM note WHERE id > 5;
    DELETE FROM tag;
  )sql")
                  .ok());
  // snapshot_mode = "always" drops the slot, so these deletes are never streamed.
  Status always = RunOnce(WithSnapshotMode(config, "always"), "pipeline.toml");
  ASSERT_TRUE(always.ok()) << always.error().ToString();
  ExpectSilverEqualsSource(lake);
  EXPECT_EQ(SilverRows(lake / "silver" / "tag", {Plain("id")}).size(), 0u);
  EXPECT_EQ(SilverRows(lake / "silver" / "customer", CustomerColumns()).size(),
            300u - 111 + 41);

  // Stopped again; the slot is lost (dropped), so the next start snapshots again.
  ASSERT_TRUE(pg.Exec(R"sql(
    DELETE FROM customer WHERE id > 1020 OR id < 5;
    INSERT INTO tag VALUES (42);
    UPDATE note SET body = 'edited' WHERE id = 2;
  )sql")
                  .ok());
  DropSlot("tributary_shop");
  Status after_drop = RunOnce(config, "pipeline.toml");
  ASSERT_TRUE(after_drop.ok()) << after_drop.error().ToString();
  ExpectSilverEqualsSource(lake);

  // Streaming keeps working after the snapshot: live changes reach silver.
  ASSERT_TRUE(pg.Exec(R"sql(
    DELETE FROM customer WHERE id = 200;
    INSERT INTO note VALUES (99, 'streamed');
  )sql")
                  .ok());
  Status streamed = RunOnce(config, "pipeline.toml");
  ASSERT_TRUE(streamed.ok()) << streamed.error().ToString();
  ExpectSilverEqualsSource(lake);

  // Stopped; every table emptied without the deletes being streamed. A snapshot with no
  // row at all still ends (a logical-decoding message carries the mark), so silver
  // empties too.
  ASSERT_TRUE(pg.Exec("DELETE FROM customer; DELETE FROM note; DELETE FROM tag;").ok());
  Status emptied = RunOnce(WithSnapshotMode(config, "always"), "pipeline.toml");
  ASSERT_TRUE(emptied.ok()) << emptied.error().ToString();
  ExpectSilverEqualsSource(lake);
  EXPECT_EQ(SilverRows(lake / "silver" / "customer", CustomerColumns()).size(), 0u);
  EXPECT_EQ(SilverRows(lake / "silver" / "note", NoteColumns()).size(), 0u);
}

}  // namespace
}  // namespace tributary::pipeline_e2e
