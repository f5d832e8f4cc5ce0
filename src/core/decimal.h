#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tributary::core {

/// A signed 128-bit integer (GCC/Clang extension; `__extension__` keeps -Wpedantic
/// quiet).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

/// An exact decimal number: `unscaled * 10^-scale`, or one of PostgreSQL numeric's
/// special values NaN, +Infinity and -Infinity. Never converted through a double.
///
/// Values whose unscaled magnitude has at most 38 digits (every DECIMAL(p<=38,s)) are
/// held in an Int128 (the fast path); larger ones (PostgreSQL unbounded numeric, Debezium
/// VariableScaleDecimal) are held as a decimal digit string. The representation is
/// canonical, so `==` compares unscaled value, scale and special kind: 1.0 (scale 1) and
/// 1.00 (scale 2) are different Decimals, as they are different Debezium payloads.
/// Cheap to copy (at most one short string); thread-compatible.
class Decimal {
 public:
  enum class Special : uint8_t { kFinite, kNaN, kPositiveInfinity, kNegativeInfinity };

  /// Zero with scale 0.
  Decimal() = default;

  /// `unscaled * 10^-scale`. `scale` may be negative (PostgreSQL 15 numeric(p,-s)).
  static Decimal FromInt128(Int128 unscaled, int32_t scale);
  static Decimal NaN();
  static Decimal PositiveInfinity();
  static Decimal NegativeInfinity();

  /// Parses plain decimal notation: optional sign, digits, optional '.' and digits
  /// ("-12.340" -> unscaled -12340, scale 3), optional exponent ("1.5e3" -> 1500, scale
  /// 0; "1e-2" -> 1, scale 2), and "NaN", "Infinity", "+Infinity", "-Infinity" (also
  /// "inf"). Returns kInvalidArgument naming the text otherwise.
  static Result<Decimal> FromString(std::string_view text);

  /// Decodes a big-endian two's-complement unscaled integer (Kafka Connect Decimal /
  /// Java BigInteger.toByteArray()) of any length. An empty span is zero.
  static Decimal FromTwosComplement(std::span<const uint8_t> big_endian, int32_t scale);

  /// The unscaled value as minimal big-endian two's complement (BigInteger.toByteArray():
  /// zero is one 0x00 byte). Requires is_finite().
  std::vector<uint8_t> ToTwosComplement() const;

  /// Plain notation without exponent: "-12.340", "0.001", "NaN", "Infinity", "-Infinity".
  /// A negative scale appends zeros ("12300" for unscaled 123, scale -2).
  std::string ToString() const;

  /// The unscaled integer in decimal: "-12340". Requires is_finite().
  std::string UnscaledString() const;

  /// The unscaled value if it fits the fast path (at most 38 digits) and is finite.
  std::optional<Int128> unscaled128() const;

  /// The same number with another scale, exactly: fails with kInvalidArgument when
  /// reducing the scale would drop non-zero digits. Specials are returned unchanged.
  Result<Decimal> Rescale(int32_t new_scale) const;

  /// Number of digits of the unscaled magnitude (1 for zero).
  int32_t precision() const;
  int32_t scale() const { return scale_; }
  Special special() const { return special_; }
  bool is_finite() const { return special_ == Special::kFinite; }
  bool is_nan() const { return special_ == Special::kNaN; }
  bool is_infinite() const {
    return special_ == Special::kPositiveInfinity ||
           special_ == Special::kNegativeInfinity;
  }
  /// True for finite values below zero and for -Infinity.
  bool is_negative() const;
  bool is_zero() const;

  bool operator==(const Decimal& other) const;
  bool operator!=(const Decimal& other) const { return !(*this == other); }

 private:
  /// Builds from a sign and a magnitude digit string without leading zeros ("" = zero).
  static Decimal FromDigits(bool negative, std::string digits, int32_t scale);

  Special special_ = Special::kFinite;
  int32_t scale_ = 0;
  Int128 small_ = 0;  ///< the unscaled value when big_digits_ is empty
  bool big_negative_ = false;
  std::string big_digits_;  ///< magnitude digits when more than 38 of them
};

/// How many leading bytes of a big-endian two's complement only repeat the sign of the
/// byte after them (BigInteger.toByteArray() omits them); at most size() - 1.
size_t RedundantSignBytes(std::span<const uint8_t> big_endian);

}  // namespace tributary::core
