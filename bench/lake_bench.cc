// Lake benchmarks (issue 3, "Performance"). A plain timing harness: each case measures
// tributary and a reference in the same run and prints one Markdown table row per number.
//
//   lake_bench [--dir DIR] [--case snapshot|append|update|small|all] [--rows N]
//              [--table-rows N] [--keep 1] [--runs N] [--files N] [--commits N]
//
// --keep 1 keeps DIR afterwards and reuses a snapshot table already there (for profiling
// the open alone: `perf record lake_bench --keep 1 --runs 50 --case snapshot`); --runs
// sets how many timed snapshot opens the median is taken over (default 5).
//
// Cases:
//   snapshot  open the latest snapshot of a table with 10,000 commits and a checkpoint;
//             reference: DuckDB reading that checkpoint file alone.
//   append    append a 1M-row batch (staged in DuckDB) to a Delta table; reference: DuckDB
//             COPY of the same rows to one Parquet file.
//   update    update 1,000 random keys of a 10M-row table with Merge (copy-on-write, and
//             deletion vectors when enabled); reports time and bytes rewritten.
//   small     (not part of all) --commits small commits (default 100) into a table of
//             --files files (default 220), DuckDB threads=1 like the pipeline: appends of
//             100 rows, insert-only merges of 100 keys, merges of 10 updates + 90 inserts;
//             reports ms per commit (issue 5 latency).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>

#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"

namespace {

namespace fs = std::filesystem;
using namespace tributary;               // NOLINT(google-build-using-namespace)
using namespace tributary::lake::delta;  // NOLINT(google-build-using-namespace)

double Seconds(const std::function<void()>& body) {
  auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds used by the whole process (every thread) so far: unlike wall time, it does
// not grow when other processes compete for the CPUs.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

[[noreturn]] void Die(const Error& error) {
  std::fprintf(stderr, "lake_bench: %s\n", error.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Check(Result<T> result) {
  if (!result.ok()) {
    Die(result.status());
  }
  return std::move(*result);
}

void Check(Status status) {
  if (!status.ok()) {
    Die(status.status());
  }
}

int64_t DirectoryBytes(const fs::path& dir) {
  int64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      total += static_cast<int64_t>(entry.file_size());
    }
  }
  return total;
}

StructField Field(const std::string& name, TypeKind kind) {
  StructField field;
  field.name = name;
  field.type = DataType::Primitive(kind);
  return field;
}

void BuildSnapshotTable(const fs::path& root, sql::Connection& conn, int64_t commits) {
  fs::remove_all(root);
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong), Field("name", TypeKind::kString)};
  Check(CreateTable(root, create));
  // Commit actions directly (the data files are not read when opening a snapshot): one add
  // with realistic stats per commit, the shape of a streaming append.
  for (int64_t version = 1; version < commits; ++version) {
    CommitRequest request;
    AddFile add;
    add.path = fmt::format("part-00000-{:012d}-c000.snappy.parquet", version);
    add.size = 4096;
    add.modification_time = NowMillis();
    add.stats = fmt::format(
        R"({{"numRecords":100,"minValues":{{"id":{0},"name":"n{0}"}},"maxValues":{{"id":{1},"name":"n{1}"}},"nullCount":{{"id":0,"name":0}}}})",
        version * 100, version * 100 + 99);
    request.actions.emplace_back(add);
    SetTransaction txn{"bench", version, NowMillis()};
    request.actions.emplace_back(txn);
    request.commit_info.operation = "WRITE";
    request.commit_info.is_blind_append = true;
    request.read_set.read_version = version - 1;
    auto committed = Check(Commit(root, std::move(request)));
    if (committed.version % 10 == 0 && committed.version <= commits - 5) {
      // Checkpoint every 10 commits as the writer does, but only the last few matter; write
      // the final ones to keep setup time reasonable.
      if (committed.version >= commits - 100) {
        Check(WriteCheckpointAt(conn, root, committed.version));
      }
    }
  }
}

