#include "cli/quickstart.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/config.h"
#include "cli/pipeline_wiring.h"
#include "cli/sql_shell.h"
#include "core/redact.h"
#include "datasets/load.h"
#include "devserver/mariadb_server.h"
#include "devserver/postgres_server.h"
#include "pipeline/gold_stage.h"
#include "pipeline/pipeline.h"
#include "sql/database.h"

namespace tributary::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Marks a directory as a quickstart work dir, so a later run may replace its contents.
constexpr const char* kMarkerFile = ".tributary-quickstart";
constexpr const char* kConfigFile = "quickstart.toml";
constexpr const char* kSourceName = "retail";
constexpr const char* kRetailTables[] = {"customer", "product", "salesorder"};

std::atomic<int> g_signal{0};

extern "C" void HandleQuickstartSignal(int signal_number) {
  g_signal.store(signal_number);
  // A second Ctrl-C ends the process at once; the servers then get their parent-death
  // signal (devserver), so nothing is left running.
  std::signal(signal_number, SIG_DFL);
}

bool Interrupted() { return g_signal.load() != 0; }

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatMs(int64_t micros) {
  if (micros < 0) {
    micros = 0;
  }
  if (micros < 10000) {
    return fmt::format("{:.1f} ms", static_cast<double>(micros) / 1000.0);
  }
  return fmt::format("{} ms", (micros + 500) / 1000);
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string TomlString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "\"";
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    return MakeError(ErrorCode::kIo, "cannot write {}", path.string());
  }
  return OkStatus();
}

// The running binary, as the user would type it: relative to the current directory when
// it lives below it.
std::string SelfCommand() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return "tributary";
  }
  fs::path cwd = fs::current_path(ec);
  if (!ec) {
    fs::path relative = self.lexically_relative(cwd);
    if (!relative.empty() && *relative.begin() != "..") {
      return relative.string();
    }
  }
  return self.string();
}

// Whether `pid` is alive and runs one of the server programs (a pid from an old
// quickstart.pids file may have been reused by something else).
bool IsServerProcess(pid_t pid) {
  if (pid <= 0) {
    return false;
  }
  std::ifstream comm(fmt::format("/proc/{}/comm", pid));
  std::string name;
  std::getline(comm, name);
  return name == "postgres" || name == "mariadbd" || name == "mysqld";
}

// Prepares the work dir: refuses a non-empty directory that is not ours, refuses one whose
// servers still run, and clears what a previous run left.
Status PrepareWorkDir(const fs::path& work_dir, std::ostream& out) {
  std::error_code ec;
  if (fs::exists(work_dir, ec)) {
    if (!fs::is_directory(work_dir, ec)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "work dir {} exists and is not a directory", work_dir.string());
    }
    bool ours = fs::exists(work_dir / kMarkerFile, ec);
    bool empty = fs::is_empty(work_dir, ec);
    if (!ours && !empty) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "work dir {} is not empty and was not made by `tributary "
                       "quickstart`; choose another with --work-dir",
                       work_dir.string());
    }
    if (ours) {
      std::ifstream pids(work_dir / kQuickstartPidsFile);
      std::string server;
      long pid = 0;
      while (pids >> server >> pid) {
        if (IsServerProcess(static_cast<pid_t>(pid))) {
          return MakeError(ErrorCode::kConflict,
                           "a quickstart in {} is still running ({} pid {}); stop it "
                           "first (Ctrl-C) or choose another --work-dir",
                           work_dir.string(), server, pid);
        }
      }
      out << "Replacing the previous quickstart run in " << work_dir.string() << "\n";
      for (const char* entry :
           {"postgres", "mariadb", "lake", kConfigFile, kQuickstartPidsFile}) {
        fs::remove_all(work_dir / entry, ec);
        if (ec) {
          return MakeError(ErrorCode::kIo, "cannot remove {}: {}",
                           (work_dir / entry).string(), ec.message());
        }
      }
    }
  }
  fs::create_directories(work_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot create work dir {}: {}", work_dir.string(),
                     ec.message());
  }
  // The servers run as the postgres and mysql users: they must be able to enter it.
  if (chmod(work_dir.c_str(), 0755) != 0) {
    return MakeError(ErrorCode::kIo, "cannot chmod 755 {}", work_dir.string());
  }
  return WriteText(work_dir / kMarkerFile,
                   "A tributary quickstart work dir: `tributary quickstart` may replace "
                   "its contents.\n");
}

