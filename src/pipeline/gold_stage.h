#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/schema.h"
#include "pipeline/metrics.h"
#include "sql/database.h"

namespace tributary::pipeline {

enum class GoldMaterialization {
  kTable,        ///< rebuilt (Overwrite) on every refresh
  kIncremental,  ///< merged by key: only rows whose values changed are rewritten
  kScd2,         ///< type-2 history by key: valid_from, valid_to, is_current
};

/// One gold model: a DuckDB SELECT over `silver.<table>` (and `gold.<model>` of models
/// listed before it).
struct GoldModel {
  /// gold/<name>. Required.
  std::string name;
  /// The SELECT. Required.
  std::string sql;
  /// Key columns; required for kIncremental and kScd2.
  std::vector<std::string> key;
  GoldMaterialization materialization = GoldMaterialization::kTable;
};

struct GoldOptions {
  /// The lake root (silver/ and gold/ under it). Required.
  std::filesystem::path lake_root;
  std::vector<GoldModel> models;
  /// delta.checkpointInterval of new tables. Default: 10.
  int64_t checkpoint_interval = 10;
};

/// The `txn` appId of gold commits: "gold:silver".
inline constexpr std::string_view kGoldAppId = "gold:silver";

/// Registers every Delta table under `lake_root` as a view: `bronze.<name>`,
/// `silver.<name>`, `gold.<name>` (latest snapshots). Tables that fail to load are skipped
/// with a warning. Returns the qualified names registered.
Result<std::vector<std::string>> RegisterLakeViews(
    sql::Connection& conn, const std::filesystem::path& lake_root,
    const std::vector<std::string>& layers = {"bronze", "silver", "gold"});

/// The Delta type for a DuckDB column type name ("BIGINT", "DECIMAL(10,2)",
/// "TIMESTAMP WITH TIME ZONE", ...). Sets `*cast_to` to the DuckDB type the caller must
/// cast the column to before writing, or clears it when none is needed: "VARCHAR" for types
/// without a Delta equivalent (mapped to string), the Delta column's DuckDB type for
/// unsigned integers and HUGEINT (mapped to a wider signed type or a decimal).
lake::delta::DataType DeltaTypeForDuckDb(std::string_view duckdb_type, std::string* cast_to);

/// The lake tables a model's SQL reads: every `silver.<name>` and `gold.<name>` reference
/// (either part may be double-quoted; comments and string literals are ignored), as
/// "silver.<name>" / "gold.<name>", lower-cased because DuckDB matches identifiers (quoted
/// ones too) case-insensitively; in order of first appearance, without duplicates.
std::vector<std::string> ModelInputs(std::string_view sql);

/// Gold models (ADR 0003: txn {appId "gold:silver", version = the bronze version silver
/// had reached}). Refresh(v) computes every model whose txn is below v, in the order given:
///   - table: Overwrite with the model's rows;
///   - incremental: the model's rows are compared with the current table and only new,
///     changed and vanished keys are merged (full recompute, incremental write);
///   - scd2: rows whose non-key values changed close the current version
///     (valid_to = now, is_current = false) and open a new one; vanished keys are closed.
/// A model whose inputs (ModelInputs) are not all tables yet - the first refresh can run
/// before silver has created every table - is skipped quietly (debug log) and stays below v,
/// so a later refresh computes it. Once its inputs exist, a failing model is logged with
/// its name and counted (metrics.gold_failures); the others still run.
/// Not thread-safe.
class GoldStage {
 public:
  static Result<std::unique_ptr<GoldStage>> Open(GoldOptions options,
                                                 PipelineMetrics* metrics = nullptr);
  ~GoldStage();

  /// Refreshes models at silver position `silver_version`. Returns the first model error
  /// (after trying all models).
  Status Refresh(int64_t silver_version);

 private:
  class Impl;
  explicit GoldStage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::pipeline
