#include "lake/delta/log_segment.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lake/delta/actions.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;

namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t MtimeMs(const fs::path& path) {
  std::error_code ec;
  auto time = fs::last_write_time(path, ec);
  if (ec) {
    return 0;
  }
  // file_clock -> system_clock exactly (file_clock::to_sys); shifting by the difference of
  // two now() calls would be off by a millisecond now and then. Floor to milliseconds.
  auto system_time = std::chrono::floor<std::chrono::milliseconds>(
      std::chrono::file_clock::to_sys(time));
  return system_time.time_since_epoch().count();
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    parts.push_back(s.substr(pos, next == std::string_view::npos ? s.npos : next - pos));
    if (next == std::string_view::npos) {
      break;
    }
    pos = next + 1;
  }
  return parts;
}

}  // namespace

std::optional<int64_t> ParseLogVersion(std::string_view s) {
  if (s.size() != 20 || !IsDigits(s)) {
    return std::nullopt;
  }
  // 20 digits can exceed int64_t (9223372036854775807 has 19): reject overflow.
  int64_t value = 0;
  for (char c : s) {
    int digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

Result<std::optional<int64_t>> ReadCommitInCommitTimestamp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kIo, "cannot open commit '{}'", path.string());
  }
  std::string line;
  std::getline(in, line);
  if (line.find("inCommitTimestamp") == std::string::npos) {
    return std::optional<int64_t>();
  }
  auto action = ParseActionLine(line);
  if (!action.ok()) {
    return std::move(action).status().AddContext(
        fmt::format("reading the in-commit timestamp of '{}'", path.string()));
  }
  if (*action) {
    if (const auto* info = std::get_if<CommitInfo>(&**action)) {
      return info->in_commit_timestamp;
    }
  }
  return std::optional<int64_t>();
}

int64_t LogFileModificationTimeMs(const LogFile& file) {
  if (file.modification_time_ms >= 0) {
    return file.modification_time_ms;
  }
  return MtimeMs(file.path);
}

std::string CommitFileName(int64_t version) {
  return fmt::format("{:020}.json", version);
}

Result<std::string> ReadFileToString(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return MakeError(ErrorCode::kNotFound, "file '{}' does not exist", path.string());
    }
    return MakeError(ErrorCode::kIo, "cannot open '{}'", path.string());
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return MakeError(ErrorCode::kIo, "cannot read '{}'", path.string());
  }
  return buffer.str();
}

std::optional<int64_t> LogListing::LatestVersion() const {
  std::optional<int64_t> latest;
  if (!commits.empty()) {
    latest = commits.rbegin()->first;
  }
  if (!checkpoints.empty()) {
    latest = std::max(latest.value_or(-1), checkpoints.rbegin()->first);
  }
  return latest;
}

// PROTOCOL.md "Delta Log Entries", "Checkpoints" ("Checkpoint Naming Scheme"),
// "Log Compaction Files", "Last Checkpoint File", "Version Checksum File".
Result<LogListing> ListLog(const fs::path& table_root) {
  fs::path log_dir = table_root / "_delta_log";
  std::error_code ec;
  if (!fs::is_directory(log_dir, ec)) {
    return MakeError(ErrorCode::kNotFound,
                     "'{}' is not a Delta table: no _delta_log directory",
                     table_root.string());
  }
  LogListing listing;
  // Multi-part checkpoint parts seen so far: version -> parts count -> part -> file.
  std::map<int64_t, std::map<int64_t, std::map<int64_t, LogFile>>> multi_parts;
  fs::directory_iterator it(log_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot list '{}': {}", log_dir.string(),
                     ec.message());
  }
  for (const auto& entry : it) {
    // The name as a view into the entry's path: no per-entry path or string copies for
    // the thousands of commit files of a long log (directory_iterator does not stat).
    const std::string& full = entry.path().native();
    size_t slash = full.rfind('/');
    std::string_view name =
        slash == std::string::npos ? std::string_view(full)
                                   : std::string_view(full).substr(slash + 1);
    constexpr std::string_view kJson = ".json";
    if (name.size() == 20 + kJson.size() && name.substr(20) == kJson) {
      if (auto version = ParseLogVersion(name.substr(0, 20))) {
        std::error_code type_ec;
        if (entry.is_regular_file(type_ec)) {
          listing.commits.emplace(*version, LogFile{entry.path(), -1, -1});
        }
        continue;  // not stat'ed: see LogFile
      }
    }
    if (name.empty() || name[0] == '.' || name[0] == '_') {
      if (name == "_last_checkpoint") {
        auto text = ReadFileToString(entry.path());
        if (text.ok()) {
          auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
          if (parsed.is_object() && parsed.contains("version") &&
              parsed["version"].is_number_integer()) {
            listing.last_checkpoint_hint = parsed["version"].get<int64_t>();
          }
        }
      }
      continue;  // hidden, temporary, _sidecars, _commits, _staged_commits
    }
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) {
      continue;
    }
    auto parts = Split(name, '.');
    auto version = ParseLogVersion(parts[0]);
    if (!version) {
      continue;
    }
    LogFile file{entry.path(), -1, -1};
    if (parts.size() == 2 && parts[1] == "json") {
      listing.commits[*version] = std::move(file);
      continue;  // not stat'ed: see LogFile
    }
    file.size = static_cast<int64_t>(entry.file_size(type_ec));
    file.modification_time_ms = MtimeMs(entry.path());
    if (parts.size() == 3 && parts[1] == "checkpoint" && parts[2] == "parquet") {
      listing.checkpoints[*version].push_back(
          CheckpointFiles{*version, CheckpointKind::kClassic, {std::move(file)}});
    } else if (parts.size() == 5 && parts[1] == "checkpoint" && parts[4] == "parquet" &&
               IsDigits(parts[2]) && IsDigits(parts[3])) {
      int64_t part = std::stoll(std::string(parts[2]));
      int64_t count = std::stoll(std::string(parts[3]));
      multi_parts[*version][count][part] = std::move(file);
    } else if (parts.size() == 4 && parts[1] == "checkpoint" &&
               (parts[3] == "json" || parts[3] == "parquet")) {
      listing.checkpoints[*version].push_back(
          CheckpointFiles{*version, CheckpointKind::kUuid, {std::move(file)}});
    } else if (parts.size() == 4 && parts[2] == "compacted" && parts[3] == "json") {
      auto end = ParseLogVersion(parts[1]);
      if (end && *end >= *version) {
        listing.compactions.push_back(CompactionFile{*version, *end, std::move(file)});
      }
    }
    // Anything else (N.crc version checksums, unknown names) is ignored.
  }
  for (auto& [version, by_count] : multi_parts) {
    bool complete_found = false;
    for (auto& [count, parts] : by_count) {
      if (static_cast<int64_t>(parts.size()) == count && parts.begin()->first == 1 &&
          parts.rbegin()->first == count) {
        CheckpointFiles cp{version, CheckpointKind::kMultiPart, {}};
        for (auto& [part, file] : parts) {
          cp.parts.push_back(std::move(file));
        }
        listing.checkpoints[version].push_back(std::move(cp));
        complete_found = true;
      }
    }
    if (!complete_found) {
      listing.incomplete_checkpoints.push_back(version);
    }
  }
  std::sort(listing.compactions.begin(), listing.compactions.end(),
            [](const CompactionFile& a, const CompactionFile& b) {
              return a.start_version != b.start_version
                         ? a.start_version < b.start_version
                         : a.end_version > b.end_version;
            });
  return listing;
}

