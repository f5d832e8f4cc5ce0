#include "pipeline/gold_stage.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/snapshot_cache.h"
#include "lake/delta/writer.h"
#include "pipeline/database_options.h"
#include "pipeline/types.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

namespace {

// The latest snapshot of a lake table from the process's snapshot cache: advanced by
// reading the commits since the cached version, so a refresh does not list the whole
// `_delta_log` of a long-lived table (errors: those of Snapshot::Load).
Result<std::shared_ptr<const delta::Snapshot>> LatestSnapshot(const fs::path& root) {
  return delta::LatestSnapshotForWrite(root, nullptr);
}

}  // namespace

Result<std::vector<std::string>> RegisterLakeViews(
    sql::Connection& conn,
    const fs::path& lake_root,
    const std::vector<std::string>& layers) {
  std::vector<std::string> out;
  for (const auto& layer : layers) {
    const fs::path dir = lake_root / layer;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      continue;
    }
    TRIB_RETURN_IF_ERROR(conn.Execute(
        fmt::format("CREATE SCHEMA IF NOT EXISTS {}", QuoteIdentifier(layer))));
    std::vector<fs::path> tables;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_directory() && fs::exists(entry.path() / "_delta_log")) {
        tables.push_back(entry.path());
      }
    }
    std::sort(tables.begin(), tables.end());
    for (const auto& table : tables) {
      auto snapshot = LatestSnapshot(table);
      if (!snapshot.ok()) {
        if (!snapshot.status().IsNotFound()) {
          spdlog::warn("skipping {}: {}", table.string(), snapshot.status().ToString());
        }
        continue;
      }
      std::string name = table.filename().string();
      auto registered = delta::RegisterSnapshotView(conn, **snapshot, layer, name);
      if (!registered.ok()) {
        spdlog::warn("skipping {}: {}", table.string(), registered.status().ToString());
        continue;
      }
      out.push_back(layer + "." + name);
    }
  }
  return out;
}

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// One token of ModelInputs' scan: an identifier (bare or double-quoted), a '.', or
// anything else (which breaks a qualified name).
struct NameToken {
  enum class Kind { kIdentifier, kDot, kOther };
  Kind kind = Kind::kOther;
  std::string text;
};

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The end of the quoted text starting at `pos` (just after the opening `quote`), with
// doubled quotes as escapes; appends the unescaped text to `text` when given.
size_t SkipQuoted(std::string_view sql, size_t pos, char quote, std::string* text) {
  for (; pos < sql.size(); ++pos) {
    if (sql[pos] == quote) {
      if (pos + 1 < sql.size() && sql[pos + 1] == quote) {
        ++pos;
      } else {
        return pos + 1;
      }
    }
    if (text != nullptr) {
      text->push_back(sql[pos]);
    }
  }
  return pos;
}

// Identifiers, dots and separators of `sql`, skipping whitespace, -- and /* */ comments
// and '...' string literals - enough to find qualified table names.
std::vector<NameToken> ScanNames(std::string_view sql) {
  std::vector<NameToken> tokens;
  size_t pos = 0;
  while (pos < sql.size()) {
    const char c = sql[pos];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++pos;
    } else if (sql.substr(pos, 2) == "--") {
      const size_t end = sql.find('\n', pos);
      pos = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(pos, 2) == "/*") {
      const size_t end = sql.find("*/", pos + 2);
      pos = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'') {
      pos = SkipQuoted(sql, pos + 1, '\'', nullptr);
      tokens.push_back({NameToken::Kind::kOther, {}});
    } else if (c == '"') {
      std::string name;
      pos = SkipQuoted(sql, pos + 1, '"', &name);
      tokens.push_back({NameToken::Kind::kIdentifier, std::move(name)});
    } else if (c == '.') {
      ++pos;
      tokens.push_back({NameToken::Kind::kDot, {}});
    } else if (IsIdentifierChar(c)) {
      const size_t start = pos;
      while (pos < sql.size() && IsIdentifierChar(sql[pos])) {
        ++pos;
      }
      tokens.push_back(
          {NameToken::Kind::kIdentifier, std::string(sql.substr(start, pos - start))});
    } else {
      ++pos;
      tokens.push_back({NameToken::Kind::kOther, {}});
    }
  }
  return tokens;
}

// A Delta type with no DuckDB twin of the input's type (unsigned integers, HUGEINT from
// SUM over integers): the column is cast to the DuckDB type of the Delta column so the
// writer's schema check sees the table's own type.
delta::DataType WithCast(delta::DataType type, std::string* cast_to) {
  *cast_to = delta::DuckDbTypeOf(type);
  return type;
}
}  // namespace

