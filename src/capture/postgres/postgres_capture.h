#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "capture/postgres/options.h"
#include "core/change_source.h"
#include "core/result.h"

namespace tributary::capture::postgres {

/// Progress and lag of a PostgresCapture, for the dashboard and metrics endpoints.
/// The prefix of the message that ends a snapshot in which no table held a row.
inline constexpr std::string_view kSnapshotEndMessagePrefix = "tributary.snapshot_end";

struct PostgresCaptureMetrics {
  bool connected = false;
  bool snapshot_running = false;
  uint64_t snapshot_rows = 0;           ///< rows read by the current/last snapshot
  uint64_t snapshot_rows_estimate = 0;  ///< pg_class.reltuples sum of the captured tables
  uint64_t server_wal_end = 0;    ///< the server's WAL end from the last frame received
  uint64_t received_lsn = 0;      ///< end LSN of the last transaction fully received
  uint64_t acknowledged_lsn = 0;  ///< the flush LSN confirmed to the slot
  /// server_wal_end - received_lsn when data is pending, else 0.
  uint64_t lag_bytes = 0;
  /// Milliseconds between the last emitted transaction's commit and now (0 when caught up
  /// with the server: nothing received that is not emitted).
  int64_t lag_ms = 0;
  uint64_t events = 0;
  uint64_t transactions = 0;
  uint64_t streamed_transactions = 0;  ///< protocol v2 Stream Commits
  uint64_t aborted_streams = 0;        ///< Stream Aborts of whole transactions
  uint64_t reconnects = 0;
};

/// Captures changes from one PostgreSQL database over logical replication (pgoutput) as a
/// core::ChangeSource (see change_source.h for the Start/Poll/Acknowledge protocol).
///
/// Steps, on Start():
///   1. Checks wal_level = logical and the role's REPLICATION attribute; creates the
///      publication if missing; checks that every published table has a usable replica
///      identity (errors name the `ALTER TABLE ... REPLICA IDENTITY FULL` fix).
///   2. Creates the slot if missing; fails with kConflict when the slot is active for
///      another process. When a snapshot is due, it is read from a TEMPORARY slot
///      "<slot>_snap_<pid>" with an exported snapshot, and streaming starts on that slot;
///      the first Acknowledge() at or past the snapshot's end copies it to the permanent
///      slot (pg_copy_logical_replication_slot) and moves the stream there. A capture
///      stopped or killed before then leaves no permanent slot, so the next Start() takes
///      the snapshot again: a permanent slot always means its snapshot is durable
///      downstream. Only a copy "<slot>_pending", made when the snapshot's last row is
///      read, survives: a later Start() whose resume position shows the whole snapshot
///      durable (the downstream stopped between its commit and Acknowledge()) turns it
///      into the permanent slot instead of snapshotting again; otherwise it is dropped.
///      Until the acknowledgement, a snapshot so holds up to three slots at once
///      (temporary, "_pending", and briefly the permanent copy): max_replication_slots
///      must leave room for them.
///   3. Snapshot: Poll() returns the published tables' rows (op r, position = the slot's
///      consistent point, the last row's event_lsn = that point to mark completion;
///      SnapshotMarker::kLast on it), read in REPEATABLE READ with SET TRANSACTION
///      SNAPSHOT, a cursor fetching snapshot_fetch_rows rows per Poll(). A snapshot
///      without rows ends with a logical-decoding message instead (op m, prefix
///      kSnapshotEndMessagePrefix, no content, the same position and mark). Streaming
///      then starts at the consistent point: no gap, no overlap.
///   4. Streaming: START_REPLICATION at the slot's confirmed position (never at the
///      resume position, which may lie inside a transaction) with proto_version,
///      publication_names, messages and streaming. Each transaction is buffered (memory,
///      then a spill file) until its Commit / Stream Commit so that every event carries
///      its commit end LSN; aborted streams are discarded. Transactions at or before the
///      resume position are skipped.
///   5. Poll() also answers keepalives, sends Standby Status Updates every
///      status_interval, writes heartbeats, and reconnects with backoff after a dropped
///      connection (resuming after the last transaction it returned).
/// The slot's flush LSN only ever moves to positions passed to Acknowledge() (DESIGN.md
/// invariant 1), or to the server's WAL end while everything returned is acknowledged and
/// no transaction is open (an idle slot does not hold WAL).
///
/// Not thread-safe, except metrics(), which may be called from any thread.
class PostgresCapture : public core::ChangeSource {
 public:
  /// Validates the options; does not connect. Errors: kInvalidArgument.
  static Result<std::unique_ptr<PostgresCapture>> Create(PostgresCaptureOptions options);
  ~PostgresCapture() override;

  std::string name() const override;

  /// `resume_after` must be a PostgresPosition (or nullopt: the slot's own position, or a
  /// snapshot when the slot is new). A position inside an unfinished snapshot restarts
  /// the snapshot with a new slot. Events at or before `resume_after` (also the first
  /// events of a transaction whose first batches are durable) are not returned again. A
  /// restarted snapshot starts with a SnapshotMarker::kFirst row: consumers treat it as
  /// the tables' new state, replacing what an interrupted earlier snapshot delivered.
  /// Errors: kInvalidArgument (wal_level, privileges, replica identity, position kind),
  /// kConflict (slot active elsewhere), kNotFound (publication missing and not to be
  /// created), kNetwork (retryable).
  Status Start(const std::optional<core::SourcePosition>& resume_after) override;
  Result<core::ChangeBatch> Poll(std::chrono::milliseconds timeout) override;
  /// Confirms `position` (a PostgresPosition; its commit_lsn is sent as the flush LSN).
  Status Acknowledge(const core::SourcePosition& position) override;
  Status Close() override;

  /// True after an initial_only snapshot finished: nothing more will be returned.
  bool done() const;
  /// The end LSN of the last complete transaction (or snapshot) Poll() returned.
  uint64_t emitted_lsn() const;
  /// Runs `SELECT pg_current_wal_lsn()` on the capture's SQL connection (opened if
  /// needed), for `capture --once` / `run --once`. Call it from the thread that calls
  /// Poll(), as the connection is shared with the heartbeat and type lookups.
  Result<uint64_t> ServerWalLsn();
  /// True when every transaction that committed before `lsn` (e.g. from ServerWalLsn())
  /// has been returned by Poll() and nothing is pending. When it cannot tell yet, asks
  /// the server for a keepalive (at most every 250 ms) so that a following Poll() can:
  /// call it between Poll()s.
  bool ReachedLsn(uint64_t lsn);
  /// A copy of the current metrics. Thread-safe.
  PostgresCaptureMetrics metrics() const;

 private:
  class Impl;
  explicit PostgresCapture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::capture::postgres
