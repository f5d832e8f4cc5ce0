#include "core/internal/debezium_connect.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/decimal.h"
#include "core/internal/base64.h"

namespace tributary::core::internal {
namespace {

using DecimalHandling = DebeziumEncodeOptions::DecimalHandling;

// A month in io.debezium.time.MicroDuration: 365.25 / 12 = 30.4375 days, which is exactly
// 2,629,800 seconds (debezium-core MicroDuration.DAYS_PER_MONTH_AVG).
constexpr int64_t kMicrosPerAverageMonth = 2'629'800 * kMicrosPerSecond;

Error FieldError(const std::string& path, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, "field '{}': {}", path, what);
}

Error TypeMismatch(const std::string& path,
                   std::string_view expected,
                   const OrderedJson& json) {
  return MakeError(ErrorCode::kInvalidArgument, "field '{}': expected {}, got {} {}",
                   path, expected, JsonTypeName(json), json.dump());
}

std::vector<uint8_t> PlaceholderBytes() {
  return std::vector<uint8_t>(kDebeziumUnavailablePlaceholder.begin(),
                              kDebeziumUnavailablePlaceholder.end());
}

bool IsStringRepr(ConnectRepr repr) {
  switch (repr) {
    case ConnectRepr::kString:
    case ConnectRepr::kDecimalString:
    case ConnectRepr::kZonedTime:
    case ConnectRepr::kZonedTimestamp:
    case ConnectRepr::kIsoInterval:
    case ConnectRepr::kUuidString:
    case ConnectRepr::kJsonString:
    case ConnectRepr::kEnumString:
      return true;
    default:
      return false;
  }
}

bool IsBytesRepr(ConnectRepr repr) {
  return repr == ConnectRepr::kBytes || repr == ConnectRepr::kDecimalBytes ||
         repr == ConnectRepr::kBits;
}

std::string Join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (size_t idx = 0; idx < parts.size(); ++idx) {
    if (idx > 0) {
      out.push_back(separator);
    }
    out += parts[idx];
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> out;
  if (text.empty()) {
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t next = text.find(separator, start);
    out.emplace_back(text.substr(
        start, next == std::string_view::npos ? std::string_view::npos : next - start));
    if (next == std::string_view::npos) {
      break;
    }
    start = next + 1;
  }
  return out;
}

// Integer JSON (signed or unsigned) as int64 with a range check.
Result<int64_t> ReadInteger(const OrderedJson& json,
                            int64_t min,
                            int64_t max,
                            std::string_view expected,
                            const std::string& path) {
  int64_t value = 0;
  if (json.is_number_unsigned()) {
    uint64_t unsigned_value = json.get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return TypeMismatch(path, expected, json);
    }
    value = static_cast<int64_t>(unsigned_value);
  } else if (json.is_number_integer()) {
    value = json.get<int64_t>();
  } else {
    return TypeMismatch(path, expected, json);
  }
  if (value < min || value > max) {
    return FieldError(path, fmt::format("{} is out of range for {}", value, expected));
  }
  return value;
}

template <typename T>
Result<int64_t> ReadIntegerOf(const OrderedJson& json,
                              std::string_view expected,
                              const std::string& path) {
  return ReadInteger(json, static_cast<int64_t>(std::numeric_limits<T>::min()),
                     static_cast<int64_t>(std::numeric_limits<T>::max()), expected, path);
}

Result<double> ReadFloating(const OrderedJson& json,
                            std::string_view expected,
                            const std::string& path) {
  if (json.is_number()) {
    return json.get<double>();
  }
  if (json.is_string()) {
    const std::string& text = json.get_ref<const std::string&>();
    if (text == "NaN") {
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (text == "Infinity") {
      return std::numeric_limits<double>::infinity();
    }
    if (text == "-Infinity") {
      return -std::numeric_limits<double>::infinity();
    }
  }
  return TypeMismatch(path, expected, json);
}

Result<const std::string*> ReadString(const OrderedJson& json,
                                      std::string_view expected,
                                      const std::string& path) {
  if (!json.is_string()) {
    return TypeMismatch(path, expected, json);
  }
  return &json.get_ref<const std::string&>();
}

Result<std::vector<uint8_t>> ReadBase64(const OrderedJson& json,
                                        const std::string& path) {
  TRIB_ASSIGN_OR_RETURN(const std::string* text, ReadString(json, "base64 bytes", path));
  Result<std::vector<uint8_t>> bytes = Base64Decode(*text);
  if (!bytes.ok()) {
    return FieldError(path, bytes.status().message());
  }
  return std::move(*bytes);
}

// Value with the integer kind of `kind` from an int64, range-checked.
Result<Value> MakeIntegerValue(TypeKind kind,
                               const OrderedJson& json,
                               const std::string& path) {
  switch (kind) {
    case TypeKind::kInt8: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<int8_t>(json, "int8", path));
      return Value::Int8(static_cast<int8_t>(v));
    }
    case TypeKind::kInt16: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<int16_t>(json, "int16", path));
      return Value::Int16(static_cast<int16_t>(v));
    }
    case TypeKind::kInt32: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<int32_t>(json, "int32", path));
      return Value::Int32(static_cast<int32_t>(v));
    }
    case TypeKind::kInt64: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<int64_t>(json, "int64", path));
      return Value::Int64(v);
    }
    case TypeKind::kUInt8: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<uint8_t>(json, "uint8", path));
      return Value::UInt8(static_cast<uint8_t>(v));
    }
    case TypeKind::kUInt16: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<uint16_t>(json, "uint16", path));
      return Value::UInt16(static_cast<uint16_t>(v));
    }
    case TypeKind::kUInt32: {
      TRIB_ASSIGN_OR_RETURN(int64_t v, ReadIntegerOf<uint32_t>(json, "uint32", path));
      return Value::UInt32(static_cast<uint32_t>(v));
    }
    case TypeKind::kUInt64: {
      if (json.is_number_unsigned()) {
        return Value::UInt64(json.get<uint64_t>());
      }
      TRIB_ASSIGN_OR_RETURN(
          int64_t v,
          ReadInteger(json, 0, std::numeric_limits<int64_t>::max(), "uint64", path));
      return Value::UInt64(static_cast<uint64_t>(v));
    }
    default:
      return FieldError(
          path, fmt::format("type {} is not an integer type", TypeKindName(kind)));
  }
}

