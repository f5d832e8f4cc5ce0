#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"

namespace tributary::lake::delta::internal {

/// Writes the rows of `source` (a DuckDB relation with every column of `schema`, typed as
/// DuckDbTypeOf says) as new data files of the table, one group per partition, and
/// appends their add actions (with stats, `data_change` as given) to `adds`.
Status WriteDataFiles(sql::Connection& conn, const std::filesystem::path& table_root,
                      const StructType& schema,
                      const std::vector<std::string>& partition_columns,
                      const WriteOptions& options, bool data_change, std::string_view source,
                      std::vector<AddFile>* adds);

/// A DuckDB relation (SELECT) with every table column of one live file, in the table's
/// types: columns (and struct fields) the file lacks read as NULL, narrower file types are
/// cast (type widening), partition values become typed constants, rows deleted by the
/// file's deletion vector are left out. Reads the file's Parquet footer through `conn`.
/// Errors: kNotFound (missing data file), kCorruption (unreadable footer or DV).
Result<std::string> FileRelation(sql::Connection& conn, const Snapshot& snapshot,
                                 const AddFile& add);

/// A remove action for a live file, carrying its partition values, size and stats.
RemoveFile RemoveFor(const AddFile& add, int64_t deletion_timestamp, bool data_change);

}  // namespace tributary::lake::delta::internal
