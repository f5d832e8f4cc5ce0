#include "core/logging.h"

#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "testing/temp_dir.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

TEST(LoggingTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("trace"), LogLevel::kTrace);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("off"), LogLevel::kOff);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(LogFormatName(LogFormat::kJson), "json");
}

TEST(LoggingTest, JsonLinesAreValidJsonAndRedacted) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.jsonl";
  ASSERT_TRUE(SetupLogging({LogLevel::kDebug, LogFormat::kJson, file.string()}).ok());
  spdlog::debug("connecting to {} \"quoted\"\tand tab",
                "postgres://app:hunter2@db/appdb");
  spdlog::trace("dropped below the level");
  spdlog::default_logger()->flush();
  const std::string text = ReadFile(file);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("dropped")));
  const auto line = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(line["level"], "debug");
  EXPECT_EQ(line["logger"], "tributary");
  EXPECT_EQ(line["msg"], "connecting to postgres://app:***@db/appdb \"quoted\"\tand tab");
  EXPECT_THAT(line["ts"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"));
  ASSERT_TRUE(SetupLogging({}).ok());
}

TEST(LoggingTest, TextLinesAreRedacted) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.txt";
  ASSERT_TRUE(SetupLogging({LogLevel::kInfo, LogFormat::kText, file.string()}).ok());
  spdlog::info("dsn host=db password=hunter2 user=app");
  spdlog::default_logger()->flush();
  const std::string text = ReadFile(file);
  EXPECT_THAT(text, HasSubstr("info"));
  EXPECT_THAT(text, HasSubstr("dsn host=db password=*** user=app"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hunter2")));
  ASSERT_TRUE(SetupLogging({}).ok());
}

TEST(LoggingTest, UnwritableLogFileIsAnError) {
  auto status =
      SetupLogging({LogLevel::kInfo, LogFormat::kText, "/proc/no/such/dir/log"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kIo);
  EXPECT_THAT(status.error().ToString(), HasSubstr("/proc/no/such/dir/log"));
}

}  // namespace
}  // namespace tributary
