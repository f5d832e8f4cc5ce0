#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/decimal.h"
#include "core/result.h"

namespace tributary::core {

/// The kind of a Value. The order is the variant order inside Value; do not reorder.
enum class ValueKind : uint8_t {
  kNull,
  kUnavailable,  ///< unchanged TOAST column / Debezium `__debezium_unavailable_value`
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,         ///< int32 days since 1970-01-01
  kTime,         ///< int64 microseconds since midnight
  kTimeTz,       ///< time of day with a UTC offset
  kTimestamp,    ///< int64 microseconds since 1970-01-01T00:00, no time zone
  kTimestampTz,  ///< int64 microseconds since 1970-01-01T00:00Z
  kInterval,     ///< months, days, microseconds (PostgreSQL interval)
  kUuid,         ///< 16 bytes
  kJson,         ///< JSON text (json, jsonb, MySQL JSON)
  kEnum,         ///< enum label (PostgreSQL enum, MySQL ENUM/SET)
  kArray,        ///< elements of any kind, possibly null or nested arrays
};

/// "null", "int32", "timestamptz", ... (stable; used in errors and ToString).
std::string_view ValueKindName(ValueKind kind);

/// Timestamps equal to these mean PostgreSQL 'infinity' / '-infinity' (the same sentinels
/// PostgreSQL uses internally: DT_NOEND / DT_NOBEGIN). Dates use the int32 limits
/// likewise.
inline constexpr int64_t kTimestampInfinity = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kTimestampNegativeInfinity = std::numeric_limits<int64_t>::min();
inline constexpr int32_t kDateInfinity = std::numeric_limits<int32_t>::max();
inline constexpr int32_t kDateNegativeInfinity = std::numeric_limits<int32_t>::min();

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

/// A time of day with the zone offset it was written with (PostgreSQL timetz).
struct ZonedTime {
  int64_t micros = 0;          ///< microseconds since local midnight, [0, 86400e6]
  int32_t offset_seconds = 0;  ///< seconds east of UTC (+02:00 -> 7200)
  bool operator==(const ZonedTime&) const = default;
};

/// A PostgreSQL interval: the three fields are independent (1 month != 30 days).
struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const Interval&) const = default;
};

using UuidBytes = std::array<uint8_t, 16>;
using Bytes = std::vector<uint8_t>;

class Value;

namespace value_internal {
// Distinct wrapper types so that each kind has its own variant alternative.
struct Unavailable {
  bool operator==(const Unavailable&) const = default;
};
struct Date {
  int32_t days;
  bool operator==(const Date&) const = default;
};
struct Time {
  int64_t micros;
  bool operator==(const Time&) const = default;
};
struct Timestamp {
  int64_t micros;
  bool operator==(const Timestamp&) const = default;
};
struct TimestampTz {
  int64_t micros;
  bool operator==(const TimestampTz&) const = default;
};
struct Uuid {
  UuidBytes bytes;
  bool operator==(const Uuid&) const = default;
};
struct Json {
  std::string text;
  bool operator==(const Json&) const = default;
};
struct Enum {
  std::string label;
  bool operator==(const Enum&) const = default;
};
struct Array {
  std::shared_ptr<const std::vector<Value>> elements;  ///< never null
  bool operator==(const Array& other) const;
};
}  // namespace value_internal

/// One column value as PostgreSQL or MySQL sends it, or as a Debezium message carries it.
///
/// Immutable after construction, cheap to copy (arrays share their elements) and to move.
/// Build with the static factories (`Value::Int32(5)`, `Value::String("x")`); read with
/// kind() and the `AsX()` accessors, which TRIB_CHECK the kind (reading the wrong kind is
/// a programmer error). `==` is exact: same kind and same value (doubles compare
/// bitwise-equal by value, NaN == NaN so round-trip tests work).
class Value {
 public:
  /// Null.
  Value() = default;

  static Value Null() { return Value(); }
  static Value Unavailable();
  static Value Bool(bool v);
  static Value Int8(int8_t v);
  static Value Int16(int16_t v);
  static Value Int32(int32_t v);
  static Value Int64(int64_t v);
  static Value UInt8(uint8_t v);
  static Value UInt16(uint16_t v);
  static Value UInt32(uint32_t v);
  static Value UInt64(uint64_t v);
  static Value Float(float v);
  static Value Double(double v);
  static Value Numeric(core::Decimal v);
  static Value String(std::string v);
  static Value Binary(core::Bytes v);
  /// Days since 1970-01-01 (negative before); kDateInfinity/kDateNegativeInfinity
  /// allowed.
  static Value Date(int32_t days);
  /// Microseconds since midnight.
  static Value Time(int64_t micros);
  static Value TimeTz(int64_t micros, int32_t offset_seconds);
  /// Microseconds since 1970-01-01T00:00 (wall clock, no zone).
  static Value Timestamp(int64_t micros);
  /// Microseconds since 1970-01-01T00:00Z; kTimestampInfinity/NegativeInfinity allowed.
  static Value TimestampTz(int64_t micros);
  static Value FromInterval(core::Interval v);
  static Value Uuid(const UuidBytes& v);
  static Value Json(std::string text);
  static Value Enum(std::string label);
  static Value Array(std::vector<Value> elements);

  ValueKind kind() const { return static_cast<ValueKind>(data_.index()); }
  bool is_null() const { return kind() == ValueKind::kNull; }
  bool is_unavailable() const { return kind() == ValueKind::kUnavailable; }

