#include "lake/delta/internal/write_util.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <random>

#include <fmt/format.h>

namespace tributary::lake::delta::internal {

std::string RandomUuid() {
  static std::mutex mutex;
  static std::mt19937_64 engine;
  static pid_t seeded_pid = 0;
  uint64_t hi = 0;
  uint64_t lo = 0;
  {
    std::lock_guard lock(mutex);
    // Reseed after fork(): parent and child must not produce the same UUIDs (file names).
    if (seeded_pid != ::getpid()) {
      std::random_device device;
      std::seed_seq seed{device(), device(), device(), device(), device(), device(),
                         static_cast<unsigned>(::getpid())};
      engine.seed(seed);
      seeded_pid = ::getpid();
    }
    hi = engine();
    lo = engine();
  }
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

std::string EscapePartitionPathComponent(std::string_view value) {
  static constexpr std::string_view kSpecial = "\"#%'*/:=?\\{[]^";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || kSpecial.find(c) != std::string_view::npos) {
      out += fmt::format("%{:02X}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

std::string PercentEncodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    bool keep = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' ||
                c == '~' || c == '/' || c == '=' || c == '+' || c == ',' ||
                c == '@' || c == '!' || c == '$' || c == '&' || c == '(' || c == ')' ||
                c == '*' || c == ';';
    if (keep) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

std::string PercentDecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

std::string PartitionDirectory(const std::vector<std::string>& partition_columns,
                               const PartitionValues& values) {
  std::string dir;
  for (const auto& column : partition_columns) {
    auto it = values.find(column);
    dir += EscapePartitionPathComponent(column);
    dir += '=';
    if (it == values.end() || !it->second.has_value()) {
      dir += "__HIVE_DEFAULT_PARTITION__";
    } else if (it->second->empty()) {
      // Spark writes an empty string partition as the default partition too (it reads
      // back as null in Spark; our log keeps the exact value).
      dir += "__HIVE_DEFAULT_PARTITION__";
    } else {
      dir += EscapePartitionPathComponent(*it->second);
    }
    dir += '/';
  }
  return dir;
}

}  // namespace tributary::lake::delta::internal
