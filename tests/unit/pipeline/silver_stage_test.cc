#include "pipeline/silver_stage.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/value.h"
#include "lake/delta/commit.h"
#include "pipeline_test_util.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

using core::DataType;
using core::Op;
using core::TypeKind;
using core::Value;
using testing::MakeEvent;
using testing::MakeSchema;
using testing::Records;
using testing::TableRows;

class SilverStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = MakeSchema("customer", {{"id", DataType::Of(TypeKind::kInt32)},
                                      {"name", DataType::Of(TypeKind::kString)},
                                      {"amount", DataType::Decimal(10, 2)},
                                      {"note", DataType::Of(TypeKind::kString)}});
  }

  std::unique_ptr<SilverStage> Open(std::vector<SilverTableOptions> tables = {}) {
    SilverOptions options;
    options.silver_root = dir_.path() / "silver";
    options.bronze_root = dir_.path() / "bronze" / "all_events";
    options.tables = std::move(tables);
    auto stage = SilverStage::Open(options, &metrics_);
    EXPECT_TRUE(stage.ok()) << (stage.ok() ? "" : stage.status().ToString());
    return stage.ok() ? std::move(*stage) : nullptr;
  }

  core::Row Row(int32_t id, std::string name, std::string amount, Value note) {
    return core::Row{Value::Int32(id), Value::String(std::move(name)),
                     Value::Numeric(*core::Decimal::FromString(amount)), std::move(note)};
  }

  core::ChangeEvent Insert(core::Row row, uint64_t lsn, uint64_t index = 0) {
    return MakeEvent(Op::kCreate, schema_, std::nullopt, std::move(row), lsn, index);
  }
  core::ChangeEvent Update(std::optional<core::Row> before, core::Row after, uint64_t lsn,
                           uint64_t index = 0) {
    return MakeEvent(Op::kUpdate, schema_, std::move(before), std::move(after), lsn, index);
  }
  core::ChangeEvent Delete(core::Row before, uint64_t lsn, uint64_t index = 0) {
    return MakeEvent(Op::kDelete, schema_, std::move(before), std::nullopt, lsn, index);
  }

  std::vector<std::string> Customers() {
    return TableRows(dir_.path() / "silver" / "customer", "id, name, amount, note");
  }

  /// A snapshot row as the PostgreSQL capture emits it: position {consistent point, 0, 0,
  /// index}; the last row's event LSN is the consistent point.
  static core::ChangeEvent SnapshotRow(std::shared_ptr<const core::TableSchema> schema,
                                       core::Row row, uint64_t consistent_point,
                                       uint64_t index, core::SnapshotMarker marker) {
    core::ChangeEvent event =
        MakeEvent(Op::kRead, std::move(schema), std::nullopt, std::move(row), 8, index);
    event.position = core::PostgresPosition{
        consistent_point, marker == core::SnapshotMarker::kLast ? consistent_point : 0, 0,
        index};
    event.snapshot = marker;
    core::FillSourceFromPosition(event);
    return event;
  }

  tributary::testing::TempDir dir_{"trib-silver"};
  std::shared_ptr<const core::TableSchema> schema_;
  PipelineMetrics metrics_;
};

TEST_F(SilverStageTest, CollapsesToTheLastChangePerKey) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  std::vector<core::ChangeEvent> events = {
      Insert(Row(1, "a", "1.00", Value::String("n1")), 100, 0),
      Insert(Row(2, "b", "2.50", Value::Null()), 100, 1),
      Update(std::nullopt, Row(1, "a2", "1.10", Value::String("n1")), 108, 0),
      Update(std::nullopt, Row(1, "a3", "1.20", Value::String("n1")), 116, 0),
  };
  auto applied = stage->Apply(1, Records(events));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a3|1.20|n1", "2|b|2.50|NULL"}));
  EXPECT_EQ(stage->position(), 1);
  EXPECT_EQ(metrics_.silver_rows_upserted.load(), 2);
  // Source metadata columns carry the winning event's position.
  auto positions = TableRows(dir_.path() / "silver" / "customer",
                             "id, _source_position, _bronze_version", "id = 1");
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0], "1|" + events[3].position.ToString() + "|1");
}

