#include "capture/postgres/internal/change_assembler.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "capture/postgres/internal/wire.h"
#include "testing/temp_dir.h"
#include "unit/capture/postgres/golden.h"

namespace tributary::capture::postgres::internal {
namespace {

using core::ChangeBatch;
using core::ChangeEvent;
using core::Op;
using core::Value;
using testing::ReadGolden;

// The golden streams use one enum type (mood); every other OID is built in.
Result<PgTypeRow> FakeTypeLookup(uint32_t oid) {
  PgTypeRow row;
  row.oid = oid;
  row.name = "mood";
  row.typtype = 'e';
  row.category = 'E';
  row.enum_labels = {"sad", "ok", "happy"};
  return row;
}

struct Collected {
  std::vector<ChangeEvent> events;
  std::vector<ChangeBatch> batches;  // without their events
};

Collected FeedAll(ChangeAssembler& assembler, const std::vector<testing::GoldenMessage>& in) {
  Collected out;
  for (const auto& message : in) {
    auto fed = assembler.Feed(message.lsn, AsBytes(message.data));
    EXPECT_TRUE(fed.ok()) << fed.error().ToString();
    while (assembler.HasBatch()) {
      auto batch = assembler.NextBatch();
      EXPECT_TRUE(batch.ok()) << batch.error().ToString();
      if (!batch.ok()) {
        return out;
      }
      for (auto& event : batch->events) {
        out.events.push_back(std::move(event));
      }
      batch->events.clear();
      out.batches.push_back(std::move(*batch));
    }
  }
  return out;
}

class ChangeAssemblerTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChangeAssembler> Make(int protocol_version, size_t memory_limit,
                                        size_t max_batch = 2000) {
    AssemblerOptions options;
    options.database = "trib_golden";
    options.protocol_version = protocol_version;
    options.max_transaction_memory = memory_limit;
    options.max_batch_events = max_batch;
    options.spill_dir = dir_.path();
    return std::make_unique<ChangeAssembler>(options, FakeTypeLookup, nullptr);
  }

  tributary::testing::TempDir dir_{"trib-assembler"};
};

std::vector<const ChangeEvent*> ForTable(const Collected& collected, const std::string& table) {
  std::vector<const ChangeEvent*> out;
  for (const auto& event : collected.events) {
    if (event.table.table == table) {
      out.push_back(&event);
    }
  }
  return out;
}

void CheckWorkload(const Collected& collected) {
  auto items = ForTable(collected, "items");
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0]->op, Op::kCreate);
  EXPECT_EQ(items[0]->table.database, "trib_golden");
  EXPECT_EQ((*items[0]->after)[0], Value::Int32(1));
  EXPECT_EQ((*items[0]->after)[2], Value::Enum("ok"));
  EXPECT_EQ((*items[0]->after)[3], Value::String(std::string(3000, 'x')));
  EXPECT_EQ((*items[0]->after)[4].AsDecimal().ToString(), "1.50");
  EXPECT_EQ(items[0]->schema->columns[4].type.kind, core::TypeKind::kDecimal);
  EXPECT_EQ(items[0]->schema->columns[4].type.precision, 10);
  EXPECT_EQ(items[0]->schema->columns[4].type.scale, 2);
  EXPECT_EQ(items[0]->schema->primary_key, std::vector<size_t>{0});
  EXPECT_EQ((*items[1]->after)[1], Value::Null());
  EXPECT_EQ((*items[1]->after)[3], Value::String(""));
  EXPECT_EQ((*items[1]->after)[4].AsDecimal().ToString(), "-0.01");
  // UPDATE items SET name = 'uno': the TOASTed column was not sent.
  EXPECT_EQ(items[2]->op, Op::kUpdate);
  EXPECT_EQ((*items[2]->after)[1], Value::String("uno"));
  EXPECT_TRUE((*items[2]->after)[3].is_unavailable());
  // UPDATE items SET id = 10 WHERE id = 2: delete of the old key, create of the new one.
  EXPECT_EQ(items[3]->op, Op::kDelete);
  EXPECT_EQ((*items[3]->before)[0], Value::Int32(2));
  EXPECT_EQ(items[4]->op, Op::kCreate);
  EXPECT_EQ((*items[4]->after)[0], Value::Int32(10));
  EXPECT_EQ(items[5]->op, Op::kDelete);
  EXPECT_EQ((*items[5]->before)[0], Value::Int32(10));
  // After ALTER TABLE ADD COLUMN the new Relation message gives a sixth column.
  ASSERT_EQ(items[6]->schema->columns.size(), 6u);
  EXPECT_EQ(items[6]->schema->columns[5].name, "added");
  EXPECT_EQ((*items[6]->after)[5], Value::Int32(7));
  EXPECT_EQ(items[0]->schema->columns.size(), 5u);

  auto full = ForTable(collected, "full_rows");
  ASSERT_EQ(full.size(), 4u);
  EXPECT_EQ(full[1]->op, Op::kUpdate);
  EXPECT_EQ((*full[1]->before)[1], Value::String("a"));
  EXPECT_EQ((*full[1]->after)[1], Value::String("b"));
  EXPECT_TRUE(full[1]->schema->primary_key.empty());
  EXPECT_EQ(full[2]->op, Op::kDelete);
  EXPECT_EQ(full[3]->op, Op::kTruncate);

  int transactional = 0;
  int standalone = 0;
  for (const auto& event : collected.events) {
    if (event.op == Op::kMessage) {
      ASSERT_TRUE(event.message.has_value());
      (event.message->transactional ? transactional : standalone)++;
    }
  }
  EXPECT_EQ(transactional, 1);
  EXPECT_EQ(standalone, 1);

  // The committed large transaction: 400 + 100 rows, not the rolled-back savepoint's 300,
  // not the rolled-back transaction's 400; then the row inserted after.
  auto big = ForTable(collected, "big_rows");
  std::set<int64_t> ids;
  for (const auto* event : big) {
    EXPECT_EQ(event->op, Op::kCreate);
    ids.insert((*event->after)[0].AsInt64());
  }
  EXPECT_EQ(big.size(), 501u);
  EXPECT_EQ(ids.size(), 501u);
  EXPECT_TRUE(ids.count(1) && ids.count(400) && ids.count(200001) && ids.count(200100) &&
              ids.count(400000));
  EXPECT_FALSE(ids.count(100001) || ids.count(300001));
}

