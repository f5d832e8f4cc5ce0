#include "core/schema.h"

#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

#include "core/change_event.h"

namespace tributary::core {
namespace {

Column Col(std::string name, DataType type, bool nullable = true) {
  Column column;
  column.name = std::move(name);
  column.type = std::move(type);
  column.nullable = nullable;
  return column;
}

TableSchema Products() {
  TableSchema schema;
  schema.id = TableId{"postgres", "inventory", "products"};
  schema.columns = {
      Col("id", DataType::Of(TypeKind::kInt32), false),
      Col("name", DataType::Of(TypeKind::kString), false),
      Col("price", DataType::Decimal(10, 2)),
      Col("tags", DataType::ArrayOf(DataType::Of(TypeKind::kString))),
  };
  schema.primary_key = {0};
  schema.SyncKeyPositions();
  return schema;
}

TEST(TableIdTest, StringFormsAndHashing) {
  TableId pg{"postgres", "public", "customer"};
  TableId mysql{"inventory", "", "customers"};
  EXPECT_EQ(pg.ToString(), "public.customer");
  EXPECT_EQ(mysql.ToString(), "inventory.customers");
  EXPECT_EQ((TableId{"", "", "t"}).ToString(), "t");
  EXPECT_EQ(pg.FullName(), "postgres.public.customer");
  EXPECT_EQ(mysql.FullName(), "inventory.customers");
  std::unordered_set<TableId> ids = {pg, mysql, pg};
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.count(TableId{"postgres", "public", "customer"}), 1u);
  EXPECT_LT(mysql, pg);
}

TEST(DataTypeTest, ToStringAndEquality) {
  EXPECT_EQ(DataType::Decimal(10, 2).ToString(), "decimal(10,2)");
  EXPECT_EQ(DataType::VariableDecimal().ToString(), "decimal");
  EXPECT_EQ(
      DataType::ArrayOf(DataType::ArrayOf(DataType::Of(TypeKind::kInt32))).ToString(),
      "array<array<int32>>");
  EXPECT_EQ(DataType::EnumOf({"a", "b"}).ToString(), "enum('a','b')");
  EXPECT_EQ(DataType::Temporal(TypeKind::kTimestamp, 3).ToString(), "timestamp(3)");
  EXPECT_EQ(DataType::ArrayOf(DataType::Of(TypeKind::kInt32)),
            DataType::ArrayOf(DataType::Of(TypeKind::kInt32)));
  EXPECT_NE(DataType::ArrayOf(DataType::Of(TypeKind::kInt32)),
            DataType::ArrayOf(DataType::Of(TypeKind::kInt64)));
  EXPECT_NE(DataType::Decimal(10, 2), DataType::Decimal(10, 3));
  EXPECT_EQ(ValueKindOf(TypeKind::kBool), ValueKind::kBool);
  EXPECT_EQ(ValueKindOf(TypeKind::kArray), ValueKind::kArray);
  EXPECT_EQ(ValueKindOf(TypeKind::kTimestampTz), ValueKind::kTimestampTz);
  EXPECT_EQ(TypeKindName(TypeKind::kUInt16), "uint16");
}

TEST(TableSchemaTest, FindAndKeys) {
  TableSchema schema = Products();
  ASSERT_NE(schema.Find("price"), nullptr);
  EXPECT_EQ(schema.Find("price")->type, DataType::Decimal(10, 2));
  EXPECT_EQ(schema.Find("missing"), nullptr);
  EXPECT_EQ(schema.FindIndex("name"), 1u);
  EXPECT_TRUE(schema.columns[0].is_key());
  EXPECT_FALSE(schema.columns[1].is_key());
  schema.columns[0].key_position = 1;
  schema.columns[1].key_position = 0;
  schema.SyncPrimaryKeyFromColumns();
  EXPECT_EQ(schema.primary_key, (std::vector<size_t>{1, 0}));
  EXPECT_TRUE(schema.Validate().ok());
}

TEST(TableSchemaTest, ValidateNamesTheProblem) {
  TableSchema duplicate = Products();
  duplicate.columns.push_back(Col("name", DataType::Of(TypeKind::kString)));
  Status status = duplicate.Validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.status().message().find("inventory.products"), std::string::npos);
  EXPECT_NE(status.status().message().find("'name'"), std::string::npos);

  TableSchema bad_key = Products();
  bad_key.primary_key = {7};
  EXPECT_FALSE(bad_key.Validate().ok());

  TableSchema bad_array = Products();
  bad_array.columns[3].type.element.reset();
  status = bad_array.Validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.status().message().find("'tags'"), std::string::npos);
}

TEST(TableSchemaTest, CheckRowMatchesKinds) {
  TableSchema schema = Products();
  Row good = {Value::Int32(1), Value::String("hammer"),
              Value::Numeric(Decimal::FromInt128(1999, 2)),
              Value::Array({Value::String("tools"), Value()})};
  EXPECT_TRUE(schema.CheckRow(good).ok());
  Row with_unavailable = {Value::Int32(1), Value::String("x"), Value(),
                          Value::Unavailable()};
  EXPECT_TRUE(schema.CheckRow(with_unavailable).ok());
  Row wrong_kind = {Value::Int64(1), Value::String("x"), Value(), Value()};
  Status status = schema.CheckRow(wrong_kind);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.status().message().find("'id'"), std::string::npos);
  Row wrong_element = {Value::Int32(1), Value::String("x"), Value(),
                       Value::Array({Value::Int32(3)})};
  EXPECT_FALSE(schema.CheckRow(wrong_element).ok());
  EXPECT_FALSE(schema.CheckRow(Row{Value::Int32(1)}).ok());
}

}  // namespace
}  // namespace tributary::core
