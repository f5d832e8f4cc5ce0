#include "core/value.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <ostream>

#include <fmt/format.h>

#include "core/check.h"

namespace tributary::core {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

std::string QuoteString(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    unsigned char uch = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (uch < 0x20) {
      out += fmt::format("\\x{:02x}", uch);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string HexBytes(const Bytes& bytes) {
  std::string out = "0x";
  for (uint8_t byte : bytes) {
    out += fmt::format("{:02x}", byte);
  }
  return out;
}

// A tiny cursor over text for the date/time parsers.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool Consume(char ch) {
    if (peek() == ch) {
      ++pos_;
      return true;
    }
    return false;
  }
  /// Reads between min and max digits; false if fewer than min.
  bool Digits(size_t min, size_t max, int64_t* value) {
    size_t start = pos_;
    int64_t result = 0;
    while (pos_ < text_.size() && pos_ - start < max && text_[pos_] >= '0' &&
           text_[pos_] <= '9') {
      result = result * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    *value = result;
    return pos_ - start >= min;
  }
  /// Reads a fraction after '.', returning micros (truncating beyond 6 digits).
  bool FractionMicros(int64_t* micros) {
    size_t start = pos_;
    int64_t result = 0;
    size_t count = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 6) {
        result = result * 10 + (text_[pos_] - '0');
      }
      ++count;
      ++pos_;
    }
    for (size_t pad = count; pad < 6; ++pad) {
      result *= 10;
    }
    *micros = result;
    return pos_ > start && count <= 9;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

uint32_t DaysInMonth(int64_t year, int64_t month) {
  static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool ParseDateAt(Cursor& cursor, int64_t* days) {
  bool negative = false;
  if (cursor.peek() == '-' || cursor.peek() == '+') {
    negative = cursor.peek() == '-';
    cursor.Consume(cursor.peek());
  }
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!cursor.Digits(4, 9, &year) || !cursor.Consume('-') ||
      !cursor.Digits(2, 2, &month) || !cursor.Consume('-') ||
      !cursor.Digits(2, 2, &day)) {
    return false;
  }
  if (negative) {
    year = -year;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return false;
  }
  *days = DaysFromCivil(static_cast<int32_t>(year), static_cast<uint32_t>(month),
                        static_cast<uint32_t>(day));
  return true;
}

bool ParseTimeAt(Cursor& cursor, int64_t* micros) {
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t fraction = 0;
  if (!cursor.Digits(2, 2, &hour) || !cursor.Consume(':') ||
      !cursor.Digits(2, 2, &minute)) {
    return false;
  }
  if (cursor.Consume(':')) {
    if (!cursor.Digits(2, 2, &second)) {
      return false;
    }
    if (cursor.Consume('.') && !cursor.FractionMicros(&fraction)) {
      return false;
    }
  }
  if (hour > 24 || minute > 59 || second > 60) {
    return false;
  }
  *micros = ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
  return *micros <= kMicrosPerDay;
}

/// Reads "Z", "+hh", "+hh:mm", "+hhmm", "+hh:mm:ss". False when no valid zone follows.
bool ParseZoneAt(Cursor& cursor, int32_t* offset_seconds) {
  if (cursor.Consume('Z') || cursor.Consume('z')) {
    *offset_seconds = 0;
    return true;
  }
  char sign = cursor.peek();
  if (sign != '+' && sign != '-') {
    return false;
  }
  cursor.Consume(sign);
  int64_t hours = 0;
  int64_t minutes = 0;
  int64_t seconds = 0;
  if (!cursor.Digits(2, 2, &hours)) {
    return false;
  }
  bool colon = cursor.Consume(':');
  if (colon || (cursor.peek() >= '0' && cursor.peek() <= '9')) {
    if (!cursor.Digits(2, 2, &minutes)) {
      return false;
    }
    if (cursor.Consume(':') && !cursor.Digits(2, 2, &seconds)) {
      return false;
    }
  }
  if (hours > 18 || minutes > 59 || seconds > 59) {
    return false;
  }
  int64_t total = hours * 3600 + minutes * 60 + seconds;
  *offset_seconds = static_cast<int32_t>(sign == '-' ? -total : total);
  return true;
}

}  // namespace

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kUnavailable:
      return "unavailable";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt8:
      return "int8";
    case ValueKind::kInt16:
      return "int16";
    case ValueKind::kInt32:
      return "int32";
    case ValueKind::kInt64:
      return "int64";
    case ValueKind::kUInt8:
      return "uint8";
    case ValueKind::kUInt16:
      return "uint16";
    case ValueKind::kUInt32:
      return "uint32";
    case ValueKind::kUInt64:
      return "uint64";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kString:
      return "string";
    case ValueKind::kBytes:
      return "bytes";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kTime:
      return "time";
    case ValueKind::kTimeTz:
      return "timetz";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kTimestampTz:
      return "timestamptz";
    case ValueKind::kInterval:
      return "interval";
    case ValueKind::kUuid:
      return "uuid";
    case ValueKind::kJson:
      return "json";
    case ValueKind::kEnum:
      return "enum";
    case ValueKind::kArray:
      return "array";
  }
  return "unknown";
}

