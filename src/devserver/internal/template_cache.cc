#include "devserver/internal/template_cache.h"

#include <cerrno>
#include <functional>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tributary::devserver::internal {
namespace {

// A cache dir a different local user could have prepared must not feed our servers.
bool Trustworthy(const std::filesystem::path& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return false;
  }
  return st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) {
      while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) {
      close(fd_);  // releases the lock
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace

std::string TemplateKey(const std::string& prefix,
                        const std::vector<std::string>& parts,
                        const std::vector<std::filesystem::path>& binaries) {
  std::string material;
  for (const std::string& part : parts) {
    material += part;
    material += '\0';
  }
  for (const std::filesystem::path& binary : binaries) {
    struct stat st {};
    material += binary.string();
    if (stat(binary.c_str(), &st) == 0) {
      material +=
          fmt::format(":{}:{}.{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    material += '\0';
  }
  return fmt::format("{}-{:016x}", prefix, std::hash<std::string>{}(material));
}

Status MaterializeDataDir(const std::filesystem::path& cache_dir,
                          const std::string& key,
                          const std::optional<Account>& account,
                          const DataDirBuilder& build,
                          const std::filesystem::path& dest) {
  if (cache_dir.empty()) {
    return build(dest);
  }
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  if (!ec && std::filesystem::is_directory(cache_dir, ec)) {
    // Only when we created it just now, the mode is ours to set.
    struct stat st {};
    if (lstat(cache_dir.c_str(), &st) == 0 && st.st_uid == geteuid()) {
      chmod(cache_dir.c_str(), 0755);
    }
  }
  if (!Trustworthy(cache_dir)) {
    return build(dest);
  }
  const std::filesystem::path root = cache_dir / key;
  const std::filesystem::path complete = cache_dir / (key + ".complete");
  const std::filesystem::path template_data = root / "data";
  {
    FileLock lock(cache_dir / (key + ".lock"));
    if (!lock.ok()) {
      return build(dest);
    }
    if (!std::filesystem::exists(complete, ec)) {
      std::filesystem::remove_all(root, ec);
      TRIB_RETURN_IF_ERROR(MakeOwnedDir(root, account, 0700));
      TRIB_RETURN_IF_ERROR(
          build(template_data)
              .WithContext(fmt::format("building the template data dir {}",
                                       template_data.string())));
      TRIB_RETURN_IF_ERROR(WriteOwnedFile(complete, "", std::nullopt, 0644));
    }
  }
  std::filesystem::copy(template_data, dest,
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::copy_symlinks,
                        ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot copy template {} to {}: {}",
                     template_data.string(), dest.string(), ec.message());
  }
  if (chmod(dest.c_str(), 0700) != 0) {
    return MakeError(ErrorCode::kIo, "cannot chmod {}", dest.string());
  }
  return ChownRecursive(dest, account);
}

}  // namespace tributary::devserver::internal
