#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "sql/database.h"

namespace tributary::lake::parquet {

/// One node of a Parquet file's schema tree, as DuckDB's parquet_schema() reports it.
struct SchemaNode {
  std::string name;
  std::string physical_type;   ///< "INT32", "INT96", "BYTE_ARRAY", ... ("" for groups)
  std::string repetition;      ///< "REQUIRED", "OPTIONAL", "REPEATED" ("" for the root)
  std::string converted_type;  ///< "LIST", "MAP", "UTF8", "DECIMAL", ... or ""
  std::string logical_type;    ///< e.g. "ListType()", "" when absent
  std::string duckdb_type;  ///< DuckDB's type for a leaf ("TIMESTAMP", "INTEGER"), or ""
  std::optional<int64_t> field_id;
  std::vector<SchemaNode> children;

  bool is_leaf() const { return children.empty() && !physical_type.empty(); }
  /// Annotated LIST group (or an un-annotated repeated field).
  bool is_list() const;
  /// Annotated MAP / MAP_KEY_VALUE group.
  bool is_map() const;
  /// For a list: the element node (3-level or legacy 2-level layouts). nullptr otherwise.
  const SchemaNode* ListElement() const;
  /// For a map: the key and value nodes. nullptr otherwise.
  const SchemaNode* MapKey() const;
  const SchemaNode* MapValue() const;
  /// A child by exact name, or nullptr.
  const SchemaNode* Child(const std::string& child_name) const;
  /// A stable text form of the whole subtree (names, types, ids): equal signatures mean
  /// files DuckDB reads with the same columns and types.
  std::string Signature() const;
};

/// Reads the schema trees (root node per file) of `files` with one parquet_schema()
/// query. Errors: kNotFound (a file is missing), kCorruption (not a Parquet file, naming
/// it).
Result<std::map<std::string, SchemaNode>> ReadSchemas(
    sql::Connection& conn, const std::vector<std::string>& files);

/// `[ 'a', 'b' ]`: a DuckDB list literal of quoted paths, for read_parquet().
std::string PathListLiteral(const std::vector<std::string>& files);

}  // namespace tributary::lake::parquet
