#include "pipeline/bronze_schemas.h"

#include <cstdint>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/internal/delta_fields.h"
#include "pipeline/types.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using sql::QuoteLiteral;

namespace {

using internal::Field;

// A schema text for an error message: long schemas are cut.
std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 160;
  if (text.size() <= kMax) {
    return std::string(text);
  }
  return fmt::format("{}... ({} bytes)", text.substr(0, kMax), text.size());
}

struct RegistryRow {
  std::string schema_id;
  std::string source_table;
  std::string kind;
  std::string schema_json;
};

// Every row of the registry's latest version; empty when the table does not exist.
Result<std::vector<RegistryRow>> ReadRegistry(sql::Connection& conn, const fs::path& root) {
  std::vector<RegistryRow> out;
  TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(root));
  if (!latest) {
    return out;
  }
  TRIB_ASSIGN_OR_RETURN(auto snapshot, delta::Snapshot::LoadLatest(root));
  if (snapshot->files().empty()) {
    return out;
  }
  delta::ScanOptions scan;
  scan.columns = {"schema_id", "source_table", "kind", "schema_json"};
  TRIB_ASSIGN_OR_RETURN(auto rows, delta::ScanRows(*snapshot, conn, scan));
  out.reserve(rows.row_count());
  for (size_t row = 0; row < rows.row_count(); ++row) {
    RegistryRow entry;
    entry.schema_id = rows.GetString(0, row);
    entry.source_table = rows.GetOptionalString(1, row).value_or("");
    entry.kind = rows.GetOptionalString(2, row).value_or("");
    entry.schema_json = rows.GetOptionalString(3, row).value_or("");
    if (BronzeSchemaId(entry.schema_json) != entry.schema_id) {
      return MakeError(ErrorCode::kCorruption,
                       "schema registry {}: schema id {} is not the hash of its text ({} "
                       "for {}; {})",
                       root.string(), entry.schema_id, BronzeSchemaId(entry.schema_json),
                       entry.source_table, Excerpt(entry.schema_json));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// The process-wide cache of parsed schemas: registry root -> id -> schema.
struct ParsedCache {
  std::mutex mutex;
  std::map<std::string, std::map<std::string, std::shared_ptr<const core::ConnectSchema>,
                                  std::less<>>>
      by_root;
};

ParsedCache& TheParsedCache() {
  static ParsedCache cache;
  return cache;
}

}  // namespace

delta::StructType BronzeSchemaRegistrySchema() {
  using delta::TypeKind;
  delta::StructType schema;
  schema.fields = {
      Field("schema_id", TypeKind::kString, false),
      Field("source", TypeKind::kString),
      Field("source_table", TypeKind::kString),
      Field("kind", TypeKind::kString, false),
      Field("schema_json", TypeKind::kString, false),
      Field("registered_at", TypeKind::kTimestamp),
  };
  return schema;
}

fs::path BronzeSchemaRegistryRoot(const fs::path& bronze_root) {
  return bronze_root.parent_path() / "_schemas";
}

std::string BronzeSchemaId(std::string_view schema_json) {
  // FNV-1a, 64 bit (offset basis 14695981039346656037, prime 1099511628211).
  uint64_t hash = 14695981039346656037ULL;
  for (char c : schema_json) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", hash);
}

Result<std::unique_ptr<BronzeSchemaRegistry>> BronzeSchemaRegistry::Open(
    sql::Connection& conn, fs::path root) {
  TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(root));
  if (!latest) {
    delta::CreateTableOptions create;
    create.schema = BronzeSchemaRegistrySchema();
    create.properties["delta.appendOnly"] = "true";
    create.name = "_schemas";
    create.description =
        "tributary bronze schema registry: the Kafka Connect schema of each "
        "key_schema_id / value_schema_id of bronze/all_events (ADR 0005)";
    auto created = delta::CreateTable(root, create);
    if (!created.ok() && !created.status().IsAlreadyExists()) {
      return std::move(created).status().AddContext(
          fmt::format("creating bronze schema registry {}", root.string()));
    }
  }
  std::unique_ptr<BronzeSchemaRegistry> registry(new BronzeSchemaRegistry(std::move(root)));
  TRIB_RETURN_IF_ERROR(registry->Load(conn));
  return registry;
}

Status BronzeSchemaRegistry::Load(sql::Connection& conn) {
  TRIB_ASSIGN_OR_RETURN(auto rows, ReadRegistry(conn, root_));
  for (auto& row : rows) {
    known_.insert_or_assign(row.schema_id, Known{std::move(row.source_table),
                                                 std::move(row.kind),
                                                 std::move(row.schema_json)});
  }
  return OkStatus();
}

