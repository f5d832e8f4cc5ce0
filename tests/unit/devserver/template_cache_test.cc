#include "devserver/internal/template_cache.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testing/temp_dir.h"

namespace tributary::devserver::internal {
namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TemplateCacheTest, BuildsOnceAndCopiesAfterwards) {
  testing::TempDir dir;
  const std::filesystem::path cache = dir.path() / "cache";
  int builds = 0;
  DataDirBuilder build = [&builds](const std::filesystem::path& target) -> Status {
    ++builds;
    std::filesystem::create_directories(target / "sub");
    std::ofstream(target / "sub" / "file") << "content " << builds;
    return OkStatus();
  };
  ASSERT_TRUE(
      MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "a").ok());
  ASSERT_TRUE(
      MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "b").ok());
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(Slurp(dir.path() / "a" / "sub" / "file"), "content 1");
  EXPECT_EQ(Slurp(dir.path() / "b" / "sub" / "file"), "content 1");
  struct stat st {};
  ASSERT_EQ(stat((dir.path() / "b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Another key builds its own template.
  ASSERT_TRUE(
      MaterializeDataDir(cache, "other", std::nullopt, build, dir.path() / "c").ok());
  EXPECT_EQ(builds, 2);
}

TEST(TemplateCacheTest, AFailedBuildLeavesNoTemplate) {
  testing::TempDir dir;
  const std::filesystem::path cache = dir.path() / "cache";
  bool fail = true;
  int builds = 0;
  DataDirBuilder build = [&](const std::filesystem::path& target) -> Status {
    ++builds;
    std::filesystem::create_directories(target);
    if (fail) {
      return MakeError(ErrorCode::kInternal, "initdb broke");
    }
    return OkStatus();
  };
  Status failed = MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "a");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().ToString().find("initdb broke"), std::string::npos);
  fail = false;
  ASSERT_TRUE(
      MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "b").ok());
  EXPECT_EQ(builds, 2);
}

TEST(TemplateCacheTest, NoOrUntrustedCacheDirBuildsEveryTime) {
  testing::TempDir dir;
  int builds = 0;
  DataDirBuilder build = [&builds](const std::filesystem::path& target) -> Status {
    ++builds;
    std::filesystem::create_directories(target);
    return OkStatus();
  };
  ASSERT_TRUE(MaterializeDataDir("", "key", std::nullopt, build, dir.path() / "a").ok());
  ASSERT_TRUE(MaterializeDataDir("", "key", std::nullopt, build, dir.path() / "b").ok());
  EXPECT_EQ(builds, 2);

  if (geteuid() != 0) {
    GTEST_SKIP() << "handing a dir to another user needs root";
  }
  // A cache dir owned by someone else could hold a planted template: never used.
  const std::filesystem::path cache = dir.path() / "foreign";
  std::filesystem::create_directories(cache);
  ASSERT_EQ(chown(cache.c_str(), 65534, 65534), 0);
  ASSERT_TRUE(
      MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "c").ok());
  ASSERT_TRUE(
      MaterializeDataDir(cache, "key", std::nullopt, build, dir.path() / "d").ok());
  EXPECT_EQ(builds, 4);
  EXPECT_FALSE(std::filesystem::exists(cache / "key.complete"));
}

TEST(TemplateCacheTest, KeysChangeWithInputs) {
  EXPECT_NE(TemplateKey("pg", {"postgres"}, {"/bin/sh"}),
            TemplateKey("pg", {"admin"}, {"/bin/sh"}));
  EXPECT_EQ(TemplateKey("pg", {"postgres"}, {"/bin/sh"}),
            TemplateKey("pg", {"postgres"}, {"/bin/sh"}));
  EXPECT_EQ(TemplateKey("pg", {}, {}).rfind("pg-", 0), 0u);
}

}  // namespace
}  // namespace tributary::devserver::internal