  bool AsBool() const;
  int8_t AsInt8() const;
  int16_t AsInt16() const;
  int32_t AsInt32() const;
  int64_t AsInt64() const;
  uint8_t AsUInt8() const;
  uint16_t AsUInt16() const;
  uint32_t AsUInt32() const;
  uint64_t AsUInt64() const;
  float AsFloat() const;
  double AsDouble() const;
  const core::Decimal& AsDecimal() const;
  const std::string& AsString() const;
  const core::Bytes& AsBytes() const;
  int32_t AsDate() const;
  int64_t AsTime() const;
  const ZonedTime& AsTimeTz() const;
  int64_t AsTimestamp() const;
  int64_t AsTimestampTz() const;
  const core::Interval& AsInterval() const;
  const UuidBytes& AsUuid() const;
  const std::string& AsJson() const;
  const std::string& AsEnum() const;
  const std::vector<Value>& AsArray() const;

  /// Any signed or unsigned integer kind that fits int64 (UInt64 above INT64_MAX does
  /// not).
  std::optional<int64_t> ToInt64() const;
  /// Any integer, float or double kind, widened to double (may round large integers).
  std::optional<double> ToDouble() const;
  /// Text of string, json and enum kinds.
  std::optional<std::string_view> ToText() const;

  /// A readable, unambiguous form for errors and tests: `null`, `unavailable`, `int32 5`,
  /// `string "a\"b"`, `decimal 12.30`, `date 2024-01-31`, `timestamptz
  /// 2024-01-31T10:00:00.000001Z`, `array [int32 1, null]`, `bytes 0x00ff`.
  std::string ToString() const;

  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

 private:
  using Data = std::variant<std::monostate,
                            value_internal::Unavailable,
                            bool,
                            int8_t,
                            int16_t,
                            int32_t,
                            int64_t,
                            uint8_t,
                            uint16_t,
                            uint32_t,
                            uint64_t,
                            float,
                            double,
                            core::Decimal,
                            std::string,
                            core::Bytes,
                            value_internal::Date,
                            value_internal::Time,
                            ZonedTime,
                            value_internal::Timestamp,
                            value_internal::TimestampTz,
                            core::Interval,
                            value_internal::Uuid,
                            value_internal::Json,
                            value_internal::Enum,
                            value_internal::Array>;

  explicit Value(Data data) : data_(std::move(data)) {}
  void CheckKind(ValueKind expected) const;

  Data data_;
};

/// gtest and fmt-friendly printing.
std::ostream& operator<<(std::ostream& out, const Value& value);

// Calendar helpers (proleptic Gregorian, UTC). Exact for any int32 day / int64 micros.

/// Days since 1970-01-01 of a civil date; month 1-12, day 1-31 (not validated here).
int32_t DaysFromCivil(int32_t year, uint32_t month, uint32_t day);
struct CivilDate {
  int32_t year;
  uint32_t month;
  uint32_t day;
};
CivilDate CivilFromDays(int32_t days);

/// "2024-01-31" ("-0044-03-15" style years before 0 and after 9999 keep their sign and
/// digits); "infinity" / "-infinity" for the sentinels.
std::string FormatDate(int32_t days);
/// "HH:MM:SS" plus ".ffffff" with trailing zeros removed when micros are not whole
/// seconds.
std::string FormatTime(int64_t micros);
/// ISO-8601 "2024-01-31T10:00:00.5" without zone, or with the zone suffix when
/// `zone_suffix` is given ("Z"). "infinity" / "-infinity" for the sentinels.
std::string FormatTimestamp(int64_t micros, std::string_view zone_suffix = {});
/// "+02:00", "-05:30", "Z" for 0 when `z_for_utc`.
std::string FormatZoneOffset(int32_t offset_seconds, bool z_for_utc);
/// Parses "YYYY-MM-DD" (also "infinity"/"-infinity"). kInvalidArgument on bad text.
Result<int32_t> ParseDate(std::string_view text);
/// Parses "HH:MM[:SS[.fraction]]" (fraction up to 9 digits, truncated to micros).
Result<int64_t> ParseTime(std::string_view text);
/// Parses "YYYY-MM-DD[T| ]HH:MM[:SS[.f]]" with an optional zone ("Z", "+hh", "+hh:mm",
/// "+hhmm"); returns micros since epoch in UTC (the offset is applied) and, via
/// `offset_seconds` if not null, the offset found (0 when none).
Result<int64_t> ParseTimestamp(std::string_view text, int32_t* offset_seconds = nullptr);
/// Parses "HH:MM[:SS[.f]]" followed by a zone ("Z", "+hh[:mm]").
Result<ZonedTime> ParseTimeTz(std::string_view text);

/// "123e4567-e89b-12d3-a456-426614174000".
std::string FormatUuid(const UuidBytes& uuid);
/// Parses the 36-character hyphenated form (case-insensitive).
Result<UuidBytes> ParseUuid(std::string_view text);

/// ISO-8601 duration as Debezium's io.debezium.time.Interval writes it
/// ("P1Y2M3DT4H5M6.78S").
std::string FormatIsoInterval(const Interval& interval);
/// Parses an ISO-8601 duration "PnYnMnDTnHnMnS" (signed components, fractional seconds)
/// into months/days/micros. Weeks ("PnW") are 7 days.
Result<Interval> ParseIsoInterval(std::string_view text);

}  // namespace tributary::core
