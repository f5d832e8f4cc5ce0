#include "core/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

// JSON text per RFC 8259 section 7 (strings) and section 6 (numbers); UTF-8 validity per
// RFC 3629 section 4 (the byte ranges of well-formed sequences). Escapes and number
// formatting follow nlohmann::json's serializer (serializer::dump_escaped with
// ensure_ascii=false, dump_integer, dump_float), which wrote these texts before.
namespace tributary::core {
namespace {

// 0: copy as is; 1: needs an escape; 2: first byte of a multi-byte UTF-8 sequence (or an
// invalid byte).
constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> classes{};
  for (size_t byte = 0; byte < 0x20; ++byte) {
    classes[byte] = 1;
  }
  classes['"'] = 1;
  classes['\\'] = 1;
  for (size_t byte = 0x80; byte < 0x100; ++byte) {
    classes[byte] = 2;
  }
  return classes;
}
constexpr std::array<uint8_t, 256> kByteClasses = MakeByteClasses();

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Length of the well-formed UTF-8 sequence starting at text[pos] (a byte >= 0x80), or 0
// when it is not well formed (RFC 3629 section 4).
size_t Utf8SequenceLength(std::string_view text, size_t pos) {
  auto at = [&](size_t offset) -> uint8_t {
    return static_cast<uint8_t>(text[pos + offset]);
  };
  size_t left = text.size() - pos;
  uint8_t lead = at(0);
  auto cont = [&](size_t offset, uint8_t low, uint8_t high) {
    return offset < left && at(offset) >= low && at(offset) <= high;
  };
  if (lead >= 0xC2 && lead <= 0xDF) {
    return cont(1, 0x80, 0xBF) ? 2 : 0;
  }
  if (lead == 0xE0) {
    return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead == 0xED) {
    return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead == 0xF0) {
    return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (lead >= 0xF1 && lead <= 0xF3) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (lead == 0xF4) {
    return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// Escapes `text` into `out`; on invalid UTF-8 returns the offending byte index.
std::optional<size_t> Escape(std::string& out, std::string_view text) {
  size_t pos = 0;
  size_t run_start = 0;
  const size_t size = text.size();
  while (pos < size) {
    // Eight plain bytes at a time: none below 0x20, none '"' or '\\', none >= 0x80.
    while (pos + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, text.data() + pos, sizeof(word));
      constexpr uint64_t kOnes = 0x0101010101010101ULL;
      constexpr uint64_t kHighs = 0x8080808080808080ULL;
      uint64_t quote = word ^ (kOnes * '"');
      uint64_t backslash = word ^ (kOnes * '\\');
      uint64_t special =
          ((word - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes) | word) & kHighs;
      // The subtractions borrow only from bytes that are special themselves, so a zero
      // result means all eight bytes are plain (a set bit may be a false alarm after a
      // special byte; the byte loop below sorts that out).
      if (special != 0) {
        break;
      }
      pos += 8;
    }
    if (pos >= size) {
      break;
    }
    uint8_t byte = static_cast<uint8_t>(text[pos]);
    uint8_t byte_class = kByteClasses[byte];
    if (byte_class == 0) {
      ++pos;
      continue;
    }
    if (byte_class == 2) {
      size_t length = Utf8SequenceLength(text, pos);
      if (length == 0) {
        out.append(text.data() + run_start, pos - run_start);
        return pos;
      }
      pos += length;
      continue;
    }
    out.append(text.data() + run_start, pos - run_start);
    switch (byte) {
      case '"':
        out.append("\\\"", 2);
        break;
      case '\\':
        out.append("\\\\", 2);
        break;
      case '\b':
        out.append("\\b", 2);
        break;
      case '\f':
        out.append("\\f", 2);
        break;
      case '\n':
        out.append("\\n", 2);
        break;
      case '\r':
        out.append("\\r", 2);
        break;
      case '\t':
        out.append("\\t", 2);
        break;
      default: {
        char escaped[6] = {
            '\\', 'u', '0', '0', kHexDigits[byte >> 4], kHexDigits[byte & 15]};
        out.append(escaped, sizeof(escaped));
        break;
      }
    }
    ++pos;
    run_start = pos;
  }
  out.append(text.data() + run_start, size - run_start);
  return std::nullopt;
}

}  // namespace

void JsonWriter::AppendEscaped(std::string_view text) {
  std::optional<size_t> bad = Escape(*out_, text);
  if (bad && error_.empty()) {
    error_ = fmt::format("invalid UTF-8 byte at index {}: 0x{:02X}", *bad,
                         static_cast<uint8_t>(text[*bad]));
  }
}

void JsonWriter::Key(std::string_view key) {
  Separate();
  out_->push_back('"');
  AppendEscaped(key);
  out_->append("\":", 2);
  need_comma_ = false;
}

void JsonWriter::Int(int64_t value) {
  Separate();
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_->append(buffer, static_cast<size_t>(result.ptr - buffer));
  need_comma_ = true;
}

void JsonWriter::UInt(uint64_t value) {
  Separate();
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_->append(buffer, static_cast<size_t>(result.ptr - buffer));
  need_comma_ = true;
}

void JsonWriter::Double(double value) {
  if (!std::isfinite(value)) {
    Null();
    return;
  }
  Separate();
  // nlohmann's own formatter (Grisu2 plus its notation rules), so the text stays
  // identical to what dump() wrote; it needs at most 64 bytes
  // (serializer::number_buffer).
  std::array<char, 64> buffer;
  char* end =
      nlohmann::detail::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out_->append(buffer.data(), static_cast<size_t>(end - buffer.data()));
  need_comma_ = true;
}

void JsonWriter::String(std::string_view value) {
  Separate();
  out_->push_back('"');
  AppendEscaped(value);
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::StringParts(std::initializer_list<std::string_view> parts) {
  Separate();
  out_->push_back('"');
  for (std::string_view part : parts) {
    AppendEscaped(part);
  }
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::Base64(std::span<const uint8_t> bytes) {
  Separate();
  size_t start = out_->size();
  out_->resize(start + 2 + (bytes.size() + 2) / 3 * 4);
  char* dst = out_->data() + start;
  *dst++ = '"';
  size_t idx = 0;
  for (; idx + 2 < bytes.size(); idx += 3) {
    uint32_t chunk = (static_cast<uint32_t>(bytes[idx]) << 16) |
                     (static_cast<uint32_t>(bytes[idx + 1]) << 8) | bytes[idx + 2];
    *dst++ = kBase64Alphabet[(chunk >> 18) & 63];
    *dst++ = kBase64Alphabet[(chunk >> 12) & 63];
    *dst++ = kBase64Alphabet[(chunk >> 6) & 63];
    *dst++ = kBase64Alphabet[chunk & 63];
  }
  size_t rest = bytes.size() - idx;
  if (rest > 0) {
    uint32_t chunk = static_cast<uint32_t>(bytes[idx]) << 16;
    if (rest == 2) {
      chunk |= static_cast<uint32_t>(bytes[idx + 1]) << 8;
    }
    *dst++ = kBase64Alphabet[(chunk >> 18) & 63];
    *dst++ = kBase64Alphabet[(chunk >> 12) & 63];
    *dst++ = rest == 2 ? kBase64Alphabet[(chunk >> 6) & 63] : '=';
    *dst++ = '=';
  }
  *dst = '"';
  need_comma_ = true;
}

bool AppendJsonString(std::string& out, std::string_view text) {
  size_t start = out.size();
  out.push_back('"');
  if (Escape(out, text)) {
    out.resize(start);
    return false;
  }
  out.push_back('"');
  return true;
}

}  // namespace tributary::core
