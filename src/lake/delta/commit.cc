#include "lake/delta/commit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "lake/delta/deletion_vector.h"
#include "lake/delta/internal/uri.h"
#include "lake/delta/internal/write_util.h"

namespace tributary::lake::delta {

namespace {

Error ErrnoError(std::string_view what, const std::filesystem::path& path, int err) {
  return MakeError(ErrorCode::kIo, "{} '{}': {}", what, path.string(), std::strerror(err));
}

Status FsyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("cannot open directory", dir, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return ErrnoError("cannot fsync directory", dir, err);
  }
  return OkStatus();
}

// fsyncs an existing file (its data and size). Missing files are skipped (false).
Result<bool> FsyncExistingFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return false;
    }
    return ErrnoError("cannot open", path, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return ErrnoError("cannot fsync", path, err);
  }
  return true;
}

// Writes `content` to a new hidden temp file next to `target` and fsyncs it.
Result<std::filesystem::path> WriteTempFile(const std::filesystem::path& target,
                                            std::string_view content) {
  std::filesystem::path tmp = target.parent_path() /
                              fmt::format(".{}.{}.tmp", target.filename().string(),
                                          internal::RandomUuid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoError("cannot create", tmp, errno);
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoError("cannot write", tmp, err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoError("cannot fsync", tmp, err);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("cannot close", tmp, err);
  }
  return tmp;
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kIo, "cannot read '{}'", path.string());
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The inCommitTimestamp of commit `version`, if it exists and has one.
std::optional<int64_t> ReadInCommitTimestamp(const std::filesystem::path& table_root,
                                             int64_t version) {
  if (version < 0) {
    return std::nullopt;
  }
  auto text = ReadWholeFile(CommitFilePath(table_root, version));
  if (!text.ok()) {
    return std::nullopt;
  }
  // commitInfo is the first action when in-commit timestamps are on.
  std::string_view body = *text;
  auto line = body.substr(0, body.find('\n'));
  auto action = ParseActionLine(line);
  if (!action.ok() || !action->has_value()) {
    return std::nullopt;
  }
  if (const auto* info = std::get_if<CommitInfo>(&**action)) {
    return info->in_commit_timestamp;
  }
  return std::nullopt;
}

}  // namespace

std::filesystem::path DeltaLogDir(const std::filesystem::path& table_root) {
  return table_root / "_delta_log";
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status WriteFileIfAbsent(const std::filesystem::path& path, std::string_view content) {
  TRIB_ASSIGN_OR_RETURN(auto tmp, WriteTempFile(path, content));
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return MakeError(ErrorCode::kAlreadyExists, "'{}' already exists", path.string());
    }
    return ErrnoError("cannot link", path, err);
  }
  return FsyncDirectory(path.parent_path());
}

Status WriteFileReplace(const std::filesystem::path& path, std::string_view content) {
  TRIB_ASSIGN_OR_RETURN(auto tmp, WriteTempFile(path, content));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("cannot rename to", path, err);
  }
  return FsyncDirectory(path.parent_path());
}

Status FsyncFile(const std::filesystem::path& path) {
  TRIB_ASSIGN_OR_RETURN(bool exists, FsyncExistingFile(path));
  if (!exists) {
    return MakeError(ErrorCode::kIo, "cannot fsync '{}': no such file", path.string());
  }
  return OkStatus();
}

