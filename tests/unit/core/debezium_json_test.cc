#include "core/debezium_json.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tributary::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGoldenDir = fs::path(TRIB_SHARED_DIR) / "golden" / "debezium";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every golden message, as "mysql/<file>.json" relative paths.
std::vector<std::string> GoldenFiles() {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(kGoldenDir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      out.push_back(fs::relative(entry.path(), kGoldenDir).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

ChangeEvent DecodeGolden(const std::string& relative) {
  Result<ChangeEvent> event = DecodeDebeziumValue(ReadFile(kGoldenDir / relative));
  EXPECT_TRUE(event.ok()) << relative << ": " << event.status().ToString();
  return event.ok() ? std::move(*event) : ChangeEvent();
}

// Looks up a column's value in a row by name.
Value Get(const ChangeEvent& event,
          const std::optional<Row>& row,
          std::string_view column) {
  EXPECT_TRUE(row.has_value());
  EXPECT_NE(event.schema, nullptr);
  if (!row || !event.schema) {
    return Value();
  }
  std::optional<size_t> idx = event.schema->FindIndex(column);
  EXPECT_TRUE(idx.has_value()) << column;
  return idx ? (*row)[*idx] : Value();
}

// ------------------------------------------------------------------------------------------
// Golden messages: each decodes to the values it carries.

TEST(DebeziumGoldenTest, TheDirectoryHoldsTheExpectedMessages) {
  std::set<std::string> files;
  for (const std::string& file : GoldenFiles()) {
    files.insert(file);
  }
  // A new golden file must get value assertions below.
  EXPECT_EQ(files, (std::set<std::string>{
                       "mysql/dbz111_delete_with_schema.json",
                       "mysql/dbz111_insert_with_schema.json",
                       "mysql/dbz111_update_with_schema.json",
                       "mysql/dbz301_engine_snapshot_read_noschema.json",
                       "mysql/dbz301_engine_update_noschema.json",
                       "postgresql/dbz121_delete_noschema.json",
                       "postgresql/dbz121_insert_noschema.json",
                       "postgresql/dbz121_update_noschema.json",
                       "postgresql/doc_create_value_with_schema.json",
                   }));
}

void ExpectMysql111Source(const ChangeEvent& event, int64_t ts_ms, int64_t pos) {
  EXPECT_EQ(event.source.connector, Connector::kMysql);
  EXPECT_EQ(event.source.version, "1.1.1.Final");
  EXPECT_EQ(event.source.name, "dbserver1");
  EXPECT_EQ(event.table, (TableId{"inventory", "", "products"}));
  EXPECT_EQ(event.Topic(), "dbserver1.inventory.products");
  EXPECT_EQ(event.commit_time_us, ts_ms * 1000);
  EXPECT_EQ(event.snapshot, SnapshotMarker::kFalse);
  EXPECT_EQ(event.source.server_id, 223344);
  EXPECT_FALSE(event.source.gtid.has_value());
  EXPECT_EQ(event.source.file, "mysql-bin.000003");
  EXPECT_EQ(event.source.pos, pos);
  EXPECT_EQ(event.source.row, 0);
  EXPECT_EQ(event.source.thread, 2);
  EXPECT_FALSE(event.source.query.has_value());
  EXPECT_FALSE(event.transaction.has_value());
  ASSERT_NE(event.position.mysql(), nullptr);
  EXPECT_EQ(event.position.mysql()->file, "mysql-bin.000003");
  EXPECT_EQ(event.position.mysql()->pos, static_cast<uint64_t>(pos));
  EXPECT_EQ(event.position.mysql()->server_id, 223344u);
  // The Connect schema types the columns.
  ASSERT_NE(event.schema, nullptr);
  ASSERT_EQ(event.schema->columns.size(), 4u);
  EXPECT_EQ(event.schema->columns[0].name, "id");
  EXPECT_EQ(event.schema->columns[0].type, DataType::Of(TypeKind::kInt32));
  EXPECT_FALSE(event.schema->columns[0].nullable);
  EXPECT_EQ(event.schema->columns[1].type, DataType::Of(TypeKind::kString));
  EXPECT_FALSE(event.schema->columns[1].nullable);
  EXPECT_TRUE(event.schema->columns[2].nullable);
  EXPECT_EQ(event.schema->columns[3].name, "weight");
  EXPECT_EQ(event.schema->columns[3].type, DataType::Of(TypeKind::kDouble));
}

TEST(DebeziumGoldenTest, Mysql111Insert) {
  ChangeEvent event = DecodeGolden("mysql/dbz111_insert_with_schema.json");
  EXPECT_EQ(event.op, Op::kCreate);
  ExpectMysql111Source(event, 1589362210000, 1068);
  EXPECT_EQ(event.processing_time_ns, 1589362210230LL * 1000000);
  EXPECT_FALSE(event.before.has_value());
  EXPECT_EQ(Get(event, event.after, "id"), Value::Int32(110));
  EXPECT_EQ(Get(event, event.after, "name"), Value::String("jacket"));
  EXPECT_EQ(Get(event, event.after, "description"),
            Value::String("water resistent white wind breaker"));
  // A MySQL FLOAT emitted as a double: the float's exact binary value.
  EXPECT_EQ(Get(event, event.after, "weight"), Value::Double(0.20000000298023224));
  EXPECT_EQ(Get(event, event.after, "weight").AsDouble(), static_cast<double>(0.2f));
}

TEST(DebeziumGoldenTest, Mysql111Update) {
  ChangeEvent event = DecodeGolden("mysql/dbz111_update_with_schema.json");
  EXPECT_EQ(event.op, Op::kUpdate);
  ExpectMysql111Source(event, 1589362293000, 1707);
  EXPECT_EQ(event.processing_time_ns, 1589362293539LL * 1000000);
  EXPECT_EQ(Get(event, event.before, "id"), Value::Int32(110));
  EXPECT_EQ(Get(event, event.before, "description"),
            Value::String("water resistent white wind breaker"));
  EXPECT_EQ(Get(event, event.before, "weight"), Value::Double(0.20000000298023224));
  EXPECT_EQ(Get(event, event.after, "id"), Value::Int32(110));
  EXPECT_EQ(Get(event, event.after, "description"),
            Value::String("new water resistent white wind breaker"));
  EXPECT_EQ(Get(event, event.after, "weight"), Value::Double(0.5));
}

TEST(DebeziumGoldenTest, Mysql111Delete) {
  ChangeEvent event = DecodeGolden("mysql/dbz111_delete_with_schema.json");
  EXPECT_EQ(event.op, Op::kDelete);
  ExpectMysql111Source(event, 1589362344000, 2443);
  EXPECT_EQ(event.processing_time_ns, 1589362344455LL * 1000000);
  EXPECT_FALSE(event.after.has_value());
  EXPECT_EQ(Get(event, event.before, "id"), Value::Int32(111));
  EXPECT_EQ(Get(event, event.before, "name"), Value::String("scooter"));
  EXPECT_EQ(Get(event, event.before, "description"),
            Value::String("Big 2-wheel scooter "));
  EXPECT_EQ(Get(event, event.before, "weight"), Value::Double(5.170000076293945));
  EXPECT_TRUE(NeedsTombstone(event));
}

TEST(DebeziumGoldenTest, Mysql301SnapshotRead) {
  ChangeEvent event = DecodeGolden("mysql/dbz301_engine_snapshot_read_noschema.json");
  EXPECT_EQ(event.op, Op::kRead);
  EXPECT_EQ(event.source.connector, Connector::kMysql);
  EXPECT_EQ(event.source.version, "3.0.1.Final");
  EXPECT_EQ(event.source.name, "wasm");
  EXPECT_EQ(event.Topic(), "wasm.inventory.customers");
  EXPECT_EQ(event.snapshot, SnapshotMarker::kTrue);
  EXPECT_EQ(event.commit_time_us, 1731327511000000);
  EXPECT_EQ(event.processing_time_ns, 1731327512006319782);
  EXPECT_FALSE(event.source.sequence.has_value());
  EXPECT_EQ(event.source.server_id, 0);
  EXPECT_EQ(event.source.file, "mysql-bin.000003");
  EXPECT_EQ(event.source.pos, 797);
  EXPECT_EQ(event.source.row, 0);
  EXPECT_FALSE(event.source.thread.has_value());
  EXPECT_EQ(event.position.ToString(), "mysql:mysql-bin.000003:797:0:0:");
  EXPECT_FALSE(event.before.has_value());
  // Without a schema, JSON integers are int64.
  EXPECT_EQ(Get(event, event.after, "id"), Value::Int64(1004));
  EXPECT_EQ(Get(event, event.after, "first_name"), Value::String("Anne"));
  EXPECT_EQ(Get(event, event.after, "last_name"), Value::String("Kretchmar"));
  EXPECT_EQ(Get(event, event.after, "email"), Value::String("annek@noanswer.org"));
  std::vector<std::string> names;
  for (const Column& column : event.schema->columns) {
    names.push_back(column.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "first_name", "last_name", "email"}))
      << "column order follows the JSON";
}

TEST(DebeziumGoldenTest, Mysql301Update) {
  ChangeEvent event = DecodeGolden("mysql/dbz301_engine_update_noschema.json");
  EXPECT_EQ(event.op, Op::kUpdate);
  EXPECT_EQ(event.snapshot, SnapshotMarker::kFalse);
  EXPECT_EQ(event.commit_time_us, 1731327659000000);
  EXPECT_EQ(event.processing_time_ns, 1731327659957757335);
  EXPECT_EQ(event.source.server_id, 223344);
  EXPECT_EQ(event.source.pos, 1041);
  EXPECT_EQ(event.source.thread, 102);
  EXPECT_EQ(Get(event, event.before, "id"), Value::Int64(1001));
  EXPECT_EQ(Get(event, event.before, "first_name"), Value::String("Sally"));
  EXPECT_EQ(Get(event, event.after, "first_name"), Value::String("Sarah"));
  EXPECT_EQ(Get(event, event.after, "email"), Value::String("sally.thomas@acme.com"));
}

void ExpectPostgres121Source(const ChangeEvent& event,
                             int64_t ts_ms,
                             int64_t tx_id,
                             int64_t lsn) {
  EXPECT_EQ(event.source.connector, Connector::kPostgres);
  EXPECT_EQ(event.source.version, "1.2.1.Final");
  EXPECT_EQ(event.source.name, "fullfillment");
  EXPECT_EQ(event.table, (TableId{"postgres", "inventory", "products"}));
  EXPECT_EQ(event.Topic(), "fullfillment.inventory.products");
  EXPECT_EQ(event.commit_time_us, ts_ms * 1000);
  EXPECT_EQ(event.snapshot, SnapshotMarker::kFalse);
  EXPECT_EQ(event.source.txid, tx_id);
  EXPECT_EQ(event.source.lsn, lsn);
  EXPECT_FALSE(event.source.xmin.has_value());
  ASSERT_NE(event.position.postgres(), nullptr);
  EXPECT_EQ(event.position.postgres()->event_lsn, static_cast<uint64_t>(lsn));
  EXPECT_EQ(event.position.postgres()->txid, static_cast<uint64_t>(tx_id));
  EXPECT_FALSE(event.transaction.has_value());
}

TEST(DebeziumGoldenTest, Postgres121Insert) {
  ChangeEvent event = DecodeGolden("postgresql/dbz121_insert_noschema.json");
  EXPECT_EQ(event.op, Op::kCreate);
  ExpectPostgres121Source(event, 1596010946488, 604, 34132560);
  EXPECT_EQ(FormatLsn(static_cast<uint64_t>(*event.source.lsn)), "0/208D250");
  EXPECT_EQ(event.processing_time_ns, 1596010946870LL * 1000000);
  EXPECT_EQ(Get(event, event.after, "id"), Value::Int64(110));
  EXPECT_EQ(Get(event, event.after, "name"), Value::String("jacket"));
  EXPECT_EQ(Get(event, event.after, "weight"), Value::Double(0.2));
}

TEST(DebeziumGoldenTest, Postgres121Update) {
  ChangeEvent event = DecodeGolden("postgresql/dbz121_update_noschema.json");
  EXPECT_EQ(event.op, Op::kUpdate);
  ExpectPostgres121Source(event, 1596010889629, 602, 34131104);
  EXPECT_EQ(event.processing_time_ns, 1596010890411LL * 1000000);
  EXPECT_EQ(Get(event, event.before, "id"), Value::Int64(106));
  EXPECT_EQ(Get(event, event.before, "description"),
            Value::String("16oz carpenter's hammer"));
  EXPECT_EQ(Get(event, event.before, "weight"), Value::Double(1.0));
  EXPECT_EQ(Get(event, event.after, "description"),
            Value::String("18oz carpenter hammer"));
  EXPECT_EQ(Get(event, event.after, "weight"), Value::Double(1.0));
}

TEST(DebeziumGoldenTest, Postgres121Delete) {
  ChangeEvent event = DecodeGolden("postgresql/dbz121_delete_noschema.json");
  EXPECT_EQ(event.op, Op::kDelete);
  ExpectPostgres121Source(event, 1596010988168, 608, 34133800);
  EXPECT_EQ(event.processing_time_ns, 1596010988596LL * 1000000);
  EXPECT_FALSE(event.after.has_value());
  EXPECT_EQ(Get(event, event.before, "id"), Value::Int64(111));
  EXPECT_EQ(Get(event, event.before, "description"),
            Value::String("Big 2-wheel scooter "));
  EXPECT_EQ(Get(event, event.before, "weight"), Value::Double(5.17));
}

TEST(DebeziumGoldenTest, PostgresDocCreateWithSchema) {
  ChangeEvent event = DecodeGolden("postgresql/doc_create_value_with_schema.json");
  EXPECT_EQ(event.op, Op::kCreate);
  EXPECT_EQ(event.source.connector, Connector::kPostgres);
  EXPECT_EQ(event.source.version, "{debezium-version}");
  EXPECT_EQ(event.source.name, "PostgreSQL_server");
  EXPECT_EQ(event.table, (TableId{"postgres", "public", "customers"}));
  EXPECT_EQ(event.commit_time_us, 1559033904863123);
  // The doc example writes snapshot as a boolean.
  EXPECT_EQ(event.snapshot, SnapshotMarker::kTrue);
  EXPECT_EQ(event.source.sequence, "[\"24023119\",\"24023128\"]");
  EXPECT_EQ(event.source.txid, 555);
  EXPECT_EQ(event.source.lsn, 24023128);
  EXPECT_EQ(event.processing_time_ns, 1559033904863841257);
  EXPECT_EQ(Get(event, event.after, "id"), Value::Int32(1));
  EXPECT_EQ(Get(event, event.after, "first_name"), Value::String("Anne"));
  EXPECT_EQ(Get(event, event.after, "last_name"), Value::String("Kretchmar"));
  EXPECT_EQ(Get(event, event.after, "email"), Value::String("annek@noanswer.org"));
  for (const Column& column : event.schema->columns) {
    EXPECT_FALSE(column.nullable) << column.name;
  }
}

// Encoding what was decoded. For the 3.x messages the JSON must be equal as JSON. The 1.x
// messages and the documentation example have another field set than the 3.x one we write
// (no ts_us/ts_ns/sequence, the 1.x snapshot enum, the doc's boolean snapshot and its
// source schema without `sequence`), so for them the re-encoded message must decode to
// the same event instead.
TEST(DebeziumGoldenTest, EncodingTheDecodedEventsGivesTheMessagesBack) {
  for (const std::string& relative : GoldenFiles()) {
    SCOPED_TRACE(relative);
    std::string original = ReadFile(kGoldenDir / relative);
    ChangeEvent event = DecodeGolden(relative);
    json original_json = json::parse(original);
    DebeziumEncodeOptions options;
    options.schemas_enable = original_json.contains("schema");
    Result<std::string> encoded = EncodeDebeziumValue(event, options);
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    if (relative.find("/dbz301_") != std::string::npos) {
      EXPECT_EQ(json::parse(*encoded), original_json) << *encoded;
    }
    Result<ChangeEvent> again = DecodeDebeziumValue(*encoded);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, event) << "re-encoded:\n" << *encoded;
  }
}

// The 3.x field set without schemas, so with schemas.enable the payload must match too.
TEST(DebeziumGoldenTest, Mysql301WithSchemasHasTheSamePayload) {
  const std::string relative = "mysql/dbz301_engine_update_noschema.json";
  ChangeEvent event = DecodeGolden(relative);
  DebeziumEncodeOptions options;
  options.schemas_enable = true;
  Result<std::string> encoded = EncodeDebeziumValue(event, options);
  ASSERT_TRUE(encoded.ok());
  json wrapped = json::parse(*encoded);
  EXPECT_EQ(wrapped["payload"], json::parse(ReadFile(kGoldenDir / relative)));
  EXPECT_EQ(wrapped["schema"]["name"], "wasm.inventory.customers.Envelope");
  EXPECT_EQ(wrapped["schema"]["version"], 2);
  EXPECT_EQ(DecodeDebeziumValue(*encoded).value(), event);
}

// ------------------------------------------------------------------------------------------
// Events built in code.

Column Col(std::string name, DataType type, bool nullable = true) {
  Column column;
  column.name = std::move(name);
  column.type = std::move(type);
  column.nullable = nullable;
  return column;
}

ChangeEvent AllTypesEvent() {
  auto schema = std::make_shared<TableSchema>();
  schema->id = TableId{"appdb", "public", "all_types"};
  DataType iso_interval = DataType::Of(TypeKind::kInterval);
  iso_interval.connect_name = "io.debezium.time.Interval";
  schema->columns = {
      Col("id", DataType::Of(TypeKind::kInt64), false),
      Col("flag", DataType::Of(TypeKind::kBool)),
      Col("small", DataType::Of(TypeKind::kInt16)),
      Col("num", DataType::Of(TypeKind::kInt32)),
      Col("real_col", DataType::Of(TypeKind::kFloat)),
      Col("dbl", DataType::Of(TypeKind::kDouble)),
      Col("price", DataType::Decimal(12, 3)),
      Col("any_numeric", DataType::VariableDecimal()),
      Col("label", DataType::Of(TypeKind::kString)),
      Col("blob", DataType::Of(TypeKind::kBytes)),
      Col("day", DataType::Of(TypeKind::kDate)),
      Col("at_time", DataType::Of(TypeKind::kTime)),
      Col("at_timetz", DataType::Of(TypeKind::kTimeTz)),
      Col("ts", DataType::Of(TypeKind::kTimestamp)),
      Col("tstz", DataType::Of(TypeKind::kTimestampTz)),
      Col("span", DataType::Of(TypeKind::kInterval)),
      Col("iso_span", iso_interval),
      Col("uid", DataType::Of(TypeKind::kUuid)),
      Col("doc", DataType::Of(TypeKind::kJson)),
      Col("mood", DataType::EnumOf({"happy", "sad"})),
      Col("tags", DataType::ArrayOf(DataType::Of(TypeKind::kString))),
      Col("big_text", DataType::Of(TypeKind::kString)),
  };
  schema->columns[1].default_value = Value::Bool(true);
  // What a capture knows about the source types survives the round trip too.
  schema->columns[3].type.source_type = "int4";
  schema->columns[8].type.source_type = "varchar(40)";
  schema->columns[8].type.precision = 40;
  schema->columns[13].type = DataType::Temporal(TypeKind::kTimestamp, 6);
  schema->columns[13].type.source_type = "timestamp(6) without time zone";
  schema->primary_key = {0};
  schema->SyncKeyPositions();

  ChangeEvent event;
  event.op = Op::kUpdate;
  event.table = schema->id;
  event.schema = schema;
  event.before =
      Row{Value::Int64(42), Value(), Value(), Value(), Value(), Value(), Value(), Value(),
          Value(),          Value(), Value(), Value(), Value(), Value(), Value(), Value(),
          Value(),          Value(), Value(), Value(), Value(), Value()};
  event.after = Row{
      Value::Int64(42),
      Value::Bool(true),
      Value::Int16(-7),
      Value::Int32(123456),
      Value::Float(1.5f),
      Value::Double(-0.125),
      Value::Numeric(Decimal::FromInt128(-1234567, 3)),
      Value::Numeric(
          Decimal::FromString("123456789012345678901234567890123456789012.5").value()),
      Value::String("héllo"),
      Value::Binary({0x00, 0x01, 0xfe}),
      Value::Date(-25567),
      Value::Time(45296789123),
      Value::TimeTz(33330000000, 0),
      Value::Timestamp(-1),
      Value::TimestampTz(1529501823123456),
      Value::FromInterval(Interval{0, 0, 90061000001}),
      Value::FromInterval(Interval{14, 3, 3723500000}),
      Value::Uuid(ParseUuid("123e4567-e89b-12d3-a456-426614174000").value()),
      Value::Json(R"({"a":[1,2,null]})"),
      Value::Enum("sad"),
      Value::Array({Value::String("x"), Value()}),
      Value::Unavailable(),
  };
  event.source.connector = Connector::kPostgres;
  event.source.version = "tributary-0.1.0";
  event.source.name = "dbserver1";
  event.source.sequence = "[\"100\",\"200\"]";
  event.source.txid = 777;
  event.source.lsn = 200;
  event.commit_time_us = 1700000000123456;
  event.processing_time_ns = 1700000000223456789;
  event.transaction = TransactionInfo{"777:200", 3, 2};
  PostgresPosition position;
  position.commit_lsn = 200;
  position.event_lsn = 200;
  position.txid = 777;
  position.event_index = 2;  // total_order 3
  event.position = position;
  return event;
}

TEST(DebeziumJsonTest, EveryTypeRoundTripsWithSchemasAndKey) {
  ChangeEvent event = AllTypesEvent();
  ASSERT_TRUE(event.schema->CheckRow(*event.after).ok());
  DebeziumEncodeOptions options;
  options.schemas_enable = true;
  Result<std::string> value = EncodeDebeziumValue(event, options);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  Result<std::optional<std::string>> key = EncodeDebeziumKey(event, options);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ(json::parse(**key),
            json::parse(
                R"({"schema":{"type":"struct","fields":[{"type":"int64","optional":false,
              "field":"id"}],"optional":false,"name":"dbserver1.public.all_types.Key"},
              "payload":{"id":42}})"));
  Result<DebeziumRecord> record = DecodeDebeziumRecord(**key, *value);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ASSERT_TRUE(record->event.has_value());
  EXPECT_EQ(*record->event, event) << "encoded:\n" << *value;
  EXPECT_EQ(record->key, Row{Value::Int64(42)});

  json parsed = json::parse(*value);
  EXPECT_EQ(parsed["payload"]["after"]["big_text"], "__debezium_unavailable_value");
  EXPECT_EQ(parsed["payload"]["after"]["price"], "7Sl5");  // -1234567 = 0xED2979
  EXPECT_EQ(parsed["payload"]["after"]["tstz"], "2018-06-20T13:37:03.123456Z");
  EXPECT_EQ(parsed["payload"]["after"]["day"], -25567);
  EXPECT_EQ(parsed["payload"]["transaction"],
            json::parse(R"({"id":"777:200","total_order":3,"data_collection_order":2})"));
  EXPECT_EQ(parsed["payload"]["source"]["lsn"], 200);
  EXPECT_EQ(parsed["payload"]["ts_ms"], 1700000000223);
  EXPECT_EQ(parsed["payload"]["source"]["ts_ms"], 1700000000123);
}