// Scales a micros value for a millis/nanos representation, keeping the infinity
// sentinels.
int64_t MicrosTo(int64_t micros, int64_t divide, int64_t multiply) {
  if (micros == kTimestampInfinity || micros == kTimestampNegativeInfinity) {
    return micros;
  }
  if (divide > 1) {
    int64_t q = micros / divide;
    if (micros % divide != 0 && micros < 0) {
      --q;
    }
    return q;
  }
  return micros * multiply;
}

int64_t MicrosFrom(int64_t value, int64_t multiply, int64_t divide) {
  if (value == std::numeric_limits<int64_t>::max() ||
      value == std::numeric_limits<int64_t>::min()) {
    return value;
  }
  if (divide > 1) {
    int64_t q = value / divide;
    if (value % divide != 0 && value < 0) {
      --q;
    }
    return q;
  }
  return value * multiply;
}

Result<Decimal> DecimalForColumn(const Decimal& decimal,
                                 const DataType& type,
                                 const std::string& path) {
  if (type.variable_scale || !decimal.is_finite() || decimal.scale() == type.scale) {
    return decimal;
  }
  Result<Decimal> rescaled = decimal.Rescale(type.scale);
  if (!rescaled.ok()) {
    return FieldError(path, rescaled.status().message());
  }
  return std::move(*rescaled);
}

std::string ZonedTimeUtc(const ZonedTime& time) {
  int64_t utc =
      time.micros - static_cast<int64_t>(time.offset_seconds) * kMicrosPerSecond;
  utc %= kMicrosPerDay;
  if (utc < 0) {
    utc += kMicrosPerDay;
  }
  return FormatTime(utc) + "Z";
}

}  // namespace

std::string_view JsonTypeName(const OrderedJson& json) {
  switch (json.type()) {
    case OrderedJson::value_t::null:
      return "null";
    case OrderedJson::value_t::boolean:
      return "boolean";
    case OrderedJson::value_t::number_integer:
    case OrderedJson::value_t::number_unsigned:
      return "integer";
    case OrderedJson::value_t::number_float:
      return "number";
    case OrderedJson::value_t::string:
      return "string";
    case OrderedJson::value_t::array:
      return "array";
    case OrderedJson::value_t::object:
      return "object";
    default:
      return "value";
  }
}

ConnectMapping MappingFor(const DataType& type, DecimalHandling decimal_handling) {
  std::string_view name = type.connect_name;
  switch (type.kind) {
    case TypeKind::kBool:
      return {ConnectRepr::kBoolean, "boolean", name};
    case TypeKind::kInt8:
    case TypeKind::kInt16:
    case TypeKind::kUInt8:
      return {ConnectRepr::kInt16, "int16", name};
    case TypeKind::kInt32:
    case TypeKind::kUInt16:
      return {ConnectRepr::kInt32, "int32", name};
    case TypeKind::kInt64:
    case TypeKind::kUInt32:
      return {ConnectRepr::kInt64, "int64", name};
    case TypeKind::kUInt64:
      if (decimal_handling == DecimalHandling::kString) {
        return {ConnectRepr::kDecimalString, "string", ""};
      }
      return {ConnectRepr::kDecimalBytes, "bytes", kConnectDecimal};
    case TypeKind::kFloat:
      return {ConnectRepr::kFloat32, "float", name};
    case TypeKind::kDouble:
      return {ConnectRepr::kFloat64, "double", name};
    case TypeKind::kDecimal:
      if (decimal_handling == DecimalHandling::kString) {
        return {ConnectRepr::kDecimalString, "string", ""};
      }
      if (type.variable_scale || name == kVariableScaleDecimal) {
        return {ConnectRepr::kVariableDecimal, "struct", kVariableScaleDecimal};
      }
      return {ConnectRepr::kDecimalBytes, "bytes", kConnectDecimal};
    case TypeKind::kString:
      return {ConnectRepr::kString, "string", name};
    case TypeKind::kBytes:
      if (name == kDebeziumBits) {
        return {ConnectRepr::kBits, "bytes", name};
      }
      return {ConnectRepr::kBytes, "bytes", name};
    case TypeKind::kDate:
      return {ConnectRepr::kDateDays, "int32", kDebeziumDate};
    case TypeKind::kTime:
      if (name == kDebeziumTime ||
          (name.empty() && type.precision >= 0 && type.precision <= 3)) {
        return {ConnectRepr::kTimeMillis, "int32", kDebeziumTime};
      }
      if (name == kDebeziumNanoTime) {
        return {ConnectRepr::kTimeNanos, "int64", name};
      }
      return {ConnectRepr::kTimeMicros, "int64", kDebeziumMicroTime};
    case TypeKind::kTimeTz:
      return {ConnectRepr::kZonedTime, "string", kDebeziumZonedTime};
    case TypeKind::kTimestamp:
      if (name == kDebeziumTimestamp ||
          (name.empty() && type.precision >= 0 && type.precision <= 3)) {
        return {ConnectRepr::kTimestampMillis, "int64", kDebeziumTimestamp};
      }
      if (name == kDebeziumNanoTimestamp) {
        return {ConnectRepr::kTimestampNanos, "int64", name};
      }
      return {ConnectRepr::kTimestampMicros, "int64", kDebeziumMicroTimestamp};
    case TypeKind::kTimestampTz:
      return {ConnectRepr::kZonedTimestamp, "string", kDebeziumZonedTimestamp};
    case TypeKind::kInterval:
      if (name == kDebeziumInterval) {
        return {ConnectRepr::kIsoInterval, "string", name};
      }
      return {ConnectRepr::kMicroDuration, "int64", kDebeziumMicroDuration};
    case TypeKind::kUuid:
      return {ConnectRepr::kUuidString, "string", kDebeziumUuid};
    case TypeKind::kJson:
      return {ConnectRepr::kJsonString, "string", kDebeziumJson};
    case TypeKind::kEnum:
      return {ConnectRepr::kEnumString, "string",
              name == kDebeziumEnumSet ? name : kDebeziumEnum};
    case TypeKind::kArray:
      return {ConnectRepr::kArray, "array", name};
  }
  return {ConnectRepr::kString, "string", name};
}

