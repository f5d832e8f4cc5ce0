#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lake/delta/actions.h"

namespace tributary::lake::delta::internal {

/// A random (version 4) UUID in its canonical 36-character form.
std::string RandomUuid();

/// Escapes a partition directory name component the way Hive and Spark do
/// (ExternalCatalogUtils.escapePathName): control characters and
/// `"#%'*/:=?\{[]^` plus DEL become %XX (upper-case hex).
std::string EscapePartitionPathComponent(std::string_view value);

/// Percent-encodes a relative path for `add.path` (PROTOCOL.md "Add File and Remove File":
/// the path is a URI, RFC 2396). Unreserved characters and '/' stay as they are.
std::string PercentEncodePath(std::string_view path);

/// Decodes %XX escapes of an `add.path` URI to a filesystem-relative path.
std::string PercentDecodePath(std::string_view path);

/// The Hive-style directory of a partition: "a=1/b=__HIVE_DEFAULT_PARTITION__/" for the
/// table's partition columns in order (null values use __HIVE_DEFAULT_PARTITION__), or ""
/// for an unpartitioned table.
std::string PartitionDirectory(const std::vector<std::string>& partition_columns,
                               const PartitionValues& values);

}  // namespace tributary::lake::delta::internal