// A version's rows are written in the order their keys first appear in it (source
// order), whatever their key values.
TEST_F(SilverStageTest, FilesHoldRowsInTheOrderTheirKeysFirstAppear) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  std::vector<core::ChangeEvent> events;
  std::vector<std::string> expected;
  for (int32_t i = 0; i < 500; ++i) {
    const int32_t id = (i * 7919) % 1000;  // a permutation of 500 distinct ids
    events.push_back(Insert(Row(id, "n", "1.00", Value::Null()),
                            100 + static_cast<uint64_t>(i / 100) * 8,
                            static_cast<uint64_t>(i % 100)));
    expected.push_back(std::to_string(id));
  }
  // Later changes of earlier keys keep those keys' places.
  events.push_back(Update(std::nullopt, Row((3 * 7919) % 1000, "m", "2.00", Value::Null()), 200));
  auto applied = stage->Apply(1, Records(events));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto rows = (*conn)->Query(fmt::format(
      "SELECT id::VARCHAR FROM read_parquet('{}/**/*.parquet')",
      (dir_.path() / "silver" / "customer").string()));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> ids;
  for (size_t row = 0; row < rows->row_count(); ++row) {
    ids.push_back(rows->GetString(0, row));
  }
  EXPECT_EQ(ids, expected);
}

TEST_F(SilverStageTest, DeletesRemoveRowsAcrossAndWithinBatches) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage
                  ->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100),
                                      Insert(Row(2, "b", "2.00", Value::Null()), 100, 1)}))
                  .ok());
  ASSERT_TRUE(stage
                  ->Apply(2, Records({Delete(Row(1, "a", "1.00", Value::Null()), 200),
                                      Insert(Row(3, "c", "3.00", Value::Null()), 208),
                                      Delete(Row(3, "c", "3.00", Value::Null()), 216)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"2|b|2.00|NULL"}));
}

TEST_F(SilverStageTest, PrimaryKeyChangeMovesTheRow) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(
      stage->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::String("x")), 100)})).ok());
  ASSERT_TRUE(stage
                  ->Apply(2, Records({Update(Row(1, "a", "1.00", Value::String("x")),
                                             Row(7, "a", "1.00", Value::Unavailable()),
                                             200)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"7|a|1.00|x"}));
}

// Within one batch: a row inserted, then moved by a primary-key change whose new image
// lacks an unchanged TOAST value, which comes from the inserted row; and Debezium's form
// of a key change (delete + insert in one transaction) taking it from the silver row.
TEST_F(SilverStageTest, PrimaryKeyChangeWithinABatchCarriesUnchangedToast) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(
      stage->Apply(1, Records({Insert(Row(5, "e", "5.00", Value::String("kept")), 100)})).ok());
  ASSERT_TRUE(stage
                  ->Apply(2, Records({Insert(Row(1, "a", "1.00", Value::String("x")), 200),
                                      Update(Row(1, "a", "1.00", Value::Null()),
                                             Row(7, "a2", "1.00", Value::Unavailable()), 208),
                                      Delete(Row(5, "e", "5.00", Value::Null()), 216, 0),
                                      Insert(Row(6, "e", "5.00", Value::Unavailable()), 216, 1)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"6|e|5.00|kept", "7|a2|1.00|x"}));
}

TEST_F(SilverStageTest, UnavailableToastKeepsThePreviousValue) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  std::string big(5000, 'z');
  ASSERT_TRUE(stage
                  ->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::String(big)), 100),
                                      Insert(Row(2, "b", "2.00", Value::String("keep")), 100,
                                             1)}))
                  .ok());
  // Across batches: the value comes from the silver row.
  ASSERT_TRUE(
      stage->Apply(2, Records({Update(std::nullopt, Row(1, "a2", "1.00", Value::Unavailable()),
                                      200)}))
          .ok());
  // Within a batch: from the earlier change of the same key.
  ASSERT_TRUE(stage
                  ->Apply(3, Records({Update(std::nullopt,
                                             Row(2, "b2", "2.00", Value::String("new")), 300),
                                      Update(std::nullopt,
                                             Row(2, "b3", "2.00", Value::Unavailable()), 308)}))
                  .ok());
  EXPECT_EQ(Customers(),
            (std::vector<std::string>{"1|a2|1.00|" + big, "2|b3|2.00|new"}));
}

