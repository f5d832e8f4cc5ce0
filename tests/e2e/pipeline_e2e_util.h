#pragma once

// Helpers of the medallion pipeline e2e tests (pipeline_postgres_e2e_test,
// pipeline_kill_slow_e2e_test): row-by-row comparison of source tables with silver, running
// the tributary binary, and the SIGKILL exactly-once test body.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/config.h"
#include "cli/pipeline_wiring.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "pipeline/pipeline.h"
#include "sql/database.h"
#include "testing/postgres_fixture.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline_e2e {


namespace fs = std::filesystem;

/// One column of a compared table: how PostgreSQL and DuckDB (over silver) render it as the
/// same text.
struct ComparedColumn {
  std::string pg;
  std::string duck;
};

inline ComparedColumn Plain(const std::string& name) {
  return {fmt::format("coalesce(\"{}\"::text, 'NULL')", name),
          fmt::format("coalesce(CAST(\"{}\" AS VARCHAR), 'NULL')", name)};
}
inline ComparedColumn Epoch(const std::string& name) {
  return {fmt::format("coalesce((extract(epoch from \"{}\") * 1000000)::bigint::text, 'NULL')",
                      name),
          fmt::format("coalesce(CAST(epoch_us(\"{}\") AS VARCHAR), 'NULL')", name)};
}
inline ComparedColumn Bool(const std::string& name) {
  return {fmt::format("CASE WHEN \"{0}\" IS NULL THEN 'NULL' WHEN \"{0}\" THEN 'true' ELSE "
                      "'false' END",
                      name),
          fmt::format("coalesce(CAST(\"{}\" AS VARCHAR), 'NULL')", name)};
}
/// char(n) columns: PostgreSQL's text cast drops the blank padding the row image carries.
inline ComparedColumn Trimmed(const std::string& name) {
  return {fmt::format("coalesce(rtrim(\"{}\"::text), 'NULL')", name),
          fmt::format("coalesce(rtrim(\"{}\"), 'NULL')", name)};
}
inline ComparedColumn Md5(const std::string& name) {
  return {fmt::format("coalesce(md5(\"{}\"), 'NULL')", name),
          fmt::format("coalesce(md5(\"{}\"), 'NULL')", name)};
}

