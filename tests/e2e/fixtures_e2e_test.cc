// Proves the real-server test harness works: each server really starts, speaks its protocol
// over TCP on 127.0.0.1, is configured for change data capture, restarts, and leaves no
// process behind.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <mysql.h>

#include "testing/kafka_fixture.h"
#include "testing/mariadb_fixture.h"
#include "testing/postgres_fixture.h"

namespace tributary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// --- helpers ---------------------------------------------------------------------------

bool Gone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// Pids of live processes whose parent is `parent` (a postmaster's backends and workers).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return out;
  }
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') {
      continue;
    }
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat_file, line)) {
      continue;
    }
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    char state = 0;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent && state != 'Z') {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(proc);
  return out;
}

#define ASSERT_OK(expr)                                        \
  do {                                                         \
    auto _status = (expr);                                     \
    ASSERT_TRUE(_status.ok()) << _status.status().ToString();  \
  } while (false)

// --- PostgreSQL ------------------------------------------------------------------------

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
      "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, "
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
  ASSERT_OK(postgres().Exec(
      "CREATE TABLE slot_probe (id int PRIMARY KEY, name text);"
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

  ASSERT_OK(postgres().Exec("INSERT INTO slot_probe VALUES (1, 'one'), (2, 'two')"));
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
  ASSERT_OK(postgres().Exec("SELECT pg_drop_replication_slot('probe_slot')"));
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
  ASSERT_OK(postgres().CreateRole("cdc_user", "s3cret 'quoted'", false, true));
  ASSERT_OK(postgres().CreateDatabase("other db", "cdc_user"));
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
  ASSERT_OK(postgres().Exec(
      "CREATE TABLE restart_probe (id int PRIMARY KEY);"
      "INSERT INTO restart_probe VALUES (1), (2), (3)"));
  ASSERT_OK(
      postgres().Exec("SELECT pg_create_logical_replication_slot('restart_slot', 'pgoutput')"));
  const uint16_t port = postgres().port();
  const pid_t old_pid = postgres().pid();
  const std::vector<pid_t> old_children = ChildrenOf(old_pid);
  EXPECT_FALSE(old_children.empty());

  const auto started = std::chrono::steady_clock::now();
  ASSERT_OK(postgres().Restart());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds(10));

  EXPECT_TRUE(Gone(old_pid));
  for (pid_t child : old_children) {
    EXPECT_TRUE(Gone(child)) << "backend " << child << " survived the restart";
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
  ASSERT_OK(postgres().Exec("SELECT pg_drop_replication_slot('restart_slot')"));
}

TEST_F(PostgresFixtureTest, RecoversAfterImmediateStop) {
  ASSERT_OK(postgres().Exec("CREATE TABLE crash_probe (id int); INSERT INTO crash_probe "
                            "SELECT generate_series(1, 1000)"));
  ASSERT_OK(postgres().StopImmediately());
  EXPECT_FALSE(postgres().running());
  ASSERT_OK(postgres().Start());
  auto count = postgres().Exec("SELECT count(*) FROM crash_probe");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Scalar(), "1000");
}

TEST(PostgresServerTest, StopEndsEveryServerProcess) {
  auto pg = StartTestPostgres();
  TRIB_REQUIRE_SERVER(pg);
  const pid_t pid = pg->pid();
  ASSERT_GT(pid, 0);
  ASSERT_OK(pg->Exec("SELECT 1"));
  std::vector<pid_t> children = ChildrenOf(pid);
  EXPECT_GE(children.size(), 3u);  // checkpointer, background writer, walwriter, ...
  const std::filesystem::path work_dir = pg->work_dir();
  ASSERT_OK(pg->Stop());
  EXPECT_FALSE(pg->running());
  EXPECT_TRUE(Gone(pid));
  for (pid_t child : children) {
    EXPECT_TRUE(Gone(child)) << "postgres child " << child << " survived Stop()";
  }
  pg.reset();  // the destructor removes the work dir
  EXPECT_FALSE(std::filesystem::exists(work_dir));
}

TEST(PostgresServerTest, DestructorStopsTheServer) {
  auto pg = StartTestPostgres();
  TRIB_REQUIRE_SERVER(pg);
  const pid_t pid = pg->pid();
  pg.reset();
  EXPECT_TRUE(Gone(pid));
}

TEST(PostgresServerTest, PasswordIsRequiredAndNeverInRedactedDsn) {
  auto pg = StartTestPostgres(
      [](devserver::PostgresServerOptions& options) { options.password = "pa ss'word"; });
  TRIB_REQUIRE_SERVER(pg);
  ASSERT_OK(pg->Exec("SELECT 1"));
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
  ASSERT_OK(first->Exec("CREATE TABLE only_in_first (id int)"));
  auto rows = second->Exec("SELECT to_regclass('only_in_first') IS NULL");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Scalar(), "t");
}

// --- MariaDB ---------------------------------------------------------------------------

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
  ASSERT_OK(mariadb().Exec("CREATE TABLE binlog_probe (id INT PRIMARY KEY, name TEXT)"));
  auto before = mariadb().Exec("SHOW MASTER STATUS");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->columns.at(0), "File");
  const std::string file = before->Text(0, 0);
  const uint64_t position = std::stoull(before->Text(0, 1));
  EXPECT_THAT(file, StartsWith("mariadb-bin."));
  EXPECT_GT(position, 4u);

  ASSERT_OK(mariadb().Exec("INSERT INTO binlog_probe VALUES (1, 'one'), (2, 'two')"));
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
  ASSERT_OK(mariadb().Exec(
      "CREATE TABLE restart_probe (id INT PRIMARY KEY); INSERT INTO restart_probe VALUES "
      "(1), (2), (3)"));
  const uint16_t port = mariadb().port();
  const pid_t old_pid = mariadb().pid();
  const uint32_t server_id = mariadb().server_id();
  ASSERT_OK(mariadb().Restart());
  EXPECT_TRUE(Gone(old_pid));
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
  ASSERT_OK(db->Stop());
  EXPECT_TRUE(Gone(pid));
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
  EXPECT_THAT(first->Url(), HasSubstr("mysql://tributary:p%40ss%20%27w%5Cord@127.0.0.1:"));
  ASSERT_OK(first->CreateUser("reader", "pw", "SELECT, REPLICATION SLAVE, REPLICATION CLIENT"));
  ASSERT_OK(first->CreateDatabase("second"));

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

