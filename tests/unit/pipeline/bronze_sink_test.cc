#include "pipeline/bronze_sink.h"

#include <chrono>
#include <functional>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/debezium_json.h"
#include "core/value.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/bronze_schemas.h"
#include "pipeline/silver_stage.h"
#include "pipeline/types.h"
#include "pipeline_test_util.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

using core::DataType;
using core::Op;
using core::TypeKind;
using core::Value;
using testing::MakeEvent;
using testing::MakeSchema;
using testing::TableRows;

class BronzeSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = MakeSchema("orders", {{"id", DataType::Of(TypeKind::kInt64)},
                                    {"total", DataType::Decimal(12, 2)},
                                    {"at", DataType::Of(TypeKind::kTimestampTz)},
                                    {"day", DataType::Of(TypeKind::kDate)},
                                    {"tags", DataType::ArrayOf(DataType::Of(TypeKind::kString))},
                                    {"note", DataType::Of(TypeKind::kString)}});
  }

  std::filesystem::path root() const { return dir_.path() / "bronze" / "all_events"; }

  std::unique_ptr<BronzeSink> Open(std::function<int64_t()> clock = {},
                                   int64_t max_events_kept = BronzeOptions{}.max_events_kept) {
    BronzeOptions options;
    options.table_root = root();
    options.source = "pg";
    options.clock = std::move(clock);
    options.max_events_kept = max_events_kept;
    auto sink = BronzeSink::Open(options, &metrics_);
    EXPECT_TRUE(sink.ok()) << (sink.ok() ? "" : sink.status().ToString());
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  core::ChangeEvent Insert(int64_t id, uint64_t lsn, uint64_t index = 0) {
    return MakeEvent(
        Op::kCreate, schema_, std::nullopt,
        core::Row{Value::Int64(id), Value::Numeric(*core::Decimal::FromString("12.34")),
                  Value::TimestampTz(1'700'000'000'123'456), Value::Date(19700),
                  Value::Array({Value::String("a,b"), Value::String("c")}),
                  Value::String("note " + std::to_string(id))},
        lsn, index);
  }

  core::ChangeBatch Batch(std::vector<core::ChangeEvent> events, uint64_t commit_lsn) {
    core::ChangeBatch batch;
    batch.events = std::move(events);
    batch.ends_transaction = true;
    batch.resume_position = core::PostgresPosition{commit_lsn, commit_lsn, 0, 0};
    return batch;
  }

  tributary::testing::TempDir dir_{"trib-bronze"};
  std::shared_ptr<const core::TableSchema> schema_;
  PipelineMetrics metrics_;
};

TEST_F(BronzeSinkTest, CommitsWholeTransactionsWithTxnAndRoundTripsEvents) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  EXPECT_FALSE(sink->ResumePosition().has_value());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100, 0), Insert(2, 100, 1)}, 100)).ok());
  // A partial transaction is not committed.
  core::ChangeBatch partial = Batch({Insert(3, 200, 0)}, 200);
  partial.ends_transaction = false;
  partial.resume_position = {};
  ASSERT_TRUE(sink->WriteBatch(partial).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(commit->has_value());
  EXPECT_EQ((*commit)->event_count, 2);
  EXPECT_EQ((*commit)->records.size(), 2u);
  EXPECT_EQ(sink->DurablePosition(), core::SourcePosition(core::PostgresPosition{100, 100, 0, 0}));
  auto txn = lake::delta::ReadAppTransactionVersion(root(), "bronze:pg");
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, std::optional<int64_t>(100));

  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto rows = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->records.size(), 2u);
  EXPECT_TRUE(rows->undecodable.empty());
  const core::ChangeEvent& original = (*commit)->records[0].event;
  const core::ChangeEvent& decoded = rows->records[0].event;
  EXPECT_EQ(decoded.position, original.position);
  EXPECT_EQ(decoded.op, Op::kCreate);
  EXPECT_EQ(decoded.table, original.table);
  ASSERT_TRUE(decoded.after.has_value());
  ASSERT_EQ(decoded.after->size(), original.after->size());
  for (size_t i = 0; i < decoded.after->size(); ++i) {
    EXPECT_EQ(ValueText((*decoded.after)[i]), ValueText((*original.after)[i])) << i;
  }
  ASSERT_TRUE(decoded.schema);
  EXPECT_EQ(decoded.schema->primary_key, std::vector<size_t>{0});
  EXPECT_EQ(TableRows(root(), "source, source_table, op, position_lsn, event_index"),
            (std::vector<std::string>{"pg|public.orders|c|100|0", "pg|public.orders|c|100|1"}));

  // The open transaction completes and commits next.
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(4, 200, 1)}, 200)).ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(TableRows(root(), "count(*)").at(0), "4");
}

