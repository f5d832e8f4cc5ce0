#include "capture/postgres/internal/txn_buffer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::capture::postgres::internal {
namespace {

struct Message {
  uint64_t wal_start;
  uint32_t xid;
  std::string data;
};

std::vector<Message> ReadAll(TxnBuffer& buffer) {
  std::vector<Message> out;
  EXPECT_TRUE(buffer.Rewind().ok());
  while (true) {
    auto next = buffer.Next();
    EXPECT_TRUE(next.ok()) << next.error().ToString();
    if (!next.ok() || !*next) {
      return out;
    }
    out.push_back(Message{(*next)->wal_start, (*next)->xid, std::string((*next)->data)});
  }
}

std::vector<Message> Fill(TxnBuffer& buffer, size_t count, uint32_t xid) {
  std::vector<Message> written;
  for (size_t idx = 0; idx < count; ++idx) {
    Message message{0x1000 + idx, xid, std::string(10 + idx % 7, static_cast<char>('a' + idx % 26))};
    EXPECT_TRUE(buffer.Append(message.wal_start, message.xid, message.data).ok());
    written.push_back(std::move(message));
  }
  return written;
}

void ExpectSame(const std::vector<Message>& got, const std::vector<Message>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t idx = 0; idx < got.size(); ++idx) {
    EXPECT_EQ(got[idx].wal_start, want[idx].wal_start) << idx;
    EXPECT_EQ(got[idx].xid, want[idx].xid) << idx;
    EXPECT_EQ(got[idx].data, want[idx].data) << idx;
  }
}

TEST(TxnBufferTest, ReplaysMemoryThenSpillFileInOrderAndBuildsThePathOnlyWhenSpilling) {
  ::tributary::testing::TempDir dir("trib-txn-buffer");
  int paths_built = 0;
  auto path_fn = [&] {
    ++paths_built;
    return dir.path() / ("spill-" + std::to_string(paths_built));
  };
  TxnBuffer buffer(path_fn, 200);  // about 14 messages in memory, the rest spilled
  auto small = Fill(buffer, 5, 7);
  EXPECT_FALSE(buffer.spilled());
  EXPECT_EQ(paths_built, 0);
  ExpectSame(ReadAll(buffer), small);

  // Reused for a larger transaction: memory first, then a spill file.
  buffer.Reset(path_fn);
  auto large = Fill(buffer, 100, 9);
  EXPECT_TRUE(buffer.spilled());
  EXPECT_EQ(paths_built, 1);
  std::filesystem::path spilled = buffer.spill_path();
  EXPECT_TRUE(std::filesystem::exists(spilled));
  ExpectSame(ReadAll(buffer), large);

  // Reset deletes the spill file; the next spill gets a new path.
  buffer.Reset(path_fn);
  EXPECT_FALSE(std::filesystem::exists(spilled));
  EXPECT_TRUE(buffer.spill_path().empty());
  auto again = Fill(buffer, 40, 11);
  EXPECT_EQ(paths_built, 2);
  EXPECT_NE(buffer.spill_path(), spilled);
  ExpectSame(ReadAll(buffer), again);
  std::filesystem::path second = buffer.spill_path();
  buffer.Clear();
  EXPECT_FALSE(std::filesystem::exists(second));
  EXPECT_EQ(buffer.message_count(), 0u);
}

TEST(TxnBufferTest, ReportsATruncatedSpillFile) {
  ::tributary::testing::TempDir dir("trib-txn-buffer");
  TxnBuffer buffer(dir.path() / "spill", 0);  // everything spills
  Fill(buffer, 3, 1);
  ASSERT_TRUE(buffer.Rewind().ok());
  std::filesystem::resize_file(buffer.spill_path(),
                               std::filesystem::file_size(buffer.spill_path()) - 3);
  ASSERT_TRUE(buffer.Rewind().ok());
  Status status = OkStatus();
  for (int idx = 0; idx < 4 && status.ok(); ++idx) {
    auto next = buffer.Next();
    if (!next.ok()) {
      status = std::move(next).status();
    }
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(status.error().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace tributary::capture::postgres::internal
