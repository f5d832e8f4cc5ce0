#include "devserver/internal/config_render.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tributary::devserver::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigRenderTest, PostgresConfEnablesLogicalReplicationOnLoopback) {
  PostgresServerOptions options;
  options.max_replication_slots = 16;
  options.max_wal_senders = 12;
  std::string conf = RenderPostgresConf(options, 54321, "/tmp/work/run");
  EXPECT_THAT(conf, HasSubstr("listen_addresses = '127.0.0.1'\n"));
  EXPECT_THAT(conf, HasSubstr("port = 54321\n"));
  EXPECT_THAT(conf, HasSubstr("unix_socket_directories = '/tmp/work/run'\n"));
  EXPECT_THAT(conf, HasSubstr("wal_level = logical\n"));
  EXPECT_THAT(conf, HasSubstr("max_replication_slots = 16\n"));
  EXPECT_THAT(conf, HasSubstr("max_wal_senders = 12\n"));
  EXPECT_THAT(conf, HasSubstr("fsync = off\n"));
  // Logical decoding only sees flushed WAL: commits must flush even without fsync.
  EXPECT_THAT(conf, HasSubstr("synchronous_commit = on\n"));
}

TEST(ConfigRenderTest, PostgresConfHonoursFsyncAndQuotesExtraSettings) {
  PostgresServerOptions options;
  options.fsync = true;
  options.extra_settings = {{"application_name", "it's"}, {"work_mem", "8MB"}};
  std::string conf = RenderPostgresConf(options, 5432, "/tmp/o'dir");
  EXPECT_THAT(conf, HasSubstr("fsync = on\n"));
  EXPECT_THAT(conf, HasSubstr("full_page_writes = on\n"));
  EXPECT_THAT(conf, HasSubstr("unix_socket_directories = '/tmp/o''dir'\n"));
  EXPECT_THAT(conf, HasSubstr("application_name = 'it''s'\n"));
  // Extra settings come last so they override ours.
  EXPECT_GT(conf.find("work_mem = '8MB'"), conf.find("wal_level"));
}

TEST(ConfigRenderTest, PgHbaTrustsSocketAndChoosesTcpMethod) {
  std::string trust = RenderPgHba(false);
  EXPECT_THAT(trust, HasSubstr("host    replication  all   127.0.0.1/32  trust"));
  EXPECT_THAT(trust, Not(HasSubstr("scram")));
  std::string scram = RenderPgHba(true);
  EXPECT_THAT(scram, HasSubstr("host    all          all   127.0.0.1/32  scram-sha-256"));
  EXPECT_THAT(scram, HasSubstr("host    replication  all   127.0.0.1/32  scram-sha-256"));
  EXPECT_THAT(scram, HasSubstr("local   all          all                 trust"));
}

