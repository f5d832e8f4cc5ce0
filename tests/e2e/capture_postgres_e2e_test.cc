// End-to-end tests of src/capture/postgres against a real PostgreSQL 15 (issue 4).
//
// The oracle for "the captured state equals the table" is a second, independent read of
// the tables: a fresh initial_only snapshot through another slot at the end, compared row
// for row with the state rebuilt from the streamed events. Type conversions are checked
// against hand-written expected values.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/postgres/postgres_capture.h"
#include "core/position.h"
#include "testing/postgres_fixture.h"
#include "testing/temp_dir.h"

namespace tributary::capture::postgres {
namespace {

using core::ChangeEvent;
using core::Op;
using core::Value;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------
// State rebuilt from events.

struct TableState {
  std::map<std::string, std::vector<std::string>> keyed;  // key -> row
  std::multiset<std::vector<std::string>> keyless;
};
using State = std::map<std::string, TableState>;

std::vector<std::string> Render(const core::Row& row) {
  std::vector<std::string> out;
  for (const auto& value : row) {
    out.push_back(value.ToString());
  }
  return out;
}

std::string KeyOf(const ChangeEvent& event, const core::Row& row) {
  std::string key;
  for (size_t index : event.schema->primary_key) {
    key += row[index].ToString() + "|";
  }
  return key;
}

// Applies one event; returns a description of a problem (a missing row, an unavailable
// value with nothing to fill it from), or "".
std::string Apply(State& state, const ChangeEvent& event) {
  if (event.op == Op::kMessage) {
    return "";
  }
  TableState& table = state[event.table.ToString()];
  if (event.op == Op::kTruncate) {
    table = TableState();
    return "";
  }
  bool keyed = !event.schema->primary_key.empty();
  switch (event.op) {
    case Op::kRead:
    case Op::kCreate:
      if (keyed) {
        table.keyed[KeyOf(event, *event.after)] = Render(*event.after);
      } else {
        table.keyless.insert(Render(*event.after));
      }
      return "";
    case Op::kUpdate: {
      std::vector<std::string> after = Render(*event.after);
      if (keyed) {
        auto& row = table.keyed[KeyOf(event, *event.after)];
        for (size_t column = 0; column < after.size(); ++column) {
          if (after[column] == "unavailable") {
            if (row.size() != after.size()) {
              return "unavailable value for a row never seen: " + event.ToString();
            }
            after[column] = row[column];
          }
        }
        row = after;
      } else {
        if (!event.before) {
          return "keyless update without old row";
        }
        auto it = table.keyless.find(Render(*event.before));
        if (it == table.keyless.end()) {
          return "keyless update of an unknown row: " + event.ToString();
        }
        table.keyless.erase(it);
        table.keyless.insert(after);
      }
      return "";
    }
    case Op::kDelete:
      if (keyed) {
        if (table.keyed.erase(KeyOf(event, *event.before)) == 0) {
          return "delete of an unknown key: " + event.ToString();
        }
      } else {
        auto it = table.keyless.find(Render(*event.before));
        if (it == table.keyless.end()) {
          return "keyless delete of an unknown row";
        }
        table.keyless.erase(it);
      }
      return "";
    default:
      return "";
  }
}

std::string Describe(const State& state) {
  std::string out;
  for (const auto& [name, table] : state) {
    out += fmt::format("{}: {} keyed, {} keyless\n", name, table.keyed.size(),
                       table.keyless.size());
  }
  return out;
}

bool SameState(const State& a, const State& b, std::string* diff) {
  std::set<std::string> names;
  for (const auto& [name, table] : a) {
    if (!table.keyed.empty() || !table.keyless.empty()) {
      names.insert(name);
    }
  }
  for (const auto& [name, table] : b) {
    if (!table.keyed.empty() || !table.keyless.empty()) {
      names.insert(name);
    }
  }
  for (const auto& name : names) {
    static const TableState kEmpty;
    const TableState& left = a.count(name) ? a.at(name) : kEmpty;
    const TableState& right = b.count(name) ? b.at(name) : kEmpty;
    if (left.keyed != right.keyed || left.keyless != right.keyless) {
      *diff = fmt::format("table {} differs: {} vs {} keyed rows, {} vs {} keyless", name,
                          left.keyed.size(), right.keyed.size(), left.keyless.size(),
                          right.keyless.size());
      for (const auto& [key, row] : left.keyed) {
        auto it = right.keyed.find(key);
        if (it == right.keyed.end() || it->second != row) {
          *diff += "\n first differing key " + key + ": " +
                   fmt::format("{}", fmt::join(row, ", ")) +
                   (it == right.keyed.end()
                        ? " (missing on the right)"
                        : " vs " + fmt::format("{}", fmt::join(it->second, ", ")));
          break;
        }
      }
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Fixture.

class PostgresCaptureTest : public testing::PostgresFixture {
 public:
  static void SetUpTestSuite() {
    StartSuiteServer([](devserver::PostgresServerOptions& options) {
      // Small enough that the large transactions below are streamed (protocol v2).
      options.extra_settings.emplace_back("logical_decoding_work_mem", "64kB");
      options.extra_settings.emplace_back("wal_sender_timeout", "5s");
      // The tests of the suite share the server and keep their slots; a snapshot uses up
      // to three at once (temporary, "_pending" and the permanent copy).
      options.max_replication_slots = 64;
    });
  }

 protected:
  // A fresh database per test: FOR ALL TABLES publications then see only its tables.
  std::string NewDatabase(const std::string& name) {
    auto created = postgres().CreateDatabase(name);
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    return postgres().Dsn(name);
  }

  void Exec(const std::string& database, const std::string& sql) {
    auto result = postgres().Exec(sql, database);
    ASSERT_TRUE(result.ok()) << sql << ": " << result.error().ToString();
  }

  PostgresCaptureOptions Options(const std::string& dsn, const std::string& slot) {
    PostgresCaptureOptions options;
    options.dsn = dsn;
    options.name = "e2e";
    options.slot_name = slot;
    options.publication_name = "trib_pub";
    options.spill_dir = dir_.path() / slot;
    options.status_interval = milliseconds(1000);
    options.snapshot_progress = false;
    return options;
  }

  std::unique_ptr<PostgresCapture> StartCapture(
      const PostgresCaptureOptions& options,
      const std::optional<core::SourcePosition>& resume = std::nullopt) {
    auto capture = PostgresCapture::Create(options);
    EXPECT_TRUE(capture.ok()) << capture.error().ToString();
    if (!capture.ok()) {
      return nullptr;
    }
    auto started = (*capture)->Start(resume);
    EXPECT_TRUE(started.ok()) << started.error().ToString();
    return started.ok() ? std::move(*capture) : nullptr;
  }

  // Polls until `lsn` (a server WAL position) is reached or the deadline passes, applying
  // and acknowledging every complete batch. Returns the events.
  std::vector<ChangeEvent> PollUntil(PostgresCapture& capture,
                                     uint64_t lsn,
                                     State* state,
                                     milliseconds limit = milliseconds(60000)) {
    std::vector<ChangeEvent> events;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto batch = capture.Poll(milliseconds(200));
      if (!batch.ok()) {
        ADD_FAILURE() << batch.error().ToString();
        break;
      }
      for (auto& event : batch->events) {
        if (state != nullptr) {
          std::string problem = Apply(*state, event);
          EXPECT_EQ(problem, "");
        }
        events.push_back(std::move(event));
      }
      if (batch->ends_transaction && !batch->resume_position.empty()) {
        EXPECT_TRUE(capture.Acknowledge(batch->resume_position).ok());
      }
      if (capture.done()) {
        break;
      }
      if (lsn != 0 && batch->events.empty() && batch->ends_transaction &&
          capture.ReachedLsn(lsn)) {
        break;
      }
    }
    return events;
  }

  uint64_t ServerLsn(const std::string& database) {
    auto rows = postgres().Exec("SELECT pg_current_wal_lsn()", database);
    EXPECT_TRUE(rows.ok());
    auto lsn = core::ParseLsn(rows->Scalar());
    return lsn.ok() ? *lsn : 0;
  }

  // The oracle: an independent initial_only snapshot of the database through a throwaway
  // slot.
  State FreshSnapshot(const std::string& dsn, const std::string& database) {
    static int counter = 0;
    std::string slot = fmt::format("check_{}", ++counter);
    auto options = Options(dsn, slot);
    options.snapshot_mode = SnapshotMode::kInitialOnly;
    options.snapshot_fetch_rows = 5000;
    State state;
    {
      auto capture = StartCapture(options);
      if (capture == nullptr) {
        return state;
      }
      PollUntil(*capture, 0, &state);
      EXPECT_TRUE(capture->done());
    }
    Exec(database, "SELECT pg_drop_replication_slot('" + slot + "')");
    return state;
  }

  tributary::testing::TempDir dir_{"trib-pgcap"};
};

// ---------------------------------------------------------------------------------------
// Setup checks.

TEST_F(PostgresCaptureTest, ExplainsMissingPrimaryKeyAndReplicationPrivilege) {
  std::string dsn = NewDatabase("setup_errors");
  Exec("setup_errors", "CREATE TABLE no_key (a int, b text)");
  auto capture = PostgresCapture::Create(Options(dsn, "setup_slot"));
  ASSERT_TRUE(capture.ok());
  auto started = (*capture)->Start(std::nullopt);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(started.error().message().find(
                "ALTER TABLE \"public\".\"no_key\" REPLICA IDENTITY FULL"),
            std::string::npos)
      << started.error().ToString();

  Exec("setup_errors", "ALTER TABLE no_key REPLICA IDENTITY FULL");
  ASSERT_TRUE(postgres().CreateRole("plain_user", "", false, false).ok());
  Exec("setup_errors", "GRANT ALL ON ALL TABLES IN SCHEMA public TO plain_user");
  auto as_plain = PostgresCapture::Create(
      Options(postgres().Dsn("setup_errors", "plain_user"), "s2"));
  ASSERT_TRUE(as_plain.ok());
  auto refused = (*as_plain)->Start(std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("REPLICATION"), std::string::npos)
      << refused.error().ToString();

  // A slot streaming to one capture is refused to a second one.
  auto first = StartCapture(Options(dsn, "busy_slot"));
  ASSERT_NE(first, nullptr);
  // Past its (empty) snapshot, the first capture holds the slot.
  PollUntil(*first, ServerLsn("setup_errors"), nullptr, milliseconds(3000));
  auto second = PostgresCapture::Create(Options(dsn, "busy_slot"));
  ASSERT_TRUE(second.ok());
  auto conflict = (*second)->Start(std::nullopt);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict) << conflict.error().ToString();
  EXPECT_NE(conflict.error().message().find("busy_slot"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Types.

constexpr const char* kTypesTable = R"sql(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS numeric(8,2) CHECK (VALUE > 0);
CREATE TABLE types (
  id int PRIMARY KEY,
  i2 int2, i4 int4, i8 int8, n numeric, n102 numeric(10,2), f4 float4, f8 float8,
  b bool, t text, vc varchar(10), c char(3), ba bytea, d date, tm time, ttz timetz,
  ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb, m mood,
  pos positive, ia int[], ta text[], ma mood[], ip inet, cidr_col cidr, mac macaddr,
  money_col money, bits bit(4), vbits varbit, pt point, big text);
ALTER TABLE types ALTER COLUMN big SET STORAGE EXTERNAL;
)sql";

constexpr const char* kTypesRow1 = R"sql(
INSERT INTO types VALUES (1, -32768, 2147483647, -9223372036854775808,
  123456789012345678901234567890.000000000000001, 12345678.90, 1.5, 0.1, true,
  'héllo ☃ wörld', 'abc', 'ab', '\x00ff10', '2024-02-29', '23:59:59.999999',
  '10:00:00+05:30', '2024-01-31 10:00:00.123456', '2024-01-31 10:00:00+02',
  '1 year 2 months 3 days 04:05:06.5', '123e4567-e89b-12d3-a456-426614174000',
  '{"a": [1, 2]}', '{"b": null}', 'happy', 12.5, '{1,NULL,3}', '{"x,y","",NULL}',
  '{sad,ok}', '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '-1234.56', B'1010',
  B'101', '(1,2)', 'small')
)sql";

constexpr const char* kTypesRow2 = R"sql(
INSERT INTO types (id, n, f4, f8, t, vc, d, ts, tstz) VALUES
  (2, 'NaN', 'NaN', '-Infinity', '', '', 'infinity', '-infinity', 'infinity'),
  (3, NULL, NULL, NULL, NULL, NULL, '0044-03-15 BC', NULL, NULL)
)sql";

void ExpectRow1(const core::Row& row, const core::TableSchema& schema) {
  auto at = [&](const char* name) -> const Value& {
    auto index = schema.FindIndex(name);
    EXPECT_TRUE(index.has_value()) << name;
    return row.at(*index);
  };
  EXPECT_EQ(at("i2"), Value::Int16(-32768));
  EXPECT_EQ(at("i4"), Value::Int32(2147483647));
  EXPECT_EQ(at("i8"), Value::Int64(INT64_MIN));
  EXPECT_EQ(at("n").AsDecimal().ToString(),
            "123456789012345678901234567890.000000000000001");
  EXPECT_EQ(at("n102").AsDecimal().ToString(), "12345678.90");
  EXPECT_EQ(at("f4"), Value::Float(1.5f));
  EXPECT_EQ(at("f8"), Value::Double(0.1));
  EXPECT_EQ(at("b"), Value::Bool(true));
  EXPECT_EQ(at("t"), Value::String("héllo ☃ wörld"));
  EXPECT_EQ(at("c"), Value::String("ab "));
  EXPECT_EQ(at("ba"), Value::Binary({0x00, 0xff, 0x10}));
  EXPECT_EQ(at("d"), Value::Date(core::DaysFromCivil(2024, 2, 29)));
  EXPECT_EQ(at("tm"), Value::Time(core::kMicrosPerDay - 1));
  EXPECT_EQ(at("ttz"), Value::TimeTz(36000LL * 1000000, 19800));
  EXPECT_EQ(at("ts"), Value::Timestamp(int64_t{core::DaysFromCivil(2024, 1, 31)} *
                                           core::kMicrosPerDay +
                                       36000LL * 1000000 + 123456));
  EXPECT_EQ(at("tstz"), Value::TimestampTz(int64_t{core::DaysFromCivil(2024, 1, 31)} *
                                               core::kMicrosPerDay +
                                           8 * 3600LL * 1000000));
  EXPECT_EQ(at("iv"),
            Value::FromInterval({14, 3, (4 * 3600 + 5 * 60 + 6) * 1000000LL + 500000}));
  EXPECT_EQ(core::FormatUuid(at("u").AsUuid()), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(at("j"), Value::Json("{\"a\": [1, 2]}"));
  EXPECT_EQ(at("jb"), Value::Json("{\"b\": null}"));
  EXPECT_EQ(at("m"), Value::Enum("happy"));
  EXPECT_EQ(at("pos").AsDecimal().ToString(), "12.50");
  EXPECT_EQ(at("ia"), Value::Array({Value::Int32(1), Value::Null(), Value::Int32(3)}));
  EXPECT_EQ(at("ta"),
            Value::Array({Value::String("x,y"), Value::String(""), Value::Null()}));
  EXPECT_EQ(at("ma"), Value::Array({Value::Enum("sad"), Value::Enum("ok")}));
  EXPECT_EQ(at("ip"), Value::String("192.168.1.1/24"));
  EXPECT_EQ(at("cidr_col"), Value::String("10.0.0.0/8"));
  EXPECT_EQ(at("mac"), Value::String("08:00:2b:01:02:03"));
  EXPECT_EQ(at("money_col").AsDecimal().ToString(), "-1234.56");
  EXPECT_EQ(at("bits"), Value::String("1010"));
  EXPECT_EQ(at("vbits"), Value::String("101"));
  EXPECT_EQ(at("pt"), Value::String("(1,2)"));  // no mapping: the text form
  // Types of the schema.
  EXPECT_EQ(schema.Find("n")->type.kind, core::TypeKind::kDecimal);
  EXPECT_TRUE(schema.Find("n")->type.variable_scale);
  EXPECT_EQ(schema.Find("n102")->type.precision, 10);
  EXPECT_EQ(schema.Find("pos")->type.precision, 8);  // domain resolved to numeric(8,2)
  EXPECT_EQ(schema.Find("m")->type.enum_values,
            (std::vector<std::string>{"sad", "ok", "happy"}));
  EXPECT_EQ(schema.Find("ma")->type.kind, core::TypeKind::kArray);
  EXPECT_EQ(schema.primary_key, std::vector<size_t>{0});
}

void ExpectSpecialRows(const std::map<int32_t, core::Row>& rows,
                       const core::TableSchema& schema) {
  auto at = [&](int32_t id, const char* name) -> const Value& {
    return rows.at(id).at(*schema.FindIndex(name));
  };
  EXPECT_TRUE(at(2, "n").AsDecimal().is_nan());
  EXPECT_TRUE(std::isnan(at(2, "f4").AsFloat()));
  EXPECT_EQ(at(2, "f8"), Value::Double(-INFINITY));
  EXPECT_EQ(at(2, "t"), Value::String(""));
  EXPECT_EQ(at(2, "vc"), Value::String(""));
  EXPECT_EQ(at(2, "d"), Value::Date(core::kDateInfinity));
  EXPECT_EQ(at(2, "ts"), Value::Timestamp(core::kTimestampNegativeInfinity));
  EXPECT_EQ(at(2, "tstz"), Value::TimestampTz(core::kTimestampInfinity));
  EXPECT_EQ(at(3, "t"), Value::Null());
  EXPECT_EQ(at(3, "ia"), Value::Null());
  EXPECT_EQ(at(3, "d"), Value::Date(core::DaysFromCivil(-43, 3, 15)));
}

TEST_F(PostgresCaptureTest, EveryTypeRoundTripsThroughSnapshotAndStream) {
  std::string dsn = NewDatabase("types_db");
  Exec("types_db", kTypesTable);
  Exec("types_db", kTypesRow1);
  Exec("types_db", kTypesRow2);
  auto capture = StartCapture(Options(dsn, "types_slot"));
  ASSERT_NE(capture, nullptr);
  State state;
  // The snapshot.
  auto snapshot = PollUntil(*capture, ServerLsn("types_db"), &state);
  ASSERT_EQ(snapshot.size(), 3u);
  std::map<int32_t, core::Row> read;
  for (const auto& event : snapshot) {
    EXPECT_EQ(event.op, Op::kRead);
    read[(*event.after)[0].AsInt32()] = *event.after;
  }
  ExpectRow1(read.at(1), *snapshot[0].schema);
  ExpectSpecialRows(read, *snapshot[0].schema);
  EXPECT_EQ(snapshot.back().snapshot, core::SnapshotMarker::kLast);

  // The same rows streamed, a 1 MB TOASTed value, and an update that leaves it unchanged.
  Exec("types_db", "DELETE FROM types");
  Exec("types_db", kTypesRow1);
  Exec("types_db", kTypesRow2);
  Exec("types_db",
       "UPDATE types SET big = (SELECT string_agg(md5(g::text), '') FROM "
       "generate_series(1, 32768) g) WHERE id = 1");
  Exec("types_db", "UPDATE types SET t = 'changed' WHERE id = 1");
  auto streamed = PollUntil(*capture, ServerLsn("types_db"), &state);
  std::map<int32_t, core::Row> created;
  std::vector<const ChangeEvent*> updates;
  for (const auto& event : streamed) {
    if (event.op == Op::kCreate) {
      created[(*event.after)[0].AsInt32()] = *event.after;
    } else if (event.op == Op::kUpdate) {
      updates.push_back(&event);
    }
  }
  ASSERT_EQ(created.size(), 3u);
  ExpectRow1(created.at(1), *streamed.back().schema);
  ExpectSpecialRows(created, *streamed.back().schema);
  ASSERT_EQ(updates.size(), 2u);
  size_t big = *updates[0]->schema->FindIndex("big");
  EXPECT_EQ((*updates[0]->after)[big].AsString().size(), 32768u * 32);
  EXPECT_TRUE((*updates[1]->after)[big].is_unavailable());
  EXPECT_EQ((*updates[1]->after)[*updates[1]->schema->FindIndex("t")],
            Value::String("changed"));

  // The rebuilt state (unavailable filled from the earlier image) equals a fresh read.
  capture.reset();
  std::string diff;
  EXPECT_TRUE(SameState(state, FreshSnapshot(dsn, "types_db"), &diff)) << diff;
}

// ---------------------------------------------------------------------------------------
// Replica identities, key changes, schema changes, truncate, messages, large
// transactions.

TEST_F(PostgresCaptureTest,
       StreamsIdentitiesKeyChangesSchemaChangesAndLargeTransactions) {
  std::string dsn = NewDatabase("stream_db");
  Exec("stream_db",
       "CREATE TABLE pk (id int PRIMARY KEY, v text);"
       "CREATE TABLE full_id (a int, b text); ALTER TABLE full_id REPLICA IDENTITY FULL;"
       "CREATE TABLE idx (a int NOT NULL, b text); CREATE UNIQUE INDEX idx_a ON idx (a);"
       "ALTER TABLE idx REPLICA IDENTITY USING INDEX idx_a;"
       "CREATE TABLE nothing (a int PRIMARY KEY, b text); "
       "ALTER TABLE nothing REPLICA IDENTITY NOTHING;"
       "CREATE TABLE big (id int PRIMARY KEY, payload text)");
  auto options = Options(dsn, "stream_slot");
  options.max_transaction_memory = 256 * 1024;
  options.max_batch_events = 500;
  auto capture = StartCapture(options);
  ASSERT_NE(capture, nullptr);
  State state;
  PollUntil(*capture, ServerLsn("stream_db"), &state);

  Exec("stream_db",
       "INSERT INTO pk VALUES (1, 'a'), (2, 'b'); UPDATE pk SET id = 20 WHERE id = 2;"
       "INSERT INTO full_id VALUES (1, 'x'); UPDATE full_id SET b = 'y'; "
       "INSERT INTO idx VALUES (1, 'i'); UPDATE idx SET b = 'j';"
       "INSERT INTO nothing VALUES (1, 'n');"
       "ALTER TABLE pk ADD COLUMN extra int DEFAULT 5; INSERT INTO pk VALUES (3, 'c', 6);"
       "ALTER TABLE pk DROP COLUMN v; UPDATE pk SET extra = 9 WHERE id = 1;"
       "SELECT pg_logical_emit_message(true, 'app', 'hello');"
       "INSERT INTO big SELECT g, repeat('p', 200) FROM generate_series(1, 20000) g;");
  Exec("stream_db",
       "BEGIN; INSERT INTO big SELECT g, 'gone' FROM generate_series(100001, 120000) g;"
       "ROLLBACK");
  Exec("stream_db",
       "BEGIN; INSERT INTO big SELECT g, 'kept' FROM generate_series(200001, 210000) g;"
       "SAVEPOINT s; INSERT INTO big SELECT g, 'undone' FROM generate_series(300001, "
       "310000) g;"
       "ROLLBACK TO SAVEPOINT s; DELETE FROM big WHERE id <= 100; COMMIT");
  Exec("stream_db", "TRUNCATE full_id");
  auto events = PollUntil(*capture, ServerLsn("stream_db"), &state);

  std::map<std::string, std::vector<const ChangeEvent*>> by_table;
  for (const auto& event : events) {
    by_table[event.table.table].push_back(&event);
  }
  // pk: c1, c2, (key change) d2 + c20, c3 (new column), u1 (after DROP COLUMN).
  auto& pk = by_table["pk"];
  ASSERT_EQ(pk.size(), 6u);
  EXPECT_EQ(pk[2]->op, Op::kDelete);
  EXPECT_EQ((*pk[2]->before)[0], Value::Int32(2));
  EXPECT_EQ(pk[3]->op, Op::kCreate);
  EXPECT_EQ((*pk[3]->after)[0], Value::Int32(20));
  EXPECT_EQ(pk[4]->schema->columns.size(), 3u);
  EXPECT_EQ((*pk[4]->after)[2], Value::Int32(6));
  ASSERT_EQ(pk[5]->schema->columns.size(), 2u);
  EXPECT_EQ(pk[5]->schema->columns[1].name, "extra");
  EXPECT_EQ((*pk[5]->after)[1], Value::Int32(9));
  // FULL: the whole old row; no key.
  auto& full = by_table["full_id"];
  ASSERT_EQ(full.size(), 3u);
  EXPECT_EQ((*full[1]->before)[1], Value::String("x"));
  EXPECT_EQ(full[2]->op, Op::kTruncate);
  // USING INDEX: the index columns are the key.
  auto& idx = by_table["idx"];
  ASSERT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx[0]->schema->primary_key, std::vector<size_t>{0});
  // Large transactions: the rolled-back one and the rolled-back savepoint never appear.
  size_t big_creates = 0;
  size_t big_deletes = 0;
  for (const auto* event : by_table["big"]) {
    if (event->op == Op::kCreate) {
      ++big_creates;
      std::string payload = (*event->after)[1].AsString();
      EXPECT_TRUE(payload != "gone" && payload != "undone") << payload;
    } else if (event->op == Op::kDelete) {
      ++big_deletes;
    }
  }
  EXPECT_EQ(big_creates, 30000u);
  EXPECT_EQ(big_deletes, 100u);
  EXPECT_GE(capture->metrics().streamed_transactions, 1u);
  EXPECT_GE(capture->metrics().aborted_streams, 1u);
  bool saw_message = false;
  for (const auto& event : events) {
    if (event.op == Op::kMessage && event.message->prefix == "app") {
      saw_message = true;
      EXPECT_TRUE(event.message->transactional);
    }
  }
  EXPECT_TRUE(saw_message);
  // Positions increase strictly.
  for (size_t idx_event = 1; idx_event < events.size(); ++idx_event) {
    EXPECT_TRUE(events[idx_event - 1].position < events[idx_event].position);
  }
  // Rows last changed before DROP COLUMN still have the old image in the rebuilt state:
  // touch them so that the comparison sees the current schema everywhere.
  Exec("stream_db", "UPDATE pk SET extra = extra");
  PollUntil(*capture, ServerLsn("stream_db"), &state);
  capture.reset();
  std::string diff;
  EXPECT_TRUE(SameState(state, FreshSnapshot(dsn, "stream_db"), &diff)) << diff;
}

// ---------------------------------------------------------------------------------------
// pgbench TPC-B from the start, with a snapshot in chunks while it runs.

int RunPgbench(const devserver::PostgresServer& server,
               const std::string& database,
               const std::string& args) {
  std::string command = fmt::format(
      "pgbench -h 127.0.0.1 -p {} -U {} {} {} > {}/pgbench.log 2>&1", server.port(),
      server.superuser(), args, database, server.work_dir().string());
  return std::system(command.c_str());
}

TEST_F(PostgresCaptureTest, PgbenchRunCapturedFromTheStartRebuildsEveryTable) {
  std::string dsn = NewDatabase("bench");
  ASSERT_EQ(RunPgbench(postgres(), "bench", "-i -q -s 1"), 0);
  Exec("bench", "ALTER TABLE pgbench_history REPLICA IDENTITY FULL");
  auto options = Options(dsn, "bench_slot");
  options.snapshot_fetch_rows = 5000;
  auto capture = StartCapture(options);
  ASSERT_NE(capture, nullptr);
  const char* seconds_env = std::getenv("TRIB_PGBENCH_SECONDS");
  int seconds = seconds_env != nullptr ? std::atoi(seconds_env) : 5;
  std::atomic<bool> bench_done{false};
  std::thread bench([&] {
    EXPECT_EQ(RunPgbench(postgres(), "bench", fmt::format("-c 4 -j 2 -T {} -n", seconds)),
              0);
    bench_done = true;
  });
  State state;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 120);
  size_t events = 0;
  // Poll while pgbench runs (the snapshot happens concurrently with it).
  while (std::chrono::steady_clock::now() < deadline) {
    auto batch = capture->Poll(milliseconds(100));
    if (!batch.ok()) {
      ADD_FAILURE() << batch.error().ToString();
      break;
    }
    for (const auto& event : batch->events) {
      std::string problem = Apply(state, event);
      EXPECT_EQ(problem, "");
      ++events;
    }
    if (batch->ends_transaction && !batch->resume_position.empty()) {
      EXPECT_TRUE(capture->Acknowledge(batch->resume_position).ok());
    }
    if (bench_done.load()) {
      break;
    }
  }
  bench.join();
  PollUntil(*capture, ServerLsn("bench"), &state);
  auto metrics = capture->metrics();
  EXPECT_GT(metrics.transactions, 100u);
  capture.reset();
  std::string diff;
  State expected = FreshSnapshot(dsn, "bench");
  EXPECT_EQ(expected["public.pgbench_accounts"].keyed.size(), 100000u);
  EXPECT_GT(expected["public.pgbench_history"].keyless.size(), 100u);
  EXPECT_TRUE(SameState(state, expected, &diff)) << diff << "\n" << Describe(state);
}

// ---------------------------------------------------------------------------------------
// Restarts: resume from the durable position, server restart mid-stream.

TEST_F(PostgresCaptureTest, ResumesFromTheDurablePositionWithoutDuplicates) {
  std::string dsn = NewDatabase("resume_db");
  Exec("resume_db", "CREATE TABLE r (id int PRIMARY KEY, v int)");
  auto options = Options(dsn, "resume_slot");
  State state;
  std::optional<core::SourcePosition> durable;
  {
    auto capture = StartCapture(options);
    ASSERT_NE(capture, nullptr);
    PollUntil(*capture, ServerLsn("resume_db"), &state);
    for (int txn = 0; txn < 10; ++txn) {
      Exec("resume_db", fmt::format("INSERT INTO r VALUES ({}, 0)", txn));
    }
    // Acknowledge only the first five transactions; the other five are "lost" downstream.
    int seen = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen < 10 && std::chrono::steady_clock::now() < deadline) {
      auto batch = capture->Poll(milliseconds(200));
      ASSERT_TRUE(batch.ok());
      if (!batch->events.empty()) {
        ++seen;
        if (seen <= 5) {
          for (const auto& event : batch->events) {
            Apply(state, event);
          }
          durable = batch->resume_position;
          ASSERT_TRUE(capture->Acknowledge(*durable).ok());
        }
      }
    }
    ASSERT_EQ(seen, 10);
  }
  // The slot was confirmed up to the fifth; restart from the durable position: exactly
  // the other five come back.
  auto capture = StartCapture(options, durable);
  ASSERT_NE(capture, nullptr);
  auto events = PollUntil(*capture, ServerLsn("resume_db"), &state);
  ASSERT_EQ(events.size(), 5u);
  for (const auto& event : events) {
    EXPECT_GE((*event.after)[0].AsInt32(), 5);
  }
  // Restart the server mid-stream: the capture reconnects and continues.
  Exec("resume_db", "UPDATE r SET v = 1");
  ASSERT_TRUE(postgres().Restart().ok());
  Exec("resume_db", "UPDATE r SET v = v + 1 WHERE id < 3");
  PollUntil(*capture, ServerLsn("resume_db"), &state);
  EXPECT_GE(capture->metrics().reconnects, 1u);
  capture.reset();
  std::string diff;
  EXPECT_TRUE(SameState(state, FreshSnapshot(dsn, "resume_db"), &diff)) << diff;
}

TEST_F(PostgresCaptureTest, IdleSlotFollowsServerWal) {
  std::string dsn = NewDatabase("idle_db");
  Exec("idle_db", "CREATE TABLE quiet (id int PRIMARY KEY)");
  NewDatabase("busy_db");
  Exec("busy_db", "CREATE TABLE noise (id int)");
  auto options = Options(dsn, "idle_slot");
  options.heartbeat_interval = milliseconds(500);
  auto capture = StartCapture(options);
  ASSERT_NE(capture, nullptr);
  PollUntil(*capture, ServerLsn("idle_db"), nullptr, milliseconds(2000));
  Exec("busy_db", "INSERT INTO noise SELECT generate_series(1, 10000)");
  uint64_t target = ServerLsn("busy_db");
  PollUntil(*capture, 0, nullptr, milliseconds(4000));
  auto rows = postgres().Exec(
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = "
      "'idle_slot'",
      "idle_db");
  ASSERT_TRUE(rows.ok());
  auto confirmed = core::ParseLsn(rows->Scalar());
  ASSERT_TRUE(confirmed.ok());
  EXPECT_GE(*confirmed, target) << "the idle slot still holds WAL of another database";
}

// Issue 4: a snapshot that was read but never acknowledged leaves no permanent slot, so a
// capture started without a position takes it again (nothing else could tell whether the
// downstream holds it); a downstream whose position shows the whole snapshot durable (it
// stopped between its commit and the acknowledgement) resumes streaming instead.
TEST_F(PostgresCaptureTest,
       UnacknowledgedSnapshotIsTakenAgainUnlessTheResumePositionHoldsIt) {
  std::string dsn = NewDatabase("pending_db");
  Exec("pending_db",
       "CREATE TABLE p (id int PRIMARY KEY, v int);"
       "INSERT INTO p SELECT g, 0 FROM generate_series(1, 100) g");
  auto options = Options(dsn, "pending_slot");
  auto slots = [&]() {
    auto rows = postgres().Exec(
        "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM "
        "pg_replication_slots WHERE slot_name LIKE 'pending\\_slot%' AND NOT temporary",
        "pending_db");
    return rows.ok() ? rows->Scalar() : "?";
  };
  // Reads a whole snapshot without acknowledging it; returns its last batch's position.
  auto snapshot_without_ack = [&](size_t* rows, bool* first_marked) {
    auto capture = StartCapture(options);
    EXPECT_NE(capture, nullptr);
    core::SourcePosition end;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (capture != nullptr && end.empty() &&
           std::chrono::steady_clock::now() < deadline) {
      auto batch = capture->Poll(milliseconds(200));
      EXPECT_TRUE(batch.ok());
      if (!batch.ok()) {
        break;
      }
      for (const auto& event : batch->events) {
        EXPECT_EQ(event.op, Op::kRead);
        *first_marked = *first_marked || event.snapshot == core::SnapshotMarker::kFirst;
        ++*rows;
      }
      if (batch->ends_transaction) {
        end = batch->resume_position;
      }
    }
    return end;  // the capture is dropped here, as by a kill
  };
  size_t rows = 0;
  bool first_marked = false;
  core::SourcePosition end = snapshot_without_ack(&rows, &first_marked);
  ASSERT_FALSE(end.empty());
  EXPECT_EQ(rows, 100u);
  EXPECT_EQ(slots(), "pending_slot_pending");
  // No position: the snapshot is taken again (a restart consumers recognise by "first").
  rows = 0;
  first_marked = false;
  end = snapshot_without_ack(&rows, &first_marked);
  ASSERT_FALSE(end.empty());
  EXPECT_EQ(rows, 100u);
  EXPECT_TRUE(first_marked);
  EXPECT_EQ(slots(), "pending_slot_pending");
  // The second snapshot's end as the durable position: streaming goes on after it.
  Exec("pending_db", "INSERT INTO p VALUES (101, 1); DELETE FROM p WHERE id = 1");
  auto capture = StartCapture(options, end);
  ASSERT_NE(capture, nullptr);
  EXPECT_EQ(slots(), "pending_slot");
  auto events = PollUntil(*capture, ServerLsn("pending_db"), nullptr);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].op, Op::kCreate);
  EXPECT_EQ(events[1].op, Op::kDelete);
}

