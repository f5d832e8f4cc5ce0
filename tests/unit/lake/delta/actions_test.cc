#include "lake/delta/actions.h"

#include <gtest/gtest.h>

#include "lake/delta/schema.h"

namespace tributary::lake::delta {
namespace {

TEST(ActionsTest, ParsesAddWithPartitionsStatsDvAndTags) {
  auto parsed = ParseActionLine(
      R"js({"add":{"path":"p%3D1/f.parquet","partitionValues":{"p":"1","q":null},"size":10,)js"
      R"js("modificationTime":5,"dataChange":true,"stats":"{\"numRecords\":3}","tags":{"a":"b"},)js"
      R"js("deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":1,)js"
      R"js("sizeInBytes":36,"cardinality":2},"baseRowId":7}})js");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->has_value());
  const auto& add = std::get<AddFile>(**parsed);
  EXPECT_EQ(add.path, "p%3D1/f.parquet");
  EXPECT_EQ(add.partition_values.at("p"), "1");
  EXPECT_EQ(add.partition_values.at("q"), std::nullopt);
  EXPECT_EQ(add.size, 10);
  EXPECT_EQ(add.NumRecords(), 3);
  EXPECT_EQ(add.tags.at("a"), "b");
  ASSERT_TRUE(add.deletion_vector);
  EXPECT_EQ(add.deletion_vector->offset, 1);
  EXPECT_EQ(add.deletion_vector->cardinality, 2);
  EXPECT_EQ(add.base_row_id, 7);
}

TEST(ActionsTest, RoundTripsEveryActionType) {
  Protocol protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                    std::vector<std::string>{"deletionVectors", "appendOnly"}};
  Metadata metadata;
  metadata.id = "id-1";
  metadata.schema_string = R"js({"type":"struct","fields":[]})js";
  metadata.partition_columns = {"p"};
  metadata.configuration = {{"delta.appendOnly", "true"}};
  metadata.created_time = 99;
  AddFile add;
  add.path = "a.parquet";
  add.partition_values = {{"p", std::nullopt}};
  add.size = 3;
  add.stats = R"js({"numRecords":1})js";
  RemoveFile remove;
  remove.path = "b.parquet";
  remove.deletion_timestamp = 4;
  remove.data_change = false;
  AddCdcFile cdc{"_change_data/c.parquet", {{"p", "x"}}, 5, false, std::nullopt};
  SetTransaction txn{"app", 42, 1000};
  CommitInfo info;
  info.timestamp = 1;
  info.in_commit_timestamp = 2;
  info.operation = "WRITE";
  info.operation_parameters = {{"mode", "Append"}};
  info.extra["engineSpecific"] = 7;
  DomainMetadata domain{"d", "{}", false};
  Sidecar sidecar{"s.parquet", 10, 11, std::nullopt};
  CheckpointMetadata checkpoint_metadata{12, std::nullopt};
  std::vector<Action> actions = {
      protocol, metadata, add,    remove,  cdc,
      txn,      info,     domain, sidecar, checkpoint_metadata};
  std::string text = SerializeCommit(actions);
  // inCommitTimestamp must be the first field of commitInfo.
  EXPECT_NE(text.find(R"js({"commitInfo":{"inCommitTimestamp":2,)js"), std::string::npos)
      << text;
  auto parsed = ParseCommitText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), actions.size());
  for (size_t i = 0; i < actions.size(); ++i) {
    EXPECT_EQ(ActionKey((*parsed)[i]), ActionKey(actions[i]));
    EXPECT_EQ(SerializeAction((*parsed)[i]), SerializeAction(actions[i]));
  }
  const auto& round_info = std::get<CommitInfo>((*parsed)[6]);
  EXPECT_EQ(round_info.extra["engineSpecific"], 7);
  EXPECT_EQ(std::get<Protocol>((*parsed)[0]).HasReaderFeature("deletionVectors"), true);
}