OrderedJson ConnectSchemaFor(const DataType& type,
                             bool optional,
                             const DebeziumEncodeOptions& options) {
  ConnectMapping mapping = MappingFor(type, options.decimal_handling);
  OrderedJson schema = OrderedJson::object();
  schema["type"] = mapping.type;
  if (mapping.repr == ConnectRepr::kVariableDecimal) {
    // debezium-core io.debezium.data.VariableScaleDecimal.builder().
    schema["fields"] = OrderedJson::array(
        {OrderedJson{{"type", "int32"}, {"optional", false}, {"field", "scale"}},
         OrderedJson{{"type", "bytes"}, {"optional", false}, {"field", "value"}}});
  }
  if (mapping.repr == ConnectRepr::kArray) {
    DataType element = type.element ? *type.element : DataType::Of(TypeKind::kString);
    schema["items"] = ConnectSchemaFor(element, true, options);
  }
  schema["optional"] = optional;
  if (!mapping.name.empty()) {
    schema["name"] = std::string(mapping.name);
    schema["version"] = 1;
  }
  if (mapping.repr == ConnectRepr::kVariableDecimal) {
    schema["doc"] = "Variable scaled decimal";
  }
  OrderedJson parameters = OrderedJson::object();
  if (mapping.repr == ConnectRepr::kDecimalBytes) {
    if (type.kind == TypeKind::kUInt64) {
      parameters["scale"] = "0";
      parameters["connect.decimal.precision"] = "20";
    } else {
      parameters["scale"] = std::to_string(type.scale);
      if (type.precision >= 0) {
        parameters["connect.decimal.precision"] = std::to_string(type.precision);
      }
    }
  }
  if (mapping.repr == ConnectRepr::kEnumString) {
    parameters["allowed"] = Join(type.enum_values, ',');
  }
  // Debezium's column.propagate.source.type parameters carry what Connect types lose.
  if (!type.source_type.empty()) {
    parameters[std::string(kSourceColumnTypeParameter)] = type.source_type;
  }
  if (type.precision >= 0 && type.kind != TypeKind::kDecimal) {
    parameters[std::string(kSourceColumnLengthParameter)] =
        std::to_string(type.precision);
  }
  for (const auto& [key, value] : type.connect_parameters) {
    parameters[key] = value;
  }
  if (!parameters.empty()) {
    schema["parameters"] = std::move(parameters);
  }
  return schema;
}

Result<OrderedJson> ConnectFieldSchema(const Column& column,
                                       const DebeziumEncodeOptions& options) {
  OrderedJson schema = ConnectSchemaFor(column.type, column.nullable, options);
  if (column.default_value && !column.default_value->is_null()) {
    TRIB_ASSIGN_OR_RETURN(OrderedJson default_json,
                          EncodeConnectValue(*column.default_value, column.type, options,
                                             column.name + ".default"));
    schema["default"] = std::move(default_json);
  }
  schema["field"] = column.name;
  return schema;
}

std::string FieldPath::ToString() const {
  std::string out = parent != nullptr ? parent->ToString() : std::string();
  if (index) {
    out += fmt::format("[{}]", *index);
  } else {
    if (!out.empty()) {
      out.push_back('.');
    }
    out += name;
  }
  return out;
}