// Replaying bronze decodes a schema object per record: equal schemas are interned, and
// the result is the same as with one shared schema object (changes across keys, unchanged
// TOAST, a primary-key change, deletes and a schema change within the batch).
TEST_F(SilverStageTest, RecordsWithTheirOwnEqualSchemasApplyLikeASharedSchema) {
  auto person = MakeSchema("person", {{"id", DataType::Of(TypeKind::kInt64)},
                                      {"name", DataType::Of(TypeKind::kString)}});
  auto person2 = MakeSchema("person", {{"id", DataType::Of(TypeKind::kInt64)},
                                       {"name", DataType::Of(TypeKind::kString)},
                                       {"born", DataType::Of(TypeKind::kDate)}});
  auto v1 = Records({Insert(Row(1, "a", "1.00", Value::String("big")), 100),
                     Insert(Row(2, "b", "2.00", Value::String("x")), 100, 1),
                     MakeEvent(Op::kCreate, person, std::nullopt,
                               core::Row{Value::Int64(1), Value::String("p")}, 100, 2)});
  std::vector<core::ChangeEvent> events;
  for (int i = 0; i < 50; ++i) {
    events.push_back(Insert(Row(10 + i, "n", "1.00", Value::String("t")), 200,
                            static_cast<uint64_t>(i)));
  }
  events.push_back(Update(std::nullopt, Row(1, "a2", "1.50", Value::Unavailable()), 208));
  events.push_back(Update(Row(2, "b", "2.00", Value::String("x")),
                          Row(3, "b", "2.00", Value::Unavailable()), 216));
  events.push_back(Delete(Row(10, "n", "1.00", Value::Null()), 224));
  events.push_back(Update(std::nullopt, Row(11, "n2", "1.00", Value::Unavailable()), 224, 1));
  events.push_back(MakeEvent(Op::kCreate, person, std::nullopt,
                             core::Row{Value::Int64(2), Value::String("q")}, 232));
  events.push_back(MakeEvent(Op::kUpdate, person2, std::nullopt,
                             core::Row{Value::Int64(1), Value::String("p2"), Value::Date(19000)},
                             240));
  events.push_back(MakeEvent(Op::kCreate, person, std::nullopt,
                             core::Row{Value::Int64(3), Value::String("r")}, 248));
  auto shared = Records(events);
  auto replayed = Records(events);
  for (auto& record : replayed) {
    record.event.schema = std::make_shared<core::TableSchema>(*record.event.schema);
  }
  auto apply = [&](const std::string& root, const std::vector<BronzeRecord>& v2) {
    SilverOptions options;
    options.silver_root = dir_.path() / root;
    options.bronze_root = dir_.path() / "bronze" / "all_events";
    auto stage = SilverStage::Open(options);
    ASSERT_TRUE(stage.ok()) << stage.status().ToString();
    ASSERT_TRUE((*stage)->Apply(1, v1).ok());
    ASSERT_TRUE((*stage)->Apply(2, v2).ok());
  };
  apply("shared", shared);
  apply("replayed", replayed);
  const std::string customer = "id, name, amount, note, _source_position, _bronze_version";
  const std::string people = "id, name, born, _source_position, _bronze_version";
  auto expected = TableRows(dir_.path() / "shared" / "customer", customer);
  ASSERT_EQ(expected.size(), 51u);
  EXPECT_EQ(TableRows(dir_.path() / "replayed" / "customer", customer), expected);
  EXPECT_EQ(TableRows(dir_.path() / "shared" / "customer", "id, name, note", "id < 12"),
            (std::vector<std::string>{"11|n2|t", "1|a2|big", "3|b|x"}));
  expected = TableRows(dir_.path() / "shared" / "person", people);
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(TableRows(dir_.path() / "replayed" / "person", people), expected);
  EXPECT_EQ(TableRows(dir_.path() / "shared" / "person", "id, name, born"),
            (std::vector<std::string>{"1|p2|2022-01-08", "2|q|NULL", "3|r|NULL"}));
}

TEST_F(SilverStageTest, TruncateEmptiesTheTable) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage
                  ->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100),
                                      Insert(Row(2, "b", "2.00", Value::Null()), 100, 1)}))
                  .ok());
  core::ChangeEvent truncate;
  truncate.op = Op::kTruncate;
  truncate.table = schema_->id;
  truncate.position = core::PostgresPosition{200, 192, 9, 0};
  ASSERT_TRUE(stage
                  ->Apply(2, Records({truncate,
                                      Insert(Row(5, "e", "5.00", Value::Null()), 208)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"5|e|5.00|NULL"}));
  ASSERT_TRUE(stage->Apply(3, Records({truncate})).ok());
  EXPECT_TRUE(Customers().empty());
}

TEST_F(SilverStageTest, SchemaChangesAddColumnsAndKeepDroppedOnes) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  auto v1 = MakeSchema("person", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"name", DataType::Of(TypeKind::kString)}});
  auto v2 = MakeSchema("person", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"name", DataType::Of(TypeKind::kString)},
                                  {"born", DataType::Of(TypeKind::kDate)}});
  auto v3 = MakeSchema("person", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"born", DataType::Of(TypeKind::kDate)}});
  ASSERT_TRUE(stage
                  ->Apply(1, Records({MakeEvent(Op::kCreate, v1, std::nullopt,
                                                core::Row{Value::Int64(1), Value::String("a")},
                                                100)}))
                  .ok());
  ASSERT_TRUE(stage
                  ->Apply(2, Records({MakeEvent(Op::kCreate, v2, std::nullopt,
                                                core::Row{Value::Int64(2), Value::String("b"),
                                                          Value::Date(19000)},
                                                200)}))
                  .ok());
  ASSERT_TRUE(stage
                  ->Apply(3, Records({MakeEvent(Op::kUpdate, v3, std::nullopt,
                                                core::Row{Value::Int64(2), Value::Date(19001)},
                                                300)}))
                  .ok());
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "person", "id, name, born"),
            (std::vector<std::string>{"1|a|NULL", "2|NULL|2022-01-09"}));
}