void CheckPositions(const Collected& collected) {
  const core::PostgresPosition* previous = nullptr;
  for (const auto& event : collected.events) {
    const auto* position = event.position.postgres();
    ASSERT_NE(position, nullptr);
    if (previous != nullptr) {
      EXPECT_TRUE(*previous < *position)
          << event.position.ToString() << " after " << core::SourcePosition(*previous).ToString();
    }
    previous = position;
  }
  uint64_t last_resume = 0;
  for (const auto& batch : collected.batches) {
    if (batch.ends_transaction) {
      ASSERT_NE(batch.resume_position.postgres(), nullptr);
      EXPECT_GE(batch.resume_position.postgres()->commit_lsn, last_resume);
      last_resume = batch.resume_position.postgres()->commit_lsn;
    } else {
      EXPECT_TRUE(batch.resume_position.empty());
    }
  }
}

TEST_F(ChangeAssemblerTest, AssemblesStreamedTransactionsAndDropsAborts) {
  auto assembler = Make(2, 8u << 20);
  auto collected = FeedAll(*assembler, ReadGolden("pgoutput_v2_streaming.txt"));
  CheckWorkload(collected);
  CheckPositions(collected);
  EXPECT_EQ(assembler->streamed_transactions(), 1u);
  EXPECT_EQ(assembler->aborted_streams(), 1u);
  EXPECT_FALSE(assembler->Busy());
}

TEST_F(ChangeAssemblerTest, SpillsLargeTransactionsToDiskAndSplitsBatches) {
  auto assembler = Make(1, 1024, 64);
  auto collected = FeedAll(*assembler, ReadGolden("pgoutput_v1.txt"));
  CheckWorkload(collected);
  CheckPositions(collected);
  size_t partial = 0;
  for (const auto& batch : collected.batches) {
    partial += batch.ends_transaction ? 0 : 1;
  }
  EXPECT_GE(partial, 7u);  // 501 rows in batches of 64
}

TEST_F(ChangeAssemblerTest, SkipsTransactionsAtOrBeforeTheResumePosition) {
  auto messages = ReadGolden("pgoutput_v2_streaming.txt");
  auto first = Make(2, 8u << 20);
  auto all = FeedAll(*first, messages);
  ASSERT_GE(all.batches.size(), 4u);
  // Resume after the third transaction: what a restart after it was durable would see.
  uint64_t resume = all.batches[2].resume_position.postgres()->commit_lsn;
  auto second = Make(2, 8u << 20);
  second->set_skip_lsn(resume);
  auto replayed = FeedAll(*second, messages);
  size_t expected = 0;
  for (const auto& event : all.events) {
    expected += event.position.postgres()->commit_lsn > resume ? 1 : 0;
  }
  ASSERT_EQ(replayed.events.size(), expected);
  for (const auto& event : replayed.events) {
    EXPECT_GT(event.position.postgres()->commit_lsn, resume);
  }
  // The schema of items still came through: the skipped transactions' Relation messages
  // were applied.
  EXPECT_FALSE(ForTable(replayed, "items").empty());
}

