#include "sql/row_batch.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include <duckdb.h>
#include <fmt/format.h>

#include "core/check.h"
#include "sql/internal/batch_scan.h"

namespace tributary::sql {

namespace {

enum class Storage { kInt, kDouble, kString, kInt128 };

Storage StorageOf(const BatchColumn& column) {
  switch (column.type) {
    case BatchType::kFloat:
    case BatchType::kDouble:
      return Storage::kDouble;
    case BatchType::kVarchar:
    case BatchType::kBlob:
      return Storage::kString;
    case BatchType::kDecimal:
      return column.width > 18 ? Storage::kInt128 : Storage::kInt;
    default:
      return Storage::kInt;
  }
}

}  // namespace

std::string BatchTypeName(const BatchColumn& column) {
  switch (column.type) {
    case BatchType::kBoolean:
      return "BOOLEAN";
    case BatchType::kTinyInt:
      return "TINYINT";
    case BatchType::kSmallInt:
      return "SMALLINT";
    case BatchType::kInteger:
      return "INTEGER";
    case BatchType::kBigInt:
      return "BIGINT";
    case BatchType::kFloat:
      return "FLOAT";
    case BatchType::kDouble:
      return "DOUBLE";
    case BatchType::kVarchar:
      return "VARCHAR";
    case BatchType::kBlob:
      return "BLOB";
    case BatchType::kDate:
      return "DATE";
    case BatchType::kTimestamp:
      return "TIMESTAMP";
    case BatchType::kTimestampTz:
      return "TIMESTAMP WITH TIME ZONE";
    case BatchType::kDecimal:
      return fmt::format("DECIMAL({},{})", column.width, column.scale);
  }
  return "VARCHAR";
}

// One column's cells. Null cells hold a zero / empty value so every array has one entry
// per row.
struct RowBatch::Column {
  Storage storage = Storage::kInt;
  std::vector<uint8_t> is_null;
  size_t nulls = 0;
  std::vector<int64_t> ints;    // kInt; kInt128: the high half
  std::vector<uint64_t> lows;   // kInt128: the low half
  std::vector<double> doubles;  // kDouble
  std::vector<uint64_t> ends;   // kString: end offset of each row's bytes in `bytes`
  std::string bytes;            // kString

  void PushDefault() {
    switch (storage) {
      case Storage::kInt:
        ints.push_back(0);
        break;
      case Storage::kInt128:
        ints.push_back(0);
        lows.push_back(0);
        break;
      case Storage::kDouble:
        doubles.push_back(0);
        break;
      case Storage::kString:
        ends.push_back(bytes.size());
        break;
    }
  }

