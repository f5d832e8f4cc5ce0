#include "lake/delta/scan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>

#include "lake/delta/column_mapping.h"
#include "lake/delta/deletion_vector.h"
#include "lake/delta/internal/file_select.h"
#include "lake/parquet/parquet_reader.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;
using parquet::SchemaNode;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

Result<std::string> DuckDbType(const DataType& type) {
  switch (type.kind) {
    case TypeKind::kString:
      return std::string("VARCHAR");
    case TypeKind::kLong:
      return std::string("BIGINT");
    case TypeKind::kInteger:
      return std::string("INTEGER");
    case TypeKind::kShort:
      return std::string("SMALLINT");
    case TypeKind::kByte:
      return std::string("TINYINT");
    case TypeKind::kFloat:
      return std::string("FLOAT");
    case TypeKind::kDouble:
      return std::string("DOUBLE");
    case TypeKind::kDecimal:
      return fmt::format("DECIMAL({},{})", type.precision, type.scale);
    case TypeKind::kBoolean:
      return std::string("BOOLEAN");
    case TypeKind::kBinary:
      return std::string("BLOB");
    case TypeKind::kDate:
      return std::string("DATE");
    case TypeKind::kTimestamp:
      return std::string("TIMESTAMP WITH TIME ZONE");
    case TypeKind::kTimestampNtz:
      return std::string("TIMESTAMP");
    case TypeKind::kVariant:
      return MakeError(ErrorCode::kUnsupported, "the variant type cannot be read yet");
    case TypeKind::kArray: {
      TRIB_ASSIGN_OR_RETURN(std::string element, DuckDbType(type.element()));
      return element + "[]";
    }
    case TypeKind::kMap: {
      TRIB_ASSIGN_OR_RETURN(std::string key, DuckDbType(type.key()));
      TRIB_ASSIGN_OR_RETURN(std::string value, DuckDbType(type.value()));
      return fmt::format("MAP({}, {})", key, value);
    }
    case TypeKind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        TRIB_ASSIGN_OR_RETURN(std::string child, DuckDbType(type.fields[i].type));
        out += (i > 0 ? ", " : "") + QuoteIdentifier(type.fields[i].name) + " " + child;
      }
      return out + ")";
    }
  }
  return MakeError(ErrorCode::kInternal, "unhandled Delta type");
}

Result<std::string> PartitionValueExpression(const std::optional<std::string>& value,
                                             const DataType& type,
                                             std::string_view timezone) {
  TRIB_ASSIGN_OR_RETURN(std::string duck_type, DuckDbType(type));
  // PROTOCOL.md "Partition Value Serialization": an empty string for any type is null.
  if (!value || value->empty()) {
    return fmt::format("CAST(NULL AS {})", duck_type);
  }
  const std::string& v = *value;
  switch (type.kind) {
    case TypeKind::kString:
      return QuoteLiteral(v);
    case TypeKind::kBinary:
      return fmt::format("encode({})", QuoteLiteral(v));
    case TypeKind::kTimestamp: {
      // ISO-8601 with a zone ("1971-07-22T03:06:40.000000Z") is an instant; the plain
      // form is wall-clock time in the writer's zone.
      size_t time_start = v.find_first_of("T ");
      bool has_zone = time_start != std::string::npos &&
                      v.find_first_of("Z+", time_start) != std::string::npos;
      if (!has_zone && time_start != std::string::npos) {
        size_t dash = v.find('-', time_start);
        has_zone = dash != std::string::npos;
      }
      if (has_zone) {
        return fmt::format("CAST({} AS TIMESTAMP WITH TIME ZONE)", QuoteLiteral(v));
      }
      return fmt::format("timezone({}, CAST({} AS TIMESTAMP))", QuoteLiteral(timezone),
                         QuoteLiteral(v));
    }
    case TypeKind::kStruct:
    case TypeKind::kArray:
    case TypeKind::kMap:
    case TypeKind::kVariant:
      return MakeError(ErrorCode::kCorruption, "a {} column cannot be a partition column",
                       type.ToString());
    default:
      return fmt::format("CAST({} AS {})", QuoteLiteral(v), duck_type);
  }
}

