// Proves the PostgreSQL test harness works: the server really starts, speaks libpq over
// TCP on 127.0.0.1, is set up for logical replication (pgoutput slots decode changes),
// restarts and recovers, and leaves no process behind.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include "testing/postgres_fixture.h"
#include "testing/process_probe.h"

namespace tributary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class PostgresFixtureTest : public PostgresFixture {};

TEST_F(PostgresFixtureTest, RunsQueriesOverTcp) {
  auto rows = postgres().Exec(
      "SELECT 1 + 1 AS two, current_database(), version(), host(inet_server_addr()), "
      "inet_server_port()");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->columns.front(), "two");
  EXPECT_EQ(rows->Text(0, 0), "2");
  EXPECT_EQ(rows->Text(0, 1), "tributary");
  EXPECT_THAT(rows->Text(0, 2), StartsWith("PostgreSQL 15"));
  EXPECT_EQ(rows->Text(0, 3), "127.0.0.1");
  EXPECT_EQ(rows->Text(0, 4), std::to_string(postgres().port()));

  // A client of our own reaches it through the DSN alone.
  PGconn* conn = PQconnectdb(postgres().Dsn().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, "SELECT count(*) FROM pg_stat_activity");
  EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK);
  PQclear(result);
  PQfinish(conn);
  EXPECT_THAT(postgres().Dsn(), HasSubstr("host=127.0.0.1"));
  EXPECT_THAT(postgres().Dsn(), HasSubstr("port=" + std::to_string(postgres().port())));
}

TEST_F(PostgresFixtureTest, ReportsSqlErrorsWithSqlState) {
  auto rows = postgres().Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(rows.status().ToString(), HasSubstr("no_such_table"));
  EXPECT_THAT(rows.status().ToString(), HasSubstr("42P01"));
}

TEST_F(PostgresFixtureTest, IsConfiguredForLogicalReplication) {
  auto rows = postgres().Exec(
      "SELECT current_setting('wal_level'), "
      "current_setting('max_replication_slots')::int, "
      "current_setting('max_wal_senders')::int, rolsuper, rolreplication "
      "FROM pg_roles WHERE rolname = current_user");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->Text(0, 0), "logical");
  EXPECT_GE(std::stoi(rows->Text(0, 1)), 10);
  EXPECT_GE(std::stoi(rows->Text(0, 2)), 10);
  EXPECT_EQ(rows->Text(0, 3), "t");
  EXPECT_EQ(rows->Text(0, 4), "t");
  auto wal_level = postgres().Exec("SHOW wal_level");
  ASSERT_TRUE(wal_level.ok()) << wal_level.status().ToString();
  EXPECT_EQ(wal_level->Scalar(), "logical");
}

TEST_F(PostgresFixtureTest, CreatesPgoutputSlotAndDecodesChanges) {
  TRIB_ASSERT_OK(
      postgres().Exec("CREATE TABLE slot_probe (id int PRIMARY KEY, name text);"
                      "CREATE PUBLICATION slot_probe_pub FOR TABLE slot_probe"));
  auto created = postgres().Exec(
      "SELECT slot_name, lsn FROM pg_create_logical_replication_slot('probe_slot', "
      "'pgoutput')");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->Text(0, 0), "probe_slot");

  auto slots = postgres().Exec(
      "SELECT plugin, slot_type, database, active FROM pg_replication_slots "
      "WHERE slot_name = 'probe_slot'");
  ASSERT_TRUE(slots.ok()) << slots.status().ToString();
  ASSERT_EQ(slots->size(), 1u);
  EXPECT_EQ(slots->Text(0, 0), "pgoutput");
  EXPECT_EQ(slots->Text(0, 1), "logical");
  EXPECT_EQ(slots->Text(0, 2), "tributary");
  EXPECT_EQ(slots->Text(0, 3), "f");

  TRIB_ASSERT_OK(postgres().Exec("INSERT INTO slot_probe VALUES (1, 'one'), (2, 'two')"));
  // pgoutput messages: 'B'egin, 'R'elation, 'I'nsert x2, 'C'ommit.
  auto changes = postgres().Exec(
      "SELECT chr(get_byte(data, 0)) FROM pg_logical_slot_peek_binary_changes("
      "'probe_slot', NULL, NULL, 'proto_version', '1', 'publication_names', "
      "'slot_probe_pub')");
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  std::string kinds;
  for (size_t row = 0; row < changes->size(); ++row) {
    kinds += changes->Text(row, 0);
  }
  EXPECT_EQ(kinds, "BRIIC");
  TRIB_ASSERT_OK(postgres().Exec("SELECT pg_drop_replication_slot('probe_slot')"));
}

TEST_F(PostgresFixtureTest, AcceptsReplicationConnections) {
  // What capture/postgres does: a walsender connection with replication=database.
  PGconn* conn = PQconnectdb((postgres().Dsn() + " replication=database").c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, "IDENTIFY_SYSTEM");
  ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQntuples(result), 1);
  EXPECT_EQ(std::string(PQgetvalue(result, 0, 3)), "tributary");
  PQclear(result);
  PQfinish(conn);
}