TEST_F(SilverStageTest, RoutesFailedRulesToQuarantineAndUnkeyedEventsToDeadLetter) {
  SilverTableOptions rules;
  rules.table = "public.customer";
  rules.rules.not_null = {"name"};
  rules.rules.ranges["amount"] = RangeBounds{RuleBound{int64_t{0}}, RuleBound{100.0}};
  rules.rules.regex["note"] = "[a-z]+";
  rules.rules.accepted_values["name"] = {"a", "b", "c"};
  auto stage = Open({rules});
  ASSERT_NE(stage, nullptr);
  auto keyless = MakeSchema("log", {{"msg", DataType::Of(TypeKind::kString)}}, 0);
  ASSERT_TRUE(
      stage
          ->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::String("ok")), 100),
                              Insert(core::Row{Value::Int32(2), Value::Null(),
                                               Value::Numeric(*core::Decimal::FromString("1")),
                                               Value::Null()},
                                     100, 1),
                              Insert(Row(3, "b", "-1.00", Value::Null()), 100, 2),
                              Insert(Row(4, "c", "1.00", Value::String("UPPER")), 100, 3),
                              Insert(Row(5, "zz", "1.00", Value::Null()), 100, 4),
                              MakeEvent(Op::kCreate, keyless, std::nullopt,
                                        core::Row{Value::String("hello")}, 100, 5)}))
          .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|ok"}));
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "_quarantine",
                      "source_table, silver_table, key_json, rule, bronze_version"),
            (std::vector<std::string>{
                "public.customer|customer|{\"id\":\"2\"}|not_null(name)|1",
                "public.customer|customer|{\"id\":\"3\"}|range(amount): -1.00 < min 0|1",
                "public.customer|customer|{\"id\":\"4\"}|regex(note): 'UPPER'|1",
                "public.customer|customer|{\"id\":\"5\"}|accepted_values(name): 'zz'|1"}));
  auto dead = TableRows(dir_.path() / "silver" / "_dead_letter", "source_table, error");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("public.log|table public.log has no primary key"), std::string::npos)
      << dead[0];
  EXPECT_EQ(metrics_.quarantined_rows.load(), 4);
  EXPECT_EQ(metrics_.dead_letter_rows.load(), 1);
}

TEST_F(SilverStageTest, RestartSkipsVersionsAlreadyApplied) {
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(
        stage->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100)})).ok());
    ASSERT_TRUE(
        stage->Apply(2, Records({Insert(Row(2, "b", "2.00", Value::Null()), 200)})).ok());
  }
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->position(), 2);
  // A replay of version 2 with other content must not be applied again.
  ASSERT_TRUE(
      stage->Apply(2, Records({Insert(Row(2, "REPLAYED", "9.00", Value::Null()), 200)})).ok());
  ASSERT_TRUE(
      stage->Apply(3, Records({Insert(Row(3, "c", "3.00", Value::Null()), 300)})).ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|NULL", "2|b|2.00|NULL",
                                                   "3|c|3.00|NULL"}));
}

TEST_F(SilverStageTest, NamesCollidingTablesWithTheirSchema) {
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  auto other = std::make_shared<core::TableSchema>(*schema_);
  other->id.schema = "sales";
  ASSERT_TRUE(stage
                  ->Apply(1, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100),
                                      MakeEvent(Op::kCreate, other, std::nullopt,
                                                Row(9, "s", "9.00", Value::Null()), 100, 1)}))
                  .ok());
  auto tables = stage->tables();
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables["customer"].schema, "public");
  EXPECT_EQ(tables["sales__customer"].schema, "sales");
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "sales__customer", "id, name"),
            (std::vector<std::string>{"9|s"}));
}


