#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.h"

namespace tributary::capture::postgres::internal {

/// One buffered pgoutput message: its XLogData start LSN, the (sub)transaction it belongs
/// to (0 when not streamed) and the raw bytes, borrowed from the buffer: valid until the
/// next Next(), Append() or Clear() call.
struct BufferedMessage {
  uint64_t wal_start = 0;
  uint32_t xid = 0;
  std::string_view data;
};

/// The pgoutput messages of one transaction, from Begin (or the first Stream Start) until
/// its Commit / Stream Commit, so that its events can be emitted with the commit LSN as
/// their position (DESIGN.md "Positions") without holding a large transaction in memory
/// (DESIGN.md invariant 5): messages stay in memory up to `memory_limit` bytes and go to
/// an append-only spill file after that. Subtransactions rolled back (Stream Abort with
/// subxid != xid) are remembered and their data messages skipped on replay.
///
/// In memory, messages are packed into one byte arena with a small index (no allocation
/// per message: this runs once per row change).
///
/// Spill file records: uint64 wal_start, uint32 xid, uint32 length, bytes (host order; the
/// file lives only as long as the buffer). The file is deleted by Clear() / the destructor.
/// The spill path is only built when the first message spills.
class TxnBuffer {
 public:
  /// Builds the spill file path, called once, when the buffer first spills.
  using SpillPathFn = std::function<std::filesystem::path()>;

  TxnBuffer(std::filesystem::path spill_path, size_t memory_limit)
      : spill_path_(std::move(spill_path)), memory_limit_(memory_limit) {}
  TxnBuffer(SpillPathFn spill_path_fn, size_t memory_limit)
      : spill_path_fn_(std::move(spill_path_fn)), memory_limit_(memory_limit) {}
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

  /// Forgets everything and deletes the spill file. The buffer can be reused (its memory
  /// is kept; with a SpillPathFn a new spill file gets a new path).
  void Clear();
  /// Clear(), then spill (if ever) to the path `spill_path_fn` builds: reuses the buffer
  /// for another transaction.
  void Reset(SpillPathFn spill_path_fn) {
    Clear();
    spill_path_fn_ = std::move(spill_path_fn);
    spill_path_.clear();
  }

  size_t message_count() const { return message_count_; }
  bool spilled() const { return file_ != nullptr; }
  /// The spill file's path; empty before the first spill when built by a SpillPathFn.
  const std::filesystem::path& spill_path() const { return spill_path_; }

 private:
  struct Entry {
    uint64_t wal_start;
    uint32_t xid;
    uint32_t length;
    size_t offset;  ///< into arena_
  };

  Status OpenSpillFile();

  SpillPathFn spill_path_fn_;
  std::filesystem::path spill_path_;
  size_t memory_limit_;
  size_t message_count_ = 0;
  std::string arena_;
  std::vector<Entry> entries_;
  std::FILE* file_ = nullptr;
  size_t read_index_ = 0;
  bool reading_file_ = false;
  std::string read_buffer_;  ///< the last message read back from the spill file
  std::unordered_set<uint32_t> aborted_;
};

}  // namespace tributary::capture::postgres::internal