// --- Kafka -----------------------------------------------------------------------------

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

KafkaPtr NewClient(rd_kafka_type_t type,
                   const std::map<std::string, std::string>& settings,
                   void (*delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << key << ": " << errstr;
    }
  }
  if (delivery != nullptr) {
    rd_kafka_conf_set_dr_msg_cb(conf, delivery);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  EXPECT_NE(rk, nullptr) << errstr;
  return KafkaPtr(rk);
}

struct Delivered {
  int ok = 0;
  int failed = 0;
  std::set<int32_t> partitions;
};

// The per-message opaque (RD_KAFKA_VTYPE_OPAQUE) arrives as message->_private.
void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto* delivered = static_cast<Delivered*>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++delivered->ok;
    delivered->partitions.insert(message->partition);
  } else {
    ++delivered->failed;
  }
}

class KafkaMockFixtureTest : public KafkaMockFixture {};

TEST_F(KafkaMockFixtureTest, BootstrapListsThreeLoopbackBrokers) {
  if (!kafka().is_mock()) {
    GTEST_SKIP() << "TRIB_TEST_KAFKA_BOOTSTRAP points at a real broker";
  }
  std::vector<std::string> brokers;
  std::stringstream list(kafka().bootstrap_servers());
  for (std::string broker; std::getline(list, broker, ',');) {
    brokers.push_back(broker);
  }
  ASSERT_EQ(brokers.size(), 3u) << kafka().bootstrap_servers();
  for (const std::string& broker : brokers) {
    EXPECT_TRUE(broker.rfind("127.0.0.1:", 0) == 0 || broker.rfind("localhost:", 0) == 0)
        << broker;
  }
}

TEST_F(KafkaMockFixtureTest, ProduceConsumeRoundTripOverTcp) {
  constexpr int kMessages = 300;
  const std::string topic = kafka().UniqueTopic("roundtrip");
  ASSERT_OK(kafka().CreateTopic(topic, 3));

  Delivered delivered;
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER,
                                {{"bootstrap.servers", kafka().bootstrap_servers()},
                                 {"enable.idempotence", "true"},
                                 {"linger.ms", "5"}},
                                OnDelivery);
  ASSERT_NE(producer, nullptr);
  std::map<std::string, std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    std::string key = "key-" + std::to_string(i);
    std::string value = "value-" + std::to_string(i * 7);
    sent[key] = value;
    // rd_kafka_produceva: the rd_kafka_producev macros use C casts.
    rd_kafka_vu_t fields[5];
    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[0].u.cstr = topic.c_str();
    fields[1].vtype = RD_KAFKA_VTYPE_KEY;
    fields[1].u.mem = {key.data(), key.size()};
    fields[2].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[2].u.mem = {value.data(), value.size()};
    fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[3].u.i = RD_KAFKA_MSG_F_COPY;
    fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[4].u.ptr = &delivered;
    rd_kafka_error_t* error = rd_kafka_produceva(producer.get(), fields, 5);
    ASSERT_EQ(error, nullptr) << rd_kafka_error_string(error);
    rd_kafka_poll(producer.get(), 0);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(delivered.ok, kMessages);
  EXPECT_EQ(delivered.failed, 0);
  EXPECT_EQ(delivered.partitions, (std::set<int32_t>{0, 1, 2}));

  // The topic really has three partitions.
  const rd_kafka_metadata_t* metadata = nullptr;
  ASSERT_EQ(rd_kafka_metadata(producer.get(), 1, nullptr, &metadata, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  int partition_count = -1;
  for (int topic_idx = 0; topic_idx < metadata->topic_cnt; ++topic_idx) {
    if (topic == metadata->topics[topic_idx].topic) {
      partition_count = metadata->topics[topic_idx].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  EXPECT_EQ(partition_count, 3);

  KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER,
                                {{"bootstrap.servers", kafka().bootstrap_servers()},
                                 {"group.id", kafka().UniqueTopic("group")},
                                 {"auto.offset.reset", "earliest"},
                                 {"enable.auto.commit", "false"}});
  ASSERT_NE(consumer, nullptr);
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
  ASSERT_EQ(rd_kafka_subscribe(consumer.get(), subscription), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(subscription);

  std::map<std::string, std::string> received;
  std::map<int32_t, int64_t> last_offset;
  int duplicates = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 200);
    if (message == nullptr) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string key(static_cast<const char*>(message->key), message->key_len);
      std::string value(static_cast<const char*>(message->payload), message->len);
      auto [it, inserted] = received.emplace(key, value);
      duplicates += inserted ? 0 : 1;
      auto previous = last_offset.find(message->partition);
      if (previous != last_offset.end()) {
        EXPECT_GT(message->offset, previous->second) << "offsets go backwards";
      }
      last_offset[message->partition] = message->offset;
    } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ADD_FAILURE() << "consumer error: " << rd_kafka_message_errstr(message);
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer.get());
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(received, sent);
  EXPECT_EQ(last_offset.size(), 3u);
}

}  // namespace
}  // namespace tributary::testing