// The records a commit hands to silver: the whole transactions' events in source order
// (an open transaction's stay for the next commit), none when there were more than
// max_events_kept, and each record's value_json the text of its bronze row.
TEST_F(BronzeSinkTest, CommitRecordsAreTheWholeTransactionsWithTheirRowsText) {
  auto sink = Open({}, /*max_events_kept=*/5);
  ASSERT_NE(sink, nullptr);
  auto ids = [](const BronzeCommit& commit) {
    std::vector<int64_t> out;
    for (const auto& record : commit.records) {
      out.push_back((*record.event.after)[0].AsInt64());
    }
    return out;
  };
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100, 0), Insert(2, 100, 1)}, 100)).ok());
  core::ChangeBatch partial = Batch({Insert(3, 200, 0)}, 200);
  partial.ends_transaction = false;
  partial.resume_position = {};
  ASSERT_TRUE(sink->WriteBatch(partial).ok());
  auto first = sink->Commit();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(ids(**first), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE((*first)->events_dropped);
  // The rows' value_json, in commit_seq order, is what BronzeValueJson gives the records.
  const auto texts = TableRows(root(), "lpad(commit_seq::VARCHAR, 4, '0'), value_json");
  ASSERT_EQ(texts.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const BronzeRecord& record = (*first)->records[i];
    EXPECT_TRUE(record.value_json.empty()) << "the commit keeps no second copy of the text";
    EXPECT_EQ(texts[i], fmt::format("{:04}|{}", i, BronzeValueJson(record)));
  }

  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(4, 200, 1)}, 200)).ok());
  auto second = sink->Commit();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ(ids(**second), (std::vector<int64_t>{3, 4}));

  // Six events in one transaction: more than max_events_kept, so silver reads them back.
  std::vector<core::ChangeEvent> many;
  for (int64_t id = 10; id < 16; ++id) {
    many.push_back(Insert(id, 300, static_cast<uint64_t>(id - 10)));
  }
  ASSERT_TRUE(sink->WriteBatch(Batch(std::move(many), 300)).ok());
  auto third = sink->Commit();
  ASSERT_TRUE(third.ok() && third->has_value());
  EXPECT_TRUE((*third)->events_dropped);
  EXPECT_TRUE((*third)->records.empty());
  EXPECT_EQ((*third)->event_count, 6);

  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(20, 400, 0)}, 400)).ok());
  auto fourth = sink->Commit();
  ASSERT_TRUE(fourth.ok() && fourth->has_value());
  EXPECT_FALSE((*fourth)->events_dropped);
  EXPECT_EQ(ids(**fourth), (std::vector<int64_t>{20}));
}

