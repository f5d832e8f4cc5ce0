#include "core/value.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tributary::core {
namespace {

UuidBytes SampleUuid() {
  return UuidBytes{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
                   0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
}

TEST(ValueTest, EachKindBuildsReadsAndPrints) {
  struct Case {
    Value value;
    ValueKind kind;
    std::string text;
  };
  const std::vector<Case> cases = {
      {Value(), ValueKind::kNull, "null"},
      {Value::Unavailable(), ValueKind::kUnavailable, "unavailable"},
      {Value::Bool(true), ValueKind::kBool, "bool true"},
      {Value::Int8(-8), ValueKind::kInt8, "int8 -8"},
      {Value::Int16(-16), ValueKind::kInt16, "int16 -16"},
      {Value::Int32(32), ValueKind::kInt32, "int32 32"},
      {Value::Int64(-64), ValueKind::kInt64, "int64 -64"},
      {Value::UInt8(255), ValueKind::kUInt8, "uint8 255"},
      {Value::UInt16(65535), ValueKind::kUInt16, "uint16 65535"},
      {Value::UInt32(4294967295u), ValueKind::kUInt32, "uint32 4294967295"},
      {Value::UInt64(18446744073709551615ull), ValueKind::kUInt64,
       "uint64 18446744073709551615"},
      {Value::Float(0.5f), ValueKind::kFloat, "float 0.5"},
      {Value::Double(0.2), ValueKind::kDouble, "double 0.2"},
      {Value::Numeric(Decimal::FromInt128(1230, 2)), ValueKind::kDecimal,
       "decimal 12.30"},
      {Value::String("a\"b"), ValueKind::kString, "string \"a\\\"b\""},
      {Value::Binary({0x00, 0xff}), ValueKind::kBytes, "bytes 0x00ff"},
      {Value::Date(19753), ValueKind::kDate, "date 2024-01-31"},
      {Value::Time(36000000001), ValueKind::kTime, "time 10:00:00.000001"},
      {Value::TimeTz(36000000000, 7200), ValueKind::kTimeTz, "timetz 10:00:00+02:00"},
      {Value::Timestamp(1706695200500000), ValueKind::kTimestamp,
       "timestamp 2024-01-31T10:00:00.5"},
      {Value::TimestampTz(1706695200000001), ValueKind::kTimestampTz,
       "timestamptz 2024-01-31T10:00:00.000001Z"},
      {Value::FromInterval(Interval{14, 3, 5}), ValueKind::kInterval,
       "interval 14 months 3 days 5 us"},
      {Value::Uuid(SampleUuid()), ValueKind::kUuid,
       "uuid 123e4567-e89b-12d3-a456-426614174000"},
      {Value::Json("{\"a\":1}"), ValueKind::kJson, "json {\"a\":1}"},
      {Value::Enum("happy"), ValueKind::kEnum, "enum \"happy\""},
      {Value::Array({Value::Int32(1), Value()}), ValueKind::kArray,
       "array [int32 1, null]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.value.kind(), c.kind) << c.text;
    EXPECT_EQ(c.value.ToString(), c.text);
    EXPECT_EQ(c.value, c.value);
    Value copy = c.value;
    EXPECT_EQ(copy, c.value);
  }
  EXPECT_TRUE(cases[2].value.AsBool());
  EXPECT_EQ(cases[3].value.AsInt8(), -8);
  EXPECT_EQ(cases[4].value.AsInt16(), -16);
  EXPECT_EQ(cases[5].value.AsInt32(), 32);
  EXPECT_EQ(cases[6].value.AsInt64(), -64);
  EXPECT_EQ(cases[7].value.AsUInt8(), 255);
  EXPECT_EQ(cases[8].value.AsUInt16(), 65535);
  EXPECT_EQ(cases[9].value.AsUInt32(), 4294967295u);
  EXPECT_EQ(cases[10].value.AsUInt64(), 18446744073709551615ull);
  EXPECT_EQ(cases[11].value.AsFloat(), 0.5f);
  EXPECT_EQ(cases[12].value.AsDouble(), 0.2);
  EXPECT_EQ(cases[13].value.AsDecimal().UnscaledString(), "1230");
  EXPECT_EQ(cases[14].value.AsString(), "a\"b");
  EXPECT_EQ(cases[15].value.AsBytes(), (Bytes{0x00, 0xff}));
  EXPECT_EQ(cases[16].value.AsDate(), 19753);
  EXPECT_EQ(cases[17].value.AsTime(), 36000000001);
  EXPECT_EQ(cases[18].value.AsTimeTz(), (ZonedTime{36000000000, 7200}));
  EXPECT_EQ(cases[19].value.AsTimestamp(), 1706695200500000);
  EXPECT_EQ(cases[20].value.AsTimestampTz(), 1706695200000001);
  EXPECT_EQ(cases[21].value.AsInterval(), (Interval{14, 3, 5}));
  EXPECT_EQ(cases[22].value.AsUuid(), SampleUuid());
  EXPECT_EQ(cases[23].value.AsJson(), "{\"a\":1}");
  EXPECT_EQ(cases[24].value.AsEnum(), "happy");
  ASSERT_EQ(cases[25].value.AsArray().size(), 2u);
  EXPECT_TRUE(cases[25].value.AsArray()[1].is_null());
}

TEST(ValueTest, EqualityNeedsSameKindAndValue) {
  EXPECT_NE(Value::Int32(1), Value::Int64(1));
  EXPECT_NE(Value::String("a"), Value::Json("a"));
  EXPECT_NE(Value::String("a"), Value::Enum("a"));
  EXPECT_NE(Value(), Value::Unavailable());
  EXPECT_NE(Value::Timestamp(5), Value::TimestampTz(5));
  EXPECT_EQ(Value::Double(std::nan("")), Value::Double(std::nan("")));
  EXPECT_EQ(Value::Float(std::nanf("")), Value::Float(std::nanf("")));
  EXPECT_NE(Value::Double(1.0), Value::Double(1.5));
  EXPECT_NE(Value::TimeTz(1, 0), Value::TimeTz(1, 3600));
  EXPECT_NE(Value::Numeric(Decimal::FromInt128(10, 1)),
            Value::Numeric(Decimal::FromInt128(1, 0)));
}

TEST(ValueTest, NestedArraysCompareDeeply) {
  Value nested = Value::Array(
      {Value::Array({Value::Int32(1), Value::Int32(2)}), Value(), Value::Array({})});
  Value same = Value::Array(
      {Value::Array({Value::Int32(1), Value::Int32(2)}), Value(), Value::Array({})});
  Value different = Value::Array(
      {Value::Array({Value::Int32(1), Value::Int32(3)}), Value(), Value::Array({})});
  EXPECT_EQ(nested, same);
  EXPECT_NE(nested, different);
  EXPECT_EQ(nested.ToString(), "array [array [int32 1, int32 2], null, array []]");
}

TEST(ValueTest, WideningHelpers) {
  EXPECT_EQ(Value::Int8(-3).ToInt64(), -3);
  EXPECT_EQ(Value::UInt32(7).ToInt64(), 7);
  EXPECT_FALSE(Value::UInt64(18446744073709551615ull).ToInt64().has_value());
  EXPECT_FALSE(Value::String("1").ToInt64().has_value());
  EXPECT_EQ(Value::Float(0.5f).ToDouble(), 0.5);
  EXPECT_EQ(Value::Int32(2).ToDouble(), 2.0);
  EXPECT_EQ(Value::Enum("x").ToText(), "x");
  EXPECT_EQ(Value::Json("[]").ToText(), "[]");
  EXPECT_FALSE(Value::Int32(1).ToText().has_value());
}

TEST(ValueDeathTest, ReadingTheWrongKindIsAProgrammerError) {
  EXPECT_DEATH((void)Value::Int32(1).AsString(), "int32 read as string");
}

TEST(CalendarTest, CivilDaysAroundTheEpoch) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
  CivilDate date = CivilFromDays(-25567);
  EXPECT_EQ(date.year, 1900);
  EXPECT_EQ(date.month, 1u);
  EXPECT_EQ(date.day, 1u);
  for (int32_t days : {-1000000, -719528, -1, 0, 1, 11016, 11017, 2932896}) {
    CivilDate civil = CivilFromDays(days);
    EXPECT_EQ(DaysFromCivil(civil.year, civil.month, civil.day), days);
  }
}

TEST(CalendarTest, DatesFormatAndParseIncludingPreEpochAndBce) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(-25567), "1900-01-01");
  int32_t ides = DaysFromCivil(-44, 3, 15);
  EXPECT_EQ(FormatDate(ides), "-0044-03-15");
  EXPECT_EQ(ParseDate("-0044-03-15").value(), ides);
  EXPECT_EQ(FormatDate(DaysFromCivil(10000, 1, 1)), "+10000-01-01");
  EXPECT_EQ(ParseDate("+10000-01-01").value(), DaysFromCivil(10000, 1, 1));
  EXPECT_EQ(ParseDate("2024-02-29").value(), 19782);
  EXPECT_EQ(FormatDate(kDateInfinity), "infinity");
  EXPECT_EQ(ParseDate("-infinity").value(), kDateNegativeInfinity);
  for (std::string_view bad : {"2023-02-29", "2024-13-01", "2024-1-01", "20240101", ""}) {
    Result<int32_t> parsed = ParseDate(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find(std::string(bad)), std::string::npos);
  }
}

