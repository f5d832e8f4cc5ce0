#include "core/internal/debezium_connect.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/internal/base64.h"

namespace tributary::core::internal {
namespace {

using nlohmann::json;

json Plain(const OrderedJson& ordered) {
  return json::parse(ordered.dump());
}

DataType Named(TypeKind kind, std::string name) {
  DataType type = DataType::Of(kind);
  type.connect_name = std::move(name);
  return type;
}

TEST(Base64Test, RoundTripsAndRejectsGarbage) {
  std::vector<uint8_t> bytes = {0xde, 0xad, 0xbe, 0xef, 0x00};
  EXPECT_EQ(Base64Encode(bytes), "3q2+7wA=");
  EXPECT_EQ(Base64Decode("3q2+7wA=").value(), bytes);
  EXPECT_EQ(Base64Decode("3q2+7wA").value(), bytes) << "padding is optional";
  EXPECT_EQ(Base64Encode({}), "");
  EXPECT_TRUE(Base64Decode("").value().empty());
  EXPECT_FALSE(Base64Decode("3q2*").ok());
  EXPECT_FALSE(Base64Decode("A").ok());
}

// Connect schema generation for every kind (Debezium "Data type mappings").
TEST(ConnectSchemaTest, EveryKindHasItsDebeziumSchema) {
  struct Case {
    DataType type;
    std::string schema;
  };
  DataType bits = Named(TypeKind::kBytes, "io.debezium.data.Bits");
  bits.connect_parameters["length"] = "3";
  const std::vector<Case> cases = {
      {DataType::Of(TypeKind::kBool), R"({"type":"boolean","optional":true})"},
      {DataType::Of(TypeKind::kInt8), R"({"type":"int16","optional":true})"},
      {DataType::Of(TypeKind::kInt16), R"({"type":"int16","optional":true})"},
      {DataType::Of(TypeKind::kInt32), R"({"type":"int32","optional":true})"},
      {DataType::Of(TypeKind::kInt64), R"({"type":"int64","optional":true})"},
      {DataType::Of(TypeKind::kUInt8), R"({"type":"int16","optional":true})"},
      {DataType::Of(TypeKind::kUInt16), R"({"type":"int32","optional":true})"},
      {DataType::Of(TypeKind::kUInt32), R"({"type":"int64","optional":true})"},
      {DataType::Of(TypeKind::kUInt64),
       R"({"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
           "version":1,"parameters":{"scale":"0","connect.decimal.precision":"20"}})"},
      {DataType::Of(TypeKind::kFloat), R"({"type":"float","optional":true})"},
      {DataType::Of(TypeKind::kDouble), R"({"type":"double","optional":true})"},
      {DataType::Decimal(10, 2),
       R"({"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
           "version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}})"},
      {DataType::VariableDecimal(),
       R"({"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},
           {"type":"bytes","optional":false,"field":"value"}],"optional":true,
           "name":"io.debezium.data.VariableScaleDecimal","version":1,
           "doc":"Variable scaled decimal"})"},
      {DataType::Of(TypeKind::kString), R"({"type":"string","optional":true})"},
      {DataType::Of(TypeKind::kBytes), R"({"type":"bytes","optional":true})"},
      {bits,
       R"({"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,
           "parameters":{"length":"3"}})"},
      {DataType::Of(TypeKind::kDate),
       R"({"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1})"},
      {DataType::Of(TypeKind::kTime),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1})"},
      {DataType::Temporal(TypeKind::kTime, 3),
       R"({"type":"int32","optional":true,"name":"io.debezium.time.Time","version":1,
           "parameters":{"__debezium.source.column.length":"3"}})"},
      {Named(TypeKind::kTime, "io.debezium.time.NanoTime"),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.NanoTime","version":1})"},
      {DataType::Of(TypeKind::kTimeTz),
       R"({"type":"string","optional":true,"name":"io.debezium.time.ZonedTime","version":1})"},
      {DataType::Of(TypeKind::kTimestamp),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp",
           "version":1})"},
      {DataType::Temporal(TypeKind::kTimestamp, 3),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.Timestamp","version":1,
           "parameters":{"__debezium.source.column.length":"3"}})"},
      {Named(TypeKind::kTimestamp, "io.debezium.time.NanoTimestamp"),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.NanoTimestamp",
           "version":1})"},
      {DataType::Of(TypeKind::kTimestampTz),
       R"({"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp",
           "version":1})"},
      {DataType::Of(TypeKind::kInterval),
       R"({"type":"int64","optional":true,"name":"io.debezium.time.MicroDuration",
           "version":1})"},
      {Named(TypeKind::kInterval, "io.debezium.time.Interval"),
       R"({"type":"string","optional":true,"name":"io.debezium.time.Interval","version":1})"},
      {DataType::Of(TypeKind::kUuid),
       R"({"type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1})"},
      {DataType::Of(TypeKind::kJson),
       R"({"type":"string","optional":true,"name":"io.debezium.data.Json","version":1})"},
      {DataType::EnumOf({"happy", "sad"}),
       R"({"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,
           "parameters":{"allowed":"happy,sad"}})"},
      {DataType::ArrayOf(DataType::Of(TypeKind::kInt32)),
       R"({"type":"array","items":{"type":"int32","optional":true},"optional":true})"},
      {DataType::ArrayOf(DataType::Decimal(5, 1)),
       R"({"type":"array","items":{"type":"bytes","optional":true,
           "name":"org.apache.kafka.connect.data.Decimal","version":1,
           "parameters":{"scale":"1","connect.decimal.precision":"5"}},"optional":true})"},
  };
  DebeziumEncodeOptions options;
  for (const Case& c : cases) {
    EXPECT_EQ(Plain(ConnectSchemaFor(c.type, true, options)), json::parse(c.schema))
        << c.type.ToString();
  }
  EXPECT_EQ(Plain(ConnectSchemaFor(DataType::Of(TypeKind::kInt32), false, options)),
            json::parse(R"({"type":"int32","optional":false})"));
  // Source type names travel as Debezium's column.propagate.source.type parameters.
  DataType varchar = DataType::Of(TypeKind::kString);
  varchar.source_type = "varchar(20)";
  varchar.precision = 20;
  const json varchar_schema = json::parse(
      R"json({"type":"string","optional":true,"parameters":{
        "__debezium.source.column.type":"varchar(20)",
        "__debezium.source.column.length":"20"}})json");
  EXPECT_EQ(Plain(ConnectSchemaFor(varchar, true, options)), varchar_schema);
  DebeziumEncodeOptions string_mode;
  string_mode.decimal_handling = DebeziumEncodeOptions::DecimalHandling::kString;
  EXPECT_EQ(Plain(ConnectSchemaFor(DataType::Decimal(10, 2), true, string_mode)),
            json::parse(R"({"type":"string","optional":true})"));
  EXPECT_EQ(Plain(ConnectSchemaFor(DataType::VariableDecimal(), true, string_mode)),
            json::parse(R"({"type":"string","optional":true})"));
}

