// The runner's load adaptation (pipeline/internal/load_pacing.h): the bronze batch
// interval under a backlog and the deferral of bronze compaction while behind (issue 5).

#include "pipeline/internal/load_pacing.h"

#include <chrono>

#include <gtest/gtest.h>

namespace tributary::pipeline::internal {
namespace {

using std::chrono::milliseconds;
using Decision = CompactionSchedule::Decision;

TEST(AdaptiveBatchIntervalTest, StaysAtBaseAtLightLoad) {
  AdaptiveBatchInterval pacer(milliseconds(50), milliseconds(1000));
  for (int commit = 0; commit < 10; ++commit) {
    // Input arrived while the commit ran, but the bronze thread waited for input in
    // between: not a backlog.
    pacer.NoteIdle();
    EXPECT_EQ(pacer.OnCommit(/*input_waiting=*/true), milliseconds(50));
    EXPECT_FALSE(pacer.behind());
  }
}

TEST(AdaptiveBatchIntervalTest, DoublesUpToMaxWhileInputKeepsWaiting) {
  AdaptiveBatchInterval pacer(milliseconds(50), milliseconds(1000));
  EXPECT_EQ(pacer.current(), milliseconds(50));
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(100));
  EXPECT_TRUE(pacer.behind());
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(200));
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(400));
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(800));
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(1000));
  EXPECT_EQ(pacer.OnCommit(true), milliseconds(1000));
}

TEST(AdaptiveBatchIntervalTest, ReturnsToBaseAfterACommitThatFoundNoBacklog) {
  AdaptiveBatchInterval pacer(milliseconds(50), milliseconds(1000));
  pacer.OnCommit(true);
  pacer.OnCommit(true);
  ASSERT_EQ(pacer.current(), milliseconds(200));
  // Queue empty between commits, nothing waiting at the commit: caught up.
  pacer.NoteIdle();
  EXPECT_EQ(pacer.OnCommit(false), milliseconds(50));
  EXPECT_FALSE(pacer.behind());
  // Nothing waiting at the commit is enough, even without an idle moment before it.
  pacer.OnCommit(true);
  ASSERT_TRUE(pacer.behind());
  EXPECT_EQ(pacer.OnCommit(false), milliseconds(50));
}

TEST(AdaptiveBatchIntervalTest, AnEmptyQueueIsCaughtUpWithoutACommit) {
  AdaptiveBatchInterval pacer(milliseconds(50), milliseconds(1000));
  pacer.OnCommit(true);
  pacer.OnCommit(true);
  ASSERT_EQ(pacer.current(), milliseconds(200));
  // The queue found empty while the backlog's last rows are still staged: they go out
  // at the base interval, not after the lengthened one.
  pacer.NoteIdle();
  EXPECT_EQ(pacer.current(), milliseconds(50));
  EXPECT_FALSE(pacer.behind());
  // The idle moment also keeps the next commit from counting as behind.
  EXPECT_EQ(pacer.OnCommit(/*input_waiting=*/true), milliseconds(50));
}

TEST(AdaptiveBatchIntervalTest, SlowCommitsAtLightLoadDoNotLengthenIt) {
  // A CPU-starved machine makes commits slow while input still arrives slowly: the
  // bronze thread waits for input between commits, so it is not a backlog.
  AdaptiveBatchInterval pacer(milliseconds(50), milliseconds(500));
  for (int commit = 0; commit < 5; ++commit) {
    pacer.NoteIdle();
    EXPECT_EQ(pacer.OnCommit(/*input_waiting=*/true), milliseconds(50));
  }
}

TEST(AdaptiveBatchIntervalTest, MaxAtOrBelowBaseTurnsAdaptationOff) {
  AdaptiveBatchInterval same(milliseconds(50), milliseconds(50));
  EXPECT_EQ(same.OnCommit(true), milliseconds(50));
  EXPECT_FALSE(same.behind());
  AdaptiveBatchInterval below(milliseconds(50), milliseconds(10));
  EXPECT_EQ(below.OnCommit(true), milliseconds(50));
  // A max that is not a power-of-two multiple of base is still reached exactly.
  AdaptiveBatchInterval odd(milliseconds(30), milliseconds(100));
  EXPECT_EQ(odd.OnCommit(true), milliseconds(60));
  EXPECT_EQ(odd.OnCommit(true), milliseconds(100));
}

TEST(CompactionScheduleTest, ChecksEveryNCommitsWhenNotBehind) {
  CompactionSchedule schedule(/*every=*/32, /*defer_limit=*/128);
  EXPECT_EQ(schedule.Decide(0, false), Decision::kWait);
  EXPECT_EQ(schedule.Decide(31, false), Decision::kWait);
  EXPECT_EQ(schedule.Decide(32, false), Decision::kCheck);
  schedule.Checked(32);
  EXPECT_EQ(schedule.Decide(63, false), Decision::kWait);
  EXPECT_EQ(schedule.Decide(64, false), Decision::kCheck);
}

TEST(CompactionScheduleTest, DefersWhileBehindUpToTheLimit) {
  CompactionSchedule schedule(32, 128);
  EXPECT_EQ(schedule.Decide(31, true), Decision::kWait);
  EXPECT_EQ(schedule.Decide(32, true), Decision::kDefer);
  EXPECT_EQ(schedule.Decide(127, true), Decision::kDefer);
  // Bounded: small files never pile up without limit under a long backlog.
  EXPECT_EQ(schedule.Decide(128, true), Decision::kCheck);
  schedule.Checked(128);
  EXPECT_EQ(schedule.Decide(200, true), Decision::kDefer);
  // Caught up: the deferred check runs at once.
  EXPECT_EQ(schedule.Decide(200, false), Decision::kCheck);
}

TEST(CompactionScheduleTest, LimitBelowEveryMeansNoDeferral) {
  CompactionSchedule schedule(32, 8);
  EXPECT_EQ(schedule.defer_limit(), 32);
  EXPECT_EQ(schedule.Decide(32, true), Decision::kCheck);
  CompactionSchedule zero(0, 0);
  EXPECT_EQ(zero.every(), 1);
  EXPECT_EQ(zero.Decide(1, true), Decision::kCheck);
}

}  // namespace
}  // namespace tributary::pipeline::internal