// Issue 4: heartbeats written to a heartbeat table (the [[sources]] heartbeat_table key)
// while the captured tables are idle and another database writes WAL: the table is
// created, its row upserted per interval, its changes captured and acknowledged, and the
// slot's confirmed_flush_lsn follows the server past the other database's WAL.
TEST_F(PostgresCaptureTest, HeartbeatTableKeepsIdleSlotMoving) {
  std::string dsn = NewDatabase("hb_db");
  Exec("hb_db", "CREATE TABLE still (id int PRIMARY KEY)");
  NewDatabase("hb_busy_db");
  Exec("hb_busy_db", "CREATE TABLE noise (id int, pad text)");
  auto options = Options(dsn, "hb_slot");
  options.heartbeat_interval = milliseconds(300);
  options.heartbeat_table = "public.trib_heartbeat";
  auto capture = StartCapture(options);
  ASSERT_NE(capture, nullptr);
  State state;
  PollUntil(*capture, ServerLsn("hb_db"), &state, milliseconds(3000));
  uint64_t before = ServerLsn("hb_busy_db");
  Exec("hb_busy_db",
       "INSERT INTO noise SELECT g, repeat('n', 200) FROM generate_series(1, 20000) g");
  uint64_t target = ServerLsn("hb_busy_db");
  ASSERT_GT(target - before, 1000000u)
      << "the other database should write megabytes of WAL";
  auto events = PollUntil(*capture, 0, &state, milliseconds(4000));
  size_t heartbeats = 0;
  for (const auto& event : events) {
    EXPECT_EQ(event.table.table, "trib_heartbeat") << "the captured tables are idle";
    heartbeats += event.table.table == "trib_heartbeat" ? 1 : 0;
  }
  EXPECT_GE(heartbeats, 5u) << "a heartbeat every 300 ms for 4 s";
  auto row = postgres().Exec(
      "SELECT slot_name || ' ' || (now() - heartbeat_at < interval '10 seconds') "
      "FROM public.trib_heartbeat",
      "hb_db");
  ASSERT_TRUE(row.ok()) << row.error().ToString();
  EXPECT_EQ(row->Scalar(), "hb_slot true");
  auto rows = postgres().Exec(
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'hb_slot'",
      "hb_db");
  ASSERT_TRUE(rows.ok());
  auto confirmed = core::ParseLsn(rows->Scalar());
  ASSERT_TRUE(confirmed.ok());
  EXPECT_GE(*confirmed, target) << "the idle slot still holds WAL of another database";
  // Lag metrics for the dashboard: acknowledged past the other database's WAL, and the
  // bytes behind the server far below what it wrote.
  auto metrics = capture->metrics();
  EXPECT_TRUE(metrics.connected);
  EXPECT_GE(metrics.acknowledged_lsn, target);
  EXPECT_GE(metrics.server_wal_end, target);
  EXPECT_LT(metrics.lag_bytes, (target - before) / 4);
  EXPECT_LT(metrics.lag_ms, 5000);
}

