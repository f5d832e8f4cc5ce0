#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/debezium_json.h"
#include "core/result.h"
#include "lake/delta/schema.h"
#include "sql/database.h"

namespace tributary::pipeline {

/// The bronze schema registry `bronze/_schemas` (ADR 0005): bronze rows carry Debezium
/// payloads (JsonConverter schemas.enable=false) and the id of their Kafka Connect key /
/// value schema; this Delta table holds each schema once.
///
/// Columns: schema_id (BronzeSchemaId of schema_json), source, source_table, kind ("key"
/// or "value"), schema_json (exactly the `schema` object JsonConverter would have
/// written), registered_at. Append-only.
lake::delta::StructType BronzeSchemaRegistrySchema();

/// `<lake>/bronze/_schemas`: the registry next to the bronze table at `bronze_root`
/// (`<lake>/bronze/all_events`).
std::filesystem::path BronzeSchemaRegistryRoot(const std::filesystem::path& bronze_root);

/// The id of a schema: 64-bit FNV-1a of the exact `schema_json` bytes as 16 lowercase hex
/// digits. Deterministic across processes and versions.
std::string BronzeSchemaId(std::string_view schema_json);

/// One schema to register.
struct BronzeSchemaEntry {
  std::string schema_id;
  std::string source;
  /// "schema.table" of the source table; empty for events without a table (null).
  std::string source_table;
  /// "key" or "value".
  std::string kind;
  std::string schema_json;
};

/// The writer's view of the registry: the ids it holds, kept in memory.
/// Not thread-safe.
class BronzeSchemaRegistry {
 public:
  /// Opens the registry at `root`, creating the table when missing, and loads the ids it
  /// holds (verifying each against its text). Errors: kCorruption for a row whose id is
  /// not the hash of its text; Delta and DuckDB errors naming the table.
  static Result<std::unique_ptr<BronzeSchemaRegistry>> Open(sql::Connection& conn,
                                                            std::filesystem::path root);

  /// Whether `schema_id` is registered (committed to the table).
  bool Contains(std::string_view schema_id) const;

  /// Appends the entries whose ids are not registered yet in one blind-append commit
  /// (no commit when none are new) and remembers them. Entries repeated in `entries` are
  /// written once. Errors: kInvalidArgument when an entry's id is not BronzeSchemaId of
  /// its text, kAlreadyExists when the id is registered (or given twice) with a different
  /// text (a hash collision), naming the id and both schemas; Delta/DuckDB errors, after
  /// which nothing is remembered (a retry registers again).
  Status Register(sql::Connection& conn, const std::vector<BronzeSchemaEntry>& entries);

  const std::filesystem::path& root() const { return root_; }

 private:
  struct Known {
    std::string source_table;
    std::string kind;
    std::string schema_json;
  };
  explicit BronzeSchemaRegistry(std::filesystem::path root) : root_(std::move(root)) {}
  Status Load(sql::Connection& conn);

  std::filesystem::path root_;
  std::map<std::string, Known, std::less<>> known_;
};

/// The parsed schema `schema_id` of the registry at `registry_root`, for decoding bronze
/// rows. Parsed once per id and cached for the process (an id names one text forever);
/// a miss re-reads the registry's latest version. Thread-safe. Errors: kNotFound naming
/// the id and the registry when it holds no such id (or does not exist); kCorruption for
/// a row whose id is not the hash of its text; Delta and DuckDB errors.
Result<std::shared_ptr<const core::ConnectSchema>> LookupBronzeSchema(
    sql::Connection& conn, const std::filesystem::path& registry_root,
    std::string_view schema_id);

}  // namespace tributary::pipeline
