#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tributary::capture::postgres::internal {

/// Reads the network-byte-order (big-endian) integers and NUL-terminated strings of the
/// PostgreSQL frontend/backend protocol ("Message Data Types", PostgreSQL 15 docs §55.6)
/// from a borrowed buffer. Every read checks the remaining length: a short buffer is a
/// kCorruption error naming `what`, never a read past the end.
class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }

  Result<uint8_t> ReadUInt8(std::string_view what);
  Result<uint16_t> ReadUInt16(std::string_view what);
  Result<uint32_t> ReadUInt32(std::string_view what);
  Result<uint64_t> ReadUInt64(std::string_view what);
  Result<int16_t> ReadInt16(std::string_view what);
  Result<int32_t> ReadInt32(std::string_view what);
  Result<int64_t> ReadInt64(std::string_view what);
  /// A NUL-terminated string (the terminator is consumed, not returned).
  Result<std::string> ReadCString(std::string_view what);
  /// `length` raw bytes.
  Result<std::string> ReadBytes(size_t length, std::string_view what);
  /// The unread rest of the buffer, consumed.
  std::span<const uint8_t> ReadRest();
  /// The unread rest of the buffer, not consumed (for hand-rolled hot loops that check
  /// lengths themselves and then Skip()).
  std::span<const uint8_t> Peek() const { return data_.subspan(pos_); }
  /// Consumes `length` bytes; requires length <= remaining() (a programmer error
  /// otherwise).
  void Skip(size_t length) { pos_ += length; }

 private:
  Status Need(size_t length, std::string_view what) const;

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

/// Appends big-endian integers to a byte string (Standby Status Update, test fixtures).
class WireWriter {
 public:
  void WriteUInt8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void WriteUInt16(uint16_t value);
  void WriteUInt32(uint32_t value);
  void WriteUInt64(uint64_t value);
  void WriteInt64(int64_t value) { WriteUInt64(static_cast<uint64_t>(value)); }
  void WriteCString(std::string_view value);
  void WriteBytes(std::string_view value) { out_.append(value); }

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

/// Views a std::string's bytes as the span the decoders take.
inline std::span<const uint8_t> AsBytes(std::string_view data) {
  return {reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}

}  // namespace tributary::capture::postgres::internal