// Issue #5: a snapshot taken again replaces the source's tables; rows deleted in the
// source since the earlier snapshot (or changes) must not survive in silver, also when the
// snapshot spans several bronze versions and the stage restarts in the middle.
TEST_F(SilverStageTest, SnapshotTakenAgainRemovesRowsItDidNotHold) {
  using core::SnapshotMarker;
  auto note = MakeSchema("note", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"body", DataType::Of(TypeKind::kString)}});
  auto v1 = Records({Insert(Row(5, "e", "5.00", Value::Null()), 2000)});
  // The snapshot taken again (consistent point 3000) starts in version 2; meanwhile ids 2
  // and 5 and every note were deleted in the source, id 3 changed.
  auto v2 = Records({SnapshotRow(schema_, Row(1, "a", "1.00", Value::Null()), 3000, 0,
                                 SnapshotMarker::kFirst)});
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(
        stage
            ->Apply(0, Records({SnapshotRow(schema_, Row(1, "a", "1.00", Value::Null()), 1000,
                                            0, SnapshotMarker::kFirst),
                                SnapshotRow(schema_, Row(2, "b", "2.00", Value::Null()), 1000,
                                            1, SnapshotMarker::kTrue),
                                SnapshotRow(schema_, Row(3, "c", "3.00", Value::Null()), 1000,
                                            2, SnapshotMarker::kTrue),
                                SnapshotRow(note, {Value::Int64(1), Value::String("n")}, 1000,
                                            3, SnapshotMarker::kLast)}))
            .ok());
    ASSERT_TRUE(stage->Apply(1, v1).ok());
    ASSERT_TRUE(stage->Apply(2, v2).ok());
  }
  auto stage = Open();  // killed in the middle of the snapshot
  ASSERT_NE(stage, nullptr);
  ASSERT_EQ(stage->position(), 0);  // note has version 0 only; no progress marker
  ASSERT_TRUE(stage->Apply(1, v1).ok());  // CatchUp's replay
  ASSERT_TRUE(stage->Apply(2, v2).ok());
  auto last = Records({SnapshotRow(schema_, Row(3, "c2", "3.00", Value::Null()), 3000, 1,
                                   SnapshotMarker::kLast),
                       // streamed after the snapshot, in the same bronze version
                       Insert(Row(9, "i", "9.00", Value::Null()), 4000)});
  ASSERT_TRUE(stage->Apply(3, last).ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|NULL", "3|c2|3.00|NULL",
                                                   "9|i|9.00|NULL"}));
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "note", "id"), std::vector<std::string>{});
  // A replay of version 3 changes nothing; later changes apply normally.
  ASSERT_TRUE(stage->Apply(3, last).ok());
  ASSERT_TRUE(
      stage->Apply(4, Records({Insert(Row(10, "j", "1.00", Value::Null()), 5000)})).ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"10|j|1.00|NULL", "1|a|1.00|NULL",
                                                   "3|c2|3.00|NULL", "9|i|9.00|NULL"}));
}

// A snapshot's end only replaces the tables of its own source.
TEST_F(SilverStageTest, SnapshotEndLeavesOtherSourcesTablesAlone) {
  using core::SnapshotMarker;
  auto other = MakeSchema("invoice", {{"id", DataType::Of(TypeKind::kInt64)}});
  auto from_b = MakeEvent(Op::kCreate, other, std::nullopt, core::Row{Value::Int64(1)}, 100, 1);
  from_b.source.name = "b";
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(
      stage->Apply(0, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100), from_b})).ok());
  ASSERT_TRUE(stage
                  ->Apply(1, Records({SnapshotRow(schema_, Row(2, "b", "2.00", Value::Null()),
                                                  3000, 0, SnapshotMarker::kLast)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"2|b|2.00|NULL"}));
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "invoice", "id"),
            (std::vector<std::string>{"1"}));
}

// The kSourceNameProperty of the Delta table at `root`; nullopt when unset.
std::optional<std::string> SourceProperty(const std::filesystem::path& root) {
  auto snapshot = lake::delta::Snapshot::LoadLatest(root);
  EXPECT_TRUE(snapshot.ok()) << (snapshot.ok() ? "" : snapshot.status().ToString());
  if (!snapshot.ok()) {
    return std::nullopt;
  }
  return (*snapshot)->metadata().Config(kSourceNameProperty);
}

// Makes the table at `root` look as an older tributary created it: without
// kSourceNameProperty (a metadata-only commit).
void RemoveSourceProperty(const std::filesystem::path& root) {
  namespace delta = lake::delta;
  auto snapshot = delta::Snapshot::LoadLatest(root);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  delta::Metadata metadata = (*snapshot)->metadata();
  ASSERT_EQ(metadata.configuration.erase(std::string(kSourceNameProperty)), 1u);
  delta::CommitRequest request;
  request.actions.push_back(metadata);
  request.commit_info.operation = "UNSET TBLPROPERTIES";
  request.read_set.read_version = (*snapshot)->version();
  auto committed = delta::Commit(root, request);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_EQ(SourceProperty(root), std::nullopt);
}