bool value_internal::Array::operator==(const Array& other) const {
  return *elements == *other.elements;
}

Value Value::Unavailable() {
  return Value(Data(value_internal::Unavailable{}));
}
Value Value::Bool(bool v) {
  return Value(Data(std::in_place_type<bool>, v));
}
Value Value::Int8(int8_t v) {
  return Value(Data(std::in_place_type<int8_t>, v));
}
Value Value::Int16(int16_t v) {
  return Value(Data(std::in_place_type<int16_t>, v));
}
Value Value::Int32(int32_t v) {
  return Value(Data(std::in_place_type<int32_t>, v));
}
Value Value::Int64(int64_t v) {
  return Value(Data(std::in_place_type<int64_t>, v));
}
Value Value::UInt8(uint8_t v) {
  return Value(Data(std::in_place_type<uint8_t>, v));
}
Value Value::UInt16(uint16_t v) {
  return Value(Data(std::in_place_type<uint16_t>, v));
}
Value Value::UInt32(uint32_t v) {
  return Value(Data(std::in_place_type<uint32_t>, v));
}
Value Value::UInt64(uint64_t v) {
  return Value(Data(std::in_place_type<uint64_t>, v));
}
Value Value::Float(float v) {
  return Value(Data(std::in_place_type<float>, v));
}
Value Value::Double(double v) {
  return Value(Data(std::in_place_type<double>, v));
}
Value Value::Numeric(core::Decimal v) {
  return Value(Data(std::in_place_type<core::Decimal>, std::move(v)));
}
Value Value::String(std::string v) {
  return Value(Data(std::in_place_type<std::string>, std::move(v)));
}
Value Value::Binary(core::Bytes v) {
  return Value(Data(std::in_place_type<core::Bytes>, std::move(v)));
}
Value Value::Date(int32_t days) {
  return Value(Data(value_internal::Date{days}));
}
Value Value::Time(int64_t micros) {
  return Value(Data(value_internal::Time{micros}));
}
Value Value::TimeTz(int64_t micros, int32_t offset_seconds) {
  return Value(Data(ZonedTime{micros, offset_seconds}));
}
Value Value::Timestamp(int64_t micros) {
  return Value(Data(value_internal::Timestamp{micros}));
}
Value Value::TimestampTz(int64_t micros) {
  return Value(Data(value_internal::TimestampTz{micros}));
}
Value Value::FromInterval(core::Interval v) {
  return Value(Data(v));
}
Value Value::Uuid(const UuidBytes& v) {
  return Value(Data(value_internal::Uuid{v}));
}
Value Value::Json(std::string text) {
  return Value(Data(value_internal::Json{std::move(text)}));
}
Value Value::Enum(std::string label) {
  return Value(Data(value_internal::Enum{std::move(label)}));
}
Value Value::Array(std::vector<Value> elements) {
  return Value(Data(value_internal::Array{
      std::make_shared<const std::vector<Value>>(std::move(elements))}));
}

