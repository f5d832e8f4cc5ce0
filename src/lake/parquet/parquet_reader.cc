#include "lake/parquet/parquet_reader.h"

#include <filesystem>
#include <system_error>

namespace tributary::lake::parquet {

bool SchemaNode::is_list() const {
  return converted_type == "LIST" || logical_type.rfind("ListType", 0) == 0 ||
         (repetition == "REPEATED" && !physical_type.empty());
}

bool SchemaNode::is_map() const {
  return converted_type == "MAP" || converted_type == "MAP_KEY_VALUE" ||
         logical_type.rfind("MapType", 0) == 0;
}

// Parquet LogicalTypes.md "Lists": 3-level `<list> (LIST) { repeated group list {
// element } }`; legacy 2-level layouts have the repeated node itself as the element when
// it has several children, or is named "array" or "<list>_tuple".
const SchemaNode* SchemaNode::ListElement() const {
  if (repetition == "REPEATED" && !physical_type.empty()) {
    return this;
  }
  if (!is_list() || children.size() != 1) {
    return nullptr;
  }
  const SchemaNode& repeated = children[0];
  if (repeated.is_leaf()) {
    return &repeated;
  }
  if (repeated.children.size() == 1 && repeated.name != "array" &&
      repeated.name != name + "_tuple") {
    return &repeated.children[0];
  }
  return &repeated;
}

const SchemaNode* SchemaNode::MapKey() const {
  if (!is_map() || children.size() != 1 || children[0].children.empty()) {
    return nullptr;
  }
  return &children[0].children[0];
}

const SchemaNode* SchemaNode::MapValue() const {
  if (!is_map() || children.size() != 1 || children[0].children.size() < 2) {
    return nullptr;
  }
  return &children[0].children[1];
}

const SchemaNode* SchemaNode::Child(const std::string& child_name) const {
  for (const auto& child : children) {
    if (child.name == child_name) {
      return &child;
    }
  }
  return nullptr;
}

std::string SchemaNode::Signature() const {
  std::string out = name + ":" + physical_type + ":" + repetition + ":" + converted_type +
                    ":" + logical_type + ":" + duckdb_type + ":" +
                    (field_id ? std::to_string(*field_id) : "") + "{";
  for (const auto& child : children) {
    out += child.Signature();
    out += ",";
  }
  return out + "}";
}

std::string PathListLiteral(const std::vector<std::string>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    out += (i > 0 ? ", " : "") + sql::QuoteLiteral(files[i]);
  }
  return out + "]";
}

namespace {

struct FlatRow {
  SchemaNode node;
  int64_t num_children = 0;
};

// Rebuilds the tree from parquet_schema's depth-first rows.
size_t BuildTree(const std::vector<FlatRow>& rows, size_t index, SchemaNode& out) {
  out = rows[index].node;
  size_t next = index + 1;
  for (int64_t c = 0; c < rows[index].num_children && next < rows.size(); ++c) {
    SchemaNode child;
    next = BuildTree(rows, next, child);
    out.children.push_back(std::move(child));
  }
  return next;
}

}  // namespace

Result<std::map<std::string, SchemaNode>> ReadSchemas(
    sql::Connection& conn, const std::vector<std::string>& files) {
  std::map<std::string, SchemaNode> out;
  if (files.empty()) {
    return out;
  }
  for (const auto& file : files) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return MakeError(ErrorCode::kNotFound, "data file '{}' does not exist", file);
    }
  }
  auto result = conn.Query(fmt::format(
      "SELECT file_name, name, type, repetition_type, num_children, converted_type, "
      "field_id, logical_type, duckdb_type FROM parquet_schema({})",
      PathListLiteral(files)));
  if (!result.ok()) {
    Error error = std::move(result).status();
    std::string message = error.message();
    return Error(ErrorCode::kCorruption,
                 fmt::format("cannot read the Parquet schema of {}: {}",
                             files.size() == 1 ? "'" + files[0] + "'"
                                               : fmt::format("{} files", files.size()),
                             message));
  }
  std::map<std::string, std::vector<FlatRow>> by_file;
  for (size_t row = 0; row < result->row_count(); ++row) {
    FlatRow flat;
    flat.node.name = result->GetString(1, row);
    flat.node.physical_type = result->GetString(2, row);
    flat.node.repetition = result->GetString(3, row);
    flat.num_children = result->IsNull(4, row) ? 0 : result->GetInt64(4, row);
    flat.node.converted_type = result->GetString(5, row);
    if (!result->IsNull(6, row)) {
      flat.node.field_id = result->GetInt64(6, row);
    }
    flat.node.logical_type = result->GetString(7, row);
    flat.node.duckdb_type = result->GetString(8, row);
    by_file[result->GetString(0, row)].push_back(std::move(flat));
  }
  for (const auto& file : files) {
    auto it = by_file.find(file);
    if (it == by_file.end() || it->second.empty()) {
      return MakeError(ErrorCode::kCorruption, "'{}' has no Parquet schema", file);
    }
    SchemaNode root;
    BuildTree(it->second, 0, root);
    out[file] = std::move(root);
  }
  return out;
}

}  // namespace tributary::lake::parquet