// A table created before kSourceNameProperty existed: a snapshot end does not touch it
// while its source is unknown; the first change routed to it saves its source, so a
// snapshot end after a restart cleans it whatever happened in between.
TEST_F(SilverStageTest, TableWithoutSourcePropertyGetsItFromItsFirstChange) {
  using core::SnapshotMarker;
  auto note = MakeSchema("note", {{"id", DataType::Of(TypeKind::kInt64)}});
  const auto customer = dir_.path() / "silver" / "customer";
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(stage->Apply(0, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100)})).ok());
  }
  RemoveSourceProperty(customer);
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    // A snapshot end of source pg reaching only note: customer's source is unknown.
    ASSERT_TRUE(stage
                    ->Apply(1, Records({SnapshotRow(note, {Value::Int64(1)}, 1000, 0,
                                                    SnapshotMarker::kLast)}))
                    .ok());
    EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|NULL"}));
    EXPECT_EQ(SourceProperty(customer), std::nullopt);
    ASSERT_TRUE(stage->Apply(2, Records({Insert(Row(2, "b", "2.00", Value::Null()), 2000)})).ok());
    EXPECT_EQ(SourceProperty(customer), "pg");
  }
  // A snapshot taken again, killed after its customer rows; the version of its end
  // routes no change to customer: the saved property, not this process's memory, says
  // customer belongs to pg.
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(stage
                    ->Apply(3, Records({SnapshotRow(schema_, Row(3, "c", "3.00", Value::Null()),
                                                    3000, 0, SnapshotMarker::kFirst)}))
                    .ok());
  }
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage
                  ->Apply(4, Records({SnapshotRow(note, {Value::Int64(1)}, 3000, 1,
                                                  SnapshotMarker::kLast)}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"3|c|3.00|NULL"}));
  EXPECT_EQ(SourceProperty(customer), "pg");
}