TEST(DebeziumJsonTest, EveryTypeRoundTripsWithSchemasKeptApart) {
  // A schema registry's view: the payloads of schemas.enable=false, the schemas alone.
  ChangeEvent event = AllTypesEvent();
  DebeziumEncodeOptions wrapped_options;
  wrapped_options.schemas_enable = true;
  Result<std::string> wrapped = EncodeDebeziumValue(event, wrapped_options);
  Result<std::optional<std::string>> wrapped_key = EncodeDebeziumKey(event, wrapped_options);
  ASSERT_TRUE(wrapped.ok() && wrapped_key.ok() && wrapped_key->has_value());
  Result<std::string> value = EncodeDebeziumValue(event);
  Result<std::optional<std::string>> key = EncodeDebeziumKey(event);
  Result<std::string> value_schema = DebeziumValueSchema(event);
  Result<std::optional<std::string>> key_schema = DebeziumKeySchema(event);
  ASSERT_TRUE(value.ok() && key.ok() && value_schema.ok() && key_schema.ok());
  ASSERT_TRUE(key->has_value() && key_schema->has_value());
  // Exactly the two halves JsonConverter writes with schemas.enable=true.
  EXPECT_EQ(json::parse(*wrapped),
            (json{{"schema", json::parse(*value_schema)}, {"payload", json::parse(*value)}}));
  EXPECT_EQ(json::parse(**wrapped_key), (json{{"schema", json::parse(**key_schema)},
                                              {"payload", json::parse(**key)}}));
  auto parsed_value_schema = ConnectSchema::Parse(*value_schema);
  auto parsed_key_schema = ConnectSchema::Parse(**key_schema);
  ASSERT_TRUE(parsed_value_schema.ok() && parsed_key_schema.ok());
  Result<DebeziumRecord> record = DecodeDebeziumRecord(
      **key, parsed_key_schema->get(), *value, parsed_value_schema->get());
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ASSERT_TRUE(record->event.has_value());
  EXPECT_EQ(*record->event, event) << "encoded:\n" << *value;
  EXPECT_EQ(record->key, Row{Value::Int64(42)});
  // Without schemas the same payload loses its types (decimals are base64 text).
  Result<DebeziumRecord> schemaless = DecodeDebeziumRecord(**key, *value);
  ASSERT_TRUE(schemaless.ok());
  EXPECT_NE(*schemaless->event, event);
  // No key for a truncate; errors name the bare payload's fields.
  ChangeEvent truncate = event;
  truncate.op = Op::kTruncate;
  truncate.before.reset();
  truncate.after.reset();
  Result<std::optional<std::string>> no_key = DebeziumKeySchema(truncate);
  ASSERT_TRUE(no_key.ok());
  EXPECT_FALSE(no_key->has_value());
  Result<DebeziumRecord> bad = DecodeDebeziumRecord(
      std::nullopt, nullptr, R"({"op":"c","source":{}})", parsed_value_schema->get());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("source."), std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(bad.status().message().find("payload."), std::string::npos)
      << bad.status().ToString();
  EXPECT_FALSE(ConnectSchema::Parse("[1]").ok());
  EXPECT_FALSE(ConnectSchema::Parse("{").ok());
}

