#include "core/result.h"
#include "core/check.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace tributary {
namespace {

Result<int> ParsePositive(int value) {
  if (value <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "value {} is not positive", value);
  }
  return value;
}

Result<int> Doubled(int value) {
  TRIB_ASSIGN_OR_RETURN(int parsed, ParsePositive(value));
  return parsed * 2;
}

Status CheckAll(int a, int b) {
  TRIB_RETURN_IF_ERROR(ParsePositive(a));
  TRIB_RETURN_IF_ERROR(ParsePositive(b).WithContext("checking b"));
  return OkStatus();
}

TEST(ResultTest, CarriesValue) {
  auto result = Doubled(21);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

TEST(ResultTest, PropagatesErrorWithCodeAndMessage) {
  auto result = Doubled(-1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "value -1 is not positive");
}

TEST(ResultTest, StatusCollectsContextOutermostFirstInToString) {
  Status status = CheckAll(1, 0);
  ASSERT_FALSE(status.ok());
  Error error = status.error();
  error.AddContext("validating pair");
  EXPECT_EQ(error.ToString(), "validating pair: checking b: value 0 is not positive");
  EXPECT_FALSE(error.IsRetryable());
}

TEST(ResultTest, RetryableCodes) {
  EXPECT_TRUE(Error(ErrorCode::kNetwork, "reset").IsRetryable());
  EXPECT_TRUE(Error(ErrorCode::kTimeout, "slow").IsRetryable());
  EXPECT_TRUE(Error(ErrorCode::kConflict, "lost race").IsRetryable());
  EXPECT_FALSE(Error(ErrorCode::kCorruption, "bad").IsRetryable());
  EXPECT_EQ(ErrorCodeName(ErrorCode::kConflict), "conflict");
}

TEST(ResultTest, MoveOnlyValues) {
  auto make = []() -> Result<std::unique_ptr<std::string>> {
    return std::make_unique<std::string>("x");
  };
  TRIB_CHECK(true, "never fires");
  auto result = make();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(**result, "x");
}

}  // namespace
}  // namespace tributary
