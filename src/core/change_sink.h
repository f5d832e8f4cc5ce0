#pragma once

#include <optional>
#include <span>

#include "core/change_event.h"
#include "core/position.h"
#include "core/result.h"

namespace tributary::core {

/// Where change events go: bronze tables, a Kafka topic, a test collector.
///
/// Protocol (DESIGN.md invariant 1, "no change is acknowledged before it is durable"):
///   1. The caller Write()s the events of each source transaction, in source order. A
///   large
///      transaction may arrive in several Write() calls; positions never go backwards.
///   2. Write() may buffer. Data is durable only once DurablePosition() covers it.
///   3. Flush() makes everything written so far durable (a Delta commit, all Kafka acks)
///      and advances DurablePosition() to the last event written, or fails and leaves it
///      where it was.
///   4. The caller confirms to the source (slot flush LSN, binlog position, Kafka offset)
///      only positions at or before DurablePosition().
/// A sink may also make data durable on its own (size or time based batching, async Kafka
/// acks): DurablePosition() then advances without Flush().
///
/// Thread safety: implementations are used from one thread at a time unless they say
/// otherwise; DurablePosition() must be safe to call concurrently with Write()/Flush().
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;

  /// Accepts events in source order. Errors: whatever the destination reports; after an
  /// error nothing past the previous DurablePosition() may be assumed written, and the
  /// caller restarts from there (the source replays).
  virtual Status Write(std::span<const ChangeEvent> events) = 0;

  /// Makes everything accepted by Write() durable. Blocks until done or failed.
  virtual Status Flush() = 0;

  /// The position of the last event known durable, such that every event written before
  /// it is durable too. nullopt until something became durable.
  virtual std::optional<SourcePosition> DurablePosition() const = 0;

  /// Flushes and releases resources. Calling anything but DurablePosition() afterwards is
  /// a programmer error. Default: Flush().
  virtual Status Close() { return Flush(); }
};

}  // namespace tributary::core
