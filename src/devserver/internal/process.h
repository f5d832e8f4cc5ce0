#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace tributary::devserver::internal {

/// A system account a server runs as when we are root (PostgreSQL and MariaDB refuse
/// root).
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups, including gid
};

/// Looks up `name` in the passwd database.
/// Errors: kNotFound when the account does not exist.
Result<Account> LookUpAccount(const std::string& name);

/// The account a server must run as: `run_as_user` when the effective uid is 0, otherwise
/// none (the server runs as ourselves). Errors: kNotFound as LookUpAccount.
Result<std::optional<Account>> ServerAccount(const std::string& run_as_user);

/// How to start a child process.
struct SpawnOptions {
  /// argv[0] is the program path (no PATH search).
  std::vector<std::string> argv;
  /// Switch to this account (setgroups/setgid/setuid) before exec. Requires root.
  std::optional<Account> account;
  /// stdout and stderr are appended here (created mode 0640). Empty: /dev/null.
  std::filesystem::path log_file;
  /// Working directory of the child. Empty: inherit.
  std::filesystem::path cwd;
  /// Extra "NAME=value" entries added to (or replacing in) the inherited environment.
  std::vector<std::string> env;
  /// Signal the child receives when the thread that spawned it dies (PR_SET_PDEATHSIG),
  /// so an aborted test does not leak servers. 0: none. Linux delivers it when the
  /// spawning *thread* exits, so spawn long-lived children from a long-lived thread.
  int parent_death_signal = 0;
};

/// Forks and execs `options.argv`; returns the child's pid once exec succeeded.
/// The child gets its own process group. Errors: kNotFound when the program does not
/// exist, kInternal for other fork/exec failures (the errno text is in the message).
Result<pid_t> Spawn(const SpawnOptions& options);

/// Waits up to `timeout` for our child `pid` to exit and returns its wait status.
/// Errors: kTimeout when it is still running (it is left running).
Result<int> WaitForChild(pid_t pid, std::chrono::milliseconds timeout);

/// Runs a program to completion (Spawn + WaitForChild). Returns the exit code; a child
/// killed by a signal gives 128 + signal. Errors: as Spawn; kTimeout kills the child with
/// SIGKILL first.
Result<int> RunToCompletion(const SpawnOptions& options,
                            std::chrono::milliseconds timeout);

/// Whether process `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);

/// Reaps `pid` if it is our exited child. Returns true when it has exited (or is not ours
/// and no longer alive).
bool ReapIfExited(pid_t pid);

/// Stops `pid`: sends each signal of `signals` in turn, waiting up to the paired timeout
/// for the process to exit, and finally SIGKILL. Works for our children (reaped) and for
/// other processes (polled through kill(pid, 0)). Returns once the process is gone.
/// Errors: kInternal when even SIGKILL did not end it within 10 s.
Status StopProcess(pid_t pid,
                   const std::vector<std::pair<int, std::chrono::milliseconds>>& signals);

/// The last `max_bytes` of a text file ("" when unreadable), for error messages.
std::string TailOfFile(const std::filesystem::path& path, size_t max_bytes = 2000);

/// Reads the pid on the first line of a pid file (postmaster.pid, mariadbd.pid).
/// Errors: kNotFound when the file is missing, kCorruption when it holds no pid.
Result<pid_t> ReadPidFile(const std::filesystem::path& path);

/// Makes sure `account` can reach `dir`: every ancestor must be searchable by it. When
/// `fix` is true, ancestors owned by us that block it get o+x added; otherwise the error
/// names the blocking directory. No-op without an account.
/// Errors: kInvalidArgument naming the directory that blocks access.
Status EnsureReachable(const std::filesystem::path& dir,
                       const std::optional<Account>& account,
                       bool fix);

/// Creates `dir` (and parents) with `mode` and, with an account, hands it to that
/// account. Errors: kIo naming the directory.
Status MakeOwnedDir(const std::filesystem::path& dir,
                    const std::optional<Account>& account,
                    unsigned mode);

/// Writes `contents` to `path` (replacing it) with `mode`, owned by `account` if given.
/// Errors: kIo naming the file.
Status WriteOwnedFile(const std::filesystem::path& path,
                      const std::string& contents,
                      const std::optional<Account>& account,
                      unsigned mode);

/// Recursively hands `path` to `account` (no-op without one). Errors: kIo.
Status ChownRecursive(const std::filesystem::path& path,
                      const std::optional<Account>& account);

/// Reads a whole file. Errors: kNotFound, kIo.
Result<std::string> ReadFile(const std::filesystem::path& path);

/// The size of `path` in bytes, 0 when it does not exist (a log not yet written).
std::uintmax_t FileSizeOrZero(const std::filesystem::path& path);

/// What a log file gained after byte `offset` ("" when unreadable or truncated since).
std::string FileTextSince(const std::filesystem::path& path, std::uintmax_t offset);

// Pieces of the server lifecycle PostgresServer and MariaDbServer share.

/// Checks that every path in `binaries` is executable. `product` and `debian_package`
/// name the server in the error. Errors: kNotFound naming the first missing binary and
/// the package to install.
Status FindServerBinaries(std::initializer_list<std::filesystem::path> binaries,
                          std::string_view product,
                          std::string_view debian_package);

/// Checks the names of extra config settings: non-empty and free of whitespace, '=',
/// '#' and every character in `also_forbidden`. Errors: kInvalidArgument naming the
/// setting.
Status ValidateSettingNames(
    const std::vector<std::pair<std::string, std::string>>& settings,
    std::string_view product,
    std::string_view also_forbidden);

/// `work_dir` made absolute. Errors: kInvalidArgument naming the product.
Result<std::filesystem::path> AbsoluteWorkDir(const std::filesystem::path& work_dir,
                                              std::string_view product);

/// A server destructor's job: when `pid` runs, `stop()` it, and SIGKILL it if that
/// fails; then remove `work_dir` when `remove_work_dir`. Never throws.
void ShutDownForDestructor(pid_t pid,
                           const std::function<Status()>& stop,
                           const std::filesystem::path& work_dir,
                           bool remove_work_dir);

}  // namespace tributary::devserver::internal
