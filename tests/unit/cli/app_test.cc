#include "cli/app.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/command.h"

namespace tributary::cli {
namespace {

using ::testing::HasSubstr;

struct Output {
  int exit_code;
  std::string out;
  std::string err;
};

Output RunArgs(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int exit_code = RunCli(args, out, err);
  return {exit_code, out.str(), err.str()};
}

TEST(RunCliTest, VersionAndHelpSucceed) {
  Output version = RunArgs({"--version"});
  EXPECT_EQ(version.exit_code, kExitOk);
  EXPECT_EQ(version.out, "tributary 0.1.0\n");
  Output help = RunArgs({"--help"});
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("Subcommands:"));
}

TEST(RunCliTest, SubcommandOptionShadowsGlobalVersionFlag) {
  // `scan --version N` is the table version, not the program's.
  Output help = RunArgs({"scan", "--help"});
  EXPECT_THAT(help.out, HasSubstr("--version INT"));
  Output output = RunArgs({"scan", "/nonexistent/trib-app-test", "--version", "3"});
  EXPECT_NE(output.out, "tributary 0.1.0\n");
  EXPECT_NE(output.exit_code, kExitOk);
}

TEST(RunCliTest, GlobalOptionsAfterTheSubcommand) {
  Output output = RunArgs({"history", "--help", "-vv", "--log-level", "warn"});
  EXPECT_EQ(output.exit_code, kExitOk) << output.err;
  Output bad = RunArgs({"history", "x", "--log-level", "loud"});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("tributary: error: "));
  EXPECT_THAT(bad.err, HasSubstr("loud"));
}

TEST(RunCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunArgs({}).exit_code, kExitUsage);
  EXPECT_EQ(RunArgs({"nope"}).exit_code, kExitUsage);
  EXPECT_EQ(RunArgs({"scan"}).exit_code, kExitUsage);
  EXPECT_EQ(RunArgs({"vacuum", "t", "--retain", "-5"}).exit_code, kExitUsage);
  EXPECT_EQ(RunArgs({"capture", "-c", "x.toml", "--sink", "file"}).exit_code, kExitUsage);
  EXPECT_EQ(RunArgs({"load", "--dataset", "retail", "--csv", "d", "--into", "x"}).exit_code,
            kExitUsage);
  EXPECT_EQ(RunArgs({"serve", "-c", "a.toml", "--lake", "l"}).exit_code, kExitUsage);
  Output no_source = RunArgs({"load", "--into", "host=x"});
  EXPECT_EQ(no_source.exit_code, kExitUsage);
  EXPECT_THAT(no_source.err, HasSubstr("--dataset"));
}

TEST(RunCliTest, ResolveLoggingFlagsOverConfig) {
  std::ostringstream out;
  std::ostringstream err;
  CommandContext context(out, err);
  LogConfig config_log;
  config_log.options.level = LogLevel::kWarn;
  config_log.options.format = LogFormat::kJson;
  config_log.level_set = true;
  EXPECT_EQ(context.ResolveLogging(nullptr).level, LogLevel::kInfo);
  EXPECT_EQ(context.ResolveLogging(&config_log).level, LogLevel::kWarn);
  EXPECT_EQ(context.ResolveLogging(&config_log).format, LogFormat::kJson);
  context.global().verbosity = 1;
  EXPECT_EQ(context.ResolveLogging(&config_log).level, LogLevel::kDebug);
  context.global().verbosity = 3;
  EXPECT_EQ(context.ResolveLogging(&config_log).level, LogLevel::kTrace);
  context.global().log_level = "error";
  EXPECT_EQ(context.ResolveLogging(&config_log).level, LogLevel::kError);
  context.global().log_format = "text";
  EXPECT_EQ(context.ResolveLogging(&config_log).format, LogFormat::kText);
}

TEST(RunCliTest, ReportHelpersPrintOneLine) {
  std::ostringstream out;
  std::ostringstream err;
  CommandContext context(out, err);
  EXPECT_EQ(context.NotImplemented("frob"), kExitUsage);
  EXPECT_EQ(err.str(), "tributary frob: not implemented yet\n");
  err.str("");
  Error error = MakeError(ErrorCode::kNotFound, "table '{}' has no _delta_log", "t");
  error.AddContext("scanning t");
  EXPECT_EQ(context.ReportError(error), kExitFailure);
  EXPECT_EQ(err.str(), "tributary: error: scanning t: table 't' has no _delta_log\n");
}

}  // namespace
}  // namespace tributary::cli
