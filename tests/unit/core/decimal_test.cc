#include "core/decimal.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tributary::core {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> values) {
  std::vector<uint8_t> out;
  for (int value : values) {
    out.push_back(static_cast<uint8_t>(value));
  }
  return out;
}

Decimal Parse(std::string_view text) {
  Result<Decimal> decimal = Decimal::FromString(text);
  EXPECT_TRUE(decimal.ok()) << text << ": " << decimal.status().ToString();
  return decimal.ok() ? *decimal : Decimal();
}

TEST(DecimalTest, ZeroHasOneZeroByteAndKeepsItsScale) {
  Decimal zero;
  EXPECT_TRUE(zero.is_zero());
  EXPECT_EQ(zero.ToString(), "0");
  EXPECT_EQ(zero.ToTwosComplement(), Bytes({0x00}));
  EXPECT_EQ(Decimal::FromTwosComplement({}, 0), zero);
  Decimal scaled_zero = Decimal::FromInt128(0, 2);
  EXPECT_EQ(scaled_zero.ToString(), "0.00");
  EXPECT_EQ(scaled_zero.precision(), 1);
  EXPECT_NE(scaled_zero, zero) << "scale is part of the value, as in Connect Decimal";
  EXPECT_EQ(Parse("-0.00"), scaled_zero);
}