namespace {

// The minimal big-endian two's complement of `value` (Decimal::ToTwosComplement for the
// fast path, BigInteger.toByteArray()) into `bytes`; returns the length used.
size_t TwosComplement128(Int128 value, std::array<uint8_t, 16>& bytes) {
  UInt128 bits = static_cast<UInt128>(value);
  for (size_t idx = 16; idx-- > 0;) {
    bytes[idx] = static_cast<uint8_t>(bits & 0xff);
    bits >>= 8;
  }
  const size_t drop = RedundantSignBytes(bytes);
  if (drop > 0) {
    std::memmove(bytes.data(), bytes.data() + drop, 16 - drop);
  }
  return 16 - drop;
}

void WriteTwoDigits(char* out, int64_t value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

// io.debezium.time.ZonedTimestamp text, as FormatTimestamp(micros, "Z") writes it
// ("2024-01-31T10:00:00.5Z"), without allocating for years 0000-9999.
void WriteZonedTimestamp(JsonWriter& writer, int64_t micros) {
  if (micros == kTimestampInfinity || micros == kTimestampNegativeInfinity) {
    writer.LiteralString(micros == kTimestampInfinity ? "infinity" : "-infinity");
    return;
  }
  int64_t days = micros / kMicrosPerDay;
  if (micros % kMicrosPerDay < 0) {
    --days;
  }
  int64_t time_of_day = micros - days * kMicrosPerDay;
  CivilDate civil = CivilFromDays(static_cast<int32_t>(days));
  if (civil.year < 0 || civil.year > 9999) {
    writer.LiteralString(FormatTimestamp(micros, "Z"));
    return;
  }
  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  char text[28];
  WriteTwoDigits(text, civil.year / 100);
  WriteTwoDigits(text + 2, civil.year % 100);
  text[4] = '-';
  WriteTwoDigits(text + 5, civil.month);
  text[7] = '-';
  WriteTwoDigits(text + 8, civil.day);
  text[10] = 'T';
  int64_t seconds = time_of_day / kMicrosPerSecond;
  int64_t fraction = time_of_day % kMicrosPerSecond;
  WriteTwoDigits(text + 11, seconds / 3600);
  text[13] = ':';
  WriteTwoDigits(text + 14, (seconds / 60) % 60);
  text[16] = ':';
  WriteTwoDigits(text + 17, seconds % 60);
  size_t length = 19;
  if (fraction != 0) {
    text[length++] = '.';
    for (int64_t divisor = 100'000; divisor > 0 && fraction != 0; divisor /= 10) {
      text[length++] = static_cast<char>('0' + fraction / divisor);
      fraction %= divisor;
    }
  }
  text[length++] = 'Z';
  writer.LiteralString(std::string_view(text, length));
}

// Base64 of the decimal's two's complement, without allocating on the fast path.
void WriteDecimalBytes(JsonWriter& writer, const Decimal& decimal) {
  if (std::optional<Int128> unscaled = decimal.unscaled128()) {
    std::array<uint8_t, 16> bytes{};
    size_t length = TwosComplement128(*unscaled, bytes);
    writer.Base64(std::span<const uint8_t>(bytes.data(), length));
    return;
  }
  writer.Base64(decimal.ToTwosComplement());
}

Status WriteDecimalForColumn(JsonWriter& writer,
                             const Decimal& decimal,
                             const DataType& type,
                             const FieldPath& path) {
  if (type.variable_scale || decimal.scale() == type.scale) {
    WriteDecimalBytes(writer, decimal);
    return OkStatus();
  }
  TRIB_ASSIGN_OR_RETURN(Decimal rescaled,
                        DecimalForColumn(decimal, type, path.ToString()));
  WriteDecimalBytes(writer, rescaled);
  return OkStatus();
}

}  // namespace

Status WriteConnectValue(JsonWriter& writer,
                         const Value& value,
                         const DataType& type,
                         const DebeziumEncodeOptions& options,
                         const FieldPath& path) {
  if (value.is_null()) {
    writer.Null();
    return OkStatus();
  }
  ConnectMapping mapping = MappingFor(type, options.decimal_handling);
  if (value.is_unavailable()) {
    if (IsStringRepr(mapping.repr)) {
      writer.String(kDebeziumUnavailablePlaceholder);
    } else if (IsBytesRepr(mapping.repr)) {
      writer.Base64(PlaceholderBytes());
    } else if (mapping.repr == ConnectRepr::kVariableDecimal) {
      writer.BeginObject();
      writer.LiteralKey("scale");
      writer.Int(0);
      writer.LiteralKey("value");
      writer.Base64(PlaceholderBytes());
      writer.EndObject();
    } else if (mapping.repr == ConnectRepr::kArray) {
      writer.BeginArray();
      writer.String(kDebeziumUnavailablePlaceholder);
      writer.EndArray();
    } else {
      writer.Null();
    }
    return OkStatus();
  }
  if (value.kind() != ValueKindOf(type.kind)) {
    return FieldError(path.ToString(),
                      fmt::format("value {} does not match the column type {}",
                                  value.ToString(), type.ToString()));
  }
  switch (mapping.repr) {
    case ConnectRepr::kBoolean:
      writer.Bool(value.AsBool());
      return OkStatus();
    case ConnectRepr::kInt8:
    case ConnectRepr::kInt16:
    case ConnectRepr::kInt32:
    case ConnectRepr::kInt64:
      writer.Int(*value.ToInt64());
      return OkStatus();
    case ConnectRepr::kFloat32: {
      float v = value.AsFloat();
      if (std::isnan(v)) {
        writer.String("NaN");
      } else if (std::isinf(v)) {
        writer.String(v > 0 ? "Infinity" : "-Infinity");
      } else {
        // Jackson writes a Java float with its shortest float digits ("0.2", not
        // "0.20000000298023224"); go through the same digits.
        char digits[32];
        auto end = fmt::format_to_n(digits, sizeof(digits), "{}", v).out;
        double widened = 0;
        std::from_chars(digits, end, widened);
        writer.Double(widened);
      }
      return OkStatus();
    }
    case ConnectRepr::kFloat64: {
      double v = value.AsDouble();
      if (std::isnan(v)) {
        writer.String("NaN");
      } else if (std::isinf(v)) {
        writer.String(v > 0 ? "Infinity" : "-Infinity");
      } else {
        writer.Double(v);
      }
      return OkStatus();
    }
    case ConnectRepr::kString:
      writer.String(value.AsString());
      return OkStatus();
    case ConnectRepr::kBytes:
    case ConnectRepr::kBits:
      writer.Base64(value.AsBytes());
      return OkStatus();
    case ConnectRepr::kDecimalBytes: {
      if (type.kind == TypeKind::kUInt64) {
        WriteDecimalBytes(writer,
                          Decimal::FromInt128(static_cast<Int128>(value.AsUInt64()), 0));
        return OkStatus();
      }
      if (!value.AsDecimal().is_finite()) {
        writer.Null();
        return OkStatus();
      }
      return WriteDecimalForColumn(writer, value.AsDecimal(), type, path);
    }
    case ConnectRepr::kVariableDecimal: {
      const Decimal& decimal = value.AsDecimal();
      if (!decimal.is_finite()) {
        writer.Null();
        return OkStatus();
      }
      writer.BeginObject();
      writer.LiteralKey("scale");
      writer.Int(decimal.scale());
      writer.LiteralKey("value");
      WriteDecimalBytes(writer, decimal);
      writer.EndObject();
      return OkStatus();
    }
    case ConnectRepr::kDecimalString: {
      if (type.kind == TypeKind::kUInt64) {
        char digits[24];
        auto result = std::to_chars(digits, digits + sizeof(digits), value.AsUInt64());
        writer.String(std::string_view(digits, static_cast<size_t>(result.ptr - digits)));
        return OkStatus();
      }
      TRIB_ASSIGN_OR_RETURN(Decimal decimal,
                            DecimalForColumn(value.AsDecimal(), type, path.ToString()));
      writer.String(decimal.ToString());
      return OkStatus();
    }
    case ConnectRepr::kDateDays:
      writer.Int(value.AsDate());
      return OkStatus();
    case ConnectRepr::kTimeMillis:
      writer.Int(MicrosTo(value.AsTime(), 1000, 1));
      return OkStatus();
    case ConnectRepr::kTimeMicros:
      writer.Int(value.AsTime());
      return OkStatus();
    case ConnectRepr::kTimeNanos:
      writer.Int(MicrosTo(value.AsTime(), 1, 1000));
      return OkStatus();
    case ConnectRepr::kZonedTime:
      writer.String(ZonedTimeUtc(value.AsTimeTz()));
      return OkStatus();
    case ConnectRepr::kTimestampMillis:
      writer.Int(MicrosTo(value.AsTimestamp(), 1000, 1));
      return OkStatus();
    case ConnectRepr::kTimestampMicros:
      writer.Int(value.AsTimestamp());
      return OkStatus();
    case ConnectRepr::kTimestampNanos:
      writer.Int(MicrosTo(value.AsTimestamp(), 1, 1000));
      return OkStatus();
    case ConnectRepr::kZonedTimestamp:
      WriteZonedTimestamp(writer, value.AsTimestampTz());
      return OkStatus();
    case ConnectRepr::kMicroDuration: {
      const Interval& interval = value.AsInterval();
      writer.Int(static_cast<int64_t>(interval.months) * kMicrosPerAverageMonth +
                 static_cast<int64_t>(interval.days) * kMicrosPerDay + interval.micros);
      return OkStatus();
    }
    case ConnectRepr::kIsoInterval:
      writer.String(FormatIsoInterval(value.AsInterval()));
      return OkStatus();
    case ConnectRepr::kUuidString:
      writer.String(FormatUuid(value.AsUuid()));
      return OkStatus();
    case ConnectRepr::kJsonString:
      writer.String(value.AsJson());
      return OkStatus();
    case ConnectRepr::kEnumString:
      writer.String(value.AsEnum());
      return OkStatus();
    case ConnectRepr::kArray: {
      DataType element = type.element ? *type.element : DataType::Of(TypeKind::kString);
      const std::vector<Value>& elements = value.AsArray();
      writer.BeginArray();
      for (size_t idx = 0; idx < elements.size(); ++idx) {
        FieldPath element_path{&path, {}, idx};
        TRIB_RETURN_IF_ERROR(
            WriteConnectValue(writer, elements[idx], element, options, element_path));
      }
      writer.EndArray();
      return OkStatus();
    }
  }
  return FieldError(path.ToString(), "unsupported Connect representation");
}

Result<OrderedJson> EncodeConnectValue(const Value& value,
                                       const DataType& type,
                                       const DebeziumEncodeOptions& options,
                                       const std::string& path) {
  std::string text;
  JsonWriter writer(text);
  TRIB_RETURN_IF_ERROR(WriteConnectValue(writer, value, type, options,
                                         FieldPath{nullptr, path, std::nullopt}));
  if (!writer.ok()) {
    return FieldError(path, writer.error());
  }
  try {
    return OrderedJson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInternal,
                     "field '{}': re-reading the encoded value {}: {}", path, text,
                     e.what());
  }
}

