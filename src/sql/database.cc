#include "sql/database.h"

#include <cstdlib>
#include <utility>

#include <duckdb.h>

#include "core/check.h"
#include "sql/internal/batch_scan.h"
#include "sql/internal/cells.h"

namespace tributary::sql {

struct Database::Impl {
  duckdb_database db = nullptr;
  ~Impl() {
    if (db != nullptr) {
      duckdb_close(&db);
    }
  }
};

struct Connection::Impl {
  std::shared_ptr<Database::Impl> database;
  duckdb_connection conn = nullptr;
  ~Impl() {
    if (conn != nullptr) {
      duckdb_disconnect(&conn);
    }
  }
};

struct QueryResult::Impl {
  duckdb_result result{};
  bool result_live = true;
  std::vector<std::string> names;
  std::vector<ColumnType> types;
  std::vector<std::string> type_names;
  std::vector<std::vector<internal::Cell>> columns;  // [column][row]
  size_t rows = 0;
  int64_t rows_changed = 0;
  ~Impl() {
    if (result_live) {
      duckdb_destroy_result(&result);
    }
  }
  const internal::Cell& cell(size_t column, size_t row) const {
    TRIB_CHECK(column < columns.size() && row < rows, "cell ({}, {}) out of range",
               column, row);
    return columns[column][row];
  }
};

struct PreparedStatement::Impl {
  std::shared_ptr<Database::Impl> database;
  duckdb_prepared_statement stmt = nullptr;
  std::string sql;
  ~Impl() { duckdb_destroy_prepare(&stmt); }
};

struct Appender::Impl {
  duckdb_appender appender = nullptr;
  std::string table;
  bool closed = false;
  ~Impl() {
    if (appender != nullptr) {
      if (!closed) {
        duckdb_appender_close(appender);
      }
      duckdb_appender_destroy(&appender);
    }
  }
};

namespace {

std::string Abbrev(std::string_view sql) {
  constexpr size_t kMax = 200;
  std::string out(sql.substr(0, kMax));
  if (sql.size() > kMax) {
    out += "...";
  }
  return out;
}

ErrorCode MapErrorType(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_SETTINGS:
    case DUCKDB_ERROR_CONSTRAINT:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
      return ErrorCode::kInvalidArgument;
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_PERMISSION:
      return ErrorCode::kIo;
    case DUCKDB_ERROR_INTERRUPT:
      return ErrorCode::kCancelled;
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
      return ErrorCode::kUnsupported;
    case DUCKDB_ERROR_TRANSACTION:
      return ErrorCode::kConflict;
    case DUCKDB_ERROR_NETWORK:
    case DUCKDB_ERROR_HTTP:
      return ErrorCode::kNetwork;
    default:
      return ErrorCode::kInternal;
  }
}

ColumnType MapType(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN:
      return ColumnType::kBoolean;
    case DUCKDB_TYPE_TINYINT:
      return ColumnType::kTinyInt;
    case DUCKDB_TYPE_SMALLINT:
      return ColumnType::kSmallInt;
    case DUCKDB_TYPE_INTEGER:
      return ColumnType::kInteger;
    case DUCKDB_TYPE_BIGINT:
      return ColumnType::kBigInt;
    case DUCKDB_TYPE_HUGEINT:
      return ColumnType::kHugeInt;
    case DUCKDB_TYPE_UTINYINT:
      return ColumnType::kUTinyInt;
    case DUCKDB_TYPE_USMALLINT:
      return ColumnType::kUSmallInt;
    case DUCKDB_TYPE_UINTEGER:
      return ColumnType::kUInteger;
    case DUCKDB_TYPE_UBIGINT:
      return ColumnType::kUBigInt;
    case DUCKDB_TYPE_FLOAT:
      return ColumnType::kFloat;
    case DUCKDB_TYPE_DOUBLE:
      return ColumnType::kDouble;
    case DUCKDB_TYPE_DECIMAL:
      return ColumnType::kDecimal;
    case DUCKDB_TYPE_VARCHAR:
      return ColumnType::kVarchar;
    case DUCKDB_TYPE_BLOB:
      return ColumnType::kBlob;
    case DUCKDB_TYPE_DATE:
      return ColumnType::kDate;
    case DUCKDB_TYPE_TIME:
      return ColumnType::kTime;
    case DUCKDB_TYPE_TIMESTAMP:
      return ColumnType::kTimestamp;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return ColumnType::kTimestampTz;
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return ColumnType::kTimestampOther;
    case DUCKDB_TYPE_INTERVAL:
      return ColumnType::kInterval;
    case DUCKDB_TYPE_UUID:
      return ColumnType::kUuid;
    case DUCKDB_TYPE_LIST:
      return ColumnType::kList;
    case DUCKDB_TYPE_STRUCT:
      return ColumnType::kStruct;
    case DUCKDB_TYPE_MAP:
      return ColumnType::kMap;
    case DUCKDB_TYPE_ARRAY:
      return ColumnType::kArray;
    case DUCKDB_TYPE_SQLNULL:
      return ColumnType::kNull;
    default:
      return ColumnType::kOther;
  }
}

