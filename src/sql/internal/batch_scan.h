#pragma once

#include <memory>
#include <string_view>

#include <duckdb.h>

#include "core/result.h"
#include "sql/row_batch.h"

namespace tributary::sql::internal {

/// Registers the table function `name()` of a BatchScan on `conn`'s database
/// (Connection::CreateBatchScan). Errors: kAlreadyExists.
Result<std::unique_ptr<BatchScan>> RegisterBatchScan(duckdb_connection conn,
                                                     std::string_view name);

}  // namespace tributary::sql::internal