// ---------------------------------------------------------------------------------------
// A capturing process killed at chosen and at random points: a child driver writes events
// to a file, committing after every batch (a snapshot chunk or a piece of a large
// transaction too), and resumes from the file's last commit.

constexpr const char* kChildEnv = "TRIB_PGCAP_CHILD";

// What a "COMMIT <position>\t<kind>" line of the child's file closes.
enum class CommitKind : char {
  kSnapshotChunk = 's',  // part of a snapshot
  kSnapshotDone = 'S',   // the snapshot's last batch
  kPartialTxn = 'm',     // the first batches of a large transaction
  kTransaction = 'e',    // a whole transaction (or its last batch)
};

struct ChildFile {
  std::vector<std::string> event_lines;  // committed events, in order
  std::vector<CommitKind> commits;
  std::optional<core::SourcePosition> last;
};

// Reads the committed part of the child's file (a torn tail is ignored).
ChildFile ReadChildFile(const std::string& path,
                        std::vector<std::string>* committed_lines) {
  ChildFile out;
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> pending;
  while (std::getline(in, line)) {
    if (line.rfind("COMMIT ", 0) == 0) {
      auto tab = line.find('\t');
      if (tab == std::string::npos || tab + 1 >= line.size()) {
        break;  // torn
      }
      auto position = core::SourcePosition::Parse(line.substr(7, tab - 7));
      if (!position.ok()) {
        break;
      }
      out.last = *position;
      out.commits.push_back(static_cast<CommitKind>(line[tab + 1]));
      out.event_lines.insert(out.event_lines.end(), pending.begin(), pending.end());
      if (committed_lines != nullptr) {
        committed_lines->insert(committed_lines->end(), pending.begin(), pending.end());
        committed_lines->push_back(line);
      }
      pending.clear();
    } else {
      pending.push_back(line);
    }
  }
  return out;
}