TEST(DebeziumJsonTest, EveryTypeEncodesWithoutSchemas) {
  ChangeEvent event = AllTypesEvent();
  Result<std::string> value = EncodeDebeziumValue(event);
  ASSERT_TRUE(value.ok());
  json parsed = json::parse(*value);
  EXPECT_FALSE(parsed.contains("schema"));
  EXPECT_EQ(parsed["op"], "u");
  EXPECT_EQ(parsed["after"]["any_numeric"]["scale"], 1);
  // Schemaless decoding types values from JSON alone.
  Result<ChangeEvent> decoded = DecodeDebeziumValue(*value);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Get(*decoded, decoded->after, "num"), Value::Int64(123456));
  EXPECT_EQ(Get(*decoded, decoded->after, "dbl"), Value::Double(-0.125));
  EXPECT_EQ(Get(*decoded, decoded->after, "big_text"), Value::Unavailable());
  EXPECT_EQ(Get(*decoded, decoded->after, "any_numeric").kind(), ValueKind::kJson);
  EXPECT_EQ(Get(*decoded, decoded->after, "tags"),
            Value::Array({Value::String("x"), Value()}));
}

TEST(DebeziumJsonTest, TombstonesAndKeys) {
  Result<DebeziumRecord> tombstone = DecodeDebeziumRecord("{\"id\":111}", std::nullopt);
  ASSERT_TRUE(tombstone.ok());
  EXPECT_FALSE(tombstone->event.has_value());
  EXPECT_EQ(tombstone->key, Row{Value::Int64(111)});
  ASSERT_NE(tombstone->key_schema, nullptr);
  EXPECT_EQ(tombstone->key_schema->columns[0].name, "id");

  Result<DebeziumRecord> null_text = DecodeDebeziumRecord(
      R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],
          "optional":false,"name":"dbserver1.inventory.products.Key"},"payload":{"id":111}})",
      "null");
  ASSERT_TRUE(null_text.ok()) << null_text.status().ToString();
  EXPECT_FALSE(null_text->event.has_value());
  EXPECT_EQ(null_text->key, Row{Value::Int32(111)});

  Result<ChangeEvent> direct = DecodeDebeziumValue("null");
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.status().message().find("tombstone"), std::string::npos);

  // A delete from the golden set, with its key: the schema gets its primary key and the
  // key re-encodes to what was read.
  const std::string key_json =
      R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],
          "optional":false,"name":"dbserver1.inventory.products.Key"},"payload":{"id":111}})";
  Result<DebeziumRecord> record = DecodeDebeziumRecord(
      key_json, ReadFile(kGoldenDir / "mysql/dbz111_delete_with_schema.json"));
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ASSERT_TRUE(record->event.has_value());
  EXPECT_EQ(record->event->schema->primary_key, std::vector<size_t>{0});
  EXPECT_TRUE(record->event->schema->columns[0].is_key());
  EXPECT_TRUE(NeedsTombstone(*record->event));
  DebeziumEncodeOptions options;
  options.schemas_enable = true;
  Result<std::optional<std::string>> key = EncodeDebeziumKey(*record->event, options);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ(json::parse(**key), json::parse(key_json));
  Result<std::optional<std::string>> plain_key = EncodeDebeziumKey(*record->event);
  ASSERT_TRUE(plain_key.ok());
  EXPECT_EQ(json::parse(**plain_key), json::parse(R"({"id":111})"));

  // A key naming a column the value does not have is an error naming it.
  Result<DebeziumRecord> bad = DecodeDebeziumRecord(
      R"({"sku":1})", ReadFile(kGoldenDir / "mysql/dbz111_delete_with_schema.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key.sku"), std::string::npos);

  // No primary key: a null key.
  ChangeEvent no_key = DecodeGolden("postgresql/dbz121_insert_noschema.json");
  Result<std::optional<std::string>> none = EncodeDebeziumKey(no_key);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(DebeziumJsonTest, MessageAndTruncateEventsRoundTrip) {
  ChangeEvent message;
  message.op = Op::kMessage;
  message.source.connector = Connector::kPostgres;
  message.source.version = "tributary-0.1.0";
  message.source.name = "dbserver1";
  message.table.database = "appdb";
  message.source.txid = 900;
  message.source.lsn = 5000;
  message.message = LogicalMessage{"audit", {'h', 'i', 0x00}, true};
  message.commit_time_us = 1;
  message.processing_time_ns = 2000;
  PostgresPosition position;
  position.commit_lsn = 5000;
  position.event_lsn = 5000;
  position.txid = 900;
  message.position = position;

  ChangeEvent truncate;
  truncate.op = Op::kTruncate;
  truncate.table = TableId{"appdb", "public", "orders"};
  truncate.source = message.source;
  truncate.position = position;
  truncate.commit_time_us = 1;

  for (bool schemas : {false, true}) {
    DebeziumEncodeOptions options;
    options.schemas_enable = schemas;
    for (const ChangeEvent& event : {message, truncate}) {
      Result<std::string> encoded = EncodeDebeziumValue(event, options);
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      Result<ChangeEvent> decoded = DecodeDebeziumValue(*encoded);
      ASSERT_TRUE(decoded.ok()) << *encoded << ": " << decoded.status().ToString();
      EXPECT_EQ(*decoded, event) << *encoded;
    }
  }
  Result<std::string> encoded = EncodeDebeziumValue(message);
  json parsed = json::parse(*encoded);
  EXPECT_EQ(parsed["op"], "m");
  EXPECT_EQ(parsed["message"], json::parse(R"({"prefix":"audit","content":"aGkA"})"));
  EXPECT_FALSE(parsed.contains("before"));
}

