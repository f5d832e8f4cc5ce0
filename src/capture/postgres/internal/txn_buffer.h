#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.h"

namespace tributary::capture::postgres::internal {

/// One buffered pgoutput message: its XLogData start LSN, the (sub)transaction it belongs
/// to (0 when not streamed) and the raw bytes.
struct BufferedMessage {
  uint64_t wal_start = 0;
  uint32_t xid = 0;
  std::string data;
};

/// The pgoutput messages of one transaction, from Begin (or the first Stream Start) until
/// its Commit / Stream Commit, so that its events can be emitted with the commit LSN as
/// their position (DESIGN.md "Positions") without holding a large transaction in memory
/// (DESIGN.md invariant 5): messages stay in memory up to `memory_limit` bytes and go to
/// an append-only spill file after that. Subtransactions rolled back (Stream Abort with
/// subxid != xid) are remembered and their data messages skipped on replay.
///
/// Spill file records: uint64 wal_start, uint32 xid, uint32 length, bytes (host order; the
/// file lives only as long as the buffer). The file is deleted by Clear() / the destructor.
class TxnBuffer {
 public:
  TxnBuffer(std::filesystem::path spill_path, size_t memory_limit)
      : spill_path_(std::move(spill_path)), memory_limit_(memory_limit) {}
  ~TxnBuffer();
  TxnBuffer(const TxnBuffer&) = delete;
  TxnBuffer& operator=(const TxnBuffer&) = delete;

  /// Appends a message. Errors: kIo when the spill file cannot be written.
  Status Append(uint64_t wal_start, uint32_t xid, std::string_view data);
  /// Drops the changes of subtransaction `subxid` (they are skipped on replay).
  void AbortSubtransaction(uint32_t subxid) { aborted_.insert(subxid); }
  bool IsAborted(uint32_t xid) const { return aborted_.count(xid) != 0; }

  /// Starts reading from the first message. Call after the last Append().
  Status Rewind();
  /// The next message, or nullopt at the end. Errors: kIo / kCorruption reading the file.
  Result<std::optional<BufferedMessage>> Next();

  /// Forgets everything and deletes the spill file.
  void Clear();

  size_t message_count() const { return message_count_; }
  bool spilled() const { return file_ != nullptr; }
  const std::filesystem::path& spill_path() const { return spill_path_; }

 private:
  std::filesystem::path spill_path_;
  size_t memory_limit_;
  size_t memory_bytes_ = 0;
  size_t message_count_ = 0;
  std::vector<BufferedMessage> memory_;
  std::FILE* file_ = nullptr;
  size_t read_index_ = 0;
  bool reading_file_ = false;
  std::unordered_set<uint32_t> aborted_;
};

}  // namespace tributary::capture::postgres::internal
