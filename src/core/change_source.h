#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/change_event.h"
#include "core/position.h"
#include "core/result.h"

namespace tributary::core {

/// A batch of events handed out by ChangeSource::Poll: all or part of one source
/// transaction (or snapshot chunk), in source order.
struct ChangeBatch {
  std::vector<ChangeEvent> events;
  /// True when the batch ends a transaction (or a snapshot chunk): the position of its
  /// last event is then a safe resume point to Acknowledge() once the sink made it
  /// durable. False for a partial chunk of a large transaction; more events of it follow.
  bool ends_transaction = true;
  /// The position to acknowledge after this batch is durable when ends_transaction; for
  /// PostgreSQL the commit LSN even if the transaction had no events for our tables.
  /// Empty when there is nothing to acknowledge.
  SourcePosition resume_position;
};

/// Where change events come from: PostgreSQL logical replication, the MySQL binlog, a
/// Kafka topic of Debezium JSON.
///
/// Protocol:
///   1. Start() once, with the position to resume after (what the sink's durable state
///      says, DESIGN.md invariant 2) or nullopt to use the source's own stored position
///      (slot confirmed_flush_lsn, committed consumer offset) or take an initial
///      snapshot.
///   2. Poll() repeatedly; pass the events to a ChangeSink.
///   3. Acknowledge(pos) once the sink's DurablePosition() reached pos: the source may
///   then
///      let the server discard data up to pos (slot flush LSN, Kafka commit). Never
///      earlier (DESIGN.md invariant 1).
///   4. Close() to stop. Events after the last acknowledged position are redelivered on
///      the next Start(); sinks skip what they already hold.
/// Not thread-safe: one thread drives a source.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;

  /// A name for logs and metrics (the configured source name / topic prefix).
  virtual std::string name() const = 0;

  /// Connects and positions the stream. Errors: kNetwork (retryable), kNotFound (slot,
  /// binlog file or topic gone), kInvalidArgument (a position of another kind).
  virtual Status Start(const std::optional<SourcePosition>& resume_after) = 0;

  /// Waits up to `timeout` for the next batch. Returns an empty batch (no events,
  /// ends_transaction true, empty resume_position) when nothing arrived in time; may
  /// return a batch with no events but a resume_position (e.g. a transaction touching no
  /// captured table) so acknowledgements keep up. To stop, the driving thread stops
  /// calling Poll() (it checks its stop_token between calls) and calls Close(); keep
  /// `timeout` short enough for shutdown to be prompt. Errors: kNetwork/kTimeout
  /// (retryable: Close(), then Start() again from the last acknowledged position),
  /// kCorruption for undecodable input, naming the position.
  virtual Result<ChangeBatch> Poll(std::chrono::milliseconds timeout) = 0;

  /// Confirms that every event at or before `position` is durable downstream.
  /// Positions must not go backwards; acknowledging an older position is a no-op.
  virtual Status Acknowledge(const SourcePosition& position) = 0;

  /// Disconnects. Idempotent.
  virtual Status Close() = 0;
};

}  // namespace tributary::core