TEST(ConnectSchemaTest, SchemasReadBackToTheSameType) {
  DataType bits = Named(TypeKind::kBytes, "io.debezium.data.Bits");
  bits.connect_parameters["length"] = "3";
  DataType xml = Named(TypeKind::kString, "io.debezium.data.Xml");
  DataType varchar = DataType::Of(TypeKind::kString);
  varchar.source_type = "varchar(20)";
  varchar.precision = 20;
  DataType int4 = DataType::Of(TypeKind::kInt32);
  int4.source_type = "int4";
  DataType numeric = DataType::Decimal(10, 2);
  numeric.source_type = "numeric(10,2)";
  const std::vector<DataType> exact = {
      DataType::Of(TypeKind::kBool),
      DataType::Of(TypeKind::kInt16),
      DataType::Of(TypeKind::kInt32),
      DataType::Of(TypeKind::kInt64),
      DataType::Of(TypeKind::kFloat),
      DataType::Of(TypeKind::kDouble),
      DataType::Decimal(10, 2),
      DataType::Decimal(38, 0),
      DataType::VariableDecimal(),
      DataType::Of(TypeKind::kString),
      DataType::Of(TypeKind::kBytes),
      bits,
      xml,
      DataType::Of(TypeKind::kDate),
      DataType::Of(TypeKind::kTime),
      Named(TypeKind::kTime, "io.debezium.time.Time"),
      Named(TypeKind::kTime, "io.debezium.time.NanoTime"),
      DataType::Of(TypeKind::kTimeTz),
      DataType::Of(TypeKind::kTimestamp),
      Named(TypeKind::kTimestamp, "io.debezium.time.Timestamp"),
      Named(TypeKind::kTimestamp, "io.debezium.time.NanoTimestamp"),
      DataType::Of(TypeKind::kTimestampTz),
      DataType::Of(TypeKind::kInterval),
      Named(TypeKind::kInterval, "io.debezium.time.Interval"),
      DataType::Of(TypeKind::kUuid),
      DataType::Of(TypeKind::kJson),
      DataType::EnumOf({"happy", "sad"}),
      DataType::ArrayOf(DataType::ArrayOf(DataType::Of(TypeKind::kString))),
      DataType::Temporal(TypeKind::kTime, 3),
      DataType::Temporal(TypeKind::kTime, 6),
      DataType::Temporal(TypeKind::kTimestamp, 0),
      DataType::Temporal(TypeKind::kTimestampTz, 6),
      varchar,
      int4,
      numeric,
  };
  DebeziumEncodeOptions options;
  for (const DataType& type : exact) {
    Result<DataType> decoded =
        DataTypeFromConnectSchema(ConnectSchemaFor(type, true, options), "schema");
    ASSERT_TRUE(decoded.ok()) << type.ToString() << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, type) << type.ToString() << " came back as "
                              << decoded->ToString();
  }
  // Kinds Debezium widens come back as the wider kind.
  EXPECT_EQ(DataTypeFromConnectSchema(
                ConnectSchemaFor(DataType::Of(TypeKind::kUInt8), true, options), "s")
                .value(),
            DataType::Of(TypeKind::kInt16));
  EXPECT_EQ(DataTypeFromConnectSchema(
                ConnectSchemaFor(DataType::Of(TypeKind::kUInt64), true, options), "s")
                .value(),
            DataType::Decimal(20, 0));
}

