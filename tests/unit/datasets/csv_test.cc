#include "datasets/csv.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::datasets {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::optional<std::string> V(const char* text) { return std::string(text); }
const std::optional<std::string> kNull;

TEST(CsvTest, ParsesHeaderAndRows) {
  auto doc = ParseCsv("a,b,c\n1,2,3\n4,5,6\n", "t.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_THAT(doc->header, ElementsAre("a", "b", "c"));
  ASSERT_EQ(doc->rows.size(), 2u);
  EXPECT_THAT(doc->rows[0], ElementsAre(V("1"), V("2"), V("3")));
  EXPECT_THAT(doc->rows[1], ElementsAre(V("4"), V("5"), V("6")));
  EXPECT_THAT(doc->row_lines, ElementsAre(2, 3));
}

TEST(CsvTest, QuotedCommasAndDoubledQuotes) {
  auto doc = ParseCsv(
      "id,name\n771,\"Mountain-100 Silver, 38\"\n2,\"say \"\"hi\"\", ok\"\n3,\"\"\"\"\n",
      "product.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->rows.size(), 3u);
  EXPECT_EQ(doc->rows[0][1], V("Mountain-100 Silver, 38"));
  EXPECT_EQ(doc->rows[1][1], V("say \"hi\", ok"));
  EXPECT_EQ(doc->rows[2][1], V("\""));
}

TEST(CsvTest, EmbeddedNewlinesKeepLineNumbers) {
  auto doc = ParseCsv("id,body\r\n1,\"first\r\nsecond\nthird\"\r\n2,x\r\n", "r.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->rows.size(), 2u);
  EXPECT_EQ(doc->rows[0][1], V("first\r\nsecond\nthird"));
  // The second record starts on line 5: the first spans lines 2-4.
  EXPECT_THAT(doc->row_lines, ElementsAre(2, 5));
}

TEST(CsvTest, Utf8AndByteOrderMark) {
  auto doc = ParseCsv("\xEF\xBB\xBFid,name\n1,François\n2,Mart¡nez\n3,\"日本, 東京\"\n", "u.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->header[0], "id");
  EXPECT_EQ(doc->rows[0][1], V("François"));
  EXPECT_EQ(doc->rows[1][1], V("Mart¡nez"));
  EXPECT_EQ(doc->rows[2][1], V("日本, 東京"));
}

TEST(CsvTest, EmptyUnquotedIsNullQuotedEmptyIsEmptyString) {
  auto doc = ParseCsv("a,b,c\n,\"\",x\n", "n.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_THAT(doc->rows[0], ElementsAre(kNull, V(""), V("x")));
}

TEST(CsvTest, LastRecordWithoutLineBreakAndBlankLinesSkipped) {
  auto doc = ParseCsv("a,b\n\n1,2\n\n3,4", "b.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->rows.size(), 2u);
  EXPECT_THAT(doc->rows[1], ElementsAre(V("3"), V("4")));
  EXPECT_THAT(doc->row_lines, ElementsAre(3, 5));
}

TEST(CsvTest, RaggedRowNamesFileAndLine) {
  auto doc = ParseCsv("a,b,c\n1,2,3\n4,5\n", "salesorder.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(doc.status().message(), HasSubstr("salesorder.csv line 3"));
  EXPECT_THAT(doc.status().message(), HasSubstr("expected 3 fields"));
  EXPECT_THAT(doc.status().message(), HasSubstr("found 2"));
}

TEST(CsvTest, RaggedRowAfterMultilineFieldReportsItsOwnLine) {
  auto doc = ParseCsv("a,b\n1,\"x\ny\"\n2,3,4\n", "m.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("m.csv line 4"));
}

TEST(CsvTest, UnterminatedQuoteNamesWhereItStarted) {
  auto doc = ParseCsv("a,b\n1,2\n3,\"open\nstill open\n", "q.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("q.csv line 3: field 2"));
  EXPECT_THAT(doc.status().message(), HasSubstr("never closed"));
}

TEST(CsvTest, CharacterAfterClosingQuoteIsAnError) {
  auto doc = ParseCsv("a,b\n1,\"x\"y\n", "c.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("c.csv line 2: field 2"));
  EXPECT_THAT(doc.status().message(), HasSubstr("after the closing quote"));
}

TEST(CsvTest, BareQuoteInUnquotedFieldIsAnError) {
  auto doc = ParseCsv("a,b\n1,ab\"c\n", "c.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("line 2: field 2"));
}

TEST(CsvTest, InvalidUtf8NamesLineAndField) {
  // "Mart\xA1nez" is Latin-1, not UTF-8.
  auto doc = ParseCsv("id,first,last\n1,Frank,Mart\xA1nez\n", "customer.csv");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("customer.csv line 2: field 3"));
  EXPECT_THAT(doc.status().message(), HasSubstr("invalid UTF-8"));
}

TEST(CsvTest, OverlongUtf8AndNulRejected) {
  EXPECT_FALSE(ParseCsv("a\n\xC0\xAF\n", "o.csv").ok());
  EXPECT_FALSE(ParseCsv(std::string_view("a\nx\0y\n", 6), "z.csv").ok());
}

TEST(CsvTest, HeaderMustHaveUniqueNonEmptyNames) {
  auto empty = ParseCsv("a,,c\n1,2,3\n", "h.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("header field 2 is empty"));
  auto duplicate = ParseCsv("id,Name,NAME\n1,2,3\n", "h.csv");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(duplicate.status().message(), HasSubstr("repeats the column name 'NAME'"));
  EXPECT_FALSE(ParseCsv("", "e.csv").ok());
}

TEST(CsvTest, FormatRoundTrips) {
  TableData table;
  table.spec.name = "t";
  table.spec.columns = {{"id"}, {"text, with comma"}, {"q"}};
  table.rows = {{V("1"), V("a,b"), V("say \"x\"")},
                {V("2"), kNull, V("")},
                {V("3"), V("line\nbreak"), V("ünïcödé")}};
  const std::string text = FormatCsv(table);
  auto doc = ParseCsv(text, "rt.csv");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_THAT(doc->header, ElementsAre("id", "text, with comma", "q"));
  EXPECT_EQ(doc->rows, table.rows);
}

TEST(CsvTest, ReadsFileAndNamesIt) {
  testing::TempDir dir;
  const auto path = dir.path() / "bad.csv";
  std::ofstream(path) << "a,b\n1\n";
  auto doc = ReadCsvFile(path);
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("bad.csv line 2"));
  auto missing = ReadCsvFile(dir.path() / "missing.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(CsvTest, ParsesSharedSeedFiles) {
  const std::filesystem::path dir = TRIB_SHARED_DIR "/seed-data/data-platform";
  auto product = ReadCsvFile(dir / "product.csv");
  ASSERT_TRUE(product.ok()) << product.status().ToString();
  EXPECT_THAT(product->header, ElementsAre("ProductID", "ProductName", "Category", "ListPrice"));
  EXPECT_EQ(product->rows[0][1], V("Mountain-100 Silver, 38"));
  auto customer = ReadCsvFile(dir / "customer.csv");
  ASSERT_TRUE(customer.ok()) << customer.status().ToString();
  bool found_utf8 = false;
  for (const Row& row : customer->rows) {
    found_utf8 = found_utf8 || row[1] == V("François");
  }
  EXPECT_TRUE(found_utf8);
}

}  // namespace
}  // namespace tributary::datasets