  size_t StringBegin(size_t row) const { return row == 0 ? 0 : ends[row - 1]; }
};

RowBatch::RowBatch(std::vector<BatchColumn> columns) : columns_(std::move(columns)) {
  data_.resize(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    TRIB_CHECK(columns_[i].type != BatchType::kDecimal ||
                   (columns_[i].width >= 1 && columns_[i].width <= 38 &&
                    columns_[i].scale <= columns_[i].width),
               "RowBatch column {}: DECIMAL({},{}) is out of range", columns_[i].name,
               columns_[i].width, columns_[i].scale);
    data_[i].storage = StorageOf(columns_[i]);
  }
}

RowBatch::~RowBatch() = default;
RowBatch::RowBatch(RowBatch&&) noexcept = default;
RowBatch& RowBatch::operator=(RowBatch&&) noexcept = default;

size_t RowBatch::memory_bytes() const {
  size_t total = 0;
  for (const Column& column : data_) {
    total += column.is_null.size() + column.ints.size() * sizeof(int64_t) +
             column.lows.size() * sizeof(uint64_t) +
             column.doubles.size() * sizeof(double) +
             column.ends.size() * sizeof(uint64_t) + column.bytes.size();
  }
  return total;
}

RowBatch::Column& RowBatch::NextColumn() {
  TRIB_CHECK(next_column_ < data_.size(),
             "RowBatch: more values than {} columns in a row", data_.size());
  return data_[next_column_++];
}

void RowBatch::AppendNull() {
  Column& column = NextColumn();
  column.is_null.push_back(1);
  ++column.nulls;
  column.PushDefault();
}

void RowBatch::AppendBool(bool value) {
  TRIB_DCHECK(columns_[next_column_].type == BatchType::kBoolean, "RowBatch: bool for {}",
              columns_[next_column_].name);
  Column& column = NextColumn();
  column.is_null.push_back(0);
  column.ints.push_back(value ? 1 : 0);
}

void RowBatch::AppendInt64(int64_t value) {
  Column& column = NextColumn();
  TRIB_DCHECK(column.storage == Storage::kInt || column.storage == Storage::kInt128,
              "RowBatch: integer for a non-integer column");
  column.is_null.push_back(0);
  column.ints.push_back(column.storage == Storage::kInt128 ? (value < 0 ? -1 : 0)
                                                           : value);
  if (column.storage == Storage::kInt128) {
    column.lows.push_back(static_cast<uint64_t>(value));
  }
}

void RowBatch::AppendDouble(double value) {
  Column& column = NextColumn();
  TRIB_DCHECK(column.storage == Storage::kDouble,
              "RowBatch: double for a non-float column");
  column.is_null.push_back(0);
  column.doubles.push_back(value);
}

void RowBatch::AppendString(std::string_view value) {
  Column& column = NextColumn();
  TRIB_DCHECK(column.storage == Storage::kString,
              "RowBatch: string for a non-string column");
  // DuckDB's strings (duckdb_string_t) hold a 32-bit length.
  TRIB_CHECK(value.size() <= std::numeric_limits<uint32_t>::max(),
             "RowBatch: a string of {} bytes (at most 4 GiB)", value.size());
  column.is_null.push_back(0);
  column.bytes.append(value);
  column.ends.push_back(column.bytes.size());
}

void RowBatch::AppendDecimal128(uint64_t low, int64_t high) {
  Column& column = NextColumn();
  TRIB_DCHECK(column.storage == Storage::kInt128,
              "RowBatch: 128-bit value for a narrow column");
  column.is_null.push_back(0);
  column.ints.push_back(high);
  column.lows.push_back(low);
}

void RowBatch::EndRow() {
  TRIB_CHECK(next_column_ == data_.size(), "RowBatch: row ended after {} of {} values",
             next_column_, data_.size());
  next_column_ = 0;
  ++rows_;
}

void RowBatch::Clear() {
  for (Column& column : data_) {
    column.is_null.clear();
    column.nulls = 0;
    column.ints.clear();
    column.lows.clear();
    column.doubles.clear();
    column.ends.clear();
    column.bytes.clear();
  }
  rows_ = 0;
  next_column_ = 0;
}

void RowBatch::EraseFront(size_t rows) {
  TRIB_CHECK(next_column_ == 0, "RowBatch: EraseFront inside a row");
  rows = std::min(rows, rows_);
  if (rows == 0) {
    return;
  }
  if (rows == rows_) {
    Clear();
    return;
  }
  const auto n = static_cast<std::ptrdiff_t>(rows);
  for (Column& column : data_) {
    column.nulls -= static_cast<size_t>(
        std::count(column.is_null.begin(), column.is_null.begin() + n, uint8_t{1}));
    column.is_null.erase(column.is_null.begin(), column.is_null.begin() + n);
    switch (column.storage) {
      case Storage::kInt:
        column.ints.erase(column.ints.begin(), column.ints.begin() + n);
        break;
      case Storage::kInt128:
        column.ints.erase(column.ints.begin(), column.ints.begin() + n);
        column.lows.erase(column.lows.begin(), column.lows.begin() + n);
        break;
      case Storage::kDouble:
        column.doubles.erase(column.doubles.begin(), column.doubles.begin() + n);
        break;
      case Storage::kString: {
        const uint64_t base = column.ends[rows - 1];
        column.bytes.erase(0, base);
        column.ends.erase(column.ends.begin(), column.ends.begin() + n);
        for (uint64_t& end : column.ends) {
          end -= base;
        }
        break;
      }
    }
  }
  rows_ -= rows;
}

bool RowBatch::IsNull(size_t column, size_t row) const {
  TRIB_CHECK(column < data_.size() && row < rows_, "RowBatch: cell ({}, {}) out of range",
             column, row);
  return data_[column].is_null[row] != 0;
}

int64_t RowBatch::GetInt64(size_t column, size_t row) const {
  TRIB_CHECK(column < data_.size() && row < rows_, "RowBatch: cell ({}, {}) out of range",
             column, row);
  const Column& c = data_[column];
  TRIB_CHECK(c.storage == Storage::kInt, "RowBatch: column {} is not an integer column",
             column);
  return c.ints[row];
}

double RowBatch::GetDouble(size_t column, size_t row) const {
  TRIB_CHECK(column < data_.size() && row < rows_, "RowBatch: cell ({}, {}) out of range",
             column, row);
  TRIB_CHECK(data_[column].storage == Storage::kDouble,
             "RowBatch: column {} is not a float column", column);
  return data_[column].doubles[row];
}

bool RowBatch::GetBool(size_t column, size_t row) const {
  return GetInt64(column, row) != 0;
}

std::string_view RowBatch::GetString(size_t column, size_t row) const {
  TRIB_CHECK(column < data_.size() && row < rows_, "RowBatch: cell ({}, {}) out of range",
             column, row);
  const Column& c = data_[column];
  TRIB_CHECK(c.storage == Storage::kString, "RowBatch: column {} is not a string column",
             column);
  const size_t begin = c.StringBegin(row);
  return std::string_view(c.bytes).substr(begin, c.ends[row] - begin);
}

std::pair<uint64_t, int64_t> RowBatch::GetDecimal128(size_t column, size_t row) const {
  TRIB_CHECK(column < data_.size() && row < rows_, "RowBatch: cell ({}, {}) out of range",
             column, row);
  const Column& c = data_[column];
  TRIB_CHECK(c.storage == Storage::kInt128, "RowBatch: column {} is not a wide decimal",
             column);
  return {c.lows[row], c.ints[row]};
}

// ---------------------------------------------------------------------------------------
// BatchScan: a DuckDB table function (duckdb.h "Table Functions": bind declares the
// columns, init records the projection, the function fills one output chunk per call
// and ends with an empty one).

namespace {

// What the function reads; shared by the BatchScan and the registered function (DuckDB
// owns a reference through the function's extra info and frees it with the catalog).
struct Slot {
  std::string name;
  const RowBatch* batch = nullptr;
  size_t begin = 0;
  size_t end = 0;
  bool selected = false;  // SetRows: `rows` lists the rows to return
  std::span<const uint32_t> rows;
};

struct BindData {
  const RowBatch* batch = nullptr;
  // Range scans: batch rows [begin, end). Selection scans: positions [begin, end) of
  // `rows`.
  size_t begin = 0;
  size_t end = 0;
  const uint32_t* rows = nullptr;  // the selection; null for a range scan
};

struct InitData {
  std::vector<size_t> columns;  // batch column of each output vector
  size_t next = 0;              // next batch row (or selection position) to emit
};

duckdb_type DuckType(const BatchColumn& column) {
  switch (column.type) {
    case BatchType::kBoolean:
      return DUCKDB_TYPE_BOOLEAN;
    case BatchType::kTinyInt:
      return DUCKDB_TYPE_TINYINT;
    case BatchType::kSmallInt:
      return DUCKDB_TYPE_SMALLINT;
    case BatchType::kInteger:
      return DUCKDB_TYPE_INTEGER;
    case BatchType::kBigInt:
      return DUCKDB_TYPE_BIGINT;
    case BatchType::kFloat:
      return DUCKDB_TYPE_FLOAT;
    case BatchType::kDouble:
      return DUCKDB_TYPE_DOUBLE;
    case BatchType::kVarchar:
      return DUCKDB_TYPE_VARCHAR;
    case BatchType::kBlob:
      return DUCKDB_TYPE_BLOB;
    case BatchType::kDate:
      return DUCKDB_TYPE_DATE;
    case BatchType::kTimestamp:
      return DUCKDB_TYPE_TIMESTAMP;
    case BatchType::kTimestampTz:
      return DUCKDB_TYPE_TIMESTAMP_TZ;
    case BatchType::kDecimal:
      return DUCKDB_TYPE_DECIMAL;
  }
  return DUCKDB_TYPE_VARCHAR;
}

void Bind(duckdb_bind_info info) {
  auto* slot =
      static_cast<std::shared_ptr<Slot>*>(duckdb_bind_get_extra_info(info))->get();
  if (slot->batch == nullptr) {
    std::string message =
        fmt::format("table function {}(): no row batch is set", slot->name);
    duckdb_bind_set_error(info, message.c_str());
    return;
  }
  for (const BatchColumn& column : slot->batch->columns()) {
    duckdb_logical_type type =
        column.type == BatchType::kDecimal
            ? duckdb_create_decimal_type(column.width, column.scale)
            : duckdb_create_logical_type(DuckType(column));
    duckdb_bind_add_result_column(info, column.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
  auto* data = new BindData;
  data->batch = slot->batch;
  if (slot->selected) {
    const size_t row_count = slot->batch->row_count();
    for (size_t i = 0; i < slot->rows.size(); ++i) {
      if (slot->rows[i] >= row_count) {
        delete data;
        std::string message = fmt::format(
            "table function {}(): selected row {} (position {}) is past the batch's {} "
            "rows",
            slot->name, slot->rows[i], i, row_count);
        duckdb_bind_set_error(info, message.c_str());
        return;
      }
    }
    data->rows = slot->rows.data();
    data->end = slot->rows.size();
  } else {
    data->end = std::min(slot->end, slot->batch->row_count());
    data->begin = std::min(slot->begin, data->end);
  }
  duckdb_bind_set_bind_data(info, data,
                            [](void* p) { delete static_cast<BindData*>(p); });
  duckdb_bind_set_cardinality(info, data->end - data->begin, true);
}

void Init(duckdb_init_info info) {
  const auto* bind = static_cast<const BindData*>(duckdb_init_get_bind_data(info));
  auto* data = new InitData;
  const idx_t count = duckdb_init_get_column_count(info);
  data->columns.reserve(count);
  for (idx_t i = 0; i < count; ++i) {
    data->columns.push_back(static_cast<size_t>(duckdb_init_get_column_index(info, i)));
  }
  data->next = bind->begin;
  duckdb_init_set_init_data(info, data,
                            [](void* p) { delete static_cast<InitData*>(p); });
  duckdb_init_set_max_threads(info, 1);  // one scan keeps batch order
}

// The batch rows of one output chunk: `count` consecutive rows from `from`, or the rows
// listed at `list`.
struct RangeRows {
  size_t from;
  size_t operator()(size_t i) const { return from + i; }
};
struct ListedRows {
  const uint32_t* list;
  size_t operator()(size_t i) const { return list[i]; }
};

template <typename Rows>
constexpr bool kContiguous = std::is_same_v<Rows, RangeRows>;

template <typename T, typename Rows>
void FillInts(duckdb_vector vector,
              const std::vector<int64_t>& ints,
              Rows rows,
              size_t count) {
  auto* out = static_cast<T*>(duckdb_vector_get_data(vector));
  for (size_t i = 0; i < count; ++i) {
    out[i] = static_cast<T>(ints[rows(i)]);
  }
}

// 8-byte cells: one memcpy for a range, a gather for a list.
template <typename T, typename Rows>
void Copy8(duckdb_vector vector, const std::vector<T>& cells, Rows rows, size_t count) {
  static_assert(sizeof(T) == 8);
  if constexpr (kContiguous<Rows>) {
    std::memcpy(duckdb_vector_get_data(vector), cells.data() + rows.from,
                count * sizeof(T));
  } else {
    auto* out = static_cast<T*>(duckdb_vector_get_data(vector));
    for (size_t i = 0; i < count; ++i) {
      out[i] = cells[rows(i)];
    }
  }
}

// `out` as a duckdb_string_t viewing `size` bytes at `data` (duckdb.h: up to 12 bytes
// inlined and zero-padded, longer ones a 4-byte prefix and a pointer).
void SetString(duckdb_string_t& out, const char* data, size_t size) {
  constexpr size_t kInlineBytes = sizeof(out.value.inlined.inlined);
  out.value.inlined.length = static_cast<uint32_t>(size);
  if (size <= kInlineBytes) {
    std::memset(out.value.inlined.inlined, 0, kInlineBytes);
    if (size != 0) {
      std::memcpy(out.value.inlined.inlined, data, size);
    }
  } else {
    std::memcpy(out.value.pointer.prefix, data, sizeof(out.value.pointer.prefix));
    out.value.pointer.ptr = const_cast<char*>(data);
  }
}

}  // namespace

struct BatchScan::Impl {
  std::shared_ptr<Slot> slot;
};

struct BatchScanAccess {
  // Fills output vector `vector` with rows `rows(0) .. rows(count - 1)` of `column`.
  template <typename Rows>
  static void FillVector(const RowBatch& batch,
                         size_t column,
                         Rows rows,
                         size_t count,
                         duckdb_vector vector);
  static std::unique_ptr<BatchScan> Wrap(std::unique_ptr<BatchScan::Impl> impl) {
    return std::unique_ptr<BatchScan>(new BatchScan(std::move(impl)));
  }
};

template <typename Rows>
void BatchScanAccess::FillVector(
    const RowBatch& batch, size_t column, Rows rows, size_t count, duckdb_vector vector) {
  const BatchColumn& declared = batch.columns()[column];
  const RowBatch::Column& c = batch.data_[column];
  switch (declared.type) {
    case BatchType::kBoolean: {
      auto* out = static_cast<bool*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) {
        out[i] = c.ints[rows(i)] != 0;
      }
      break;
    }
    case BatchType::kTinyInt:
      FillInts<int8_t>(vector, c.ints, rows, count);
      break;
    case BatchType::kSmallInt:
      FillInts<int16_t>(vector, c.ints, rows, count);
      break;
    case BatchType::kInteger:
    case BatchType::kDate:
      FillInts<int32_t>(vector, c.ints, rows, count);
      break;
    case BatchType::kBigInt:
    case BatchType::kTimestamp:
    case BatchType::kTimestampTz:
      Copy8(vector, c.ints, rows, count);
      break;
    case BatchType::kFloat: {
      auto* out = static_cast<float*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) {
        out[i] = static_cast<float>(c.doubles[rows(i)]);
      }
      break;
    }
    case BatchType::kDouble:
      Copy8(vector, c.doubles, rows, count);
      break;
    case BatchType::kVarchar:
    case BatchType::kBlob: {
      // The vector's strings point into the batch (no copy into the vector's heap): the
      // batch outlives the query (the BatchScan contract), and whatever DuckDB keeps
      // past the scan - a materialized result, a table, a Parquet page - it copies.
      auto* out = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) {
        const size_t row = rows(i);
        const size_t begin = c.StringBegin(row);
        SetString(out[i], c.bytes.data() + begin, c.ends[row] - begin);
      }
      break;
    }
    case BatchType::kDecimal:
      if (declared.width <= 4) {
        FillInts<int16_t>(vector, c.ints, rows, count);
      } else if (declared.width <= 9) {
        FillInts<int32_t>(vector, c.ints, rows, count);
      } else if (declared.width <= 18) {
        Copy8(vector, c.ints, rows, count);
      } else {
        auto* out = static_cast<duckdb_hugeint*>(duckdb_vector_get_data(vector));
        for (size_t i = 0; i < count; ++i) {
          out[i].lower = c.lows[rows(i)];
          out[i].upper = c.ints[rows(i)];
        }
      }
      break;
  }
  if (c.nulls != 0) {
    duckdb_vector_ensure_validity_writable(vector);
    uint64_t* validity = duckdb_vector_get_validity(vector);
    for (size_t i = 0; i < count; ++i) {
      if (c.is_null[rows(i)] != 0) {
        duckdb_validity_set_row_invalid(validity, i);
      } else {
        duckdb_validity_set_row_valid(validity, i);
      }
    }
  }
}

