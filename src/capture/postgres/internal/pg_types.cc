#include "capture/postgres/internal/pg_types.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace tributary::capture::postgres::internal {

using core::DataType;
using core::TypeKind;
using core::Value;

namespace {

std::shared_ptr<const PgType> MakeType(uint32_t oid, std::string name, TextParser parser) {
  auto type = std::make_shared<PgType>();
  type->oid = oid;
  type->name = std::move(name);
  type->parser = parser;
  return type;
}

// Built-in scalar types (src/include/catalog/pg_type.dat in PostgreSQL 15).
const std::unordered_map<uint32_t, std::shared_ptr<const PgType>>& BuiltinTable() {
  static const auto* table = [] {
    auto* out = new std::unordered_map<uint32_t, std::shared_ptr<const PgType>>();
    auto add = [out](uint32_t oid, const char* name, TextParser parser) {
      (*out)[oid] = MakeType(oid, name, parser);
    };
    add(16, "bool", TextParser::kBool);
    add(17, "bytea", TextParser::kBytes);
    add(18, "char", TextParser::kString);
    add(19, "name", TextParser::kString);
    add(20, "int8", TextParser::kInt64);
    add(21, "int2", TextParser::kInt16);
    add(23, "int4", TextParser::kInt32);
    add(25, "text", TextParser::kString);
    add(26, "oid", TextParser::kInt64);
    add(114, "json", TextParser::kJson);
    add(142, "xml", TextParser::kString);
    add(650, "cidr", TextParser::kString);
    add(700, "float4", TextParser::kFloat);
    add(701, "float8", TextParser::kDouble);
    add(774, "macaddr8", TextParser::kString);
    add(790, "money", TextParser::kMoney);
    add(829, "macaddr", TextParser::kString);
    add(869, "inet", TextParser::kString);
    add(1042, "bpchar", TextParser::kString);
    add(1043, "varchar", TextParser::kString);
    add(1082, "date", TextParser::kDate);
    add(1083, "time", TextParser::kTime);
    add(1114, "timestamp", TextParser::kTimestamp);
    add(1184, "timestamptz", TextParser::kTimestampTz);
    add(1186, "interval", TextParser::kInterval);
    add(1266, "timetz", TextParser::kTimeTz);
    add(1560, "bit", TextParser::kString);
    add(1562, "varbit", TextParser::kString);
    add(1700, "numeric", TextParser::kNumeric);
    add(2950, "uuid", TextParser::kUuid);
    add(3802, "jsonb", TextParser::kJson);
    return out;
  }();
  return *table;
}

Error BadText(const PgType& type, std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 100));
  return MakeError(ErrorCode::kInvalidArgument, "cannot parse {} value '{}'{}: {}", type.name,
                   shown, text.size() > 100 ? "..." : "", why);
}