// Two sources capturing public.customer share one silver table: it is marked as written
// by several sources, and no snapshot end of either deletes the other's rows.
TEST_F(SilverStageTest, SnapshotEndLeavesTablesOfSeveralSourcesAlone) {
  using core::SnapshotMarker;
  auto from = [](std::string source, core::ChangeEvent event) {
    event.source.name = std::move(source);
    return event;
  };
  auto note = MakeSchema("note", {{"id", DataType::Of(TypeKind::kInt64)}});
  const auto customer = dir_.path() / "silver" / "customer";
  {
    auto stage = Open();
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(
        stage
            ->Apply(0, Records({from("a", Insert(Row(1, "a", "1.00", Value::Null()), 100)),
                                // note: created by both sources in one version
                                from("a", MakeEvent(Op::kCreate, note, std::nullopt,
                                                    core::Row{Value::Int64(1)}, 100, 1)),
                                from("b", MakeEvent(Op::kCreate, note, std::nullopt,
                                                    core::Row{Value::Int64(2)}, 100, 2))}))
            .ok());
    EXPECT_EQ(SourceProperty(customer), "a");
    EXPECT_EQ(SourceProperty(dir_.path() / "silver" / "note"), std::string(kSeveralSources));
    ASSERT_TRUE(
        stage->Apply(1, Records({from("b", Insert(Row(2, "b", "2.00", Value::Null()), 200))}))
            .ok());
    EXPECT_EQ(SourceProperty(customer), std::string(kSeveralSources));
    ASSERT_TRUE(stage
                    ->Apply(2, Records({from("a", SnapshotRow(schema_,
                                                              Row(3, "c", "3.00", Value::Null()),
                                                              3000, 0, SnapshotMarker::kLast))}))
                    .ok());
    EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|NULL", "2|b|2.00|NULL",
                                                     "3|c|3.00|NULL"}));
  }
  auto stage = Open();
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage
                  ->Apply(3, Records({from("b", SnapshotRow(note, {Value::Int64(4)}, 4000, 0,
                                                            SnapshotMarker::kLast))}))
                  .ok());
  EXPECT_EQ(Customers(), (std::vector<std::string>{"1|a|1.00|NULL", "2|b|2.00|NULL",
                                                   "3|c|3.00|NULL"}));
  EXPECT_EQ(TableRows(dir_.path() / "silver" / "note", "id"),
            (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(SourceProperty(customer), std::string(kSeveralSources));
}

// Simulates a kill after each commit that applying bronze version `version` makes: the
// lake keeps the commits before the kill point only, the stage is reopened and the
// version replayed; `check` must then hold for every kill point.
void ReplayAfterKillAtEveryCommit(const std::filesystem::path& base,
                                  const std::function<std::unique_ptr<SilverStage>(
                                      const std::filesystem::path&)>& open,
                                  int64_t version, const std::vector<BronzeRecord>& records,
                                  const std::function<void(const std::filesystem::path&)>& check) {
  namespace fs = std::filesystem;
  auto commits = [](const fs::path& root) {
    std::set<fs::path> out;
    for (const auto& table : fs::directory_iterator(root)) {
      const fs::path log = table.path() / "_delta_log";
      if (!fs::exists(log)) {
        continue;
      }
      for (const auto& file : fs::directory_iterator(log)) {
        out.insert(fs::relative(file.path(), root));
      }
    }
    return out;
  };
  const fs::path before_dir = base / "before";
  const std::set<fs::path> before = commits(before_dir / "silver");
  const fs::path full = base / "full";
  fs::copy(before_dir, full, fs::copy_options::recursive);
  {
    auto stage = open(full);
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(stage->Apply(version, records).ok());
  }
  // The new commits in the order the stage made them. File times are coarse (commits in
  // one clock tick tie), so ties are broken by the stage's commit order within a version:
  // table creations and source-property commits, quarantine, dead letters, merges (with
  // their schema changes), delete-only commits, compactions, progress marker; within
  // each phase by table name (the stage's maps are ordered by it), then by version.
  struct Made {
    fs::file_time_type time;
    int phase = 0;
    std::string table;
    int64_t version = 0;
    fs::path file;
    bool operator<(const Made& other) const {
      return std::tie(time, phase, table, version) <
             std::tie(other.time, other.phase, other.table, other.version);
    }
  };
  std::vector<Made> made;
  for (const auto& file : commits(full / "silver")) {
    if (before.count(file) > 0) {
      continue;
    }
    ASSERT_EQ(file.extension(), ".json") << file << ": only commits are ordered here";
    Made commit;
    commit.time = fs::last_write_time(full / "silver" / file);
    commit.table = file.begin()->string();
    commit.version = std::stoll(file.stem().string());
    commit.file = file;
    std::ifstream in(full / "silver" / file);
    std::string operation;
    bool progress = false;
    for (std::string line; std::getline(in, line);) {
      auto action = nlohmann::json::parse(line);
      if (action.contains("commitInfo")) {
        operation = action["commitInfo"].value("operation", "");
      }
      if (action.contains("txn") && action["txn"].value("appId", "") == kSilverAppId) {
        progress = commit.table == "_dead_letter";
      }
    }
    if (commit.table == "_quarantine") {
      commit.phase = 1;
    } else if (commit.table == "_dead_letter") {
      commit.phase = progress ? 6 : 2;  // its creation: see below
    } else if (operation == "CREATE TABLE" || operation == "SET TBLPROPERTIES") {
      commit.phase = 0;
    } else {
      commit.phase = operation == "DELETE" ? 4 : operation == "OPTIMIZE" ? 5 : 3;
    }
    if (operation == "CREATE TABLE" && commit.table.front() == '_') {
      commit.phase = -1;  // side tables are created right before their first commit
    }
    made.push_back(std::move(commit));
  }
  for (auto& commit : made) {
    if (commit.phase == -1) {
      commit.phase = 6;
      for (const auto& next : made) {
        if (next.table == commit.table && next.version == commit.version + 1) {
          commit.phase = next.phase;
        }
      }
    }
  }
  std::sort(made.begin(), made.end());
  ASSERT_GE(made.size(), 2u);
  for (size_t i = 0; i < made.size(); ++i) {
    for (size_t j = i + 1; j < made.size(); ++j) {
      if (made[i].table == made[j].table) {
        ASSERT_LT(made[i].version, made[j].version) << made[i].file << " after " << made[j].file;
      }
    }
  }
  for (size_t kept = 0; kept <= made.size(); ++kept) {
    SCOPED_TRACE(fmt::format("killed after {} of {} commits", kept, made.size()));
    const fs::path run = base / fmt::format("kill{}", kept);
    fs::copy(full, run, fs::copy_options::recursive);
    for (size_t index = kept; index < made.size(); ++index) {
      fs::remove(run / "silver" / made[index].file);
    }
    auto stage = open(run);
    ASSERT_NE(stage, nullptr);
    if (stage->position() < version) {
      ASSERT_EQ(stage->position(), version - 1);
      ASSERT_TRUE(stage->Apply(version, records).ok());
    }
    check(run);
  }
}

// Issue #5: dead letters found while collapsing a table's changes were committed after
// the table's merge, so a kill between the two lost them (the replay skipped the table).
TEST_F(SilverStageTest, KillAtAnyCommitLosesNoDeadLetterRowOrQuarantineRow) {
  SilverTableOptions rules;
  rules.table = "public.customer";
  rules.rules.not_null = {"name"};
  auto open = [&](const std::filesystem::path& root) {
    SilverOptions options;
    options.silver_root = root / "silver";
    options.bronze_root = root / "bronze" / "all_events";
    options.tables = {rules};
    auto stage = SilverStage::Open(options);
    EXPECT_TRUE(stage.ok()) << (stage.ok() ? "" : stage.status().ToString());
    return stage.ok() ? std::move(*stage) : nullptr;
  };
  auto note = MakeSchema("note", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"body", DataType::Of(TypeKind::kString)}});
  {
    auto stage = open(dir_.path() / "before");
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(stage
                    ->Apply(0, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100),
                                        MakeEvent(Op::kCreate, note, std::nullopt,
                                                  core::Row{Value::Int64(1), Value::String("n")},
                                                  100, 1)}))
                    .ok());
  }
  auto deleted_without_image = MakeEvent(Op::kDelete, schema_, std::nullopt, std::nullopt, 200);
  auto records = Records(
      {Insert(Row(2, "b", "2.00", Value::Null()), 200), deleted_without_image,
       Insert(core::Row{Value::Int32(3), Value::Null(), Value::Null(), Value::Null()}, 200, 2),
       MakeEvent(Op::kUpdate, note, std::nullopt, core::Row{Value::Int64(1), Value::String("n2")},
                 200, 3)});
  ReplayAfterKillAtEveryCommit(
      dir_.path(), open, 1, records, [&](const std::filesystem::path& root) {
        EXPECT_EQ(TableRows(root / "silver" / "customer", "id, name"),
                  (std::vector<std::string>{"1|a", "2|b"}));
        EXPECT_EQ(TableRows(root / "silver" / "note", "id, body"),
                  (std::vector<std::string>{"1|n2"}));
        EXPECT_EQ(TableRows(root / "silver" / "_dead_letter", "error, bronze_version"),
                  (std::vector<std::string>{"delete without a before image|1"}));
        EXPECT_EQ(TableRows(root / "silver" / "_quarantine", "key_json, bronze_version"),
                  (std::vector<std::string>{"{\"id\":\"3\"}|1"}));
      });
}