// Ancestors of `dir` that the servers' accounts could not enter and that the devserver
// will make searchable (o+x) because we own them (only when running as root).
std::vector<fs::path> BlockedAncestors(const fs::path& dir) {
  std::vector<fs::path> blocked;
  if (geteuid() != 0) {
    return blocked;
  }
  for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && st.st_uid == geteuid() &&
        (st.st_mode & S_IXOTH) == 0) {
      blocked.push_back(p);
    }
    if (p == p.root_path()) {
      break;
    }
  }
  return blocked;
}

Status WritePids(const fs::path& work_dir,
                 const devserver::PostgresServer* pg,
                 const devserver::MariaDbServer* maria) {
  std::string text;
  if (pg != nullptr && pg->pid() > 0) {
    text += fmt::format("postgres {}\n", pg->pid());
  }
  if (maria != nullptr && maria->pid() > 0) {
    text += fmt::format("mariadbd {}\n", maria->pid());
  }
  return WriteText(work_dir / kQuickstartPidsFile, text);
}

std::string ConfigText(const fs::path& lake,
                       const devserver::PostgresServer& pg,
                       const devserver::MariaDbServer* maria,
                       const fs::path& models_dir) {
  std::string text = fmt::format(
      "# Written by `tributary quickstart`. While its servers run (interactive mode), this\n"
      "# file also works with `tributary run -c {0}` (after stopping the quickstart, which\n"
      "# holds the replication slot).\n\n"
      "[lake]\nroot = {1}\n\n"
      "[[sources]]\nname = \"{2}\"\ntype = \"postgres\"\ndsn = {3}\n"
      "tables = [\"public.customer\", \"public.product\", \"public.salesorder\"]\n\n",
      kConfigFile, TomlString(lake.string()), kSourceName, TomlString(pg.Dsn()));
  if (maria != nullptr) {
    text += fmt::format(
        "# The store dataset is loaded into MariaDB, but MySQL/MariaDB capture is not built\n"
        "# yet, so this source stays commented out:\n"
        "# [[sources]]\n# name = \"store\"\n# type = \"mysql\"\n# dsn = {}\n\n",
        TomlString(fmt::format("mysql://{}@127.0.0.1:{}/{}", maria->user(), maria->port(),
                               maria->database())));
  }
  text += fmt::format(
      "[pipeline]\nbatch_interval_ms = 20\ngold_min_refresh_interval_ms = 200\n\n"
      "[gold]\ninclude = [{}]\n",
      TomlString((models_dir / "retail" / "models.toml").string()));
  return text;
}

// One DuckDB connection with the lake's silver and gold tables registered as views (their
// latest snapshots at the time of the call).
Result<std::unique_ptr<sql::Connection>> LakeConnection(const fs::path& lake) {
  TRIB_ASSIGN_OR_RETURN(auto conn, sql::Database::OpenInMemoryConnection());
  TRIB_ASSIGN_OR_RETURN(auto views, pipeline::RegisterLakeViews(*conn, lake));
  (void)views;
  return conn;
}