void Value::CheckKind(ValueKind expected) const {
  TRIB_CHECK(kind() == expected,
             "Value of kind {} read as {}: a caller did not check kind()",
             ValueKindName(kind()), ValueKindName(expected));
}

bool Value::AsBool() const {
  CheckKind(ValueKind::kBool);
  return std::get<bool>(data_);
}
int8_t Value::AsInt8() const {
  CheckKind(ValueKind::kInt8);
  return std::get<int8_t>(data_);
}
int16_t Value::AsInt16() const {
  CheckKind(ValueKind::kInt16);
  return std::get<int16_t>(data_);
}
int32_t Value::AsInt32() const {
  CheckKind(ValueKind::kInt32);
  return std::get<int32_t>(data_);
}
int64_t Value::AsInt64() const {
  CheckKind(ValueKind::kInt64);
  return std::get<int64_t>(data_);
}
uint8_t Value::AsUInt8() const {
  CheckKind(ValueKind::kUInt8);
  return std::get<uint8_t>(data_);
}
uint16_t Value::AsUInt16() const {
  CheckKind(ValueKind::kUInt16);
  return std::get<uint16_t>(data_);
}
uint32_t Value::AsUInt32() const {
  CheckKind(ValueKind::kUInt32);
  return std::get<uint32_t>(data_);
}
uint64_t Value::AsUInt64() const {
  CheckKind(ValueKind::kUInt64);
  return std::get<uint64_t>(data_);
}
float Value::AsFloat() const {
  CheckKind(ValueKind::kFloat);
  return std::get<float>(data_);
}
double Value::AsDouble() const {
  CheckKind(ValueKind::kDouble);
  return std::get<double>(data_);
}
const core::Decimal& Value::AsDecimal() const {
  CheckKind(ValueKind::kDecimal);
  return std::get<core::Decimal>(data_);
}
const std::string& Value::AsString() const {
  CheckKind(ValueKind::kString);
  return std::get<std::string>(data_);
}
const core::Bytes& Value::AsBytes() const {
  CheckKind(ValueKind::kBytes);
  return std::get<core::Bytes>(data_);
}
int32_t Value::AsDate() const {
  CheckKind(ValueKind::kDate);
  return std::get<value_internal::Date>(data_).days;
}
int64_t Value::AsTime() const {
  CheckKind(ValueKind::kTime);
  return std::get<value_internal::Time>(data_).micros;
}
const ZonedTime& Value::AsTimeTz() const {
  CheckKind(ValueKind::kTimeTz);
  return std::get<ZonedTime>(data_);
}
int64_t Value::AsTimestamp() const {
  CheckKind(ValueKind::kTimestamp);
  return std::get<value_internal::Timestamp>(data_).micros;
}
int64_t Value::AsTimestampTz() const {
  CheckKind(ValueKind::kTimestampTz);
  return std::get<value_internal::TimestampTz>(data_).micros;
}
const core::Interval& Value::AsInterval() const {
  CheckKind(ValueKind::kInterval);
  return std::get<core::Interval>(data_);
}
const UuidBytes& Value::AsUuid() const {
  CheckKind(ValueKind::kUuid);
  return std::get<value_internal::Uuid>(data_).bytes;
}
const std::string& Value::AsJson() const {
  CheckKind(ValueKind::kJson);
  return std::get<value_internal::Json>(data_).text;
}
const std::string& Value::AsEnum() const {
  CheckKind(ValueKind::kEnum);
  return std::get<value_internal::Enum>(data_).label;
}
const std::vector<Value>& Value::AsArray() const {
  CheckKind(ValueKind::kArray);
  return *std::get<value_internal::Array>(data_).elements;
}