namespace internal {

namespace {

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The file node holding `field` among `children` (PROTOCOL.md "Reader Requirements for
// Column Mapping": by field id in id mode, by physical name in name mode).
const SchemaNode* FindChild(const std::vector<SchemaNode>& children,
                            const StructField& field,
                            ColumnMappingMode mode) {
  if (mode == ColumnMappingMode::kId) {
    if (auto id = FieldId(field)) {
      for (const auto& child : children) {
        if (child.field_id && *child.field_id == *id) {
          return &child;
        }
      }
      return nullptr;
    }
  }
  std::string name = PhysicalName(field, mode);
  for (const auto& child : children) {
    if (child.name == name) {
      return &child;
    }
  }
  for (const auto& child : children) {
    if (EqualsIgnoreCase(child.name, name)) {
      return &child;
    }
  }
  return nullptr;
}

bool NeedsRebuild(const DataType& type) {
  return type.kind == TypeKind::kStruct ||
         (type.kind == TypeKind::kArray && NeedsRebuild(type.element())) ||
         (type.kind == TypeKind::kMap &&
          (NeedsRebuild(type.key()) || NeedsRebuild(type.value())));
}

// An expression converting `src` (a value of file node `node`) to `target`.
Result<std::string> Convert(const std::string& src,
                            const SchemaNode* node,
                            const DataType& target,
                            ColumnMappingMode mode,
                            int depth) {
  TRIB_ASSIGN_OR_RETURN(std::string duck_type, DuckDbType(target));
  if (node == nullptr) {
    return fmt::format("CAST(NULL AS {})", duck_type);
  }
  switch (target.kind) {
    case TypeKind::kStruct: {
      std::string out =
          fmt::format("CASE WHEN {} IS NULL THEN NULL ELSE struct_pack(", src);
      for (size_t i = 0; i < target.fields.size(); ++i) {
        const StructField& field = target.fields[i];
        const SchemaNode* child = FindChild(node->children, field, mode);
        std::string child_src =
            child == nullptr
                ? std::string()
                : fmt::format("struct_extract({}, {})", src, QuoteLiteral(child->name));
        TRIB_ASSIGN_OR_RETURN(std::string value,
                              Convert(child_src, child, field.type, mode, depth + 1));
        out += (i > 0 ? ", " : "") + QuoteIdentifier(field.name) + " := " + value;
      }
      return out + ") END";
    }
    case TypeKind::kArray: {
      if (!NeedsRebuild(target.element())) {
        return fmt::format("CAST({} AS {})", src, duck_type);
      }
      std::string var = fmt::format("__e{}", depth);
      TRIB_ASSIGN_OR_RETURN(
          std::string element,
          Convert(var, node->ListElement(), target.element(), mode, depth + 1));
      return fmt::format("list_transform({}, lambda {}: {})", src, var, element);
    }
    case TypeKind::kMap: {
      if (!NeedsRebuild(target.key()) && !NeedsRebuild(target.value())) {
        return fmt::format("CAST({} AS {})", src, duck_type);
      }
      std::string var = fmt::format("__e{}", depth);
      TRIB_ASSIGN_OR_RETURN(std::string key,
                            Convert(fmt::format("struct_extract({}, 'key')", var),
                                    node->MapKey(), target.key(), mode, depth + 1));
      TRIB_ASSIGN_OR_RETURN(std::string value,
                            Convert(fmt::format("struct_extract({}, 'value')", var),
                                    node->MapValue(), target.value(), mode, depth + 1));
      return fmt::format(
          "map_from_entries(list_transform(map_entries({}), lambda {}: "
          "struct_pack(\"key\" := {}, \"value\" := {})))",
          src, var, key, value);
    }
    case TypeKind::kTimestamp:
      // INT96 and isAdjustedToUTC=false values arrive as TIMESTAMP: UTC wall time.
      if (node->duckdb_type.rfind("TIMESTAMP", 0) == 0 &&
          node->duckdb_type.find("TIME ZONE") == std::string::npos) {
        return fmt::format("timezone('UTC', CAST({} AS TIMESTAMP))", src);
      }
      return fmt::format("CAST({} AS {})", src, duck_type);
    case TypeKind::kTimestampNtz:
      if (node->duckdb_type.find("TIME ZONE") != std::string::npos) {
        return fmt::format("timezone('UTC', {})", src);
      }
      return fmt::format("CAST({} AS {})", src, duck_type);
    default:
      if (node->duckdb_type == duck_type) {
        return src;
      }
      return fmt::format("CAST({} AS {})", src, duck_type);
  }
}

std::string RowList(const std::vector<uint64_t>& rows) {
  std::string out;
  out.reserve(rows.size() * 6);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) {
      out += ",";
    }
    out += std::to_string(rows[i]);
  }
  return out;
}

}  // namespace

Result<std::string> BuildFilesSelect(sql::Connection& connection,
                                     const SelectSpec& spec,
                                     const std::vector<FileRead>& files) {
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const auto& file : files) {
    paths.push_back(file.path);
  }
  std::map<std::string, SchemaNode> schemas;
  if (!files.empty()) {
    TRIB_ASSIGN_OR_RETURN(schemas, parquet::ReadSchemas(connection, paths));
  }
  return BuildFilesSelect(spec, files, schemas);
}

