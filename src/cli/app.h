#pragma once

#include <iosfwd>
#include <string>
#include <vector>

/// The command-line entry point, as a library function so tests can drive it.
namespace tributary::cli {

/// Parses `args` (without the program name), sets up logging and runs the selected
/// subcommand, writing to `out` and `err`. Returns the process exit code: kExitOk,
/// kExitFailure, or kExitUsage for a bad command line (after printing
/// `tributary: error: ...`) and for commands not implemented yet. `--help` and
/// `--version` print to `out` and return kExitOk. Exceptions thrown by a command
/// propagate (main() catches them).
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tributary::cli
