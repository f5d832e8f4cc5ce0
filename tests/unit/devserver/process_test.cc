#include "devserver/internal/process.h"

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devserver/port.h"
#include "testing/temp_dir.h"

namespace tributary::devserver::internal {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(PortTest, PicksABindableLoopbackPort) {
  auto port = PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_GT(*port, 0);
  EXPECT_TRUE(LoopbackPortIsFree(*port));
}

TEST(PortTest, APortInUseIsNotFree) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  EXPECT_FALSE(LoopbackPortIsFree(ntohs(address.sin_port)));
  close(fd);
}

TEST(ProcessTest, RunsToCompletionWithExitCodeAndLog) {
  testing::TempDir dir;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  options.log_file = dir.path() / "log";
  auto code = RunToCompletion(options, std::chrono::seconds(10));
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(TailOfFile(options.log_file), "out\nerr");
}

TEST(ProcessTest, PassesEnvironmentAndWorkingDirectory) {
  testing::TempDir dir;
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo \"$TRIB_PROBE $(pwd)\""};
  options.env = {"TRIB_PROBE=hello"};
  options.cwd = dir.path();
  options.log_file = dir.path() / "log";
  ASSERT_EQ(*RunToCompletion(options, std::chrono::seconds(10)), 0);
  EXPECT_EQ(TailOfFile(options.log_file), "hello " + dir.path().string());
}

TEST(ProcessTest, MissingProgramIsNotFound) {
  SpawnOptions options;
  options.argv = {"/nonexistent/program"};
  auto pid = Spawn(options);
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(pid.status().message(), HasSubstr("/nonexistent/program"));
}

TEST(ProcessTest, TimeoutKillsTheChild) {
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  auto code = RunToCompletion(options, milliseconds(100));
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), ErrorCode::kTimeout);
}

TEST(ProcessTest, StopProcessUsesTheFirstSignal) {
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  auto pid = Spawn(options);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  EXPECT_TRUE(ProcessAlive(*pid));
  ASSERT_TRUE(StopProcess(*pid, {{SIGTERM, std::chrono::seconds(10)}}).ok());
  EXPECT_FALSE(ProcessAlive(*pid));
  EXPECT_TRUE(kill(*pid, 0) != 0 && errno == ESRCH) << "not reaped";
}

TEST(ProcessTest, StopProcessEscalatesToSigkill) {
  testing::TempDir dir;
  SpawnOptions options;
  // The trap makes SIGTERM useless, so only SIGKILL ends it.
  options.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do :; done"};
  options.log_file = dir.path() / "log";
  auto pid = Spawn(options);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  for (int attempt = 0; attempt < 200 && TailOfFile(options.log_file) != "ready";
       ++attempt) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(StopProcess(*pid, {{SIGTERM, milliseconds(200)}}).ok());
  EXPECT_FALSE(ProcessAlive(*pid));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(200));
}

// The mechanism that keeps an aborted test from leaking servers.
TEST(ProcessTest, ParentDeathSignalFiresWhenTheSpawningThreadExits) {
  pid_t child = 0;
  std::thread spawner([&child] {
    SpawnOptions options;
    options.argv = {"/bin/sleep", "30"};
    options.parent_death_signal = SIGKILL;
    auto pid = Spawn(options);
    child = pid.ok() ? *pid : 0;
  });
  spawner.join();
  ASSERT_GT(child, 0);
  auto status = WaitForChild(child, std::chrono::seconds(10));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
}

TEST(ProcessTest, ReadsPidFiles) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "good.pid") << "12345\n/var/lib/data\n";
  std::ofstream(dir.path() / "bad.pid") << "not a pid\n";
  auto good = ReadPidFile(dir.path() / "good.pid");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(*good, 12345);
  EXPECT_EQ(ReadPidFile(dir.path() / "bad.pid").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ReadPidFile(dir.path() / "missing.pid").status().code(),
            ErrorCode::kNotFound);
}

TEST(ProcessTest, TailOfFileKeepsWholeLines) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "log") << "first line\nsecond line\nthird\n";
  EXPECT_EQ(TailOfFile(dir.path() / "log", 12), "third");
  EXPECT_EQ(TailOfFile(dir.path() / "log"), "first line\nsecond line\nthird");
  EXPECT_EQ(TailOfFile(dir.path() / "missing"), "");
}