TEST(DebeziumJsonTest, MysqlSourceBlockFieldSet) {
  ChangeEvent event = DecodeGolden("mysql/dbz301_engine_update_noschema.json");
  event.source.gtid = "3E11FA47-71CA-11E1-9E33-C80AA9429562:23";
  event.source.query = "UPDATE customers SET first_name='Sarah' WHERE id=1001";
  MysqlPosition position = *event.position.mysql();
  position.gtid = *event.source.gtid;
  event.position = position;
  Result<std::string> encoded = EncodeDebeziumValue(event);
  ASSERT_TRUE(encoded.ok());
  json source = json::parse(*encoded)["source"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : source.items()) {
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"connector", "db", "file", "gtid", "name",
                                            "pos", "query", "row", "sequence",
                                            "server_id", "snapshot", "table", "thread",
                                            "ts_ms", "ts_ns", "ts_us", "version"}));
  EXPECT_EQ(DecodeDebeziumValue(*encoded).value(), event);
}

TEST(DebeziumJsonTest, UnavailablePlaceholderInGoldenLikeMessages) {
  json message =
      json::parse(ReadFile(kGoldenDir / "postgresql/dbz121_update_noschema.json"));
  message["after"]["description"] = "__debezium_unavailable_value";
  Result<ChangeEvent> event = DecodeDebeziumValue(message.dump());
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(Get(*event, event->after, "description"), Value::Unavailable());
  EXPECT_EQ(Get(*event, event->before, "description"),
            Value::String("16oz carpenter's hammer"));
  Result<std::string> encoded = EncodeDebeziumValue(*event);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(json::parse(*encoded)["after"]["description"],
            "__debezium_unavailable_value");
}