void SnapshotCase(const fs::path& dir, sql::Connection& conn, bool reuse, int runs) {
  const fs::path root = dir / "snapshot_10k";
  constexpr int64_t kCommits = 10000;
  auto existing = LatestCommitVersion(root);
  bool build = !reuse || !existing.ok() || !existing->has_value() ||
               **existing != kCommits - 1;
  if (build) {
    BuildSnapshotTable(root, conn, kCommits);
  }
  auto latest = Check(LatestCommitVersion(root));
  std::vector<double> ours;
  std::vector<double> ours_cpu;
  std::vector<double> reference;
  size_t files = 0;
  const fs::path checkpoint =
      DeltaLogDir(root) / fmt::format("{:020d}.checkpoint.parquet", (*latest / 10) * 10);
  for (int run = 0; run < runs; ++run) {
    double cpu_before = ProcessCpuSeconds();
    ours.push_back(Seconds([&] {
      auto snapshot = Check(Snapshot::LoadLatest(root));
      files = snapshot->files().size();
    }));
    ours_cpu.push_back(ProcessCpuSeconds() - cpu_before);
    reference.push_back(Seconds([&] {
      auto result = Check(conn.Query(fmt::format(
          "SELECT count(add), count(txn) FROM read_parquet({})",
          sql::QuoteLiteral(checkpoint.string()))));
      (void)result;
    }));
  }
  double ours_ms = Median(ours) * 1000;
  double ours_cpu_ms = Median(ours_cpu) * 1000;
  double ref_ms = Median(reference) * 1000;
  double load = 0;
  if (getloadavg(&load, 1) != 1) {
    load = -1;
  }
  std::printf("| snapshot: open latest of %lld commits (checkpoint at %lld, %zu live files) | "
              "%.1f ms (CPU %.1f ms, load average %.2f) | DuckDB reading the checkpoint "
              "alone: %.1f ms | %.2fx | < 100 ms |\n",
              static_cast<long long>(*latest + 1), static_cast<long long>((*latest / 10) * 10),
              files, ours_ms, ours_cpu_ms, load, ref_ms, ours_ms / ref_ms);
}

void AppendCase(const fs::path& dir, sql::Connection& conn, int64_t rows) {
  const fs::path root = dir / "append";
  fs::remove_all(root);
  fs::create_directories(dir);
  Check(conn.Execute("DROP TABLE IF EXISTS staging"));
  Check(conn.Execute(fmt::format(
      "CREATE TABLE staging AS SELECT i AS id, 'customer-' || (i % 100000) AS name, "
      "((i % 10000) * 0.01)::DECIMAL(12,2) AS amount, DATE '2020-01-01' + (i % 1000)::INTEGER AS day, "
      "TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) SECOND AS at FROM range({}) t(i)",
      rows)));
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong), Field("name", TypeKind::kString),
                          Field("amount", TypeKind::kDouble), Field("day", TypeKind::kDate),
                          Field("at", TypeKind::kTimestamp)};
  create.schema.fields[2].type = DataType::Decimal(12, 2);
  Check(CreateTable(root, create));
  std::vector<double> ours;
  std::vector<double> reference;
  for (int run = 0; run < 3; ++run) {
    const fs::path direct = dir / fmt::format("direct-{}.parquet", run);
    reference.push_back(Seconds([&] {
      Check(conn.Execute(fmt::format(
          "COPY (SELECT * FROM staging) TO {} (FORMAT parquet, COMPRESSION 'snappy')",
          sql::QuoteLiteral(direct.string()))));
    }));
    fs::remove(direct);
    ours.push_back(Seconds([&] { Check(Append(conn, root, "SELECT * FROM staging")); }));
  }
  double ours_s = Median(ours);
  double ref_s = Median(reference);
  std::printf("| append: %lld-row batch (5 columns, snappy) | %.3f s | DuckDB COPY to one "
              "Parquet file: %.3f s | %.2fx of DuckDB's speed | >= 0.8x |\n",
              static_cast<long long>(rows), ours_s, ref_s, ref_s / ours_s);
}