template <typename T>
bool ParseInteger(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

template <typename T>
bool ParseFloating(std::string_view text, T& out) {
  if (text == "NaN") {
    out = std::numeric_limits<T>::quiet_NaN();
    return true;
  }
  if (text == "Infinity") {
    out = std::numeric_limits<T>::infinity();
    return true;
  }
  if (text == "-Infinity") {
    out = -std::numeric_limits<T>::infinity();
    return true;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// A small cursor over ISO date/time text.
struct Cursor {
  std::string_view text;
  size_t pos = 0;
  bool AtEnd() const { return pos >= text.size(); }
  char Peek() const { return AtEnd() ? '\0' : text[pos]; }
  bool Consume(char c) {
    if (Peek() == c) {
      ++pos;
      return true;
    }
    return false;
  }
  // Reads at least one digit; returns false when none.
  bool Digits(int64_t& out, size_t* count = nullptr) {
    size_t start = pos;
    out = 0;
    while (!AtEnd() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 18) {
        out = out * 10 + (text[pos] - '0');
      }
      ++pos;
    }
    if (count != nullptr) {
      *count = pos - start;
    }
    return pos > start;
  }
};

// "YYYY-MM-DD" (any number of year digits) into days since 1970-01-01; " BC" handled by
// the caller.
bool ParseDatePart(Cursor& cursor, int64_t& year, int64_t& month, int64_t& day) {
  return cursor.Digits(year) && cursor.Consume('-') && cursor.Digits(month) &&
         cursor.Consume('-') && cursor.Digits(day) && month >= 1 && month <= 12 &&
         day >= 1 && day <= 31;
}

// "HH:MM:SS[.ffffff]" into microseconds since midnight (24:00:00 allowed).
bool ParseTimePart(Cursor& cursor, int64_t& micros) {
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  if (!cursor.Digits(hour) || !cursor.Consume(':') || !cursor.Digits(minute)) {
    return false;
  }
  if (cursor.Consume(':') && !cursor.Digits(second)) {
    return false;
  }
  int64_t fraction = 0;
  if (cursor.Consume('.')) {
    size_t digits = 0;
    size_t start = cursor.pos;
    if (!cursor.Digits(fraction, &digits)) {
      return false;
    }
    // Keep six digits (PostgreSQL prints at most six).
    std::string_view frac = cursor.text.substr(start, digits);
    fraction = 0;
    for (size_t digit_idx = 0; digit_idx < 6; ++digit_idx) {
      fraction = fraction * 10 + (digit_idx < frac.size() ? frac[digit_idx] - '0' : 0);
    }
  }
  if (hour > 24 || minute > 59 || second > 60) {
    return false;
  }
  micros = ((hour * 60 + minute) * 60 + second) * core::kMicrosPerSecond + fraction;
  return true;
}

// "+HH[:MM[:SS]]" / "-HH..." into seconds east of UTC.
bool ParseZonePart(Cursor& cursor, int32_t& offset_seconds) {
  int sign = 0;
  if (cursor.Consume('+')) {
    sign = 1;
  } else if (cursor.Consume('-')) {
    sign = -1;
  } else {
    return false;
  }
  int64_t hours = 0;
  int64_t minutes = 0;
  int64_t seconds = 0;
  if (!cursor.Digits(hours)) {
    return false;
  }
  if (cursor.Consume(':')) {
    if (!cursor.Digits(minutes)) {
      return false;
    }
    if (cursor.Consume(':') && !cursor.Digits(seconds)) {
      return false;
    }
  }
  offset_seconds = static_cast<int32_t>(sign * (hours * 3600 + minutes * 60 + seconds));
  return true;
}

bool ConsumeBc(Cursor& cursor) {
  if (cursor.text.substr(cursor.pos) == " BC") {
    cursor.pos = cursor.text.size();
    return true;
  }
  return false;
}

int64_t CivilDays(int64_t year, int64_t month, int64_t day, bool bc) {
  // 1 BC is year 0 of the proleptic Gregorian calendar.
  int64_t astronomical = bc ? 1 - year : year;
  return core::DaysFromCivil(static_cast<int32_t>(astronomical), static_cast<uint32_t>(month),
                             static_cast<uint32_t>(day));
}

Result<Value> ParseDateText(const PgType& type, std::string_view text) {
  if (text == "infinity") {
    return Value::Date(core::kDateInfinity);
  }
  if (text == "-infinity") {
    return Value::Date(core::kDateNegativeInfinity);
  }
  Cursor cursor{text};
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!ParseDatePart(cursor, year, month, day)) {
    return BadText(type, text, "expected YYYY-MM-DD");
  }
  bool bc = ConsumeBc(cursor);
  if (!cursor.AtEnd()) {
    return BadText(type, text, "unexpected trailing text");
  }
  return Value::Date(static_cast<int32_t>(CivilDays(year, month, day, bc)));
}

Result<Value> ParseTimestampText(const PgType& type, std::string_view text, bool with_zone) {
  if (text == "infinity") {
    return with_zone ? Value::TimestampTz(core::kTimestampInfinity)
                     : Value::Timestamp(core::kTimestampInfinity);
  }
  if (text == "-infinity") {
    return with_zone ? Value::TimestampTz(core::kTimestampNegativeInfinity)
                     : Value::Timestamp(core::kTimestampNegativeInfinity);
  }
  Cursor cursor{text};
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  int64_t micros = 0;
  if (!ParseDatePart(cursor, year, month, day) ||
      !(cursor.Consume(' ') || cursor.Consume('T')) || !ParseTimePart(cursor, micros)) {
    return BadText(type, text, "expected YYYY-MM-DD HH:MM:SS[.ffffff]");
  }
  int32_t offset = 0;
  if (with_zone && !ParseZonePart(cursor, offset)) {
    return BadText(type, text, "expected a UTC offset");
  }
  bool bc = ConsumeBc(cursor);
  if (!cursor.AtEnd()) {
    return BadText(type, text, "unexpected trailing text");
  }
  int64_t value = CivilDays(year, month, day, bc) * core::kMicrosPerDay + micros -
                  static_cast<int64_t>(offset) * core::kMicrosPerSecond;
  return with_zone ? Value::TimestampTz(value) : Value::Timestamp(value);
}

// ISO 8601 interval as IntervalStyle=iso_8601 prints it: "P1Y2M3DT4H5M6.5S", components
// signed independently ("P-1Y-2M3DT-4H-5M-6.5S"), "PT0S" for zero.
Result<Value> ParseIntervalText(const PgType& type, std::string_view text) {
  if (text.empty() || text[0] != 'P') {
    return BadText(type, text, "expected an ISO 8601 duration (IntervalStyle=iso_8601)");
  }
  core::Interval interval;
  bool in_time = false;
  size_t pos = 1;
  while (pos < text.size()) {
    if (text[pos] == 'T') {
      in_time = true;
      ++pos;
      continue;
    }
    bool negative = false;
    if (text[pos] == '-' || text[pos] == '+') {
      negative = text[pos] == '-';
      ++pos;
    }
    int64_t whole = 0;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      whole = whole * 10 + (text[pos] - '0');
      ++pos;
    }
    int64_t fraction_micros = 0;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        fraction_micros += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos == start || pos >= text.size()) {
      return BadText(type, text, "malformed ISO 8601 duration");
    }
    char unit = text[pos++];
    int64_t sign = negative ? -1 : 1;
    if (!in_time && unit == 'Y') {
      interval.months += static_cast<int32_t>(sign * whole * 12);
    } else if (!in_time && unit == 'M') {
      interval.months += static_cast<int32_t>(sign * whole);
    } else if (!in_time && unit == 'W') {
      interval.days += static_cast<int32_t>(sign * whole * 7);
    } else if (!in_time && unit == 'D') {
      interval.days += static_cast<int32_t>(sign * whole);
    } else if (in_time && unit == 'H') {
      interval.micros += sign * whole * 3600 * core::kMicrosPerSecond;
    } else if (in_time && unit == 'M') {
      interval.micros += sign * whole * 60 * core::kMicrosPerSecond;
    } else if (in_time && unit == 'S') {
      interval.micros += sign * (whole * core::kMicrosPerSecond + fraction_micros);
    } else {
      return BadText(type, text, "unknown ISO 8601 duration unit");
    }
  }
  return Value::FromInterval(interval);
}

