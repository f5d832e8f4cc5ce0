// TimestampTzText's direct formatting (years 0..9999) against core's date and time
// formatting, which it replaced on silver's per-row path (issue #5).

#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/value.h"
#include "pipeline/types.h"

namespace tributary::pipeline {
namespace {

std::string Reference(int64_t micros) {
  int64_t days = micros >= 0
                     ? micros / core::kMicrosPerDay
                     : -((-micros + core::kMicrosPerDay - 1) / core::kMicrosPerDay);
  int64_t rest = micros - days * core::kMicrosPerDay;
  return fmt::format("{} {}+00", core::FormatDate(static_cast<int32_t>(days)),
                     core::FormatTime(rest));
}

TEST(SilverTypesTest, TimestampTzTextMatchesCoreFormatting) {
  EXPECT_EQ(TimestampTzText(0), "1970-01-01 00:00:00+00");
  EXPECT_EQ(TimestampTzText(1'700'000'000'123'400), "2023-11-14 22:13:20.1234+00");
  EXPECT_EQ(TimestampTzText(-1), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(TimestampTzText(951'782'400'000'000), "2000-02-29 00:00:00+00");
  // Every day boundary and odd fractions over several centuries, both signs, and the
  // years outside 0..9999 that take the fallback.
  const int64_t step = 7 * core::kMicrosPerDay + 3'600'000'001 + 17;
  for (int64_t micros = -70'000'000'000'000'000; micros < 260'000'000'000'000'000;
       micros += step * 997) {
    ASSERT_EQ(TimestampTzText(micros), Reference(micros)) << micros;
    ASSERT_EQ(TimestampTzText(micros + 500'000), Reference(micros + 500'000)) << micros;
  }
}

}  // namespace
}  // namespace tributary::pipeline