namespace {

void Scan(duckdb_function_info info, duckdb_data_chunk output) {
  const auto* bind = static_cast<const BindData*>(duckdb_function_get_bind_data(info));
  auto* state = static_cast<InitData*>(duckdb_function_get_init_data(info));
  const size_t count = std::min<size_t>(bind->end - state->next,
                                        static_cast<size_t>(duckdb_vector_size()));
  for (size_t i = 0; i < state->columns.size(); ++i) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(output, i);
    if (bind->rows != nullptr) {
      BatchScanAccess::FillVector(*bind->batch, state->columns[i],
                                  ListedRows{bind->rows + state->next}, count, vector);
    } else {
      BatchScanAccess::FillVector(*bind->batch, state->columns[i], RangeRows{state->next},
                                  count, vector);
    }
  }
  duckdb_data_chunk_set_size(output, count);
  state->next += count;
}

}  // namespace

BatchScan::BatchScan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BatchScan::~BatchScan() {
  Reset();
}

const std::string& BatchScan::function_name() const {
  return impl_->slot->name;
}

void BatchScan::Set(const RowBatch* batch, size_t begin_row, size_t end_row) {
  impl_->slot->batch = batch;
  impl_->slot->begin = begin_row;
  impl_->slot->end = end_row;
  impl_->slot->selected = false;
  impl_->slot->rows = {};
}