Result<Value> ParseMoneyText(const PgType& type, std::string_view text) {
  // lc_monetary=C: "$1,234.56", "-$1,234.56". Keep sign, digits and the decimal point.
  std::string plain;
  for (char c : text) {
    if ((c >= '0' && c <= '9') || c == '.' || c == '-') {
      plain += c;
    } else if (c == '(') {
      plain += '-';
    }
  }
  auto decimal = core::Decimal::FromString(plain);
  if (!decimal.ok()) {
    return BadText(type, text, "not a money amount");
  }
  auto rescaled = decimal->Rescale(2);
  if (!rescaled.ok()) {
    return BadText(type, text, "money with more than 2 fraction digits");
  }
  return Value::Numeric(*rescaled);
}

Result<Value> ParseBytesText(const PgType& type, std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return BadText(type, text, "expected bytea hex format \\x...");
  }
  core::Bytes bytes;
  bytes.reserve((text.size() - 2) / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  for (size_t pos = 2; pos < text.size(); pos += 2) {
    int high = nibble(text[pos]);
    int low = nibble(text[pos + 1]);
    if (high < 0 || low < 0) {
      return BadText(type, text, "invalid hex digit");
    }
    bytes.push_back(static_cast<uint8_t>(high * 16 + low));
  }
  return Value::Binary(std::move(bytes));
}

