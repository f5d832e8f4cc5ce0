#include "capture/postgres/internal/wire.h"

#include <cstring>

namespace tributary::capture::postgres::internal {

Status WireReader::Need(size_t length, std::string_view what) const {
  if (remaining() < length) {
    return MakeError(ErrorCode::kCorruption,
                     "truncated message: {} needs {} bytes at offset {} but only {} remain",
                     what, length, pos_, remaining());
  }
  return OkStatus();
}

Result<uint8_t> WireReader::ReadUInt8(std::string_view what) {
  TRIB_RETURN_IF_ERROR(Need(1, what));
  return data_[pos_++];
}

Result<uint16_t> WireReader::ReadUInt16(std::string_view what) {
  TRIB_RETURN_IF_ERROR(Need(2, what));
  uint16_t value = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return value;
}

Result<uint32_t> WireReader::ReadUInt32(std::string_view what) {
  TRIB_RETURN_IF_ERROR(Need(4, what));
  uint32_t value = 0;
  for (size_t byte_idx = 0; byte_idx < 4; ++byte_idx) {
    value = (value << 8) | data_[pos_ + byte_idx];
  }
  pos_ += 4;
  return value;
}

Result<uint64_t> WireReader::ReadUInt64(std::string_view what) {
  TRIB_RETURN_IF_ERROR(Need(8, what));
  uint64_t value = 0;
  for (size_t byte_idx = 0; byte_idx < 8; ++byte_idx) {
    value = (value << 8) | data_[pos_ + byte_idx];
  }
  pos_ += 8;
  return value;
}

Result<int16_t> WireReader::ReadInt16(std::string_view what) {
  TRIB_ASSIGN_OR_RETURN(uint16_t value, ReadUInt16(what));
  return static_cast<int16_t>(value);
}

Result<int32_t> WireReader::ReadInt32(std::string_view what) {
  TRIB_ASSIGN_OR_RETURN(uint32_t value, ReadUInt32(what));
  return static_cast<int32_t>(value);
}

Result<int64_t> WireReader::ReadInt64(std::string_view what) {
  TRIB_ASSIGN_OR_RETURN(uint64_t value, ReadUInt64(what));
  return static_cast<int64_t>(value);
}

Result<std::string> WireReader::ReadCString(std::string_view what) {
  const void* start = data_.data() + pos_;
  const void* nul = std::memchr(start, 0, remaining());
  if (nul == nullptr) {
    return MakeError(ErrorCode::kCorruption,
                     "truncated message: {} at offset {} has no NUL terminator", what, pos_);
  }
  size_t length = static_cast<size_t>(static_cast<const uint8_t*>(nul) -
                                      static_cast<const uint8_t*>(start));
  std::string value(reinterpret_cast<const char*>(start), length);
  pos_ += length + 1;
  return value;
}

Result<std::string> WireReader::ReadBytes(size_t length, std::string_view what) {
  TRIB_RETURN_IF_ERROR(Need(length, what));
  std::string value(reinterpret_cast<const char*>(data_.data() + pos_), length);
  pos_ += length;
  return value;
}

std::span<const uint8_t> WireReader::ReadRest() {
  auto rest = data_.subspan(pos_);
  pos_ = data_.size();
  return rest;
}

void WireWriter::WriteUInt16(uint16_t value) {
  WriteUInt8(static_cast<uint8_t>(value >> 8));
  WriteUInt8(static_cast<uint8_t>(value));
}

void WireWriter::WriteUInt32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    WriteUInt8(static_cast<uint8_t>(value >> shift));
  }
}

void WireWriter::WriteUInt64(uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    WriteUInt8(static_cast<uint8_t>(value >> shift));
  }
}

void WireWriter::WriteCString(std::string_view value) {
  out_.append(value);
  out_.push_back('\0');
}

}  // namespace tributary::capture::postgres::internal
