#include "core/json_writer.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/internal/base64.h"

namespace tributary::core {
namespace {

using nlohmann::json;

std::string Written(std::string_view text) {
  std::string out;
  JsonWriter writer(out);
  writer.String(text);
  EXPECT_TRUE(writer.ok()) << writer.error();
  return out;
}

std::string WrittenDouble(double value) {
  std::string out;
  JsonWriter writer(out);
  writer.Double(value);
  return out;
}

// The writer replaced nlohmann::json::dump() on the hot path: its text must stay the
// same.
TEST(JsonWriterTest, StringsAreEscapedExactlyAsNlohmannDumps) {
  std::vector<std::string> cases = {
      "",
      "plain ascii",
      "quote \" backslash \\ slash /",
      "\b\f\n\r\t",
      std::string("nul \0 inside", 12),
      "\x01\x02\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",   // 2-, 3- and 4-byte UTF-8
      "\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf",  // U+D7FF, U+E000, U+10FFFF
      "__debezium_unavailable_value",
  };
  std::string all_bytes;
  for (int byte = 0; byte < 0x80; ++byte) {
    all_bytes.push_back(static_cast<char>(byte));
  }
  cases.push_back(all_bytes);
  for (const std::string& text : cases) {
    EXPECT_EQ(Written(text), json(text).dump()) << json(text).dump();
  }
}

TEST(JsonWriterTest, InvalidUtf8IsAnErrorAsInNlohmann) {
  std::vector<std::string> invalid = {
      "\xff",
      "ok \xc3",           // truncated 2-byte sequence
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xed\xa0\x80",      // UTF-16 surrogate U+D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf0\x9f\x98",      // truncated 4-byte sequence
      "a\x80",             // lone continuation byte
  };
  for (const std::string& text : invalid) {
    EXPECT_THROW((void)json(text).dump(), json::type_error) << "nlohmann accepted it";
    std::string out;
    JsonWriter writer(out);
    writer.String(text);
    EXPECT_FALSE(writer.ok()) << json(text).dump(-1, ' ', false,
                                                 json::error_handler_t::replace);
    EXPECT_NE(writer.error().find("invalid UTF-8"), std::string::npos) << writer.error();
    std::string literal = "x";
    EXPECT_FALSE(AppendJsonString(literal, text));
    EXPECT_EQ(literal, "x") << "nothing appended on error";
  }
  std::string out;
  JsonWriter writer(out);
  writer.String("a\xff");
  EXPECT_EQ(writer.error(), "invalid UTF-8 byte at index 1: 0xFF");
}

TEST(JsonWriterTest, NumbersAreWrittenAsNlohmannDumps) {
  for (int64_t value :
       {int64_t{0}, int64_t{-1}, int64_t{42}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    std::string out;
    JsonWriter writer(out);
    writer.Int(value);
    EXPECT_EQ(out, json(value).dump());
  }
  std::string unsigned_out;
  JsonWriter unsigned_writer(unsigned_out);
  unsigned_writer.UInt(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(unsigned_out, "18446744073709551615");

  std::vector<double> doubles = {0.0,    -0.0,
                                 1.0,    -1.5,
                                 0.1,    1.25,
                                 100.0,  1e15,
                                 1e16,   1e-4,
                                 1e-5,   123456.789,
                                 1e300,  -1e-300,
                                 5e-324, std::numeric_limits<double>::max(),
                                 0.2f,   3.14159265358979};
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-40, 40);
  for (int idx = 0; idx < 2000; ++idx) {
    doubles.push_back(std::ldexp(mantissa(random), exponent(random)));
  }
  for (double value : doubles) {
    EXPECT_EQ(WrittenDouble(value), json(value).dump()) << value;
  }
  // nlohmann writes non-finite doubles as null; so does the writer.
  EXPECT_EQ(WrittenDouble(std::nan("")), "null");
  EXPECT_EQ(WrittenDouble(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(WrittenDouble(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriterTest, StructureCommasAndRawValues) {
  std::string out;
  JsonWriter writer(out);
  writer.BeginObject();
  writer.LiteralKey("a");
  writer.BeginArray();
  writer.Int(1);
  writer.Null();
  writer.Bool(true);
  writer.BeginObject();
  writer.EndObject();
  writer.BeginArray();
  writer.EndArray();
  writer.EndArray();
  writer.Key("k\"ey");
  writer.Raw(R"({"x":[1,2]})");
  writer.Key("parts");
  writer.StringParts({"pre", ".", "sch\"ema", ".", "t"});
  writer.LiteralKey("b64");
  writer.Base64(std::vector<uint8_t>{0x00, 0xff});
  writer.EndObject();
  EXPECT_TRUE(writer.ok());
  EXPECT_EQ(
      out,
      R"({"a":[1,null,true,{},[]],"k\"ey":{"x":[1,2]},"parts":"pre.sch\"ema.t","b64":"AP8="})");
  EXPECT_EQ(nlohmann::ordered_json::parse(out).dump(), out);
}

TEST(JsonWriterTest, Base64MatchesTheDecoderAndEncoder) {
  std::mt19937 random(11);
  for (size_t length = 0; length < 40; ++length) {
    std::vector<uint8_t> bytes(length);
    for (auto& byte : bytes) {
      byte = static_cast<uint8_t>(random());
    }
    std::string out;
    JsonWriter writer(out);
    writer.Base64(bytes);
    EXPECT_EQ(out, "\"" + internal::Base64Encode(bytes) + "\"");
    auto decoded = internal::Base64Decode(out.substr(1, out.size() - 2));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(JsonWriterTest, AppendJsonStringQuotesAndEscapes) {
  std::string out = "prefix:";
  EXPECT_TRUE(AppendJsonString(out, "a\nb\xc3\xa9"));
  EXPECT_EQ(out, "prefix:\"a\\nb\xc3\xa9\"");
}

}  // namespace
}  // namespace tributary::core