// The rows of `query` as "a | b | c" lines.
Result<std::vector<std::string>> QueryLines(const fs::path& lake, const std::string& query) {
  TRIB_ASSIGN_OR_RETURN(auto conn, LakeConnection(lake));
  TRIB_ASSIGN_OR_RETURN(auto result, conn->Query(query));
  std::vector<std::string> lines;
  for (size_t row = 0; row < result.row_count(); ++row) {
    std::string line;
    for (size_t column = 0; column < result.column_count(); ++column) {
      if (column > 0) {
        line += " | ";
      }
      line += result.IsNull(column, row) ? "NULL" : result.GetString(column, row);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// A check of one layer after a change: `query` over the lake views returns the changed
// rows; the change has arrived when it returns rows (want_rows) or none (a delete).
struct Probe {
  std::string table;  // "silver.customer"
  std::string query;
  bool want_rows = true;
};

// One step of the live script. `sql` runs in PostgreSQL (one transaction); `probes` builds
// the silver probe (first) and gold probes from the rows its last statement returned.
struct LiveChange {
  std::string title;
  std::string sql;
  std::function<std::vector<Probe>(const devserver::SqlRows&)> probes;
};

class Session {
 public:
  Session(QuickstartOptions options, std::ostream& out, std::ostream& err)
      : options_(std::move(options)), out_(out), err_(err) {}

  ~Session() { Shutdown(); }

  int Run();

 private:
  Status StartServers();
  Status LoadData();
  Status StartPipeline();
  Status WaitForSnapshot();
  Status RunScript();
  Status ShowChange(size_t index, size_t total, const LiveChange& change);
  Status PrintGoldTables();
  void WaitForCtrlC();
  void Shutdown();

  // Waits until `done()` or the timeout; fails when the pipeline stopped or we were
  // interrupted.
  Status WaitFor(const std::function<Result<bool>()>& done,
                 std::chrono::milliseconds timeout,
                 const std::string& what);
  // Status of the pipeline thread when it ended early.
  Status PipelineHealth();

  const pipeline::PipelineMetrics& metrics() const { return pipeline_->metrics(); }

  template <typename... Args>
  void Say(fmt::format_string<Args...> format, Args&&... args) {
    out_ << fmt::format(format, std::forward<Args>(args)...) << "\n";
    out_.flush();
  }

  QuickstartOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  fs::path work_dir_;
  fs::path lake_;
  fs::path models_dir_;
  std::unique_ptr<devserver::PostgresServer> pg_;
  std::unique_ptr<devserver::MariaDbServer> maria_;
  int64_t loaded_rows_ = 0;
  int64_t gold_failures_before_script_ = 0;
  std::vector<std::string> gold_models_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::jthread pipeline_thread_;
  std::atomic<bool> pipeline_finished_{false};
  Status pipeline_status_ = OkStatus();
  bool shut_down_ = false;
};

Status Session::WaitFor(const std::function<Result<bool>()>& done,
                        std::chrono::milliseconds timeout,
                        const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    TRIB_ASSIGN_OR_RETURN(bool ok, done());
    if (ok) {
      return OkStatus();
    }
    TRIB_RETURN_IF_ERROR(PipelineHealth());
    if (Interrupted()) {
      return MakeError(ErrorCode::kCancelled, "interrupted while waiting for {}", what);
    }
    if (Clock::now() > deadline) {
      return MakeError(ErrorCode::kTimeout, "{} did not happen within {} s ({})", what,
                       timeout.count() / 1000, metrics().Summary());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Status Session::PipelineHealth() {
  if (pipeline_ != nullptr && pipeline_finished_.load()) {
    if (!pipeline_status_.ok()) {
      Error error = pipeline_status_.error();
      error.AddContext("the pipeline stopped");
      return error;
    }
    return MakeError(ErrorCode::kInternal, "the pipeline stopped unexpectedly");
  }
  return OkStatus();
}

Status Session::StartServers() {
  std::vector<fs::path> blocked = BlockedAncestors(work_dir_);
  if (!blocked.empty()) {
    std::string list;
    for (const auto& dir : blocked) {
      list += (list.empty() ? "" : ", ") + dir.string();
    }
    Say("Note: adding o+x (enter, not list) to {} so the postgres and mysql users can "
        "reach the work dir",
        list);
  }
  devserver::PostgresServerOptions pg_options;
  pg_options.work_dir = work_dir_ / "postgres";
  pg_options.make_parents_searchable = true;
  pg_options.superuser = "postgres";
  pg_options.database = "tributary";
  Say("Starting PostgreSQL 15 ...");
  auto started = Clock::now();
  TRIB_ASSIGN_OR_RETURN(pg_, devserver::PostgresServer::CreateAndStart(pg_options));
  TRIB_RETURN_IF_ERROR(WritePids(work_dir_, pg_.get(), nullptr));
  Say("  PostgreSQL  127.0.0.1:{}  pid {}  ({:.1f} s, data in {})", pg_->port(), pg_->pid(),
      std::chrono::duration<double>(Clock::now() - started).count(),
      pg_->data_dir().string());
  if (Interrupted()) {
    return MakeError(ErrorCode::kCancelled, "interrupted");
  }

  devserver::MariaDbServerOptions maria_options;
  maria_options.work_dir = work_dir_ / "mariadb";
  maria_options.make_parents_searchable = true;
  Say("Starting MariaDB ...");
  started = Clock::now();
  auto maria = devserver::MariaDbServer::CreateAndStart(maria_options);
  if (!maria.ok()) {
    // MariaDB only holds the store sample (not captured yet): go on without it.
    Say("  MariaDB could not start, continuing with PostgreSQL only: {}",
        RedactSecrets(maria.status().ToString()));
  } else {
    maria_ = std::move(*maria);
    TRIB_RETURN_IF_ERROR(WritePids(work_dir_, pg_.get(), maria_.get()));
    Say("  MariaDB     127.0.0.1:{}  pid {}  ({:.1f} s, data in {})", maria_->port(),
        maria_->pid(), std::chrono::duration<double>(Clock::now() - started).count(),
        maria_->data_dir().string());
  }
  if (Interrupted()) {
    return MakeError(ErrorCode::kCancelled, "interrupted");
  }
  return OkStatus();
}

Status Session::LoadData() {
  datasets::LoadOptions load;
  load.replace_existing = true;
  auto started = Clock::now();
  TRIB_ASSIGN_OR_RETURN(auto report,
                        datasets::LoadDataset("retail", options_.scale, pg_->Dsn(), load)
                            .WithContext("loading retail into PostgreSQL"));
  std::string tables;
  for (const auto& table : report.tables) {
    tables += fmt::format("{}{} {}", tables.empty() ? "" : ", ", table.table, table.rows);
    loaded_rows_ += table.rows;
  }
  Say("Loaded retail (scale {}) into PostgreSQL: {} rows ({}) in {:.1f} s", options_.scale,
      loaded_rows_, tables, std::chrono::duration<double>(Clock::now() - started).count());
  if (maria_ != nullptr && !Interrupted()) {
    started = Clock::now();
    auto store = datasets::LoadDataset("store", options_.scale, maria_->Url(), load);
    if (!store.ok()) {
      Say("  loading store into MariaDB failed (it is not captured, going on): {}",
          RedactSecrets(store.status().ToString()));
    } else {
      int64_t rows = 0;
      for (const auto& table : store->tables) {
        rows += table.rows;
      }
      Say("Loaded store (scale {}) into MariaDB: {} rows in {} tables in {:.1f} s. "
          "MySQL/MariaDB capture is not built yet, so store is not captured: only "
          "PostgreSQL flows into the lake.",
          options_.scale, rows, store->tables.size(),
          std::chrono::duration<double>(Clock::now() - started).count());
    }
  }
  if (Interrupted()) {
    return MakeError(ErrorCode::kCancelled, "interrupted");
  }
  return OkStatus();
}

Status Session::StartPipeline() {
  const fs::path config_path = work_dir_ / kConfigFile;
  TRIB_RETURN_IF_ERROR(
      WriteText(config_path, ConfigText(lake_, *pg_, maria_.get(), models_dir_)));
  TRIB_ASSIGN_OR_RETURN(PipelineConfig config, LoadConfig(config_path));
  for (const auto& model : config.gold.models) {
    gold_models_.push_back(model.name);
  }
  TRIB_ASSIGN_OR_RETURN(auto pipeline_options, PipelineOptionsFromConfig(config, false));
  TRIB_ASSIGN_OR_RETURN(auto sources, MakeSources(config));
  TRIB_ASSIGN_OR_RETURN(pipeline_, pipeline::Pipeline::Create(std::move(pipeline_options),
                                                              std::move(sources)));
  Say("Pipeline: PostgreSQL -> bronze -> silver -> gold ({} models), lake {}",
      gold_models_.size(), lake_.string());
  pipeline_thread_ = std::jthread([this](std::stop_token stop) {
    try {
      pipeline_status_ = pipeline_->Run(stop);
    } catch (const std::exception& e) {
      pipeline_status_ = MakeError(ErrorCode::kInternal, "pipeline thread: {}", e.what());
    }
    pipeline_finished_.store(true);
  });
  return OkStatus();
}

Status Session::WaitForSnapshot() {
  auto started = Clock::now();
  TRIB_RETURN_IF_ERROR(WaitFor(
      [&]() -> Result<bool> {
        return metrics().silver_rows_upserted.load() >= loaded_rows_ &&
               metrics().silver_bronze_version.load() >= 0;
      },
      std::chrono::milliseconds(options_.snapshot_timeout_ms), "the snapshot reaching silver"));
  const double silver_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const int64_t silver_version = metrics().silver_bronze_version.load();
  TRIB_RETURN_IF_ERROR(WaitFor(
      [&]() -> Result<bool> { return metrics().gold_bronze_version.load() >= silver_version; },
      std::chrono::milliseconds(options_.snapshot_timeout_ms), "the first gold refresh"));
  const double gold_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  TRIB_ASSIGN_OR_RETURN(
      auto counts,
      QueryLines(lake_,
                 "SELECT (SELECT count(*) FROM bronze.all_events), "
                 "(SELECT count(*) FROM silver.customer), (SELECT count(*) FROM "
                 "silver.product), (SELECT count(*) FROM silver.salesorder)"));
  Say("Snapshot done: bronze/silver in {:.1f} s, gold in {:.1f} s (bronze | customer | "
      "product | salesorder rows: {})",
      silver_seconds, gold_seconds, counts.empty() ? "?" : counts.front());
  // Refreshes that ran before silver existed fail harmlessly: count from here on.
  gold_failures_before_script_ = metrics().gold_failures.load();
  return OkStatus();
}

Status Session::ShowChange(size_t index, size_t total, const LiveChange& change) {
  Say("[{}/{}] {}", index, total, change.title);
  const int64_t commits_before = metrics().silver_commits.load();
  const int64_t before_us = NowMicros();
  TRIB_ASSIGN_OR_RETURN(auto returned,
                        pg_->Exec(change.sql).WithContext("live change: " + change.title));
  std::vector<Probe> probes = change.probes(returned);
  const auto timeout = std::chrono::milliseconds(options_.change_timeout_ms);

  // Silver: the pipeline reports the source commit time of the newest change it applied;
  // ours committed after before_us, and nothing else writes to the source.
  TRIB_RETURN_IF_ERROR(WaitFor(
      [&]() -> Result<bool> {
        return metrics().silver_commits.load() > commits_before &&
               metrics().silver_last_commit_time_us.load() >= before_us - 1000;
      },
      timeout, "the change reaching silver"));
  const int64_t source_commit_us = metrics().silver_last_commit_time_us.load();
  const int64_t silver_latency = metrics().silver_last_applied_time_us.load() - source_commit_us;
  // The bronze version holding the change (nothing else writes to the source).
  const int64_t bronze_version = metrics().bronze_version.load();

  auto check = [&](const Probe& probe) -> Result<std::vector<std::string>> {
    std::vector<std::string> lines;
    TRIB_RETURN_IF_ERROR(WaitFor(
        [&]() -> Result<bool> {
          TRIB_ASSIGN_OR_RETURN(lines, QueryLines(lake_, probe.query));
          return lines.empty() != probe.want_rows;
        },
        timeout, fmt::format("the change showing in {}", probe.table)));
    return lines;
  };
  auto show = [&](const Probe& probe, int64_t latency_us,
                  const std::vector<std::string>& lines) {
    std::string what = probe.want_rows ? (lines.size() == 1 ? lines.front()
                                                            : fmt::format("{} rows", lines.size()))
                                       : std::string("row removed");
    Say("      {:<22} +{:>8}   {}", probe.table, FormatMs(latency_us), what);
  };

  TRIB_ASSIGN_OR_RETURN(auto silver_lines, check(probes.front()));
  show(probes.front(), silver_latency, silver_lines);

  // Gold: refreshed in the pipeline's gold thread once silver moved.
  TRIB_RETURN_IF_ERROR(WaitFor(
      [&]() -> Result<bool> { return metrics().gold_bronze_version.load() >= bronze_version; },
      timeout, "the gold refresh"));
  const int64_t gold_latency = NowMicros() - source_commit_us;
  for (size_t i = 1; i < probes.size(); ++i) {
    TRIB_ASSIGN_OR_RETURN(auto lines, check(probes[i]));
    show(probes[i], gold_latency, lines);
  }
  return OkStatus();
}

Status Session::RunScript() {
  Say("");
  Say("Live changes in PostgreSQL, each shown arriving in silver and gold (latency from the "
      "source commit):");
  // Ids come from the data, so the script works at any scale.
  TRIB_ASSIGN_OR_RETURN(
      auto ids, pg_->Exec("SELECT (SELECT max(\"CustomerID\") + 1 FROM customer), "
                          "(SELECT max(\"SalesOrderID\") + 1 FROM salesorder), "
                          "(SELECT min(\"ProductID\") FROM product)"));
  const std::string customer = ids.Text(0, 0);
  const std::string order = ids.Text(0, 1);
  const std::string product = ids.Text(0, 2);

  std::vector<LiveChange> script;
  script.push_back(
      {fmt::format("INSERT customer {} (Ada Lovelace)", customer),
       fmt::format("INSERT INTO customer (\"CustomerID\", \"FirstName\", \"LastName\", "
                   "\"EmailAddress\") VALUES ({}, 'Ada', 'Lovelace', "
                   "'ada@analytical.example')",
                   customer),
       [customer](const devserver::SqlRows&) {
         return std::vector<Probe>{
             {"silver.customer",
              fmt::format("SELECT \"CustomerID\", \"FirstName\", \"LastName\", "
                          "\"EmailAddress\" FROM silver.customer WHERE \"CustomerID\" = {}",
                          customer)},
             {"gold.dim_customer",
              fmt::format("SELECT customer_key, full_name, email_domain FROM "
                          "gold.dim_customer WHERE customer_key = {}",
                          customer)}};
       }});
  script.push_back(
      {fmt::format("INSERT order {} (2 lines) for customer {}", order, customer),
       fmt::format("BEGIN; INSERT INTO salesorder (\"SalesOrderID\", \"OrderDate\", "
                   "\"CustomerID\", \"LineItem\", \"ProductID\", \"OrderQty\", "
                   "\"LineItemTotal\") SELECT {0}, current_date, {1}, l, {2}, l, "
                   "l * \"ListPrice\" FROM product, generate_series(1, 2) AS l WHERE "
                   "\"ProductID\" = {2}; COMMIT",
                   order, customer, product),
       [order](const devserver::SqlRows&) {
         return std::vector<Probe>{
             {"silver.salesorder",
              fmt::format("SELECT \"SalesOrderID\", \"LineItem\", \"OrderQty\", "
                          "\"LineItemTotal\" FROM silver.salesorder WHERE \"SalesOrderID\" "
                          "= {} ORDER BY 2",
                          order)},
             {"gold.fact_sales",
              fmt::format("SELECT sales_order_id, line_item, quantity, line_total FROM "
                          "gold.fact_sales WHERE sales_order_id = {} ORDER BY 2",
                          order)}};
       }});
  script.push_back(
      {fmt::format("UPDATE product {}: list price + 10.00", product),
       fmt::format("UPDATE product SET \"ListPrice\" = \"ListPrice\" + 10.00 WHERE "
                   "\"ProductID\" = {} RETURNING \"ListPrice\"",
                   product),
       [product](const devserver::SqlRows& rows) {
         const std::string price = rows.Scalar();
         return std::vector<Probe>{
             {"silver.product",
              fmt::format("SELECT \"ProductID\", \"ProductName\", \"ListPrice\" FROM "
                          "silver.product WHERE \"ProductID\" = {} AND \"ListPrice\" = {}",
                          product, price)},
             {"gold.dim_product",
              fmt::format("SELECT product_key, product_name, list_price, price_band FROM "
                          "gold.dim_product WHERE product_key = {} AND list_price = {}",
                          product, price)}};
       }});
  script.push_back(
      {fmt::format("UPDATE customer {}: new email (SCD2 opens a new version)", customer),
       fmt::format("UPDATE customer SET \"EmailAddress\" = 'ada@engine.example' WHERE "
                   "\"CustomerID\" = {}",
                   customer),
       [customer](const devserver::SqlRows&) {
         return std::vector<Probe>{
             {"silver.customer",
              fmt::format("SELECT \"CustomerID\", \"EmailAddress\" FROM silver.customer "
                          "WHERE \"CustomerID\" = {} AND \"EmailAddress\" = "
                          "'ada@engine.example'",
                          customer)},
             {"gold.dim_customer_scd2",
              fmt::format("SELECT customer_key, email, is_current FROM "
                          "gold.dim_customer_scd2 WHERE customer_key = {} AND email = "
                          "'ada@engine.example' AND is_current",
                          customer)}};
       }});
  script.push_back(
      {fmt::format("DELETE order {} line 2", order),
       fmt::format("DELETE FROM salesorder WHERE \"SalesOrderID\" = {} AND \"LineItem\" = 2",
                   order),
       [order](const devserver::SqlRows&) {
         return std::vector<Probe>{
             {"silver.salesorder",
              fmt::format("SELECT * FROM silver.salesorder WHERE \"SalesOrderID\" = {} AND "
                          "\"LineItem\" = 2",
                          order),
              false},
             {"gold.fact_sales",
              fmt::format("SELECT * FROM gold.fact_sales WHERE sales_order_id = {} AND "
                          "line_item = 2",
                          order),
              false}};
       }});
  if (options_.schema_change) {
    script.push_back(
      {fmt::format("ALTER TABLE customer ADD COLUMN \"LoyaltyTier\", set it for {}", customer),
       fmt::format("BEGIN; ALTER TABLE customer ADD COLUMN \"LoyaltyTier\" text; UPDATE "
                   "customer SET \"LoyaltyTier\" = 'gold' WHERE \"CustomerID\" = {}; COMMIT",
                   customer),
       [customer](const devserver::SqlRows&) {
         return std::vector<Probe>{
             {"silver.customer",
              fmt::format("SELECT \"CustomerID\", \"FirstName\", \"LoyaltyTier\" FROM "
                          "silver.customer WHERE \"CustomerID\" = {} AND \"LoyaltyTier\" = "
                          "'gold'",
                          customer)},
             {"gold.dim_customer",
              fmt::format("SELECT customer_key, full_name, email FROM gold.dim_customer "
                          "WHERE customer_key = {} AND email = 'ada@engine.example'",
                          customer)}};
       }});
  }
  for (size_t i = 0; i < script.size(); ++i) {
    TRIB_RETURN_IF_ERROR(ShowChange(i + 1, script.size(), script[i]));
  }
  return OkStatus();
}

Status Session::PrintGoldTables() {
  Say("");
  Say("Gold tables (newest keys first):");
  TRIB_ASSIGN_OR_RETURN(auto conn, LakeConnection(lake_));
  for (const auto& model : gold_models_) {
    const std::string table = "gold." + sql::QuoteIdentifier(model);
    auto count = conn->Query("SELECT count(*) FROM " + table);
    auto rows = conn->Query("SELECT * FROM " + table + " ORDER BY 1 DESC LIMIT 5");
    Say("");
    if (!count.ok() || !rows.ok()) {
      // A model that never built is the model's problem (logged by the gold stage); show
      // the others.
      Say("gold.{}: cannot be read: {}", model,
          (count.ok() ? rows.status() : count.status()).ToString());
      continue;
    }
    Say("gold.{}: {} rows", model, count->GetInt64(0, 0));
    PrintResult(*rows, SqlOutputFormat::kTable, out_);
  }
  const int64_t failures = metrics().gold_failures.load() - gold_failures_before_script_;
  if (failures > 0) {
    Say("");
    Say("Warning: {} gold model refreshes failed during the live changes (the errors are "
        "logged above); those tables show their last good refresh.",
        failures);
  }
  out_.flush();
  return OkStatus();
}

void Session::WaitForCtrlC() {
  Say("");
  Say("The pipeline keeps running. Change the data and watch it flow:");
  Say("  psql -h 127.0.0.1 -p {} -U {} {}", pg_->port(), pg_->superuser(), pg_->database());
  if (maria_ != nullptr) {
    Say("  mariadb -h 127.0.0.1 -P {} -u {} {}   (store sample, not captured yet)",
        maria_->port(), maria_->user(), maria_->database());
  }
  Say("Press Ctrl-C to stop the pipeline and the servers.");
  int64_t seen_commits = metrics().silver_commits.load();
  while (!Interrupted() && !pipeline_finished_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int64_t commits = metrics().silver_commits.load();
    if (commits != seen_commits) {
      seen_commits = commits;
      Say("  silver updated: bronze version {}, latency {} (upserted {}, deleted {} rows "
          "so far)",
          metrics().silver_bronze_version.load(),
          FormatMs(metrics().silver_last_applied_time_us.load() -
                   metrics().silver_last_commit_time_us.load()),
          metrics().silver_rows_upserted.load(), metrics().silver_rows_deleted.load());
    }
  }
}

void Session::Shutdown() {
  if (shut_down_) {
    return;
  }
  shut_down_ = true;
  if (pipeline_thread_.joinable()) {
    pipeline_thread_.request_stop();
    pipeline_thread_.join();
  }
  pipeline_.reset();
  std::string stopped;
  if (maria_ != nullptr) {
    const pid_t pid = maria_->pid();
    Status status = maria_->Stop();
    if (!status.ok()) {
      err_ << "tributary quickstart: stopping MariaDB: " << status.error().ToString() << "\n";
    }
    stopped += fmt::format("MariaDB (pid {})", pid);
    maria_.reset();
  }
  if (pg_ != nullptr) {
    const pid_t pid = pg_->pid();
    Status status = pg_->Stop();
    if (!status.ok()) {
      err_ << "tributary quickstart: stopping PostgreSQL: " << status.error().ToString()
           << "\n";
    }
    stopped += fmt::format("{}PostgreSQL (pid {})", stopped.empty() ? "" : " and ", pid);
    pg_.reset();
  }
  if (!stopped.empty()) {
    Say("Stopped {}.", stopped);
  }
}

int Session::Run() {
  const auto started = Clock::now();
  std::error_code ec;
  work_dir_ = fs::absolute(options_.work_dir, ec).lexically_normal();
  if (ec) {
    err_ << "tributary quickstart: error: bad work dir " << options_.work_dir << "\n";
    return 1;
  }
  if (work_dir_.filename().empty()) {
    work_dir_ = work_dir_.parent_path();
  }
  lake_ = work_dir_ / "lake";
  const bool interactive = !options_.exit && isatty(STDIN_FILENO) != 0;

  auto fail = [&](const Error& error) {
    err_ << "tributary quickstart: error: " << RedactSecrets(error.ToString()) << "\n";
    Shutdown();
    return Interrupted() ? 130 : 1;
  };

  auto models = FindModelsDir(options_.models_dir);
  if (!models.ok()) {
    return fail(models.error());
  }
  models_dir_ = *models;
  Say("tributary quickstart: work dir {}", work_dir_.string());
  if (Status status = PrepareWorkDir(work_dir_, out_); !status.ok()) {
    return fail(status.error());
  }
  for (auto step : {&Session::StartServers, &Session::LoadData, &Session::StartPipeline,
                    &Session::WaitForSnapshot, &Session::RunScript,
                    &Session::PrintGoldTables}) {
    Status status = (this->*step)();
    if (!status.ok()) {
      return fail(status.error());
    }
  }
  const std::string self = SelfCommand();
  Say("");
  Say("Done in {:.1f} s. The lake stays in {}; query it with:",
      std::chrono::duration<double>(Clock::now() - started).count(), lake_.string());
  Say("  {} sql --lake {}", self, lake_.string());
  Say("  e.g. {} sql --lake {} \"SELECT * FROM gold.sales_by_category_month LIMIT 5\"", self,
      lake_.string());
  if (interactive) {
    WaitForCtrlC();
    if (pipeline_finished_.load() && !pipeline_status_.ok()) {
      return fail(pipeline_status_.error());
    }
  }
  Shutdown();
  return 0;
}

}  // namespace

Result<fs::path> FindModelsDir(const fs::path& explicit_dir) {
  const fs::path marker = fs::path("retail") / "models.toml";
  std::error_code ec;
  if (!explicit_dir.empty()) {
    if (!fs::exists(explicit_dir / marker, ec)) {
      return MakeError(ErrorCode::kNotFound, "--models-dir {}: no {} in it",
                       explicit_dir.string(), marker.string());
    }
    return fs::absolute(explicit_dir, ec);
  }
  std::vector<fs::path> candidates;
  fs::path cwd = fs::current_path(ec);
  if (!ec) {
    candidates.push_back(cwd / "models");
  }
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = self.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      candidates.push_back(dir / "models");
      candidates.push_back(dir / "share" / "tributary" / "models");
      if (dir == dir.root_path()) {
        break;
      }
    }
  }
  std::string tried;
  for (const auto& candidate : candidates) {
    if (fs::exists(candidate / marker, ec)) {
      return candidate;
    }
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  return MakeError(ErrorCode::kNotFound,
                   "cannot find the gold models (retail/models.toml); tried {}; run from "
                   "the source tree or pass --models-dir",
                   tried);
}

int RunQuickstart(const QuickstartOptions& options,
                  int verbosity,
                  std::ostream& out,
                  std::ostream& err) {
  if (verbosity == 0) {
    // Progress lines tell the story; the pipeline's own info logs would drown them.
    spdlog::set_level(spdlog::level::warn);
  }
  g_signal.store(0);
  auto previous_int = std::signal(SIGINT, HandleQuickstartSignal);
  auto previous_term = std::signal(SIGTERM, HandleQuickstartSignal);
  int code = 1;
  {
    Session session(options, out, err);
    code = session.Run();
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  return code;
}

}  // namespace tributary::cli