TEST_F(BronzeSinkTest, FilesKeepSourceOrderAcrossManyBatchesAndTables) {
  auto items = MakeSchema("items", {{"id", DataType::Of(TypeKind::kInt64)},
                                    {"name", DataType::Of(TypeKind::kString)}});
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  // 50 transactions of two orders and one item each, in many batches (the commit query
  // has no ORDER BY: the stage table's insertion order is the source order).
  for (int64_t txn = 0; txn < 50; ++txn) {
    uint64_t lsn = 100 + static_cast<uint64_t>(txn) * 10;
    auto item = MakeEvent(Op::kCreate, items, std::nullopt,
                          core::Row{Value::Int64(txn), Value::String("item")}, lsn, 2);
    core::ChangeBatch batch =
        Batch({Insert(txn * 2, lsn, 0), Insert(txn * 2 + 1, lsn, 1), item}, lsn);
    ASSERT_TRUE(sink->WriteBatch(std::move(batch)).ok());
  }
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(commit->has_value());
  EXPECT_EQ((*commit)->event_count, 150);
  ASSERT_EQ((*commit)->records.size(), 150u);
  EXPECT_EQ((*commit)->records[2].event.table.table, "items");
  // Each data file, read in its physical row order, holds its rows in commit_seq order,
  // and the positions ascend with it.
  auto actions = lake::delta::ReadCommit(root(), (*commit)->version);
  ASSERT_TRUE(actions.ok());
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  int files = 0;
  int64_t rows_seen = 0;
  for (const auto& action : *actions) {
    const auto* add = std::get_if<lake::delta::AddFile>(&action);
    if (add == nullptr) {
      continue;
    }
    ++files;
    auto rows = (*conn)->Query(
        "SELECT commit_seq, position_lsn, event_index FROM read_parquet(" +
        sql::QuoteLiteral((root() / add->path).string()) + ")");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_GT(rows->row_count(), 1u);
    for (size_t row = 1; row < rows->row_count(); ++row) {
      EXPECT_LT(rows->GetInt64(0, row - 1), rows->GetInt64(0, row)) << add->path;
      EXPECT_LE(rows->GetInt64(1, row - 1), rows->GetInt64(1, row)) << add->path;
    }
    rows_seen += static_cast<int64_t>(rows->row_count());
  }
  EXPECT_EQ(files, 2);  // one per source_table partition
  EXPECT_EQ(rows_seen, 150);
  EXPECT_EQ(TableRows(root(), "count(*), count(DISTINCT commit_seq), min(commit_seq), "
                              "max(commit_seq)"),
            (std::vector<std::string>{"150|150|0|149"}));
  // ReadBronzeVersion returns them in source order across the files.
  auto read = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->records.size(), 150u);
  for (size_t i = 0; i < read->records.size(); ++i) {
    EXPECT_EQ(read->records[i].event.position, (*commit)->records[i].event.position) << i;
  }
}

// One commit holding two tables, a logical message (no table: a null source_table) and
// rows staged on either side of midnight: one file per (source_table, ingest_date), in
// order of first appearance, each with its rows in source order.
TEST_F(BronzeSinkTest, OneCommitSplitsRowsByTableAndIngestDate) {
  auto items = MakeSchema("items", {{"id", DataType::Of(TypeKind::kInt64)},
                                    {"name", DataType::Of(TypeKind::kString)}});
  auto item = [&](int64_t id, uint64_t lsn, uint64_t index) {
    return MakeEvent(Op::kCreate, items, std::nullopt,
                     core::Row{Value::Int64(id), Value::String("item")}, lsn, index);
  };
  core::ChangeEvent message;
  message.op = Op::kMessage;
  message.source.connector = core::Connector::kPostgres;
  message.source.name = "pg";
  message.source.version = "test";
  message.message = core::LogicalMessage{"audit", {'h', 'i'}, true};
  message.position = core::PostgresPosition{110, 105, 810, 0};
  message.commit_time_us = 1'700'000'000'000'110;
  core::FillSourceFromPosition(message);

  const int32_t day = core::DaysFromCivil(2026, 2, 28);
  int64_t now_us = int64_t{day} * core::kMicrosPerDay + core::kMicrosPerDay - 1'000'000;
  auto sink = Open([&now_us] { return now_us; });
  ASSERT_NE(sink, nullptr);
  // 23:59:59: orders, items, orders; then a message and an order.
  ASSERT_TRUE(sink->WriteBatch(
                      Batch({Insert(1, 100, 0), item(1, 100, 1), Insert(2, 100, 2)}, 100))
                  .ok());
  ASSERT_TRUE(sink->WriteBatch(Batch({message, Insert(3, 110, 1)}, 110)).ok());
  // 00:00:01 the next day: an item, an order.
  now_us += 2'000'000;
  ASSERT_TRUE(sink->WriteBatch(Batch({item(2, 120, 0), Insert(4, 120, 1)}, 120)).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(commit->has_value());
  EXPECT_EQ((*commit)->event_count, 7);

  auto actions = lake::delta::ReadCommit(root(), (*commit)->version);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  // "<source_table>/<ingest_date>: <commit_seq>,..." per file, in commit order.
  std::vector<std::string> files;
  for (const auto& action : *actions) {
    const auto* add = std::get_if<lake::delta::AddFile>(&action);
    if (add == nullptr) {
      continue;
    }
    std::string line =
        fmt::format("{}/{}:", add->partition_values.at("source_table").value_or("NULL"),
                    add->partition_values.at("ingest_date").value_or("NULL"));
    auto rows = (*conn)->Query("SELECT commit_seq FROM read_parquet(" +
                               sql::QuoteLiteral((root() / add->path).string()) + ")");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    for (size_t row = 0; row < rows->row_count(); ++row) {
      line += fmt::format("{}{}", row == 0 ? " " : ",", rows->GetInt64(0, row));
    }
    files.push_back(line);
    // Hive directories: the null table in the default partition.
    const std::string directory = fmt::format(
        "source_table={}/ingest_date={}/",
        add->partition_values.at("source_table").value_or("__HIVE_DEFAULT_PARTITION__"),
        add->partition_values.at("ingest_date").value_or(""));
    EXPECT_EQ(add->path.rfind(directory, 0), 0u) << add->path;
  }
  EXPECT_EQ(files, (std::vector<std::string>{
                       "public.orders/2026-02-28: 0,2,4",
                       "public.items/2026-02-28: 1",
                       "NULL/2026-02-28: 3",
                       "public.items/2026-03-01: 5",
                       "public.orders/2026-03-01: 6",
                   }));
  // Read back with partition columns (TableRows sorts the lines): every row in the
  // partition its values name.
  EXPECT_EQ(TableRows(root(),
                      "coalesce(source_table, 'NULL'), ingest_date, op, count(*), "
                      "min(commit_seq)",
                      "true GROUP BY ALL"),
            (std::vector<std::string>{
                "NULL|2026-02-28|m|1|3", "public.items|2026-02-28|c|1|1",
                "public.items|2026-03-01|c|1|5", "public.orders|2026-02-28|c|3|0",
                "public.orders|2026-03-01|c|1|6"}));
  // ReadBronzeVersion returns the commit in source order across the files.
  auto read = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->records.size(), 7u);
  for (size_t i = 0; i < read->records.size(); ++i) {
    EXPECT_EQ(read->records[i].event.position, (*commit)->records[i].event.position) << i;
    EXPECT_EQ(read->records[i].event.table, (*commit)->records[i].event.table) << i;
  }
  EXPECT_EQ(read->records[3].event.op, Op::kMessage);
}