// Array text output (PostgreSQL 15 docs §8.15.6 "Array Input and Output Syntax"):
// "{1,2,NULL}", "{{1,2},{3,4}}", elements double-quoted with backslash escapes when they
// contain delimiters, quotes, backslashes or spaces, or equal NULL; an optional
// "[lo:hi]=" dimension decoration when a lower bound is not 1.
class ArrayParser {
 public:
  ArrayParser(const PgType& type, std::string_view text) : type_(type), text_(text) {}

  Result<Value> Parse() {
    if (!text_.empty() && text_[0] == '[') {
      size_t eq = text_.find('=');
      if (eq == std::string_view::npos) {
        return BadText(type_, text_, "malformed array dimensions");
      }
      pos_ = eq + 1;
    }
    TRIB_ASSIGN_OR_RETURN(Value value, ParseLevel());
    if (pos_ != text_.size()) {
      return BadText(type_, text_, "unexpected text after the array");
    }
    return value;
  }

 private:
  Result<Value> ParseLevel() {
    if (pos_ >= text_.size() || text_[pos_] != '{') {
      return BadText(type_, text_, "expected '{'");
    }
    ++pos_;
    std::vector<Value> elements;
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Value::Array(std::move(elements));
    }
    while (true) {
      if (pos_ >= text_.size()) {
        return BadText(type_, text_, "unterminated array");
      }
      if (text_[pos_] == '{') {
        TRIB_ASSIGN_OR_RETURN(Value nested, ParseLevel());
        elements.push_back(std::move(nested));
      } else {
        TRIB_ASSIGN_OR_RETURN(Value element, ParseElement());
        elements.push_back(std::move(element));
      }
      if (pos_ >= text_.size()) {
        return BadText(type_, text_, "unterminated array");
      }
      char c = text_[pos_++];
      if (c == '}') {
        return Value::Array(std::move(elements));
      }
      if (c != ',') {
        return BadText(type_, text_, "expected ',' or '}'");
      }
    }
  }

  Result<Value> ParseElement() {
    std::string raw;
    bool quoted = false;
    if (text_[pos_] == '"') {
      quoted = true;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) {
          return BadText(type_, text_, "unterminated quoted element");
        }
        char c = text_[pos_++];
        if (c == '\\') {
          if (pos_ >= text_.size()) {
            return BadText(type_, text_, "dangling backslash");
          }
          raw += text_[pos_++];
        } else if (c == '"') {
          break;
        } else {
          raw += c;
        }
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') {
        raw += text_[pos_++];
      }
    }
    if (!quoted && raw == "NULL") {
      return Value::Null();
    }
    return ParseTextValue(*type_.element, raw);
  }

  const PgType& type_;
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::shared_ptr<const PgType> BuiltinType(uint32_t oid) {
  const auto& table = BuiltinTable();
  auto it = table.find(oid);
  return it == table.end() ? nullptr : it->second;
}

