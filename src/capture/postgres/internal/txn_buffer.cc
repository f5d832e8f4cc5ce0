#include "capture/postgres/internal/txn_buffer.h"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace tributary::capture::postgres::internal {

TxnBuffer::~TxnBuffer() { Clear(); }

void TxnBuffer::Clear() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ignored;
    std::filesystem::remove(spill_path_, ignored);
  }
  memory_.clear();
  memory_bytes_ = 0;
  message_count_ = 0;
  read_index_ = 0;
  reading_file_ = false;
  aborted_.clear();
}

Status TxnBuffer::Append(uint64_t wal_start, uint32_t xid, std::string_view data) {
  ++message_count_;
  if (file_ == nullptr && memory_bytes_ + data.size() <= memory_limit_) {
    memory_bytes_ += data.size();
    memory_.push_back(BufferedMessage{wal_start, xid, std::string(data)});
    return OkStatus();
  }
  if (file_ == nullptr) {
    std::error_code ec;
    std::filesystem::create_directories(spill_path_.parent_path(), ec);
    file_ = std::fopen(spill_path_.c_str(), "w+b");
    if (file_ == nullptr) {
      return MakeError(ErrorCode::kIo, "cannot create spill file {}: {}",
                       spill_path_.string(), std::strerror(errno));
    }
  }
  uint32_t length = static_cast<uint32_t>(data.size());
  if (std::fwrite(&wal_start, sizeof(wal_start), 1, file_) != 1 ||
      std::fwrite(&xid, sizeof(xid), 1, file_) != 1 ||
      std::fwrite(&length, sizeof(length), 1, file_) != 1 ||
      (length > 0 && std::fwrite(data.data(), length, 1, file_) != 1)) {
    return MakeError(ErrorCode::kIo, "cannot write spill file {}: {}", spill_path_.string(),
                     std::strerror(errno));
  }
  return OkStatus();
}

Status TxnBuffer::Rewind() {
  read_index_ = 0;
  reading_file_ = false;
  if (file_ != nullptr) {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
      return MakeError(ErrorCode::kIo, "cannot rewind spill file {}: {}",
                       spill_path_.string(), std::strerror(errno));
    }
  }
  return OkStatus();
}

Result<std::optional<BufferedMessage>> TxnBuffer::Next() {
  if (!reading_file_) {
    if (read_index_ < memory_.size()) {
      // Moved out: each message is replayed once.
      return std::optional<BufferedMessage>(std::move(memory_[read_index_++]));
    }
    reading_file_ = true;
  }
  if (file_ == nullptr) {
    return std::optional<BufferedMessage>();
  }
  BufferedMessage message;
  uint32_t length = 0;
  size_t got = std::fread(&message.wal_start, sizeof(message.wal_start), 1, file_);
  if (got == 0 && std::feof(file_)) {
    return std::optional<BufferedMessage>();
  }
  if (got != 1 || std::fread(&message.xid, sizeof(message.xid), 1, file_) != 1 ||
      std::fread(&length, sizeof(length), 1, file_) != 1) {
    return MakeError(ErrorCode::kCorruption, "spill file {} is truncated",
                     spill_path_.string());
  }
  message.data.resize(length);
  if (length > 0 && std::fread(message.data.data(), length, 1, file_) != 1) {
    return MakeError(ErrorCode::kCorruption, "spill file {} is truncated",
                     spill_path_.string());
  }
  return std::optional<BufferedMessage>(std::move(message));
}

}  // namespace tributary::capture::postgres::internal
