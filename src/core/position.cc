#include "core/position.h"

#include <charconv>
#include <tuple>
#include <vector>

#include <fmt/format.h>

namespace tributary::core {
namespace {

// Splits `text` at the first `count` ':' separators; the last piece takes the rest.
std::vector<std::string_view> SplitFields(std::string_view text, size_t count) {
  std::vector<std::string_view> out;
  while (out.size() < count) {
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      break;
    }
    out.push_back(text.substr(0, colon));
    text.remove_prefix(colon + 1);
  }
  out.push_back(text);
  return out;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseHex32(std::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 8) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string FormatLsn(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32),
                     static_cast<uint32_t>(lsn & 0xffffffffULL));
}

Result<uint64_t> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  uint32_t high = 0;
  uint32_t low = 0;
  if (slash == std::string_view::npos || !ParseHex32(text.substr(0, slash), &high) ||
      !ParseHex32(text.substr(slash + 1), &low)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "'{}' is not a PostgreSQL LSN (expected hex 'X/X' like '16/B374D848')", text);
  }
  return (static_cast<uint64_t>(high) << 32) | low;
}

std::strong_ordering PostgresPosition::operator<=>(const PostgresPosition& other) const {
  return std::tie(commit_lsn, event_index, event_lsn, txid) <=>
         std::tie(other.commit_lsn, other.event_index, other.event_lsn, other.txid);
}

std::optional<uint64_t> BinlogFileSequence(std::string_view file) {
  size_t dot = file.rfind('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  if (!ParseNumber(file.substr(dot + 1), &sequence)) {
    return std::nullopt;
  }
  return sequence;
}

std::strong_ordering MysqlPosition::operator<=>(const MysqlPosition& other) const {
  std::optional<uint64_t> mine = BinlogFileSequence(file);
  std::optional<uint64_t> theirs = BinlogFileSequence(other.file);
  if (mine && theirs && *mine != *theirs) {
    return *mine <=> *theirs;
  }
  if (!(mine && theirs) && file != other.file) {
    return file <=> other.file;
  }
  return std::tie(pos, row, file, server_id, gtid) <=>
         std::tie(other.pos, other.row, other.file, other.server_id, other.gtid);
}

std::string PostgresPositionPrefix(uint64_t commit_lsn) {
  return fmt::format("pg:{}:", FormatLsn(commit_lsn));
}

std::string SourcePosition::ToString() const {
  switch (kind()) {
    case Kind::kNone:
      return "";
    case Kind::kPostgres: {
      const PostgresPosition& p = *postgres();
      return fmt::format("{}{}:{}:{}", PostgresPositionPrefix(p.commit_lsn),
                         FormatLsn(p.event_lsn), p.txid, p.event_index);
    }
    case Kind::kMysql: {
      const MysqlPosition& p = *mysql();
      return fmt::format("mysql:{}:{}:{}:{}:{}", p.file, p.pos, p.row, p.server_id,
                         p.gtid);
    }
    case Kind::kKafka: {
      const KafkaPosition& p = *kafka();
      return fmt::format("kafka:{}:{}:{}", p.partition, p.offset, p.topic);
    }
  }
  return "";
}

Result<SourcePosition> SourcePosition::Parse(std::string_view text) {
  auto invalid = [&]() {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "'{}' is not a source position (expected 'pg:<commit lsn>:<lsn>:<txid>:"
        "<index>', 'mysql:<file>:<pos>:<row>:<server id>:<gtid>' or "
        "'kafka:<partition>:<offset>:<topic>')",
        text);
  };
  if (text.empty()) {
    return SourcePosition();
  }
  std::vector<std::string_view> head = SplitFields(text, 1);
  if (head.size() != 2) {
    return invalid();
  }
  std::string_view kind = head[0];
  std::string_view rest = head[1];
  if (kind == "pg") {
    std::vector<std::string_view> fields = SplitFields(rest, 3);
    if (fields.size() != 4) {
      return invalid();
    }
    PostgresPosition p;
    Result<uint64_t> commit = ParseLsn(fields[0]);
    Result<uint64_t> event = ParseLsn(fields[1]);
    if (!commit.ok() || !event.ok() || !ParseNumber(fields[2], &p.txid) ||
        !ParseNumber(fields[3], &p.event_index)) {
      return invalid();
    }
    p.commit_lsn = *commit;
    p.event_lsn = *event;
    return SourcePosition(p);
  }
  if (kind == "mysql") {
    std::vector<std::string_view> fields = SplitFields(rest, 4);
    if (fields.size() != 5 || fields[0].empty()) {
      return invalid();
    }
    MysqlPosition p;
    p.file = std::string(fields[0]);
    if (!ParseNumber(fields[1], &p.pos) || !ParseNumber(fields[2], &p.row) ||
        !ParseNumber(fields[3], &p.server_id)) {
      return invalid();
    }
    p.gtid = std::string(fields[4]);
    return SourcePosition(std::move(p));
  }
  if (kind == "kafka") {
    std::vector<std::string_view> fields = SplitFields(rest, 2);
    if (fields.size() != 3 || fields[2].empty()) {
      return invalid();
    }
    KafkaPosition p;
    if (!ParseNumber(fields[0], &p.partition) || !ParseNumber(fields[1], &p.offset)) {
      return invalid();
    }
    p.topic = std::string(fields[2]);
    return SourcePosition(std::move(p));
  }
  return invalid();
}

std::partial_ordering SourcePosition::operator<=>(const SourcePosition& other) const {
  if (kind() != other.kind()) {
    return std::partial_ordering::unordered;
  }
  switch (kind()) {
    case Kind::kNone:
      return std::partial_ordering::equivalent;
    case Kind::kPostgres:
      return *postgres() <=> *other.postgres();
    case Kind::kMysql:
      return *mysql() <=> *other.mysql();
    case Kind::kKafka:
      return *kafka() <=> *other.kafka();
  }
  return std::partial_ordering::unordered;
}

}  // namespace tributary::core