void BatchScan::SetRows(const RowBatch* batch, std::span<const uint32_t> rows) {
  impl_->slot->batch = batch;
  impl_->slot->selected = true;
  impl_->slot->rows = rows;
}

void BatchScan::Reset() {
  impl_->slot->batch = nullptr;
  impl_->slot->selected = false;
  impl_->slot->rows = {};
}

Result<std::unique_ptr<BatchScan>> internal::RegisterBatchScan(duckdb_connection conn,
                                                               std::string_view name) {
  auto slot = std::make_shared<Slot>();
  slot->name = std::string(name);
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, slot->name.c_str());
  duckdb_table_function_set_extra_info(
      function, new std::shared_ptr<Slot>(slot),
      [](void* p) { delete static_cast<std::shared_ptr<Slot>*>(p); });
  duckdb_table_function_set_bind(function, Bind);
  duckdb_table_function_set_init(function, Init);
  duckdb_table_function_set_function(function, Scan);
  duckdb_table_function_supports_projection_pushdown(function, true);
  const duckdb_state state = duckdb_register_table_function(conn, function);
  duckdb_destroy_table_function(&function);
  if (state != DuckDBSuccess) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "DuckDB: cannot register table function '{}' (a function of that "
                     "name exists)",
                     slot->name);
  }
  auto impl = std::make_unique<BatchScan::Impl>();
  impl->slot = std::move(slot);
  return BatchScanAccess::Wrap(std::move(impl));
}

}  // namespace tributary::sql