std::optional<int64_t> Value::ToInt64() const {
  switch (kind()) {
    case ValueKind::kInt8:
      return AsInt8();
    case ValueKind::kInt16:
      return AsInt16();
    case ValueKind::kInt32:
      return AsInt32();
    case ValueKind::kInt64:
      return AsInt64();
    case ValueKind::kUInt8:
      return AsUInt8();
    case ValueKind::kUInt16:
      return AsUInt16();
    case ValueKind::kUInt32:
      return AsUInt32();
    case ValueKind::kUInt64:
      if (AsUInt64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<int64_t>(AsUInt64());
    default:
      return std::nullopt;
  }
}

std::optional<double> Value::ToDouble() const {
  switch (kind()) {
    case ValueKind::kFloat:
      return static_cast<double>(AsFloat());
    case ValueKind::kDouble:
      return AsDouble();
    case ValueKind::kUInt64:
      return static_cast<double>(AsUInt64());
    default: {
      std::optional<int64_t> integer = ToInt64();
      if (integer) {
        return static_cast<double>(*integer);
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string_view> Value::ToText() const {
  switch (kind()) {
    case ValueKind::kString:
      return AsString();
    case ValueKind::kJson:
      return AsJson();
    case ValueKind::kEnum:
      return AsEnum();
    default:
      return std::nullopt;
  }
}

std::string Value::ToString() const {
  std::string_view name = ValueKindName(kind());
  switch (kind()) {
    case ValueKind::kNull:
    case ValueKind::kUnavailable:
      return std::string(name);
    case ValueKind::kBool:
      return fmt::format("bool {}", AsBool());
    case ValueKind::kInt8:
      return fmt::format("int8 {}", static_cast<int>(AsInt8()));
    case ValueKind::kInt16:
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kUInt8:
    case ValueKind::kUInt16:
    case ValueKind::kUInt32:
      return fmt::format("{} {}", name, *ToInt64());
    case ValueKind::kUInt64:
      return fmt::format("uint64 {}", AsUInt64());
    case ValueKind::kFloat:
      return fmt::format("float {}", AsFloat());
    case ValueKind::kDouble:
      return fmt::format("double {}", AsDouble());
    case ValueKind::kDecimal:
      return fmt::format("decimal {}", AsDecimal().ToString());
    case ValueKind::kString:
      return fmt::format("string {}", QuoteString(AsString()));
    case ValueKind::kBytes:
      return fmt::format("bytes {}", HexBytes(AsBytes()));
    case ValueKind::kDate:
      return fmt::format("date {}", FormatDate(AsDate()));
    case ValueKind::kTime:
      return fmt::format("time {}", FormatTime(AsTime()));
    case ValueKind::kTimeTz:
      return fmt::format("timetz {}{}", FormatTime(AsTimeTz().micros),
                         FormatZoneOffset(AsTimeTz().offset_seconds, false));
    case ValueKind::kTimestamp:
      return fmt::format("timestamp {}", FormatTimestamp(AsTimestamp()));
    case ValueKind::kTimestampTz:
      return fmt::format("timestamptz {}", FormatTimestamp(AsTimestampTz(), "Z"));
    case ValueKind::kInterval: {
      const core::Interval& interval = AsInterval();
      return fmt::format("interval {} months {} days {} us", interval.months,
                         interval.days, interval.micros);
    }
    case ValueKind::kUuid:
      return fmt::format("uuid {}", FormatUuid(AsUuid()));
    case ValueKind::kJson:
      return fmt::format("json {}", AsJson());
    case ValueKind::kEnum:
      return fmt::format("enum {}", QuoteString(AsEnum()));
    case ValueKind::kArray: {
      std::string out = "array [";
      bool first = true;
      for (const Value& element : AsArray()) {
        if (!first) {
          out += ", ";
        }
        first = false;
        out += element.ToString();
      }
      out += "]";
      return out;
    }
  }
  return std::string(name);
}

bool Value::operator==(const Value& other) const {
  if (kind() != other.kind()) {
    return false;
  }
  // NaN equals NaN here so that decoded events compare equal to what was encoded.
  if (kind() == ValueKind::kDouble) {
    double a = AsDouble();
    double b = other.AsDouble();
    return a == b || (std::isnan(a) && std::isnan(b));
  }
  if (kind() == ValueKind::kFloat) {
    float a = AsFloat();
    float b = other.AsFloat();
    return a == b || (std::isnan(a) && std::isnan(b));
  }
  return data_ == other.data_;
}

std::ostream& operator<<(std::ostream& out, const Value& value) {
  return out << value.ToString();
}

int32_t DaysFromCivil(int32_t year, uint32_t month, uint32_t day) {
  int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t m = static_cast<int64_t>(month);
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<int64_t>(day) - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int32_t>(era * 146097 + doe - 719468);
}

CivilDate CivilFromDays(int32_t days) {
  int64_t z = static_cast<int64_t>(days) + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int32_t>(y + (m <= 2 ? 1 : 0)), static_cast<uint32_t>(m),
                   static_cast<uint32_t>(d)};
}

std::string FormatDate(int32_t days) {
  if (days == kDateInfinity) {
    return "infinity";
  }
  if (days == kDateNegativeInfinity) {
    return "-infinity";
  }
  CivilDate civil = CivilFromDays(days);
  std::string year;
  if (civil.year < 0) {
    year = fmt::format("-{:04d}", -static_cast<int64_t>(civil.year));
  } else if (civil.year > 9999) {
    year = fmt::format("+{}", civil.year);
  } else {
    year = fmt::format("{:04d}", civil.year);
  }
  return fmt::format("{}-{:02d}-{:02d}", year, civil.month, civil.day);
}

std::string FormatTime(int64_t micros) {
  int64_t seconds = FloorDiv(micros, kMicrosPerSecond);
  int64_t fraction = micros - seconds * kMicrosPerSecond;
  std::string out = fmt::format("{:02d}:{:02d}:{:02d}", seconds / 3600,
                                (seconds / 60) % 60, seconds % 60);
  if (fraction != 0) {
    std::string digits = fmt::format("{:06d}", fraction);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

std::string FormatTimestamp(int64_t micros, std::string_view zone_suffix) {
  if (micros == kTimestampInfinity) {
    return "infinity";
  }
  if (micros == kTimestampNegativeInfinity) {
    return "-infinity";
  }
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t time_of_day = micros - days * kMicrosPerDay;
  return fmt::format("{}T{}{}", FormatDate(static_cast<int32_t>(days)),
                     FormatTime(time_of_day), zone_suffix);
}

std::string FormatZoneOffset(int32_t offset_seconds, bool z_for_utc) {
  if (offset_seconds == 0 && z_for_utc) {
    return "Z";
  }
  int64_t total = std::abs(static_cast<int64_t>(offset_seconds));
  std::string out = fmt::format("{}{:02d}:{:02d}", offset_seconds < 0 ? '-' : '+',
                                total / 3600, (total / 60) % 60);
  if (total % 60 != 0) {
    out += fmt::format(":{:02d}", total % 60);
  }
  return out;
}

Result<int32_t> ParseDate(std::string_view text) {
  if (text == "infinity" || text == "+infinity") {
    return kDateInfinity;
  }
  if (text == "-infinity") {
    return kDateNegativeInfinity;
  }
  Cursor cursor(text);
  int64_t days = 0;
  if (!ParseDateAt(cursor, &days) || !cursor.done()) {
    return MakeError(ErrorCode::kInvalidArgument, "'{}' is not a date (YYYY-MM-DD)",
                     text);
  }
  return static_cast<int32_t>(days);
}

Result<int64_t> ParseTime(std::string_view text) {
  Cursor cursor(text);
  int64_t micros = 0;
  if (!ParseTimeAt(cursor, &micros) || !cursor.done()) {
    return MakeError(ErrorCode::kInvalidArgument, "'{}' is not a time (HH:MM:SS[.f])",
                     text);
  }
  return micros;
}

Result<ZonedTime> ParseTimeTz(std::string_view text) {
  Cursor cursor(text);
  int64_t micros = 0;
  int32_t offset = 0;
  if (!ParseTimeAt(cursor, &micros) || !ParseZoneAt(cursor, &offset) || !cursor.done()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'{}' is not a time with zone (HH:MM:SS[.f]+hh:mm or Z)", text);
  }
  return ZonedTime{micros, offset};
}

Result<int64_t> ParseTimestamp(std::string_view text, int32_t* offset_seconds) {
  if (text == "infinity" || text == "+infinity") {
    return kTimestampInfinity;
  }
  if (text == "-infinity") {
    return kTimestampNegativeInfinity;
  }
  Cursor cursor(text);
  int64_t days = 0;
  int64_t micros = 0;
  int32_t offset = 0;
  bool ok = ParseDateAt(cursor, &days) && (cursor.Consume('T') || cursor.Consume(' ')) &&
            ParseTimeAt(cursor, &micros);
  if (ok && !cursor.done()) {
    ok = ParseZoneAt(cursor, &offset) && cursor.done();
  }
  if (!ok) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'{}' is not a timestamp (YYYY-MM-DDTHH:MM:SS[.f][zone])", text);
  }
  if (offset_seconds != nullptr) {
    *offset_seconds = offset;
  }
  return days * kMicrosPerDay + micros - static_cast<int64_t>(offset) * kMicrosPerSecond;
}

std::string FormatUuid(const UuidBytes& uuid) {
  std::string out;
  out.reserve(36);
  for (size_t idx = 0; idx < uuid.size(); ++idx) {
    if (idx == 4 || idx == 6 || idx == 8 || idx == 10) {
      out.push_back('-');
    }
    out += fmt::format("{:02x}", uuid[idx]);
  }
  return out;
}

Result<UuidBytes> ParseUuid(std::string_view text) {
  auto invalid = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'{}' is not a UUID (8-4-4-4-12 hex digits)", text);
  };
  if (text.size() != 36) {
    return invalid();
  }
  UuidBytes out{};
  size_t byte_idx = 0;
  for (size_t idx = 0; idx < text.size();) {
    if (idx == 8 || idx == 13 || idx == 18 || idx == 23) {
      if (text[idx] != '-') {
        return invalid();
      }
      ++idx;
      continue;
    }
    int value = 0;
    for (size_t nibble = 0; nibble < 2; ++nibble, ++idx) {
      char ch = text[idx];
      int digit = 0;
      if (ch >= '0' && ch <= '9') {
        digit = ch - '0';
      } else if (ch >= 'a' && ch <= 'f') {
        digit = ch - 'a' + 10;
      } else if (ch >= 'A' && ch <= 'F') {
        digit = ch - 'A' + 10;
      } else {
        return invalid();
      }
      value = value * 16 + digit;
    }
    out[byte_idx++] = static_cast<uint8_t>(value);
  }
  return out;
}

std::string FormatIsoInterval(const Interval& interval) {
  // Debezium io.debezium.time.Interval.toIsoString: every component, seconds with
  // trailing zeros stripped ("P1Y2M3DT4H5M6.78S", zero is "P0Y0M0DT0H0M0S").
  int32_t years = interval.months / 12;
  int32_t months = interval.months % 12;
  int64_t hours = interval.micros / (3600 * kMicrosPerSecond);
  int64_t rest = interval.micros % (3600 * kMicrosPerSecond);
  int64_t minutes = rest / (60 * kMicrosPerSecond);
  int64_t second_micros = rest % (60 * kMicrosPerSecond);
  std::string seconds = fmt::format("{}{}", second_micros < 0 ? "-" : "",
                                    std::abs(second_micros) / kMicrosPerSecond);
  int64_t fraction = std::abs(second_micros) % kMicrosPerSecond;
  if (fraction != 0) {
    std::string digits = fmt::format("{:06d}", fraction);
    digits.erase(digits.find_last_not_of('0') + 1);
    seconds += "." + digits;
  }
  return fmt::format("P{}Y{}M{}DT{}H{}M{}S", years, months, interval.days, hours, minutes,
                     seconds);
}

Result<Interval> ParseIsoInterval(std::string_view text) {
  auto invalid = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'{}' is not an ISO-8601 duration (PnYnMnDTnHnMnS)", text);
  };
  size_t idx = 0;
  bool negate_all = false;
  if (idx < text.size() && text[idx] == '-') {
    negate_all = true;
    ++idx;
  }
  if (idx >= text.size() || (text[idx] != 'P' && text[idx] != 'p')) {
    return invalid();
  }
  ++idx;
  int64_t months = 0;
  int64_t days = 0;
  int64_t micros = 0;
  bool in_time = false;
  bool any = false;
  bool any_time = false;
  while (idx < text.size()) {
    if (text[idx] == 'T' || text[idx] == 't') {
      if (in_time) {
        return invalid();
      }
      in_time = true;
      ++idx;
      continue;
    }
    bool negative = false;
    if (text[idx] == '-' || text[idx] == '+') {
      negative = text[idx] == '-';
      ++idx;
    }
    int64_t whole = 0;
    size_t digits = 0;
    while (idx < text.size() && text[idx] >= '0' && text[idx] <= '9') {
      whole = whole * 10 + (text[idx] - '0');
      if (++digits > 15) {
        return invalid();
      }
      ++idx;
    }
    int64_t fraction_micros = 0;
    bool has_fraction = false;
    if (idx < text.size() && (text[idx] == '.' || text[idx] == ',')) {
      ++idx;
      has_fraction = true;
      size_t count = 0;
      while (idx < text.size() && text[idx] >= '0' && text[idx] <= '9') {
        if (count < 6) {
          fraction_micros = fraction_micros * 10 + (text[idx] - '0');
        }
        ++count;
        ++idx;
      }
      for (size_t pad = count; pad < 6; ++pad) {
        fraction_micros *= 10;
      }
    }
    if (digits == 0 || idx >= text.size()) {
      return invalid();
    }
    char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[idx])));
    ++idx;
    int64_t sign = negative ? -1 : 1;
    if (has_fraction && !(in_time && unit == 'S')) {
      return invalid();
    }
    if (!in_time) {
      switch (unit) {
        case 'Y':
          months += sign * whole * 12;
          break;
        case 'M':
          months += sign * whole;
          break;
        case 'W':
          days += sign * whole * 7;
          break;
        case 'D':
          days += sign * whole;
          break;
        default:
          return invalid();
      }
    } else {
      switch (unit) {
        case 'H':
          micros += sign * whole * 3600 * kMicrosPerSecond;
          break;
        case 'M':
          micros += sign * whole * 60 * kMicrosPerSecond;
          break;
        case 'S':
          micros += sign * (whole * kMicrosPerSecond + fraction_micros);
          break;
        default:
          return invalid();
      }
      any_time = true;
    }
    any = true;
  }
  if (!any || (in_time && !any_time) || months > std::numeric_limits<int32_t>::max() ||
      months < std::numeric_limits<int32_t>::min() ||
      days > std::numeric_limits<int32_t>::max() ||
      days < std::numeric_limits<int32_t>::min()) {
    return invalid();
  }
  Interval out{static_cast<int32_t>(months), static_cast<int32_t>(days), micros};
  if (negate_all) {
    out = Interval{-out.months, -out.days, -out.micros};
  }
  return out;
}

}  // namespace tributary::core