TEST_F(BronzeSinkTest, RestartDropsReplayedEvents) {
  {
    auto sink = Open();
    ASSERT_NE(sink, nullptr);
    ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100)}, 100)).ok());
    ASSERT_TRUE(sink->WriteBatch(Batch({Insert(2, 200)}, 200)).ok());
    ASSERT_TRUE(sink->Flush().ok());
  }
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->ResumePosition().has_value());
  EXPECT_EQ(sink->ResumePosition()->postgres()->commit_lsn, 200u);
  // The source replays from its older confirmed position: 100 and 200 again, then 300.
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100)}, 100)).ok());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(2, 200)}, 200)).ok());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(3, 300)}, 300)).ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(metrics_.bronze_replayed_events_dropped.load(), 2);
  EXPECT_EQ(TableRows(root(), "position_lsn, count(*)", "true GROUP BY position_lsn"),
            (std::vector<std::string>{"100|1", "200|1", "300|1"}));
}

TEST_F(BronzeSinkTest, SilverReplayFromBronzeMatchesTheMemoryPath) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100), Insert(2, 100, 1)}, 100)).ok());
  auto first = sink->Commit();
  ASSERT_TRUE(first.ok() && first->has_value());
  auto update = MakeEvent(
      Op::kUpdate, schema_, std::nullopt,
      core::Row{Value::Int64(2), Value::Numeric(*core::Decimal::FromString("99.99")),
                Value::TimestampTz(1'700'000'000'000'000), Value::Date(19701),
                Value::Array({}), Value::Unavailable()},
      200);
  ASSERT_TRUE(sink->WriteBatch(Batch({update}, 200)).ok());
  auto second = sink->Commit();
  ASSERT_TRUE(second.ok() && second->has_value());

  SilverOptions memory_options;
  memory_options.silver_root = dir_.path() / "silver_memory";
  memory_options.bronze_root = root();
  auto memory = SilverStage::Open(memory_options);
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE((*memory)->ApplyCommit(**first).ok());
  ASSERT_TRUE((*memory)->ApplyCommit(**second).ok());

  SilverOptions replay_options = memory_options;
  replay_options.silver_root = dir_.path() / "silver_replay";
  auto replay = SilverStage::Open(replay_options);
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE((*replay)->CatchUp((*second)->version).ok());

  const std::string columns = "id, total, \"at\", day, tags, note";
  auto expected = TableRows(dir_.path() / "silver_memory" / "orders", columns);
  EXPECT_EQ(expected.size(), 2u);
  EXPECT_EQ(expected, TableRows(dir_.path() / "silver_replay" / "orders", columns));
  EXPECT_EQ(expected.at(1), "2|99.99|2023-11-14 22:13:20+00|2023-12-10|[]|note 2");
}

