#include "lake/parquet/shared_connection.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tributary::lake::parquet {
namespace {

TEST(SharedConnectionTest, ConnectionsAreReusedAfterRelease) {
  sql::Connection* first = nullptr;
  {
    auto connection = AcquireSharedConnection();
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    first = connection->get();
    auto result = (**connection).Query("SELECT 41 + 1");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->GetInt64(0, 0), 42);
    // The shared database runs queries on the calling thread only.
    auto threads = (**connection).Query("SELECT current_setting('threads')");
    ASSERT_TRUE(threads.ok()) << threads.status().ToString();
    EXPECT_EQ(threads->GetInt64(0, 0), 1);
  }
  auto again = AcquireSharedConnection();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first) << "a released connection goes back to the pool";
  // Two borrowers at once get different connections.
  auto other = AcquireSharedConnection();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->get(), again->get());
}

TEST(SharedConnectionTest, ConcurrentBorrowersEachGetTheirOwnConnection) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < kRounds; ++round) {
        auto connection = AcquireSharedConnection();
        if (!connection.ok()) {
          ++failures;
          continue;
        }
        int64_t expected = static_cast<int64_t>(t) * 1000 + round;
        auto result = (**connection)
                          .Query("SELECT sum(i) - sum(i) + " + std::to_string(expected) +
                                 " FROM range(1000) t(i)");
        if (!result.ok() || result->GetInt64(0, 0) != expected) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tributary::lake::parquet
