#include "core/internal/base64.h"

namespace tributary::core::internal {
namespace {
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char ch) {
  if (ch >= 'A' && ch <= 'Z') {
    return ch - 'A';
  }
  if (ch >= 'a' && ch <= 'z') {
    return ch - 'a' + 26;
  }
  if (ch >= '0' && ch <= '9') {
    return ch - '0' + 52;
  }
  if (ch == '+') {
    return 62;
  }
  if (ch == '/') {
    return 63;
  }
  return -1;
}
}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t idx = 0;
  for (; idx + 2 < bytes.size(); idx += 3) {
    uint32_t chunk = (static_cast<uint32_t>(bytes[idx]) << 16) |
                     (static_cast<uint32_t>(bytes[idx + 1]) << 8) | bytes[idx + 2];
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(kAlphabet[(chunk >> 6) & 63]);
    out.push_back(kAlphabet[chunk & 63]);
  }
  size_t rest = bytes.size() - idx;
  if (rest == 1) {
    uint32_t chunk = static_cast<uint32_t>(bytes[idx]) << 16;
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t chunk = (static_cast<uint32_t>(bytes[idx]) << 16) |
                     (static_cast<uint32_t>(bytes[idx + 1]) << 8);
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(kAlphabet[(chunk >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return MakeError(ErrorCode::kInvalidArgument, "base64 text has an invalid length {}",
                     text.size());
  }
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int value = DecodeChar(ch);
    if (value < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid character '{}' in base64 text", ch);
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace tributary::core::internal