// A snapshot in which no table held a row ends with a message carrying the mark (the
// PostgreSQL capture's "tributary.snapshot_end"): it goes through bronze with its mark,
// and silver, from memory or replaying bronze, empties the source's tables.
TEST_F(BronzeSinkTest, ASnapshotEndMessageEmptiesTheSourcesTablesFromMemoryAndOnReplay) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100), Insert(2, 100, 1)}, 100)).ok());
  auto rows = sink->Commit();
  ASSERT_TRUE(rows.ok() && rows->has_value());
  core::ChangeEvent end;
  end.op = Op::kMessage;
  end.message = core::LogicalMessage{"tributary.snapshot_end", {}, false};
  end.position = core::PostgresPosition{300, 300, 0, 0};
  end.snapshot = core::SnapshotMarker::kLast;
  end.commit_time_us = 1'700'000'000'000'000;
  end.source.connector = core::Connector::kPostgres;
  end.source.version = "tributary";
  end.source.name = "pg";
  end.source.lsn = 300;
  end.processing_time_ns = 1'700'000'000'000'000'000;
  ASSERT_TRUE(sink->WriteBatch(Batch({end}, 300)).ok());
  auto marked = sink->Commit();
  ASSERT_TRUE(marked.ok() && marked->has_value());

  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto read = ReadBronzeVersion(**conn, root(), (*marked)->version);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->records.size(), 1u);
  const core::ChangeEvent& decoded = read->records[0].event;
  EXPECT_EQ(decoded.op, Op::kMessage);
  EXPECT_EQ(decoded.snapshot, core::SnapshotMarker::kLast);
  EXPECT_EQ(decoded.position, end.position);
  EXPECT_EQ(decoded.source.name, "pg");

  for (const char* path : {"silver_memory", "silver_replay"}) {
    SilverOptions options;
    options.silver_root = dir_.path() / path;
    options.bronze_root = root();
    auto silver = SilverStage::Open(options);
    ASSERT_TRUE(silver.ok());
    if (std::string(path) == "silver_memory") {
      ASSERT_TRUE((*silver)->ApplyCommit(**rows).ok());
      EXPECT_EQ(TableRows(options.silver_root / "orders", "id").size(), 2u);
      ASSERT_TRUE((*silver)->ApplyCommit(**marked).ok());
    } else {
      ASSERT_TRUE((*silver)->CatchUp((*marked)->version).ok());
    }
    EXPECT_EQ(TableRows(options.silver_root / "orders", "id"), std::vector<std::string>{})
        << path;
  }
}

