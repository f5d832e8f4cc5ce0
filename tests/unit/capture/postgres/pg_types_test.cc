#include "capture/postgres/internal/pg_types.h"

#include <cmath>

#include <gtest/gtest.h>

namespace tributary::capture::postgres::internal {
namespace {

using core::Value;

Value Parse(uint32_t oid, std::string_view text) {
  auto type = BuiltinType(oid);
  EXPECT_NE(type, nullptr) << oid;
  auto value = ParseTextValue(*type, text);
  EXPECT_TRUE(value.ok()) << oid << " '" << text << "': " << value.error().ToString();
  return value.ok() ? *value : Value::Null();
}

TEST(PgTypesTest, ParsesScalars) {
  EXPECT_EQ(Parse(16, "t"), Value::Bool(true));
  EXPECT_EQ(Parse(21, "-32768"), Value::Int16(-32768));
  EXPECT_EQ(Parse(23, "2147483647"), Value::Int32(2147483647));
  EXPECT_EQ(Parse(20, "-9223372036854775808"), Value::Int64(INT64_MIN));
  EXPECT_EQ(Parse(700, "1.5"), Value::Float(1.5f));
  EXPECT_EQ(Parse(701, "-Infinity"), Value::Double(-INFINITY));
  EXPECT_TRUE(std::isnan(Parse(701, "NaN").AsDouble()));
  EXPECT_EQ(Parse(701, "0.1"), Value::Double(0.1));
  EXPECT_EQ(Parse(1700, "NaN").AsDecimal(), core::Decimal::NaN());
  EXPECT_EQ(Parse(1700, "-Infinity").AsDecimal(), core::Decimal::NegativeInfinity());
  EXPECT_EQ(Parse(1700, "123456789012345678901234567890.123456789").AsDecimal().ToString(),
            "123456789012345678901234567890.123456789");
  EXPECT_EQ(Parse(790, "-$1,234.56").AsDecimal().ToString(), "-1234.56");
  EXPECT_EQ(Parse(17, "\\x00ff10"), Value::Binary({0x00, 0xff, 0x10}));
  EXPECT_EQ(Parse(17, "\\x"), Value::Binary({}));
  EXPECT_EQ(Parse(25, "héllo"), Value::String("héllo"));
  EXPECT_EQ(Parse(3802, "{\"a\": 1}"), Value::Json("{\"a\": 1}"));
  EXPECT_EQ(Parse(2950, "123e4567-e89b-12d3-a456-426614174000").kind(), core::ValueKind::kUuid);
}

TEST(PgTypesTest, ParsesDatesAndTimes) {
  EXPECT_EQ(Parse(1082, "1970-01-02"), Value::Date(1));
  EXPECT_EQ(Parse(1082, "infinity"), Value::Date(core::kDateInfinity));
  EXPECT_EQ(Parse(1082, "0001-12-31 BC"), Value::Date(core::DaysFromCivil(0, 12, 31)));
  EXPECT_EQ(Parse(1083, "24:00:00"), Value::Time(core::kMicrosPerDay));
  EXPECT_EQ(Parse(1083, "01:02:03.5"), Value::Time(3723500000));
  EXPECT_EQ(Parse(1266, "10:00:00+05:30"), Value::TimeTz(36000000000, 19800));
  EXPECT_EQ(Parse(1114, "1970-01-01 00:00:01.000001"), Value::Timestamp(1000001));
  EXPECT_EQ(Parse(1184, "1970-01-01 02:00:00+02"), Value::TimestampTz(0));
  EXPECT_EQ(Parse(1184, "-infinity"), Value::TimestampTz(core::kTimestampNegativeInfinity));
  EXPECT_EQ(Parse(1186, "P1Y2M3DT4H5M6.5S"),
            Value::FromInterval({14, 3, (4 * 3600 + 5 * 60 + 6) * 1000000LL + 500000}));
  EXPECT_EQ(Parse(1186, "P-1Y-2M3DT-4H-5M-6.25S"),
            Value::FromInterval({-14, 3, -((4 * 3600 + 5 * 60 + 6) * 1000000LL + 250000)}));
  EXPECT_EQ(Parse(1186, "PT0S"), Value::FromInterval({0, 0, 0}));
}

TEST(PgTypesTest, ParsesArrays) {
  auto int_array = std::make_shared<PgType>();
  int_array->name = "_int4";
  int_array->parser = TextParser::kArray;
  int_array->element = BuiltinType(23);
  auto value = ParseTextValue(*int_array, "{{1,2},{3,NULL}}");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, Value::Array({Value::Array({Value::Int32(1), Value::Int32(2)}),
                                  Value::Array({Value::Int32(3), Value::Null()})}));
  auto text_array = std::make_shared<PgType>();
  text_array->name = "_text";
  text_array->parser = TextParser::kArray;
  text_array->element = BuiltinType(25);
  auto texts = ParseTextValue(*text_array, R"({"a,b","q\"uote","NULL",NULL,"",plain})");
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(*texts, Value::Array({Value::String("a,b"), Value::String("q\"uote"),
                                  Value::String("NULL"), Value::Null(), Value::String(""),
                                  Value::String("plain")}));
  EXPECT_EQ(*ParseTextValue(*int_array, "[0:1]={5,6}"),
            Value::Array({Value::Int32(5), Value::Int32(6)}));
  EXPECT_EQ(*ParseTextValue(*int_array, "{}"), Value::Array({}));
  EXPECT_FALSE(ParseTextValue(*int_array, "{1,2").ok());
}