TEST(ConnectSchemaTest, MalformedSchemasNameTheField) {
  Result<DataType> no_type = DataTypeFromConnectSchema(
      OrderedJson::parse(R"({"optional":true})"), "schema.fields[0]");
  ASSERT_FALSE(no_type.ok());
  EXPECT_NE(no_type.status().message().find("schema.fields[0].type"), std::string::npos);
  Result<DataType> no_scale = DataTypeFromConnectSchema(
      OrderedJson::parse(
          R"({"type":"bytes","name":"org.apache.kafka.connect.data.Decimal"})"),
      "s");
  ASSERT_FALSE(no_scale.ok());
  EXPECT_NE(no_scale.status().message().find("s.parameters.scale"), std::string::npos);
  EXPECT_FALSE(
      DataTypeFromConnectSchema(OrderedJson::parse(R"({"type":"int128"})"), "s").ok());
  Result<Column> column = ColumnFromConnectField(
      OrderedJson::parse(R"({"type":"int32","optional":true})"), "schema.fields[1]");
  ASSERT_FALSE(column.ok());
  EXPECT_NE(column.status().message().find("schema.fields[1].field"), std::string::npos);
}

struct ValueCase {
  DataType type;
  Value value;
  std::string json_text;
};

void ExpectRoundTrip(const ValueCase& c, const DebeziumEncodeOptions& options = {}) {
  Result<OrderedJson> encoded = EncodeConnectValue(c.value, c.type, options, "after.col");
  ASSERT_TRUE(encoded.ok()) << c.value.ToString() << ": " << encoded.status().ToString();
  EXPECT_EQ(Plain(*encoded), json::parse(c.json_text)) << c.value.ToString();
  Result<Value> decoded =
      DecodeConnectValue(*encoded, c.type, "after.col", options.decimal_handling);
  ASSERT_TRUE(decoded.ok()) << c.json_text << ": " << decoded.status().ToString();
  EXPECT_EQ(*decoded, c.value) << c.json_text;
}

