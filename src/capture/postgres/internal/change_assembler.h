#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/postgres/internal/pg_types.h"
#include "capture/postgres/internal/txn_buffer.h"
#include "capture/postgres/pgoutput_decoder.h"
#include "core/change_source.h"
#include "core/result.h"

namespace tributary::capture::postgres::internal {

/// What the assembler needs to know about the capture (a subset of the options).
struct AssemblerOptions {
  std::string source_name = "tributary";   ///< SourceInfo::name
  std::string source_version;              ///< SourceInfo::version
  std::string database;                    ///< TableId::database
  size_t max_batch_events = 2000;
  size_t max_transaction_memory = 8u << 20;
  std::filesystem::path spill_dir;
  bool logical_messages = true;
  int protocol_version = 2;
  /// Non-transactional logical messages with this prefix are heartbeats: not emitted.
  std::string heartbeat_prefix = "tributary_heartbeat";
};

/// A relation as the stream describes it, with its converted schema.
struct RelationInfo {
  uint32_t relation_id = 0;
  char replica_identity = 'd';
  std::shared_ptr<const core::TableSchema> schema;
  std::vector<std::shared_ptr<const PgType>> types;  ///< per column
};

/// The primary-key column names of a relation, in key order; nullopt when the catalog has
/// no primary key (the replica identity index is used then, else no key).
using KeyLookupFn =
    std::function<Result<std::optional<std::vector<std::string>>>(uint32_t relation_id)>;

/// Turns the pgoutput message stream into ChangeBatches (DESIGN.md "Positions"):
///   - a transaction's messages are buffered (TxnBuffer: memory, then a spill file) from
///     Begin to Commit, or per streamed xid from the first Stream Start to Stream Commit;
///     aborted streams and rolled-back subtransactions are dropped;
///   - once committed, the transaction is replayed: messages are decoded again and turned
///     into ChangeEvents whose position is (Commit end LSN, change LSN, xid, index), at most
///     max_batch_events per batch;
///   - events at or before the resume position (already durable downstream) are dropped,
///     so a replay by the slot yields no duplicates.
/// Relation messages are buffered with their transaction and applied to the relation cache
/// when it is replayed, in commit order, as pgoutput considers a schema sent once the
/// transaction carrying it commits; those of aborted streams never apply.
class ChangeAssembler {
 public:
  ChangeAssembler(AssemblerOptions options, PgTypeRegistry::LookupFn type_lookup,
                  KeyLookupFn key_lookup);
  ~ChangeAssembler();
  ChangeAssembler(const ChangeAssembler&) = delete;
  ChangeAssembler& operator=(const ChangeAssembler&) = delete;

  /// Feeds one XLogData payload. `wal_start` is the XLogData start LSN.
  /// Errors: kCorruption (bad message, unknown relation), kIo (spill file), and the
  /// lookups' errors.
  Status Feed(uint64_t wal_start, std::span<const uint8_t> data);

  /// True when a batch is ready (a committed transaction being replayed, or a
  /// non-transactional message).
  bool HasBatch() const { return replay_ != nullptr || !standalone_.empty(); }
  /// The next batch; requires HasBatch().
  Result<core::ChangeBatch> NextBatch();

  /// True between Begin and Commit, while a replay is unfinished, or while a standalone
  /// batch waits: the idle keepalive LSN must not be confirmed then.
  bool Busy() const { return in_txn_ || HasBatch(); }
  /// Drops every transaction whose commit ends at or before `lsn`.
  void set_skip_lsn(uint64_t lsn) { SetResumeAfter(lsn, UINT64_MAX); }
  /// Drops every event at or before (commit_lsn, event_index): earlier transactions whole,
  /// and the first events of the transaction ending at commit_lsn (a restart in the middle
  /// of a large transaction whose first batches are durable). Such transactions are still
  /// replayed so that their Relation messages apply.
  void SetResumeAfter(uint64_t commit_lsn, uint64_t event_index);
  uint64_t skip_lsn() const { return resume_commit_lsn_; }
  /// End LSN of the last transaction fully received (committed), including skipped ones.
  uint64_t received_lsn() const { return received_lsn_; }
  /// Commit time (microseconds since the Unix epoch) of the last replayed transaction.
  int64_t last_commit_time_us() const { return last_commit_time_us_; }

