#include "lake/delta/checkpoint_reader.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "lake/delta/internal/uri.h"
#include "sql/database.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;

namespace {

// One field of a DuckDB STRUCT type name: its name and type text.
struct StructField {
  std::string name;
  std::string type;
};

// Splits "STRUCT(a BIGINT, \"b c\" MAP(VARCHAR, VARCHAR), d STRUCT(x INTEGER))" into its
// top-level fields. Returns an empty list for anything that is not a STRUCT.
std::vector<StructField> ParseStructFields(std::string_view type) {
  std::vector<StructField> fields;
  constexpr std::string_view kPrefix = "STRUCT(";
  if (type.substr(0, kPrefix.size()) != kPrefix || type.back() != ')') {
    return fields;
  }
  std::string_view body = type.substr(kPrefix.size(), type.size() - kPrefix.size() - 1);
  size_t pos = 0;
  while (pos < body.size()) {
    while (pos < body.size() && body[pos] == ' ') {
      ++pos;
    }
    StructField field;
    if (pos < body.size() && body[pos] == '"') {
      ++pos;
      while (pos < body.size()) {
        if (body[pos] == '"') {
          if (pos + 1 < body.size() && body[pos + 1] == '"') {
            field.name += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field.name += body[pos++];
      }
    } else {
      while (pos < body.size() && body[pos] != ' ') {
        field.name += body[pos++];
      }
    }
    ++pos;  // the space between name and type
    int depth = 0;
    bool quoted = false;
    size_t start = pos;
    while (pos < body.size()) {
      char c = body[pos];
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == '(') {
        ++depth;
      } else if (!quoted && c == ')') {
        --depth;
      } else if (!quoted && depth == 0 && c == ',') {
        break;
      }
      ++pos;
    }
    field.type = std::string(body.substr(start, pos - start));
    fields.push_back(std::move(field));
    ++pos;  // the comma
  }
  return fields;
}

const StructField* FindField(const std::vector<StructField>& fields, std::string_view name) {
  for (const auto& field : fields) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

// True when every listed field that is present has one of the checkpoint schema's types,
// so the typed getters read exactly what ActionFromJson would accept.
bool HasTypes(const std::vector<StructField>& fields,
              std::initializer_list<std::string_view> names,
              std::initializer_list<std::string_view> types) {
  for (std::string_view name : names) {
    const StructField* field = FindField(fields, name);
    if (field == nullptr) {
      continue;
    }
    bool ok = false;
    for (std::string_view type : types) {
      ok = ok || field->type == type;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Result columns of the typed `add` query, in SELECT order.
constexpr size_t kJson = 0;  ///< to_json(row) for rows that are not read typed, else NULL
constexpr size_t kPath = 1;
constexpr size_t kSize = 2;
constexpr size_t kModificationTime = 3;
constexpr size_t kDataChange = 4;
constexpr size_t kStats = 5;
constexpr size_t kMapsJson = 6;  ///< {"partitionValues":..,"tags":..} if either is non-empty
constexpr size_t kDvStorageType = 7;
constexpr size_t kDvPathOrInlineDv = 8;
constexpr size_t kDvOffset = 9;
constexpr size_t kDvSizeInBytes = 10;
constexpr size_t kDvCardinality = 11;
constexpr size_t kBaseRowId = 12;
constexpr size_t kDefaultRowCommitVersion = 13;
constexpr size_t kClusteringProvider = 14;

// Builds the SELECT list that reads `add` rows typed (no per-row JSON round trip), or
// std::nullopt when the files' `add` column does not have the checkpoint schema shape this
// path expects (then every row goes through to_json as before).
// Rows that are not `add` actions, and `add` rows whose required fields are NULL (so that
// ActionFromJson reports the same error as before), come back as JSON in column kJson.
std::optional<std::string> TypedAddSelect(const std::string& add_type) {
  std::vector<StructField> add = ParseStructFields(add_type);
  if (FindField(add, "path") == nullptr ||
      !HasTypes(add, {"path", "stats", "clusteringProvider"}, {"VARCHAR"}) ||
      !HasTypes(add, {"size", "modificationTime", "baseRowId", "defaultRowCommitVersion"},
                {"BIGINT", "INTEGER"}) ||
      !HasTypes(add, {"dataChange"}, {"BOOLEAN"})) {
    return std::nullopt;
  }
  auto extract = [](std::string_view base, std::string_view name) {
    return fmt::format("struct_extract({}, {})", base, sql::QuoteLiteral(name));
  };
  const std::string add_expr = "t.\"add\"";
  auto column = [&](std::string_view name) -> std::string {
    return FindField(add, name) != nullptr ? extract(add_expr, name) : "NULL";
  };
  std::vector<std::string> fallback = {add_expr + " IS NULL", column("path") + " IS NULL"};
  std::vector<std::string> map_parts;
  for (std::string_view name : {"partitionValues", "tags"}) {
    const StructField* field = FindField(add, name);
    if (field == nullptr) {
      continue;
    }
    if (field->type.substr(0, 4) != "MAP(") {
      return std::nullopt;
    }
    map_parts.push_back(fmt::format("coalesce(cardinality({}), 0) > 0", column(name)));
  }
  std::string maps_json = "NULL";
  if (!map_parts.empty()) {
    std::string cond = map_parts[0];
    if (map_parts.size() > 1) {
      cond += " OR " + map_parts[1];
    }
    maps_json = fmt::format(
        "CASE WHEN {} THEN json_object('partitionValues', {}, 'tags', {})::VARCHAR END", cond,
        column("partitionValues"), column("tags"));
  }
  std::string dv_columns = "NULL, NULL, NULL, NULL, NULL";
  if (const StructField* dv = FindField(add, "deletionVector"); dv != nullptr) {
    std::vector<StructField> dv_fields = ParseStructFields(dv->type);
    if (!HasTypes(dv_fields, {"storageType", "pathOrInlineDv"}, {"VARCHAR"}) ||
        !HasTypes(dv_fields, {"offset", "sizeInBytes", "cardinality"}, {"BIGINT", "INTEGER"})) {
      return std::nullopt;
    }
    const std::string dv_expr = extract(add_expr, "deletionVector");
    auto dv_column = [&](std::string_view name) -> std::string {
      return FindField(dv_fields, name) != nullptr ? extract(dv_expr, name) : "NULL";
    };
    // A descriptor with a required field missing goes the JSON way for the same error.
    fallback.push_back(fmt::format(
        "({} IS NOT NULL AND ({} IS NULL OR {} IS NULL OR {} IS NULL OR {} IS NULL))",
        dv_expr, dv_column("storageType"), dv_column("pathOrInlineDv"),
        dv_column("sizeInBytes"), dv_column("cardinality")));
    dv_columns = fmt::format("{}, {}, {}, {}, {}", dv_column("storageType"),
                             dv_column("pathOrInlineDv"), dv_column("offset"),
                             dv_column("sizeInBytes"), dv_column("cardinality"));
  }
  std::string fallback_cond = fallback[0];
  for (size_t i = 1; i < fallback.size(); ++i) {
    fallback_cond += " OR " + fallback[i];
  }
  return fmt::format(
      "CASE WHEN {} THEN to_json(t) END, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
      fallback_cond, column("path"), column("size"), column("modificationTime"),
      column("dataChange"), column("stats"), maps_json, dv_columns, column("baseRowId"),
      column("defaultRowCommitVersion"), column("clusteringProvider"));
}

std::optional<int64_t> OptionalInt(const sql::QueryResult& result, size_t column,
                                   size_t row) {
  if (result.IsNull(column, row)) {
    return std::nullopt;
  }
  return result.GetInt64(column, row);
}

// One typed `add` row (all required fields are non-NULL: see TypedAddSelect).
Result<AddFile> TypedAdd(const sql::QueryResult& result, size_t row) {
  AddFile add;
  add.path = result.GetString(kPath, row);
  add.size = result.GetInt64(kSize, row);
  add.modification_time = result.GetInt64(kModificationTime, row);
  add.data_change = result.IsNull(kDataChange, row) || result.GetBool(kDataChange, row);
  add.stats = result.GetString(kStats, row);
  if (!result.IsNull(kMapsJson, row)) {
    // Non-empty partitionValues / tags: parsed by the commit-line reader so their
    // semantics (null values, non-string values) stay exactly those of ActionFromJson.
    std::string maps = result.GetString(kMapsJson, row);
    std::string line = R"({"add":{"path":"",)" + maps.substr(1) + "}";
    TRIB_ASSIGN_OR_RETURN(std::optional<Action> action, ParseActionLine(line));
    if (action) {
      if (auto* parsed_add = std::get_if<AddFile>(&*action)) {
        add.partition_values = std::move(parsed_add->partition_values);
        add.tags = std::move(parsed_add->tags);
      }
    }
  }
  if (!result.IsNull(kDvStorageType, row)) {
    DeletionVectorDescriptor dv;
    dv.storage_type = result.GetString(kDvStorageType, row);
    dv.path_or_inline_dv = result.GetString(kDvPathOrInlineDv, row);
    if (!result.IsNull(kDvOffset, row)) {
      dv.offset = static_cast<int32_t>(result.GetInt64(kDvOffset, row));
    }
    dv.size_in_bytes = static_cast<int32_t>(result.GetInt64(kDvSizeInBytes, row));
    dv.cardinality = result.GetInt64(kDvCardinality, row);
    add.deletion_vector = std::move(dv);
  }
  add.base_row_id = OptionalInt(result, kBaseRowId, row);
  add.default_row_commit_version = OptionalInt(result, kDefaultRowCommitVersion, row);
  add.clustering_provider = result.GetOptionalString(kClusteringProvider, row);
  return add;
}

}  // namespace

Result<std::vector<Action>> ReadParquetActions(sql::Connection& connection,
                                               const std::vector<fs::path>& files) {
  std::vector<Action> actions;
  if (files.empty()) {
    return actions;
  }
  std::string list = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    if (!fs::exists(files[i], ec)) {
      return MakeError(ErrorCode::kNotFound, "file '{}' does not exist",
                       files[i].string());
    }
    list += (i > 0 ? ", " : "") + sql::QuoteLiteral(files[i].string());
  }
  list += "]";
  const std::string source =
      fmt::format("read_parquet({}, union_by_name = true) AS t", list);
  auto read_error = [&](Error error) {
    return Error(
        ErrorCode::kCorruption,
        fmt::format("cannot read '{}': {}", files.front().string(), error.message()));
  };
  // The `add` rows (nearly all rows of a big checkpoint) are read typed, column by
  // column; the few other actions keep the row -> JSON -> ActionFromJson path, which is
  // also what the typed path falls back to when the schema is not the expected one.
  std::optional<std::string> typed_select;
  {
    auto shape = connection.Query(fmt::format("SELECT * FROM {} LIMIT 0", source));
    if (!shape.ok()) {
      return read_error(std::move(shape).status());
    }
    if (auto add = shape->ColumnIndex("add");
        add && shape->column_type(*add) == sql::ColumnType::kStruct) {
      typed_select = TypedAddSelect(shape->column_type_name(*add));
    }
  }
  auto result = connection.Query(fmt::format(
      "SELECT {} FROM {}", typed_select.value_or("to_json(t)"), source));
  if (!result.ok()) {
    return read_error(std::move(result).status());
  }
  actions.reserve(result->row_count());
  for (size_t row = 0; row < result->row_count(); ++row) {
    if (typed_select && result->IsNull(kJson, row)) {
      auto add = TypedAdd(*result, row);
      if (!add.ok()) {
        return std::move(add).status().AddContext(
            fmt::format("row {} of '{}'", row, files.front().string()));
      }
      actions.emplace_back(std::move(*add));
      continue;
    }
    // Each row is one action: converting the whole row to JSON yields
    // {"txn":null,"add":{...},...}, which ActionFromJson reads like a commit line.
    auto parsed = ParseActionLine(result->GetString(kJson, row));
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext(
          fmt::format("row {} of '{}'", row, files.front().string()));
    }
    if (*parsed) {
      actions.push_back(std::move(**parsed));
    }
  }
  return actions;
}

Result<std::vector<Action>> ReadCheckpoint(sql::Connection& connection,
                                           const fs::path& table_root,
                                           const CheckpointFiles& checkpoint) {
  std::vector<Action> actions;
  std::string what =
      fmt::format("checkpoint '{}' (version {})",
                  checkpoint.parts.front().path.filename().string(), checkpoint.version);
  bool is_json = checkpoint.parts.size() == 1 &&
                 checkpoint.parts.front().path.extension() == ".json";
  if (is_json) {
    auto text = ReadFileToString(checkpoint.parts.front().path);
    if (!text.ok()) {
      return std::move(text).status().AddContext("reading " + what);
    }
    auto parsed = ParseCommitText(*text);
    if (!parsed.ok()) {
      Error error = std::move(parsed).status();
      return Error(ErrorCode::kCorruption,
                   fmt::format("{} is malformed: {}", what, error.ToString()));
    }
    actions = std::move(*parsed);
  } else {
    std::vector<fs::path> files;
    for (const auto& part : checkpoint.parts) {
      files.push_back(part.path);
    }
    auto parsed = ReadParquetActions(connection, files);
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext("reading " + what);
    }
    actions = std::move(*parsed);
  }
  // V2 checkpoints: file actions live in sidecars (PROTOCOL.md "Sidecar Files").
  std::vector<fs::path> sidecars;
  for (const auto& action : actions) {
    if (const auto* sidecar = std::get_if<Sidecar>(&action)) {
      TRIB_ASSIGN_OR_RETURN(fs::path resolved,
                            internal::ResolveLogPath(
                                table_root / "_delta_log" / "_sidecars", sidecar->path));
      std::error_code ec;
      if (!fs::exists(resolved, ec)) {
        return MakeError(ErrorCode::kNotFound,
                         "{} lists sidecar '{}', which does not exist", what,
                         resolved.string());
      }
      sidecars.push_back(std::move(resolved));
    }
  }
  if (!sidecars.empty()) {
    auto sidecar_actions = ReadParquetActions(connection, sidecars);
    if (!sidecar_actions.ok()) {
      return std::move(sidecar_actions)
          .status()
          .AddContext("reading sidecars of " + what);
    }
    for (auto& action : *sidecar_actions) {
      actions.push_back(std::move(action));
    }
  }
  return actions;
}

}  // namespace tributary::lake::delta
