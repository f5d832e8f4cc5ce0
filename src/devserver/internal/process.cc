#include "devserver/internal/process.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tributary::devserver::internal {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Writes all of `data` to `fd`, ignoring errors: only used in the forked child.
void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// In the forked child: report errno through the close-on-exec pipe and exit. Only
// async-signal-safe calls here (the parent may have threads).
[[noreturn]] void ChildFail(int pipe_fd, int stage, int err) {
  int payload[2] = {stage, err};
  WriteAll(pipe_fd, payload, sizeof(payload));
  _exit(127);
}

enum ChildStage : int { kStageSetup = 1, kStageCredentials = 2, kStageExec = 3 };

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return x.compare(0, name.size() + 1, name + "=") == 0;
    });
    if (!replaced) {
      env.push_back(std::move(entry));
    }
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

bool SearchableBy(const struct stat& st, const Account& account) {
  if (account.uid == 0) {
    return true;
  }
  if (st.st_uid == account.uid) {
    return (st.st_mode & S_IXUSR) != 0;
  }
  if (std::find(account.groups.begin(), account.groups.end(), st.st_gid) !=
      account.groups.end()) {
    return (st.st_mode & S_IXGRP) != 0;
  }
  return (st.st_mode & S_IXOTH) != 0;
}

}  // namespace

Result<Account> LookUpAccount(const std::string& name) {
  struct passwd pwd {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  int rc = getpwnam_r(name.c_str(), &pwd, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return MakeError(ErrorCode::kNotFound,
                     "system user '{}' does not exist (the server package creates it)",
                     name);
  }
  Account account;
  account.name = name;
  account.uid = pwd.pw_uid;
  account.gid = pwd.pw_gid;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (getgrouplist(name.c_str(), pwd.pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count) + 16);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<size_t>(count));
  account.groups = std::move(groups);
  return account;
}

Result<std::optional<Account>> ServerAccount(const std::string& run_as_user) {
  if (geteuid() != 0) {
    return std::optional<Account>();
  }
  TRIB_ASSIGN_OR_RETURN(Account account, LookUpAccount(run_as_user));
  return std::optional<Account>(std::move(account));
}

Result<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "Spawn needs a program to run");
  }
  const std::string& program = options.argv.front();
  if (access(program.c_str(), X_OK) != 0) {
    return MakeError(ErrorCode::kNotFound, "program '{}' is not an executable file: {}",
                     program, ErrnoText(errno));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls
  // follow.
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = MergedEnvironment(options.env);
  std::vector<char*> envp = CStrings(env_strings);
  std::string log_file =
      options.log_file.empty() ? "/dev/null" : options.log_file.string();
  std::string cwd = options.cwd.string();
  std::vector<gid_t> groups;
  if (options.account) {
    groups = options.account->groups;
  }

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kInternal, "pipe2 failed: {}", ErrnoText(errno));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return MakeError(ErrorCode::kInternal, "fork failed: {}", ErrnoText(err));
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    int fd = pipe_fds[1];
    setpgid(0, 0);
    // Restore default signal handling that exec would otherwise inherit as "ignored".
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) {
      ChildFail(fd, kStageSetup, errno);
    }
    int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (log_fd < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
        dup2(log_fd, STDERR_FILENO) < 0) {
      ChildFail(fd, kStageSetup, errno);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      ChildFail(fd, kStageSetup, errno);
    }
    if (options.account) {
      if (setgroups(groups.size(), groups.data()) != 0 ||
          setgid(options.account->gid) != 0 || setuid(options.account->uid) != 0) {
        ChildFail(fd, kStageCredentials, errno);
      }
    }
    // After the credential change: changing credentials clears the parent-death signal.
    if (options.parent_death_signal != 0) {
      if (prctl(PR_SET_PDEATHSIG, options.parent_death_signal) != 0) {
        ChildFail(fd, kStageSetup, errno);
      }
      if (getppid() != parent) {
        _exit(1);  // the parent died before prctl took effect
      }
    }
    execve(argv[0], argv.data(), envp.data());
    ChildFail(fd, kStageExec, errno);
  }
  close(pipe_fds[1]);
  int payload[2] = {0, 0};
  ssize_t got = 0;
  do {
    got = read(pipe_fds[0], payload, sizeof(payload));
  } while (got < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (got > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    const char* stage = payload[0] == kStageCredentials ? "switching user"
                        : payload[0] == kStageExec      ? "exec"
                                                        : "setting up stdio/cwd";
    return MakeError(ErrorCode::kInternal, "starting '{}' failed while {}: {}", program,
                     stage, ErrnoText(payload[1]));
  }
  return pid;
}

