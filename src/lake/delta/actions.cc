#include "lake/delta/actions.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace tributary::lake::delta {

namespace {

using nlohmann::json;

// Field readers. Checkpoint rows converted to JSON carry explicit nulls for absent
// optional fields, so a null is treated as absent everywhere.
const json* Field(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Error FieldError(std::string_view action, std::string_view key, std::string_view what) {
  return MakeError(ErrorCode::kCorruption, "'{}' action: field '{}' {}", action, key,
                   what);
}

Result<std::optional<std::string>> OptString(const json& obj,
                                             std::string_view action,
                                             std::string_view key) {
  const json* value = Field(obj, key);
  if (value == nullptr) {
    return std::optional<std::string>();
  }
  if (!value->is_string()) {
    return FieldError(action, key, "is not a string");
  }
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::string> ReqString(const json& obj,
                              std::string_view action,
                              std::string_view key) {
  TRIB_ASSIGN_OR_RETURN(auto value, OptString(obj, action, key));
  if (!value) {
    return FieldError(action, key, "is missing");
  }
  return std::move(*value);
}

Result<std::optional<int64_t>> OptInt(const json& obj,
                                      std::string_view action,
                                      std::string_view key) {
  const json* value = Field(obj, key);
  if (value == nullptr) {
    return std::optional<int64_t>();
  }
  if (value->is_number_integer()) {
    return std::optional<int64_t>(value->get<int64_t>());
  }
  if (value->is_number_float()) {
    double d = value->get<double>();
    auto i = static_cast<int64_t>(d);
    if (static_cast<double>(i) == d) {
      return std::optional<int64_t>(i);
    }
  }
  // Some writers store numbers as strings (e.g. engine-specific fields); accept digits.
  if (value->is_string()) {
    const std::string& s = value->get_ref<const std::string&>();
    try {
      size_t used = 0;
      int64_t i = std::stoll(s, &used);
      if (used == s.size()) {
        return std::optional<int64_t>(i);
      }
    } catch (const std::exception&) {
    }
  }
  return FieldError(action, key, "is not an integer");
}

Result<int64_t> ReqInt(const json& obj, std::string_view action, std::string_view key) {
  TRIB_ASSIGN_OR_RETURN(auto value, OptInt(obj, action, key));
  if (!value) {
    return FieldError(action, key, "is missing");
  }
  return *value;
}

Result<std::optional<bool>> OptBool(const json& obj,
                                    std::string_view action,
                                    std::string_view key) {
  const json* value = Field(obj, key);
  if (value == nullptr) {
    return std::optional<bool>();
  }
  if (!value->is_boolean()) {
    return FieldError(action, key, "is not a boolean");
  }
  return std::optional<bool>(value->get<bool>());
}

Result<std::optional<std::vector<std::string>>> OptStringList(const json& obj,
                                                              std::string_view action,
                                                              std::string_view key) {
  const json* value = Field(obj, key);
  if (value == nullptr) {
    return std::optional<std::vector<std::string>>();
  }
  if (!value->is_array()) {
    return FieldError(action, key, "is not an array");
  }
  std::vector<std::string> out;
  for (const auto& item : *value) {
    if (!item.is_string()) {
      return FieldError(action, key, "holds a non-string element");
    }
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// A JSON scalar as a map value: strings as themselves, anything else as JSON text.
std::string ScalarText(const json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return value.dump();
}

// Reads a string -> string map. Checkpoint maps converted by DuckDB come as objects;
// Parquet MAP columns may also surface as [{"key":..,"value":..}] lists.
Result<std::optional<std::map<std::string, std::string>>> OptStringMap(
    const json& obj, std::string_view action, std::string_view key) {
  const json* value = Field(obj, key);
  if (value == nullptr) {
    return std::optional<std::map<std::string, std::string>>();
  }
  std::map<std::string, std::string> out;
  if (value->is_object()) {
    for (const auto& [k, v] : value->items()) {
      if (!v.is_null()) {
        out[k] = ScalarText(v);
      }
    }
  } else if (value->is_array()) {
    for (const auto& entry : *value) {
      if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string()) {
        return FieldError(action, key, "is not a map");
      }
      const json* v = Field(entry, "value");
      if (v != nullptr) {
        out[entry["key"].get<std::string>()] = ScalarText(*v);
      }
    }
  } else {
    return FieldError(action, key, "is not an object");
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

Result<std::optional<PartitionValues>> OptPartitionValues(const json& obj,
                                                          std::string_view action) {
  const json* value = Field(obj, "partitionValues");
  if (value == nullptr) {
    return std::optional<PartitionValues>();
  }
  PartitionValues out;
  auto put = [&](const std::string& k, const json& v) -> Status {
    if (v.is_null()) {
      out[k] = std::nullopt;
    } else if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else {
      return FieldError(action, "partitionValues",
                        fmt::format("'{}' is not a string", k));
    }
    return OkStatus();
  };
  if (value->is_object()) {
    for (const auto& [k, v] : value->items()) {
      TRIB_RETURN_IF_ERROR(put(k, v));
    }
  } else if (value->is_array()) {
    for (const auto& entry : *value) {
      if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string()) {
        return FieldError(action, "partitionValues", "is not a map");
      }
      TRIB_RETURN_IF_ERROR(
          put(entry["key"].get<std::string>(), entry.value("value", json(nullptr))));
    }
  } else {
    return FieldError(action, "partitionValues", "is not an object");
  }
  return std::optional<PartitionValues>(std::move(out));
}

json MapToJson(const std::map<std::string, std::string>& map) {
  json out = json::object();
  for (const auto& [k, v] : map) {
    out[k] = v;
  }
  return out;
}

json PartitionValuesToJson(const PartitionValues& values) {
  json out = json::object();
  for (const auto& [k, v] : values) {
    out[k] = v ? json(*v) : json(nullptr);
  }
  return out;
}

Result<std::optional<DeletionVectorDescriptor>> OptDeletionVector(const json& obj) {
  const json* value = Field(obj, "deletionVector");
  if (value == nullptr) {
    return std::optional<DeletionVectorDescriptor>();
  }
  TRIB_ASSIGN_OR_RETURN(auto dv, DeletionVectorFromJson(*value));
  return std::optional<DeletionVectorDescriptor>(std::move(dv));
}

Result<Protocol> ParseProtocol(const json& obj) {
  constexpr std::string_view kName = "protocol";
  Protocol p;
  TRIB_ASSIGN_OR_RETURN(int64_t reader, ReqInt(obj, kName, "minReaderVersion"));
  TRIB_ASSIGN_OR_RETURN(int64_t writer, ReqInt(obj, kName, "minWriterVersion"));
  p.min_reader_version = static_cast<int32_t>(reader);
  p.min_writer_version = static_cast<int32_t>(writer);
  TRIB_ASSIGN_OR_RETURN(p.reader_features, OptStringList(obj, kName, "readerFeatures"));
  TRIB_ASSIGN_OR_RETURN(p.writer_features, OptStringList(obj, kName, "writerFeatures"));
  return p;
}

Result<Metadata> ParseMetadata(const json& obj) {
  constexpr std::string_view kName = "metaData";
  Metadata m;
  TRIB_ASSIGN_OR_RETURN(m.id, ReqString(obj, kName, "id"));
  TRIB_ASSIGN_OR_RETURN(m.name, OptString(obj, kName, "name"));
  TRIB_ASSIGN_OR_RETURN(m.description, OptString(obj, kName, "description"));
  if (const json* format = Field(obj, "format"); format != nullptr) {
    if (!format->is_object()) {
      return FieldError(kName, "format", "is not an object");
    }
    TRIB_ASSIGN_OR_RETURN(auto provider, OptString(*format, kName, "provider"));
    if (provider) {
      m.format.provider = std::move(*provider);
    }
    TRIB_ASSIGN_OR_RETURN(auto options, OptStringMap(*format, kName, "options"));
    if (options) {
      m.format.options = std::move(*options);
    }
  }
  TRIB_ASSIGN_OR_RETURN(m.schema_string, ReqString(obj, kName, "schemaString"));
  TRIB_ASSIGN_OR_RETURN(auto partition_columns,
                        OptStringList(obj, kName, "partitionColumns"));
  if (partition_columns) {
    m.partition_columns = std::move(*partition_columns);
  }
  TRIB_ASSIGN_OR_RETURN(m.created_time, OptInt(obj, kName, "createdTime"));
  TRIB_ASSIGN_OR_RETURN(auto configuration, OptStringMap(obj, kName, "configuration"));
  if (configuration) {
    m.configuration = std::move(*configuration);
  }
  return m;
}

Result<AddFile> ParseAdd(const json& obj) {
  constexpr std::string_view kName = "add";
  AddFile a;
  TRIB_ASSIGN_OR_RETURN(a.path, ReqString(obj, kName, "path"));
  TRIB_ASSIGN_OR_RETURN(auto pv, OptPartitionValues(obj, kName));
  if (pv) {
    a.partition_values = std::move(*pv);
  }
  TRIB_ASSIGN_OR_RETURN(auto size, OptInt(obj, kName, "size"));
  a.size = size.value_or(0);
  TRIB_ASSIGN_OR_RETURN(auto mtime, OptInt(obj, kName, "modificationTime"));
  a.modification_time = mtime.value_or(0);
  TRIB_ASSIGN_OR_RETURN(auto data_change, OptBool(obj, kName, "dataChange"));
  a.data_change = data_change.value_or(true);
  TRIB_ASSIGN_OR_RETURN(auto stats, OptString(obj, kName, "stats"));
  a.stats = stats.value_or("");
  TRIB_ASSIGN_OR_RETURN(auto tags, OptStringMap(obj, kName, "tags"));
  if (tags) {
    a.tags = std::move(*tags);
  }
  TRIB_ASSIGN_OR_RETURN(a.deletion_vector, OptDeletionVector(obj));
  TRIB_ASSIGN_OR_RETURN(a.base_row_id, OptInt(obj, kName, "baseRowId"));
  TRIB_ASSIGN_OR_RETURN(a.default_row_commit_version,
                        OptInt(obj, kName, "defaultRowCommitVersion"));
  TRIB_ASSIGN_OR_RETURN(a.clustering_provider,
                        OptString(obj, kName, "clusteringProvider"));
  return a;
}

Result<RemoveFile> ParseRemove(const json& obj) {
  constexpr std::string_view kName = "remove";
  RemoveFile r;
  TRIB_ASSIGN_OR_RETURN(r.path, ReqString(obj, kName, "path"));
  TRIB_ASSIGN_OR_RETURN(r.deletion_timestamp, OptInt(obj, kName, "deletionTimestamp"));
  TRIB_ASSIGN_OR_RETURN(auto data_change, OptBool(obj, kName, "dataChange"));
  r.data_change = data_change.value_or(true);
  TRIB_ASSIGN_OR_RETURN(r.extended_file_metadata,
                        OptBool(obj, kName, "extendedFileMetadata"));
  TRIB_ASSIGN_OR_RETURN(r.partition_values, OptPartitionValues(obj, kName));
  TRIB_ASSIGN_OR_RETURN(r.size, OptInt(obj, kName, "size"));
  TRIB_ASSIGN_OR_RETURN(r.stats, OptString(obj, kName, "stats"));
  TRIB_ASSIGN_OR_RETURN(r.tags, OptStringMap(obj, kName, "tags"));
  TRIB_ASSIGN_OR_RETURN(r.deletion_vector, OptDeletionVector(obj));
  TRIB_ASSIGN_OR_RETURN(r.base_row_id, OptInt(obj, kName, "baseRowId"));
  TRIB_ASSIGN_OR_RETURN(r.default_row_commit_version,
                        OptInt(obj, kName, "defaultRowCommitVersion"));
  return r;
}

Result<AddCdcFile> ParseCdc(const json& obj) {
  constexpr std::string_view kName = "cdc";
  AddCdcFile c;
  TRIB_ASSIGN_OR_RETURN(c.path, ReqString(obj, kName, "path"));
  TRIB_ASSIGN_OR_RETURN(auto pv, OptPartitionValues(obj, kName));
  if (pv) {
    c.partition_values = std::move(*pv);
  }
  TRIB_ASSIGN_OR_RETURN(auto size, OptInt(obj, kName, "size"));
  c.size = size.value_or(0);
  TRIB_ASSIGN_OR_RETURN(auto data_change, OptBool(obj, kName, "dataChange"));
  c.data_change = data_change.value_or(false);
  TRIB_ASSIGN_OR_RETURN(c.tags, OptStringMap(obj, kName, "tags"));
  return c;
}

Result<SetTransaction> ParseTxn(const json& obj) {
  constexpr std::string_view kName = "txn";
  SetTransaction t;
  TRIB_ASSIGN_OR_RETURN(t.app_id, ReqString(obj, kName, "appId"));
  TRIB_ASSIGN_OR_RETURN(t.version, ReqInt(obj, kName, "version"));
  TRIB_ASSIGN_OR_RETURN(t.last_updated, OptInt(obj, kName, "lastUpdated"));
  return t;
}

Result<CommitInfo> ParseCommitInfo(const json& obj) {
  constexpr std::string_view kName = "commitInfo";
  CommitInfo c;
  c.extra = json::object();
  for (const auto& [key, value] : obj.items()) {
    if (key == "timestamp") {
      TRIB_ASSIGN_OR_RETURN(c.timestamp, OptInt(obj, kName, key));
    } else if (key == "inCommitTimestamp") {
      TRIB_ASSIGN_OR_RETURN(c.in_commit_timestamp, OptInt(obj, kName, key));
    } else if (key == "operation" && value.is_string()) {
      c.operation = value.get<std::string>();
    } else if (key == "operationParameters" && value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        c.operation_parameters[k] = ScalarText(v);
      }
    } else if (key == "operationMetrics" && value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        c.operation_metrics[k] = ScalarText(v);
      }
    } else if (key == "engineInfo" && value.is_string()) {
      c.engine_info = value.get<std::string>();
    } else if (key == "isBlindAppend" && value.is_boolean()) {
      c.is_blind_append = value.get<bool>();
    } else if (key == "readVersion" && value.is_number_integer()) {
      c.read_version = value.get<int64_t>();
    } else if (key == "txnId" && value.is_string()) {
      c.txn_id = value.get<std::string>();
    } else {
      c.extra[key] = value;
    }
  }
  return c;
}

Result<DomainMetadata> ParseDomainMetadata(const json& obj) {
  constexpr std::string_view kName = "domainMetadata";
  DomainMetadata d;
  TRIB_ASSIGN_OR_RETURN(d.domain, ReqString(obj, kName, "domain"));
  TRIB_ASSIGN_OR_RETURN(auto configuration, OptString(obj, kName, "configuration"));
  d.configuration = configuration.value_or("");
  TRIB_ASSIGN_OR_RETURN(auto removed, OptBool(obj, kName, "removed"));
  d.removed = removed.value_or(false);
  return d;
}

Result<Sidecar> ParseSidecar(const json& obj) {
  constexpr std::string_view kName = "sidecar";
  Sidecar s;
  TRIB_ASSIGN_OR_RETURN(s.path, ReqString(obj, kName, "path"));
  TRIB_ASSIGN_OR_RETURN(auto size, OptInt(obj, kName, "sizeInBytes"));
  s.size_in_bytes = size.value_or(0);
  TRIB_ASSIGN_OR_RETURN(auto mtime, OptInt(obj, kName, "modificationTime"));
  s.modification_time = mtime.value_or(0);
  TRIB_ASSIGN_OR_RETURN(s.tags, OptStringMap(obj, kName, "tags"));
  return s;
}

Result<CheckpointMetadata> ParseCheckpointMetadata(const json& obj) {
  constexpr std::string_view kName = "checkpointMetadata";
  CheckpointMetadata c;
  TRIB_ASSIGN_OR_RETURN(c.version, ReqInt(obj, kName, "version"));
  TRIB_ASSIGN_OR_RETURN(c.tags, OptStringMap(obj, kName, "tags"));
  return c;
}

template <typename T, typename Parser>
Result<std::optional<Action>> ParseAs(const json& body,
                                      std::string_view key,
                                      Parser parser) {
  if (!body.is_object()) {
    return MakeError(ErrorCode::kCorruption, "'{}' action is not a JSON object", key);
  }
  TRIB_ASSIGN_OR_RETURN(T value, parser(body));
  return std::optional<Action>(Action(std::move(value)));
}

struct ToJsonVisitor {
  json operator()(const Protocol& p) const {
    json body = {{"minReaderVersion", p.min_reader_version},
                 {"minWriterVersion", p.min_writer_version}};
    if (p.reader_features) {
      body["readerFeatures"] = *p.reader_features;
    }
    if (p.writer_features) {
      body["writerFeatures"] = *p.writer_features;
    }
    return {{"protocol", std::move(body)}};
  }
  json operator()(const Metadata& m) const {
    json body = json::object();
    body["id"] = m.id;
    if (m.name) {
      body["name"] = *m.name;
    }
    if (m.description) {
      body["description"] = *m.description;
    }
    body["format"] = {{"provider", m.format.provider},
                      {"options", MapToJson(m.format.options)}};
    body["schemaString"] = m.schema_string;
    body["partitionColumns"] = m.partition_columns;
    body["configuration"] = MapToJson(m.configuration);
    if (m.created_time) {
      body["createdTime"] = *m.created_time;
    }
    return {{"metaData", std::move(body)}};
  }
  json operator()(const AddFile& a) const {
    json body = json::object();
    body["path"] = a.path;
    body["partitionValues"] = PartitionValuesToJson(a.partition_values);
    body["size"] = a.size;
    body["modificationTime"] = a.modification_time;
    body["dataChange"] = a.data_change;
    if (!a.stats.empty()) {
      body["stats"] = a.stats;
    }
    if (!a.tags.empty()) {
      body["tags"] = MapToJson(a.tags);
    }
    if (a.deletion_vector) {
      body["deletionVector"] = DeletionVectorToJson(*a.deletion_vector);
    }
    if (a.base_row_id) {
      body["baseRowId"] = *a.base_row_id;
    }
    if (a.default_row_commit_version) {
      body["defaultRowCommitVersion"] = *a.default_row_commit_version;
    }
    if (a.clustering_provider) {
      body["clusteringProvider"] = *a.clustering_provider;
    }
    return {{"add", std::move(body)}};
  }
  json operator()(const RemoveFile& r) const {
    json body = json::object();
    body["path"] = r.path;
    if (r.deletion_timestamp) {
      body["deletionTimestamp"] = *r.deletion_timestamp;
    }
    body["dataChange"] = r.data_change;
    if (r.extended_file_metadata) {
      body["extendedFileMetadata"] = *r.extended_file_metadata;
    }
    if (r.partition_values) {
      body["partitionValues"] = PartitionValuesToJson(*r.partition_values);
    }
    if (r.size) {
      body["size"] = *r.size;
    }
    if (r.stats) {
      body["stats"] = *r.stats;
    }
    if (r.tags) {
      body["tags"] = MapToJson(*r.tags);
    }
    if (r.deletion_vector) {
      body["deletionVector"] = DeletionVectorToJson(*r.deletion_vector);
    }
    if (r.base_row_id) {
      body["baseRowId"] = *r.base_row_id;
    }
    if (r.default_row_commit_version) {
      body["defaultRowCommitVersion"] = *r.default_row_commit_version;
    }
    return {{"remove", std::move(body)}};
  }
  json operator()(const AddCdcFile& c) const {
    json body = json::object();
    body["path"] = c.path;
    body["partitionValues"] = PartitionValuesToJson(c.partition_values);
    body["size"] = c.size;
    body["dataChange"] = c.data_change;
    if (c.tags) {
      body["tags"] = MapToJson(*c.tags);
    }
    return {{"cdc", std::move(body)}};
  }
  json operator()(const SetTransaction& t) const {
    json body = {{"appId", t.app_id}, {"version", t.version}};
    if (t.last_updated) {
      body["lastUpdated"] = *t.last_updated;
    }
    return {{"txn", std::move(body)}};
  }
  json operator()(const CommitInfo& c) const {
    json body = c.extra.is_object() ? c.extra : json::object();
    // PROTOCOL.md "In-Commit Timestamps": when enabled, inCommitTimestamp must be the
    // first field of commitInfo; nlohmann sorts keys, so writers needing that order put
    // commitInfo through SerializeAction, which handles it below.
    if (c.in_commit_timestamp) {
      body["inCommitTimestamp"] = *c.in_commit_timestamp;
    }
    if (c.timestamp) {
      body["timestamp"] = *c.timestamp;
    }
    if (c.operation) {
      body["operation"] = *c.operation;
    }
    if (!c.operation_parameters.empty()) {
      body["operationParameters"] = MapToJson(c.operation_parameters);
    }
    if (!c.operation_metrics.empty()) {
      body["operationMetrics"] = MapToJson(c.operation_metrics);
    }
    if (c.engine_info) {
      body["engineInfo"] = *c.engine_info;
    }
    if (c.is_blind_append) {
      body["isBlindAppend"] = *c.is_blind_append;
    }
    if (c.read_version) {
      body["readVersion"] = *c.read_version;
    }
    if (c.txn_id) {
      body["txnId"] = *c.txn_id;
    }
    return {{"commitInfo", std::move(body)}};
  }
  json operator()(const DomainMetadata& d) const {
    return {{"domainMetadata",
             {{"domain", d.domain},
              {"configuration", d.configuration},
              {"removed", d.removed}}}};
  }
  json operator()(const Sidecar& s) const {
    json body = {{"path", s.path},
                 {"sizeInBytes", s.size_in_bytes},
                 {"modificationTime", s.modification_time}};
    if (s.tags) {
      body["tags"] = MapToJson(*s.tags);
    }
    return {{"sidecar", std::move(body)}};
  }
  json operator()(const CheckpointMetadata& c) const {
    json body = {{"version", c.version}};
    if (c.tags) {
      body["tags"] = MapToJson(*c.tags);
    }
    return {{"checkpointMetadata", std::move(body)}};
  }
};

}  // namespace

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) {
    id += "@" + std::to_string(*offset);
  }
  return id;
}

