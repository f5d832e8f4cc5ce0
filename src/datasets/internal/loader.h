#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "datasets/dsn.h"
#include "datasets/load.h"
#include "datasets/table.h"

namespace tributary::datasets::internal {

/// One open connection to a target database that can create and fill tables.
/// Not thread-safe; one load at a time.
class TableLoader {
 public:
  virtual ~TableLoader() = default;

  /// True when a table of that name exists in the connection's default schema/database.
  virtual Result<bool> TableExists(std::string_view table) = 0;

  /// Drops the table if it exists.
  virtual Status DropTable(std::string_view table) = 0;

  /// Creates `table` and fills it in one transaction; on failure nothing of it remains.
  virtual Status CreateAndFill(const TableData& table, const LoadOptions& options) = 0;
};

/// Connects with libpq. Errors: kNetwork naming the redacted DSN.
Result<std::unique_ptr<TableLoader>> ConnectPostgres(const TargetDsn& target);

/// Connects with MariaDB Connector/C. Errors: kNetwork naming the redacted DSN.
Result<std::unique_ptr<TableLoader>> ConnectMySql(const TargetDsn& target);

}  // namespace tributary::datasets::internal