// The events of every op the pipeline writes, for the row-format tests.
std::vector<core::ChangeEvent> EveryOp(const std::shared_ptr<const core::TableSchema>& schema,
                                       uint64_t lsn) {
  auto row = [](int64_t id, const char* total, std::optional<std::string> note) {
    return core::Row{Value::Int64(id), Value::Numeric(*core::Decimal::FromString(total)),
                     Value::TimestampTz(1'700'000'000'123'456), Value::Date(19700),
                     Value::Array({Value::String("a,b"), Value::Null()}),
                     note ? Value::String(*note) : Value::Unavailable()};
  };
  std::vector<core::ChangeEvent> events;
  events.push_back(MakeEvent(Op::kCreate, schema, std::nullopt, row(1, "12.34", "x"), lsn, 0));
  events.push_back(
      MakeEvent(Op::kUpdate, schema, row(1, "12.34", "x"), row(1, "-0.01", std::nullopt), lsn, 1));
  events.push_back(MakeEvent(Op::kDelete, schema, row(1, "-0.01", "y"), std::nullopt, lsn, 2));
  events.push_back(MakeEvent(Op::kTruncate, schema, std::nullopt, std::nullopt, lsn, 3));
  return events;
}

void ExpectSameEvents(const std::vector<BronzeRecord>& decoded,
                      const std::vector<core::ChangeEvent>& original) {
  ASSERT_EQ(decoded.size(), original.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    const core::ChangeEvent& got = decoded[i].event;
    const core::ChangeEvent& want = original[i];
    EXPECT_EQ(got.op, want.op) << i;
    EXPECT_EQ(got.position, want.position) << i;
    EXPECT_EQ(got.table, want.table) << i;
    EXPECT_EQ(got.commit_time_us, want.commit_time_us) << i;
    for (auto [got_row, want_row] : {std::pair{&got.before, &want.before},
                                     std::pair{&got.after, &want.after}}) {
      ASSERT_EQ(got_row->has_value(), want_row->has_value()) << i;
      if (!want_row->has_value()) {
        continue;
      }
      ASSERT_EQ((*got_row)->size(), (*want_row)->size()) << i;
      for (size_t c = 0; c < (*want_row)->size(); ++c) {
        EXPECT_EQ(ValueText((**got_row)[c]), ValueText((**want_row)[c])) << i << " col " << c;
      }
    }
    if (want.op != Op::kTruncate) {
      ASSERT_TRUE(got.schema) << i;
      EXPECT_EQ(got.schema->primary_key, std::vector<size_t>{0}) << i;
      ASSERT_EQ(got.schema->columns.size(), want.schema->columns.size()) << i;
      for (size_t c = 0; c < want.schema->columns.size(); ++c) {
        EXPECT_EQ(got.schema->columns[c].name, want.schema->columns[c].name);
        EXPECT_EQ(got.schema->columns[c].type.kind, want.schema->columns[c].type.kind)
            << want.schema->columns[c].name;
      }
    }
  }
}

TEST_F(BronzeSinkTest, RowsHoldPayloadsAndSchemaIdsOfTheRegistry) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  auto events = EveryOp(schema_, 100);
  ASSERT_TRUE(sink->WriteBatch(Batch(events, 100)).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok() && commit->has_value()) << commit.status().ToString();

  // Plain SQL: the payload is the row's JSON (JsonConverter schemas.enable=false).
  EXPECT_EQ(TableRows(root(),
                      "op, value_json->>'$.after.id', value_json->>'$.before.id', "
                      "key_json->>'$.id', json_exists(value_json, '$.schema'), "
                      "key_schema_id IS NULL, value_schema_id IS NULL"),
            (std::vector<std::string>{"c|1|NULL|1|false|false|false",
                                      "d|NULL|1|1|false|false|false",
                                      "t|NULL|NULL|NULL|false|true|false",
                                      "u|1|1|1|false|false|false"}));
  // The ids join to the registry, which holds exactly the `schema` JsonConverter
  // (schemas.enable=true) writes.
  core::DebeziumEncodeOptions with_schemas;
  with_schemas.schemas_enable = true;
  auto wrapped_value = core::EncodeDebeziumValue(events[0], with_schemas);
  auto wrapped_key = core::EncodeDebeziumKey(events[0], with_schemas);
  ASSERT_TRUE(wrapped_value.ok() && wrapped_key.ok() && wrapped_key->has_value());
  auto registry = BronzeSchemaRegistryRoot(root());
  auto registered = TableRows(registry, "kind, schema_json, source, source_table");
  ASSERT_EQ(registered.size(), 2u);  // one key and one value schema for every op
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto value_schema = (*conn)->Query("SELECT CAST(json(" + sql::QuoteLiteral(*wrapped_value) +
                                     ")->'$.schema' AS VARCHAR), CAST(json(" +
                                     sql::QuoteLiteral(**wrapped_key) +
                                     ")->'$.schema' AS VARCHAR)");
  ASSERT_TRUE(value_schema.ok()) << value_schema.status().ToString();
  const std::string expected_value = value_schema->GetString(0, 0);
  const std::string expected_key = value_schema->GetString(1, 0);
  EXPECT_NE(std::find(registered.begin(), registered.end(),
                      "value|" + expected_value + "|pg|public.orders"),
            registered.end());
  EXPECT_NE(std::find(registered.begin(), registered.end(),
                      "key|" + expected_key + "|pg|public.orders"),
            registered.end());
  // Every id a row holds is registered.
  auto snapshot = lake::delta::Snapshot::LoadLatest(root());
  ASSERT_TRUE(snapshot.ok());
  auto bronze_scan = lake::delta::BuildScanQuery(**snapshot, **conn);
  auto registry_snapshot = lake::delta::Snapshot::LoadLatest(registry);
  ASSERT_TRUE(bronze_scan.ok() && registry_snapshot.ok());
  auto registry_scan = lake::delta::BuildScanQuery(**registry_snapshot, **conn);
  ASSERT_TRUE(registry_scan.ok());
  auto dangling = (*conn)->Query(
      "SELECT count(*) FROM (" + *bronze_scan + ") b WHERE (value_schema_id IS NOT NULL AND "
      "value_schema_id NOT IN (SELECT schema_id FROM (" + *registry_scan + "))) OR "
      "(key_schema_id IS NOT NULL AND key_schema_id NOT IN (SELECT schema_id FROM (" +
      *registry_scan + ")))");
  ASSERT_TRUE(dangling.ok()) << dangling.status().ToString();
  EXPECT_EQ(dangling->GetInt64(0, 0), 0);

  // And the rows decode back to the same events.
  auto rows = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->undecodable.empty())
      << (rows->undecodable.empty() ? "" : rows->undecodable[0].error);
  ExpectSameEvents(rows->records, events);
  ExpectSameEvents((*commit)->records, events);
}