inline std::vector<std::string> PgRows(devserver::PostgresServer& pg, const std::string& table,
                                const std::vector<ComparedColumn>& columns) {
  std::string select;
  for (const auto& column : columns) {
    select += (select.empty() ? "" : " || '|' || ") + column.pg;
  }
  auto rows = pg.Exec(fmt::format("SELECT {} FROM {}", select, table));
  EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.status().ToString());
  std::vector<std::string> out;
  if (rows.ok()) {
    for (size_t i = 0; i < rows->size(); ++i) {
      out.push_back(rows->Text(i, 0));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline Result<sql::QueryResult> QueryTable(const fs::path& root, const std::string& select_sql) {
  TRIB_ASSIGN_OR_RETURN(auto conn, sql::Database::OpenInMemoryConnection());
  TRIB_ASSIGN_OR_RETURN(auto snapshot, lake::delta::Snapshot::LoadLatest(root));
  TRIB_ASSIGN_OR_RETURN(std::string scan, lake::delta::BuildScanQuery(*snapshot, *conn));
  std::string query = select_sql;
  auto at = query.find("{t}");
  query.replace(at, 3, "(" + scan + ")");
  return conn->Query(query);
}

inline std::vector<std::string> SilverRows(const fs::path& root,
                                    const std::vector<ComparedColumn>& columns) {
  std::string select;
  for (const auto& column : columns) {
    select += (select.empty() ? "" : " || '|' || ") + column.duck;
  }
  std::vector<std::string> out;
  auto rows = QueryTable(root, "SELECT " + select + " FROM {t} AS t");
  EXPECT_TRUE(rows.ok()) << root << ": " << (rows.ok() ? "" : rows.status().ToString());
  if (rows.ok()) {
    for (size_t i = 0; i < rows->row_count(); ++i) {
      out.push_back(rows->GetString(0, i));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ConfigText(const devserver::PostgresServer& pg, const fs::path& lake,
                       const std::string& extra = "") {
  return fmt::format(
      "[lake]\nroot = \"{}\"\n\n[[sources]]\nname = \"shop\"\ntype = \"postgres\"\n"
      "dsn = \"{}\"\n\n[pipeline]\nbatch_interval_ms = 50\ngold_min_refresh_interval_ms = 100\n"
      "compact_min_files = 6\ncompact_small_file_bytes = 1048576\n{}",
      lake.string(), pg.Dsn(), extra);
}

inline Status RunOnce(const std::string& config_text, const std::string& name) {
  TRIB_ASSIGN_OR_RETURN(auto config, cli::ParseConfig(config_text, name));
  TRIB_ASSIGN_OR_RETURN(auto options, cli::PipelineOptionsFromConfig(config, true));
  TRIB_ASSIGN_OR_RETURN(auto sources, cli::MakeSources(config));
  TRIB_ASSIGN_OR_RETURN(auto pipeline,
                        pipeline::Pipeline::Create(std::move(options), std::move(sources)));
  std::stop_source stop;
  return pipeline->Run(stop.get_token());
}

/// Runs the tributary binary with `args`, output to `log`; returns the pid.
inline pid_t Spawn(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    std::string binary = TRIB_BINARY_PATH;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& arg : copy) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

inline int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Kills `tributary run` with SIGKILL at random moments during a pgbench load, `kills`
/// times, then checks silver == source and that bronze holds each change exactly once.
inline void KillTest(devserver::PostgresServer& pg, int kills) {
  ASSERT_TRUE(pg.Exec("DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, "
                      "pgbench_tellers, pgbench_history")
                  .ok());
  std::string port;
  {
    auto rows = pg.Exec("SHOW port");
    ASSERT_TRUE(rows.ok());
    port = rows->Scalar();
  }
  std::string init = fmt::format(
      "pgbench -i -q -s 1 -h 127.0.0.1 -p {} -U postgres tributary > /dev/null 2>&1", port);
  ASSERT_EQ(std::system(init.c_str()), 0) << init;
  ASSERT_TRUE(pg.Exec("DELETE FROM pgbench_accounts WHERE aid > 2000; "
                      "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY;")
                  .ok());
  tributary::testing::TempDir dir("trib-pipe-kill");
  const fs::path lake = dir.path() / "lake";
  const fs::path config = dir.path() / "pipeline.toml";
  std::ofstream(config) << fmt::format(
      "[lake]\nroot = \"{}\"\n\n[[sources]]\nname = \"bench\"\ntype = \"postgres\"\n"
      "dsn = \"{}\"\nslot_name = \"kill_slot\"\n"
      "tables = [\"public.pgbench_accounts\", \"public.pgbench_branches\", "
      "\"public.pgbench_tellers\", \"public.pgbench_history\"]\n"
      "\n[pipeline]\nbatch_interval_ms = 30\ncompact_min_files = 8\n"
      "compact_small_file_bytes = 1048576\n",
      lake.string(), pg.Dsn());
  const fs::path log = dir.path() / "run.log";
  ASSERT_EQ(WaitExit(Spawn({"run", "-c", config.string(), "--once"}, log)), 0)
      << ReadFile(log);

  // pgbench: aids are 1..100000 but only 1..2000 exist, so most account updates touch no
  // row; tellers, branches and history change in every transaction.
  pid_t bench = fork();
  if (bench == 0) {
    std::string seconds = std::to_string(kills * 3 + 5);
    execlp("pgbench", "pgbench", "-n", "-c", "2", "-T", seconds.c_str(), "-R", "150", "-h",
           "127.0.0.1", "-p", port.c_str(), "-U", "postgres", "tributary",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_ms(300, 3000);
  for (int kill_idx = 0; kill_idx < kills; ++kill_idx) {
    pid_t run = Spawn({"run", "-c", config.string()}, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(run, SIGKILL);
    WaitExit(run);
  }
  EXPECT_EQ(WaitExit(bench), 0) << "pgbench failed";
  ASSERT_EQ(WaitExit(Spawn({"run", "-c", config.string(), "--once"}, log)), 0)
      << ReadFile(log);

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
  auto history = pg.Exec("SELECT count(*) FROM pgbench_history");
  ASSERT_TRUE(history.ok());
  const int64_t transactions = std::stoll(history->Scalar());
  EXPECT_GT(transactions, 100);
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto snapshot = lake::delta::Snapshot::LoadLatest(lake / "bronze" / "all_events");
  ASSERT_TRUE(snapshot.ok());
  auto scan = lake::delta::BuildScanQuery(**snapshot, **conn);
  ASSERT_TRUE(scan.ok());
  auto counts = (*conn)->Query(fmt::format(
      "WITH b AS ({}) SELECT "
      "count(*) FILTER (WHERE op = 'c' AND source_table = 'public.pgbench_history'), "
      "count(*) FILTER (WHERE op = 'u' AND source_table = 'public.pgbench_tellers'), "
      "count(*) FILTER (WHERE op = 'u' AND source_table = 'public.pgbench_branches'), "
      "(SELECT count(*) FROM (SELECT position FROM b WHERE op <> 'r' GROUP BY position "
      "HAVING count(*) > 1)) FROM b",
      *scan));
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->GetInt64(0, 0), transactions) << "history inserts in bronze";
  EXPECT_EQ(counts->GetInt64(1, 0), transactions) << "teller updates in bronze";
  EXPECT_EQ(counts->GetInt64(2, 0), transactions) << "branch updates in bronze";
  EXPECT_EQ(counts->GetInt64(3, 0), 0) << "positions held twice in bronze";
}

class PipelinePostgresTest : public testing::PostgresFixture {};

}  // namespace tributary::pipeline_e2e