TEST(ProcessTest, UnreachableWorkDirNamesTheBlockingDirectory) {
  auto account = LookUpAccount("nobody");
  if (!account.ok() || geteuid() != 0) {
    GTEST_SKIP() << "needs root and the 'nobody' account";
  }
  testing::TempDir dir;
  std::filesystem::path work = dir.path() / "inner" / "work";
  std::filesystem::create_directories(work);
  chmod(dir.path().c_str(), 0700);
  Status blocked = EnsureReachable(work, *account, false);
  ASSERT_FALSE(blocked.ok());
  EXPECT_THAT(blocked.status().message(),
              HasSubstr(dir.path().string() + " is not searchable"));
  EXPECT_TRUE(EnsureReachable(work, *account, true).ok());
  struct stat st {};
  ASSERT_EQ(stat(dir.path().c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IXOTH, 0u);
}

TEST(ProcessTest, UnknownAccountIsNotFound) {
  auto account = LookUpAccount("no-such-user-trib");
  ASSERT_FALSE(account.ok());
  EXPECT_EQ(account.status().code(), ErrorCode::kNotFound);
}

TEST(ProcessTest, FileTextSinceReturnsOnlyWhatWasAppended) {
  testing::TempDir dir;
  const auto log = dir.path() / "server.log";
  EXPECT_EQ(FileSizeOrZero(log), 0u);
  std::ofstream(log) << "old start\n";
  const std::uintmax_t offset = FileSizeOrZero(log);
  EXPECT_EQ(offset, 10u);
  std::ofstream(log, std::ios::app) << "port taken\n";
  EXPECT_EQ(FileTextSince(log, offset), "port taken\n");
  // A log truncated since the offset was taken yields nothing rather than garbage.
  std::ofstream(log) << "x";
  EXPECT_EQ(FileTextSince(log, offset), "");
}

TEST(ProcessTest, MissingServerBinaryNamesItAndThePackage) {
  testing::TempDir dir;
  const auto present = dir.path() / "present";
  std::ofstream(present) << "#!/bin/sh\n";
  ASSERT_EQ(chmod(present.c_str(), 0755), 0);
  EXPECT_TRUE(FindServerBinaries({present}, "PostgreSQL", "postgresql-15").ok());
  Status missing =
      FindServerBinaries({present, dir.path() / "initdb"}, "PostgreSQL", "postgresql-15");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr((dir.path() / "initdb").string()));
  EXPECT_THAT(missing.status().message(), HasSubstr("postgresql-15"));
}

TEST(ProcessTest, SettingNamesRejectSeparatorsAndQuotes) {
  using Settings = std::vector<std::pair<std::string, std::string>>;
  EXPECT_TRUE(
      ValidateSettingNames(Settings{{"work_mem", "64MB"}}, "PostgreSQL", "'").ok());
  for (const char* bad : {"", "a b", "a=b", "a#b", "a'b"}) {
    Status status = ValidateSettingNames(Settings{{bad, "1"}}, "PostgreSQL", "'");
    ASSERT_FALSE(status.ok()) << "'" << bad << "'";
    EXPECT_EQ(status.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(status.status().message(), HasSubstr("PostgreSQL"));
  }
  EXPECT_FALSE(ValidateSettingNames(Settings{{"a\"b", "1"}}, "MariaDB", "'\"").ok());
  EXPECT_TRUE(ValidateSettingNames(Settings{{"a\"b", "1"}}, "PostgreSQL", "'").ok());
}

TEST(ProcessTest, DestructorShutdownStopsOnlyARunningServerAndRemovesTheDir) {
  testing::TempDir dir;
  const auto work_dir = dir.path() / "work";
  std::filesystem::create_directories(work_dir / "data");
  int stops = 0;
  ShutDownForDestructor(
      0,
      [&] {
        ++stops;
        return OkStatus();
      },
      work_dir, false);
  EXPECT_EQ(stops, 0);
  EXPECT_TRUE(std::filesystem::exists(work_dir));
  SpawnOptions sleeper;
  sleeper.argv = {"/bin/sleep", "30"};
  auto child = Spawn(sleeper);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  // A failing stop escalates to SIGKILL on the pid.
  ShutDownForDestructor(
      *child,
      [&] {
        ++stops;
        return MakeError(ErrorCode::kTimeout, "stuck");
      },
      work_dir, true);
  EXPECT_EQ(stops, 1);
  auto status = WaitForChild(*child, milliseconds(10000));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  EXPECT_FALSE(std::filesystem::exists(work_dir));
}

}  // namespace
}  // namespace tributary::devserver::internal