TEST_F(BronzeSinkTest, TablesWrittenBeforeSchemaIdsEvolveAndStillReplay) {
  // A bronze table as written before ADR 0005: no id columns, the schema inline.
  lake::delta::StructType old_schema = BronzeSchema();
  old_schema.fields.resize(old_schema.fields.size() - 2);
  ASSERT_EQ(old_schema.fields.back().name, "ingested_at");
  lake::delta::CreateTableOptions create;
  create.schema = old_schema;
  create.partition_columns = {"source_table", "ingest_date"};
  ASSERT_TRUE(lake::delta::CreateTable(root(), create).ok());
  auto old_events = EveryOp(schema_, 100);
  core::DebeziumEncodeOptions with_schemas;
  with_schemas.schemas_enable = true;
  std::string values;
  for (size_t i = 0; i < old_events.size(); ++i) {
    auto value = core::EncodeDebeziumValue(old_events[i], with_schemas);
    auto key = core::EncodeDebeziumKey(old_events[i], with_schemas);
    ASSERT_TRUE(value.ok() && key.ok());
    values += std::string(i == 0 ? "" : ", ") + "('pg', 'public.orders', DATE '2026-01-01', " +
              sql::QuoteLiteral(std::string(1, core::OpCode(old_events[i].op))) + ", " +
              (key->has_value() ? sql::QuoteLiteral(**key) : std::string("NULL")) + ", " +
              sql::QuoteLiteral(*value) + ", " +
              sql::QuoteLiteral(old_events[i].position.ToString()) + ", 100, " +
              std::to_string(i) + ", " + std::to_string(i) + ")";
  }
  ASSERT_NE(values.find("\"payload\""), std::string::npos);
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  lake::delta::WriteOptions write;
  write.txn = lake::delta::SetTransaction{"bronze:pg", 100, std::nullopt};
  write.operation_parameters["tributary.resume.pg"] =
      core::SourcePosition(core::PostgresPosition{100, 100, 0, 0}).ToString();
  auto old_version = lake::delta::Append(
      **conn, root(),
      "SELECT * FROM (VALUES " + values +
          ") AS t(source, source_table, ingest_date, op, key_json, value_json, position, "
          "position_lsn, event_index, commit_seq)",
      write);
  ASSERT_TRUE(old_version.ok()) << old_version.status().ToString();

  // The sink evolves the table, resumes after it, and writes the new form.
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->ResumePosition().has_value());
  auto snapshot = lake::delta::Snapshot::LoadLatest(root());
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ((*snapshot)->schema().fields.size(), BronzeSchema().fields.size());
  auto new_events = EveryOp(schema_, 200);
  ASSERT_TRUE(sink->WriteBatch(Batch(new_events, 200)).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok() && commit->has_value()) << commit.status().ToString();
  EXPECT_EQ(TableRows(root(), "position_lsn, count(*), count(value_schema_id)",
                      "true GROUP BY position_lsn"),
            (std::vector<std::string>{"100|4|0", "200|4|4"}));

  auto old_rows = ReadBronzeVersion(**conn, root(), old_version->version);
  ASSERT_TRUE(old_rows.ok()) << old_rows.status().ToString();
  EXPECT_TRUE(old_rows->undecodable.empty());
  ExpectSameEvents(old_rows->records, old_events);
  auto new_rows = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(new_rows.ok()) << new_rows.status().ToString();
  EXPECT_TRUE(new_rows->undecodable.empty());
  ExpectSameEvents(new_rows->records, new_events);

  // Silver replays both forms alike.
  SilverOptions options;
  options.silver_root = dir_.path() / "silver";
  options.bronze_root = root();
  auto silver = SilverStage::Open(options);
  ASSERT_TRUE(silver.ok()) << silver.status().ToString();
  ASSERT_TRUE((*silver)->CatchUp((*commit)->version).ok());
}