TEST(DecimalTest, TwosComplementMatchesJavaBigIntegerToByteArray) {
  struct Case {
    int64_t unscaled;
    std::vector<uint8_t> bytes;
  };
  const std::vector<Case> cases = {
      {1, Bytes({0x01})},
      {127, Bytes({0x7f})},
      {128, Bytes({0x00, 0x80})},
      {255, Bytes({0x00, 0xff})},
      {1000, Bytes({0x03, 0xe8})},
      {-1, Bytes({0xff})},
      {-128, Bytes({0x80})},
      {-129, Bytes({0xff, 0x7f})},
      {-1000, Bytes({0xfc, 0x18})},
      {INT64_MAX, Bytes({0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
      {INT64_MIN, Bytes({0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})},
  };
  for (const Case& c : cases) {
    Decimal decimal = Decimal::FromInt128(c.unscaled, 2);
    EXPECT_EQ(decimal.ToTwosComplement(), c.bytes) << c.unscaled;
    EXPECT_EQ(Decimal::FromTwosComplement(c.bytes, 2), decimal) << c.unscaled;
  }
  // Redundant sign bytes are accepted on input.
  EXPECT_EQ(Decimal::FromTwosComplement(Bytes({0x00, 0x00, 0x01}), 0),
            Decimal::FromInt128(1, 0));
  EXPECT_EQ(Decimal::FromTwosComplement(Bytes({0xff, 0xff, 0xff}), 0),
            Decimal::FromInt128(-1, 0));
}

TEST(DecimalTest, NegativeValuesPrintWithSignAndScale) {
  EXPECT_EQ(Decimal::FromInt128(-12340, 3).ToString(), "-12.340");
  EXPECT_EQ(Decimal::FromInt128(-5, 2).ToString(), "-0.05");
  EXPECT_TRUE(Decimal::FromInt128(-5, 2).is_negative());
  EXPECT_EQ(Parse("-12.340"), Decimal::FromInt128(-12340, 3));
  EXPECT_EQ(Parse("+7"), Decimal::FromInt128(7, 0));
}

TEST(DecimalTest, ThirtyEightDigitsStayOnTheInt128FastPath) {
  const std::string max38(38, '9');
  Decimal positive = Parse(max38);
  ASSERT_TRUE(positive.unscaled128().has_value());
  EXPECT_EQ(positive.precision(), 38);
  EXPECT_EQ(positive.ToString(), max38);
  Decimal negative = Parse("-" + max38.substr(0, 30) + "." + max38.substr(30));
  EXPECT_EQ(negative.scale(), 8);
  EXPECT_EQ(negative.ToString(), "-" + max38.substr(0, 30) + "." + max38.substr(30));
  for (const Decimal& decimal : {positive, negative}) {
    EXPECT_EQ(Decimal::FromTwosComplement(decimal.ToTwosComplement(), decimal.scale()),
              decimal);
  }
  // 10^38 - 1 needs 16 bytes (the top bit of 2^127 stays clear).
  EXPECT_EQ(positive.ToTwosComplement().size(), 16u);
}

TEST(DecimalTest, WiderThan38DigitsIsExact) {
  // 2^130 has 40 digits: BigInteger.toByteArray() gives 0x04 and 16 zero bytes.
  Decimal two_pow_130 = Parse("1361129467683753853853498429727072845824");
  EXPECT_FALSE(two_pow_130.unscaled128().has_value());
  EXPECT_EQ(two_pow_130.precision(), 40);
  std::vector<uint8_t> expected(17, 0x00);
  expected[0] = 0x04;
  EXPECT_EQ(two_pow_130.ToTwosComplement(), expected);
  EXPECT_EQ(Decimal::FromTwosComplement(expected, 0), two_pow_130);

  Decimal negative = Parse("-1361129467683753853853498429727072845824");
  std::vector<uint8_t> negative_bytes(17, 0x00);
  negative_bytes[0] = 0xfc;
  EXPECT_EQ(negative.ToTwosComplement(), negative_bytes);
  EXPECT_EQ(Decimal::FromTwosComplement(negative_bytes, 0), negative);

  const std::string huge =
      "-123456789012345678901234567890123456789012345678901234567890.123456789";
  Decimal big = Parse(huge);
  EXPECT_EQ(big.ToString(), huge);
  EXPECT_EQ(big.scale(), 9);
  EXPECT_EQ(Decimal::FromTwosComplement(big.ToTwosComplement(), 9), big);
  EXPECT_EQ(big.UnscaledString(),
            "-123456789012345678901234567890123456789012345678901234567890123456789");
}

TEST(DecimalTest, ScaleLargerThanDigitCount) {
  Decimal tiny = Decimal::FromInt128(5, 10);
  EXPECT_EQ(tiny.ToString(), "0.0000000005");
  EXPECT_EQ(Parse("0.0000000005"), tiny);
  EXPECT_EQ(tiny.precision(), 1);
}

TEST(DecimalTest, ExponentsAndNegativeScales) {
  EXPECT_EQ(Parse("1.5e3"), Decimal::FromInt128(1500, 0));
  EXPECT_EQ(Parse("1E-2"), Decimal::FromInt128(1, 2));
  EXPECT_EQ(Decimal::FromInt128(123, -2).ToString(), "12300");
}

TEST(DecimalTest, SpecialValues) {
  EXPECT_TRUE(Parse("NaN").is_nan());
  EXPECT_EQ(Parse("NaN").ToString(), "NaN");
  EXPECT_EQ(Parse("Infinity"), Decimal::PositiveInfinity());
  EXPECT_EQ(Parse("-Infinity"), Decimal::NegativeInfinity());
  EXPECT_EQ(Decimal::NegativeInfinity().ToString(), "-Infinity");
  EXPECT_TRUE(Decimal::NegativeInfinity().is_negative());
  EXPECT_TRUE(Decimal::PositiveInfinity().is_infinite());
  EXPECT_EQ(Decimal::NaN(), Decimal::NaN());
  EXPECT_NE(Decimal::NaN(), Decimal::PositiveInfinity());
  EXPECT_FALSE(Decimal::NaN().unscaled128().has_value());
}

TEST(DecimalTest, RescaleIsExactOrFails) {
  Result<Decimal> up = Decimal::FromInt128(125, 2).Rescale(4);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->ToString(), "1.2500");
  Result<Decimal> down = Decimal::FromInt128(12500, 4).Rescale(2);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(*down, Decimal::FromInt128(125, 2));
  Result<Decimal> lossy = Decimal::FromInt128(12501, 4).Rescale(2);
  ASSERT_FALSE(lossy.ok());
  EXPECT_EQ(lossy.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(lossy.status().message().find("1.2501"), std::string::npos);
}

TEST(DecimalTest, MalformedTextIsAnError) {
  for (std::string_view text :
       {"", "-", "abc", "1.2.3", "1e", "1e+", "12a", ".", "--1"}) {
    Result<Decimal> decimal = Decimal::FromString(text);
    ASSERT_FALSE(decimal.ok()) << text;
    EXPECT_EQ(decimal.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(decimal.status().message().find(std::string(text)), std::string::npos);
  }
}

}  // namespace
}  // namespace tributary::core