Error ResultError(duckdb_result* result, std::string_view sql) {
  const char* message = duckdb_result_error(result);
  ErrorCode code = MapErrorType(duckdb_result_error_type(result));
  std::string text = message != nullptr ? message : "unknown DuckDB error";
  // Invalid data read from a file (a corrupt Parquet file) is reported as an invalid
  // input error; say corruption for those so callers can name the file.
  if (code == ErrorCode::kInvalidArgument &&
      (text.find("Parquet") != std::string::npos ||
       text.find("parquet") != std::string::npos) &&
      text.find("No files found") == std::string::npos) {
    code = ErrorCode::kCorruption;
  }
  if (text.find("No files found") != std::string::npos) {
    code = ErrorCode::kNotFound;
  }
  return Error(code, fmt::format("{} (in SQL: {})", text, Abbrev(sql)));
}

std::string LogicalTypeName(duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  auto child_name = [](duckdb_logical_type child) {
    std::string out = LogicalTypeName(child);
    duckdb_destroy_logical_type(&child);
    return out;
  };
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      return fmt::format("DECIMAL({},{})", duckdb_decimal_width(type),
                         duckdb_decimal_scale(type));
    case DUCKDB_TYPE_LIST:
      return child_name(duckdb_list_type_child_type(type)) + "[]";
    case DUCKDB_TYPE_ARRAY:
      return fmt::format("{}[{}]", child_name(duckdb_array_type_child_type(type)),
                         duckdb_array_type_array_size(type));
    case DUCKDB_TYPE_MAP:
      return fmt::format("MAP({}, {})", child_name(duckdb_map_type_key_type(type)),
                         child_name(duckdb_map_type_value_type(type)));
    case DUCKDB_TYPE_STRUCT: {
      std::string out = "STRUCT(";
      idx_t count = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < count; ++i) {
        char* name = duckdb_struct_type_child_name(type, i);
        out += (i > 0 ? ", " : "") + QuoteIdentifier(name != nullptr ? name : "") + " " +
               child_name(duckdb_struct_type_child_type(type, i));
        duckdb_free(name);
      }
      return out + ")";
    }
    case DUCKDB_TYPE_BOOLEAN:
      return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
      return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
      return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
      return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
      return "BIGINT";
    case DUCKDB_TYPE_HUGEINT:
      return "HUGEINT";
    case DUCKDB_TYPE_UTINYINT:
      return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
      return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
      return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
      return "UBIGINT";
    case DUCKDB_TYPE_UHUGEINT:
      return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT:
      return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
      return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR:
      return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
      return "BLOB";
    case DUCKDB_TYPE_DATE:
      return "DATE";
    case DUCKDB_TYPE_TIME:
      return "TIME";
    case DUCKDB_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_S:
      return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return "TIMESTAMP_NS";
    case DUCKDB_TYPE_INTERVAL:
      return "INTERVAL";
    case DUCKDB_TYPE_UUID:
      return "UUID";
    case DUCKDB_TYPE_ENUM:
      return "ENUM";
    case DUCKDB_TYPE_SQLNULL:
      return "NULL";
    default:
      return "OTHER";
  }
}