TEST(PgTypesTest, RejectsMalformedText) {
  for (auto [oid, text] : std::vector<std::pair<uint32_t, std::string>>{
           {16, "yes"}, {23, "1.5"}, {21, "70000"}, {1082, "2024-13-01"},
           {17, "00ff"}, {1186, "1 day"}, {2950, "nope"}}) {
    auto value = ParseTextValue(*BuiltinType(oid), text);
    ASSERT_FALSE(value.ok()) << oid << " " << text;
    EXPECT_EQ(value.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(PgTypesTest, MapsTypeModifiers) {
  auto numeric = ToDataType(*BuiltinType(1700), ((12 << 16) | 3) + 4);
  EXPECT_EQ(numeric.kind, core::TypeKind::kDecimal);
  EXPECT_EQ(numeric.precision, 12);
  EXPECT_EQ(numeric.scale, 3);
  EXPECT_TRUE(ToDataType(*BuiltinType(1700), -1).variable_scale);
  // PostgreSQL 15 numeric(3,-2).
  auto negative = ToDataType(*BuiltinType(1700), ((3 << 16) | (0x7ff & -2)) + 4);
  EXPECT_EQ(negative.scale, -2);
  EXPECT_EQ(ToDataType(*BuiltinType(1043), 24).precision, 20);
  EXPECT_EQ(ToDataType(*BuiltinType(1114), 3).precision, 3);
}

TEST(PgTypesTest, RegistryResolvesDomainsEnumsAndArrays) {
  PgTypeRegistry registry([](uint32_t oid) -> Result<PgTypeRow> {
    PgTypeRow row;
    row.oid = oid;
    if (oid == 1007) {
      row.name = "_int4";
      row.category = 'A';
      row.element = 23;
    } else if (oid == 50000) {
      row.name = "positive";
      row.typtype = 'd';
      row.base_type = 1700;
      row.typmod = ((8 << 16) | 2) + 4;
    } else if (oid == 50001) {
      row.name = "_positive";
      row.category = 'A';
      row.element = 50000;
    } else if (oid == 50002) {
      row.name = "mood";
      row.typtype = 'e';
      row.enum_labels = {"sad", "happy"};
    } else {
      return MakeError(ErrorCode::kNotFound, "no type {}", oid);
    }
    return row;
  });
  auto domain_array = registry.Resolve(50001);
  ASSERT_TRUE(domain_array.ok());
  auto type = ToDataType(**domain_array, -1);
  EXPECT_EQ(type.kind, core::TypeKind::kArray);
  EXPECT_EQ(type.element->kind, core::TypeKind::kDecimal);
  EXPECT_EQ(type.element->precision, 8);
  EXPECT_EQ(*ParseTextValue(**domain_array, "{1.50}"),
            Value::Array({Value::Numeric(*core::Decimal::FromString("1.50"))}));
  auto mood = registry.Resolve(50002);
  ASSERT_TRUE(mood.ok());
  EXPECT_EQ(ToDataType(**mood, -1).enum_values, (std::vector<std::string>{"sad", "happy"}));
  EXPECT_EQ(*ParseTextValue(**mood, "happy"), Value::Enum("happy"));
  EXPECT_FALSE(registry.Resolve(12345).ok());
}

}  // namespace
}  // namespace tributary::capture::postgres::internal