TEST_F(BronzeSinkTest, ACrashBetweenRegistryAndBronzeCommitLeavesOnlyAnUnusedSchema) {
  auto events = EveryOp(schema_, 100);
  {
    // The sink registered the schemas of its staged rows, then died before its bronze
    // commit: the registry holds them, bronze nothing.
    auto sink = Open();
    ASSERT_NE(sink, nullptr);
    ASSERT_TRUE(sink->WriteBatch(Batch(events, 100)).ok());
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok());
    auto registry = BronzeSchemaRegistry::Open(**conn, BronzeSchemaRegistryRoot(root()));
    ASSERT_TRUE(registry.ok());
    std::vector<BronzeSchemaEntry> entries;
    for (const auto& event : events) {
      auto value = core::DebeziumValueSchema(event);
      ASSERT_TRUE(value.ok());
      entries.push_back(
          BronzeSchemaEntry{BronzeSchemaId(*value), "pg", "public.orders", "value", *value});
    }
    ASSERT_TRUE((*registry)->Register(**conn, entries).ok());
  }
  auto registry_version = lake::delta::LatestCommitVersion(BronzeSchemaRegistryRoot(root()));
  ASSERT_TRUE(registry_version.ok() && registry_version->has_value());
  EXPECT_EQ(TableRows(root(), "count(*)").at(0), "0");

  // The restart replays the transaction: the value schemas are known, the key schema is
  // new and registered before the bronze commit; every row decodes.
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  EXPECT_FALSE(sink->ResumePosition().has_value());
  ASSERT_TRUE(sink->WriteBatch(Batch(events, 100)).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok() && commit->has_value()) << commit.status().ToString();
  EXPECT_EQ(TableRows(BronzeSchemaRegistryRoot(root()), "kind, count(*)",
                      "true GROUP BY kind"),
            (std::vector<std::string>{"key|1", "value|1"}));
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto rows = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->undecodable.empty());
  ExpectSameEvents(rows->records, events);
}

TEST_F(BronzeSinkTest, ARowWhoseSchemaIdIsMissingIsUndecodableNotAnError) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100)}, 100)).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok() && commit->has_value());
  // A foreign writer's row naming an id nobody registered.
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  lake::delta::WriteOptions write;
  auto foreign = lake::delta::Append(
      **conn, root(),
      "SELECT 'pg' AS source, 'public.orders' AS source_table, DATE '2026-01-01' AS "
      "ingest_date, 'c' AS op, '{}' AS value_json, 'pg:0/1:0/1:1:0' AS position, "
      "CAST(0 AS BIGINT) AS commit_seq, 'ffffffffffffffff' AS value_schema_id",
      write);
  ASSERT_TRUE(foreign.ok()) << foreign.status().ToString();
  auto rows = ReadBronzeVersion(**conn, root(), foreign->version);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->records.empty());
  ASSERT_EQ(rows->undecodable.size(), 1u);
  EXPECT_NE(rows->undecodable[0].error.find("ffffffffffffffff"), std::string::npos)
      << rows->undecodable[0].error;
}

}  // namespace
}  // namespace tributary::pipeline
