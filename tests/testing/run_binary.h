#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace tributary::testing {

/// What a finished child process left: its exit code (128 + signal when killed by one)
/// and everything it wrote to stdout and stderr.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  /// True when the run was stopped because it exceeded RunOptions::timeout.
  bool timed_out = false;
};

struct RunOptions {
  /// Working directory of the child; empty: the test's own.
  std::filesystem::path cwd;
  /// Stop the child after this long: SIGINT first, SIGKILL `interrupt_grace` later.
  /// Zero: wait as long as it runs.
  std::chrono::seconds timeout{0};
  std::chrono::seconds interrupt_grace{30};
};

/// Runs `binary` with `args` the way a user's shell would in a script: stdin from
/// /dev/null, stdout and stderr captured through files (no pipe can fill up and block the
/// child), the test's environment. A failure to start it is reported with ADD_FAILURE and
/// returns exit_code -1; so is a timeout (timed_out set, output kept).
RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    const RunOptions& options = {});

/// RunBinary of the tributary binary built with the tests (TRIB_BINARY_PATH).
RunResult RunTributary(const std::vector<std::string>& args, const RunOptions& options = {});

}  // namespace tributary::testing
