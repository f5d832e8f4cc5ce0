#include "capture/postgres/internal/change_assembler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include "capture/postgres/internal/wire.h"
#include "core/check.h"

namespace tributary::capture::postgres::internal {

using core::ChangeBatch;
using core::ChangeEvent;
using core::Op;
using core::PostgresPosition;
using core::Row;
using core::Value;

struct ChangeAssembler::Replay {
  std::unique_ptr<TxnBuffer> buffer;
  bool streamed = false;
  uint32_t xid = 0;
  uint64_t end_lsn = 0;
  int64_t commit_time_us = 0;
  uint64_t event_index = 0;
  uint64_t last_event_lsn = 0;
  /// Messages read from the buffer so far.
  size_t replayed_messages = 0;
  std::map<core::TableId, int64_t> table_counts;
  /// "<xid>:<end lsn>", the Debezium transaction id of every event of the transaction.
  std::string transaction_id;
  /// The table_counts entry of the last event's table (most transactions touch one
  /// table at a time), to skip the map lookup.
  const core::TableId* last_table = nullptr;
  int64_t* last_table_count = nullptr;
  /// Debezium's ts_ms/us/ns (when the connector processed the event): read once per
  /// NextBatch() call, which takes microseconds, rather than once per row.
  int64_t processing_time_ns = 0;
};

ChangeAssembler::ChangeAssembler(AssemblerOptions options,
                                 PgTypeRegistry::LookupFn type_lookup,
                                 KeyLookupFn key_lookup)
    : options_(std::move(options)),
      decoder_(options_.protocol_version),
      replay_decoder_(options_.protocol_version),
      types_(std::move(type_lookup)),
      key_lookup_(std::move(key_lookup)) {}

ChangeAssembler::~ChangeAssembler() = default;

void ChangeAssembler::SetResumeAfter(uint64_t commit_lsn, uint64_t event_index) {
  if (commit_lsn > resume_commit_lsn_ ||
      (commit_lsn == resume_commit_lsn_ && event_index > resume_event_index_)) {
    resume_commit_lsn_ = commit_lsn;
    resume_event_index_ = event_index;
  }
}

const RelationInfo* ChangeAssembler::relation(uint32_t relation_id) const {
  auto it = relations_.find(relation_id);
  return it == relations_.end() ? nullptr : &it->second;
}

Result<RelationInfo> ChangeAssembler::BuildRelation(const RelationMessage& message) {
  RelationInfo info;
  info.relation_id = message.relation_id;
  info.replica_identity = message.replica_identity;
  auto schema = std::make_shared<core::TableSchema>();
  schema->id.database = options_.database;
  schema->id.schema = message.namespace_name.empty() ? "pg_catalog" : message.namespace_name;
  schema->id.table = message.relation_name;
  for (const auto& column : message.columns) {
    auto type = types_.Resolve(column.type_oid);
    if (!type.ok()) {
      return std::move(type).status().AddContext(
          fmt::format("resolving type {} of column {}.{}", column.type_oid,
                      schema->id.ToString(), column.name));
    }
    core::Column out;
    out.name = column.name;
    out.type = ToDataType(**type, column.type_modifier);
    schema->columns.push_back(std::move(out));
    info.types.push_back(*type);
  }
  std::optional<std::vector<std::string>> key_names;
  if (key_lookup_) {
    TRIB_ASSIGN_OR_RETURN(key_names, key_lookup_(message.relation_id));
  }
  if (key_names) {
    for (const auto& key_name : *key_names) {
      auto index = schema->FindIndex(key_name);
      if (index) {
        schema->primary_key.push_back(*index);
      }
    }
  } else if (message.replica_identity == 'd' || message.replica_identity == 'i') {
    // Without a catalog answer, the replica identity key flags are the best key we have;
    // with REPLICA IDENTITY FULL every column is flagged, which is no key at all.
    for (size_t column_idx = 0; column_idx < message.columns.size(); ++column_idx) {
      if (message.columns[column_idx].is_key) {
        schema->primary_key.push_back(column_idx);
      }
    }
  }
  schema->SyncKeyPositions();
  info.schema = std::move(schema);
  return info;
}

std::unique_ptr<TxnBuffer> ChangeAssembler::NewBuffer(uint32_t xid) {
  // The path is built only if the transaction spills (once per transaction is measurable
  // with single-row transactions).
  TxnBuffer::SpillPathFn spill_path = [this, xid] {
    return options_.spill_dir / fmt::format("txn-{}-{}.spill", xid, ++buffer_counter_);
  };
  if (spare_buffer_ != nullptr) {
    std::unique_ptr<TxnBuffer> buffer = std::move(spare_buffer_);
    buffer->Reset(std::move(spill_path));
    return buffer;
  }
  return std::make_unique<TxnBuffer>(std::move(spill_path),
                                     options_.max_transaction_memory);
}

void ChangeAssembler::RecycleBuffer(std::unique_ptr<TxnBuffer> buffer) {
  buffer->Clear();
  spare_buffer_ = std::move(buffer);
}

void ChangeAssembler::ResetConnectionState() {
  in_txn_ = false;
  txn_.reset();
  streams_.clear();
  stream_xid_.reset();
  decoder_.Reset();
}

Status ChangeAssembler::Feed(uint64_t wal_start, std::span<const uint8_t> data) {
  // Row changes ('I', 'U', 'D': most of the stream) are only buffered here and decoded
  // when the transaction is replayed, so skip decoding them twice. Inside a stream block
  // (protocol 2, §55.9) they carry the subtransaction xid right after the type byte.
  if (!data.empty() && (data[0] == 'I' || data[0] == 'U' || data[0] == 'D')) {
    std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
    if (decoder_.in_stream_block() && stream_xid_ && data.size() >= 5) {
      uint32_t xid = (static_cast<uint32_t>(data[1]) << 24) |
                     (static_cast<uint32_t>(data[2]) << 16) |
                     (static_cast<uint32_t>(data[3]) << 8) |
                     static_cast<uint32_t>(data[4]);
      auto& buffer = streams_[*stream_xid_];
      if (buffer == nullptr) {
        buffer = NewBuffer(*stream_xid_);
      }
      return buffer->Append(wal_start, xid, bytes);
    }
    if (!decoder_.in_stream_block() && in_txn_) {
      return txn_->Append(wal_start, 0, bytes);
    }
  }
  TRIB_ASSIGN_OR_RETURN(PgOutputMessage message, decoder_.Decode(data));
  return HandleMessage(wal_start, data, std::move(message));
}

Status ChangeAssembler::HandleMessage(uint64_t wal_start, std::span<const uint8_t> data,
                                      PgOutputMessage message) {
  std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
  if (auto* begin = std::get_if<BeginMessage>(&message)) {
    if (in_txn_) {
      return MakeError(ErrorCode::kCorruption,
                       "Begin of xid {} at {} while xid {} is still open",
                       begin->xid, core::FormatLsn(wal_start), txn_xid_);
    }
    in_txn_ = true;
    txn_xid_ = begin->xid;
    txn_commit_time_us_ = begin->commit_time_us + kPostgresEpochOffsetUs;
    txn_ = NewBuffer(begin->xid);
    return OkStatus();
  }
  if (auto* commit = std::get_if<CommitMessage>(&message)) {
    if (!in_txn_) {
      return MakeError(ErrorCode::kCorruption, "Commit at {} without a Begin",
                       core::FormatLsn(commit->end_lsn));
    }
    in_txn_ = false;
    received_lsn_ = std::max(received_lsn_, commit->end_lsn);
    ++transactions_;
    return StartReplay(std::move(txn_), false, txn_xid_, commit->end_lsn,
                       commit->commit_time_us + kPostgresEpochOffsetUs);
  }
  if (auto* start = std::get_if<StreamStartMessage>(&message)) {
    stream_xid_ = start->xid;
    auto& buffer = streams_[start->xid];
    if (start->first_segment || buffer == nullptr) {
      buffer = NewBuffer(start->xid);
    }
    return OkStatus();
  }
  if (std::holds_alternative<StreamStopMessage>(message)) {
    stream_xid_.reset();
    return OkStatus();
  }
  if (auto* stream_commit = std::get_if<StreamCommitMessage>(&message)) {
    received_lsn_ = std::max(received_lsn_, stream_commit->end_lsn);
    ++transactions_;
    ++streamed_transactions_;
    auto it = streams_.find(stream_commit->xid);
    std::unique_ptr<TxnBuffer> buffer;
    if (it != streams_.end()) {
      buffer = std::move(it->second);
      streams_.erase(it);
    }
    if (buffer == nullptr) {
      buffer = NewBuffer(stream_commit->xid);
    }
    return StartReplay(std::move(buffer), true, stream_commit->xid, stream_commit->end_lsn,
                       stream_commit->commit_time_us + kPostgresEpochOffsetUs);
  }
  if (auto* abort = std::get_if<StreamAbortMessage>(&message)) {
    auto it = streams_.find(abort->xid);
    if (abort->xid == abort->subxid) {
      if (it != streams_.end()) {
        streams_.erase(it);
      }
      ++aborted_streams_;
    } else if (it != streams_.end() && it->second != nullptr) {
      it->second->AbortSubtransaction(abort->subxid);
    }
    return OkStatus();
  }
  if (std::holds_alternative<OriginMessage>(message)) {
    return OkStatus();
  }
  if (auto* type = std::get_if<TypeMessage>(&message)) {
    // The type may have changed (ALTER TYPE ... ADD VALUE): read it again when next used.
    types_.Forget(type->type_oid);
    return OkStatus();
  }
  // Relation and data messages.
  if (auto xid = StreamedXid(message)) {
    if (!stream_xid_) {
      return MakeError(ErrorCode::kCorruption,
                       "streamed message '{}' for xid {} outside a stream block",
                       MessageTypeByte(message), *xid);
    }
    auto& buffer = streams_[*stream_xid_];
    if (buffer == nullptr) {
      buffer = NewBuffer(*stream_xid_);
    }
    return buffer->Append(wal_start, *xid, bytes);
  }
  auto* logical = std::get_if<LogicalMessage>(&message);
  if (logical != nullptr && !logical->transactional) {
    // Non-transactional messages arrive as they are decoded, outside any transaction.
    if (logical->prefix == options_.heartbeat_prefix || !options_.logical_messages ||
        logical->lsn <= resume_commit_lsn_) {
      return OkStatus();
    }
    auto replay = std::make_unique<Replay>();
    replay->end_lsn = logical->lsn;
    ChangeEvent event;
    event.op = Op::kMessage;
    event.position = PostgresPosition{logical->lsn, wal_start, 0, 0};
    event.message = core::LogicalMessage{
        logical->prefix, core::Bytes(logical->content.begin(), logical->content.end()),
        false};
    event.source.connector = core::Connector::kPostgres;
    event.source.version = options_.source_version;
    event.source.name = options_.source_name;
    event.source.lsn = static_cast<int64_t>(logical->lsn);
    event.processing_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    ChangeBatch batch;
    batch.resume_position = event.position;
    batch.events.push_back(std::move(event));
    standalone_.push_back(std::move(batch));
    return OkStatus();
  }
  if (in_txn_) {
    return txn_->Append(wal_start, 0, bytes);
  }
  if (auto* relation = std::get_if<RelationMessage>(&message)) {
    TRIB_ASSIGN_OR_RETURN(RelationInfo info, BuildRelation(*relation));
    relations_[relation->relation_id] = std::move(info);
    return OkStatus();
  }
  return MakeError(ErrorCode::kCorruption, "message '{}' at {} outside a transaction",
                   MessageTypeByte(message), core::FormatLsn(wal_start));
}

Status ChangeAssembler::StartReplay(std::unique_ptr<TxnBuffer> buffer, bool streamed,
                                    uint32_t xid, uint64_t end_lsn,
                                    int64_t commit_time_us) {
  TRIB_RETURN_IF_ERROR(buffer->Rewind());
  replay_ = std::make_unique<Replay>();
  replay_->buffer = std::move(buffer);
  replay_->streamed = streamed;
  replay_->xid = xid;
  replay_->end_lsn = end_lsn;
  replay_->commit_time_us = commit_time_us;
  // "<xid>:<end lsn>", without fmt: once per transaction is measurable with single-row
  // transactions.
  char id[32];
  char* end = std::to_chars(id, id + sizeof(id), xid).ptr;
  *end++ = ':';
  end = std::to_chars(end, id + sizeof(id), end_lsn).ptr;
  replay_->transaction_id.assign(id, static_cast<size_t>(end - id));
  return OkStatus();
}

Result<ChangeBatch> ChangeAssembler::NextBatch() {
  if (replay_ == nullptr) {
    TRIB_CHECK(!standalone_.empty(), "NextBatch() called without a batch (HasBatch false)");
    ChangeBatch batch = std::move(standalone_.front());
    standalone_.pop_front();
    return batch;
  }
  ChangeBatch batch;
  batch.ends_transaction = false;
  // Reserved up front: growing a vector of events moves every event (they are large).
  batch.events.reserve(std::min(
      options_.max_batch_events,
      replay_->buffer->message_count() - std::min(replay_->buffer->message_count(),
                                                   replay_->replayed_messages) +
          1));
  replay_->processing_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  while (batch.events.size() < options_.max_batch_events) {
    TRIB_ASSIGN_OR_RETURN(auto raw, replay_->buffer->Next());
    if (!raw) {
      batch.ends_transaction = true;
      uint64_t event_lsn =
          replay_->last_event_lsn != 0 ? replay_->last_event_lsn : replay_->end_lsn;
      batch.resume_position =
          PostgresPosition{replay_->end_lsn, event_lsn, replay_->xid, replay_->event_index};
      last_commit_lsn_ = replay_->end_lsn;
      last_commit_time_us_ = replay_->commit_time_us;
      RecycleBuffer(std::move(replay_->buffer));
      replay_.reset();
      break;
    }
    ++replay_->replayed_messages;
    size_t first_new = batch.events.size();
    char type = raw->data.empty() ? '\0' : raw->data[0];
    if (type == 'I' || type == 'U' || type == 'D') {
      // The hot path: no PgOutputMessage, no copies of the column texts.
      Status decoded = DecodeRowChange(AsBytes(raw->data), replay_->streamed, row_change_);
      if (!decoded.ok()) {
        return std::move(decoded).status().AddContext(
            fmt::format("replaying xid {} (commit {})", replay_->xid,
                        core::FormatLsn(replay_->end_lsn)));
      }
      if (replay_->streamed && replay_->buffer->IsAborted(raw->xid)) {
        continue;  // a rolled-back subtransaction
      }
      TRIB_RETURN_IF_ERROR(ConvertRowChange(*raw, row_change_, batch.events));
    } else {
      auto message = replay_->streamed
                         ? replay_decoder_.DecodeStreamed(AsBytes(raw->data))
                         : replay_decoder_.Decode(AsBytes(raw->data));
      if (!message.ok()) {
        return std::move(message).status().AddContext(
            fmt::format("replaying xid {} (commit {})", replay_->xid,
                        core::FormatLsn(replay_->end_lsn)));
      }
      if (auto* relation = std::get_if<RelationMessage>(&*message)) {
        // pgoutput marks a relation's schema as sent once the (streamed or not)
        // transaction carrying it commits (cleanup_rel_sync_cache), so it applies to
        // every later transaction too. An aborted stream's Relation messages are never
        // replayed.
        TRIB_ASSIGN_OR_RETURN(RelationInfo info, BuildRelation(*relation));
        relations_[relation->relation_id] = std::move(info);
        continue;
      }
      if (replay_->streamed && replay_->buffer->IsAborted(raw->xid)) {
        continue;  // a rolled-back subtransaction
      }
      TRIB_RETURN_IF_ERROR(ConvertMessage(*raw, *message, batch.events));
    }
    if (replay_->end_lsn <= resume_commit_lsn_) {
      // Durable downstream already: drop what a restart replays.
      auto durable = [this](const ChangeEvent& event) {
        const auto* position = event.position.postgres();
        return position->commit_lsn < resume_commit_lsn_ ||
               (position->commit_lsn == resume_commit_lsn_ &&
                position->event_index <= resume_event_index_);
      };
      batch.events.erase(
          std::remove_if(batch.events.begin() + static_cast<std::ptrdiff_t>(first_new),
                         batch.events.end(), durable),
          batch.events.end());
    }
  }
  return batch;
}

ChangeEvent& ChangeAssembler::AddEvent(std::vector<ChangeEvent>& out, Op op,
                                       const RelationInfo* relation, uint64_t event_lsn) {
  ChangeEvent& event = out.emplace_back();
  event.op = op;
  if (relation != nullptr) {
    event.table = relation->schema->id;
    event.schema = relation->schema;
  }
  uint64_t index = replay_->event_index++;
  replay_->last_event_lsn = event_lsn;
  event.position = PostgresPosition{replay_->end_lsn, event_lsn, replay_->xid, index};
  event.commit_time_us = replay_->commit_time_us;
  if (replay_->last_table == nullptr || *replay_->last_table != event.table) {
    auto it = replay_->table_counts.try_emplace(event.table, 0).first;
    replay_->last_table = &it->first;
    replay_->last_table_count = &it->second;
  }
  event.transaction.emplace();
  event.transaction->id = replay_->transaction_id;
  event.transaction->total_order = static_cast<int64_t>(index + 1);
  event.transaction->data_collection_order = ++*replay_->last_table_count;
  event.source.connector = core::Connector::kPostgres;
  event.source.version = options_.source_version;
  event.source.name = options_.source_name;
  event.source.txid = replay_->xid;
  event.source.lsn = static_cast<int64_t>(event_lsn);
  // ["<last commit lsn>","<event lsn>"], built without fmt: this runs once per row.
  char sequence[48];
  char* end = sequence;
  *end++ = '[';
  *end++ = '"';
  end = std::to_chars(end, sequence + sizeof(sequence), last_commit_lsn_).ptr;
  *end++ = '"';
  *end++ = ',';
  *end++ = '"';
  end = std::to_chars(end, sequence + sizeof(sequence), event_lsn).ptr;
  *end++ = '"';
  *end++ = ']';
  event.source.sequence.emplace(sequence, static_cast<size_t>(end - sequence));
  event.processing_time_ns = replay_->processing_time_ns;
  return event;
}

Result<Row> ChangeAssembler::ConvertTuple(const RelationInfo& relation,
                                          const TupleData& tuple,
                                          const TupleData* fallback,
                                          uint32_t relation_id) {
  const auto& columns = relation.schema->columns;
  if (tuple.size() != columns.size()) {
    return MakeError(ErrorCode::kCorruption,
                     "tuple for {} (relation id {}) has {} columns, the Relation message "
                     "had {}",
                     relation.schema->id.ToString(), relation_id, tuple.size(),
                     columns.size());
  }
  Row row;
  row.reserve(tuple.size());
  for (size_t column_idx = 0; column_idx < tuple.size(); ++column_idx) {
    const TupleColumn* column = &tuple[column_idx];
    if (column->kind == TupleColumn::Kind::kUnchangedToast && fallback != nullptr &&
        column_idx < fallback->size() &&
        (*fallback)[column_idx].kind == TupleColumn::Kind::kText) {
      // REPLICA IDENTITY FULL sends the whole old row, detoasted: the unchanged value is
      // known exactly.
      column = &(*fallback)[column_idx];
    }
    switch (column->kind) {
      case TupleColumn::Kind::kNull:
        row.push_back(Value::Null());
        break;
      case TupleColumn::Kind::kUnchangedToast:
        row.push_back(Value::Unavailable());
        break;
      case TupleColumn::Kind::kText: {
        auto value = ParseTextValue(*relation.types[column_idx], column->data);
        if (!value.ok()) {
          return std::move(value).status().AddContext(
              fmt::format("column {}.{}", relation.schema->id.ToString(),
                          columns[column_idx].name));
        }
        row.push_back(std::move(*value));
        break;
      }
      case TupleColumn::Kind::kBinary:
        return MakeError(ErrorCode::kUnsupported,
                         "column {}.{} arrived in binary format, which is not requested",
                         relation.schema->id.ToString(), columns[column_idx].name);
    }
  }
  return row;
}

Status ChangeAssembler::ConvertRowChange(const BufferedMessage& raw,
                                         const RowChange& change,
                                         std::vector<ChangeEvent>& out) {
  const RelationInfo* info = relation(change.relation_id);
  if (info == nullptr) {
    return MakeError(ErrorCode::kCorruption,
                     "change at {} for unknown relation id {} (no Relation message "
                     "received for it)",
                     core::FormatLsn(raw.wal_start), change.relation_id);
  }
  if (change.type == 'I') {
    TRIB_ASSIGN_OR_RETURN(Row after, ConvertTuple(*info, change.new_tuple, nullptr,
                                                  change.relation_id));
    AddEvent(out, Op::kCreate, info, raw.wal_start).after = std::move(after);
    return OkStatus();
  }
  if (change.type == 'U') {
    const TupleData* fallback = change.old_kind == 'O' ? &change.old_tuple : nullptr;
    TRIB_ASSIGN_OR_RETURN(Row after, ConvertTuple(*info, change.new_tuple, fallback,
                                                  change.relation_id));
    std::optional<Row> before;
    if (change.old_kind != 0) {
      TRIB_ASSIGN_OR_RETURN(before, ConvertTuple(*info, change.old_tuple, nullptr,
                                                 change.relation_id));
    }
    bool key_changed = false;
    if (before && !info->schema->primary_key.empty()) {
      for (size_t key_idx : info->schema->primary_key) {
        const Value& old_value = (*before)[key_idx];
        const Value& new_value = after[key_idx];
        if (!old_value.is_unavailable() && !new_value.is_unavailable() &&
            old_value != new_value) {
          key_changed = true;
        }
      }
    }
    if (key_changed) {
      // As Debezium does: a primary-key change is a delete of the old key and a create of
      // the new one, so that per-key consumers see both.
      AddEvent(out, Op::kDelete, info, raw.wal_start).before = std::move(before);
      AddEvent(out, Op::kCreate, info, raw.wal_start).after = std::move(after);
      return OkStatus();
    }
    ChangeEvent& event = AddEvent(out, Op::kUpdate, info, raw.wal_start);
    event.before = std::move(before);
    event.after = std::move(after);
    return OkStatus();
  }
  TRIB_ASSIGN_OR_RETURN(Row before, ConvertTuple(*info, change.old_tuple, nullptr,
                                                 change.relation_id));
  AddEvent(out, Op::kDelete, info, raw.wal_start).before = std::move(before);
  return OkStatus();
}

Status ChangeAssembler::ConvertMessage(const BufferedMessage& raw,
                                       const PgOutputMessage& message,
                                       std::vector<ChangeEvent>& out) {
  auto find = [&](uint32_t relation_id) -> Result<const RelationInfo*> {
    const RelationInfo* info = relation(relation_id);
    if (info == nullptr) {
      return MakeError(ErrorCode::kCorruption,
                       "change at {} for unknown relation id {} (no Relation message "
                       "received for it)",
                       core::FormatLsn(raw.wal_start), relation_id);
    }
    return info;
  };
  if (auto* truncate = std::get_if<TruncateMessage>(&message)) {
    for (uint32_t relation_id : truncate->relation_ids) {
      TRIB_ASSIGN_OR_RETURN(const RelationInfo* info, find(relation_id));
      AddEvent(out, Op::kTruncate, info, raw.wal_start);
    }
    return OkStatus();
  }
  if (auto* logical = std::get_if<LogicalMessage>(&message)) {
    if (!options_.logical_messages) {
      return OkStatus();
    }
    ChangeEvent& event = AddEvent(out, Op::kMessage, nullptr, raw.wal_start);
    event.message = core::LogicalMessage{
        logical->prefix, core::Bytes(logical->content.begin(), logical->content.end()),
        logical->transactional};
    return OkStatus();
  }
  return MakeError(ErrorCode::kCorruption, "unexpected message '{}' inside xid {} at {}",
                   MessageTypeByte(message), replay_->xid, core::FormatLsn(raw.wal_start));
}

}  // namespace tributary::capture::postgres::internal
