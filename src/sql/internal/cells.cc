#include "sql/internal/cells.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace tributary::sql::internal {

namespace {

// GCC/Clang 128-bit integers for HUGEINT and DECIMAL(>18) values.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

struct TypeGuard {
  duckdb_logical_type type;
  ~TypeGuard() { duckdb_destroy_logical_type(&type); }
};

std::string Int128Text(Int128 value) {
  if (value == 0) {
    return "0";
  }
  bool negative = value < 0;
  UInt128 magnitude =
      negative ? static_cast<UInt128>(-(value + 1)) + 1 : static_cast<UInt128>(value);
  std::string digits;
  while (magnitude > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative) {
    digits.push_back('-');
  }
  return std::string(digits.rbegin(), digits.rend());
}

std::string UInt128Text(UInt128 value) {
  if (value == 0) {
    return "0";
  }
  std::string digits;
  while (value > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  return std::string(digits.rbegin(), digits.rend());
}

std::string DecimalText(Int128 value, uint8_t scale) {
  std::string digits = Int128Text(value < 0 ? -value : value);
  if (scale > 0) {
    if (digits.size() <= scale) {
      digits.insert(0, scale + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - scale, ".");
  }
  return value < 0 ? "-" + digits : digits;
}

std::string DoubleText(double value, bool is_float) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  std::string out =
      is_float ? fmt::format("{}", static_cast<float>(value)) : fmt::format("{}", value);
  if (out.find_first_of(".e") == std::string::npos) {
    out += ".0";
  }
  return out;
}

std::string DateText(int32_t days) {
  duckdb_date_struct d = duckdb_from_date(duckdb_date{days});
  if (d.year <= 0) {
    return fmt::format("{:04}-{:02}-{:02} (BC)", 1 - d.year, d.month, d.day);
  }
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

std::string TimeText(int64_t micros) {
  duckdb_time_struct t = duckdb_from_time(duckdb_time{micros});
  std::string out = fmt::format("{:02}:{:02}:{:02}", t.hour, t.min, t.sec);
  if (t.micros != 0) {
    out += fmt::format(".{:06}", t.micros);
    while (out.back() == '0') {
      out.pop_back();
    }
  }
  return out;
}

std::string TimestampText(int64_t micros) {
  int64_t days = micros / 86400000000LL;
  int64_t rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    days -= 1;
  }
  return DateText(static_cast<int32_t>(days)) + " " + TimeText(rest);
}

std::string UuidText(duckdb_hugeint value) {
  // DuckDB stores UUIDs with the top bit flipped so they sort as unsigned.
  uint64_t upper = static_cast<uint64_t>(value.upper) ^ (uint64_t{1} << 63);
  uint64_t lower = value.lower;
  std::string hex = fmt::format("{:016x}{:016x}", upper, lower);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string StringValue(duckdb_string_t* s) {
  return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

// Text of a nested element: strings are quoted as DuckDB prints them inside containers.
std::string NestedText(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  Cell cell = ReadCell(vector, type, row);
  if (cell.kind == Cell::Kind::kNull) {
    return "NULL";
  }
  duckdb_type id = duckdb_get_type_id(type);
  if (id == DUCKDB_TYPE_VARCHAR) {
    std::string out = "'";
    for (char c : cell.s) {
      if (c == '\'') {
        out += '\'';
      }
      out += c;
    }
    return out + "'";
  }
  return CellText(cell);
}

}  // namespace

std::string BlobText(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 32 && c < 127 && c != '\\' && c != '\'' && c != '"') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  return out;
}

std::string CellText(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kNull:
      return "";
    case Cell::Kind::kBool:
      return cell.i != 0 ? "true" : "false";
    case Cell::Kind::kInt:
      return std::to_string(cell.i);
    case Cell::Kind::kUInt:
      return std::to_string(cell.u);
    case Cell::Kind::kDouble:
      return cell.s.empty() ? DoubleText(cell.d, cell.is_float) : cell.s;
    case Cell::Kind::kText:
      return cell.s;
    case Cell::Kind::kBlob:
      return BlobText(cell.s);
  }
  return "";
}

Cell ReadCell(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  Cell cell;
  uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) {
    return cell;
  }
  void* data = duckdb_vector_get_data(vector);
  duckdb_type id = duckdb_get_type_id(type);
  switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
      cell.kind = Cell::Kind::kBool;
      cell.i = static_cast<const bool*>(data)[row] ? 1 : 0;
      return cell;
    case DUCKDB_TYPE_TINYINT:
      cell.kind = Cell::Kind::kInt;
      cell.i = static_cast<const int8_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_SMALLINT:
      cell.kind = Cell::Kind::kInt;
      cell.i = static_cast<const int16_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_INTEGER:
      cell.kind = Cell::Kind::kInt;
      cell.i = static_cast<const int32_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_BIGINT:
      cell.kind = Cell::Kind::kInt;
      cell.i = static_cast<const int64_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_UTINYINT:
      cell.kind = Cell::Kind::kUInt;
      cell.u = static_cast<const uint8_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_USMALLINT:
      cell.kind = Cell::Kind::kUInt;
      cell.u = static_cast<const uint16_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_UINTEGER:
      cell.kind = Cell::Kind::kUInt;
      cell.u = static_cast<const uint32_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_UBIGINT:
      cell.kind = Cell::Kind::kUInt;
      cell.u = static_cast<const uint64_t*>(data)[row];
      return cell;
    case DUCKDB_TYPE_HUGEINT: {
      duckdb_hugeint h = static_cast<const duckdb_hugeint*>(data)[row];
      Int128 v = (static_cast<Int128>(h.upper) << 64) | static_cast<Int128>(h.lower);
      cell.kind = Cell::Kind::kText;
      cell.s = Int128Text(v);
      return cell;
    }
    case DUCKDB_TYPE_UHUGEINT: {
      duckdb_uhugeint h = static_cast<const duckdb_uhugeint*>(data)[row];
      UInt128 v = (static_cast<UInt128>(h.upper) << 64) | h.lower;
      cell.kind = Cell::Kind::kText;
      cell.s = UInt128Text(v);
      return cell;
    }
    case DUCKDB_TYPE_FLOAT:
      cell.kind = Cell::Kind::kDouble;
      cell.is_float = true;
      cell.d = static_cast<double>(static_cast<const float*>(data)[row]);
      return cell;
    case DUCKDB_TYPE_DOUBLE:
      cell.kind = Cell::Kind::kDouble;
      cell.d = static_cast<const double*>(data)[row];
      return cell;
    case DUCKDB_TYPE_DECIMAL: {
      uint8_t scale = duckdb_decimal_scale(type);
      Int128 v = 0;
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT:
          v = static_cast<const int16_t*>(data)[row];
          break;
        case DUCKDB_TYPE_INTEGER:
          v = static_cast<const int32_t*>(data)[row];
          break;
        case DUCKDB_TYPE_BIGINT:
          v = static_cast<const int64_t*>(data)[row];
          break;
        default: {
          duckdb_hugeint h = static_cast<const duckdb_hugeint*>(data)[row];
          v = (static_cast<Int128>(h.upper) << 64) | static_cast<Int128>(h.lower);
          break;
        }
      }
      cell.kind = Cell::Kind::kDouble;
      cell.s = DecimalText(v, scale);
      cell.d = std::strtod(cell.s.c_str(), nullptr);
      return cell;
    }
    case DUCKDB_TYPE_VARCHAR:
      cell.kind = Cell::Kind::kText;
      cell.s = StringValue(&static_cast<duckdb_string_t*>(data)[row]);
      return cell;
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
      cell.kind = Cell::Kind::kBlob;
      cell.s = StringValue(&static_cast<duckdb_string_t*>(data)[row]);
      return cell;
    case DUCKDB_TYPE_DATE:
      cell.kind = Cell::Kind::kText;
      cell.s = DateText(static_cast<const duckdb_date*>(data)[row].days);
      return cell;
    case DUCKDB_TYPE_TIME:
      cell.kind = Cell::Kind::kText;
      cell.s = TimeText(static_cast<const duckdb_time*>(data)[row].micros);
      return cell;
    case DUCKDB_TYPE_TIMESTAMP:
      cell.kind = Cell::Kind::kText;
      cell.s = TimestampText(static_cast<const duckdb_timestamp*>(data)[row].micros);
      return cell;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      // Rendered in UTC, independent of the session time zone.
      cell.kind = Cell::Kind::kText;
      cell.s =
          TimestampText(static_cast<const duckdb_timestamp*>(data)[row].micros) + "+00";
      return cell;
    case DUCKDB_TYPE_TIMESTAMP_S:
      cell.kind = Cell::Kind::kText;
      cell.s = TimestampText(static_cast<const int64_t*>(data)[row] * 1000000);
      return cell;
    case DUCKDB_TYPE_TIMESTAMP_MS:
      cell.kind = Cell::Kind::kText;
      cell.s = TimestampText(static_cast<const int64_t*>(data)[row] * 1000);
      return cell;
    case DUCKDB_TYPE_TIMESTAMP_NS: {
      int64_t ns = static_cast<const int64_t*>(data)[row];
      int64_t micros = ns / 1000;
      if (ns % 1000 < 0) {
        micros -= 1;
      }
      cell.kind = Cell::Kind::kText;
      cell.s = TimestampText(micros);
      return cell;
    }
    case DUCKDB_TYPE_INTERVAL: {
      duckdb_interval v = static_cast<const duckdb_interval*>(data)[row];
      cell.kind = Cell::Kind::kText;
      cell.s =
          fmt::format("{} months {} days {} microseconds", v.months, v.days, v.micros);
      return cell;
    }
    case DUCKDB_TYPE_UUID:
      cell.kind = Cell::Kind::kText;
      cell.s = UuidText(static_cast<const duckdb_hugeint*>(data)[row]);
      return cell;
    case DUCKDB_TYPE_ENUM: {
      uint64_t index = 0;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT:
          index = static_cast<const uint8_t*>(data)[row];
          break;
        case DUCKDB_TYPE_USMALLINT:
          index = static_cast<const uint16_t*>(data)[row];
          break;
        default:
          index = static_cast<const uint32_t*>(data)[row];
          break;
      }
      char* text = duckdb_enum_dictionary_value(type, index);
      cell.kind = Cell::Kind::kText;
      cell.s = text != nullptr ? text : "";
      duckdb_free(text);
      return cell;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
      duckdb_list_entry entry = static_cast<const duckdb_list_entry*>(data)[row];
      duckdb_vector child = duckdb_list_vector_get_child(vector);
      TypeGuard child_type{duckdb_vector_get_column_type(child)};
      std::string out = id == DUCKDB_TYPE_MAP ? "{" : "[";
      for (idx_t k = 0; k < entry.length; ++k) {
        if (k > 0) {
          out += ", ";
        }
        idx_t child_row = entry.offset + k;
        if (id == DUCKDB_TYPE_MAP) {
          duckdb_vector key_vec = duckdb_struct_vector_get_child(child, 0);
          duckdb_vector value_vec = duckdb_struct_vector_get_child(child, 1);
          TypeGuard key_type{duckdb_vector_get_column_type(key_vec)};
          TypeGuard value_type{duckdb_vector_get_column_type(value_vec)};
          out += NestedText(key_vec, key_type.type, child_row);
          out += "=";
          out += NestedText(value_vec, value_type.type, child_row);
        } else {
          out += NestedText(child, child_type.type, child_row);
        }
      }
      out += id == DUCKDB_TYPE_MAP ? "}" : "]";
      cell.kind = Cell::Kind::kText;
      cell.s = std::move(out);
      return cell;
    }
    case DUCKDB_TYPE_ARRAY: {
      idx_t size = duckdb_array_type_array_size(type);
      duckdb_vector child = duckdb_array_vector_get_child(vector);
      TypeGuard child_type{duckdb_vector_get_column_type(child)};
      std::string out = "[";
      for (idx_t k = 0; k < size; ++k) {
        if (k > 0) {
          out += ", ";
        }
        out += NestedText(child, child_type.type, row * size + k);
      }
      cell.kind = Cell::Kind::kText;
      cell.s = out + "]";
      return cell;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t count = duckdb_struct_type_child_count(type);
      std::string out = "{";
      for (idx_t k = 0; k < count; ++k) {
        if (k > 0) {
          out += ", ";
        }
        char* name = duckdb_struct_type_child_name(type, k);
        out += "'";
        out += name != nullptr ? name : "";
        out += "': ";
        duckdb_free(name);
        duckdb_vector child = duckdb_struct_vector_get_child(vector, k);
        TypeGuard child_type{duckdb_vector_get_column_type(child)};
        out += NestedText(child, child_type.type, row);
      }
      cell.kind = Cell::Kind::kText;
      cell.s = out + "}";
      return cell;
    }
    default:
      cell.kind = Cell::Kind::kText;
      cell.s = "<unsupported type>";
      return cell;
  }
}

}  // namespace tributary::sql::internal