TEST_F(ChangeAssemblerTest, ReportsUnknownRelationIds) {
  auto assembler = Make(2, 8u << 20);
  WireWriter begin;
  begin.WriteUInt8('B');
  begin.WriteUInt64(0x2000);
  begin.WriteInt64(0);
  begin.WriteUInt32(42);
  WireWriter insert;
  insert.WriteUInt8('I');
  insert.WriteUInt32(999999);
  insert.WriteUInt8('N');
  insert.WriteUInt16(1);
  insert.WriteUInt8('t');
  insert.WriteUInt32(1);
  insert.WriteBytes("1");
  WireWriter commit;
  commit.WriteUInt8('C');
  commit.WriteUInt8(0);
  commit.WriteUInt64(0x2000);
  commit.WriteUInt64(0x2030);
  commit.WriteInt64(0);
  ASSERT_TRUE(assembler->Feed(0x1000, AsBytes(begin.data())).ok());
  ASSERT_TRUE(assembler->Feed(0x1010, AsBytes(insert.data())).ok());
  ASSERT_TRUE(assembler->Busy());
  ASSERT_TRUE(assembler->Feed(0x2000, AsBytes(commit.data())).ok());
  ASSERT_TRUE(assembler->HasBatch());
  auto batch = assembler->NextBatch();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(batch.error().message().find("unknown relation id 999999"), std::string::npos)
      << batch.error().ToString();
}

// Row changes inside a transaction are buffered undecoded (they are decoded once, at
// replay), so a malformed one is reported when its transaction is replayed.
TEST_F(ChangeAssemblerTest, MalformedRowChangeIsReportedAtReplay) {
  auto assembler = Make(2, 8u << 20);
  WireWriter begin;
  begin.WriteUInt8('B');
  begin.WriteUInt64(0x2000);
  begin.WriteInt64(0);
  begin.WriteUInt32(43);
  WireWriter insert;
  insert.WriteUInt8('I');
  insert.WriteUInt8(0);  // truncated relation id
  WireWriter commit;
  commit.WriteUInt8('C');
  commit.WriteUInt8(0);
  commit.WriteUInt64(0x2000);
  commit.WriteUInt64(0x2030);
  commit.WriteInt64(0);
  ASSERT_TRUE(assembler->Feed(0x1000, AsBytes(begin.data())).ok());
  ASSERT_TRUE(assembler->Feed(0x1010, AsBytes(insert.data())).ok());
  ASSERT_TRUE(assembler->Feed(0x2000, AsBytes(commit.data())).ok());
  ASSERT_TRUE(assembler->HasBatch());
  auto batch = assembler->NextBatch();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(batch.error().ToString().find("xid 43"), std::string::npos)
      << batch.error().ToString();
}

TEST_F(ChangeAssemblerTest, RejectsACommitWithoutBegin) {
  auto assembler = Make(2, 8u << 20);
  WireWriter commit;
  commit.WriteUInt8('C');
  commit.WriteUInt8(0);
  commit.WriteUInt64(0x2000);
  commit.WriteUInt64(0x2030);
  commit.WriteInt64(0);
  auto fed = assembler->Feed(0x2000, AsBytes(commit.data()));
  ASSERT_FALSE(fed.ok());
  EXPECT_EQ(fed.error().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace tributary::capture::postgres::internal

namespace tributary::capture::postgres::internal {
namespace {

TEST_F(ChangeAssemblerTest, ResumesInTheMiddleOfALargeTransaction) {
  auto messages = ReadGolden("pgoutput_v2_streaming.txt");
  auto first = Make(2, 8u << 20, 100);
  auto all = FeedAll(*first, messages);
  // The streamed transaction's 500 rows; pretend its first 150 events were durable.
  const core::PostgresPosition* cut = nullptr;
  for (const auto& event : all.events) {
    if (event.table.table == "big_rows" && event.position.postgres()->event_index == 149) {
      cut = event.position.postgres();
    }
  }
  ASSERT_NE(cut, nullptr);
  auto second = Make(2, 8u << 20, 100);
  second->SetResumeAfter(cut->commit_lsn, cut->event_index);
  auto replayed = FeedAll(*second, messages);
  size_t expected = 0;
  for (const auto& event : all.events) {
    expected += *cut < *event.position.postgres() ? 1 : 0;
  }
  ASSERT_EQ(replayed.events.size(), expected);
  EXPECT_EQ(replayed.events.front().position.postgres()->event_index, 150u);
}

}  // namespace
}  // namespace tributary::capture::postgres::internal
