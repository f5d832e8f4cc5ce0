// Exactly-once across SIGKILLs of `tributary run` during a pgbench load (issue 5,
// "Verification"): the binary is killed 20 times at random moments, restarted each time,
// and at the end silver must equal the source row for row and bronze must hold each
// source change exactly once.
//
// What "exactly once" means here, against what the PostgreSQL capture emits:
//   - the snapshot ('r' events): one event per (source table, key), and every row of
//     the tables pgbench only updates (2000 accounts, 10 tellers, 1 branch);
//   - streamed changes: an event is identified by (commit LSN, index within its
//     transaction) = (position_lsn, event_index); no identity appears twice;
//   - per source transaction (txid): pgbench's TPC-B transaction updates one teller, one
//     branch, inserts one history row and updates one account, which only exists when
//     aid <= 2000 (the test deletes the others before capture starts). Bronze must hold
//     exactly those events for every streamed transaction, and the history keys (hid) in
//     bronze, snapshot and inserts together, must be exactly the source table's: no
//     transaction lost or doubled, none both in the snapshot and streamed.
//
// pgbench runs from before the initial snapshot to the last kill. Kill moments are drawn
// from a seeded generator (the seed is printed; TRIB_KILL_SEED replays one): the first
// kills land in the initial snapshot, then shortly after start (opening the tables,
// silver replay, slot start), at a uniformly random time, right after a bronze commit
// (between the bronze commit, the slot acknowledgement and the silver merges) and right
// after a silver commit (other silver tables, compaction, checkpoints).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>

#include "pipeline_e2e_util.h"

namespace tributary::pipeline_e2e {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Wall-clock time as the binary's log prints it (UTC, milliseconds), to line kills up
// with run.log.
std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The newest version in `table_root`/_delta_log, or -1.
int64_t LatestLogVersion(const fs::path& table_root) {
  int64_t latest = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(table_root / "_delta_log", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 25 && name.ends_with(".json")) {
      latest = std::max<int64_t>(latest, std::stoll(name.substr(0, 20)));
    }
  }
  return latest;
}

bool LogVersionExists(const fs::path& table_root, int64_t version) {
  std::error_code ec;
  return fs::exists(table_root / "_delta_log" / fmt::format("{:020}.json", version), ec);
}