Result<DataType> DataTypeFromConnectSchema(const OrderedJson& schema,
                                           const std::string& path) {
  if (!schema.is_object()) {
    return TypeMismatch(path, "a Connect schema object", schema);
  }
  auto type_it = schema.find("type");
  if (type_it == schema.end() || !type_it->is_string()) {
    return FieldError(path + ".type", "missing or not a string");
  }
  const std::string& connect_type = type_it->get_ref<const std::string&>();
  std::string name;
  if (auto it = schema.find("name"); it != schema.end() && it->is_string()) {
    name = it->get<std::string>();
  }
  std::map<std::string, std::string> parameters;
  if (auto it = schema.find("parameters"); it != schema.end() && !it->is_null()) {
    if (!it->is_object()) {
      return TypeMismatch(path + ".parameters", "an object", *it);
    }
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return TypeMismatch(path + ".parameters." + key, "a string", value);
      }
      parameters[key] = value.get<std::string>();
    }
  }
  auto take_parameter = [&](const std::string& key) -> std::optional<std::string> {
    auto it = parameters.find(key);
    if (it == parameters.end()) {
      return std::nullopt;
    }
    std::string value = it->second;
    parameters.erase(it);
    return value;
  };
  auto parse_int = [&](const std::string& text,
                       const std::string& field) -> Result<int32_t> {
    try {
      size_t used = 0;
      int value = std::stoi(text, &used);
      if (used != text.size()) {
        return FieldError(field, fmt::format("'{}' is not an integer", text));
      }
      return static_cast<int32_t>(value);
    } catch (const std::exception&) {
      return FieldError(field, fmt::format("'{}' is not an integer", text));
    }
  };

  DataType type;
  if (name == kConnectDecimal) {
    type = DataType::Decimal(-1, 0);
    std::optional<std::string> scale = take_parameter("scale");
    if (!scale) {
      return FieldError(path + ".parameters.scale", "missing for a Connect Decimal");
    }
    TRIB_ASSIGN_OR_RETURN(type.scale, parse_int(*scale, path + ".parameters.scale"));
    if (std::optional<std::string> precision =
            take_parameter("connect.decimal.precision")) {
      TRIB_ASSIGN_OR_RETURN(
          type.precision,
          parse_int(*precision, path + ".parameters.connect.decimal.precision"));
    }
  } else if (name == kVariableScaleDecimal) {
    type = DataType::VariableDecimal();
  } else if (name == kDebeziumDate) {
    type = DataType::Of(TypeKind::kDate);
  } else if (name == kDebeziumTime || name == kDebeziumMicroTime ||
             name == kDebeziumNanoTime) {
    type = DataType::Of(TypeKind::kTime);
  } else if (name == kDebeziumTimestamp || name == kDebeziumMicroTimestamp ||
             name == kDebeziumNanoTimestamp) {
    type = DataType::Of(TypeKind::kTimestamp);
  } else if (name == kDebeziumZonedTimestamp) {
    type = DataType::Of(TypeKind::kTimestampTz);
  } else if (name == kDebeziumZonedTime) {
    type = DataType::Of(TypeKind::kTimeTz);
  } else if (name == kDebeziumMicroDuration || name == kDebeziumInterval) {
    type = DataType::Of(TypeKind::kInterval);
  } else if (name == kDebeziumJson) {
    type = DataType::Of(TypeKind::kJson);
  } else if (name == kDebeziumUuid) {
    type = DataType::Of(TypeKind::kUuid);
  } else if (name == kDebeziumEnum || name == kDebeziumEnumSet) {
    std::optional<std::string> allowed = take_parameter("allowed");
    type = DataType::EnumOf(allowed ? Split(*allowed, ',') : std::vector<std::string>{});
  } else if (connect_type == "boolean") {
    type = DataType::Of(TypeKind::kBool);
  } else if (connect_type == "int8") {
    type = DataType::Of(TypeKind::kInt8);
  } else if (connect_type == "int16") {
    type = DataType::Of(TypeKind::kInt16);
  } else if (connect_type == "int32") {
    type = DataType::Of(TypeKind::kInt32);
  } else if (connect_type == "int64") {
    type = DataType::Of(TypeKind::kInt64);
  } else if (connect_type == "float") {
    type = DataType::Of(TypeKind::kFloat);
  } else if (connect_type == "double") {
    type = DataType::Of(TypeKind::kDouble);
  } else if (connect_type == "string") {
    type = DataType::Of(TypeKind::kString);
  } else if (connect_type == "bytes") {
    type = DataType::Of(TypeKind::kBytes);
  } else if (connect_type == "array") {
    auto items = schema.find("items");
    if (items == schema.end()) {
      return FieldError(path + ".items", "missing for an array schema");
    }
    TRIB_ASSIGN_OR_RETURN(DataType element,
                          DataTypeFromConnectSchema(*items, path + ".items"));
    type = DataType::ArrayOf(std::move(element));
  } else if (connect_type == "struct" || connect_type == "map") {
    // Geometry and other structured types: kept as JSON text.
    type = DataType::Of(TypeKind::kJson);
    name.clear();
    parameters.clear();
  } else {
    return FieldError(path + ".type",
                      fmt::format("unknown Connect type '{}'", connect_type));
  }
  if (std::optional<std::string> source_type =
          take_parameter(std::string(kSourceColumnTypeParameter))) {
    type.source_type = *source_type;
  }
  if (type.kind != TypeKind::kDecimal && type.kind != TypeKind::kJson) {
    if (std::optional<std::string> length =
            take_parameter(std::string(kSourceColumnLengthParameter))) {
      std::string length_path =
          path + ".parameters." + std::string(kSourceColumnLengthParameter);
      TRIB_ASSIGN_OR_RETURN(type.precision, parse_int(*length, length_path));
    }
  }
  // Keep the semantic name unless it is the default for the kind (so a decoded schema
  // compares equal to one built by hand) - except where the name picks a representation.
  if (!name.empty()) {
    DataType probe = type;
    probe.connect_name.clear();
    ConnectMapping default_mapping = MappingFor(probe, DecimalHandling::kPrecise);
    if (default_mapping.name != name || default_mapping.type != connect_type) {
      type.connect_name = name;
    }
  }
  type.connect_parameters = std::move(parameters);
  return type;
}

