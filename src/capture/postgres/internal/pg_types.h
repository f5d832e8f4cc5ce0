#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/schema.h"
#include "core/value.h"

namespace tributary::capture::postgres::internal {

/// How a PostgreSQL type's text output is turned into a core::Value.
enum class TextParser : uint8_t {
  kBool,
  kInt16,
  kInt32,
  kInt64,
  kFloat,
  kDouble,
  kNumeric,
  kMoney,
  kString,  ///< text, varchar, char, inet, cidr, macaddr, bit, varbit, xml, unknown types
  kBytes,
  kDate,
  kTime,
  kTimeTz,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJson,
  kEnum,
  kArray,
};

/// A resolved PostgreSQL type: domains are replaced by their base type (keeping the
/// domain's name in `name`), arrays carry their element type.
struct PgType {
  uint32_t oid = 0;
  std::string name;  ///< typname: "int4", "_text", "mood"
  TextParser parser = TextParser::kString;
  std::shared_ptr<const PgType> element;  ///< kArray only
  std::vector<std::string> enum_labels;   ///< kEnum only, in sort order
  int32_t domain_typmod = -1;  ///< typtypmod of a domain over a constrained type
};

/// The built-in type for `oid` (OIDs below 16384 that this module maps specially), or
/// nullptr. Built-in array types are resolved through the catalog like any other.
std::shared_ptr<const PgType> BuiltinType(uint32_t oid);

/// The core::DataType of a column of `type` with type modifier `typmod` (atttypmod):
/// numeric(p,s) -> decimal(p,s), numeric -> variable-scale decimal, varchar(n) -> string
/// with precision n, timestamp(p) -> timestamp(p), arrays -> array<element>.
core::DataType ToDataType(const PgType& type, int32_t typmod);

/// Parses `text`, the type's text output under the session settings the capture sets
/// (DateStyle=ISO, IntervalStyle=iso_8601, TimeZone=UTC, extra_float_digits=3,
/// bytea_output=hex, lc_monetary=C), into a Value of ToDataType()'s kind.
/// Errors: kInvalidArgument naming the type and the text (cut to 100 bytes).
Result<core::Value> ParseTextValue(const PgType& type, std::string_view text);

/// A catalog row describing one type, as LookupFn returns it.
struct PgTypeRow {
  uint32_t oid = 0;
  std::string name;
  char typtype = 'b';      ///< b base, d domain, e enum, c composite, p pseudo, r range
  char category = 'U';     ///< typcategory: 'A' array, ...
  uint32_t element = 0;    ///< typelem for arrays
  uint32_t base_type = 0;  ///< typbasetype for domains
  int32_t typmod = -1;     ///< typtypmod for domains
  std::vector<std::string> enum_labels;
};

/// Resolves type OIDs to PgTypes, built-ins from a table and everything else (enums,
/// domains, arrays, extension types) through `lookup`, which reads pg_type/pg_enum.
/// Caches results; Forget() drops a type after a Type message says it changed.
class PgTypeRegistry {
 public:
  using LookupFn = std::function<Result<PgTypeRow>(uint32_t oid)>;
  explicit PgTypeRegistry(LookupFn lookup) : lookup_(std::move(lookup)) {}

  /// Errors: whatever `lookup` returns (kNotFound for an OID the catalog lacks).
  Result<std::shared_ptr<const PgType>> Resolve(uint32_t oid);
  void Forget(uint32_t oid) { cache_.erase(oid); }

 private:
  Result<std::shared_ptr<const PgType>> ResolveDepth(uint32_t oid, int depth);

  LookupFn lookup_;
  std::unordered_map<uint32_t, std::shared_ptr<const PgType>> cache_;
};

/// The SQL that fetches one PgTypeRow ($1 = the OID), for LookupFn implementations.
inline constexpr const char* kTypeLookupSql =
    "SELECT t.oid, t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype, "
    "t.typtypmod, (SELECT string_agg(e.enumlabel, E'\\x01' ORDER BY e.enumsortorder) "
    "FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) AS labels "
    "FROM pg_catalog.pg_type t WHERE t.oid = $1";

/// The libpq `options` value that sets the session settings ParseTextValue expects.
inline constexpr const char* kSessionOptions =
    "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=3 "
    "-c bytea_output=hex -c lc_monetary=C";

}  // namespace tributary::capture::postgres::internal
