#include "capture/postgres/internal/txn_buffer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace tributary::capture::postgres::internal {

namespace {

// Spill record header: uint64 wal_start, uint32 xid, uint32 length.
constexpr size_t kRecordHeaderBytes = 16;
// stdio buffer of the spill file: fewer write/read syscalls for the small records.
constexpr size_t kSpillStdioBufferBytes = 1 << 20;

}  // namespace

TxnBuffer::~TxnBuffer() { Clear(); }

void TxnBuffer::Clear() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ignored;
    std::filesystem::remove(spill_path_, ignored);
    if (spill_path_fn_) {
      spill_path_.clear();
    }
  }
  arena_.clear();
  entries_.clear();
  message_count_ = 0;
  read_index_ = 0;
  reading_file_ = false;
  read_buffer_.clear();
  aborted_.clear();
}

Status TxnBuffer::OpenSpillFile() {
  if (spill_path_.empty() && spill_path_fn_) {
    spill_path_ = spill_path_fn_();
  }
  std::error_code ec;
  std::filesystem::create_directories(spill_path_.parent_path(), ec);
  file_ = std::fopen(spill_path_.c_str(), "w+b");
  if (file_ == nullptr) {
    return MakeError(ErrorCode::kIo, "cannot create spill file {}: {}",
                     spill_path_.string(), std::strerror(errno));
  }
  std::setvbuf(file_, nullptr, _IOFBF, kSpillStdioBufferBytes);
  return OkStatus();
}

Status TxnBuffer::Append(uint64_t wal_start, uint32_t xid, std::string_view data) {
  ++message_count_;
  if (file_ == nullptr && arena_.size() + data.size() <= memory_limit_) {
    size_t needed = arena_.size() + data.size();
    if (needed > arena_.capacity()) {
      // Doubling, but never past the memory limit (the limit bounds what is held).
      arena_.reserve(std::min(memory_limit_, std::max({needed, 2 * arena_.capacity(),
                                                        size_t{4096}})));
    }
    entries_.push_back(
        Entry{wal_start, xid, static_cast<uint32_t>(data.size()), arena_.size()});
    arena_.append(data);
    return OkStatus();
  }
  if (file_ == nullptr) {
    TRIB_RETURN_IF_ERROR(OpenSpillFile());
  }
  uint32_t length = static_cast<uint32_t>(data.size());
  char header[kRecordHeaderBytes];
  std::memcpy(header, &wal_start, sizeof(wal_start));
  std::memcpy(header + 8, &xid, sizeof(xid));
  std::memcpy(header + 12, &length, sizeof(length));
  if (std::fwrite(header, sizeof(header), 1, file_) != 1 ||
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
    if (read_index_ < entries_.size()) {
      const Entry& entry = entries_[read_index_++];
      return std::optional<BufferedMessage>(BufferedMessage{
          entry.wal_start, entry.xid,
          std::string_view(arena_.data() + entry.offset, entry.length)});
    }
    reading_file_ = true;
    // The in-memory part is replayed once: release it before reading the file.
    std::string().swap(arena_);
    std::vector<Entry>().swap(entries_);
    read_index_ = 0;
  }
  if (file_ == nullptr) {
    return std::optional<BufferedMessage>();
  }
  char header[kRecordHeaderBytes];
  size_t got = std::fread(header, 1, sizeof(header), file_);
  if (got == 0 && std::feof(file_)) {
    return std::optional<BufferedMessage>();
  }
  if (got != sizeof(header)) {
    return MakeError(ErrorCode::kCorruption, "spill file {} is truncated",
                     spill_path_.string());
  }
  BufferedMessage message;
  uint32_t length = 0;
  std::memcpy(&message.wal_start, header, sizeof(message.wal_start));
  std::memcpy(&message.xid, header + 8, sizeof(message.xid));
  std::memcpy(&length, header + 12, sizeof(length));
  read_buffer_.resize(length);
  if (length > 0 && std::fread(read_buffer_.data(), length, 1, file_) != 1) {
    return MakeError(ErrorCode::kCorruption, "spill file {} is truncated",
                     spill_path_.string());
  }
  message.data = read_buffer_;
  return std::optional<BufferedMessage>(message);
}

}  // namespace tributary::capture::postgres::internal