DataType ToDataType(const PgType& type, int32_t typmod) {
  if (typmod < 0) {
    typmod = type.domain_typmod;
  }
  DataType out;
  switch (type.parser) {
    case TextParser::kBool:
      out = DataType::Of(TypeKind::kBool);
      break;
    case TextParser::kInt16:
      out = DataType::Of(TypeKind::kInt16);
      break;
    case TextParser::kInt32:
      out = DataType::Of(TypeKind::kInt32);
      break;
    case TextParser::kInt64:
      out = DataType::Of(TypeKind::kInt64);
      break;
    case TextParser::kFloat:
      out = DataType::Of(TypeKind::kFloat);
      break;
    case TextParser::kDouble:
      out = DataType::Of(TypeKind::kDouble);
      break;
    case TextParser::kNumeric:
      if (typmod >= 4) {
        // numeric typmod: ((precision << 16) | scale) + VARHDRSZ; PostgreSQL 15 allows a
        // negative scale, stored as an 11-bit two's complement.
        int32_t packed = typmod - 4;
        int32_t precision = (packed >> 16) & 0xffff;
        int32_t scale = ((packed & 0x7ff) ^ 1024) - 1024;
        out = DataType::Decimal(precision, scale);
      } else {
        out = DataType::VariableDecimal();
      }
      break;
    case TextParser::kMoney:
      out = DataType::Decimal(19, 2);
      break;
    case TextParser::kString:
      out = DataType::Of(TypeKind::kString);
      if ((type.name == "varchar" || type.name == "bpchar") && typmod >= 4) {
        out.precision = typmod - 4;
      } else if ((type.name == "bit" || type.name == "varbit") && typmod >= 0) {
        out.precision = typmod;
      }
      break;
    case TextParser::kBytes:
      out = DataType::Of(TypeKind::kBytes);
      break;
    case TextParser::kDate:
      out = DataType::Of(TypeKind::kDate);
      break;
    case TextParser::kTime:
      out = DataType::Temporal(TypeKind::kTime, typmod >= 0 ? typmod : 6);
      break;
    case TextParser::kTimeTz:
      out = DataType::Temporal(TypeKind::kTimeTz, typmod >= 0 ? typmod : 6);
      break;
    case TextParser::kTimestamp:
      out = DataType::Temporal(TypeKind::kTimestamp, typmod >= 0 ? typmod : 6);
      break;
    case TextParser::kTimestampTz:
      out = DataType::Temporal(TypeKind::kTimestampTz, typmod >= 0 ? typmod : 6);
      break;
    case TextParser::kInterval:
      out = DataType::Of(TypeKind::kInterval);
      break;
    case TextParser::kUuid:
      out = DataType::Of(TypeKind::kUuid);
      break;
    case TextParser::kJson:
      out = DataType::Of(TypeKind::kJson);
      break;
    case TextParser::kEnum:
      out = DataType::EnumOf(type.enum_labels);
      break;
    case TextParser::kArray:
      // An array column's typmod applies to its elements (varchar(10)[]).
      out = DataType::ArrayOf(ToDataType(*type.element, typmod));
      break;
  }
  out.source_type = type.name;
  return out;
}