// Reads every chunk of the result into cells and frees the DuckDB result.
Status Materialize(QueryResult::Impl& impl) {
  duckdb_result* r = &impl.result;
  size_t column_count = duckdb_column_count(r);
  impl.rows_changed = static_cast<int64_t>(duckdb_rows_changed(r));
  for (size_t i = 0; i < column_count; ++i) {
    const char* name = duckdb_column_name(r, i);
    impl.names.emplace_back(name != nullptr ? name : "");
    impl.types.push_back(MapType(duckdb_column_type(r, i)));
    duckdb_logical_type type = duckdb_column_logical_type(r, i);
    impl.type_names.push_back(LogicalTypeName(type));
    duckdb_destroy_logical_type(&type);
  }
  impl.columns.resize(column_count);
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(impl.result);
    if (chunk == nullptr) {
      break;
    }
    idx_t size = duckdb_data_chunk_get_size(chunk);
    for (size_t c = 0; c < column_count; ++c) {
      duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, c);
      duckdb_logical_type type = duckdb_vector_get_column_type(vector);
      auto& column = impl.columns[c];
      for (idx_t row = 0; row < size; ++row) {
        column.push_back(internal::ReadCell(vector, type, row));
      }
      duckdb_destroy_logical_type(&type);
    }
    impl.rows += size;
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(r);
  impl.result_live = false;
  return OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Database

Database::Database(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    duckdb_destroy_config(&config);
    return MakeError(ErrorCode::kInternal, "DuckDB: cannot create a configuration");
  }
  for (const auto& [name, value] : options.config) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) != DuckDBSuccess) {
      duckdb_destroy_config(&config);
      return MakeError(ErrorCode::kInvalidArgument,
                       "DuckDB: invalid configuration option {}={}", name, value);
    }
  }
  auto impl = std::make_shared<Impl>();
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  duckdb_state state = duckdb_open_ext(path, &impl->db, config, &error);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string message = error != nullptr ? error : "unknown error";
    if (error != nullptr) {
      duckdb_free(error);
    }
    impl->db = nullptr;
    return MakeError(ErrorCode::kIo, "DuckDB: cannot open database '{}': {}",
                     options.path.empty() ? ":memory:" : options.path, message);
  }
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Result<std::unique_ptr<Connection>> Database::OpenInMemoryConnection() {
  TRIB_ASSIGN_OR_RETURN(auto db, Open());
  return db->Connect();
}

Result<std::unique_ptr<Connection>> Database::Connect() {
  auto impl = std::make_unique<Connection::Impl>();
  impl->database = impl_;
  if (duckdb_connect(impl_->db, &impl->conn) != DuckDBSuccess) {
    impl->conn = nullptr;
    return MakeError(ErrorCode::kInternal, "DuckDB: cannot open a connection");
  }
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

// ---------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Result<QueryResult> Connection::Query(std::string_view sql) {
  auto impl = std::make_unique<QueryResult::Impl>();
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &impl->result) != DuckDBSuccess) {
    return ResultError(&impl->result, sql);
  }
  TRIB_RETURN_IF_ERROR(Materialize(*impl));
  return QueryResult(std::move(impl));
}

Status Connection::Execute(std::string_view sql) {
  TRIB_ASSIGN_OR_RETURN(auto result, Query(sql));
  (void)result;
  return OkStatus();
}

Result<std::unique_ptr<PreparedStatement>> Connection::Prepare(std::string_view sql) {
  auto impl = std::make_unique<PreparedStatement::Impl>();
  impl->database = impl_->database;
  impl->sql = std::string(sql);
  if (duckdb_prepare(impl_->conn, impl->sql.c_str(), &impl->stmt) != DuckDBSuccess) {
    const char* message = duckdb_prepare_error(impl->stmt);
    return MakeError(ErrorCode::kInvalidArgument, "{} (in SQL: {})",
                     message != nullptr ? message : "prepare failed", Abbrev(sql));
  }
  return std::unique_ptr<PreparedStatement>(new PreparedStatement(std::move(impl)));
}