TEST(DebeziumJsonTest, MalformedInputNamesTheField) {
  const std::string insert =
      ReadFile(kGoldenDir / "postgresql/dbz121_insert_noschema.json");
  const std::string with_schema =
      ReadFile(kGoldenDir / "mysql/dbz111_insert_with_schema.json");
  struct Bad {
    std::string name;
    std::string value;
    std::string message_part;
  };
  auto edit = [](const std::string& text, const std::function<void(json&)>& change) {
    json parsed = json::parse(text);
    change(parsed);
    return parsed.dump();
  };
  const std::vector<Bad> cases = {
      {"not json", "{\"op\": ", "not valid JSON"},
      {"empty", "", "empty"},
      {"array", "[1]", "expected an object"},
      {"no op", edit(insert, [](json& j) { j.erase("op"); }), "'op': missing"},
      {"bad op", edit(insert, [](json& j) { j["op"] = "x"; }), "'op'"},
      {"no source", edit(insert, [](json& j) { j.erase("source"); }),
       "'source': missing"},
      {"lsn string", edit(insert, [](json& j) { j["source"]["lsn"] = "0/208D250"; }),
       "'source.lsn': expected an int64"},
      {"unknown connector",
       edit(insert, [](json& j) { j["source"]["connector"] = "oracle"; }),
       "'source.connector'"},
      {"bad snapshot", edit(insert, [](json& j) { j["source"]["snapshot"] = "maybe"; }),
       "'source.snapshot'"},
      {"create without after", edit(insert, [](json& j) { j["after"] = nullptr; }),
       "'after'"},
      {"delete without before", edit(insert, [](json& j) { j["op"] = "d"; }), "'before'"},
      {"after not an object", edit(insert, [](json& j) { j["after"] = 5; }), "'after'"},
      {"column type conflict",
       edit(insert,
            [](json& j) {
              j["op"] = "u";
              j["before"] = j["after"];
              j["before"]["name"] = 5;
            }),
       "'after.name'"},
      {"schema type mismatch",
       edit(with_schema, [](json& j) { j["payload"]["after"]["id"] = "110"; }),
       "'payload.after.id': expected int32"},
      {"column not in schema",
       edit(with_schema, [](json& j) { j["payload"]["after"]["sku"] = 1; }),
       "'payload.after.sku'"},
      {"bad transaction",
       edit(insert,
            [](json& j) {
              j["transaction"] = json{{"total_order", 1}};
            }),
       "'transaction.id': missing"},
  };
  for (const Bad& c : cases) {
    Result<ChangeEvent> event = DecodeDebeziumValue(c.value);
    ASSERT_FALSE(event.ok()) << c.name;
    EXPECT_EQ(event.status().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(event.status().message().find(c.message_part), std::string::npos)
        << c.name << ": " << event.status().message();
  }
  Result<DebeziumRecord> bad_key = DecodeDebeziumRecord("{nope", insert);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("key"), std::string::npos);
}

