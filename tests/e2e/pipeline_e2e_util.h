#pragma once

// Helpers of the medallion pipeline e2e tests (pipeline_postgres_e2e_test,
// pipeline_kill_e2e_test, pipeline_gold_totals_e2e_test): row-by-row comparison of
// source tables with silver and running the tributary binary.

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

class PipelinePostgresTest : public testing::PostgresFixture {};

}  // namespace tributary::pipeline_e2e
