#include "testing/run_binary.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

extern char** environ;

namespace tributary::testing {

namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits for `pid` until `deadline` (none when `deadline` is max()); true when it exited.
bool WaitUntil(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return true;
    }
    if (done < 0 && errno != EINTR) {
      ADD_FAILURE() << "waitpid(" << pid << "): " << std::strerror(errno);
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

RunResult RunBinary(const std::string& binary, const std::vector<std::string>& args,
                    const RunOptions& options) {
  TempDir io("trib-run-io");
  const std::string out_path = (io.path() / "out").string();
  const std::string err_path = (io.path() / "err").string();
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string cwd = options.cwd.string();
  if (!cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  }
  pid_t pid = 0;
  RunResult result;
  const int spawn_error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(spawn_error);
    return result;
  }
  const auto deadline = options.timeout.count() > 0
                            ? std::chrono::steady_clock::now() + options.timeout
                            : std::chrono::steady_clock::time_point::max();
  int status = 0;
  if (!WaitUntil(pid, deadline, status)) {
    // SIGINT first, so that the child can stop what it started (servers, by pid).
    result.timed_out = true;
    kill(pid, SIGINT);
    if (!WaitUntil(pid, std::chrono::steady_clock::now() + options.interrupt_grace,
                   status)) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    ADD_FAILURE() << binary << " did not finish within " << options.timeout.count()
                  << " s";
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  return result;
}

RunResult RunTributary(const std::vector<std::string>& args, const RunOptions& options) {
  return RunBinary(TRIB_BINARY_PATH, args, options);
}

}  // namespace tributary::testing