TEST(ConfigRenderTest, DsnValuesAreQuotedAsLibpqExpects) {
  EXPECT_EQ(QuoteDsnValue("plain"), "plain");
  EXPECT_EQ(QuoteDsnValue(""), "''");
  EXPECT_EQ(QuoteDsnValue("two words"), "'two words'");
  EXPECT_EQ(QuoteDsnValue("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteDsnValue("back\\slash"), "'back\\\\slash'");
  EXPECT_EQ(BuildDsn({{"host", "127.0.0.1"}, {"password", ""}, {"dbname", "my db"}}),
            "host=127.0.0.1 dbname='my db'");
}

TEST(ConfigRenderTest, SqlQuoting) {
  EXPECT_EQ(QuotePgIdentifier("Order \"x\""), "\"Order \"\"x\"\"\"");
  EXPECT_EQ(QuotePgLiteral("o'neil"), "'o''neil'");
  EXPECT_EQ(QuoteMySqlIdentifier("we`ird"), "`we``ird`");
  EXPECT_EQ(QuoteMySqlLiteral("a'b\\c"), "'a\\'b\\\\c'");
}

TEST(ConfigRenderTest, MariaDbConfHasRowBasedBinlogForCdc) {
  MariaDbServerOptions options;
  MariaDbLayout layout;
  layout.data_dir = "/tmp/w/data";
  layout.socket = "/tmp/w/mariadbd.sock";
  layout.pid_file = "/tmp/w/mariadbd.pid";
  layout.error_log = "/tmp/w/mariadbd.err";
  layout.port = 33061;
  layout.server_id = 777;
  std::string conf = RenderMariaDbConf(options, layout);
  EXPECT_THAT(conf, HasSubstr("[mariadbd]\n"));
  EXPECT_THAT(conf, HasSubstr("datadir = /tmp/w/data\n"));
  EXPECT_THAT(conf, HasSubstr("socket = /tmp/w/mariadbd.sock\n"));
  EXPECT_THAT(conf, HasSubstr("bind-address = 127.0.0.1\n"));
  EXPECT_THAT(conf, HasSubstr("port = 33061\n"));
  EXPECT_THAT(conf, HasSubstr("server_id = 777\n"));
  EXPECT_THAT(conf, HasSubstr("log_bin = mariadb-bin\n"));
  EXPECT_THAT(conf, HasSubstr("binlog_format = ROW\n"));
  EXPECT_THAT(conf, HasSubstr("binlog_row_image = FULL\n"));
  EXPECT_THAT(conf, HasSubstr("binlog_row_metadata = FULL\n"));
  EXPECT_THAT(conf, HasSubstr("gtid_strict_mode = OFF\n"));
  EXPECT_THAT(conf, HasSubstr("innodb_log_file_size = 16M\n"));
  EXPECT_EQ(FindConfSetting(conf, "server_id"), "777");
  EXPECT_EQ(FindConfSetting(conf, "binlog_format"), "ROW");
  EXPECT_EQ(FindConfSetting(conf, "no_such_setting"), "");
}

TEST(ConfigRenderTest, MariaDbConfQuotesPathsAndAppendsExtraSettings) {
  MariaDbServerOptions options;
  options.gtid_strict_mode = true;
  options.fsync = true;
  options.extra_settings = {{"binlog_format", "MIXED"}};
  MariaDbLayout layout;
  layout.data_dir = "/tmp/with space/data";
  layout.server_id = 9;
  std::string conf = RenderMariaDbConf(options, layout);
  EXPECT_THAT(conf, HasSubstr("datadir = \"/tmp/with space/data\"\n"));
  EXPECT_THAT(conf, HasSubstr("gtid_strict_mode = ON\n"));
  EXPECT_THAT(conf, HasSubstr("sync_binlog = 1\n"));
  // The last occurrence wins in an option file, as in FindConfSetting.
  EXPECT_EQ(FindConfSetting(conf, "binlog_format"), "MIXED");
}

TEST(ConfigRenderTest, RandomServerIdsAreValidAndVary) {
  uint32_t first = RandomServerId();
  bool varied = false;
  for (int attempt = 0; attempt < 10; ++attempt) {
    uint32_t id = RandomServerId();
    EXPECT_GE(id, 2u);
    EXPECT_LT(id, 0x80000000u);
    varied = varied || id != first;
  }
  EXPECT_TRUE(varied);
}

TEST(ConfigRenderTest, MySqlUrlPercentEncodesCredentials) {
  EXPECT_EQ(BuildMySqlUrl("app", "", "127.0.0.1", 3306, "db"),
            "mysql://app@127.0.0.1:3306/db");
  EXPECT_EQ(BuildMySqlUrl("a@b", "p:w/d", "127.0.0.1", 1, "d b"),
            "mysql://a%40b:p%3Aw%2Fd@127.0.0.1:1/d%20b");
}

TEST(ServerOptionsTest, ValidateNamesTheBadField) {
  PostgresServerOptions pg;
  EXPECT_THAT(pg.Validate().status().ToString(), HasSubstr("work_dir"));
  pg.work_dir = "/tmp/x";
  EXPECT_TRUE(pg.Validate().ok());
  pg.extra_settings = {{"bad name", "1"}};
  EXPECT_THAT(pg.Validate().status().ToString(), HasSubstr("bad name"));

  MariaDbServerOptions my;
  my.work_dir = "/tmp/y";
  EXPECT_TRUE(my.Validate().ok());
  my.user = "root";
  EXPECT_THAT(my.Validate().status().ToString(), HasSubstr("root"));
  my.user = "tributary";
  my.server_id = 1;
  EXPECT_THAT(my.Validate().status().ToString(), HasSubstr("server_id"));
}

}  // namespace
}  // namespace tributary::devserver::internal