Result<Column> ColumnFromConnectField(const OrderedJson& field, const std::string& path) {
  if (!field.is_object()) {
    return TypeMismatch(path, "a Connect field schema", field);
  }
  auto name_it = field.find("field");
  if (name_it == field.end() || !name_it->is_string()) {
    return FieldError(path + ".field", "missing or not a string");
  }
  Column column;
  column.name = name_it->get<std::string>();
  std::string field_path = path + "(" + column.name + ")";
  TRIB_ASSIGN_OR_RETURN(column.type, DataTypeFromConnectSchema(field, field_path));
  if (auto it = field.find("optional"); it != field.end()) {
    if (!it->is_boolean()) {
      return TypeMismatch(field_path + ".optional", "a boolean", *it);
    }
    column.nullable = it->get<bool>();
  } else {
    column.nullable = false;  // Connect's SchemaBuilder default
  }
  if (auto it = field.find("default"); it != field.end() && !it->is_null()) {
    TRIB_ASSIGN_OR_RETURN(Value default_value,
                          DecodeConnectValue(*it, column.type, field_path + ".default"));
    column.default_value = std::move(default_value);
  }
  return column;
}

Result<Value> DecodeConnectValue(const OrderedJson& json,
                                 const DataType& type,
                                 const std::string& path,
                                 DecimalHandling decimal_handling) {
  if (json.is_null()) {
    return Value::Null();
  }
  ConnectMapping mapping = MappingFor(type, decimal_handling);
  if (IsStringRepr(mapping.repr) && json.is_string() &&
      json.get_ref<const std::string&>() == kDebeziumUnavailablePlaceholder) {
    return Value::Unavailable();
  }
  switch (mapping.repr) {
    case ConnectRepr::kBoolean:
      if (!json.is_boolean()) {
        return TypeMismatch(path, "boolean", json);
      }
      return Value::Bool(json.get<bool>());
    case ConnectRepr::kInt8:
    case ConnectRepr::kInt16:
    case ConnectRepr::kInt32:
    case ConnectRepr::kInt64:
      return MakeIntegerValue(type.kind, json, path);
    case ConnectRepr::kFloat32: {
      TRIB_ASSIGN_OR_RETURN(double v, ReadFloating(json, "float", path));
      return Value::Float(static_cast<float>(v));
    }
    case ConnectRepr::kFloat64: {
      TRIB_ASSIGN_OR_RETURN(double v, ReadFloating(json, "double", path));
      return Value::Double(v);
    }
    case ConnectRepr::kString: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text, ReadString(json, "string", path));
      return Value::String(*text);
    }
    case ConnectRepr::kBytes:
    case ConnectRepr::kBits: {
      TRIB_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBase64(json, path));
      if (bytes == PlaceholderBytes()) {
        return Value::Unavailable();
      }
      return Value::Binary(std::move(bytes));
    }
    case ConnectRepr::kDecimalBytes: {
      TRIB_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBase64(json, path));
      if (bytes == PlaceholderBytes()) {
        return Value::Unavailable();
      }
      Decimal decimal = Decimal::FromTwosComplement(
          bytes, type.kind == TypeKind::kDecimal ? type.scale : 0);
      if (type.kind == TypeKind::kUInt64) {
        std::optional<Int128> unscaled = decimal.unscaled128();
        if (!unscaled || *unscaled < 0 ||
            *unscaled > static_cast<Int128>(std::numeric_limits<uint64_t>::max())) {
          return FieldError(
              path, fmt::format("{} is out of range for uint64", decimal.ToString()));
        }
        return Value::UInt64(static_cast<uint64_t>(*unscaled));
      }
      return Value::Numeric(std::move(decimal));
    }
    case ConnectRepr::kVariableDecimal: {
      if (!json.is_object()) {
        return TypeMismatch(path, "a VariableScaleDecimal struct {scale, value}", json);
      }
      auto scale_it = json.find("scale");
      auto value_it = json.find("value");
      if (scale_it == json.end() || value_it == json.end()) {
        return FieldError(path, "VariableScaleDecimal needs 'scale' and 'value'");
      }
      TRIB_ASSIGN_OR_RETURN(int64_t scale,
                            ReadIntegerOf<int32_t>(*scale_it, "int32", path + ".scale"));
      TRIB_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            ReadBase64(*value_it, path + ".value"));
      if (bytes == PlaceholderBytes()) {
        return Value::Unavailable();
      }
      return Value::Numeric(
          Decimal::FromTwosComplement(bytes, static_cast<int32_t>(scale)));
    }
    case ConnectRepr::kDecimalString: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text,
                            ReadString(json, "decimal string", path));
      if (type.kind == TypeKind::kUInt64) {
        try {
          size_t used = 0;
          uint64_t v = std::stoull(*text, &used);
          if (used == text->size() && (*text)[0] != '-') {
            return Value::UInt64(v);
          }
        } catch (const std::exception&) {
        }
        return FieldError(path, fmt::format("'{}' is not a uint64", *text));
      }
      Result<Decimal> decimal = Decimal::FromString(*text);
      if (!decimal.ok()) {
        return FieldError(path, decimal.status().message());
      }
      return Value::Numeric(std::move(*decimal));
    }
    case ConnectRepr::kDateDays: {
      TRIB_ASSIGN_OR_RETURN(int64_t days,
                            ReadIntegerOf<int32_t>(json, "int32 days", path));
      return Value::Date(static_cast<int32_t>(days));
    }
    case ConnectRepr::kTimeMillis: {
      TRIB_ASSIGN_OR_RETURN(int64_t millis,
                            ReadIntegerOf<int32_t>(json, "int32 millis", path));
      return Value::Time(millis * 1000);
    }
    case ConnectRepr::kTimeMicros: {
      TRIB_ASSIGN_OR_RETURN(int64_t micros,
                            ReadIntegerOf<int64_t>(json, "int64 micros", path));
      return Value::Time(micros);
    }
    case ConnectRepr::kTimeNanos: {
      TRIB_ASSIGN_OR_RETURN(int64_t nanos,
                            ReadIntegerOf<int64_t>(json, "int64 nanos", path));
      return Value::Time(MicrosFrom(nanos, 1, 1000));
    }
    case ConnectRepr::kZonedTime: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text, ReadString(json, "ISO time", path));
      Result<ZonedTime> time = ParseTimeTz(*text);
      if (!time.ok()) {
        return FieldError(path, time.status().message());
      }
      return Value::TimeTz(time->micros, time->offset_seconds);
    }
    case ConnectRepr::kTimestampMillis: {
      TRIB_ASSIGN_OR_RETURN(int64_t millis,
                            ReadIntegerOf<int64_t>(json, "int64 millis", path));
      if (millis == std::numeric_limits<int64_t>::max() ||
          millis == std::numeric_limits<int64_t>::min()) {
        return Value::Timestamp(millis);
      }
      if (millis > std::numeric_limits<int64_t>::max() / 1000 ||
          millis < std::numeric_limits<int64_t>::min() / 1000) {
        return FieldError(path, fmt::format("{} ms is out of range", millis));
      }
      return Value::Timestamp(millis * 1000);
    }
    case ConnectRepr::kTimestampMicros: {
      TRIB_ASSIGN_OR_RETURN(int64_t micros,
                            ReadIntegerOf<int64_t>(json, "int64 micros", path));
      return Value::Timestamp(micros);
    }
    case ConnectRepr::kTimestampNanos: {
      TRIB_ASSIGN_OR_RETURN(int64_t nanos,
                            ReadIntegerOf<int64_t>(json, "int64 nanos", path));
      return Value::Timestamp(MicrosFrom(nanos, 1, 1000));
    }
    case ConnectRepr::kZonedTimestamp: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text,
                            ReadString(json, "ISO timestamp", path));
      Result<int64_t> micros = ParseTimestamp(*text);
      if (!micros.ok()) {
        return FieldError(path, micros.status().message());
      }
      return Value::TimestampTz(*micros);
    }
    case ConnectRepr::kMicroDuration: {
      if (json.is_number_float()) {
        // Debezium before 1.0 wrote MicroDuration as a float64.
        double micros = json.get<double>();
        if (!std::isfinite(micros) || std::fabs(micros) > 9.2e18) {
          return FieldError(path, fmt::format("{} us is out of range", micros));
        }
        return Value::FromInterval(
            Interval{0, 0, static_cast<int64_t>(std::llround(micros))});
      }
      TRIB_ASSIGN_OR_RETURN(int64_t micros,
                            ReadIntegerOf<int64_t>(json, "int64 micros", path));
      return Value::FromInterval(Interval{0, 0, micros});
    }
    case ConnectRepr::kIsoInterval: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text,
                            ReadString(json, "ISO duration", path));
      Result<Interval> interval = ParseIsoInterval(*text);
      if (!interval.ok()) {
        return FieldError(path, interval.status().message());
      }
      return Value::FromInterval(*interval);
    }
    case ConnectRepr::kUuidString: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text,
                            ReadString(json, "UUID string", path));
      Result<UuidBytes> uuid = ParseUuid(*text);
      if (!uuid.ok()) {
        return FieldError(path, uuid.status().message());
      }
      return Value::Uuid(*uuid);
    }
    case ConnectRepr::kJsonString: {
      if (json.is_object() || json.is_array()) {
        // A struct/map schema read as kJson keeps the payload as JSON text.
        return Value::Json(json.dump());
      }
      TRIB_ASSIGN_OR_RETURN(const std::string* text, ReadString(json, "JSON text", path));
      return Value::Json(*text);
    }
    case ConnectRepr::kEnumString: {
      TRIB_ASSIGN_OR_RETURN(const std::string* text,
                            ReadString(json, "enum label", path));
      return Value::Enum(*text);
    }
    case ConnectRepr::kArray: {
      if (!json.is_array()) {
        return TypeMismatch(path, "array", json);
      }
      if (json.size() == 1 && json[0].is_string() &&
          json[0].get_ref<const std::string&>() == kDebeziumUnavailablePlaceholder) {
        return Value::Unavailable();
      }
      DataType element = type.element ? *type.element : DataType::Of(TypeKind::kString);
      std::vector<Value> elements;
      elements.reserve(json.size());
      for (size_t idx = 0; idx < json.size(); ++idx) {
        TRIB_ASSIGN_OR_RETURN(
            Value item,
            DecodeConnectValue(json[idx], element, fmt::format("{}[{}]", path, idx),
                               decimal_handling));
        elements.push_back(std::move(item));
      }
      return Value::Array(std::move(elements));
    }
  }
  return FieldError(path, "unsupported Connect representation");
}