TEST(ConnectValueTest, DecimalsAsBase64TwosComplement) {
  const std::vector<ValueCase> cases = {
      // 10.00 -> unscaled 1000 = 0x03E8.
      {DataType::Decimal(10, 2), Value::Numeric(Decimal::FromInt128(1000, 2)),
       R"("A+g=")"},
      {DataType::Decimal(10, 2), Value::Numeric(Decimal::FromInt128(0, 2)), R"("AA==")"},
      {DataType::Decimal(10, 2), Value::Numeric(Decimal::FromInt128(-5, 2)), R"("+w==")"},
      {DataType::Decimal(38, 0),
       Value::Numeric(
           Decimal::FromString("99999999999999999999999999999999999999").value()),
       R"("SztMqFqGxHoJiiI//////w==")"},
      // 3.14159 -> scale 5, unscaled 314159 = 0x04CB2F.
      {DataType::VariableDecimal(), Value::Numeric(Decimal::FromInt128(314159, 5)),
       R"({"scale":5,"value":"BMsv"})"},
      {DataType::VariableDecimal(),
       Value::Numeric(
           Decimal::FromString("-1361129467683753853853498429727072845824.5").value()),
       R"({"scale":1,"value":"1/////////////////////s="})"},
      {DataType::Of(TypeKind::kUInt64), Value::UInt64(18446744073709551615ull),
       R"("AP//////////")"},
  };
  for (const ValueCase& c : cases) {
    ExpectRoundTrip(c);
  }
}

TEST(ConnectValueTest, DecimalsAreRescaledExactlyToTheColumnScale) {
  DebeziumEncodeOptions options;
  Result<OrderedJson> rescaled =
      EncodeConnectValue(Value::Numeric(Decimal::FromInt128(15, 1)),
                         DataType::Decimal(5, 2), options, "after.p");
  ASSERT_TRUE(rescaled.ok());
  EXPECT_EQ(*rescaled, "AJY=");  // 150
  Result<OrderedJson> lossy =
      EncodeConnectValue(Value::Numeric(Decimal::FromInt128(1505, 3)),
                         DataType::Decimal(5, 2), options, "after.p");
  ASSERT_FALSE(lossy.ok());
  EXPECT_NE(lossy.status().message().find("after.p"), std::string::npos);
}

// WriteConnectValue builds the Connect Decimal bytes without Decimal::ToTwosComplement on
// the fast path (unscaled values within 38 digits); both must give the same bytes.
TEST(ConnectValueTest, DecimalBytesMatchTheTwosComplementOfTheDecimal) {
  DebeziumEncodeOptions options;
  std::vector<Int128> unscaled = {
      0,   1,   -1,   127,   128,    -128,          -129,
      255, 256, -256, 32767, -32768, 1'000'000'007, -1'000'000'007};
  Int128 power = 1;
  for (int digits = 1; digits <= 38; ++digits) {
    power *= 10;
    unscaled.push_back(power - 1);
    unscaled.push_back(-(power - 1));
    unscaled.push_back(power / 2 + 3);
  }
  for (Int128 value : unscaled) {
    Decimal decimal = Decimal::FromInt128(value, 2);
    std::string out;
    JsonWriter writer(out);
    ASSERT_TRUE(WriteConnectValue(writer, Value::Numeric(decimal),
                                  DataType::Decimal(-1, 2), options,
                                  FieldPath{nullptr, "after.d", std::nullopt})
                    .ok());
    EXPECT_EQ(out, "\"" + Base64Encode(decimal.ToTwosComplement()) + "\"")
        << decimal.ToString();
  }
}

TEST(ConnectValueTest, FieldPathsNameNestedElements) {
  FieldPath root{nullptr, "after", std::nullopt};
  FieldPath column{&root, "tags", std::nullopt};
  FieldPath element{&column, {}, 3};
  EXPECT_EQ(element.ToString(), "after.tags[3]");
  std::string out;
  JsonWriter writer(out);
  Status mismatch = WriteConnectValue(
      writer, Value::Array({Value::Int32(1), Value::String("x")}),
      DataType::ArrayOf(DataType::Of(TypeKind::kInt32)), DebeziumEncodeOptions{}, column);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message().find("after.tags[1]"), std::string::npos)
      << mismatch.error().message();
}

TEST(ConnectValueTest, SpecialDecimalsFollowTheDecimalHandlingMode) {
  DebeziumEncodeOptions precise;
  for (const DataType& type : {DataType::Decimal(10, 2), DataType::VariableDecimal()}) {
    EXPECT_TRUE(EncodeConnectValue(Value::Numeric(Decimal::NaN()), type, precise, "a.n")
                    .value()
                    .is_null());
  }
  DebeziumEncodeOptions string_mode;
  string_mode.decimal_handling = DebeziumEncodeOptions::DecimalHandling::kString;
  ExpectRoundTrip(
      {DataType::VariableDecimal(), Value::Numeric(Decimal::NaN()), R"("NaN")"},
      string_mode);
  ExpectRoundTrip({DataType::VariableDecimal(),
                   Value::Numeric(Decimal::NegativeInfinity()), R"("-Infinity")"},
                  string_mode);
  ExpectRoundTrip({DataType::Decimal(10, 2),
                   Value::Numeric(Decimal::FromInt128(-1234, 2)), R"("-12.34")"},
                  string_mode);
  ExpectRoundTrip({DataType::Of(TypeKind::kUInt64),
                   Value::UInt64(18446744073709551615ull), R"("18446744073709551615")"},
                  string_mode);
}

TEST(ConnectValueTest, TemporalValuesIncludingPreEpoch) {
  const std::vector<ValueCase> cases = {
      {DataType::Of(TypeKind::kDate), Value::Date(-25567), "-25567"},
      {DataType::Of(TypeKind::kDate), Value::Date(19753), "19753"},
      {DataType::Temporal(TypeKind::kTime, 3), Value::Time(45296789000), "45296789"},
      {DataType::Of(TypeKind::kTime), Value::Time(45296789123), "45296789123"},
      {Named(TypeKind::kTime, "io.debezium.time.NanoTime"), Value::Time(1), "1000"},
      {DataType::Temporal(TypeKind::kTimestamp, 3), Value::Timestamp(-2208988800000000),
       "-2208988800000"},
      {DataType::Of(TypeKind::kTimestamp), Value::Timestamp(-1), "-1"},
      {Named(TypeKind::kTimestamp, "io.debezium.time.NanoTimestamp"),
       Value::Timestamp(-1), "-1000"},
      {DataType::Of(TypeKind::kTimestamp), Value::Timestamp(kTimestampInfinity),
       "9223372036854775807"},
      {DataType::Of(TypeKind::kTimestampTz), Value::TimestampTz(1529501823123456),
       R"("2018-06-20T13:37:03.123456Z")"},
      {DataType::Of(TypeKind::kTimestampTz), Value::TimestampTz(-1),
       R"("1969-12-31T23:59:59.999999Z")"},
      {DataType::Of(TypeKind::kTimestampTz), Value::TimestampTz(kTimestampInfinity),
       R"("infinity")"},
      {DataType::Of(TypeKind::kTimestampTz),
       Value::TimestampTz(kTimestampNegativeInfinity), R"("-infinity")"},
      {DataType::Of(TypeKind::kTimeTz), Value::TimeTz(33330000000, 0), R"("09:15:30Z")"},
      {DataType::Of(TypeKind::kInterval),
       Value::FromInterval(Interval{0, 0, -90061000001}), "-90061000001"},
      {Named(TypeKind::kInterval, "io.debezium.time.Interval"),
       Value::FromInterval(Interval{14, 3, 3723500000}), R"("P1Y2M3DT1H2M3.5S")"},
  };
  for (const ValueCase& c : cases) {
    ExpectRoundTrip(c);
  }
}

TEST(ConnectValueTest, LossyTemporalConversionsFollowDebezium) {
  DebeziumEncodeOptions options;
  // Millisecond timestamps floor (towards the past) like Instant.toEpochMilli().
  EXPECT_EQ(
      EncodeConnectValue(Value::Timestamp(-1),
                         DataType::Temporal(TypeKind::kTimestamp, 3), options, "a.t")
          .value(),
      -1);
  // timetz is normalised to UTC, as Debezium's ZonedTime does.
  EXPECT_EQ(EncodeConnectValue(Value::TimeTz(36930000000, 3600),
                               DataType::Of(TypeKind::kTimeTz), options, "a.t")
                .value(),
            "09:15:30Z");
  EXPECT_EQ(EncodeConnectValue(Value::TimeTz(3600000000, 7200),
                               DataType::Of(TypeKind::kTimeTz), options, "a.t")
                .value(),
            "23:00:00Z");
  // MicroDuration counts a month as 30.4375 days.
  EXPECT_EQ(EncodeConnectValue(Value::FromInterval(Interval{1, 2, 3}),
                               DataType::Of(TypeKind::kInterval), options, "a.i")
                .value(),
            2629800000000LL + 2 * 86400000000LL + 3);
  // A zoned timestamp with an offset reads as the same instant.
  EXPECT_EQ(DecodeConnectValue(OrderedJson("2018-06-20T15:37:03+02:00"),
                               DataType::Of(TypeKind::kTimestampTz), "a.t")
                .value(),
            Value::TimestampTz(1529501823000000));
}

TEST(ConnectValueTest, OtherKinds) {
  UuidBytes uuid{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
                 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
  DataType bits = Named(TypeKind::kBytes, "io.debezium.data.Bits");
  const std::vector<ValueCase> cases = {
      {DataType::Of(TypeKind::kBool), Value::Bool(false), "false"},
      {DataType::Of(TypeKind::kInt16), Value::Int16(-32768), "-32768"},
      {DataType::Of(TypeKind::kInt32), Value::Int32(2147483647), "2147483647"},
      {DataType::Of(TypeKind::kInt64), Value::Int64(INT64_MIN), "-9223372036854775808"},
      {DataType::Of(TypeKind::kFloat), Value::Float(0.2f), "0.2"},
      {DataType::Of(TypeKind::kDouble), Value::Double(5.170000076293945),
       "5.170000076293945"},
      {DataType::Of(TypeKind::kDouble), Value::Double(std::nan("")), R"("NaN")"},
      {DataType::Of(TypeKind::kDouble), Value::Double(-HUGE_VAL), R"("-Infinity")"},
      {DataType::Of(TypeKind::kString), Value::String("héllo \"q\""), R"("héllo \"q\"")"},
      {DataType::Of(TypeKind::kBytes), Value::Binary({0xde, 0xad}), R"("3q0=")"},
      {bits, Value::Binary({0x05}), R"("BQ==")"},
      {DataType::Of(TypeKind::kUuid), Value::Uuid(uuid),
       R"("123e4567-e89b-12d3-a456-426614174000")"},
      {DataType::Of(TypeKind::kJson), Value::Json(R"({"a":[1,2]})"),
       R"("{\"a\":[1,2]}")"},
      {DataType::EnumOf({"happy", "sad"}), Value::Enum("sad"), R"("sad")"},
      {DataType::ArrayOf(DataType::Of(TypeKind::kInt32)),
       Value::Array({Value::Int32(1), Value(), Value::Int32(-3)}), "[1,null,-3]"},
      {DataType::ArrayOf(DataType::ArrayOf(DataType::Of(TypeKind::kString))),
       Value::Array({Value::Array({Value::String("a")}), Value::Array({})}),
       R"([["a"],[]])"},
      {DataType::Of(TypeKind::kInt32), Value(), "null"},
  };
  for (const ValueCase& c : cases) {
    ExpectRoundTrip(c);
  }
}

TEST(ConnectValueTest, UnavailablePlaceholder) {
  const std::string placeholder = "\"__debezium_unavailable_value\"";
  std::vector<uint8_t> placeholder_bytes(kDebeziumUnavailablePlaceholder.begin(),
                                         kDebeziumUnavailablePlaceholder.end());
  const std::string placeholder_base64 = "\"" + Base64Encode(placeholder_bytes) + "\"";
  const std::vector<ValueCase> cases = {
      {DataType::Of(TypeKind::kString), Value::Unavailable(), placeholder},
      {DataType::Of(TypeKind::kJson), Value::Unavailable(), placeholder},
      {DataType::Of(TypeKind::kBytes), Value::Unavailable(), placeholder_base64},
      {DataType::Decimal(10, 2), Value::Unavailable(), placeholder_base64},
      {DataType::ArrayOf(DataType::Of(TypeKind::kInt32)), Value::Unavailable(),
       "[" + placeholder + "]"},
  };
  for (const ValueCase& c : cases) {
    ExpectRoundTrip(c);
  }
  // Types that cannot hold the placeholder are written as null (as Debezium does).
  EXPECT_TRUE(EncodeConnectValue(Value::Unavailable(), DataType::Of(TypeKind::kInt32),
                                 DebeziumEncodeOptions{}, "a.i")
                  .value()
                  .is_null());
}

TEST(ConnectValueTest, MismatchesNameTheField) {
  struct Bad {
    DataType type;
    std::string json_text;
    std::string message_part;
  };
  const std::vector<Bad> cases = {
      {DataType::Of(TypeKind::kInt32), R"("abc")", "expected int32"},
      {DataType::Of(TypeKind::kInt16), "70000", "out of range for int16"},
      {DataType::Of(TypeKind::kInt64), "1.5", "expected int64"},
      {DataType::Of(TypeKind::kBool), "1", "expected boolean"},
      {DataType::Decimal(10, 2), R"("!!")", "base64"},
      {DataType::VariableDecimal(), R"({"scale":1})", "'scale' and 'value'"},
      {DataType::Of(TypeKind::kTimestampTz), R"("yesterday")", "not a timestamp"},
      {DataType::Of(TypeKind::kUuid), R"("123")", "not a UUID"},
      {DataType::ArrayOf(DataType::Of(TypeKind::kInt32)), R"([1,"x"])", "after.col[1]"},
  };
  for (const Bad& c : cases) {
    Result<Value> decoded =
        DecodeConnectValue(OrderedJson::parse(c.json_text), c.type, "after.col");
    ASSERT_FALSE(decoded.ok()) << c.json_text;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find("after.col"), std::string::npos)
        << decoded.status().message();
    EXPECT_NE(decoded.status().message().find(c.message_part), std::string::npos)
        << decoded.status().message();
  }
  Result<OrderedJson> wrong_kind =
      EncodeConnectValue(Value::String("x"), DataType::Of(TypeKind::kInt32),
                         DebeziumEncodeOptions{}, "after.id");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_NE(wrong_kind.status().message().find("after.id"), std::string::npos);
}

TEST(SchemalessTest, InfersTypesFromJson) {
  EXPECT_EQ(InferDataType(OrderedJson::parse("1")), DataType::Of(TypeKind::kInt64));
  EXPECT_EQ(InferDataType(OrderedJson::parse("18446744073709551615")),
            DataType::Of(TypeKind::kUInt64));
  EXPECT_EQ(InferDataType(OrderedJson::parse("1.0")), DataType::Of(TypeKind::kDouble));
  EXPECT_EQ(InferDataType(OrderedJson::parse("\"x\"")), DataType::Of(TypeKind::kString));
  EXPECT_EQ(InferDataType(OrderedJson::parse("true")), DataType::Of(TypeKind::kBool));
  EXPECT_EQ(InferDataType(OrderedJson::parse("{\"a\":1}")),
            DataType::Of(TypeKind::kJson));
  EXPECT_EQ(InferDataType(OrderedJson::parse("[null, 2]")),
            DataType::ArrayOf(DataType::Of(TypeKind::kInt64)));
  EXPECT_FALSE(InferDataType(OrderedJson::parse("null")).has_value());
  EXPECT_EQ(
      MergeInferredTypes(DataType::Of(TypeKind::kInt64), DataType::Of(TypeKind::kDouble)),
      DataType::Of(TypeKind::kDouble));
  EXPECT_FALSE(MergeInferredTypes(DataType::Of(TypeKind::kString),
                                  DataType::Of(TypeKind::kInt64)));
  EXPECT_EQ(
      DecodeSchemalessValue(OrderedJson::parse("2"), DataType::Of(TypeKind::kDouble), "a")
          .value(),
      Value::Double(2.0));
  EXPECT_EQ(DecodeSchemalessValue(OrderedJson::parse("{\"a\": 1}"),
                                  DataType::Of(TypeKind::kJson), "a")
                .value(),
            Value::Json("{\"a\":1}"));
}

}  // namespace
}  // namespace tributary::core::internal