delta::DataType DeltaTypeForDuckDb(std::string_view duckdb_type, std::string* cast_to) {
  using delta::DataType;
  using delta::TypeKind;
  cast_to->clear();
  std::string type(duckdb_type);
  std::smatch match;
  static const std::regex kDecimal(R"(DECIMAL\((\d+),\s*(\d+)\))");
  if (std::regex_match(type, match, kDecimal)) {
    return DataType::Decimal(std::stoi(match[1].str()), std::stoi(match[2].str()));
  }
  if (type == "BIGINT") {
    return DataType::Primitive(TypeKind::kLong);
  }
  if (type == "INTEGER") {
    return DataType::Primitive(TypeKind::kInteger);
  }
  if (type == "SMALLINT") {
    return DataType::Primitive(TypeKind::kShort);
  }
  if (type == "UTINYINT") {
    return WithCast(DataType::Primitive(TypeKind::kShort), cast_to);
  }
  if (type == "TINYINT") {
    return DataType::Primitive(TypeKind::kByte);
  }
  if (type == "USMALLINT") {
    return WithCast(DataType::Primitive(TypeKind::kInteger), cast_to);
  }
  if (type == "UINTEGER") {
    return WithCast(DataType::Primitive(TypeKind::kLong), cast_to);
  }
  if (type == "UBIGINT") {
    return WithCast(DataType::Decimal(20, 0), cast_to);
  }
  if (type == "HUGEINT") {
    return WithCast(DataType::Decimal(38, 0), cast_to);
  }
  if (type == "BOOLEAN") {
    return DataType::Primitive(TypeKind::kBoolean);
  }
  if (type == "DOUBLE") {
    return DataType::Primitive(TypeKind::kDouble);
  }
  if (type == "FLOAT") {
    return DataType::Primitive(TypeKind::kFloat);
  }
  if (type == "VARCHAR") {
    return DataType::Primitive(TypeKind::kString);
  }
  if (type == "DATE") {
    return DataType::Primitive(TypeKind::kDate);
  }
  if (type == "TIMESTAMP") {
    return DataType::Primitive(TypeKind::kTimestampNtz);
  }
  if (type == "TIMESTAMP WITH TIME ZONE" || type == "TIMESTAMPTZ") {
    return DataType::Primitive(TypeKind::kTimestamp);
  }
  if (type == "BLOB") {
    return DataType::Primitive(TypeKind::kBinary);
  }
  *cast_to = "VARCHAR";
  return DataType::Primitive(TypeKind::kString);
}

std::vector<std::string> ModelInputs(std::string_view sql) {
  using Kind = NameToken::Kind;
  const std::vector<NameToken> tokens = ScanNames(sql);
  std::vector<std::string> inputs;
  for (size_t idx = 0; idx + 2 < tokens.size(); ++idx) {
    if (tokens[idx].kind != Kind::kIdentifier || tokens[idx + 1].kind != Kind::kDot ||
        tokens[idx + 2].kind != Kind::kIdentifier) {
      continue;
    }
    const std::string layer = Lower(tokens[idx].text);
    if (layer != "silver" && layer != "gold") {
      continue;
    }
    std::string input = layer + "." + Lower(tokens[idx + 2].text);
    if (std::find(inputs.begin(), inputs.end(), input) == inputs.end()) {
      inputs.push_back(std::move(input));
    }
  }
  return inputs;
}

class GoldStage::Impl {
 public:
  Impl(GoldOptions options, PipelineMetrics* metrics)
      : options_(std::move(options)), metrics_(metrics) {}