  /// Drops partial transactions and stream state (after a reconnect, the server resends
  /// them). Keeps the relation cache and skip LSN.
  void ResetConnectionState();

  /// The relation cache entry for `relation_id`, or nullptr.
  const RelationInfo* relation(uint32_t relation_id) const;
  /// Builds a RelationInfo from a Relation message (also for the snapshot).
  Result<RelationInfo> BuildRelation(const RelationMessage& message);

  PgTypeRegistry& types() { return types_; }

  uint64_t transactions() const { return transactions_; }
  uint64_t streamed_transactions() const { return streamed_transactions_; }
  uint64_t aborted_streams() const { return aborted_streams_; }

 private:
  struct Replay;

  Status HandleMessage(uint64_t wal_start, std::span<const uint8_t> data,
                       PgOutputMessage message);
  Status StartReplay(std::unique_ptr<TxnBuffer> buffer, bool streamed, uint32_t xid,
                     uint64_t end_lsn, int64_t commit_time_us);
  Status ConvertMessage(const BufferedMessage& raw, const PgOutputMessage& message,
                        std::vector<core::ChangeEvent>& out);
  Status ConvertRowChange(const BufferedMessage& raw, const RowChange& change,
                          std::vector<core::ChangeEvent>& out);
  Result<core::Row> ConvertTuple(const RelationInfo& relation, const TupleData& tuple,
                                 const TupleData* fallback, uint32_t relation_id);
  /// Appends a new event to `out` (built in place: events are large) and returns it.
  core::ChangeEvent& AddEvent(std::vector<core::ChangeEvent>& out, core::Op op,
                              const RelationInfo* relation, uint64_t event_lsn);
  std::unique_ptr<TxnBuffer> NewBuffer(uint32_t xid);
  /// Keeps a replayed buffer for the next transaction (its memory stays allocated).
  void RecycleBuffer(std::unique_ptr<TxnBuffer> buffer);

  AssemblerOptions options_;
  PgOutputDecoder decoder_;
  PgOutputDecoder replay_decoder_;
  PgTypeRegistry types_;
  KeyLookupFn key_lookup_;
  std::unordered_map<uint32_t, RelationInfo> relations_;

  bool in_txn_ = false;
  uint32_t txn_xid_ = 0;
  int64_t txn_commit_time_us_ = 0;
  std::unique_ptr<TxnBuffer> txn_;
  std::optional<uint32_t> stream_xid_;
  std::map<uint32_t, std::unique_ptr<TxnBuffer>> streams_;
  std::unique_ptr<Replay> replay_;
  std::deque<core::ChangeBatch> standalone_;
  /// A cleared buffer kept from the last replay, so that a stream of small transactions
  /// does not allocate one per transaction.
  std::unique_ptr<TxnBuffer> spare_buffer_;
  /// Decoded row change, reused for every message of a replay.
  RowChange row_change_;

  uint64_t resume_commit_lsn_ = 0;
  uint64_t resume_event_index_ = 0;
  uint64_t received_lsn_ = 0;
  uint64_t last_commit_lsn_ = 0;
  int64_t last_commit_time_us_ = 0;
  uint64_t buffer_counter_ = 0;
  uint64_t transactions_ = 0;
  uint64_t streamed_transactions_ = 0;
  uint64_t aborted_streams_ = 0;
};

/// Microseconds between the PostgreSQL epoch (2000-01-01) and the Unix epoch.
inline constexpr int64_t kPostgresEpochOffsetUs = 946'684'800LL * 1'000'000LL;

}  // namespace tributary::capture::postgres::internal