// Waits until `table_root` gets a commit after `after` (or `timeout` passes); returns
// whether it did.
bool WaitForCommitAfter(const fs::path& table_root, int64_t after,
                        std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (LogVersionExists(table_root, after + 1)) {
      return true;
    }
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

// Kills the process at the end of the scope unless it was already reaped.
struct ProcessGuard {
  pid_t pid = -1;
  int signal = SIGKILL;
  ~ProcessGuard() {
    if (pid > 0) {
      ::kill(pid, signal);
      WaitExit(pid);
    }
  }
  int Stop(int with) {
    ::kill(pid, with);
    int status = WaitExit(pid);
    pid = -1;
    return status;
  }
};

enum class KillMode { kSnapshot, kEarly, kUniform, kAfterBronzeCommit, kAfterSilverCommit };

const char* KillModeName(KillMode mode) {
  switch (mode) {
    case KillMode::kSnapshot:
      return "during-snapshot";
    case KillMode::kEarly:
      return "early";
    case KillMode::kUniform:
      return "uniform";
    case KillMode::kAfterBronzeCommit:
      return "after-bronze-commit";
    case KillMode::kAfterSilverCommit:
      return "after-silver-commit";
  }
  return "?";
}

std::string Scalar(devserver::PostgresServer& pg, const std::string& sql) {
  auto rows = pg.Exec(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << (rows.ok() ? "" : rows.status().ToString());
  return rows.ok() ? rows->Scalar() : std::string();
}

// The first kills hit the initial snapshot (2011 rows, under load): the capture must
// restart it without leftovers.
constexpr int kSnapshotKills = 2;

void KillTest(devserver::PostgresServer& pg, int kills) {
  const auto test_start = Clock::now();
  uint32_t seed = static_cast<uint32_t>(std::random_device{}());
  if (const char* env = std::getenv("TRIB_KILL_SEED")) {
    seed = static_cast<uint32_t>(std::stoul(env));
  }
  std::printf("kill test: %d kills, seed %u (TRIB_KILL_SEED=%u replays the kill moments)\n",
              kills, seed, seed);
  std::mt19937 random(seed);

  ASSERT_TRUE(pg.Exec("DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, "
                      "pgbench_tellers, pgbench_history")
                  .ok());
  const std::string port = Scalar(pg, "SHOW port");
  ASSERT_FALSE(port.empty());
  std::string init = fmt::format(
      "pgbench -i -q -s 1 -h 127.0.0.1 -p {} -U postgres tributary > /dev/null 2>&1", port);
  ASSERT_EQ(std::system(init.c_str()), 0) << init;
  ASSERT_TRUE(pg.Exec("DELETE FROM pgbench_accounts WHERE aid > 2000; "
                      "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY;")
                  .ok());
  tributary::testing::TempDir dir("trib-pipe-kill");
  const fs::path lake = dir.path() / "lake";
  const fs::path bronze = lake / "bronze" / "all_events";
  const fs::path silver_history = lake / "silver" / "pgbench_history";
  const fs::path config = dir.path() / "pipeline.toml";
  // Production-like settings: the default 100 ms batch interval, small-file compaction
  // and checkpoints often enough that kills also land in them. No gold models: gold is
  // computed from silver versions and has its own tests.
  std::ofstream(config) << fmt::format(
      "[lake]\nroot = \"{}\"\n\n[[sources]]\nname = \"bench\"\ntype = \"postgres\"\n"
      "dsn = \"{}\"\nslot_name = \"kill_slot\"\n"
      "tables = [\"public.pgbench_accounts\", \"public.pgbench_branches\", "
      "\"public.pgbench_tellers\", \"public.pgbench_history\"]\n"
      "\n[pipeline]\nbatch_interval_ms = 100\ncheckpoint_interval = 10\n"
      "compact_min_files = 8\ncompact_small_file_bytes = 1048576\n",
      lake.string(), pg.Dsn());
  const fs::path log = dir.path() / "run.log";

  // pgbench: aids are 1..100000 but only 1..2000 exist, so most account updates touch no
  // row; tellers, branches and history change in every transaction. It runs from before
  // the snapshot until the kills are done (then SIGINT).
  const fs::path bench_log = dir.path() / "pgbench.log";
  ProcessGuard bench{fork(), SIGINT};
  if (bench.pid == 0) {
    int fd = ::open(bench_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execlp("pgbench", "pgbench", "-n", "-c", "3", "-T", "3600", "-R", "120", "-h",
           "127.0.0.1", "-p", port.c_str(), "-U", "postgres", "tributary",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(bench.pid, 0);
  std::this_thread::sleep_for(500ms);
  std::printf("kill test: setup %.1f s\n", SecondsSince(test_start));

  const auto loop_start = Clock::now();
  std::uniform_int_distribution<int> mode_pick(0, 9);
  std::uniform_int_distribution<int> snapshot_ms(50, 700);
  std::uniform_int_distribution<int> early_ms(0, 500);
  std::uniform_int_distribution<int> uniform_ms(500, 3000);
  std::uniform_int_distribution<int> after_commit_ms(0, 40);
  int64_t versions_before = LatestLogVersion(bronze);
  for (int kill_idx = 0; kill_idx < kills; ++kill_idx) {
    const int pick = mode_pick(random);
    const KillMode mode = kill_idx < kSnapshotKills ? KillMode::kSnapshot
                          : pick < 2                ? KillMode::kEarly
                          : pick < 5 ? KillMode::kUniform
                          : pick < 8 ? KillMode::kAfterBronzeCommit
                                     : KillMode::kAfterSilverCommit;
    const int in_snapshot = snapshot_ms(random);
    const int early = early_ms(random);
    const int uniform = uniform_ms(random);
    const int after = after_commit_ms(random);
    const int64_t bronze_at_start = LatestLogVersion(bronze);
    const int64_t silver_at_start = LatestLogVersion(silver_history);
    const auto started = Clock::now();
    ProcessGuard run{Spawn({"-v", "run", "-c", config.string()}, log)};
    ASSERT_GT(run.pid, 0);
    bool saw_commit = true;
    switch (mode) {
      case KillMode::kSnapshot:
        std::this_thread::sleep_for(std::chrono::milliseconds(in_snapshot));
        break;
      case KillMode::kEarly:
        std::this_thread::sleep_for(std::chrono::milliseconds(early));
        break;
      case KillMode::kUniform:
        std::this_thread::sleep_for(std::chrono::milliseconds(uniform));
        break;
      case KillMode::kAfterBronzeCommit:
        saw_commit = WaitForCommitAfter(bronze, bronze_at_start, 8s);
        std::this_thread::sleep_for(std::chrono::milliseconds(after));
        break;
      case KillMode::kAfterSilverCommit:
        saw_commit = WaitForCommitAfter(silver_history, silver_at_start, 8s);
        std::this_thread::sleep_for(std::chrono::milliseconds(after));
        break;
    }
    const double alive = SecondsSince(started);
    const std::string at = UtcNow();
    run.Stop(SIGKILL);
    std::printf("kill %2d at %s: %-20s after %.2f s%s, bronze version %lld\n",
                kill_idx + 1, at.c_str(), KillModeName(mode), alive,
                saw_commit ? "" : " (no commit seen)",
                static_cast<long long>(LatestLogVersion(bronze)));
  }
  const double loop_seconds = SecondsSince(loop_start);
  bench.Stop(SIGINT);
  const int64_t versions_during_kills = LatestLogVersion(bronze) - versions_before;

  const auto catch_up_start = Clock::now();
  ASSERT_EQ(WaitExit(Spawn({"-v", "run", "-c", config.string(), "--once"}, log)), 0)
      << ReadFile(log);
  const double catch_up_seconds = SecondsSince(catch_up_start);
  const int64_t transactions = std::stoll(Scalar(pg, "SELECT count(*) FROM pgbench_history"));
  std::printf(
      "kill test: kill loop %.1f s (%lld bronze commits), final catch-up %.1f s, %lld "
      "pgbench transactions\n",
      loop_seconds, static_cast<long long>(versions_during_kills), catch_up_seconds,
      static_cast<long long>(transactions));
  EXPECT_GT(transactions, 500) << "the load was too small to mean anything";

  // 1. Silver equals the source, row for row.
  const std::vector<std::pair<std::string, std::vector<ComparedColumn>>> tables = {
      {"pgbench_accounts", {Plain("aid"), Plain("bid"), Plain("abalance"), Trimmed("filler")}},
      {"pgbench_branches", {Plain("bid"), Plain("bbalance"), Trimmed("filler")}},
      {"pgbench_tellers", {Plain("tid"), Plain("bid"), Plain("tbalance"), Trimmed("filler")}},
      {"pgbench_history",
       {Plain("hid"), Plain("tid"), Plain("bid"), Plain("aid"), Plain("delta"), Epoch("mtime"),
        Trimmed("filler")}},
  };
  for (const auto& [table, columns] : tables) {
    auto expected = PgRows(pg, table, columns);
    auto actual = SilverRows(lake / "silver" / table, columns);
    EXPECT_EQ(actual.size(), expected.size()) << table;
    EXPECT_TRUE(actual == expected) << table << " differs from the source";
  }

  // 2. Bronze holds each source change exactly once.
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto snapshot = lake::delta::Snapshot::LoadLatest(bronze);
  ASSERT_TRUE(snapshot.ok());
  auto scan = lake::delta::BuildScanQuery(**snapshot, **conn);
  ASSERT_TRUE(scan.ok());
  ASSERT_TRUE((*conn)->Execute(fmt::format("CREATE TABLE b AS {}", *scan)).ok());
  auto query = [&](const std::string& sql) -> Result<sql::QueryResult> {
    auto result = (*conn)->Query(sql);
    EXPECT_TRUE(result.ok()) << sql << ": "
                             << (result.ok() ? "" : result.status().ToString());
    return result;
  };
  auto int_of = [&](const std::string& sql) -> int64_t {
    auto result = query(sql);
    return result.ok() && result->row_count() > 0 ? result->GetInt64(0, 0) : -1;
  };
  // Snapshot: one event per key, and every row of the tables pgbench does not insert into
  // (the history rows of the snapshot are checked with the streamed ones below).
  EXPECT_EQ(int_of("SELECT count(*) FROM (SELECT source_table, key_json FROM b WHERE op = "
                   "'r' GROUP BY ALL HAVING count(*) > 1)"),
            0)
      << "snapshot keys held twice in bronze";
  for (const auto& [table, rows] : std::vector<std::pair<std::string, int64_t>>{
           {"pgbench_accounts", 2000}, {"pgbench_tellers", 10}, {"pgbench_branches", 1}}) {
    EXPECT_EQ(int_of(fmt::format("SELECT count(*) FROM b WHERE op = 'r' AND source_table = "
                                 "'public.{}'",
                                 table)),
              rows)
        << "snapshot events of " << table << " in bronze";
  }
  // Streamed changes: no event identity twice.
  EXPECT_EQ(int_of("SELECT count(*) FROM (SELECT position_lsn, event_index FROM b WHERE op "
                   "<> 'r' GROUP BY ALL HAVING count(*) > 1)"),
            0)
      << "(commit LSN, event index) held twice in bronze";
  EXPECT_EQ(int_of("SELECT count(*) FROM b WHERE op <> 'r' AND (txid IS NULL OR "
                   "position_lsn IS NULL OR position_lsn = 0)"),
            0)
      << "streamed events without a transaction id or commit LSN";
  // Per transaction: exactly pgbench's events.
  auto per_txn = query(
      "WITH t AS (SELECT txid, "
      "count(*) FILTER (WHERE op = 'c' AND source_table = 'public.pgbench_history') AS h, "
      "count(*) FILTER (WHERE op = 'u' AND source_table = 'public.pgbench_tellers') AS te, "
      "count(*) FILTER (WHERE op = 'u' AND source_table = 'public.pgbench_branches') AS br, "
      "count(*) FILTER (WHERE op = 'u' AND source_table = 'public.pgbench_accounts') AS a, "
      "max(CAST(json_extract_string(value_json, '$.after.aid') AS BIGINT)) "
      "  FILTER (WHERE source_table = 'public.pgbench_history') AS aid, "
      "count(*) AS n FROM b WHERE op <> 'r' GROUP BY txid) "
      "SELECT count(*), count(*) FILTER (WHERE h <> 1 OR te <> 1 OR br <> 1 OR "
      "a <> (CASE WHEN aid <= 2000 THEN 1 ELSE 0 END) OR n <> h + te + br + a), "
      "coalesce(string_agg(txid || ':' || h || '/' || te || '/' || br || '/' || a || '/' || "
      "n, ' ') FILTER (WHERE h <> 1 OR te <> 1 OR br <> 1 OR "
      "a <> (CASE WHEN aid <= 2000 THEN 1 ELSE 0 END) OR n <> h + te + br + a), '') FROM t");
  ASSERT_TRUE(per_txn.ok());
  ASSERT_EQ(per_txn->row_count(), 1u);
  const int64_t streamed_history = int_of(
      "SELECT count(*) FROM b WHERE op = 'c' AND source_table = 'public.pgbench_history'");
  EXPECT_GT(streamed_history, 500) << "transactions streamed after the snapshot";
  EXPECT_EQ(per_txn->GetInt64(0, 0), streamed_history)
      << "source transactions in bronze (one history insert each)";
  EXPECT_EQ(per_txn->GetInt64(1, 0), 0)
      << "transactions whose bronze events are not exactly pgbench's (txid:history/"
         "tellers/branches/accounts/all): "
      << per_txn->GetString(2, 0).substr(0, 2000);
  // The history keys: exactly the source's.
  std::vector<std::string> source_hids;
  {
    auto rows = pg.Exec("SELECT hid::text FROM pgbench_history");
    ASSERT_TRUE(rows.ok());
    for (size_t i = 0; i < rows->size(); ++i) {
      source_hids.push_back(rows->Text(i, 0));
    }
  }
  std::vector<std::string> bronze_hids;
  {
    auto rows = query(
        "SELECT json_extract_string(key_json, '$.hid') FROM b WHERE op IN ('r', "
        "'c') AND source_table = 'public.pgbench_history'");
    ASSERT_TRUE(rows.ok());
    for (size_t i = 0; i < rows->row_count(); ++i) {
      bronze_hids.push_back(rows->GetString(0, i));
    }
  }
  std::sort(source_hids.begin(), source_hids.end());
  std::sort(bronze_hids.begin(), bronze_hids.end());
  EXPECT_EQ(bronze_hids.size(), source_hids.size())
      << "history rows in bronze (snapshot + inserts)";
  EXPECT_TRUE(bronze_hids == source_hids) << "history keys in bronze differ from the source";
  std::printf("kill test: total %.1f s\n", SecondsSince(test_start));
  if (::testing::Test::HasFailure() || std::getenv("TRIB_KILL_KEEP") != nullptr) {
    dir.Keep();
    std::printf("kill test: kept %s for inspection\n", dir.path().c_str());
  }
}

class PipelineKillTest : public testing::PostgresFixture {};

TEST_F(PipelineKillTest, ExactlyOnceAcrossTwentyKills) { KillTest(postgres(), 20); }

}  // namespace
}  // namespace tributary::pipeline_e2e