bool BronzeSchemaRegistry::Contains(std::string_view schema_id) const {
  return known_.find(schema_id) != known_.end();
}

Status BronzeSchemaRegistry::Register(sql::Connection& conn,
                                      const std::vector<BronzeSchemaEntry>& entries) {
  std::map<std::string, const BronzeSchemaEntry*, std::less<>> fresh;
  for (const BronzeSchemaEntry& entry : entries) {
    if (BronzeSchemaId(entry.schema_json) != entry.schema_id) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "schema registry {}: id {} given for a schema of {} whose id is {}",
                       root_.string(), entry.schema_id, entry.source_table,
                       BronzeSchemaId(entry.schema_json));
    }
    std::string_view registered_table;
    std::string_view registered_text;
    if (auto it = known_.find(entry.schema_id); it != known_.end()) {
      registered_table = it->second.source_table;
      registered_text = it->second.schema_json;
    } else if (auto given = fresh.find(entry.schema_id); given != fresh.end()) {
      registered_table = given->second->source_table;
      registered_text = given->second->schema_json;
    } else {
      fresh.emplace(entry.schema_id, &entry);
      continue;
    }
    if (registered_text != entry.schema_json) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "schema registry {}: schema id {} names the registered schema of {} ({}) "
                       "and a different {} schema of {} ({})",
                       root_.string(), entry.schema_id, registered_table,
                       Excerpt(registered_text), entry.kind, entry.source_table,
                       Excerpt(entry.schema_json));
    }
  }
  if (fresh.empty()) {
    return OkStatus();
  }
  const double now_seconds = static_cast<double>(NowMicros()) / 1e6;
  std::string values;
  for (const auto& [id, entry] : fresh) {
    values += fmt::format(
        "{}({}, {}, {}, {}, {}, to_timestamp({:.6f}))", values.empty() ? "" : ", ",
        QuoteLiteral(id), QuoteLiteral(entry->source),
        entry->source_table.empty() ? std::string("CAST(NULL AS VARCHAR)")
                                    : QuoteLiteral(entry->source_table),
        QuoteLiteral(entry->kind), QuoteLiteral(entry->schema_json), now_seconds);
  }
  std::string query = fmt::format(
      "SELECT * FROM (VALUES {}) AS t(schema_id, source, source_table, kind, schema_json, "
      "registered_at)",
      values);
  delta::WriteOptions write;
  write.operation_parameters["tributary.schemas"] = std::to_string(fresh.size());
  auto written = delta::Append(conn, root_, query, write);
  if (!written.ok()) {
    return std::move(written).status().AddContext(
        fmt::format("registering {} schemas in {}", fresh.size(), root_.string()));
  }
  for (const auto& [id, entry] : fresh) {
    known_.insert_or_assign(id, Known{entry->source_table, entry->kind, entry->schema_json});
    spdlog::info("bronze: registered {} schema {} of {} in {} (version {})", entry->kind, id,
                 entry->source_table, root_.string(), written->version);
  }
  return OkStatus();
}

Result<std::shared_ptr<const core::ConnectSchema>> LookupBronzeSchema(
    sql::Connection& conn, const fs::path& registry_root, std::string_view schema_id) {
  ParsedCache& cache = TheParsedCache();
  const std::string root_key = registry_root.lexically_normal().string();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto& by_id = cache.by_root[root_key];
    if (auto it = by_id.find(schema_id); it != by_id.end()) {
      return it->second;
    }
  }
  // Read outside the lock: a read can take a while and other registries stay usable.
  TRIB_ASSIGN_OR_RETURN(auto rows, ReadRegistry(conn, registry_root));
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto& by_id = cache.by_root[root_key];
  for (const RegistryRow& row : rows) {
    if (by_id.find(row.schema_id) != by_id.end()) {
      continue;
    }
    auto parsed = core::ConnectSchema::Parse(row.schema_json);
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext(fmt::format(
          "schema registry {}: schema {} of {}", registry_root.string(), row.schema_id,
          row.source_table));
    }
    by_id.emplace(row.schema_id, std::move(*parsed));
  }
  if (auto it = by_id.find(schema_id); it != by_id.end()) {
    return it->second;
  }
  return MakeError(ErrorCode::kNotFound, "schema registry {} holds no schema with id {}",
                   registry_root.string(), schema_id);
}

}  // namespace tributary::pipeline
