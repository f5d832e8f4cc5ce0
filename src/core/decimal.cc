#include "core/decimal.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <limits>

namespace tributary::core {
namespace {

// The fast path holds magnitudes of up to 38 decimal digits; 10^38 - 1 < 2^127.
constexpr size_t kMaxSmallDigits = 38;

std::string MagnitudeDigits(UInt128 magnitude) {
  if (magnitude == 0) {
    return "";
  }
  std::string digits;
  while (magnitude != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

UInt128 Magnitude(Int128 value) {
  // Negating in unsigned arithmetic is defined for the minimum value too.
  return value < 0 ? UInt128{0} - static_cast<UInt128>(value)
                   : static_cast<UInt128>(value);
}

std::string StripLeadingZeros(std::string digits) {
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    return "";
  }
  digits.erase(0, first);
  return digits;
}

// Little-endian base-256 magnitude from decimal digits (schoolbook multiply-add).
std::vector<uint8_t> DigitsToBytesLe(const std::string& digits) {
  std::vector<uint8_t> bytes;
  for (char digit : digits) {
    uint32_t carry = static_cast<uint32_t>(digit - '0');
    for (uint8_t& byte : bytes) {
      uint32_t cur = static_cast<uint32_t>(byte) * 10 + carry;
      byte = static_cast<uint8_t>(cur & 0xff);
      carry = cur >> 8;
    }
    while (carry != 0) {
      bytes.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  return bytes;
}

// Decimal digits (no leading zeros, "" for zero) from a big-endian base-256 magnitude.
std::string BytesBeToDigits(const std::vector<uint8_t>& bytes) {
  // Base 10^9 limbs, little-endian.
  constexpr uint32_t kBase = 1'000'000'000;
  std::vector<uint32_t> limbs;
  for (uint8_t byte : bytes) {
    uint64_t carry = byte;
    for (uint32_t& limb : limbs) {
      uint64_t cur = static_cast<uint64_t>(limb) * 256 + carry;
      limb = static_cast<uint32_t>(cur % kBase);
      carry = cur / kBase;
    }
    while (carry != 0) {
      limbs.push_back(static_cast<uint32_t>(carry % kBase));
      carry /= kBase;
    }
  }
  if (limbs.empty()) {
    return "";
  }
  std::string out = std::to_string(limbs.back());
  for (size_t limb_idx = limbs.size() - 1; limb_idx-- > 0;) {
    std::string part = std::to_string(limbs[limb_idx]);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

// Two's complement negation in place of a big-endian byte string.
void NegateBytes(std::vector<uint8_t>& bytes) {
  for (uint8_t& byte : bytes) {
    byte = static_cast<uint8_t>(~byte);
  }
  for (size_t idx = bytes.size(); idx-- > 0;) {
    bytes[idx] = static_cast<uint8_t>(bytes[idx] + 1);
    if (bytes[idx] != 0) {
      break;
    }
  }
}

// Removes redundant sign bytes, as BigInteger.toByteArray() produces the minimal form.
void MinimizeTwosComplement(std::vector<uint8_t>& bytes) {
  bytes.erase(bytes.begin(),
              bytes.begin() + static_cast<std::ptrdiff_t>(RedundantSignBytes(bytes)));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Decimal Decimal::FromDigits(bool negative, std::string digits, int32_t scale) {
  digits = StripLeadingZeros(std::move(digits));
  Decimal out;
  out.scale_ = scale;
  if (digits.size() <= kMaxSmallDigits) {
    UInt128 magnitude = 0;
    for (char digit : digits) {
      magnitude = magnitude * 10 + static_cast<UInt128>(digit - '0');
    }
    Int128 value = static_cast<Int128>(magnitude);
    out.small_ = negative ? -value : value;
    return out;
  }
  out.big_negative_ = negative;
  out.big_digits_ = std::move(digits);
  return out;
}

Decimal Decimal::FromInt128(Int128 unscaled, int32_t scale) {
  UInt128 magnitude = Magnitude(unscaled);
  std::string digits = MagnitudeDigits(magnitude);
  if (digits.size() <= kMaxSmallDigits) {
    Decimal out;
    out.small_ = unscaled;
    out.scale_ = scale;
    return out;
  }
  return FromDigits(unscaled < 0, std::move(digits), scale);
}

Decimal Decimal::NaN() {
  Decimal out;
  out.special_ = Special::kNaN;
  return out;
}

Decimal Decimal::PositiveInfinity() {
  Decimal out;
  out.special_ = Special::kPositiveInfinity;
  return out;
}

Decimal Decimal::NegativeInfinity() {
  Decimal out;
  out.special_ = Special::kNegativeInfinity;
  return out;
}

Result<Decimal> Decimal::FromString(std::string_view text) {
  auto invalid = [&]() {
    return MakeError(ErrorCode::kInvalidArgument, "'{}' is not a decimal number", text);
  };
  if (EqualsIgnoreCase(text, "NaN")) {
    return NaN();
  }
  if (EqualsIgnoreCase(text, "Infinity") || EqualsIgnoreCase(text, "+Infinity") ||
      EqualsIgnoreCase(text, "inf") || EqualsIgnoreCase(text, "+inf")) {
    return PositiveInfinity();
  }
  if (EqualsIgnoreCase(text, "-Infinity") || EqualsIgnoreCase(text, "-inf")) {
    return NegativeInfinity();
  }
  size_t idx = 0;
  bool negative = false;
  if (idx < text.size() && (text[idx] == '+' || text[idx] == '-')) {
    negative = text[idx] == '-';
    ++idx;
  }
  std::string digits;
  int64_t fraction_digits = 0;
  bool seen_point = false;
  bool seen_digit = false;
  for (; idx < text.size(); ++idx) {
    char ch = text[idx];
    if (ch >= '0' && ch <= '9') {
      digits.push_back(ch);
      seen_digit = true;
      if (seen_point) {
        ++fraction_digits;
      }
    } else if (ch == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) {
    return invalid();
  }
  int64_t exponent = 0;
  if (idx < text.size() && (text[idx] == 'e' || text[idx] == 'E')) {
    ++idx;
    bool exp_negative = false;
    if (idx < text.size() && (text[idx] == '+' || text[idx] == '-')) {
      exp_negative = text[idx] == '-';
      ++idx;
    }
    if (idx == text.size()) {
      return invalid();
    }
    for (; idx < text.size(); ++idx) {
      char ch = text[idx];
      if (ch < '0' || ch > '9') {
        return invalid();
      }
      exponent = exponent * 10 + (ch - '0');
      if (exponent > 1'000'000) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "decimal '{}' has an exponent out of range", text);
      }
    }
    if (exp_negative) {
      exponent = -exponent;
    }
  }
  if (idx != text.size()) {
    return invalid();
  }
  int64_t scale = fraction_digits - exponent;
  if (scale < 0) {
    digits.append(static_cast<size_t>(-scale), '0');
    scale = 0;
  }
  if (scale > std::numeric_limits<int32_t>::max()) {
    return MakeError(ErrorCode::kInvalidArgument, "decimal '{}' has a scale out of range",
                     text);
  }
  return FromDigits(negative, std::move(digits), static_cast<int32_t>(scale));
}

Decimal Decimal::FromTwosComplement(std::span<const uint8_t> big_endian, int32_t scale) {
  if (big_endian.empty()) {
    return FromInt128(0, scale);
  }
  bool negative = (big_endian[0] & 0x80) != 0;
  if (big_endian.size() <= 16) {
    UInt128 bits = negative ? ~UInt128{0} : UInt128{0};
    for (uint8_t byte : big_endian) {
      bits = (bits << 8) | byte;
    }
    return FromInt128(static_cast<Int128>(bits), scale);
  }
  std::vector<uint8_t> magnitude(big_endian.begin(), big_endian.end());
  if (negative) {
    NegateBytes(magnitude);
  }
  return FromDigits(negative, BytesBeToDigits(magnitude), scale);
}

std::vector<uint8_t> Decimal::ToTwosComplement() const {
  std::vector<uint8_t> bytes;
  if (big_digits_.empty()) {
    UInt128 bits = static_cast<UInt128>(small_);
    bytes.resize(16);
    for (size_t idx = 16; idx-- > 0;) {
      bytes[idx] = static_cast<uint8_t>(bits & 0xff);
      bits >>= 8;
    }
  } else {
    std::vector<uint8_t> le = DigitsToBytesLe(big_digits_);
    le.push_back(0);  // room for the sign bit
    bytes.assign(le.rbegin(), le.rend());
    if (big_negative_) {
      NegateBytes(bytes);
    }
  }
  MinimizeTwosComplement(bytes);
  return bytes;
}

std::string Decimal::UnscaledString() const {
  if (!big_digits_.empty()) {
    return (big_negative_ ? "-" : "") + big_digits_;
  }
  std::string digits = MagnitudeDigits(Magnitude(small_));
  if (digits.empty()) {
    return "0";
  }
  return (small_ < 0 ? "-" : "") + digits;
}

std::string Decimal::ToString() const {
  switch (special_) {
    case Special::kNaN:
      return "NaN";
    case Special::kPositiveInfinity:
      return "Infinity";
    case Special::kNegativeInfinity:
      return "-Infinity";
    case Special::kFinite:
      break;
  }
  std::string unscaled = UnscaledString();
  bool negative = unscaled[0] == '-';
  std::string digits = negative ? unscaled.substr(1) : unscaled;
  if (scale_ <= 0) {
    if (digits != "0") {
      digits.append(static_cast<size_t>(-static_cast<int64_t>(scale_)), '0');
    }
  } else {
    size_t scale = static_cast<size_t>(scale_);
    if (digits.size() <= scale) {
      digits.insert(0, scale + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - scale, ".");
  }
  return (negative ? "-" : "") + digits;
}

std::optional<Int128> Decimal::unscaled128() const {
  if (!is_finite() || !big_digits_.empty()) {
    return std::nullopt;
  }
  return small_;
}

Result<Decimal> Decimal::Rescale(int32_t new_scale) const {
  if (!is_finite() || new_scale == scale_) {
    Decimal out = *this;
    if (is_finite()) {
      out.scale_ = new_scale;
    }
    return out;
  }
  std::string unscaled = UnscaledString();
  bool negative = unscaled[0] == '-';
  std::string digits = negative ? unscaled.substr(1) : unscaled;
  int64_t delta = static_cast<int64_t>(new_scale) - scale_;
  if (delta > 0) {
    if (digits != "0") {
      digits.append(static_cast<size_t>(delta), '0');
    }
  } else {
    size_t drop = static_cast<size_t>(-delta);
    size_t keep = digits.size() > drop ? digits.size() - drop : 0;
    if (digits.find_first_not_of('0', keep) != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "decimal {} cannot be rescaled to scale {} without rounding",
                       ToString(), new_scale);
    }
    digits.resize(keep);
  }
  return FromDigits(negative, std::move(digits), new_scale);
}

int32_t Decimal::precision() const {
  if (!big_digits_.empty()) {
    return static_cast<int32_t>(big_digits_.size());
  }
  size_t digits = MagnitudeDigits(Magnitude(small_)).size();
  return digits == 0 ? 1 : static_cast<int32_t>(digits);
}

bool Decimal::is_negative() const {
  if (special_ == Special::kNegativeInfinity) {
    return true;
  }
  if (!is_finite()) {
    return false;
  }
  return big_digits_.empty() ? small_ < 0 : big_negative_;
}

bool Decimal::is_zero() const {
  return is_finite() && big_digits_.empty() && small_ == 0;
}

bool Decimal::operator==(const Decimal& other) const {
  if (special_ != other.special_) {
    return false;
  }
  if (!is_finite()) {
    return true;
  }
  return scale_ == other.scale_ && small_ == other.small_ &&
         big_negative_ == other.big_negative_ && big_digits_ == other.big_digits_;
}

size_t RedundantSignBytes(std::span<const uint8_t> big_endian) {
  size_t drop = 0;
  while (drop + 1 < big_endian.size()) {
    const uint8_t lead = big_endian[drop];
    const uint8_t next = big_endian[drop + 1];
    if ((lead == 0x00 && (next & 0x80) == 0) || (lead == 0xff && (next & 0x80) != 0)) {
      ++drop;
    } else {
      break;
    }
  }
  return drop;
}

}  // namespace tributary::core