// The child: TRIB_PGCAP_CHILD="<dsn>\t<slot>\t<file>\t<spill dir>\t<ms per batch>".
TEST(PostgresCaptureChild, DISABLED_Run) {
  const char* spec = std::getenv(kChildEnv);
  if (spec == nullptr) {
    GTEST_SKIP() << "only runs as the child of KilledCaptureResumesExactly";
  }
  std::vector<std::string> parts;
  std::string current;
  for (const char* c = spec; *c != 0; ++c) {
    if (*c == '\t') {
      parts.push_back(current);
      current.clear();
    } else {
      current += *c;
    }
  }
  parts.push_back(current);
  ASSERT_EQ(parts.size(), 5u);
  // Resume after the last commit in the file; drop a torn tail.
  std::vector<std::string> kept;
  ChildFile file = ReadChildFile(parts[2], &kept);
  {
    std::ofstream rewrite(parts[2], std::ios::trunc);
    for (const auto& line : kept) {
      rewrite << line << '\n';
    }
  }
  auto batch_delay = milliseconds(std::stoi(parts[4]));
  PostgresCaptureOptions options;
  options.dsn = parts[0];
  options.slot_name = parts[1];
  options.publication_name = "trib_pub";
  options.spill_dir = parts[3];
  options.snapshot_fetch_rows = 500;
  options.max_batch_events = 300;
  options.snapshot_progress = false;
  auto capture = PostgresCapture::Create(options);
  ASSERT_TRUE(capture.ok());
  auto started = (*capture)->Start(file.last);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  FILE* out = std::fopen(parts[2].c_str(), "a");
  ASSERT_NE(out, nullptr);
  while (true) {
    auto batch = (*capture)->Poll(milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.error().ToString();
    if (!batch->events.empty()) {
      // Slows the child down so that the parent can kill it between two batches of a
      // snapshot or of one transaction.
      std::this_thread::sleep_for(batch_delay);
    }
    for (const auto& event : batch->events) {
      std::string row;
      const auto& image = event.after    ? *event.after
                          : event.before ? *event.before
                                         : core::Row{};
      for (const auto& value : image) {
        row += value.ToString() + "\x1f";
      }
      // 'R' marks the first row of a (possibly repeated) snapshot: a reset of the state.
      char op =
          event.snapshot == core::SnapshotMarker::kFirst ? 'R' : core::OpCode(event.op);
      std::fprintf(out, "%c\t%s\t%s\t%s\n", op, event.table.ToString().c_str(),
                   event.schema ? KeyOf(event, image).c_str() : "", row.c_str());
    }
    // Every batch is made durable (also the chunks of a snapshot or of a large
    // transaction): the durable position is the last event written.
    core::SourcePosition durable = batch->resume_position;
    if (!batch->ends_transaction && !batch->events.empty()) {
      durable = batch->events.back().position;
    }
    if (!durable.empty()) {
      const auto* pg = durable.postgres();
      bool snapshot = pg->txid == 0 &&
                      (pg->event_lsn == 0 || pg->event_lsn == pg->commit_lsn) &&
                      !batch->events.empty() &&
                      (batch->events.back().op == Op::kRead ||
                       batch->events.back().snapshot == core::SnapshotMarker::kLast);
      CommitKind kind = snapshot ? (batch->ends_transaction ? CommitKind::kSnapshotDone
                                                            : CommitKind::kSnapshotChunk)
                                 : (batch->ends_transaction ? CommitKind::kTransaction
                                                            : CommitKind::kPartialTxn);
      std::fprintf(out, "COMMIT %s\t%c\n", durable.ToString().c_str(),
                   static_cast<char>(kind));
      std::fflush(out);
      fsync(fileno(out));
      if (batch->ends_transaction) {
        ASSERT_TRUE((*capture)->Acknowledge(batch->resume_position).ok());
      }
    }
  }
}

// Issue 4: the child is killed (1) right after its slot appears, before any snapshot row
// is durable, (2) twice in the middle of the initial snapshot, (3) twice between two
// batches of one transaction, (4) twice at random times; a last run catches up. The state
// rebuilt from the file (an 'R' row - Debezium's snapshot "first" - resets it) must equal
// the table.
TEST_F(PostgresCaptureTest, KilledCaptureResumesExactly) {
  std::string dsn = NewDatabase("kill_db");
  Exec("kill_db",
       "CREATE TABLE k (id int PRIMARY KEY, v int, pad text);"
       "INSERT INTO k SELECT g, 0, repeat('z', 100) FROM generate_series(1, 5000) g");
  std::string file = (dir_.path() / "events.txt").string();
  std::string spec = fmt::format("{}\t{}\t{}\t{}\t{}", dsn, "kill_slot", file,
                                 (dir_.path() / "child_spill").string(), 15);
  std::mt19937 random(12345);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int round = 0;
    while (!stop.load()) {
      // ~714 updates, an insert and a delete: three batches of max_batch_events 300.
      auto done = postgres().Exec(
          fmt::format(
              "BEGIN; UPDATE k SET v = v + 1 WHERE id % 7 = {}; "
              "INSERT INTO k VALUES ({}, 1, 'new') ON CONFLICT (id) DO UPDATE SET v = 0;"
              "DELETE FROM k WHERE id = {}; COMMIT",
              round % 7, 10000 + round, 1 + (round * 13) % 5000),
          "kill_db");
      EXPECT_TRUE(done.ok());
      ++round;
      std::this_thread::sleep_for(milliseconds(30));
    }
  });
  auto spawn = [&]() -> pid_t {
    pid_t pid = fork();
    if (pid == 0) {
      setenv(kChildEnv, spec.c_str(), 1);
      execl("/proc/self/exe", "capture_postgres_e2e_test",
            "--gtest_filter=PostgresCaptureChild.DISABLED_Run",
            "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  };
  // A slot that finished its creation (it has a consistent point).
  auto slot_appeared = [&]() {
    auto rows = postgres().Exec(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'kill\\_slot%' "
        "AND confirmed_flush_lsn IS NOT NULL",
        "kill_db");
    return rows.ok() && rows->Scalar() != "0";
  };
  // Kills a new child once `ready(commits written by this child)` holds (or after
  // `limit`); returns whether it held.
  auto run_and_kill =
      [&](const std::function<bool(const std::vector<CommitKind>&)>& ready,
          milliseconds limit) {
        size_t before = ReadChildFile(file, nullptr).commits.size();
        pid_t child = spawn();
        EXPECT_GT(child, 0);
        bool held = false;
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
          auto commits = ReadChildFile(file, nullptr).commits;
          std::vector<CommitKind> mine(
              commits.begin() +
                  static_cast<std::ptrdiff_t>(std::min(before, commits.size())),
              commits.end());
          if (ready(mine)) {
            held = true;
            break;
          }
          std::this_thread::sleep_for(milliseconds(2));
        }
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        // The walsender of the killed child must let go of the slot before the next
        // start.
        std::this_thread::sleep_for(milliseconds(100));
        static_cast<void>(
            postgres().Exec("SELECT pg_terminate_backend(active_pid) FROM "
                            "pg_replication_slots WHERE slot_name "
                            "LIKE 'kill\\_slot%' AND active_pid IS NOT NULL",
                            "kill_db"));
        std::this_thread::sleep_for(milliseconds(100));
        return held;
      };
  auto count = [](const std::vector<CommitKind>& commits, CommitKind kind) {
    return std::count(commits.begin(), commits.end(), kind);
  };
  // (1) After the slot is created, before any snapshot row is durable.
  EXPECT_TRUE(run_and_kill(
      [&](const std::vector<CommitKind>& mine) {
        return mine.empty() && slot_appeared();
      },
      milliseconds(20000)))
      << "the child never created its slot";
  // (2) In the middle of the snapshot, twice.
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(run_and_kill(
        [&](const std::vector<CommitKind>& mine) {
          return count(mine, CommitKind::kSnapshotChunk) >= 2 &&
                 count(mine, CommitKind::kSnapshotDone) == 0;
        },
        milliseconds(20000)))
        << "no kill in the middle of the snapshot (round " << round << ")";
  }
  // (3) Between two batches of one transaction, twice.
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(run_and_kill(
        [&](const std::vector<CommitKind>& mine) {
          return !mine.empty() && mine.back() == CommitKind::kPartialTxn &&
                 count(mine, CommitKind::kTransaction) > 0;
        },
        milliseconds(20000)))
        << "no kill inside a transaction (round " << round << ")";
  }
  // (4) At random times.
  for (int round = 0; round < 2; ++round) {
    milliseconds after(300 + random() % 1200);
    run_and_kill([](const std::vector<CommitKind>&) { return false; }, after);
  }
  stop = true;
  writer.join();
  // A last run catches up to the end, then stops.
  uint64_t end = ServerLsn("kill_db");
  pid_t child = spawn();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool caught_up = false;
  while (!caught_up && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(300));
    auto rows = postgres().Exec(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = "
        "'kill_slot'",
        "kill_db");
    auto lsn = rows.ok() ? core::ParseLsn(rows->Scalar()) : Result<uint64_t>(0);
    caught_up = lsn.ok() && *lsn >= end;
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(caught_up);
  // Rebuild from the file's committed events.
  ChildFile result = ReadChildFile(file, nullptr);
  EXPECT_GT(result.commits.size(), 10u);
  std::map<std::string, std::string> rows;
  size_t snapshots = 0;
  for (const auto& event_line : result.event_lines) {
    auto first = event_line.find('\t');
    auto second = event_line.find('\t', first + 1);
    auto third = event_line.find('\t', second + 1);
    char op = event_line[0];
    std::string key = event_line.substr(second + 1, third - second - 1);
    std::string row = event_line.substr(third + 1);
    if (op == 'R') {
      // A new snapshot is authoritative: what an earlier, interrupted one read is void.
      ++snapshots;
      rows.clear();
      rows[key] = row;
    } else if (op == 'd') {
      EXPECT_EQ(rows.erase(key), 1u) << "delete of a missing key " << key;
    } else if (op == 'r' || op == 'c' || op == 'u') {
      rows[key] = row;
    }
  }
  // The first child's snapshot and the two interrupted ones may be partly durable; the
  // last one completed.
  EXPECT_GE(snapshots, 3u);
  EXPECT_EQ(count(result.commits, CommitKind::kSnapshotDone), 1);
  State expected = FreshSnapshot(dsn, "kill_db");
  const auto& table = expected["public.k"].keyed;
  size_t missing = 0;
  size_t differing = 0;
  std::string first_problem;
  for (const auto& [key, values] : table) {
    std::string joined;
    for (const auto& value : values) {
      joined += value + "\x1f";
    }
    auto it = rows.find(key);
    if (it == rows.end() || it->second != joined) {
      ++(it == rows.end() ? missing : differing);
      if (first_problem.empty()) {
        first_problem = key + (it == rows.end() ? " missing" : " differs: " + it->second);
      }
    }
  }
  EXPECT_EQ(rows.size(), table.size());
  EXPECT_EQ(missing, 0u) << first_problem;
  EXPECT_EQ(differing, 0u) << first_problem;
}