void UpdateCase(const fs::path& dir, sql::Connection& conn, int64_t table_rows,
                bool deletion_vectors) {
  const fs::path root = dir / (deletion_vectors ? "update_dv" : "update_cow");
  fs::remove_all(root);
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong), Field("name", TypeKind::kString),
                          Field("amount", TypeKind::kLong)};
  if (deletion_vectors) {
    create.properties["delta.enableDeletionVectors"] = "true";
  }
  Check(CreateTable(root, create));
  WriteOptions load;
  load.max_rows_per_file = 1000000;
  Check(Append(conn, root,
               fmt::format("SELECT i AS id, 'customer-' || i AS name, i % 1000 AS amount FROM "
                           "range({}) t(i)",
                           table_rows),
               load));
  int64_t table_bytes = DirectoryBytes(root) - DirectoryBytes(DeltaLogDir(root));
  auto before = Check(Snapshot::LoadLatest(root));
  Check(conn.Execute("DROP TABLE IF EXISTS updates"));
  Check(conn.Execute(fmt::format(
      "CREATE TABLE updates AS SELECT id, 'updated-' || id AS name, -1 AS amount FROM "
      "(SELECT DISTINCT (hash(i) % {})::BIGINT AS id FROM range(100000) t(i) LIMIT 1000)",
      table_rows)));
  MergeOptions merge;
  merge.key_columns = {"id"};
  WriteResult result;
  double seconds = Seconds([&] { result = Check(Merge(conn, root, "SELECT * FROM updates", merge)); });
  std::printf("| update: 1,000 random keys in a %lld-row table (%zu files, %.1f MB), %s | "
              "%.2f s, %lld files rewritten, %.1f MB written (%.2f%% of the table) | "
              "delta-rs #2802: 32 s for 889 rows | %.0fx faster | not the whole table |\n",
              static_cast<long long>(table_rows), before->files().size(),
              static_cast<double>(table_bytes) / 1e6,
              deletion_vectors ? "deletion vectors" : "copy-on-write", seconds,
              static_cast<long long>(result.files_removed),
              static_cast<double>(result.bytes_written) / 1e6,
              100.0 * static_cast<double>(result.bytes_written) /
                  static_cast<double>(table_bytes),
              32.0 / seconds);
  if (result.rows_updated != 1000) {
    std::fprintf(stderr, "lake_bench: expected 1000 updated rows, got %lld\n",
                 static_cast<long long>(result.rows_updated));
    std::exit(1);
  }
}

struct Timings {
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double max_ms = 0;
};

Timings Summarize(std::vector<double> seconds) {
  Timings t;
  std::sort(seconds.begin(), seconds.end());
  double total = 0;
  for (double s : seconds) {
    total += s;
  }
  t.mean_ms = total * 1000 / static_cast<double>(seconds.size());
  t.p50_ms = seconds[seconds.size() / 2] * 1000;
  t.p90_ms = seconds[seconds.size() * 9 / 10] * 1000;
  t.max_ms = seconds.back() * 1000;
  return t;
}