// The snapshot end's deletes are part of each table's commit of that version, so a kill
// between the tables' commits neither keeps a deleted row nor deletes a snapshot row.
TEST_F(SilverStageTest, KillAtAnyCommitOfASnapshotEndKeepsSilverEqualToTheSnapshot) {
  using core::SnapshotMarker;
  auto open = [&](const std::filesystem::path& root) {
    SilverOptions options;
    options.silver_root = root / "silver";
    options.bronze_root = root / "bronze" / "all_events";
    auto stage = SilverStage::Open(options);
    EXPECT_TRUE(stage.ok()) << (stage.ok() ? "" : stage.status().ToString());
    return stage.ok() ? std::move(*stage) : nullptr;
  };
  auto note = MakeSchema("note", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"body", DataType::Of(TypeKind::kString)}});
  auto tag = MakeSchema("tag", {{"id", DataType::Of(TypeKind::kInt64)}});
  {
    auto stage = open(dir_.path() / "before");
    ASSERT_NE(stage, nullptr);
    ASSERT_TRUE(
        stage
            ->Apply(0, Records({Insert(Row(1, "a", "1.00", Value::Null()), 100),
                                Insert(Row(2, "b", "2.00", Value::Null()), 100, 1),
                                MakeEvent(Op::kCreate, note, std::nullopt,
                                          core::Row{Value::Int64(1), Value::String("n")}, 100,
                                          2),
                                MakeEvent(Op::kCreate, tag, std::nullopt,
                                          core::Row{Value::Int64(7)}, 100, 3)}))
            .ok());
  }
  // The snapshot (in one version): customer 2 and the tag are gone, note 1 changed.
  auto records =
      Records({SnapshotRow(schema_, Row(1, "a", "1.00", Value::Null()), 5000, 0,
                           SnapshotMarker::kFirst),
               SnapshotRow(note, {Value::Int64(1), Value::String("n2")}, 5000, 1,
                           SnapshotMarker::kLast)});
  ReplayAfterKillAtEveryCommit(
      dir_.path(), open, 1, records, [&](const std::filesystem::path& root) {
        EXPECT_EQ(TableRows(root / "silver" / "customer", "id, name"),
                  (std::vector<std::string>{"1|a"}));
        EXPECT_EQ(TableRows(root / "silver" / "note", "id, body"),
                  (std::vector<std::string>{"1|n2"}));
        EXPECT_EQ(TableRows(root / "silver" / "tag", "id"), std::vector<std::string>{});
      });
}

}  // namespace
}  // namespace tributary::pipeline
