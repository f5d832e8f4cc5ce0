#include "pipeline/internal/load_pacing.h"

#include <algorithm>

namespace tributary::pipeline::internal {

AdaptiveBatchInterval::AdaptiveBatchInterval(std::chrono::milliseconds base,
                                             std::chrono::milliseconds max)
    : base_(std::max(base, std::chrono::milliseconds(1))),
      max_(std::max(max, base_)),
      current_(base_) {}

std::chrono::milliseconds AdaptiveBatchInterval::OnCommit(bool input_waiting) {
  const bool behind = input_waiting && !idle_;
  idle_ = false;
  current_ = behind ? std::min(current_ * 2, max_) : base_;
  return current_;
}

CompactionSchedule::CompactionSchedule(int64_t every, int64_t defer_limit)
    : every_(std::max<int64_t>(1, every)), defer_limit_(std::max(defer_limit, every_)) {}

CompactionSchedule::Decision CompactionSchedule::Decide(int64_t commits,
                                                        bool behind) const {
  const int64_t since = commits - checked_at_;
  if (since < every_) {
    return Decision::kWait;
  }
  if (behind && since < defer_limit_) {
    return Decision::kDefer;
  }
  return Decision::kCheck;
}

}  // namespace tributary::pipeline::internal