Result<std::string> BuildFilesSelect(const SelectSpec& spec,
                                     const std::vector<FileRead>& files,
                                     const std::map<std::string, SchemaNode>& schemas) {
  // Partition columns by logical name -> field.
  auto is_partition = [&](const StructField& field) {
    for (const auto& p : spec.partition_columns) {
      if (EqualsIgnoreCase(p, field.name)) {
        return true;
      }
    }
    return false;
  };
  if (files.empty()) {
    std::string out = "SELECT ";
    bool first = true;
    for (const auto& field : spec.columns) {
      TRIB_ASSIGN_OR_RETURN(std::string duck_type, DuckDbType(field.type));
      out += (first ? "" : ", ") + fmt::format("CAST(NULL AS {}) AS {}", duck_type,
                                               QuoteIdentifier(field.name));
      first = false;
    }
    for (const auto& extra : spec.extras) {
      out +=
          (first ? "" : ", ") + fmt::format("CAST(NULL AS {}) AS {}", extra.duckdb_type,
                                            QuoteIdentifier(extra.alias));
      first = false;
    }
    return out + " LIMIT 0";
  }
  // Group files by (schema signature, partition values); files with a row filter stay
  // alone so the filter can use file_row_number.
  struct Group {
    const SchemaNode* schema = nullptr;
    const FileRead* first = nullptr;
    std::vector<std::string> paths;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  size_t solo = 0;
  for (const auto& file : files) {
    auto found = schemas.find(file.path);
    if (found == schemas.end()) {
      return MakeError(ErrorCode::kInternal, "no Parquet schema was read for '{}'",
                       file.path);
    }
    const SchemaNode& schema = found->second;
    std::string key = schema.Signature();
    for (const auto& [k, v] : file.partition_values) {
      key += "\x1f" + k + "=" + (v ? "v" + *v : "n");
    }
    if (file.filter != FileRead::RowFilter::kAll) {
      key += fmt::format("\x1esolo{}", solo++);
    }
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      it->second.schema = &schema;
      it->second.first = &file;
      order.push_back(key);
    }
    it->second.paths.push_back(file.path);
  }

  std::string out;
  for (const auto& key : order) {
    const Group& group = groups.at(key);
    std::string select = "SELECT ";
    bool first = true;
    for (const auto& field : spec.columns) {
      std::string expr;
      if (is_partition(field)) {
        std::string physical = PhysicalName(field, spec.mode);
        std::optional<std::string> value;
        auto pv = group.first->partition_values.find(physical);
        if (pv == group.first->partition_values.end()) {
          pv = group.first->partition_values.find(field.name);
        }
        if (pv != group.first->partition_values.end()) {
          value = pv->second;
        }
        TRIB_ASSIGN_OR_RETURN(
            expr, PartitionValueExpression(value, field.type, spec.partition_timezone));
      } else {
        const SchemaNode* node = FindChild(group.schema->children, field, spec.mode);
        std::string src = node == nullptr ? std::string() : QuoteIdentifier(node->name);
        TRIB_ASSIGN_OR_RETURN(expr, Convert(src, node, field.type, spec.mode, 0));
      }
      select += (first ? "" : ", ") + expr + " AS " + QuoteIdentifier(field.name);
      first = false;
    }
    for (const auto& extra : spec.extras) {
      select += (first ? "" : ", ") + fmt::format("CAST({} AS {}) AS {}",
                                                  extra.expression, extra.duckdb_type,
                                                  QuoteIdentifier(extra.alias));
      first = false;
    }
    const FileRead& file = *group.first;
    bool filtered = file.filter != FileRead::RowFilter::kAll;
    select +=
        fmt::format(" FROM read_parquet({}{})", parquet::PathListLiteral(group.paths),
                    filtered ? ", file_row_number = true" : "");
    if (filtered) {
      if (file.filter == FileRead::RowFilter::kOnly) {
        select += file.rows.empty()
                      ? " WHERE false"
                      : fmt::format(" WHERE file_row_number IN ({})", RowList(file.rows));
      } else if (!file.rows.empty()) {
        select += fmt::format(" WHERE file_row_number NOT IN ({})", RowList(file.rows));
      }
    }
    out += out.empty() ? select : "\nUNION ALL\n" + select;
  }
  return out;
}

}  // namespace internal