  Status Open() {
    for (const auto& model : options_.models) {
      if (model.materialization != GoldMaterialization::kTable && model.key.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "gold model {}: incremental and scd2 models need a key",
                         model.name);
      }
    }
    TRIB_ASSIGN_OR_RETURN(db_, sql::Database::Open(StageDatabaseOptions("gold")));
    return OkStatus();
  }

  Status Refresh(int64_t silver_version) {
    TRIB_ASSIGN_OR_RETURN(auto conn, db_->Connect());
    const std::vector<std::string> layers = {"silver", "gold"};
    TRIB_ASSIGN_OR_RETURN(auto views,
                          RegisterLakeViews(*conn, options_.lake_root, layers));
    std::set<std::string> available;
    for (const auto& view : views) {
      available.insert(Lower(view));
    }
    std::optional<Error> first_error;
    for (const auto& model : options_.models) {
      // Until silver has created every input (the first refresh can run before the first
      // commit of some tables), the model cannot run: it stays behind its txn target and
      // a later refresh computes it. Not an error, nothing is wrong yet.
      const std::string missing = MissingInput(model, available);
      if (!missing.empty()) {
        spdlog::debug("gold model {}: waiting for its input {} (no Delta table yet)",
                      model.name, missing);
        continue;
      }
      auto refreshed = RefreshModel(*conn, model, silver_version);
      if (!refreshed.ok()) {
        Error error = std::move(refreshed).status();
        error.AddContext(fmt::format("refreshing gold model {}", model.name));
        spdlog::error("{}", error.ToString());
        if (metrics_ != nullptr) {
          ++metrics_->gold_failures;
        }
        if (!first_error) {
          first_error = std::move(error);
        }
      } else {
        available.insert(Lower("gold." + model.name));
      }
    }
    if (metrics_ != nullptr) {
      metrics_->gold_bronze_version = silver_version;
    }
    if (first_error) {
      return std::move(*first_error);
    }
    return OkStatus();
  }

  // The first input of `model` missing from `available` (lower-cased "layer.name" views),
  // or "" when all are there.
  std::string MissingInput(const GoldModel& model,
                           const std::set<std::string>& available) {
    auto found = inputs_.find(model.name);
    if (found == inputs_.end()) {
      found = inputs_.emplace(model.name, ModelInputs(model.sql)).first;
    }
    for (const auto& input : found->second) {
      if (available.count(input) == 0) {
        return input;
      }
    }
    return {};
  }

  Status RefreshModel(sql::Connection& conn, const GoldModel& model, int64_t version) {
    const fs::path root = options_.lake_root / "gold" / model.name;
    TRIB_ASSIGN_OR_RETURN(auto done, delta::ReadAppTransactionVersion(root, kGoldAppId));
    if (done && *done >= version) {
      return OkStatus();
    }
    // Materialize the model's rows once.
    std::string sql = model.sql;
    while (!sql.empty() &&
           (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) {
      sql.pop_back();
    }
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __gold_rows AS SELECT * FROM ({}) AS m", sql)));
    TRIB_ASSIGN_OR_RETURN(auto described,
                          conn.Query("SELECT column_name, column_type FROM (DESCRIBE "
                                     "__gold_rows)"));
    delta::StructType schema;
    std::string projection;
    for (size_t row = 0; row < described.row_count(); ++row) {
      std::string name = described.GetString(0, row);
      delta::StructField field;
      field.name = name;
      std::string cast_to;
      field.type = DeltaTypeForDuckDb(described.GetString(1, row), &cast_to);
      schema.fields.push_back(field);
      projection += fmt::format(
          "{}{}", projection.empty() ? "" : ", ",
          cast_to.empty() ? QuoteIdentifier(name)
                          : fmt::format("CAST({} AS {}) AS {}", QuoteIdentifier(name),
                                        cast_to, QuoteIdentifier(name)));
    }
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __gold_new AS SELECT {} FROM __gold_rows",
        projection)));
    for (const auto& key : model.key) {
      if (schema.Find(key) == nullptr) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "gold model {}: key column '{}' is not a column of its query",
                         model.name, key);
      }
    }
    delta::StructType table_schema = schema;
    if (model.materialization == GoldMaterialization::kScd2) {
      delta::StructField from;
      from.name = "valid_from";
      from.type = delta::DataType::Primitive(delta::TypeKind::kTimestamp);
      delta::StructField to = from;
      to.name = "valid_to";
      delta::StructField current;
      current.name = "is_current";
      current.type = delta::DataType::Primitive(delta::TypeKind::kBoolean);
      table_schema.fields.push_back(from);
      table_schema.fields.push_back(to);
      table_schema.fields.push_back(current);
    }
    TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(root));
    if (!latest) {
      delta::CreateTableOptions create;
      create.schema = table_schema;
      create.properties["delta.checkpointInterval"] =
          std::to_string(options_.checkpoint_interval);
      create.name = model.name;
      create.description = fmt::format("tributary gold model {}", model.name);
      auto created = delta::CreateTable(root, create);
      if (!created.ok() && !created.status().IsAlreadyExists()) {
        return std::move(created).status();
      }
    } else {
      TRIB_RETURN_IF_ERROR(MatchSchema(root, table_schema));
    }
    delta::WriteOptions write;
    write.txn = delta::SetTransaction{std::string(kGoldAppId), version, std::nullopt};
    switch (model.materialization) {
      case GoldMaterialization::kTable: {
        TRIB_ASSIGN_OR_RETURN(
            auto written,
            delta::Overwrite(conn, root, "SELECT * FROM __gold_new", write));
        WarnCheckpointProblem(written.checkpoint_problem, root.string());
        break;
      }
      case GoldMaterialization::kIncremental:
        TRIB_RETURN_IF_ERROR(RefreshIncremental(conn, model, root, schema, write));
        break;
      case GoldMaterialization::kScd2:
        TRIB_RETURN_IF_ERROR(RefreshScd2(conn, model, root, schema, write));
        break;
    }
    // Later models may read this one.
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(root));
    TRIB_RETURN_IF_ERROR(
        delta::RegisterSnapshotView(conn, *snapshot, "gold", model.name));
    if (metrics_ != nullptr) {
      ++metrics_->gold_refreshes;
    }
    return OkStatus();
  }

  // A model whose columns changed gets the new schema (a metadata commit): gold tables
  // are derived data, so a table model is simply rewritten with it.
  Status MatchSchema(const fs::path& root, const delta::StructType& schema) {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(root));
    const auto& current = snapshot->schema();
    bool same = current.fields.size() == schema.fields.size();
    for (size_t i = 0; same && i < schema.fields.size(); ++i) {
      same = current.fields[i].name == schema.fields[i].name &&
             current.fields[i].type.Equals(schema.fields[i].type);
    }
    if (same) {
      return OkStatus();
    }
    delta::Metadata metadata = snapshot->metadata();
    metadata.schema_string = delta::SerializeSchema(schema);
    delta::CommitRequest request;
    TRIB_ASSIGN_OR_RETURN(auto protocol,
                          delta::MinimalProtocol(schema, metadata.configuration));
    request.actions.push_back(protocol);
    request.actions.push_back(metadata);
    // Existing files no longer match the schema: remove them all in the same commit.
    for (const auto& add : snapshot->files()) {
      delta::RemoveFile remove;
      remove.path = add.path;
      remove.deletion_timestamp = delta::NowMillis();
      remove.data_change = true;
      remove.partition_values = add.partition_values;
      remove.size = add.size;
      request.actions.push_back(remove);
    }
    request.commit_info.operation = "REPLACE TABLE";
    request.read_set.read_version = snapshot->version();
    request.read_set.scope = delta::ReadSet::Scope::kAll;
    TRIB_ASSIGN_OR_RETURN(auto committed, delta::Commit(root, request));
    spdlog::info("gold: schema of {} changed; table replaced at version {}",
                 root.string(), committed.version);
    return OkStatus();
  }

  static std::string KeyEquals(const std::vector<std::string>& key,
                               std::string_view a,
                               std::string_view b) {
    std::string out;
    for (const auto& column : key) {
      out += fmt::format("{}{}.{} IS NOT DISTINCT FROM {}.{}", out.empty() ? "" : " AND ",
                         a, QuoteIdentifier(column), b, QuoteIdentifier(column));
    }
    return out;
  }

  Status CommitTxnOnly(const fs::path& root, const delta::WriteOptions& write) {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(root));
    delta::CommitRequest request;
    delta::SetTransaction txn = *write.txn;
    txn.last_updated = delta::NowMillis();
    request.actions.push_back(txn);
    request.commit_info.operation = "SET TRANSACTION";
    request.read_set.read_version = snapshot->version();
    TRIB_ASSIGN_OR_RETURN(auto committed, delta::Commit(root, request));
    (void)committed;
    return OkStatus();
  }

  Status RefreshIncremental(sql::Connection& conn,
                            const GoldModel& model,
                            const fs::path& root,
                            const delta::StructType& schema,
                            const delta::WriteOptions& write) {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(root));
    TRIB_ASSIGN_OR_RETURN(std::string current, delta::BuildScanQuery(*snapshot, conn));
    std::string columns;
    std::string null_columns;
    for (const auto& field : schema.fields) {
      columns +=
          fmt::format("{}{}", columns.empty() ? "" : ", ", QuoteIdentifier(field.name));
      bool is_key =
          std::find(model.key.begin(), model.key.end(), field.name) != model.key.end();
      null_columns += fmt::format(
          "{}{}", null_columns.empty() ? "" : ", ",
          is_key ? "c." + QuoteIdentifier(field.name)
                 : fmt::format("CAST(NULL AS {}) AS {}", delta::DuckDbTypeOf(field.type),
                               QuoteIdentifier(field.name)));
    }
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __gold_current AS SELECT {} FROM ({}) AS c",
        columns, current)));
    TRIB_RETURN_IF_ERROR(
        conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE __gold_changes AS "
                                 "SELECT *, false AS __trib_del FROM (SELECT {0} FROM "
                                 "__gold_new EXCEPT SELECT {0} FROM "
                                 "__gold_current) "
                                 "UNION ALL SELECT {1}, true AS __trib_del FROM "
                                 "__gold_current AS c WHERE NOT EXISTS "
                                 "(SELECT 1 FROM __gold_new AS n WHERE {2})",
                                 columns, null_columns, KeyEquals(model.key, "n", "c"))));
    TRIB_ASSIGN_OR_RETURN(auto count, conn.Query("SELECT count(*) FROM __gold_changes"));
    if (count.GetInt64(0, 0) == 0) {
      return CommitTxnOnly(root, write);
    }
    delta::MergeOptions merge;
    merge.key_columns = model.key;
    merge.delete_flag_column = "__trib_del";
    merge.write = write;
    TRIB_ASSIGN_OR_RETURN(
        auto written, delta::Merge(conn, root, "SELECT * FROM __gold_changes", merge));
    WarnCheckpointProblem(written.checkpoint_problem, root.string());
    if (written.version < 0) {
      return CommitTxnOnly(root, write);
    }
    return OkStatus();
  }

  Status RefreshScd2(sql::Connection& conn,
                     const GoldModel& model,
                     const fs::path& root,
                     const delta::StructType& schema,
                     const delta::WriteOptions& write) {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(root));
    TRIB_ASSIGN_OR_RETURN(std::string history, delta::BuildScanQuery(*snapshot, conn));
    std::string columns;
    for (const auto& field : schema.fields) {
      columns +=
          fmt::format("{}{}", columns.empty() ? "" : ", ", QuoteIdentifier(field.name));
    }
    std::string now = QuoteLiteral(TimestampTzText(NowMicros()));
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __gold_hist AS SELECT * FROM ({}) AS h", history)));
    // Keys whose current version differs from the model (changed or vanished), and new
    // rows.
    TRIB_RETURN_IF_ERROR(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __gold_fresh AS SELECT {0} FROM __gold_new EXCEPT "
        "SELECT {0} FROM __gold_hist WHERE is_current",
        columns)));
    TRIB_RETURN_IF_ERROR(
        conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE __gold_closing AS SELECT "
                                 "{0} FROM __gold_hist WHERE "
                                 "is_current EXCEPT SELECT {0} FROM __gold_new",
                                 columns)));
    TRIB_ASSIGN_OR_RETURN(
        auto counts,
        conn.Query("SELECT (SELECT count(*) FROM __gold_fresh), (SELECT count(*) FROM "
                   "__gold_closing)"));
    if (counts.GetInt64(0, 0) == 0 && counts.GetInt64(1, 0) == 0) {
      return CommitTxnOnly(root, write);
    }
    std::string query = fmt::format(
        "SELECT {0}, valid_from, CASE WHEN is_current AND EXISTS (SELECT 1 FROM "
        "__gold_closing "
        "AS x WHERE {1}) THEN CAST({2} AS TIMESTAMPTZ) ELSE valid_to END AS valid_to, "
        "is_current AND NOT EXISTS (SELECT 1 FROM __gold_closing AS x WHERE {1}) AS "
        "is_current "
        "FROM __gold_hist AS h "
        "UNION ALL SELECT {0}, CAST({2} AS TIMESTAMPTZ) AS valid_from, CAST(NULL AS "
        "TIMESTAMPTZ) AS valid_to, true AS is_current FROM __gold_fresh",
        columns, KeyEquals(model.key, "x", "h"), now);
    TRIB_ASSIGN_OR_RETURN(auto written, delta::Overwrite(conn, root, query, write));
    WarnCheckpointProblem(written.checkpoint_problem, root.string());
    return OkStatus();
  }

 private:
  GoldOptions options_;
  PipelineMetrics* metrics_;
  std::unique_ptr<sql::Database> db_;
  // ModelInputs of each model, by name (computed on first use).
  std::map<std::string, std::vector<std::string>> inputs_;
};

GoldStage::GoldStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GoldStage::~GoldStage() = default;

Result<std::unique_ptr<GoldStage>> GoldStage::Open(GoldOptions options,
                                                   PipelineMetrics* metrics) {
  auto impl = std::make_unique<Impl>(std::move(options), metrics);
  TRIB_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<GoldStage>(new GoldStage(std::move(impl)));
}

Status GoldStage::Refresh(int64_t silver_version) {
  return impl_->Refresh(silver_version);
}

}  // namespace tributary::pipeline