TEST(CalendarTest, TimesFormatAndParse) {
  EXPECT_EQ(FormatTime(0), "00:00:00");
  EXPECT_EQ(FormatTime(1), "00:00:00.000001");
  EXPECT_EQ(FormatTime(45296789000), "12:34:56.789");
  EXPECT_EQ(FormatTime(kMicrosPerDay), "24:00:00");
  EXPECT_EQ(ParseTime("12:34:56.789").value(), 45296789000);
  EXPECT_EQ(ParseTime("12:34").value(), 45240000000);
  EXPECT_EQ(ParseTime("23:59:59.123456789").value(), 86399123456) << "nanos truncate";
  EXPECT_FALSE(ParseTime("25:00:00").ok());
  EXPECT_FALSE(ParseTime("12:34:56.").ok());
  Result<ZonedTime> zoned = ParseTimeTz("10:15:30+01:00");
  ASSERT_TRUE(zoned.ok());
  EXPECT_EQ(*zoned, (ZonedTime{36930000000, 3600}));
  EXPECT_EQ(ParseTimeTz("10:15:30Z").value(), (ZonedTime{36930000000, 0}));
  EXPECT_EQ(ParseTimeTz("10:15:30-0530").value(), (ZonedTime{36930000000, -19800}));
  EXPECT_FALSE(ParseTimeTz("10:15:30").ok());
  EXPECT_EQ(FormatZoneOffset(-19800, true), "-05:30");
  EXPECT_EQ(FormatZoneOffset(0, true), "Z");
  EXPECT_EQ(FormatZoneOffset(0, false), "+00:00");
}