TEST_F(PostgresFixtureTest, CreatesRolesAndDatabases) {
  TRIB_ASSERT_OK(postgres().CreateRole("cdc_user", "s3cret 'quoted'", false, true));
  TRIB_ASSERT_OK(postgres().CreateDatabase("other db", "cdc_user"));
  auto rows = postgres().Exec(
      "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = 'cdc_user'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "t");
  EXPECT_EQ(rows->Text(0, 1), "f");
  auto owner = postgres().Exec("SELECT current_database()", "other db");
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(owner->Scalar(), "other db");
}

// Capture tests restart the server mid-stream: same data dir, same port, slots kept.
TEST_F(PostgresFixtureTest, RestartKeepsPortDataAndSlots) {
  TRIB_ASSERT_OK(
      postgres().Exec("CREATE TABLE restart_probe (id int PRIMARY KEY);"
                      "INSERT INTO restart_probe VALUES (1), (2), (3)"));
  TRIB_ASSERT_OK(postgres().Exec(
      "SELECT pg_create_logical_replication_slot('restart_slot', 'pgoutput')"));
  const uint16_t port = postgres().port();
  const pid_t old_pid = postgres().pid();
  const std::vector<pid_t> old_children = ChildProcessesOf(old_pid);
  EXPECT_FALSE(old_children.empty());

  const auto started = std::chrono::steady_clock::now();
  TRIB_ASSERT_OK(postgres().Restart());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds(10));

  EXPECT_TRUE(ProcessGone(old_pid));
  for (pid_t child : old_children) {
    EXPECT_TRUE(ProcessGone(child)) << "backend " << child << " survived the restart";
  }
  EXPECT_NE(postgres().pid(), old_pid);
  EXPECT_EQ(postgres().port(), port);
  auto count = postgres().Exec("SELECT count(*) FROM restart_probe");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Scalar(), "3");
  auto slot = postgres().Exec(
      "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'restart_slot'");
  ASSERT_TRUE(slot.ok()) << slot.status().ToString();
  EXPECT_EQ(slot->Scalar(), "1");
  TRIB_ASSERT_OK(postgres().Exec("SELECT pg_drop_replication_slot('restart_slot')"));
}

TEST_F(PostgresFixtureTest, RecoversAfterImmediateStop) {
  TRIB_ASSERT_OK(
      postgres().Exec("CREATE TABLE crash_probe (id int); INSERT INTO crash_probe "
                      "SELECT generate_series(1, 1000)"));
  TRIB_ASSERT_OK(postgres().StopImmediately());
  EXPECT_FALSE(postgres().running());
  TRIB_ASSERT_OK(postgres().Start());
  auto count = postgres().Exec("SELECT count(*) FROM crash_probe");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Scalar(), "1000");
}

TEST(PostgresServerTest, StopEndsEveryServerProcess) {
  auto pg = StartTestPostgres();
  TRIB_REQUIRE_SERVER(pg);
  const pid_t pid = pg->pid();
  ASSERT_GT(pid, 0);
  TRIB_ASSERT_OK(pg->Exec("SELECT 1"));
  std::vector<pid_t> children = ChildProcessesOf(pid);
  EXPECT_GE(children.size(), 3u);  // checkpointer, background writer, walwriter, ...
  const std::filesystem::path work_dir = pg->work_dir();
  TRIB_ASSERT_OK(pg->Stop());
  EXPECT_FALSE(pg->running());
  EXPECT_TRUE(ProcessGone(pid));
  for (pid_t child : children) {
    EXPECT_TRUE(ProcessGone(child)) << "postgres child " << child << " survived Stop()";
  }
  pg.reset();  // the destructor removes the work dir
  EXPECT_FALSE(std::filesystem::exists(work_dir));
}

TEST(PostgresServerTest, DestructorStopsTheServer) {
  auto pg = StartTestPostgres();
  TRIB_REQUIRE_SERVER(pg);
  const pid_t pid = pg->pid();
  pg.reset();
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(PostgresServerTest, PasswordIsRequiredAndNeverInRedactedDsn) {
  auto pg = StartTestPostgres(
      [](devserver::PostgresServerOptions& options) { options.password = "pa ss'word"; });
  TRIB_REQUIRE_SERVER(pg);
  TRIB_ASSERT_OK(pg->Exec("SELECT 1"));
  EXPECT_THAT(pg->Dsn(), HasSubstr("password="));
  EXPECT_THAT(pg->RedactedDsn(), Not(HasSubstr("pa ss")));
  EXPECT_THAT(pg->RedactedDsn(), HasSubstr("password=********"));
  const std::string no_password = "host=127.0.0.1 port=" + std::to_string(pg->port()) +
                                  " dbname=tributary user=postgres";
  PGconn* conn = PQconnectdb(no_password.c_str());
  EXPECT_NE(PQstatus(conn), CONNECTION_OK);
  PQfinish(conn);
}

TEST(PostgresServerTest, MissingBinariesMakeTheServerMissing) {
  auto pg = StartTestPostgres([](devserver::PostgresServerOptions& options) {
    options.bin_dir = "/nonexistent/postgresql/bin";
  });
  EXPECT_FALSE(pg);
  EXPECT_TRUE(pg.missing);
  ASSERT_TRUE(pg.error.has_value());
  EXPECT_EQ(pg.error->code(), ErrorCode::kNotFound);
  EXPECT_THAT(pg.Explain(), HasSubstr("/nonexistent/postgresql/bin/initdb"));
  EXPECT_THAT(pg.Explain(), HasSubstr("postgresql-15"));
}

TEST(PostgresServerTest, TwoServersGetDistinctPorts) {
  auto first = StartTestPostgres();
  TRIB_REQUIRE_SERVER(first);
  auto second = StartTestPostgres();
  TRIB_REQUIRE_SERVER(second);
  EXPECT_NE(first->port(), second->port());
  TRIB_ASSERT_OK(first->Exec("CREATE TABLE only_in_first (id int)"));
  auto rows = second->Exec("SELECT to_regclass('only_in_first') IS NULL");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Scalar(), "t");
}

}  // namespace
}  // namespace tributary::testing