Result<int> WaitForChild(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    int status = 0;
    pid_t rc = waitpid(pid, &status, WNOHANG);
    if (rc == pid) {
      return status;
    }
    if (rc < 0 && errno != EINTR) {
      return MakeError(ErrorCode::kInternal, "waitpid({}) failed: {}", pid,
                       ErrnoText(errno));
    }
    if (Clock::now() >= deadline) {
      return MakeError(ErrorCode::kTimeout, "process {} still running after {} ms", pid,
                       timeout.count());
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

Result<int> RunToCompletion(const SpawnOptions& options,
                            std::chrono::milliseconds timeout) {
  TRIB_ASSIGN_OR_RETURN(pid_t pid, Spawn(options));
  auto waited = WaitForChild(pid, timeout);
  if (!waited.ok()) {
    kill(pid, SIGKILL);
    int ignored = 0;
    waitpid(pid, &ignored, 0);
    return std::move(waited).status().AddContext(
        fmt::format("running '{}'", options.argv.front()));
  }
  int status = *waited;
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 255;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) {
    return false;
  }
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  // kill() succeeds on zombies: look at the state in /proc.
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat_file, line)) {
    return false;
  }
  size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) {
    return true;
  }
  char state = line[close_paren + 2];
  return state != 'Z' && state != 'X';
}

bool ReapIfExited(pid_t pid) {
  int status = 0;
  pid_t rc = waitpid(pid, &status, WNOHANG);
  if (rc == pid) {
    return true;
  }
  if (rc < 0 && errno == ECHILD) {
    return !ProcessAlive(pid);
  }
  return false;
}

Status StopProcess(
    pid_t pid, const std::vector<std::pair<int, std::chrono::milliseconds>>& signals) {
  if (pid <= 0) {
    return OkStatus();
  }
  auto wait_gone = [pid](std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (true) {
      if (ReapIfExited(pid)) {
        return true;
      }
      if (Clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  };
  if (ReapIfExited(pid)) {
    return OkStatus();
  }
  for (const auto& [signal_number, timeout] : signals) {
    if (kill(pid, signal_number) != 0 && errno == ESRCH) {
      ReapIfExited(pid);
      return OkStatus();
    }
    if (wait_gone(timeout)) {
      return OkStatus();
    }
  }
  kill(pid, SIGKILL);
  if (wait_gone(std::chrono::seconds(10))) {
    return OkStatus();
  }
  return MakeError(ErrorCode::kInternal, "process {} survived SIGKILL for 10 s", pid);
}

std::string TailOfFile(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start =
      std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes));
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (start > 0) {
    size_t newline = text.find('\n');
    if (newline != std::string::npos) {
      text.erase(0, newline + 1);
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

Result<pid_t> ReadPidFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "pid file {} does not exist", path.string());
  }
  std::string line;
  std::getline(in, line);
  try {
    size_t used = 0;
    long pid = std::stol(line, &used);
    if (pid > 0 && pid <= 0x3fffffff) {
      return static_cast<pid_t>(pid);
    }
  } catch (const std::exception&) {
    // fall through to the error below
  }
  return MakeError(ErrorCode::kCorruption, "pid file {} does not start with a pid",
                   path.string());
}

Status EnsureReachable(const std::filesystem::path& dir,
                       const std::optional<Account>& account,
                       bool fix) {
  if (!account) {
    return OkStatus();
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot resolve {}: {}", dir.string(), ec.message());
  }
  for (std::filesystem::path p = absolute.parent_path(); !p.empty();
       p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) {
      return MakeError(ErrorCode::kIo, "cannot stat {}: {}", p.string(),
                       ErrnoText(errno));
    }
    if (!SearchableBy(st, *account)) {
      if (fix && st.st_uid == geteuid()) {
        if (chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH) != 0) {
          return MakeError(ErrorCode::kIo, "cannot chmod o+x {}: {}", p.string(),
                           ErrnoText(errno));
        }
      } else {
        return MakeError(
            ErrorCode::kInvalidArgument,
            "the server runs as system user '{}', which cannot reach {}: {} is "
            "not searchable by it (chmod o+x {} or choose a work dir under /tmp)",
            account->name, dir.string(), p.string(), p.string());
      }
    }
    if (p == p.root_path()) {
      break;
    }
  }
  return OkStatus();
}