TEST(CalendarTest, TimestampsAroundTheEpoch) {
  EXPECT_EQ(FormatTimestamp(0, "Z"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999Z").value(), -1);
  EXPECT_EQ(ParseTimestamp("1969-12-31 23:59:59.999999").value(), -1);
  EXPECT_EQ(FormatTimestamp(-2208988800000000), "1900-01-01T00:00:00");
  EXPECT_EQ(ParseTimestamp("1900-01-01T00:00:00Z").value(), -2208988800000000);
  int32_t offset = 0;
  EXPECT_EQ(ParseTimestamp("2024-01-01T01:00:00+01:00", &offset).value(),
            ParseTimestamp("2024-01-01T00:00:00Z").value());
  EXPECT_EQ(offset, 3600);
  EXPECT_EQ(ParseTimestamp("2018-06-20T13:37:03.123456789Z").value(), 1529501823123456);
  EXPECT_EQ(FormatTimestamp(kTimestampInfinity, "Z"), "infinity");
  EXPECT_EQ(FormatTimestamp(kTimestampNegativeInfinity), "-infinity");
  EXPECT_EQ(ParseTimestamp("infinity").value(), kTimestampInfinity);
  EXPECT_EQ(ParseTimestamp("-infinity").value(), kTimestampNegativeInfinity);
  for (std::string_view bad : {"2024-01-01", "2024-01-01T", "2024-01-01T10:00:00+25:00",
                               "2024-01-01X10:00:00", "2024-01-01T10:00:00Zjunk"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
}

TEST(CalendarTest, UuidsFormatAndParse) {
  EXPECT_EQ(FormatUuid(SampleUuid()), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(ParseUuid("123E4567-E89B-12D3-A456-426614174000").value(), SampleUuid());
  EXPECT_FALSE(ParseUuid("123e4567e89b12d3a456426614174000").ok());
  EXPECT_FALSE(ParseUuid("123e4567-e89b-12d3-a456-42661417400g").ok());
}

TEST(CalendarTest, IsoIntervalsAsDebeziumWritesThem) {
  Interval interval{14, 3, ((4 * 60 + 5) * 60 + 6) * kMicrosPerSecond + 780000};
  EXPECT_EQ(FormatIsoInterval(interval), "P1Y2M3DT4H5M6.78S");
  EXPECT_EQ(ParseIsoInterval("P1Y2M3DT4H5M6.78S").value(), interval);
  EXPECT_EQ(FormatIsoInterval(Interval{}), "P0Y0M0DT0H0M0S");
  Interval negative{-1, -2, -(3 * kMicrosPerSecond + 500000)};
  EXPECT_EQ(FormatIsoInterval(negative), "P0Y-1M-2DT0H0M-3.5S");
  EXPECT_EQ(ParseIsoInterval(FormatIsoInterval(negative)).value(), negative);
  EXPECT_EQ(ParseIsoInterval("P2W").value(), (Interval{0, 14, 0}));
  EXPECT_EQ(ParseIsoInterval("-P1D").value(), (Interval{0, -1, 0}));
  EXPECT_EQ(ParseIsoInterval("PT0.000001S").value(), (Interval{0, 0, 1}));
  for (std::string_view bad : {"", "P", "1Y", "P1.5Y", "PT1X", "P1YT"}) {
    EXPECT_FALSE(ParseIsoInterval(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tributary::core