bool Protocol::HasReaderFeature(std::string_view name) const {
  return reader_features && std::find(reader_features->begin(), reader_features->end(),
                                      name) != reader_features->end();
}

bool Protocol::HasWriterFeature(std::string_view name) const {
  return writer_features && std::find(writer_features->begin(), writer_features->end(),
                                      name) != writer_features->end();
}

bool ConfigTrue(const std::map<std::string, std::string>& configuration,
                std::string_view key) {
  auto it = configuration.find(std::string(key));
  constexpr std::string_view kTrue = "true";
  return it != configuration.end() &&
         std::equal(it->second.begin(), it->second.end(), kTrue.begin(), kTrue.end(),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) == b;
                    });
}

std::optional<std::string> Metadata::Config(std::string_view key) const {
  auto it = configuration.find(std::string(key));
  if (it == configuration.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<int64_t> AddFile::NumRecords() const {
  if (stats.empty()) {
    return std::nullopt;
  }
  json parsed = json::parse(stats, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return std::nullopt;
  }
  auto it = parsed.find("numRecords");
  if (it == parsed.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

std::string_view ActionKey(const Action& action) {
  static constexpr std::string_view kKeys[] = {"protocol",   "metaData",
                                               "add",        "remove",
                                               "cdc",        "txn",
                                               "commitInfo", "domainMetadata",
                                               "sidecar",    "checkpointMetadata"};
  return kKeys[action.index()];
}

Result<DeletionVectorDescriptor> DeletionVectorFromJson(const json& obj) {
  constexpr std::string_view kName = "deletionVector";
  if (!obj.is_object()) {
    return MakeError(ErrorCode::kCorruption, "deletionVector is not a JSON object");
  }
  DeletionVectorDescriptor dv;
  TRIB_ASSIGN_OR_RETURN(dv.storage_type, ReqString(obj, kName, "storageType"));
  TRIB_ASSIGN_OR_RETURN(dv.path_or_inline_dv, ReqString(obj, kName, "pathOrInlineDv"));
  TRIB_ASSIGN_OR_RETURN(auto offset, OptInt(obj, kName, "offset"));
  if (offset) {
    dv.offset = static_cast<int32_t>(*offset);
  }
  TRIB_ASSIGN_OR_RETURN(int64_t size, ReqInt(obj, kName, "sizeInBytes"));
  dv.size_in_bytes = static_cast<int32_t>(size);
  TRIB_ASSIGN_OR_RETURN(dv.cardinality, ReqInt(obj, kName, "cardinality"));
  return dv;
}

json DeletionVectorToJson(const DeletionVectorDescriptor& dv) {
  json body = {{"storageType", dv.storage_type},
               {"pathOrInlineDv", dv.path_or_inline_dv}};
  if (dv.offset) {
    body["offset"] = *dv.offset;
  }
  body["sizeInBytes"] = dv.size_in_bytes;
  body["cardinality"] = dv.cardinality;
  return body;
}

Result<std::optional<Action>> ActionFromJson(const json& obj) {
  if (!obj.is_object()) {
    return MakeError(ErrorCode::kCorruption, "action is not a JSON object");
  }
  for (const auto& [key, body] : obj.items()) {
    if (body.is_null()) {
      continue;  // checkpoint rows: every action column but one is null
    }
    if (key == "add") {
      return ParseAs<AddFile>(body, key, ParseAdd);
    }
    if (key == "remove") {
      return ParseAs<RemoveFile>(body, key, ParseRemove);
    }
    if (key == "metaData") {
      return ParseAs<Metadata>(body, key, ParseMetadata);
    }
    if (key == "protocol") {
      return ParseAs<Protocol>(body, key, ParseProtocol);
    }
    if (key == "cdc") {
      return ParseAs<AddCdcFile>(body, key, ParseCdc);
    }
    if (key == "txn") {
      return ParseAs<SetTransaction>(body, key, ParseTxn);
    }
    if (key == "commitInfo") {
      return ParseAs<CommitInfo>(body, key, ParseCommitInfo);
    }
    if (key == "domainMetadata") {
      return ParseAs<DomainMetadata>(body, key, ParseDomainMetadata);
    }
    if (key == "sidecar") {
      return ParseAs<Sidecar>(body, key, ParseSidecar);
    }
    if (key == "checkpointMetadata") {
      return ParseAs<CheckpointMetadata>(body, key, ParseCheckpointMetadata);
    }
  }
  return std::optional<Action>();
}

Result<std::optional<Action>> ParseActionLine(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    return std::optional<Action>();
  }
  json obj = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) {
    return MakeError(ErrorCode::kCorruption, "not valid JSON");
  }
  return ActionFromJson(obj);
}

Result<std::vector<Action>> ParseCommitText(std::string_view text) {
  std::vector<Action> actions;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    ++line_number;
    auto parsed = ParseActionLine(text.substr(pos, end - pos));
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext(fmt::format("line {}", line_number));
    }
    if (*parsed) {
      actions.push_back(std::move(**parsed));
    }
    pos = end + 1;
  }
  return actions;
}

json ActionToJson(const Action& action) {
  return std::visit(ToJsonVisitor{}, action);
}

std::string SerializeAction(const Action& action) {
  if (const auto* info = std::get_if<CommitInfo>(&action);
      info != nullptr && info->in_commit_timestamp) {
    // PROTOCOL.md "In-Commit Timestamps" (writer requirements): inCommitTimestamp must be
    // the first field of commitInfo. nlohmann::json orders keys alphabetically, so the
    // first field is written by hand.
    json body = ActionToJson(action)["commitInfo"];
    body.erase("inCommitTimestamp");
    std::string rest = body.dump();
    std::string out = fmt::format("{{\"commitInfo\":{{\"inCommitTimestamp\":{}",
                                  *info->in_commit_timestamp);
    if (rest.size() > 2) {
      out += ",";
      out.append(rest, 1, rest.size() - 2);
    }
    out += "}}";
    return out;
  }
  return ActionToJson(action).dump();
}

std::string SerializeCommit(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& action : actions) {
    out += SerializeAction(action);
    out += '\n';
  }
  return out;
}

}  // namespace tributary::lake::delta