TEST(DebeziumJsonTest, EncodeRejectsRowsThatDoNotMatchTheSchema) {
  ChangeEvent event = AllTypesEvent();
  (*event.after)[3] = Value::String("not a number");
  Result<std::string> encoded = EncodeDebeziumValue(event);
  ASSERT_FALSE(encoded.ok());
  EXPECT_NE(encoded.status().message().find("after.num"), std::string::npos);
  EXPECT_NE(encoded.status().ToString().find("public.all_types"), std::string::npos);
  event = AllTypesEvent();
  event.after->pop_back();
  EXPECT_FALSE(EncodeDebeziumValue(event).ok());
  event = AllTypesEvent();
  event.schema.reset();
  EXPECT_FALSE(EncodeDebeziumValue(event).ok());
}

}  // namespace
}  // namespace tributary::core

namespace tributary::core {
namespace {

TEST(DebeziumJsonTest, PostgresOriginFieldsOnlyWhenSet) {
  ChangeEvent event = DecodeGolden("postgresql/dbz121_insert_noschema.json");
  Result<std::string> plain = EncodeDebeziumValue(event);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(json::parse(*plain)["source"].contains("origin"));
  event.source.origin = "node_a";
  event.source.origin_lsn = 12345;
  for (bool schemas : {false, true}) {
    DebeziumEncodeOptions options;
    options.schemas_enable = schemas;
    Result<std::string> encoded = EncodeDebeziumValue(event, options);
    ASSERT_TRUE(encoded.ok());
    json source = json::parse(*encoded);
    source = schemas ? source["payload"]["source"] : source["source"];
    EXPECT_EQ(source["origin"], "node_a");
    EXPECT_EQ(source["origin_lsn"], 12345);
    EXPECT_EQ(DecodeDebeziumValue(*encoded).value(), event);
  }
}

TEST(DebeziumJsonTest, DefaultConnectorForSourcesWithoutOne) {
  json message =
      json::parse(ReadFile(kGoldenDir / "mysql/dbz301_engine_update_noschema.json"));
  message["source"].erase("connector");
  EXPECT_FALSE(DecodeDebeziumValue(message.dump()).ok());
  DebeziumDecodeOptions options;
  options.default_connector = Connector::kMysql;
  Result<ChangeEvent> event = DecodeDebeziumValue(message.dump(), options);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->source.connector, Connector::kMysql);
  EXPECT_EQ(event->source.pos, 1041);
}

}  // namespace
}  // namespace tributary::core