Result<Value> ParseTextValue(const PgType& type, std::string_view text) {
  switch (type.parser) {
    case TextParser::kBool:
      if (text == "t") {
        return Value::Bool(true);
      }
      if (text == "f") {
        return Value::Bool(false);
      }
      return BadText(type, text, "expected t or f");
    case TextParser::kInt16: {
      int16_t v = 0;
      if (!ParseInteger(text, v)) {
        return BadText(type, text, "not an int2");
      }
      return Value::Int16(v);
    }
    case TextParser::kInt32: {
      int32_t v = 0;
      if (!ParseInteger(text, v)) {
        return BadText(type, text, "not an int4");
      }
      return Value::Int32(v);
    }
    case TextParser::kInt64: {
      int64_t v = 0;
      if (!ParseInteger(text, v)) {
        return BadText(type, text, "not an int8");
      }
      return Value::Int64(v);
    }
    case TextParser::kFloat: {
      float v = 0;
      if (!ParseFloating(text, v)) {
        return BadText(type, text, "not a float4");
      }
      return Value::Float(v);
    }
    case TextParser::kDouble: {
      double v = 0;
      if (!ParseFloating(text, v)) {
        return BadText(type, text, "not a float8");
      }
      return Value::Double(v);
    }
    case TextParser::kNumeric: {
      auto decimal = core::Decimal::FromString(text);
      if (!decimal.ok()) {
        return BadText(type, text, decimal.status().message());
      }
      return Value::Numeric(*decimal);
    }
    case TextParser::kMoney:
      return ParseMoneyText(type, text);
    case TextParser::kString:
      return Value::String(std::string(text));
    case TextParser::kBytes:
      return ParseBytesText(type, text);
    case TextParser::kDate:
      return ParseDateText(type, text);
    case TextParser::kTime: {
      Cursor cursor{text};
      int64_t micros = 0;
      if (!ParseTimePart(cursor, micros) || !cursor.AtEnd()) {
        return BadText(type, text, "expected HH:MM:SS[.ffffff]");
      }
      return Value::Time(micros);
    }
    case TextParser::kTimeTz: {
      Cursor cursor{text};
      int64_t micros = 0;
      int32_t offset = 0;
      if (!ParseTimePart(cursor, micros) || !ParseZonePart(cursor, offset) ||
          !cursor.AtEnd()) {
        return BadText(type, text, "expected HH:MM:SS[.ffffff]+HH[:MM]");
      }
      return Value::TimeTz(micros, offset);
    }
    case TextParser::kTimestamp:
      return ParseTimestampText(type, text, false);
    case TextParser::kTimestampTz:
      return ParseTimestampText(type, text, true);
    case TextParser::kInterval:
      return ParseIntervalText(type, text);
    case TextParser::kUuid: {
      auto uuid = core::ParseUuid(text);
      if (!uuid.ok()) {
        return BadText(type, text, "not a uuid");
      }
      return Value::Uuid(*uuid);
    }
    case TextParser::kJson:
      return Value::Json(std::string(text));
    case TextParser::kEnum:
      return Value::Enum(std::string(text));
    case TextParser::kArray:
      return ArrayParser(type, text).Parse();
  }
  return BadText(type, text, "no parser");
}

Result<std::shared_ptr<const PgType>> PgTypeRegistry::Resolve(uint32_t oid) {
  return ResolveDepth(oid, 0);
}

Result<std::shared_ptr<const PgType>> PgTypeRegistry::ResolveDepth(uint32_t oid, int depth) {
  if (auto builtin = BuiltinType(oid)) {
    return builtin;
  }
  auto cached = cache_.find(oid);
  if (cached != cache_.end()) {
    return cached->second;
  }
  if (depth > 16) {
    return MakeError(ErrorCode::kCorruption, "type {} nests domains/arrays too deeply", oid);
  }
  TRIB_ASSIGN_OR_RETURN(PgTypeRow row, lookup_(oid));
  auto type = std::make_shared<PgType>();
  type->oid = oid;
  type->name = row.name;
  if (row.typtype == 'e') {
    type->parser = TextParser::kEnum;
    type->enum_labels = row.enum_labels;
  } else if (row.typtype == 'd' && row.base_type != 0) {
    TRIB_ASSIGN_OR_RETURN(auto base, ResolveDepth(row.base_type, depth + 1));
    *type = *base;
    type->oid = oid;
    type->name = row.name;
    type->domain_typmod = row.typmod;
  } else if (row.category == 'A' && row.element != 0) {
    TRIB_ASSIGN_OR_RETURN(auto element, ResolveDepth(row.element, depth + 1));
    type->parser = TextParser::kArray;
    type->element = element;
  } else {
    // Unknown base, composite, range and extension types keep their text form.
    type->parser = TextParser::kString;
  }
  cache_[oid] = type;
  return std::shared_ptr<const PgType>(type);
}

}  // namespace tributary::capture::postgres::internal