Status MakeOwnedDir(const std::filesystem::path& dir,
                    const std::optional<Account>& account,
                    unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot create directory {}: {}", dir.string(),
                     ec.message());
  }
  if (chmod(dir.c_str(), static_cast<mode_t>(mode)) != 0) {
    return MakeError(ErrorCode::kIo, "cannot chmod {}: {}", dir.string(),
                     ErrnoText(errno));
  }
  if (account && chown(dir.c_str(), account->uid, account->gid) != 0) {
    return MakeError(ErrorCode::kIo, "cannot hand {} to user '{}': {}", dir.string(),
                     account->name, ErrnoText(errno));
  }
  return OkStatus();
}

Status WriteOwnedFile(const std::filesystem::path& path,
                      const std::string& contents,
                      const std::optional<Account>& account,
                      unsigned mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                static_cast<mode_t>(mode));
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot write {}: {}", path.string(),
                     ErrnoText(errno));
  }
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      close(fd);
      return MakeError(ErrorCode::kIo, "cannot write {}: {}", path.string(),
                       ErrnoText(err));
    }
    written += static_cast<size_t>(n);
  }
  bool ok = fchmod(fd, static_cast<mode_t>(mode)) == 0 &&
            (!account || fchown(fd, account->uid, account->gid) == 0);
  int err = errno;
  close(fd);
  if (!ok) {
    return MakeError(ErrorCode::kIo, "cannot set owner/mode of {}: {}", path.string(),
                     ErrnoText(err));
  }
  return OkStatus();
}

Status ChownRecursive(const std::filesystem::path& path,
                      const std::optional<Account>& account) {
  if (!account) {
    return OkStatus();
  }
  if (lchown(path.c_str(), account->uid, account->gid) != 0) {
    return MakeError(ErrorCode::kIo, "cannot hand {} to user '{}': {}", path.string(),
                     account->name, ErrnoText(errno));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(path, ec))) {
    return OkStatus();
  }
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (lchown(it->path().c_str(), account->uid, account->gid) != 0) {
      return MakeError(ErrorCode::kIo, "cannot hand {} to user '{}': {}",
                       it->path().string(), account->name, ErrnoText(errno));
    }
  }
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot walk {}: {}", path.string(), ec.message());
  }
  return OkStatus();
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "cannot open {}", path.string());
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    return MakeError(ErrorCode::kIo, "cannot read {}", path.string());
  }
  return out.str();
}

std::uintmax_t FileSizeOrZero(const std::filesystem::path& path) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

std::string FileTextSince(const std::filesystem::path& path, std::uintmax_t offset) {
  auto text = ReadFile(path);
  if (!text.ok() || text->size() < offset) {
    return "";
  }
  return text->substr(static_cast<size_t>(offset));
}

Status FindServerBinaries(std::initializer_list<std::filesystem::path> binaries,
                          std::string_view product,
                          std::string_view debian_package) {
  for (const std::filesystem::path& binary : binaries) {
    if (access(binary.c_str(), X_OK) != 0) {
      return MakeError(ErrorCode::kNotFound,
                       "{} server binary {} not found (install the Debian package {})",
                       product, binary.string(), debian_package);
    }
  }
  return OkStatus();
}

Status ValidateSettingNames(
    const std::vector<std::pair<std::string, std::string>>& settings,
    std::string_view product,
    std::string_view also_forbidden) {
  for (const auto& [name, value] : settings) {
    if (name.empty() || name.find_first_of(" \t\n=#") != std::string::npos ||
        name.find_first_of(also_forbidden) != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "extra {} setting name '{}' is not a setting name", product, name);
    }
  }
  return OkStatus();
}

Result<std::filesystem::path> AbsoluteWorkDir(const std::filesystem::path& work_dir,
                                              std::string_view product) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(work_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot resolve {} work dir {}: {}",
                     product, work_dir.string(), ec.message());
  }
  return absolute;
}

void ShutDownForDestructor(pid_t pid,
                           const std::function<Status()>& stop,
                           const std::filesystem::path& work_dir,
                           bool remove_work_dir) {
  if (pid > 0 && !stop().ok()) {
    kill(pid, SIGKILL);
  }
  if (remove_work_dir) {
    std::error_code ec;
    std::filesystem::remove_all(work_dir, ec);
  }
}

}  // namespace tributary::devserver::internal
