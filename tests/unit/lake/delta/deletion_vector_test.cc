#include "lake/delta/deletion_vector.h"

#include <fstream>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

// PROTOCOL.md "Deletion Vectors", "JSON Example 3 - Inline": this descriptor holds the
// row indexes 3, 4, 7, 11, 18 and 29.
TEST(DeletionVectorTest, DecodesProtocolInlineExample) {
  DeletionVectorDescriptor dv;
  dv.storage_type = "i";
  dv.path_or_inline_dv = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
  dv.size_in_bytes = 40;
  dv.cardinality = 6;
  auto rows = LoadDeletionVector("/nonexistent", dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (std::vector<uint64_t>{3, 4, 7, 11, 18, 29}));
}

TEST(DeletionVectorTest, InlineCardinalityMismatchIsCorruption) {
  DeletionVectorDescriptor dv;
  dv.storage_type = "i";
  dv.path_or_inline_dv = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
  dv.size_in_bytes = 40;
  dv.cardinality = 5;
  auto rows = LoadDeletionVector("/nonexistent", dv);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kCorruption);
}

TEST(DeletionVectorTest, Z85RoundTripAndUuidPath) {
  std::string bytes = "\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b";
  std::string encoded = Z85Encode(bytes);
  EXPECT_EQ(encoded, "HelloWorld");  // the RFC 32 test vector
  auto decoded = Z85Decode(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
  EXPECT_FALSE(Z85Decode("abc").ok());
  EXPECT_FALSE(Z85Decode("abc\"e").ok());

  // PROTOCOL.md "JSON Example 1": prefix "ab", uuid d2c639aa-8816-431a-aaf6-d3fe2512ff61.
  DeletionVectorDescriptor dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^";
  auto path = DeletionVectorFilePath("/table", dv);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(path->string(),
            "/table/ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
}

TEST(DeletionVectorTest, EncodeDecodeRoundTripAcrossBuckets) {
  std::vector<uint64_t> rows = {0, 1, 2, 65535, 65536, 1000000, (uint64_t{1} << 32) + 5};
  auto decoded = DecodeRoaringBitmapArray(EncodeRoaringBitmapArray(rows));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, rows);
}

TEST(DeletionVectorTest, FileWithBadChecksumIsCorruptionNamingTheFile) {
  testing::TempDir dir("dv-test");
  std::string data = EncodeRoaringBitmapArray({1, 5});
  auto write_file = [&](uint32_t crc) {
    std::ofstream out(
        dir.path() / "deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin",
        std::ios::binary);
    out.put(1);
    auto put_be = [&](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) {
        out.put(static_cast<char>((v >> shift) & 0xFF));
      }
    };
    put_be(static_cast<uint32_t>(data.size()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    put_be(crc);
  };
  DeletionVectorDescriptor dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = "^-aqEH.-t@S}K{vb[*k^";
  dv.offset = 1;
  dv.size_in_bytes = static_cast<int32_t>(data.size());
  dv.cardinality = 2;

  write_file(Crc32(data));
  auto good = LoadDeletionVector(dir.path(), dv);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(*good, (std::vector<uint64_t>{1, 5}));

  write_file(Crc32(data) ^ 1);
  auto bad = LoadDeletionVector(dir.path(), dv);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(bad.status().message().find("CRC-32"), std::string::npos);
  EXPECT_NE(bad.status().message().find("deletion_vector_d2c639aa"), std::string::npos);

  std::filesystem::remove(dir.path() /
                          "deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
  auto missing = LoadDeletionVector(dir.path(), dv);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(DeletionVectorTest, Crc32KnownValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

}  // namespace
}  // namespace tributary::lake::delta
