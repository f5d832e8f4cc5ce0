#include "pipeline/types.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace tributary::pipeline {

namespace delta = lake::delta;
using core::TypeKind;
using core::ValueKind;

delta::DataType SilverDeltaType(const core::DataType& type) {
  using delta::DataType;
  switch (type.kind) {
    case TypeKind::kBool:
      return DataType::Primitive(delta::TypeKind::kBoolean);
    case TypeKind::kInt8:
      return DataType::Primitive(delta::TypeKind::kByte);
    case TypeKind::kInt16:
    case TypeKind::kUInt8:
      return DataType::Primitive(delta::TypeKind::kShort);
    case TypeKind::kInt32:
    case TypeKind::kUInt16:
      return DataType::Primitive(delta::TypeKind::kInteger);
    case TypeKind::kInt64:
    case TypeKind::kUInt32:
      return DataType::Primitive(delta::TypeKind::kLong);
    case TypeKind::kUInt64:
      return DataType::Decimal(20, 0);
    case TypeKind::kFloat:
      return DataType::Primitive(delta::TypeKind::kFloat);
    case TypeKind::kDouble:
      return DataType::Primitive(delta::TypeKind::kDouble);
    case TypeKind::kDecimal:
      if (type.variable_scale || type.precision <= 0) {
        return DataType::Primitive(delta::TypeKind::kString);
      }
      if (type.precision <= 38) {
        return DataType::Decimal(type.precision, std::max(0, type.scale));
      }
      if (type.scale >= 0 && type.scale <= 38) {
        return DataType::Decimal(38, type.scale);
      }
      return DataType::Primitive(delta::TypeKind::kString);
    case TypeKind::kBytes:
      return DataType::Primitive(delta::TypeKind::kBinary);
    case TypeKind::kDate:
      return DataType::Primitive(delta::TypeKind::kDate);
    case TypeKind::kTimestamp:
      return DataType::Primitive(delta::TypeKind::kTimestampNtz);
    case TypeKind::kTimestampTz:
      return DataType::Primitive(delta::TypeKind::kTimestamp);
    case TypeKind::kString:
    case TypeKind::kTime:
    case TypeKind::kTimeTz:
    case TypeKind::kInterval:
    case TypeKind::kUuid:
    case TypeKind::kJson:
    case TypeKind::kEnum:
    case TypeKind::kArray:
      return DataType::Primitive(delta::TypeKind::kString);
  }
  return DataType::Primitive(delta::TypeKind::kString);
}

namespace {

std::string HexBytes(const core::Bytes& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

std::string DoubleText(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "Infinity" : "-Infinity";
  }
  return fmt::format("{}", value);
}

nlohmann::json ValueToJson(const core::Value& value) {
  switch (value.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnavailable:
      return nullptr;
    case ValueKind::kBool:
      return value.AsBool();
    case ValueKind::kInt8:
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
      return *value.ToInt64();
    case ValueKind::kUInt64:
      return value.AsUInt64();
    case ValueKind::kFloat:
    case ValueKind::kDouble: {
      double d = *value.ToDouble();
      if (std::isfinite(d)) {
        return d;
      }
      return DoubleText(d);
    }
    case ValueKind::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& element : value.AsArray()) {
        out.push_back(ValueToJson(element));
      }
      return out;
    }
    default:
      return ValueText(value);
  }
}

}  // namespace

std::string ValueText(const core::Value& value) {
  switch (value.kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnavailable:
      return "";
    case ValueKind::kBool:
      return value.AsBool() ? "true" : "false";
    case ValueKind::kInt8:
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
      return std::to_string(*value.ToInt64());
    case ValueKind::kUInt64:
      return std::to_string(value.AsUInt64());
    case ValueKind::kFloat:
    case ValueKind::kDouble:
      return DoubleText(*value.ToDouble());
    case ValueKind::kDecimal:
      return value.AsDecimal().ToString();
    case ValueKind::kString:
      return value.AsString();
    case ValueKind::kBytes:
      return HexBytes(value.AsBytes());
    case ValueKind::kDate:
      return core::FormatDate(value.AsDate());
    case ValueKind::kTime:
      return core::FormatTime(value.AsTime());
    case ValueKind::kTimeTz:
      return core::FormatTime(value.AsTimeTz().micros) +
             core::FormatZoneOffset(value.AsTimeTz().offset_seconds, false);
    case ValueKind::kTimestamp:
      return core::FormatTimestamp(value.AsTimestamp());
    case ValueKind::kTimestampTz:
      return core::FormatTimestamp(value.AsTimestampTz(), "Z");
    case ValueKind::kInterval:
      return core::FormatIsoInterval(value.AsInterval());
    case ValueKind::kUuid:
      return core::FormatUuid(value.AsUuid());
    case ValueKind::kJson:
      return value.AsJson();
    case ValueKind::kEnum:
      return value.AsEnum();
    case ValueKind::kArray:
      return ValueToJsonText(value);
  }
  return "";
}