Result<LogSegment> BuildLogSegment(const LogListing& listing,
                                   int64_t version,
                                   bool use_compactions) {
  auto latest = listing.LatestVersion();
  if (!latest) {
    return MakeError(ErrorCode::kNotFound, "_delta_log has no commits or checkpoints");
  }
  if (version < 0 || version > *latest) {
    return MakeError(ErrorCode::kNotFound,
                     "version {} does not exist: the latest version is {}", version,
                     *latest);
  }
  LogSegment segment;
  segment.version = version;
  // Newest checkpoint at or below the target. Prefer a classic single file, then UUID,
  // then multi-part when several layouts exist for one version.
  auto cp_it = listing.checkpoints.upper_bound(version);
  if (cp_it != listing.checkpoints.begin()) {
    --cp_it;
    const auto& candidates = cp_it->second;
    const CheckpointFiles* best = &candidates.front();
    for (const auto& c : candidates) {
      if (c.kind == CheckpointKind::kClassic) {
        best = &c;
        break;
      }
      if (c.kind == CheckpointKind::kUuid) {
        best = &c;
      }
    }
    segment.checkpoint = *best;
  }
  int64_t first_commit = segment.checkpoint ? segment.checkpoint->version + 1 : 0;
  if (!segment.checkpoint) {
    // After metadata cleanup (log_cleanup.h) the log starts at a checkpoint: say where,
    // so time travel to an expired version names the oldest one still readable.
    const std::string oldest =
        listing.checkpoints.empty()
            ? std::string()
            : fmt::format(
                  " (the oldest readable version is {}: older log files were "
                  "removed, e.g. by log cleanup after delta.logRetentionDuration)",
                  listing.checkpoints.begin()->first);
    auto first = listing.commits.begin();
    if (first == listing.commits.end() || first->first > version) {
      return MakeError(ErrorCode::kNotFound,
                       "version {} cannot be reconstructed: no checkpoint at or below it "
                       "and no commit files from version 0{}",
                       version, oldest);
    }
    if (first->first != 0) {
      return MakeError(
          ErrorCode::kNotFound,
          "version {} cannot be reconstructed: the oldest commit is version {} "
          "and there is no checkpoint before it{}",
          version, first->first, oldest);
    }
  }
  for (int64_t v = first_commit; v <= version; ++v) {
    auto commit = listing.commits.find(v);
    if (commit == listing.commits.end()) {
      return MakeError(
          ErrorCode::kCorruption,
          "versions not contiguous: missing version {} ({}) in _delta_log while "
          "reconstructing version {}",
          v, CommitFileName(v), version);
    }
    segment.commits.emplace_back(v, commit->second);
  }
  if (use_compactions && !listing.compactions.empty()) {
    std::vector<std::pair<int64_t, LogFile>> commits;
    size_t i = 0;
    while (i < segment.commits.size()) {
      int64_t v = segment.commits[i].first;
      const CompactionFile* best = nullptr;
      for (const auto& c : listing.compactions) {
        if (c.start_version == v && c.end_version <= version &&
            (best == nullptr || c.end_version > best->end_version)) {
          best = &c;
        }
      }
      if (best != nullptr && best->end_version > v) {
        segment.compactions.push_back(*best);
        // Keep a marker commit entry per compaction: callers replay `compactions` in
        // place of the commits they cover, ordered by start version.
        i += static_cast<size_t>(best->end_version - v + 1);
        continue;
      }
      commits.push_back(segment.commits[i]);
      ++i;
    }
    segment.commits = std::move(commits);
  }
  return segment;
}

}  // namespace tributary::lake::delta