TEST(ActionsTest, SkipsUnknownActionsAndBlankLines) {
  auto parsed = ParseCommitText(
      "{\"futureAction\":{\"x\":1}}\n\n{\"txn\":{\"appId\":\"a\",\"version\":1}}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(std::get<SetTransaction>((*parsed)[0]).version, 1);
}

TEST(ActionsTest, TruncatedLineIsCorruptionNamingTheLine) {
  auto parsed = ParseCommitText(
      "{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\":{\"path\":\"x");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(parsed.status().ToString().find("line 2"), std::string::npos)
      << parsed.status().ToString();
}

TEST(ActionsTest, MissingRequiredFieldIsCorruption) {
  auto parsed = ParseActionLine(R"js({"add":{"size":1}})js");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(parsed.status().message().find("'path'"), std::string::npos);
  auto txn = ParseActionLine(R"js({"txn":{"appId":"a","version":"x"}})js");
  ASSERT_FALSE(txn.ok());
  EXPECT_NE(txn.status().message().find("'version'"), std::string::npos);
}

TEST(ActionsTest, CheckpointRowWithNullColumnsParses) {
  auto parsed = ParseActionLine(
      R"js({"txn":null,"add":null,"remove":{"path":"x","deletionTimestamp":1,"dataChange":false,)js"
      R"js("partitionValues":{},"deletionVector":null},"metaData":null})js");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ(std::get<RemoveFile>(**parsed).path, "x");
}

TEST(SchemaTest, ParsesAndSerializesNestedTypes) {
  const std::string schema_string =
      R"js({"type":"struct","fields":[)js"
      R"js({"name":"d","type":"decimal(38,18)","nullable":true,"metadata":{}},)js"
      R"js({"name":"t","type":"timestamp_ntz","nullable":false,"metadata":{"comment":"x"}},)js"
      R"js({"name":"a","type":{"type":"array","elementType":{"type":"struct","fields":[)js"
      R"js({"name":"v","type":"integer","nullable":true,"metadata":{}}]},"containsNull":true},)js"
      R"js("nullable":true,"metadata":{"delta.columnMapping.id":3,)js"
      R"js("delta.columnMapping.physicalName":"col-1"}},)js"
      R"js({"name":"m","type":{"type":"map","keyType":"string","valueType":"long",)js"
      R"js("valueContainsNull":false},"nullable":true,"metadata":{}}]})js";
  auto schema = ParseSchemaString(schema_string);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->fields.size(), 4u);
  EXPECT_EQ(schema->fields[0].type.ToString(), "decimal(38,18)");
  EXPECT_EQ(schema->fields[1].type.kind, TypeKind::kTimestampNtz);
  EXPECT_FALSE(schema->fields[1].nullable);
  EXPECT_EQ(schema->fields[2].type.ToString(), "array<struct<v:integer>>");
  EXPECT_EQ(schema->fields[2].MetadataInt("delta.columnMapping.id"), 3);
  EXPECT_EQ(schema->fields[2].MetadataString("delta.columnMapping.physicalName"),
            "col-1");
  EXPECT_EQ(schema->fields[3].type.ToString(), "map<string,long>");
  EXPECT_FALSE(schema->fields[3].type.contains_null);
  EXPECT_EQ(schema->Find("M"), &schema->fields[3]) << "names are case-insensitive";
  auto again = ParseSchemaString(SerializeSchema(*schema));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(DataType::Struct(again->fields).Equals(DataType::Struct(schema->fields)));
  EXPECT_EQ(SerializeSchema(*again), SerializeSchema(*schema));
}

TEST(SchemaTest, RejectsBadTypes) {
  auto unknown = ParseSchemaString(
      R"js({"type":"struct","fields":[{"name":"x","type":"uuid","nullable":true}]})js");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(unknown.status().ToString().find("field 'x'"), std::string::npos);
  auto bad_decimal = ParseSchemaString(
      R"js({"type":"struct","fields":[{"name":"x","type":"decimal(40,2)","nullable":true}]})js");
  ASSERT_FALSE(bad_decimal.ok());
  EXPECT_EQ(bad_decimal.status().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(ParseSchemaString("not json").ok());
}

}  // namespace
}  // namespace tributary::lake::delta