Status SyncDataFiles(const std::filesystem::path& table_root,
                     const std::vector<Action>& actions) {
  std::vector<std::filesystem::path> files;
  auto note = [&](std::string_view log_path) -> Status {
    auto resolved = internal::ResolveLogPath(table_root, log_path);
    if (!resolved.ok()) {
      // Not on the local file system (s3://...): nothing this process can fsync.
      if (resolved.status().code() == ErrorCode::kUnsupported) {
        return OkStatus();
      }
      return std::move(resolved).status();
    }
    files.push_back(std::move(*resolved));
    return OkStatus();
  };
  auto note_dv = [&](const std::optional<DeletionVectorDescriptor>& dv) -> Status {
    if (!dv || dv->storage_type == "i") {
      return OkStatus();  // none, or inline in the log
    }
    auto path = DeletionVectorFilePath(table_root, *dv);
    if (path.ok()) {
      files.push_back(std::move(*path));
    }
    return OkStatus();
  };
  for (const auto& action : actions) {
    if (const auto* add = std::get_if<AddFile>(&action)) {
      TRIB_RETURN_IF_ERROR(note(add->path));
      TRIB_RETURN_IF_ERROR(note_dv(add->deletion_vector));
    } else if (const auto* cdc = std::get_if<AddCdcFile>(&action)) {
      TRIB_RETURN_IF_ERROR(note(cdc->path));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  // Directories whose entries may be new: each file's parent and, up to the table root,
  // theirs (partition directories created for this commit).
  std::vector<std::filesystem::path> directories;
  const std::filesystem::path root = table_root.lexically_normal();
  for (const auto& file : files) {
    TRIB_ASSIGN_OR_RETURN(bool exists, FsyncExistingFile(file));
    if (!exists) {
      continue;  // a file this commit does not own (e.g. an externally managed path)
    }
    std::filesystem::path dir = file.parent_path().lexically_normal();
    while (!dir.empty()) {
      directories.push_back(dir);
      if (dir == root || dir == dir.parent_path()) {
        break;
      }
      auto relative = dir.lexically_relative(root);
      if (relative.empty() || *relative.begin() == "..") {
        break;  // outside the table: only its own directory
      }
      dir = dir.parent_path();
    }
  }
  std::sort(directories.begin(), directories.end());
  directories.erase(std::unique(directories.begin(), directories.end()), directories.end());
  for (const auto& dir : directories) {
    TRIB_RETURN_IF_ERROR(FsyncDirectory(dir));
  }
  return OkStatus();
}

Result<CommitResult> Commit(const std::filesystem::path& table_root, CommitRequest request,
                            const CommitOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(DeltaLogDir(table_root), ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot create '{}': {}",
                     DeltaLogDir(table_root).string(), ec.message());
  }
  // The log entry must never name a file a crash could lose: the data files it adds are
  // made durable first (DuckDB's COPY does not fsync what it writes). DESIGN.md
  // invariant 1: the source position is acknowledged only after this commit.
  TRIB_RETURN_IF_ERROR(SyncDataFiles(table_root, request.actions)
                           .WithContext(fmt::format("making the data files of a commit to "
                                                    "'{}' durable",
                                                    table_root.string())));
  const int64_t read_version = request.read_set.read_version;
  TransactionSummary summary =
      SummarizeTransaction(request.actions, std::move(request.read_set));

  CommitInfo info = std::move(request.commit_info);
  info.engine_info = std::string(kEngineInfo);
  info.txn_id = internal::RandomUuid();
  if (read_version >= 0) {
    info.read_version = read_version;
  }

  int64_t version = read_version + 1;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    int64_t now = NowMillis();
    info.timestamp = now;
    int64_t timestamp = now;
    if (request.in_commit_timestamps) {
      // PROTOCOL.md "In-Commit Timestamps": strictly greater than the previous commit's.
      auto previous = ReadInCommitTimestamp(table_root, version - 1);
      timestamp = previous ? std::max(now, *previous + 1) : now;
      info.in_commit_timestamp = timestamp;
    }
    std::vector<Action> actions;
    actions.reserve(request.actions.size() + 1);
    actions.emplace_back(info);
    for (const auto& action : request.actions) {
      actions.push_back(action);
    }
    std::string body = SerializeCommit(actions);
    std::filesystem::path target = CommitFilePath(table_root, version);
    Status written = WriteFileIfAbsent(target, body);
    if (written.ok()) {
      return CommitResult{version, attempt, timestamp};
    }
    if (!written.status().IsAlreadyExists()) {
      return std::move(written).status();
    }
    if (read_version < 0) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "Delta table '{}' already exists (version 0 is committed)",
                       table_root.string());
    }
    // Lost the race for `version`: check the winner, then try the next version.
    TRIB_ASSIGN_OR_RETURN(auto winner_text, ReadWholeFile(target));
    auto winner = ParseCommitText(winner_text);
    if (!winner.ok()) {
      return std::move(winner).status().AddContext(
          fmt::format("reading concurrent commit '{}'", target.string()));
    }
    TRIB_RETURN_IF_ERROR(std::move(CheckConflict(summary, version, *winner))
                             .WithContext(fmt::format("committing to '{}' (read version {})",
                                                      table_root.string(), read_version)));
    ++version;
  }
  return MakeError(ErrorCode::kConflict,
                   "gave up committing to '{}' after {} attempts (read version {}, last "
                   "tried version {})",
                   table_root.string(), options.max_attempts, read_version, version - 1);
}

}  // namespace tributary::lake::delta
