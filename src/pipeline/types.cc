#include "pipeline/types.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

Status AppendValue(sql::Appender& appender,
                   const core::Value& value,
                   const delta::DataType& target) {
  if (value.is_null() || value.is_unavailable()) {
    return appender.AppendNull();
  }
  if (target.kind == delta::TypeKind::kString) {
    if (value.kind() == ValueKind::kString) {
      return appender.AppendString(value.AsString());  // no copy
    }
    return appender.AppendString(ValueText(value));
  }
  switch (value.kind()) {
    case ValueKind::kBool:
      return appender.AppendBool(value.AsBool());
    case ValueKind::kInt8:
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
      if (target.kind == delta::TypeKind::kDecimal) {
        return appender.AppendString(std::to_string(*value.ToInt64()));
      }
      return appender.AppendInt64(*value.ToInt64());
    case ValueKind::kFloat:
    case ValueKind::kDouble:
      return appender.AppendDouble(*value.ToDouble());
    case ValueKind::kDecimal:
      if (!value.AsDecimal().is_finite() && target.kind == delta::TypeKind::kDecimal) {
        // NaN / Infinity have no Delta decimal form.
        return appender.AppendNull();
      }
      return appender.AppendString(value.AsDecimal().ToString());
    case ValueKind::kBytes: {
      const auto& bytes = value.AsBytes();
      return appender.AppendBlob(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
    case ValueKind::kTimestamp:
      if (value.AsTimestamp() == core::kTimestampInfinity ||
          value.AsTimestamp() == core::kTimestampNegativeInfinity) {
        return appender.AppendString(value.AsTimestamp() > 0 ? "infinity" : "-infinity");
      }
      return appender.AppendString(core::FormatTimestamp(value.AsTimestamp()));
    case ValueKind::kTimestampTz:
      if (value.AsTimestampTz() == core::kTimestampInfinity ||
          value.AsTimestampTz() == core::kTimestampNegativeInfinity) {
        return appender.AppendString(value.AsTimestampTz() > 0 ? "infinity"
                                                               : "-infinity");
      }
      return appender.AppendString(TimestampTzText(value.AsTimestampTz()));
    default:
      return appender.AppendString(ValueText(value));
  }
}

}  // namespace tributary::pipeline