// Small commits into a table of `files` files, the pipeline's shape: `commits` appends of
// 100 rows, `commits` insert-only merges of 100 new keys, `commits` merges of 100 rows of
// which 10 update recent keys. DuckDB runs with threads=1 like the pipeline's stages.
void SmallCommitsCase(const fs::path& dir, int64_t files, int64_t commits) {
  sql::DatabaseOptions options;
  options.config["threads"] = "1";
  auto database = Check(sql::Database::Open(options));
  auto connection = Check(database->Connect());
  sql::Connection& conn = *connection;
  const fs::path root = dir / "small_commits";
  fs::remove_all(root);
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong), Field("name", TypeKind::kString),
                          Field("amount", TypeKind::kLong)};
  Check(CreateTable(root, create));
  int64_t next_id = 0;
  for (int64_t file = 0; file < files; ++file) {
    Check(Append(conn, root,
                 fmt::format("SELECT i AS id, 'customer-' || i AS name, i % 1000 AS amount "
                             "FROM range({}, {}) t(i)",
                             next_id, next_id + 100)));
    next_id += 100;
  }
  auto run = [&](const char* what, const std::function<void()>& stage,
                 const std::function<void()>& commit) {
    std::vector<double> seconds;
    double cpu = 0;
    for (int64_t i = 0; i < commits; ++i) {
      stage();
      double cpu_before = ProcessCpuSeconds();
      seconds.push_back(Seconds(commit));
      cpu += ProcessCpuSeconds() - cpu_before;
    }
    Timings t = Summarize(seconds);
    auto snapshot = Check(Snapshot::LoadLatest(root));
    std::printf("| %s, 100 rows | %lld commits | %.1f ms mean, p50 %.1f, p90 %.1f, max %.1f | "
                "CPU %.1f ms per commit | %zu files after |\n",
                what, static_cast<long long>(commits), t.mean_ms, t.p50_ms, t.p90_ms,
                t.max_ms, cpu * 1000 / static_cast<double>(commits),
                snapshot->files().size());
  };
  run(
      "append", [] {},
      [&] {
        Check(Append(conn, root,
                     fmt::format("SELECT i AS id, 'customer-' || i AS name, i % 1000 AS "
                                 "amount FROM range({}, {}) t(i)",
                                 next_id, next_id + 100)));
        next_id += 100;
      });
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "del";
  run(
      "merge, insert-only",
      [&] {
        Check(conn.Execute(fmt::format(
            "CREATE OR REPLACE TABLE staging AS SELECT i AS id, 'customer-' || i AS name, "
            "i % 1000 AS amount, false AS del FROM range({}, {}) t(i)",
            next_id, next_id + 100)));
        next_id += 100;
      },
      [&] { Check(Merge(conn, root, "SELECT * FROM staging", merge)); });
  run(
      "merge, 10 updates + 90 inserts",
      [&] {
        Check(conn.Execute(fmt::format(
            "CREATE OR REPLACE TABLE staging AS SELECT i AS id, 'changed-' || i AS name, "
            "i % 1000 AS amount, false AS del FROM range({0}, {1}) t(i) UNION ALL SELECT "
            "DISTINCT {0} - 1 - (hash(i * 7919 + {0}) % 2000)::BIGINT AS id, 'updated' AS "
            "name, 0 AS amount, false AS del FROM range(10) t(i)",
            next_id, next_id + 90)));
        next_id += 90;
      },
      [&] { Check(Merge(conn, root, "SELECT * FROM staging", merge)); });
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / "tributary-bench";
  std::string which = "all";
  int64_t rows = 1000000;
  int64_t table_rows = 10000000;
  bool keep = false;
  int runs = 5;
  int64_t small_files = 220;
  int64_t commits = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--case") {
      which = argv[i + 1];
    } else if (flag == "--rows") {
      rows = std::stoll(argv[i + 1]);
    } else if (flag == "--table-rows") {
      table_rows = std::stoll(argv[i + 1]);
    } else if (flag == "--keep") {
      keep = std::string(argv[i + 1]) != "0";
    } else if (flag == "--runs") {
      runs = std::max(1, std::stoi(argv[i + 1]));
    } else if (flag == "--files") {
      small_files = std::stoll(argv[i + 1]);
    } else if (flag == "--commits") {
      commits = std::max<int64_t>(1, std::stoll(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: lake_bench [--dir DIR] "
                           "[--case snapshot|append|update|small|all] [--rows N] "
                           "[--table-rows N] [--keep 1] [--runs N] [--files N] "
                           "[--commits N]\n");
      return 2;
    }
  }
  fs::create_directories(dir);
  auto conn = Check(sql::Database::OpenInMemoryConnection());
  if (which == "snapshot" || which == "all") {
    SnapshotCase(dir, *conn, keep, runs);
  }
  if (which == "append" || which == "all") {
    AppendCase(dir, *conn, rows);
  }
  if (which == "small") {
    SmallCommitsCase(dir, small_files, commits);
  }
  if (which == "update" || which == "all") {
    UpdateCase(dir, *conn, table_rows, /*deletion_vectors=*/false);
    UpdateCase(dir, *conn, table_rows, /*deletion_vectors=*/true);
  }
  if (!keep) {
    fs::remove_all(dir);
  }
  return 0;
}