std::optional<DataType> InferDataType(const OrderedJson& json) {
  switch (json.type()) {
    case OrderedJson::value_t::boolean:
      return DataType::Of(TypeKind::kBool);
    case OrderedJson::value_t::number_integer:
      return DataType::Of(TypeKind::kInt64);
    case OrderedJson::value_t::number_unsigned:
      return json.get<uint64_t>() >
                     static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? DataType::Of(TypeKind::kUInt64)
                 : DataType::Of(TypeKind::kInt64);
    case OrderedJson::value_t::number_float:
      return DataType::Of(TypeKind::kDouble);
    case OrderedJson::value_t::string:
      return DataType::Of(TypeKind::kString);
    case OrderedJson::value_t::array: {
      std::optional<DataType> element;
      for (const OrderedJson& item : json) {
        std::optional<DataType> item_type = InferDataType(item);
        if (!item_type) {
          continue;
        }
        element = element ? MergeInferredTypes(*element, *item_type) : item_type;
        if (!element) {
          return DataType::Of(TypeKind::kJson);
        }
      }
      DataType array =
          DataType::ArrayOf(element ? *element : DataType::Of(TypeKind::kString));
      if (!element) {
        // Unknown element type: let a later row decide (see MergeInferredTypes).
        array.source_type = "?";
      }
      return array;
    }
    case OrderedJson::value_t::object:
      return DataType::Of(TypeKind::kJson);
    default:
      return std::nullopt;
  }
}