Result<std::string> BuildScanQuery(const Snapshot& snapshot,
                                   sql::Connection& connection,
                                   const ScanOptions& options) {
  internal::SelectSpec spec;
  spec.mode = snapshot.column_mapping_mode();
  spec.partition_columns = snapshot.partition_columns();
  spec.partition_timezone = options.partition_timezone;
  if (options.columns.empty()) {
    spec.columns = snapshot.schema().fields;
  } else {
    for (const auto& name : options.columns) {
      const StructField* field = snapshot.schema().Find(name);
      if (field == nullptr) {
        return MakeError(ErrorCode::kInvalidArgument, "table '{}' has no column '{}'",
                         snapshot.table_root().string(), name);
      }
      spec.columns.push_back(*field);
    }
  }
  std::vector<internal::FileRead> files;
  files.reserve(snapshot.files().size());
  for (const auto& add : snapshot.files()) {
    internal::FileRead read;
    TRIB_ASSIGN_OR_RETURN(fs::path path, snapshot.ResolvePath(add.path));
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return MakeError(ErrorCode::kNotFound,
                       "data file '{}' of table '{}' (version {}) does not exist",
                       path.string(), snapshot.table_root().string(), snapshot.version());
    }
    read.path = path.string();
    read.partition_values = add.partition_values;
    if (add.deletion_vector) {
      auto rows = LoadDeletionVector(snapshot.table_root(), *add.deletion_vector);
      if (!rows.ok()) {
        return std::move(rows).status().AddContext(fmt::format(
            "deletion vector of '{}' (version {})", add.path, snapshot.version()));
      }
      read.filter = internal::FileRead::RowFilter::kExclude;
      read.rows = std::move(*rows);
    }
    files.push_back(std::move(read));
  }
  auto query = internal::BuildFilesSelect(connection, spec, files);
  if (!query.ok()) {
    return std::move(query).status().AddContext(
        fmt::format("scanning table '{}' at version {}", snapshot.table_root().string(),
                    snapshot.version()));
  }
  return query;
}

Status RegisterSnapshotView(sql::Connection& connection,
                            const Snapshot& snapshot,
                            std::string_view schema,
                            std::string_view view_name,
                            bool temporary,
                            const ScanOptions& options) {
  TRIB_ASSIGN_OR_RETURN(std::string query, BuildScanQuery(snapshot, connection, options));
  std::string name = QuoteIdentifier(view_name);
  if (!schema.empty()) {
    TRIB_RETURN_IF_ERROR(connection.Execute(
        fmt::format("CREATE SCHEMA IF NOT EXISTS {}", QuoteIdentifier(schema))));
    name = QuoteIdentifier(schema) + "." + name;
  }
  return connection.Execute(fmt::format("CREATE OR REPLACE {}VIEW {} AS {}",
                                        temporary ? "TEMP " : "", name, query));
}

Result<std::vector<std::string>> RegisterLakeViews(sql::Connection& connection,
                                                   const fs::path& lake_root,
                                                   bool temporary) {
  std::error_code ec;
  if (!fs::is_directory(lake_root, ec)) {
    return MakeError(ErrorCode::kNotFound, "lake directory '{}' does not exist",
                     lake_root.string());
  }
  std::vector<std::string> names;
  auto skip = [](const fs::path& p) {
    std::string name = p.filename().string();
    return name.empty() || name[0] == '_' || name[0] == '.';
  };
  for (const auto& layer : fs::directory_iterator(lake_root, ec)) {
    if (!layer.is_directory(ec) || skip(layer.path())) {
      continue;
    }
    for (const auto& table : fs::directory_iterator(layer.path(), ec)) {
      if (!table.is_directory(ec) || skip(table.path()) ||
          !fs::is_directory(table.path() / "_delta_log", ec)) {
        continue;
      }
      SnapshotOptions options;
      options.connection = &connection;
      TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(table.path(), options));
      std::string schema = layer.path().filename().string();
      std::string name = table.path().filename().string();
      TRIB_RETURN_IF_ERROR(
          RegisterSnapshotView(connection, *snapshot, schema, name, temporary));
      names.push_back(schema + "." + name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<sql::QueryResult> ScanRows(const Snapshot& snapshot,
                                  sql::Connection& connection,
                                  const ScanOptions& options,
                                  std::optional<int64_t> limit) {
  TRIB_ASSIGN_OR_RETURN(std::string query, BuildScanQuery(snapshot, connection, options));
  if (limit) {
    query = fmt::format("SELECT * FROM ({}) LIMIT {}", query, *limit);
  }
  auto result = connection.Query(query);
  if (!result.ok()) {
    return std::move(result).status().AddContext(
        fmt::format("scanning table '{}' at version {}", snapshot.table_root().string(),
                    snapshot.version()));
  }
  return result;
}

}  // namespace tributary::lake::delta
