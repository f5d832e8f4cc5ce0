#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace tributary::core {

/// A streaming JSON (RFC 8259) text writer that appends to a caller-owned std::string,
/// for hot paths that would otherwise build a DOM per record (Debezium events, stdout
/// lines). The output is byte-for-byte what nlohmann::json::dump() (compact, UTF-8 kept,
/// the defaults) writes for the same values:
///  - strings escape `"` and `\`, write \b \f \n \r \t, other bytes below 0x20 as \u00xx
///    (lower-case hex), and copy everything else, DEL and non-ASCII UTF-8 included;
///  - integers in decimal; doubles as nlohmann does (shortest round-trip digits,
///    "1.0" for integral values, exponent form outside 1e-4 .. 1e15), non-finite as null.
/// Strings must be valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF). An invalid string is not written; the writer records the first error
/// (ok() turns false, error() describes it) and the caller decides what to do with the
/// partial output.
///
/// Commas are inserted automatically: after a value or a closed container the next
/// value or key gets one; after an opening bracket or a key it does not. The writer does
/// not check that calls nest correctly (a programmer error).
///
/// Not thread-safe; cheap to create (two words of state). Reuse the target string across
/// records to avoid allocations.
class JsonWriter {
 public:
  /// Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(&out) {}

  void BeginObject() {
    Separate();
    out_->push_back('{');
    need_comma_ = false;
  }
  void EndObject() {
    out_->push_back('}');
    need_comma_ = true;
  }
  void BeginArray() {
    Separate();
    out_->push_back('[');
    need_comma_ = false;
  }
  void EndArray() {
    out_->push_back(']');
    need_comma_ = true;
  }
  /// An object key followed by ':'. Keys are escaped like strings.
  void Key(std::string_view key);
  /// A key known to need no escaping (a literal such as "before"): copied as is.
  void LiteralKey(std::string_view key) {
    Separate();
    out_->push_back('"');
    out_->append(key);
    out_->append("\":", 2);
    need_comma_ = false;
  }

  /// A pre-rendered key: its quoted, escaped name followed by ':' (`"id":`).
  void RawKey(std::string_view quoted_key) {
    Separate();
    out_->append(quoted_key);
    need_comma_ = false;
  }

  void Null() { Raw("null"); }
  void Bool(bool value) {
    Raw(value ? std::string_view("true") : std::string_view("false"));
  }
  void Int(int64_t value);
  void UInt(uint64_t value);
  /// As nlohmann::json::dump() writes a number_float; NaN and infinities as null.
  void Double(double value);
  /// A string value, escaped.
  void String(std::string_view value);
  /// A string value known to need no escaping (ASCII without '"', '\\' and control
  /// characters, e.g. formatted numbers and dates): copied as is.
  void LiteralString(std::string_view value) {
    Separate();
    out_->push_back('"');
    out_->append(value);
    out_->push_back('"');
    need_comma_ = true;
  }
  /// One string value made of several parts ("a" "." "b" -> "a.b"), each escaped.
  void StringParts(std::initializer_list<std::string_view> parts);
  /// A string value holding standard base64 (RFC 4648 section 4, '=' padded) of `bytes`.
  void Base64(std::span<const uint8_t> bytes);
  /// Pre-rendered JSON text for one value (e.g. a cached schema block), copied verbatim.
  void Raw(std::string_view json) {
    Separate();
    out_->append(json);
    need_comma_ = true;
  }

  /// False once a string was not valid UTF-8.
  bool ok() const { return error_.empty(); }
  /// The first error ("invalid UTF-8 byte at index 3: 0xFF"), empty when ok().
  const std::string& error() const { return error_; }

  std::string& out() { return *out_; }

 private:
  void Separate() {
    if (need_comma_) {
      out_->push_back(',');
    }
  }
  // Appends `text` escaped, without quotes; records an error on invalid UTF-8 (the bytes
  // from the invalid one on are dropped).
  void AppendEscaped(std::string_view text);

  std::string* out_;
  bool need_comma_ = false;
  std::string error_;
};

/// Appends `text` as a quoted, escaped JSON string literal. Returns false and appends
/// nothing when `text` is not valid UTF-8.
bool AppendJsonString(std::string& out, std::string_view text);

}  // namespace tributary::core