std::optional<DataType> MergeInferredTypes(const DataType& a, const DataType& b) {
  if (a.kind == TypeKind::kArray && b.kind == TypeKind::kArray) {
    if (a.source_type == "?") {
      return b;
    }
    if (b.source_type == "?") {
      return a;
    }
    std::optional<DataType> element = MergeInferredTypes(*a.element, *b.element);
    if (!element) {
      return std::nullopt;
    }
    return DataType::ArrayOf(*element);
  }
  if (a == b) {
    return a;
  }
  auto numeric = [](const DataType& t) {
    return t.kind == TypeKind::kInt64 || t.kind == TypeKind::kUInt64 ||
           t.kind == TypeKind::kDouble;
  };
  if (numeric(a) && numeric(b)) {
    return DataType::Of(TypeKind::kDouble);
  }
  return std::nullopt;
}

Result<Value> DecodeSchemalessValue(const OrderedJson& json,
                                    const DataType& type,
                                    const std::string& path) {
  if (json.is_null()) {
    return Value::Null();
  }
  if (json.is_string() &&
      json.get_ref<const std::string&>() == kDebeziumUnavailablePlaceholder) {
    return Value::Unavailable();
  }
  switch (type.kind) {
    case TypeKind::kBool:
    case TypeKind::kString:
      return DecodeConnectValue(json, type, path);
    case TypeKind::kInt64:
    case TypeKind::kUInt64:
      return MakeIntegerValue(type.kind, json, path);
    case TypeKind::kDouble: {
      TRIB_ASSIGN_OR_RETURN(double v, ReadFloating(json, "number", path));
      return Value::Double(v);
    }
    case TypeKind::kJson:
      return Value::Json(json.dump());
    case TypeKind::kArray: {
      if (!json.is_array()) {
        return TypeMismatch(path, "array", json);
      }
      if (json.size() == 1 && json[0].is_string() &&
          json[0].get_ref<const std::string&>() == kDebeziumUnavailablePlaceholder) {
        return Value::Unavailable();
      }
      std::vector<Value> elements;
      for (size_t idx = 0; idx < json.size(); ++idx) {
        TRIB_ASSIGN_OR_RETURN(Value item,
                              DecodeSchemalessValue(json[idx], *type.element,
                                                    fmt::format("{}[{}]", path, idx)));
        elements.push_back(std::move(item));
      }
      return Value::Array(std::move(elements));
    }
    default:
      return FieldError(
          path, fmt::format("cannot read a schemaless value as {}", type.ToString()));
  }
}

}  // namespace tributary::core::internal
