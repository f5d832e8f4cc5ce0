#include "lake/delta/time_travel.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "core/value.h"

namespace tributary::lake::delta {

namespace {

// The civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days), over the
// whole int64 range (core::CivilFromDays takes int32 days; commit timestamps here are any
// int64 milliseconds).
void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2 ? 1 : 0;
}

bool ParseFixed(std::string_view s, size_t pos, size_t len, int64_t& out) {
  if (pos + len > s.size()) {
    return false;
  }
  out = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

Result<std::vector<CommitTimestamp>> ListCommitTimestamps(const LogListing& listing) {
  std::vector<CommitTimestamp> out;
  out.reserve(listing.commits.size());
  std::optional<int64_t> previous_file_time;
  for (const auto& [version, file] : listing.commits) {
    TRIB_ASSIGN_OR_RETURN(auto ict, ReadCommitInCommitTimestamp(file.path));
    CommitTimestamp ts;
    ts.version = version;
    if (ict) {
      ts.timestamp_ms = *ict;
      ts.from_in_commit_timestamp = true;
    } else {
      ts.timestamp_ms = LogFileModificationTimeMs(file);
      if (previous_file_time && ts.timestamp_ms <= *previous_file_time) {
        ts.timestamp_ms = *previous_file_time + 1;
      }
      previous_file_time = ts.timestamp_ms;
    }
    out.push_back(ts);
  }
  return out;
}

Result<int64_t> VersionAtTimestamp(const std::vector<CommitTimestamp>& timestamps,
                                   int64_t timestamp_ms) {
  if (timestamps.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "the table has no commits to time travel over");
  }
  std::optional<int64_t> found;
  for (const auto& ts : timestamps) {
    if (ts.timestamp_ms <= timestamp_ms) {
      found = ts.version;
    }
  }
  if (!found) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "timestamp {} is before the earliest available commit (version {} at {})",
        FormatTimestampMs(timestamp_ms), timestamps.front().version,
        FormatTimestampMs(timestamps.front().timestamp_ms));
  }
  return *found;
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  auto bad = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot parse timestamp '{}': expected epoch milliseconds or "
                     "YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]",
                     text);
  };
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  if (!s.empty() &&
      std::all_of(s.begin(), s.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      s.size() > 8) {
    try {
      return static_cast<int64_t>(std::stoll(std::string(s)));
    } catch (const std::exception&) {
      return bad();
    }
  }
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!ParseFixed(s, 0, 4, year) || s.size() < 10 || s[4] != '-' ||
      !ParseFixed(s, 5, 2, month) || s[7] != '-' || !ParseFixed(s, 8, 2, day) ||
      month < 1 || month > 12 || day < 1 || day > 31) {
    return bad();
  }
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t micros = 0;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!ParseFixed(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseFixed(s, pos + 4, 2, minute)) {
      return bad();
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseFixed(s, pos + 1, 2, second)) {
        return bad();
      }
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int64_t digits = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          if (digits < 6) {
            micros = micros * 10 + (s[pos] - '0');
            ++digits;
          }
          ++pos;
        }
        for (; digits < 6; ++digits) {
          micros *= 10;
        }
      }
    }
  }
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      pos += 1;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int64_t sign = s[pos] == '-' ? -1 : 1;
      int64_t oh = 0;
      int64_t om = 0;
      if (!ParseFixed(s, pos + 1, 2, oh)) {
        return bad();
      }
      size_t next = pos + 3;
      if (next < s.size() && s[next] == ':') {
        ++next;
      }
      if (next < s.size() && !ParseFixed(s, next, 2, om)) {
        return bad();
      }
      if (next < s.size()) {
        next += 2;
      }
      if (next != s.size()) {
        return bad();
      }
      offset_minutes = sign * (oh * 60 + om);
      pos = s.size();
    } else {
      return bad();
    }
  }
  if (pos != s.size() || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  // Four-digit year, month and day checked above: in range of core's int32 days.
  const int64_t days =
      core::DaysFromCivil(static_cast<int32_t>(year), static_cast<uint32_t>(month),
                          static_cast<uint32_t>(day));
  int64_t seconds =
      days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + micros / 1000;
}

std::string FormatTimestampMs(int64_t timestamp_ms) {
  int64_t days = timestamp_ms / 86400000;
  int64_t rest = timestamp_ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    days -= 1;
  }
  int64_t y = 0;
  int64_t m = 0;
  int64_t d = 0;
  CivilFromDays(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d,
                     rest / 3600000, rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
}

Result<std::vector<HistoryEntry>> ReadHistory(const std::filesystem::path& table_root,
                                              std::optional<size_t> limit) {
  TRIB_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
  TRIB_ASSIGN_OR_RETURN(auto timestamps, ListCommitTimestamps(listing));
  std::vector<HistoryEntry> out;
  for (auto it = timestamps.rbegin(); it != timestamps.rend(); ++it) {
    if (limit && out.size() >= *limit) {
      break;
    }
    HistoryEntry entry;
    entry.version = it->version;
    entry.timestamp_ms = it->timestamp_ms;
    auto text = ReadFileToString(listing.commits.at(it->version).path);
    if (!text.ok()) {
      return std::move(text).status();
    }
    auto actions = ParseCommitText(*text);
    if (!actions.ok()) {
      return std::move(actions).status().AddContext(fmt::format(
          "reading commit {} (version {})", CommitFileName(it->version), it->version));
    }
    for (auto& action : *actions) {
      if (auto* info = std::get_if<CommitInfo>(&action)) {
        entry.commit_info = std::move(*info);
      } else if (std::holds_alternative<AddFile>(action)) {
        ++entry.num_add;
      } else if (std::holds_alternative<RemoveFile>(action)) {
        ++entry.num_remove;
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace tributary::lake::delta