std::string ValueToJsonText(const core::Value& value) {
  return ValueToJson(value).dump();
}

namespace {

// Writes `value` (< 10^width) as `width` decimal digits.
char* PutDigits(char* out, int64_t value, int width) {
  for (int digit = width - 1; digit >= 0; --digit) {
    out[digit] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

}  // namespace

std::string TimestampTzText(int64_t micros) {
  int64_t days = micros >= 0
                     ? micros / core::kMicrosPerDay
                     : -((-micros + core::kMicrosPerDay - 1) / core::kMicrosPerDay);
  int64_t rest = micros - days * core::kMicrosPerDay;
  // Years 0..9999 are written here directly (silver writes one or two per row); others
  // through core's formatting.
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
  // Algorithms", civil_from_days).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    return fmt::format("{} {}+00", core::FormatDate(static_cast<int32_t>(days)),
                       core::FormatTime(rest));
  }
  char buffer[40];
  char* out = PutDigits(buffer, year, 4);
  *out++ = '-';
  out = PutDigits(out, month, 2);
  *out++ = '-';
  out = PutDigits(out, day, 2);
  *out++ = ' ';
  const int64_t seconds = rest / core::kMicrosPerSecond;
  int64_t fraction = rest % core::kMicrosPerSecond;
  out = PutDigits(out, seconds / 3600, 2);
  *out++ = ':';
  out = PutDigits(out, (seconds / 60) % 60, 2);
  *out++ = ':';
  out = PutDigits(out, seconds % 60, 2);
  if (fraction != 0) {
    int width = 6;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --width;
    }
    *out++ = '.';
    out = PutDigits(out, fraction, width);
  }
  *out++ = '+';
  *out++ = '0';
  *out++ = '0';
  return std::string(buffer, static_cast<size_t>(out - buffer));
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status AppendTimestampMicros(sql::Appender& appender, int64_t micros) {
  return appender.AppendString(TimestampTzText(micros));
}