Result<std::unique_ptr<Appender>> Connection::CreateAppender(std::string_view schema,
                                                             std::string_view table) {
  auto impl = std::make_unique<Appender::Impl>();
  std::string schema_name(schema);
  std::string table_name(table);
  impl->table = schema.empty() ? table_name : schema_name + "." + table_name;
  if (duckdb_appender_create(impl_->conn, schema.empty() ? nullptr : schema_name.c_str(),
                             table_name.c_str(), &impl->appender) != DuckDBSuccess) {
    const char* message =
        impl->appender != nullptr ? duckdb_appender_error(impl->appender) : nullptr;
    return MakeError(ErrorCode::kNotFound, "DuckDB: cannot append to table '{}': {}",
                     impl->table, message != nullptr ? message : "unknown error");
  }
  return std::unique_ptr<Appender>(new Appender(std::move(impl)));
}

void Connection::Interrupt() {
  duckdb_interrupt(impl_->conn);
}

Result<std::unique_ptr<BatchScan>> Connection::CreateBatchScan(std::string_view function_name) {
  return internal::RegisterBatchScan(impl_->conn, function_name);
}

// ---------------------------------------------------------------------------------------
// QueryResult

QueryResult::QueryResult(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;

size_t QueryResult::column_count() const {
  return impl_->names.size();
}
size_t QueryResult::row_count() const {
  return impl_->rows;
}
int64_t QueryResult::rows_changed() const {
  return impl_->rows_changed;
}

const std::string& QueryResult::column_name(size_t column) const {
  TRIB_CHECK(column < impl_->names.size(), "column index {} out of range", column);
  return impl_->names[column];
}

ColumnType QueryResult::column_type(size_t column) const {
  TRIB_CHECK(column < impl_->types.size(), "column index {} out of range", column);
  return impl_->types[column];
}

std::string QueryResult::column_type_name(size_t column) const {
  TRIB_CHECK(column < impl_->types.size(), "column index {} out of range", column);
  return impl_->type_names[column];
}

bool QueryResult::IsNull(size_t column, size_t row) const {
  return impl_->cell(column, row).kind == internal::Cell::Kind::kNull;
}

bool QueryResult::GetBool(size_t column, size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  switch (cell.kind) {
    case internal::Cell::Kind::kBool:
    case internal::Cell::Kind::kInt:
      return cell.i != 0;
    case internal::Cell::Kind::kUInt:
      return cell.u != 0;
    case internal::Cell::Kind::kDouble:
      return cell.d != 0;
    case internal::Cell::Kind::kText:
      return cell.s == "true" || cell.s == "1";
    default:
      return false;
  }
}

int64_t QueryResult::GetInt64(size_t column, size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  switch (cell.kind) {
    case internal::Cell::Kind::kBool:
    case internal::Cell::Kind::kInt:
      return cell.i;
    case internal::Cell::Kind::kUInt:
      return static_cast<int64_t>(cell.u);
    case internal::Cell::Kind::kDouble:
      return static_cast<int64_t>(cell.d);
    case internal::Cell::Kind::kText:
      return std::strtoll(cell.s.c_str(), nullptr, 10);
    default:
      return 0;
  }
}

uint64_t QueryResult::GetUInt64(size_t column, size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  switch (cell.kind) {
    case internal::Cell::Kind::kUInt:
      return cell.u;
    case internal::Cell::Kind::kText:
      return std::strtoull(cell.s.c_str(), nullptr, 10);
    default:
      return static_cast<uint64_t>(GetInt64(column, row));
  }
}

double QueryResult::GetDouble(size_t column, size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  switch (cell.kind) {
    case internal::Cell::Kind::kBool:
    case internal::Cell::Kind::kInt:
      return static_cast<double>(cell.i);
    case internal::Cell::Kind::kUInt:
      return static_cast<double>(cell.u);
    case internal::Cell::Kind::kDouble:
      return cell.d;
    case internal::Cell::Kind::kText:
      return std::strtod(cell.s.c_str(), nullptr);
    default:
      return 0;
  }
}

std::string QueryResult::GetString(size_t column, size_t row) const {
  return internal::CellText(impl_->cell(column, row));
}

std::optional<std::string> QueryResult::GetOptionalString(size_t column,
                                                          size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  if (cell.kind == internal::Cell::Kind::kNull) {
    return std::nullopt;
  }
  return internal::CellText(cell);
}

std::string QueryResult::GetBlob(size_t column, size_t row) const {
  const internal::Cell& cell = impl_->cell(column, row);
  if (cell.kind == internal::Cell::Kind::kBlob) {
    return cell.s;
  }
  return internal::CellText(cell);
}

std::optional<size_t> QueryResult::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < impl_->names.size(); ++i) {
    if (impl_->names[i] == name) {
      return i;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// PreparedStatement

PreparedStatement::PreparedStatement(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PreparedStatement::~PreparedStatement() = default;

size_t PreparedStatement::parameter_count() const {
  return duckdb_nparams(impl_->stmt);
}

namespace {
Status BindResult(duckdb_state state, size_t index, std::string_view what) {
  if (state != DuckDBSuccess) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot bind {} to parameter {}", what,
                     index);
  }
  return OkStatus();
}
}  // namespace

Status PreparedStatement::BindNull(size_t index) {
  return BindResult(duckdb_bind_null(impl_->stmt, index), index, "NULL");
}
Status PreparedStatement::BindBool(size_t index, bool value) {
  return BindResult(duckdb_bind_boolean(impl_->stmt, index, value), index, "a boolean");
}
Status PreparedStatement::BindInt64(size_t index, int64_t value) {
  return BindResult(duckdb_bind_int64(impl_->stmt, index, value), index, "an integer");
}
Status PreparedStatement::BindDouble(size_t index, double value) {
  return BindResult(duckdb_bind_double(impl_->stmt, index, value), index, "a double");
}
Status PreparedStatement::BindString(size_t index, std::string_view value) {
  return BindResult(
      duckdb_bind_varchar_length(impl_->stmt, index, value.data(), value.size()), index,
      "a string");
}
Status PreparedStatement::BindBlob(size_t index, std::string_view bytes) {
  return BindResult(duckdb_bind_blob(impl_->stmt, index, bytes.data(), bytes.size()),
                    index, "a blob");
}

Result<QueryResult> PreparedStatement::Execute() {
  auto impl = std::make_unique<QueryResult::Impl>();
  if (duckdb_execute_prepared(impl_->stmt, &impl->result) != DuckDBSuccess) {
    return ResultError(&impl->result, impl_->sql);
  }
  TRIB_RETURN_IF_ERROR(Materialize(*impl));
  return QueryResult(std::move(impl));
}

// ---------------------------------------------------------------------------------------
// Appender

Appender::Appender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Appender::~Appender() = default;

namespace {
Status AppendResult(Appender::Impl& impl, duckdb_state state) {
  if (state != DuckDBSuccess) {
    const char* message = duckdb_appender_error(impl.appender);
    return MakeError(ErrorCode::kInvalidArgument, "DuckDB appender on '{}': {}",
                     impl.table, message != nullptr ? message : "unknown error");
  }
  return OkStatus();
}
}  // namespace

Status Appender::AppendNull() {
  return AppendResult(*impl_, duckdb_append_null(impl_->appender));
}
Status Appender::AppendBool(bool value) {
  return AppendResult(*impl_, duckdb_append_bool(impl_->appender, value));
}
Status Appender::AppendInt64(int64_t value) {
  return AppendResult(*impl_, duckdb_append_int64(impl_->appender, value));
}
Status Appender::AppendDouble(double value) {
  return AppendResult(*impl_, duckdb_append_double(impl_->appender, value));
}
Status Appender::AppendString(std::string_view value) {
  return AppendResult(
      *impl_, duckdb_append_varchar_length(impl_->appender, value.data(), value.size()));
}
Status Appender::AppendBlob(std::string_view bytes) {
  return AppendResult(*impl_,
                      duckdb_append_blob(impl_->appender, bytes.data(), bytes.size()));
}
Status Appender::EndRow() {
  return AppendResult(*impl_, duckdb_appender_end_row(impl_->appender));
}
Status Appender::Flush() {
  return AppendResult(*impl_, duckdb_appender_flush(impl_->appender));
}
Status Appender::Close() {
  if (impl_->closed) {
    return OkStatus();
  }
  impl_->closed = true;
  return AppendResult(*impl_, duckdb_appender_close(impl_->appender));
}

// ---------------------------------------------------------------------------------------

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += '\'';
    }
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace tributary::sql