// ---------------------------------------------------------------------------------------
// `tributary capture -c CONFIG --sink stdout --once`.

std::vector<nlohmann::json> RunCaptureOnce(const std::filesystem::path& config,
                                           const std::filesystem::path& out,
                                           int* exit_code) {
  std::string command =
      fmt::format("timeout 120 {} capture -c {} --sink stdout --once > {} 2> {}.err",
                  TRIB_BINARY_PATH, config.string(), out.string(), out.string());
  int status = std::system(command.c_str());
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::vector<nlohmann::json> lines;
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    try {
      lines.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& error) {
      ADD_FAILURE() << "not JSON: " << line << ": " << error.what();
    }
  }
  return lines;
}

TEST_F(PostgresCaptureTest, CaptureCommandPrintsDebeziumLinesAndConfirmsThem) {
  std::string dsn = NewDatabase("cli_db");
  Exec("cli_db",
       "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, "
       "'b')");
  auto config = dir_.path() / "capture.toml";
  {
    std::ofstream out(config);
    out << "[[sources]]\nname = \"cli\"\ntype = \"postgres\"\n"
        << "dsn = " << nlohmann::json(dsn).dump() << "\n"
        << "slot_name = \"cli_slot\"\npublication_name = \"cli_pub\"\n";
  }
  int exit_code = 0;
  auto first = RunCaptureOnce(config, dir_.path() / "first.jsonl", &exit_code);
  ASSERT_EQ(exit_code, 0);
  ASSERT_EQ(first.size(), 2u);
  for (const auto& line : first) {
    EXPECT_EQ(line["topic"], "cli.public.t");
    EXPECT_EQ(line["value"]["op"], "r");
    EXPECT_TRUE(line["key"].is_object()) << line.dump();
  }
  Exec("cli_db",
       "INSERT INTO t VALUES (3, 'c'); UPDATE t SET v = 'z' WHERE id = 1; DELETE FROM t "
       "WHERE id = 2");
  auto second = RunCaptureOnce(config, dir_.path() / "second.jsonl", &exit_code);
  ASSERT_EQ(exit_code, 0);
  ASSERT_EQ(second.size(), 4u);  // c, u, d and the delete's tombstone
  EXPECT_EQ(second[0]["value"]["op"], "c");
  EXPECT_EQ(second[1]["value"]["op"], "u");
  EXPECT_EQ(second[2]["value"]["op"], "d");
  EXPECT_TRUE(second[3]["value"].is_null());
  EXPECT_EQ(second[3]["key"], second[2]["key"]);
  // Everything printed was confirmed: a third run has nothing to say.
  auto third = RunCaptureOnce(config, dir_.path() / "third.jsonl", &exit_code);
  ASSERT_EQ(exit_code, 0);
  EXPECT_TRUE(third.empty());
}

}  // namespace
}  // namespace tributary::capture::postgres
