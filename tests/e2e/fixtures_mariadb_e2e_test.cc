// Proves the MariaDB test harness works: the server really starts, speaks the MySQL
// protocol over TCP on 127.0.0.1, writes a row-based binlog with full images, restarts,
// and leaves no process behind.

#include <filesystem>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mysql.h>
#include <signal.h>

#include "testing/mariadb_fixture.h"
#include "testing/process_probe.h"

namespace tributary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class MariaDbFixtureTest : public MariaDbFixture {};

TEST_F(MariaDbFixtureTest, RunsQueriesOverTcp) {
  auto rows = mariadb().Exec("SELECT 1 + 1 AS two, DATABASE(), VERSION(), @@port");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->columns.front(), "two");
  EXPECT_EQ(rows->Text(0, 0), "2");
  EXPECT_EQ(rows->Text(0, 1), "tributary");
  EXPECT_THAT(rows->Text(0, 2), HasSubstr("MariaDB"));
  EXPECT_EQ(rows->Text(0, 3), std::to_string(mariadb().port()));

  // A client of our own reaches it with host, port and user alone.
  MYSQL* mysql = mysql_init(nullptr);
  unsigned int protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol);
  ASSERT_NE(mysql_real_connect(mysql, mariadb().host().c_str(), mariadb().user().c_str(),
                               nullptr, mariadb().database().c_str(), mariadb().port(),
                               nullptr, 0),
            nullptr)
      << mysql_error(mysql);
  EXPECT_EQ(mysql_query(mysql, "SELECT 1"), 0) << mysql_error(mysql);
  mysql_free_result(mysql_store_result(mysql));
  mysql_close(mysql);
}

TEST_F(MariaDbFixtureTest, ReportsSqlErrors) {
  auto rows = mariadb().Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(rows.status().ToString(), HasSubstr("no_such_table"));
  EXPECT_THAT(rows.status().ToString(), HasSubstr("1146"));
}

TEST_F(MariaDbFixtureTest, BinlogIsRowBasedWithFullImages) {
  auto rows = mariadb().Exec(
      "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, "
      "@@server_id, @@character_set_server");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "1");
  EXPECT_EQ(rows->Text(0, 1), "ROW");
  EXPECT_EQ(rows->Text(0, 2), "FULL");
  EXPECT_EQ(rows->Text(0, 3), "FULL");
  EXPECT_EQ(rows->Text(0, 4), std::to_string(mariadb().server_id()));
  EXPECT_NE(mariadb().server_id(), 0u);
  EXPECT_NE(mariadb().server_id(), 1u);
  EXPECT_EQ(rows->Text(0, 5), "utf8mb4");
}

TEST_F(MariaDbFixtureTest, InsertAdvancesBinlogPosition) {
  TRIB_ASSERT_OK(
      mariadb().Exec("CREATE TABLE binlog_probe (id INT PRIMARY KEY, name TEXT)"));
  auto before = mariadb().Exec("SHOW MASTER STATUS");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->columns.at(0), "File");
  const std::string file = before->Text(0, 0);
  const uint64_t position = std::stoull(before->Text(0, 1));
  EXPECT_THAT(file, StartsWith("mariadb-bin."));
  EXPECT_GT(position, 4u);

  TRIB_ASSERT_OK(
      mariadb().Exec("INSERT INTO binlog_probe VALUES (1, 'one'), (2, 'two')"));
  auto after = mariadb().Exec("SHOW MASTER STATUS");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->Text(0, 0), file);
  EXPECT_GT(std::stoull(after->Text(0, 1)), position);

  // The insert is logged as a row event, not as a statement.
  auto events = mariadb().Exec("SHOW BINLOG EVENTS IN '" + file + "' FROM " +
                               std::to_string(position));
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  std::set<std::string> types;
  for (size_t row = 0; row < events->size(); ++row) {
    types.insert(events->Text(row, 2));
  }
  EXPECT_TRUE(types.count("Write_rows_v1") == 1 || types.count("Write_rows") == 1)
      << "event types: " << ::testing::PrintToString(types);
  EXPECT_EQ(types.count("Table_map"), 1u);
  EXPECT_EQ(types.count("Gtid"), 1u);  // MariaDB GTIDs are always on
  EXPECT_EQ(types.count("Xid"), 1u);   // InnoDB commit
}

TEST_F(MariaDbFixtureTest, RestartKeepsPortAndData) {
  TRIB_ASSERT_OK(mariadb().Exec(
      "CREATE TABLE restart_probe (id INT PRIMARY KEY); INSERT INTO restart_probe VALUES "
      "(1), (2), (3)"));
  const uint16_t port = mariadb().port();
  const pid_t old_pid = mariadb().pid();
  const uint32_t server_id = mariadb().server_id();
  TRIB_ASSERT_OK(mariadb().Restart());
  EXPECT_TRUE(ProcessGone(old_pid));
  EXPECT_NE(mariadb().pid(), old_pid);
  EXPECT_EQ(mariadb().port(), port);
  EXPECT_EQ(mariadb().server_id(), server_id);
  auto count = mariadb().Exec("SELECT COUNT(*) FROM restart_probe");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Scalar(), "3");
}

TEST(MariaDbServerTest, StopEndsTheServerAndRemovesItsDir) {
  auto db = StartTestMariaDb();
  TRIB_REQUIRE_SERVER(db);
  const pid_t pid = db->pid();
  ASSERT_GT(pid, 0);
  const std::filesystem::path work_dir = db->work_dir();
  TRIB_ASSERT_OK(db->Stop());
  EXPECT_TRUE(ProcessGone(pid));
  db.reset();
  EXPECT_FALSE(std::filesystem::exists(work_dir));
}

TEST(MariaDbServerTest, PasswordAndServerIdsAreHonoured) {
  auto first = StartTestMariaDb([](devserver::MariaDbServerOptions& options) {
    options.password = "p@ss 'w\\ord";
    options.server_id = 4242;
    options.gtid_strict_mode = true;
  });
  TRIB_REQUIRE_SERVER(first);
  auto rows = first->Exec("SELECT @@server_id, @@gtid_strict_mode, CURRENT_USER()");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "4242");
  EXPECT_EQ(rows->Text(0, 1), "1");
  EXPECT_EQ(rows->Text(0, 2), "tributary@%");
  EXPECT_THAT(first->RedactedDsn(), Not(HasSubstr("w\\ord")));
  EXPECT_THAT(first->Url(),
              HasSubstr("mysql://tributary:p%40ss%20%27w%5Cord@127.0.0.1:"));
  TRIB_ASSERT_OK(
      first->CreateUser("reader", "pw", "SELECT, REPLICATION SLAVE, REPLICATION CLIENT"));
  TRIB_ASSERT_OK(first->CreateDatabase("second"));

  auto second = StartTestMariaDb();
  TRIB_REQUIRE_SERVER(second);
  EXPECT_NE(second->server_id(), first->server_id());
  EXPECT_NE(second->port(), first->port());
}

TEST(MariaDbServerTest, MissingBinariesMakeTheServerMissing) {
  auto db = StartTestMariaDb([](devserver::MariaDbServerOptions& options) {
    options.mariadbd = "/nonexistent/mariadbd";
  });
  EXPECT_FALSE(db);
  EXPECT_TRUE(db.missing);
  EXPECT_THAT(db.Explain(), HasSubstr("/nonexistent/mariadbd"));
  EXPECT_THAT(db.Explain(), HasSubstr("mariadb-server"));
}

}  // namespace
}  // namespace tributary::testing
