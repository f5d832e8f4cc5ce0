#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/command.h"

// The only place exceptions may end: anything a command or library throws past its own
// boundary is a bug, reported as one line with exit code 1.
int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return tributary::cli::RunCli(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tributary: error: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "tributary: error: internal error: unknown exception\n");
  }
  return tributary::cli::kExitFailure;
}