namespace {

using sql::BatchType;

// 10^n for n in 0..38.
core::Int128 Pow10(int n) {
  core::Int128 out = 1;
  for (int i = 0; i < n; ++i) {
    out *= 10;
  }
  return out;
}

Status DoesNotFit(const core::Value& value,
                  const sql::BatchColumn& column,
                  std::string_view why) {
  std::string text = ValueText(value);
  if (text.size() > 100) {
    text = text.substr(0, 100) + "...";
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "{} value '{}' does not fit {} column {}: {}",
                   core::ValueKindName(value.kind()), text, sql::BatchTypeName(column),
                   column.name, why);
}

// `value` as an integer: integer kinds, bool, floats (rounded), decimals (rounded to
// scale 0) and integer text. nullopt when it has none or it is beyond int64.
std::optional<int64_t> IntegerOf(const core::Value& value) {
  switch (value.kind()) {
    case ValueKind::kBool:
      return value.AsBool() ? 1 : 0;
    case ValueKind::kInt8:
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
      return *value.ToInt64();
    case ValueKind::kUInt64:
      if (value.AsUInt64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<int64_t>(value.AsUInt64());
    case ValueKind::kFloat:
    case ValueKind::kDouble: {
      const double d = std::round(*value.ToDouble());
      if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)) {
        return std::nullopt;
      }
      return static_cast<int64_t>(d);
    }
    case ValueKind::kString: {
      const std::string& text = value.AsString();
      int64_t out = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        return std::nullopt;
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

// The unscaled value of a finite decimal rounded (half away from zero) to `scale`;
// nullopt when it has more than 38 digits.
std::optional<core::Int128> UnscaledAt(const core::Decimal& decimal, int scale) {
  if (decimal.scale() != scale) {
    auto exact = decimal.Rescale(scale);
    if (exact.ok()) {
      return exact->unscaled128();
    }
  }
  auto unscaled = decimal.unscaled128();
  if (!unscaled) {
    return std::nullopt;
  }
  const int shift = scale - decimal.scale();
  if (shift == 0) {
    return unscaled;
  }
  if (shift > 0) {
    return std::nullopt;  // Rescale failed: more than 38 digits
  }
  if (-shift > 38) {
    return 0;
  }
  const core::Int128 divisor = Pow10(-shift);
  core::Int128 quotient = *unscaled / divisor;
  const core::Int128 remainder = *unscaled % divisor;
  const core::Int128 twice = remainder < 0 ? -2 * remainder : 2 * remainder;
  if (twice >= divisor) {
    quotient += *unscaled < 0 ? -1 : 1;
  }
  return quotient;
}

Status AppendDecimal(sql::RowBatch& batch,
                     const sql::BatchColumn& column,
                     const core::Value& value) {
  const int scale = column.scale;
  std::optional<core::Int128> unscaled;
  switch (value.kind()) {
    case ValueKind::kDecimal: {
      const core::Decimal& decimal = value.AsDecimal();
      if (!decimal.is_finite()) {
        // NaN / Infinity have no Delta decimal form.
        batch.AppendNull();
        return OkStatus();
      }
      unscaled = UnscaledAt(decimal, scale);
      break;
    }
    case ValueKind::kFloat:
    case ValueKind::kDouble:
    case ValueKind::kString: {
      auto parsed = core::Decimal::FromString(ValueText(value));
      if (!parsed.ok()) {
        return DoesNotFit(value, column, "not a number");
      }
      if (!parsed->is_finite()) {
        batch.AppendNull();
        return OkStatus();
      }
      unscaled = UnscaledAt(*parsed, scale);
      break;
    }
    case ValueKind::kUInt64:
      unscaled = UnscaledAt(
          core::Decimal::FromInt128(static_cast<core::Int128>(value.AsUInt64()), 0),
          scale);
      break;
    default: {
      auto integer = IntegerOf(value);
      if (!integer) {
        return DoesNotFit(value, column, "not a number");
      }
      unscaled = UnscaledAt(core::Decimal::FromInt128(*integer, 0), scale);
      break;
    }
  }
  const core::Int128 limit = Pow10(column.width);
  if (!unscaled || *unscaled >= limit || *unscaled <= -limit) {
    return DoesNotFit(value, column, "out of range");
  }
  if (column.width <= 18) {
    batch.AppendInt64(static_cast<int64_t>(*unscaled));
  } else {
    const auto bits = static_cast<core::UInt128>(*unscaled);
    batch.AppendDecimal128(static_cast<uint64_t>(bits),
                           static_cast<int64_t>(*unscaled >> 64));
  }
  return OkStatus();
}

// DuckDB's infinite timestamps are +-INT64_MAX, its infinite dates +-INT32_MAX.
int64_t DuckTimestamp(int64_t micros) {
  return micros == core::kTimestampNegativeInfinity ? -std::numeric_limits<int64_t>::max()
                                                    : micros;
}

}  // namespace

bool IsNativeBatchColumn(const delta::DataType& type) {
  switch (type.kind) {
    case delta::TypeKind::kStruct:
    case delta::TypeKind::kArray:
    case delta::TypeKind::kMap:
    case delta::TypeKind::kVariant:
      return false;
    default:
      return true;
  }
}

sql::BatchColumn DeltaBatchColumn(std::string name, const delta::DataType& type) {
  sql::BatchColumn column;
  column.name = std::move(name);
  switch (type.kind) {
    case delta::TypeKind::kBoolean:
      column.type = BatchType::kBoolean;
      break;
    case delta::TypeKind::kByte:
      column.type = BatchType::kTinyInt;
      break;
    case delta::TypeKind::kShort:
      column.type = BatchType::kSmallInt;
      break;
    case delta::TypeKind::kInteger:
      column.type = BatchType::kInteger;
      break;
    case delta::TypeKind::kLong:
      column.type = BatchType::kBigInt;
      break;
    case delta::TypeKind::kFloat:
      column.type = BatchType::kFloat;
      break;
    case delta::TypeKind::kDouble:
      column.type = BatchType::kDouble;
      break;
    case delta::TypeKind::kBinary:
      column.type = BatchType::kBlob;
      break;
    case delta::TypeKind::kDate:
      column.type = BatchType::kDate;
      break;
    case delta::TypeKind::kTimestamp:
      column.type = BatchType::kTimestampTz;
      break;
    case delta::TypeKind::kTimestampNtz:
      column.type = BatchType::kTimestamp;
      break;
    case delta::TypeKind::kDecimal:
      column.type = BatchType::kDecimal;
      column.width = static_cast<uint8_t>(type.precision);
      column.scale = static_cast<uint8_t>(type.scale);
      break;
    default:
      column.type = BatchType::kVarchar;
      break;
  }
  return column;
}

Status AppendBatchValue(sql::RowBatch& batch,
                        const sql::BatchColumn& column,
                        const core::Value& value) {
  if (value.is_null() || value.is_unavailable()) {
    batch.AppendNull();
    return OkStatus();
  }
  switch (column.type) {
    case BatchType::kVarchar:
      if (value.kind() == ValueKind::kString) {
        batch.AppendString(value.AsString());
      } else {
        batch.AppendString(ValueText(value));
      }
      return OkStatus();
    case BatchType::kBlob:
      if (value.kind() == ValueKind::kBytes) {
        const auto& bytes = value.AsBytes();
        batch.AppendString(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      } else {
        batch.AppendString(ValueText(value));
      }
      return OkStatus();
    case BatchType::kBoolean:
      if (value.kind() == ValueKind::kBool) {
        batch.AppendBool(value.AsBool());
        return OkStatus();
      }
      if (auto integer = IntegerOf(value);
          integer && value.kind() != ValueKind::kString) {
        batch.AppendBool(*integer != 0);
        return OkStatus();
      }
      if (value.kind() == ValueKind::kString &&
          (value.AsString() == "true" || value.AsString() == "false")) {
        batch.AppendBool(value.AsString() == "true");
        return OkStatus();
      }
      return DoesNotFit(value, column, "not a boolean");
    case BatchType::kTinyInt:
    case BatchType::kSmallInt:
    case BatchType::kInteger:
    case BatchType::kBigInt: {
      std::optional<int64_t> integer;
      if (value.kind() == ValueKind::kDecimal) {
        if (value.AsDecimal().is_finite()) {
          auto unscaled = UnscaledAt(value.AsDecimal(), 0);
          if (unscaled && *unscaled >= std::numeric_limits<int64_t>::min() &&
              *unscaled <= std::numeric_limits<int64_t>::max()) {
            integer = static_cast<int64_t>(*unscaled);
          }
        }
      } else {
        integer = IntegerOf(value);
      }
      if (!integer) {
        return DoesNotFit(value, column, "not an integer in range");
      }
      const int64_t bound = column.type == BatchType::kTinyInt    ? 127
                            : column.type == BatchType::kSmallInt ? 32767
                            : column.type == BatchType::kInteger
                                ? std::numeric_limits<int32_t>::max()
                                : std::numeric_limits<int64_t>::max();
      if (*integer > bound || *integer < -bound - 1) {
        return DoesNotFit(value, column, "out of range");
      }
      batch.AppendInt64(*integer);
      return OkStatus();
    }
    case BatchType::kFloat:
    case BatchType::kDouble: {
      if (auto number = value.ToDouble()) {
        batch.AppendDouble(*number);
        return OkStatus();
      }
      if (value.kind() == ValueKind::kDecimal || value.kind() == ValueKind::kString) {
        const std::string text = ValueText(value);
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) {
          batch.AppendDouble(number);
          return OkStatus();
        }
      }
      return DoesNotFit(value, column, "not a number");
    }
    case BatchType::kDecimal:
      return AppendDecimal(batch, column, value);
    case BatchType::kDate:
      if (value.kind() == ValueKind::kDate) {
        const int32_t days = value.AsDate();
        batch.AppendInt64(days == core::kDateNegativeInfinity
                              ? -std::numeric_limits<int32_t>::max()
                              : days);
        return OkStatus();
      }
      if (value.kind() == ValueKind::kTimestamp ||
          value.kind() == ValueKind::kTimestampTz) {
        const int64_t micros = value.kind() == ValueKind::kTimestamp
                                   ? value.AsTimestamp()
                                   : value.AsTimestampTz();
        if (micros == core::kTimestampInfinity ||
            micros == core::kTimestampNegativeInfinity) {
          batch.AppendInt64(micros > 0 ? std::numeric_limits<int32_t>::max()
                                       : -std::numeric_limits<int32_t>::max());
          return OkStatus();
        }
        const int64_t days =
            micros >= 0 ? micros / core::kMicrosPerDay
                        : -((-micros + core::kMicrosPerDay - 1) / core::kMicrosPerDay);
        batch.AppendInt64(days);
        return OkStatus();
      }
      return DoesNotFit(value, column, "not a date");
    case BatchType::kTimestamp:
    case BatchType::kTimestampTz:
      if (value.kind() == ValueKind::kTimestamp) {
        batch.AppendInt64(DuckTimestamp(value.AsTimestamp()));
        return OkStatus();
      }
      if (value.kind() == ValueKind::kTimestampTz) {
        batch.AppendInt64(DuckTimestamp(value.AsTimestampTz()));
        return OkStatus();
      }
      if (value.kind() == ValueKind::kDate) {
        const int32_t days = value.AsDate();
        if (days == core::kDateInfinity || days == core::kDateNegativeInfinity) {
          batch.AppendInt64(days > 0 ? std::numeric_limits<int64_t>::max()
                                     : -std::numeric_limits<int64_t>::max());
        } else {
          batch.AppendInt64(static_cast<int64_t>(days) * core::kMicrosPerDay);
        }
        return OkStatus();
      }
      return DoesNotFit(value, column, "not a timestamp");
  }
  return DoesNotFit(value, column, "unsupported column type");
}

std::string_view PositionFormatter::Format(const core::SourcePosition& position) {
  const core::PostgresPosition* pg = position.postgres();
  if (pg == nullptr) {
    has_prefix_ = false;
    text_ = position.ToString();
    return text_;
  }
  if (!has_prefix_ || commit_lsn_ != pg->commit_lsn) {
    text_ = core::PostgresPositionPrefix(pg->commit_lsn);
    prefix_size_ = text_.size();
    commit_lsn_ = pg->commit_lsn;
    has_prefix_ = true;
  }
  text_.resize(prefix_size_);
  // FormatLsn: "%X/%X" of the high and low 32 bits.
  // 8 + 1 + 8 + 1 + 20 + 1 + 20 characters at most; each to_chars leaves room for the
  // separator after it, so no write can pass the end even if one failed.
  char buffer[64];
  auto put_hex = [](char* out, uint32_t number) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    char digits[8];
    int count = 0;
    do {
      digits[count++] = kHex[number & 0xF];
      number >>= 4;
    } while (number != 0);
    while (count > 0) {
      *out++ = digits[--count];
    }
    return out;
  };
  char* out = put_hex(buffer, static_cast<uint32_t>(pg->event_lsn >> 32));
  *out++ = '/';
  out = put_hex(out, static_cast<uint32_t>(pg->event_lsn & 0xffffffffULL));
  *out++ = ':';
  out = std::to_chars(out, buffer + sizeof(buffer) - 1, pg->txid).ptr;
  *out++ = ':';
  out = std::to_chars(out, buffer + sizeof(buffer), pg->event_index).ptr;
  text_.append(buffer, static_cast<size_t>(out - buffer));
  return text_;
}

void WarnCheckpointProblem(const std::optional<std::string>& problem, std::string_view table) {
  if (problem) {
    spdlog::warn("{}: {} (the write stands; readers replay more of the log until a later "
                 "checkpoint succeeds)",
                 table, *problem);
  }
}

}  // namespace tributary::pipeline
