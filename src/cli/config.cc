#include "cli/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/redact.h"

namespace tributary::cli {
namespace {

namespace fs = std::filesystem;

using KeyList = std::initializer_list<std::string_view>;

// Where a table sits in the document: its dotted path ("sources[0]") and its line.
struct Scope {
  const toml::table& table;
  std::string path;
  uint32_t line;
};

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

std::string JoinKey(std::string_view path, std::string_view key) {
  std::string quoted = IsBareKey(key) ? std::string(key) : fmt::format("\"{}\"", key);
  return path.empty() ? quoted : fmt::format("{}.{}", path, quoted);
}

uint32_t LineOf(const toml::node& node) {
  return node.source().begin.line;
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t col = 0; col <= b.size(); ++col) {
    row[col] = col;
  }
  for (size_t a_idx = 1; a_idx <= a.size(); ++a_idx) {
    size_t diagonal = row[0];
    row[0] = a_idx;
    for (size_t b_idx = 1; b_idx <= b.size(); ++b_idx) {
      const size_t above = row[b_idx];
      const size_t cost = a[a_idx - 1] == b[b_idx - 1] ? 0 : 1;
      row[b_idx] = std::min({row[b_idx] + 1, row[b_idx - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool IsSubsequence(std::string_view needle, std::string_view haystack) {
  size_t pos = 0;
  for (char c : haystack) {
    if (pos < needle.size() && needle[pos] == c) {
      ++pos;
    }
  }
  return pos == needle.size();
}

std::string JoinNames(KeyList names, std::string_view last_separator = " or ") {
  std::string out;
  size_t idx = 0;
  for (std::string_view name : names) {
    if (idx > 0) {
      out += idx + 1 == names.size() ? last_separator : ", ";
    }
    out += name;
    ++idx;
  }
  return out;
}

// The text form of a scalar used in rules: strings as written, numbers and booleans as
// TOML writes them, dates and times in ISO 8601.
std::optional<std::string> ScalarText(const toml::node& node) {
  if (const auto* text = node.as_string()) {
    return text->get();
  }
  if (const auto* integer = node.as_integer()) {
    return fmt::format("{}", integer->get());
  }
  if (const auto* floating = node.as_floating_point()) {
    return fmt::format("{}", floating->get());
  }
  if (const auto* boolean = node.as_boolean()) {
    return boolean->get() ? "true" : "false";
  }
  if (node.is_date() || node.is_time() || node.is_date_time()) {
    std::ostringstream out;
    if (const auto* date = node.as_date()) {
      out << date->get();
    } else if (const auto* time = node.as_time()) {
      out << time->get();
    } else if (const auto* date_time = node.as_date_time()) {
      out << date_time->get();
    }
    return out.str();
  }
  return std::nullopt;
}

std::string DefaultSlotName(std::string_view source_name) {
  std::string out = "tributary_";
  for (char c : source_name) {
    const auto uc = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(uc) != 0 ? static_cast<char>(std::tolower(uc)) : '_');
  }
  if (out.size() > 63) {
    out.resize(63);
  }
  return out;
}

uint32_t DefaultServerId(std::string_view source_name) {
  // FNV-1a: stable across runs and builds, unlike std::hash.
  uint32_t hash = 2166136261u;
  for (char c : source_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  constexpr uint32_t kMin = 100000;
  return kMin + hash % (UINT32_MAX - kMin);
}

bool IsIdentifier(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])) != 0) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

class Parser {
 public:
  Parser(std::string name, fs::path base_dir)
      : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  Status Parse(const toml::table& root, PipelineConfig* config);

 private:
  Error Fail(uint32_t line, std::string_view key, std::string message) const {
    if (line == 0) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {}: {}", name_, key, message);
    }
    return MakeError(ErrorCode::kInvalidArgument, "{}:{}: {}: {}", name_, line, key,
                     message);
  }

  Status CheckKeys(const Scope& scope, KeyList allowed) const;
  const toml::node* Find(const Scope& scope, std::string_view key) const {
    return scope.table.get(key);
  }
  Status Require(const Scope& scope, std::string_view key) const;
  Result<std::string> ExpandEnv(std::string_view text,
                                uint32_t line,
                                std::string_view key) const;

  Status GetString(const Scope& scope,
                   std::string_view key,
                   std::string* out,
                   bool expand_env = false) const;
  Status GetPath(const Scope& scope,
                 std::string_view key,
                 fs::path* out,
                 bool expand_env = false) const;
  Status GetInt(const Scope& scope,
                std::string_view key,
                int64_t min,
                int64_t max,
                int64_t* out) const;
  Status GetBool(const Scope& scope, std::string_view key, bool* out) const;
  // An array of non-empty strings; with `allow_single`, a lone string is a one-element
  // array.
  Status GetStringList(const Scope& scope,
                       std::string_view key,
                       std::vector<std::string>* out,
                       bool allow_single = false) const;
  template <typename E>
  Status GetEnum(const Scope& scope,
                 std::string_view key,
                 std::initializer_list<std::pair<std::string_view, E>> values,
                 E* out) const;
  // The table at `key`, or nullptr when absent.
  Result<const toml::table*> GetTable(const Scope& scope, std::string_view key) const;
  Status GetPropertyMap(const Scope& scope,
                        std::string_view key,
                        std::map<std::string, std::string>* out) const;

  Status ParseLake(const Scope& root, LakeConfig* lake) const;
  Status ParseSources(const Scope& root,
                      const KafkaConfig& kafka,
                      std::vector<SourceConfig>* sources) const;
  Status ParseSource(const Scope& scope,
                     const KafkaConfig& kafka,
                     SourceConfig* source) const;
  Status ParseKafka(const Scope& root, KafkaConfig* kafka) const;
  Status ParsePipeline(const Scope& root, PipelineSettings* pipeline) const;
  Status ParseSilver(const Scope& root,
                     const std::vector<SourceConfig>& sources,
                     SilverConfig* silver) const;
  Status ParseSilverTable(const Scope& scope,
                          const std::vector<SourceConfig>& sources,
                          SilverTableConfig* table) const;
  Status ParseGold(const Scope& root, GoldConfig* gold) const;
  // The [[gold.models]] entries of the table `scope` (a [gold] table).
  Status ParseModelList(const Scope& scope, GoldConfig* gold) const;
  Status ParseGoldModel(const Scope& scope, GoldModelConfig* model) const;
  Status ParseHttp(const Scope& root, HttpConfig* http) const;
  Status ParseLog(const Scope& root, LogConfig* log) const;

  fs::path Resolve(const fs::path& path) const {
    if (path.is_absolute() || base_dir_.empty()) {
      return path.lexically_normal();
    }
    return (base_dir_ / path).lexically_normal();
  }

  std::string name_;
  fs::path base_dir_;
};

Status Parser::CheckKeys(const Scope& scope, KeyList allowed) const {
  for (const auto& [key, node] : scope.table) {
    const std::string_view key_name = key.str();
    if (std::find(allowed.begin(), allowed.end(), key_name) != allowed.end()) {
      continue;
    }
    std::string message = "unknown key";
    // Suggest the closest allowed key: a typo (edit distance <= 2) or an abbreviation
    // (the key's letters appear in order in the candidate: "slot" -> "slot_name").
    std::string_view best;
    size_t best_distance = SIZE_MAX;
    for (std::string_view candidate : allowed) {
      const size_t distance = EditDistance(key_name, candidate);
      const bool close =
          distance <= 2 || (key_name.size() >= 3 && IsSubsequence(key_name, candidate));
      if (close && distance < best_distance) {
        best = candidate;
        best_distance = distance;
      }
    }
    if (!best.empty()) {
      message += fmt::format(" (did you mean \"{}\"?)", best);
    }
    message += fmt::format("; expected one of: {}", JoinNames(allowed, ", "));
    uint32_t line = key.source().begin.line;
    if (line == 0) {
      line = LineOf(node);
    }
    return Fail(line, JoinKey(scope.path, key_name), std::move(message));
  }
  return OkStatus();
}

Status Parser::Require(const Scope& scope, std::string_view key) const {
  if (Find(scope, key) == nullptr) {
    return Fail(scope.line, JoinKey(scope.path, key), "missing required key");
  }
  return OkStatus();
}

Result<std::string> Parser::ExpandEnv(std::string_view text,
                                      uint32_t line,
                                      std::string_view key) const {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c != '$') {
      out.push_back(c);
      ++pos;
      continue;
    }
    if (pos + 1 < text.size() && text[pos + 1] == '$') {
      out.push_back('$');
      pos += 2;
      continue;
    }
    if (pos + 1 >= text.size() || text[pos + 1] != '{') {
      out.push_back(c);
      ++pos;
      continue;
    }
    const size_t close = text.find('}', pos + 2);
    if (close == std::string_view::npos) {
      return Fail(line, key, "unterminated \"${\" (write \"$$\" for a literal \"$\")");
    }
    std::string_view expression = text.substr(pos + 2, close - pos - 2);
    std::optional<std::string_view> fallback;
    if (const size_t dash = expression.find(":-"); dash != std::string_view::npos) {
      fallback = expression.substr(dash + 2);
      expression = expression.substr(0, dash);
    }
    if (!IsIdentifier(expression)) {
      return Fail(line, key,
                  fmt::format("\"${{{}}}\" is not a valid environment variable reference",
                              expression));
    }
    const char* value = std::getenv(std::string(expression).c_str());
    if (value != nullptr && (*value != '\0' || !fallback)) {
      out += value;
    } else if (fallback) {
      out += *fallback;
    } else {
      return Fail(line, key,
                  fmt::format("environment variable {} is not set (use ${{{}:-default}} "
                              "for a default)",
                              expression, expression));
    }
    pos = close + 1;
  }
  return out;
}

Status Parser::GetString(const Scope& scope,
                         std::string_view key,
                         std::string* out,
                         bool expand_env) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  const std::string full_key = JoinKey(scope.path, key);
  const auto* value = node->as_string();
  if (value == nullptr) {
    return Fail(LineOf(*node), full_key,
                fmt::format("expected a string, got {}", TypeName(*node)));
  }
  if (expand_env) {
    TRIB_ASSIGN_OR_RETURN(*out, ExpandEnv(value->get(), LineOf(*node), full_key));
  } else {
    *out = value->get();
  }
  return OkStatus();
}

Status Parser::GetPath(const Scope& scope,
                       std::string_view key,
                       fs::path* out,
                       bool expand_env) const {
  std::string text;
  TRIB_RETURN_IF_ERROR(GetString(scope, key, &text, expand_env));
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  if (text.empty()) {
    return Fail(LineOf(*node), JoinKey(scope.path, key), "must not be empty");
  }
  *out = Resolve(text);
  return OkStatus();
}

Status Parser::GetInt(const Scope& scope,
                      std::string_view key,
                      int64_t min,
                      int64_t max,
                      int64_t* out) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  const std::string full_key = JoinKey(scope.path, key);
  const auto* value = node->as_integer();
  if (value == nullptr) {
    return Fail(LineOf(*node), full_key,
                fmt::format("expected an integer, got {}", TypeName(*node)));
  }
  const int64_t number = value->get();
  if (number < min || number > max) {
    return Fail(
        LineOf(*node), full_key,
        fmt::format("expected an integer from {} to {}, got {}", min, max, number));
  }
  *out = number;
  return OkStatus();
}

Status Parser::GetBool(const Scope& scope, std::string_view key, bool* out) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  const auto* value = node->as_boolean();
  if (value == nullptr) {
    return Fail(
        LineOf(*node), JoinKey(scope.path, key),
        fmt::format("expected a boolean (true or false), got {}", TypeName(*node)));
  }
  *out = value->get();
  return OkStatus();
}

Status Parser::GetStringList(const Scope& scope,
                             std::string_view key,
                             std::vector<std::string>* out,
                             bool allow_single) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  const std::string full_key = JoinKey(scope.path, key);
  if (allow_single && node->is_string()) {
    if (node->as_string()->get().empty()) {
      return Fail(LineOf(*node), full_key, "must not be empty");
    }
    *out = {node->as_string()->get()};
    return OkStatus();
  }
  const auto* array = node->as_array();
  if (array == nullptr) {
    return Fail(LineOf(*node), full_key,
                fmt::format("expected an array of strings, got {}", TypeName(*node)));
  }
  out->clear();
  for (size_t idx = 0; idx < array->size(); ++idx) {
    const toml::node& element = *array->get(idx);
    const std::string element_key = fmt::format("{}[{}]", full_key, idx);
    const auto* text = element.as_string();
    uint32_t line = LineOf(element) != 0 ? LineOf(element) : LineOf(*node);
    if (text == nullptr) {
      return Fail(line, element_key,
                  fmt::format("expected a string, got {}", TypeName(element)));
    }
    if (text->get().empty()) {
      return Fail(line, element_key, "must not be empty");
    }
    if (std::find(out->begin(), out->end(), text->get()) != out->end()) {
      return Fail(line, element_key, fmt::format("\"{}\" is listed twice", text->get()));
    }
    out->push_back(text->get());
  }
  return OkStatus();
}

template <typename E>
Status Parser::GetEnum(const Scope& scope,
                       std::string_view key,
                       std::initializer_list<std::pair<std::string_view, E>> values,
                       E* out) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return OkStatus();
  }
  std::string names;
  for (const auto& [name, value] : values) {
    names += names.empty() ? "" : ", ";
    names += name;
  }
  const std::string full_key = JoinKey(scope.path, key);
  const auto* text = node->as_string();
  if (text == nullptr) {
    return Fail(LineOf(*node), full_key,
                fmt::format("expected one of {}, got {}", names, TypeName(*node)));
  }
  for (const auto& [name, value] : values) {
    if (name == text->get()) {
      *out = value;
      return OkStatus();
    }
  }
  return Fail(LineOf(*node), full_key,
              fmt::format("expected one of {}, got \"{}\"", names, text->get()));
}

Result<const toml::table*> Parser::GetTable(const Scope& scope,
                                            std::string_view key) const {
  const toml::node* node = Find(scope, key);
  if (node == nullptr) {
    return static_cast<const toml::table*>(nullptr);
  }
  const auto* table = node->as_table();
  if (table == nullptr) {
    return Fail(LineOf(*node), JoinKey(scope.path, key),
                fmt::format("expected a table, got {}", TypeName(*node)));
  }
  return table;
}

Status Parser::GetPropertyMap(const Scope& scope,
                              std::string_view key,
                              std::map<std::string, std::string>* out) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(scope, key));
  if (table == nullptr) {
    return OkStatus();
  }
  const std::string path = JoinKey(scope.path, key);
  for (const auto& [property, node] : *table) {
    const std::string full_key = JoinKey(path, property.str());
    if (node.is_string()) {
      TRIB_ASSIGN_OR_RETURN(std::string value,
                            ExpandEnv(node.as_string()->get(), LineOf(node), full_key));
      (*out)[std::string(property.str())] = std::move(value);
    } else if (node.is_integer() || node.is_floating_point() || node.is_boolean()) {
      (*out)[std::string(property.str())] = *ScalarText(node);
    } else {
      return Fail(
          LineOf(node), full_key,
          fmt::format("expected a string, number or boolean, got {}", TypeName(node)));
    }
  }
  return OkStatus();
}

Status Parser::ParseLake(const Scope& root, LakeConfig* lake) const {
  lake->root = Resolve("lake");
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "lake"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "lake", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"root"}));
  TRIB_RETURN_IF_ERROR(GetPath(scope, "root", &lake->root, /*expand_env=*/true));
  return OkStatus();
}

Status Parser::ParseKafka(const Scope& root, KafkaConfig* kafka) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "kafka"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "kafka", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(
      CheckKeys(scope, {"bootstrap_servers", "topic_prefix", "producer", "consumer"}));
  TRIB_RETURN_IF_ERROR(
      GetString(scope, "bootstrap_servers", &kafka->bootstrap_servers, true));
  TRIB_RETURN_IF_ERROR(GetString(scope, "topic_prefix", &kafka->topic_prefix));
  TRIB_RETURN_IF_ERROR(GetPropertyMap(scope, "producer", &kafka->producer));
  TRIB_RETURN_IF_ERROR(GetPropertyMap(scope, "consumer", &kafka->consumer));
  return OkStatus();
}

Status Parser::ParseSources(const Scope& root,
                            const KafkaConfig& kafka,
                            std::vector<SourceConfig>* sources) const {
  const toml::node* node = Find(root, "sources");
  if (node == nullptr) {
    return Fail(root.line, "sources",
                "missing required key: add at least one [[sources]] table");
  }
  const auto* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Fail(LineOf(*node), "sources",
                fmt::format("expected an array of tables ([[sources]]), got {}",
                            TypeName(*node)));
  }
  if (array->empty()) {
    return Fail(LineOf(*node), "sources", "at least one source is required");
  }
  for (size_t idx = 0; idx < array->size(); ++idx) {
    const toml::table& table = *array->get(idx)->as_table();
    const Scope scope{table, fmt::format("sources[{}]", idx),
                      LineOf(table) != 0 ? LineOf(table) : LineOf(*node)};
    SourceConfig source;
    TRIB_RETURN_IF_ERROR(ParseSource(scope, kafka, &source));
    for (const SourceConfig& other : *sources) {
      if (other.name == source.name) {
        return Fail(LineOf(*table.get("name")), JoinKey(scope.path, "name"),
                    fmt::format("duplicate source name \"{}\" (also defined at line {})",
                                source.name, other.line));
      }
    }
    sources->push_back(std::move(source));
  }
  return OkStatus();
}

Status Parser::ParseSource(const Scope& scope,
                           const KafkaConfig& kafka,
                           SourceConfig* source) const {
  source->line = scope.line;
  TRIB_RETURN_IF_ERROR(CheckKeys(
      scope, {"name", "type", "dsn", "tables", "snapshot_mode", "snapshot_chunk_rows",
              "heartbeat_interval_ms", "slot_name", "publication_name", "heartbeat_table",
              "status_interval_ms", "streaming", "server_id", "bootstrap_servers",
              "topics", "group_id", "auto_offset_reset"}));
  TRIB_RETURN_IF_ERROR(Require(scope, "name"));
  TRIB_RETURN_IF_ERROR(Require(scope, "type"));
  TRIB_RETURN_IF_ERROR(GetString(scope, "name", &source->name));
  {
    const bool valid = !source->name.empty() && source->name.size() <= 200 &&
                       std::all_of(source->name.begin(), source->name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                                c == '_' || c == '-' || c == '.';
                       });
    if (!valid) {
      return Fail(
          LineOf(*Find(scope, "name")), JoinKey(scope.path, "name"),
          fmt::format("\"{}\" is not a valid source name (letters, digits, '_', '-', "
                      "'.'; it prefixes topic names)",
                      source->name));
    }
  }
  TRIB_RETURN_IF_ERROR(GetEnum<SourceType>(scope, "type",
                                           {{"postgres", SourceType::kPostgres},
                                            {"mysql", SourceType::kMysql},
                                            {"kafka", SourceType::kKafka}},
                                           &source->type));
  const SourceType type = source->type;
  const std::string type_name(SourceTypeName(type));

  // Keys that belong to other source types are mistakes, not silently ignored settings.
  struct Applicability {
    std::string_view key;
    bool postgres;
    bool mysql;
    bool kafka;
    std::string_view message;
  };
  static constexpr Applicability kApplicability[] = {
      {"dsn", true, true, false, "kafka sources read from bootstrap_servers, not a dsn"},
      {"snapshot_mode", true, true, false, "applies only to postgres and mysql sources"},
      {"snapshot_chunk_rows", true, true, false,
       "applies only to postgres and mysql sources"},
      {"heartbeat_interval_ms", true, true, false,
       "applies only to postgres and mysql sources"},
      {"slot_name", true, false, false, "applies only to postgres sources"},
      {"publication_name", true, false, false, "applies only to postgres sources"},
      {"heartbeat_table", true, false, false, "applies only to postgres sources"},
      {"status_interval_ms", true, false, false, "applies only to postgres sources"},
      {"streaming", true, false, false, "applies only to postgres sources"},
      {"server_id", false, true, false, "applies only to mysql sources"},
      {"bootstrap_servers", false, false, true, "applies only to kafka sources"},
      {"topics", false, false, true, "applies only to kafka sources"},
      {"group_id", false, false, true, "applies only to kafka sources"},
      {"auto_offset_reset", false, false, true, "applies only to kafka sources"},
  };
  for (const Applicability& rule : kApplicability) {
    const bool applies = (type == SourceType::kPostgres && rule.postgres) ||
                         (type == SourceType::kMysql && rule.mysql) ||
                         (type == SourceType::kKafka && rule.kafka);
    const toml::node* node = Find(scope, rule.key);
    if (!applies && node != nullptr) {
      return Fail(LineOf(*node), JoinKey(scope.path, rule.key),
                  fmt::format("not valid for a {} source: {}", type_name, rule.message));
    }
  }

  TRIB_RETURN_IF_ERROR(GetStringList(scope, "tables", &source->tables));
  for (size_t idx = 0; idx < source->tables.size(); ++idx) {
    const std::string& table = source->tables[idx];
    const size_t dot = table.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == table.size()) {
      const toml::node& element = *Find(scope, "tables")->as_array()->get(idx);
      return Fail(LineOf(element),
                  fmt::format("{}[{}]", JoinKey(scope.path, "tables"), idx),
                  fmt::format("expected \"{}.table\", got \"{}\"",
                              type == SourceType::kMysql ? "database" : "schema", table));
    }
  }

  if (type == SourceType::kPostgres || type == SourceType::kMysql) {
    TRIB_RETURN_IF_ERROR(Require(scope, "dsn"));
    TRIB_RETURN_IF_ERROR(GetString(scope, "dsn", &source->dsn, /*expand_env=*/true));
    if (source->dsn.empty()) {
      return Fail(LineOf(*Find(scope, "dsn")), JoinKey(scope.path, "dsn"),
                  "must not be empty");
    }
    TRIB_RETURN_IF_ERROR(
        GetEnum<SnapshotMode>(scope, "snapshot_mode",
                              {{"initial", SnapshotMode::kInitial},
                               {"never", SnapshotMode::kNever},
                               {"initial_only", SnapshotMode::kInitialOnly},
                               {"always", SnapshotMode::kAlways}},
                              &source->snapshot_mode));
    TRIB_RETURN_IF_ERROR(
        GetInt(scope, "snapshot_chunk_rows", 1, INT32_MAX, &source->snapshot_chunk_rows));
    TRIB_RETURN_IF_ERROR(GetInt(scope, "heartbeat_interval_ms", 0, INT32_MAX,
                                &source->heartbeat_interval_ms));
  }

  if (type == SourceType::kPostgres) {
    source->slot_name = DefaultSlotName(source->name);
    source->publication_name = source->slot_name;
    TRIB_RETURN_IF_ERROR(GetString(scope, "slot_name", &source->slot_name));
    if (const toml::node* node = Find(scope, "slot_name")) {
      const std::string& slot = source->slot_name;
      const bool valid =
          !slot.empty() && slot.size() <= 63 &&
          std::all_of(slot.begin(), slot.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
          });
      if (!valid) {
        return Fail(LineOf(*node), JoinKey(scope.path, "slot_name"),
                    fmt::format("\"{}\" is not a valid replication slot name (lower-case "
                                "letters, digits and '_', at most 63)",
                                slot));
      }
    }
    TRIB_RETURN_IF_ERROR(GetString(scope, "publication_name", &source->publication_name));
    if (const toml::node* node = Find(scope, "publication_name")) {
      if (source->publication_name.empty() || source->publication_name.size() > 63) {
        return Fail(LineOf(*node), JoinKey(scope.path, "publication_name"),
                    "must be 1 to 63 characters");
      }
    }
    TRIB_RETURN_IF_ERROR(GetString(scope, "heartbeat_table", &source->heartbeat_table));
    if (const toml::node* node = Find(scope, "heartbeat_table")) {
      const size_t dot = source->heartbeat_table.find('.');
      if (dot == std::string::npos || dot == 0 ||
          dot + 1 == source->heartbeat_table.size()) {
        return Fail(LineOf(*node), JoinKey(scope.path, "heartbeat_table"),
                    fmt::format("expected \"schema.table\", got \"{}\"",
                                source->heartbeat_table));
      }
    }
    TRIB_RETURN_IF_ERROR(
        GetInt(scope, "status_interval_ms", 100, INT32_MAX, &source->status_interval_ms));
    TRIB_RETURN_IF_ERROR(GetBool(scope, "streaming", &source->streaming));
  }

  if (type == SourceType::kMysql) {
    source->server_id = DefaultServerId(source->name);
    int64_t server_id = source->server_id;
    TRIB_RETURN_IF_ERROR(GetInt(scope, "server_id", 1, UINT32_MAX, &server_id));
    source->server_id = static_cast<uint32_t>(server_id);
  }

  if (type == SourceType::kKafka) {
    source->bootstrap_servers = kafka.bootstrap_servers;
    TRIB_RETURN_IF_ERROR(
        GetString(scope, "bootstrap_servers", &source->bootstrap_servers, true));
    if (source->bootstrap_servers.empty()) {
      const toml::node* node = Find(scope, "bootstrap_servers");
      return Fail(node != nullptr ? LineOf(*node) : scope.line,
                  JoinKey(scope.path, "bootstrap_servers"),
                  "required for kafka sources (set it here or kafka.bootstrap_servers)");
    }
    TRIB_RETURN_IF_ERROR(GetStringList(scope, "topics", &source->topics));
    source->group_id = "tributary-" + source->name;
    TRIB_RETURN_IF_ERROR(GetString(scope, "group_id", &source->group_id));
    if (source->group_id.empty()) {
      return Fail(LineOf(*Find(scope, "group_id")), JoinKey(scope.path, "group_id"),
                  "must not be empty");
    }
    TRIB_RETURN_IF_ERROR(GetEnum<OffsetReset>(
        scope, "auto_offset_reset",
        {{"earliest", OffsetReset::kEarliest}, {"latest", OffsetReset::kLatest}},
        &source->auto_offset_reset));
  }
  return OkStatus();
}

Status Parser::ParsePipeline(const Scope& root, PipelineSettings* pipeline) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "pipeline"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "pipeline", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(
      scope, {"batch_max_rows", "batch_max_bytes", "batch_interval_ms",
              "batch_interval_max_ms", "checkpoint_interval", "compact_min_files", "compact_small_file_bytes",
              "compact_target_file_bytes", "gold_min_refresh_interval_ms",
              "reconnect_backoff_min_ms", "reconnect_backoff_max_ms"}));
  constexpr int64_t kMax = INT64_MAX;
  TRIB_RETURN_IF_ERROR(
      GetInt(scope, "batch_max_rows", 1, kMax, &pipeline->batch_max_rows));
  TRIB_RETURN_IF_ERROR(
      GetInt(scope, "batch_max_bytes", 1024, kMax, &pipeline->batch_max_bytes));
  TRIB_RETURN_IF_ERROR(
      GetInt(scope, "batch_interval_ms", 1, kMax, &pipeline->batch_interval_ms));
  if (Find(scope, "batch_interval_max_ms") == nullptr) {
    pipeline->batch_interval_max_ms =
        std::max(pipeline->batch_interval_max_ms, pipeline->batch_interval_ms);
  }
  TRIB_RETURN_IF_ERROR(GetInt(scope, "batch_interval_max_ms", 1, kMax,
                              &pipeline->batch_interval_max_ms));
  if (pipeline->batch_interval_max_ms < pipeline->batch_interval_ms) {
    const toml::node* node = Find(scope, "batch_interval_max_ms");
    return Fail(node != nullptr ? LineOf(*node) : scope.line,
                "pipeline.batch_interval_max_ms",
                fmt::format("must be at least batch_interval_ms ({})",
                            pipeline->batch_interval_ms));
  }
  TRIB_RETURN_IF_ERROR(
      GetInt(scope, "checkpoint_interval", 1, kMax, &pipeline->checkpoint_interval));
  TRIB_RETURN_IF_ERROR(
      GetInt(scope, "compact_min_files", 2, kMax, &pipeline->compact_min_files));
  TRIB_RETURN_IF_ERROR(GetInt(scope, "compact_small_file_bytes", 1, kMax,
                              &pipeline->compact_small_file_bytes));
  TRIB_RETURN_IF_ERROR(GetInt(scope, "compact_target_file_bytes", 1, kMax,
                              &pipeline->compact_target_file_bytes));
  TRIB_RETURN_IF_ERROR(GetInt(scope, "gold_min_refresh_interval_ms", 0, kMax,
                              &pipeline->gold_min_refresh_interval_ms));
  TRIB_RETURN_IF_ERROR(GetInt(scope, "reconnect_backoff_min_ms", 1, kMax,
                              &pipeline->reconnect_backoff_min_ms));
  TRIB_RETURN_IF_ERROR(GetInt(scope, "reconnect_backoff_max_ms", 1, kMax,
                              &pipeline->reconnect_backoff_max_ms));
  if (pipeline->reconnect_backoff_max_ms < pipeline->reconnect_backoff_min_ms) {
    const toml::node* node = Find(scope, "reconnect_backoff_max_ms");
    return Fail(node != nullptr ? LineOf(*node) : scope.line,
                "pipeline.reconnect_backoff_max_ms",
                fmt::format("must be at least reconnect_backoff_min_ms ({})",
                            pipeline->reconnect_backoff_min_ms));
  }
  if (pipeline->compact_target_file_bytes < pipeline->compact_small_file_bytes) {
    const toml::node* node = Find(scope, "compact_target_file_bytes");
    return Fail(node != nullptr ? LineOf(*node) : scope.line,
                "pipeline.compact_target_file_bytes",
                fmt::format("must be at least compact_small_file_bytes ({})",
                            pipeline->compact_small_file_bytes));
  }
  return OkStatus();
}

Status Parser::ParseSilver(const Scope& root,
                           const std::vector<SourceConfig>& sources,
                           SilverConfig* silver) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "silver"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "silver", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"tables"}));
  const toml::node* node = Find(scope, "tables");
  if (node == nullptr) {
    return OkStatus();
  }
  const auto* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Fail(LineOf(*node), "silver.tables",
                fmt::format("expected an array of tables ([[silver.tables]]), got {}",
                            TypeName(*node)));
  }
  for (size_t idx = 0; idx < array->size(); ++idx) {
    const toml::table& entry = *array->get(idx)->as_table();
    const Scope entry_scope{entry, fmt::format("silver.tables[{}]", idx),
                            LineOf(entry) != 0 ? LineOf(entry) : LineOf(*node)};
    SilverTableConfig config;
    TRIB_RETURN_IF_ERROR(ParseSilverTable(entry_scope, sources, &config));
    for (const SilverTableConfig& other : silver->tables) {
      if (other.table == config.table && other.source == config.source) {
        return Fail(LineOf(*entry.get("table")), JoinKey(entry_scope.path, "table"),
                    fmt::format("table \"{}\" is configured twice (also at line {})",
                                config.table, other.line));
      }
    }
    silver->tables.push_back(std::move(config));
  }
  return OkStatus();
}

Status Parser::ParseSilverTable(const Scope& scope,
                                const std::vector<SourceConfig>& sources,
                                SilverTableConfig* config) const {
  config->line = scope.line;
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"table", "source", "target", "key", "not_null",
                                         "accepted_values", "ranges", "regex"}));
  TRIB_RETURN_IF_ERROR(Require(scope, "table"));
  TRIB_RETURN_IF_ERROR(GetString(scope, "table", &config->table));
  {
    const size_t dot = config->table.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == config->table.size()) {
      return Fail(LineOf(*Find(scope, "table")), JoinKey(scope.path, "table"),
                  fmt::format("expected \"schema.table\", got \"{}\"", config->table));
    }
  }
  TRIB_RETURN_IF_ERROR(GetString(scope, "source", &config->source));
  if (const toml::node* node = Find(scope, "source")) {
    const bool known =
        std::any_of(sources.begin(), sources.end(),
                    [&](const SourceConfig& s) { return s.name == config->source; });
    if (!known) {
      return Fail(LineOf(*node), JoinKey(scope.path, "source"),
                  fmt::format("no [[sources]] entry is named \"{}\"", config->source));
    }
  }
  TRIB_RETURN_IF_ERROR(GetString(scope, "target", &config->target));
  if (const toml::node* node = Find(scope, "target")) {
    if (!IsIdentifier(config->target)) {
      return Fail(
          LineOf(*node), JoinKey(scope.path, "target"),
          fmt::format("\"{}\" is not a valid table name (letters, digits and '_', "
                      "not starting with a digit)",
                      config->target));
    }
  }
  TRIB_RETURN_IF_ERROR(GetStringList(scope, "key", &config->key, /*allow_single=*/true));
  TRIB_RETURN_IF_ERROR(GetStringList(scope, "not_null", &config->not_null));

  TRIB_ASSIGN_OR_RETURN(const toml::table* accepted, GetTable(scope, "accepted_values"));
  if (accepted != nullptr) {
    const std::string path = JoinKey(scope.path, "accepted_values");
    for (const auto& [column, node] : *accepted) {
      const std::string full_key = JoinKey(path, column.str());
      const auto* array = node.as_array();
      if (array == nullptr) {
        return Fail(LineOf(node), full_key,
                    fmt::format("expected an array of values, got {}", TypeName(node)));
      }
      if (array->empty()) {
        return Fail(LineOf(node), full_key, "must list at least one value");
      }
      std::vector<std::string> values;
      for (size_t idx = 0; idx < array->size(); ++idx) {
        const toml::node& element = *array->get(idx);
        std::optional<std::string> text =
            element.is_table() || element.is_array() ? std::nullopt : ScalarText(element);
        if (!text) {
          return Fail(LineOf(node), fmt::format("{}[{}]", full_key, idx),
                      fmt::format("expected a string, number or boolean, got {}",
                                  TypeName(element)));
        }
        values.push_back(std::move(*text));
      }
      config->accepted_values[std::string(column.str())] = std::move(values);
    }
  }

  TRIB_ASSIGN_OR_RETURN(const toml::table* ranges, GetTable(scope, "ranges"));
  if (ranges != nullptr) {
    const std::string path = JoinKey(scope.path, "ranges");
    for (const auto& [column, node] : *ranges) {
      const std::string full_key = JoinKey(path, column.str());
      const auto* bounds = node.as_table();
      if (bounds == nullptr) {
        return Fail(LineOf(node), full_key,
                    fmt::format("expected a table like {{ min = 0, max = 100 }}, got {}",
                                TypeName(node)));
      }
      const Scope bounds_scope{*bounds, full_key, LineOf(node)};
      TRIB_RETURN_IF_ERROR(CheckKeys(bounds_scope, {"min", "max"}));
      if (bounds->empty()) {
        return Fail(LineOf(node), full_key, "set min, max or both");
      }
      RangeRule rule;
      for (std::string_view bound : {std::string_view("min"), std::string_view("max")}) {
        const toml::node* value = bounds->get(bound);
        if (value == nullptr) {
          continue;
        }
        RuleValue rule_value;
        if (const auto* integer = value->as_integer()) {
          rule_value = integer->get();
        } else if (const auto* floating = value->as_floating_point()) {
          rule_value = floating->get();
        } else if (value->is_string() || value->is_date() || value->is_time() ||
                   value->is_date_time()) {
          rule_value = *ScalarText(*value);
        } else {
          uint32_t line = LineOf(*value) != 0 ? LineOf(*value) : LineOf(node);
          return Fail(line, JoinKey(full_key, bound),
                      fmt::format("expected a number, date, time or string, got {}",
                                  TypeName(*value)));
        }
        (bound == "min" ? rule.min : rule.max) = std::move(rule_value);
      }
      if (rule.min && rule.max) {
        auto as_double = [](const RuleValue& v) -> std::optional<double> {
          if (const auto* i = std::get_if<int64_t>(&v)) {
            return static_cast<double>(*i);
          }
          if (const auto* d = std::get_if<double>(&v)) {
            return *d;
          }
          return std::nullopt;
        };
        const auto low = as_double(*rule.min);
        const auto high = as_double(*rule.max);
        const bool numeric_inverted = low && high && *low > *high;
        const bool text_inverted =
            !low && !high &&
            std::get<std::string>(*rule.min) > std::get<std::string>(*rule.max);
        if (low.has_value() != high.has_value()) {
          return Fail(LineOf(node), full_key,
                      "min and max must both be numbers or both not");
        }
        if (numeric_inverted || text_inverted) {
          return Fail(LineOf(node), full_key, "min is greater than max");
        }
      }
      config->ranges[std::string(column.str())] = std::move(rule);
    }
  }

  TRIB_ASSIGN_OR_RETURN(const toml::table* regex, GetTable(scope, "regex"));
  if (regex != nullptr) {
    const std::string path = JoinKey(scope.path, "regex");
    for (const auto& [column, node] : *regex) {
      const std::string full_key = JoinKey(path, column.str());
      const auto* pattern = node.as_string();
      if (pattern == nullptr) {
        return Fail(
            LineOf(node), full_key,
            fmt::format("expected a regular expression string, got {}", TypeName(node)));
      }
      try {
        std::regex compiled(pattern->get(), std::regex::ECMAScript);
        (void)compiled;
      } catch (const std::regex_error& e) {
        return Fail(LineOf(node), full_key,
                    fmt::format("invalid regular expression \"{}\": {}", pattern->get(),
                                e.what()));
      }
      config->regex[std::string(column.str())] = pattern->get();
    }
  }
  return OkStatus();
}

Status Parser::ParseGold(const Scope& root, GoldConfig* gold) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "gold"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "gold", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"include", "models"}));
  std::vector<std::string> includes;
  TRIB_RETURN_IF_ERROR(GetStringList(scope, "include", &includes, /*allow_single=*/true));
  for (size_t idx = 0; idx < includes.size(); ++idx) {
    const toml::node& include_node = *Find(scope, "include");
    const toml::node* element =
        include_node.is_array() ? include_node.as_array()->get(idx) : &include_node;
    const uint32_t line = LineOf(*element) != 0 ? LineOf(*element) : LineOf(include_node);
    const std::string key = include_node.is_array() ? fmt::format("gold.include[{}]", idx)
                                                    : std::string("gold.include");
    const fs::path path = Resolve(includes[idx]);
    std::ifstream in(path, std::ios::binary);
    std::error_code error;
    if (!in || fs::is_directory(path, error)) {
      return Fail(line, key, fmt::format("cannot read models file {}", path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    toml::table included;
    try {
      included = toml::parse(text.str(), path.string());
    } catch (const toml::parse_error& e) {
      return MakeError(ErrorCode::kInvalidArgument, "{}:{}:{}: TOML syntax error: {}",
                       path.string(), e.source().begin.line, e.source().begin.column,
                       e.description());
    }
    // Relative paths in the included file are relative to it; it may hold only
    // [[gold.models]].
    const Parser included_parser{path.string(), path.parent_path()};
    const Scope included_root{included, "", 1};
    TRIB_RETURN_IF_ERROR(included_parser.CheckKeys(included_root, {"gold"}));
    TRIB_ASSIGN_OR_RETURN(const toml::table* included_gold,
                          included_parser.GetTable(included_root, "gold"));
    if (included_gold != nullptr) {
      const Scope included_scope{*included_gold, "gold", LineOf(*included_gold)};
      TRIB_RETURN_IF_ERROR(included_parser.CheckKeys(included_scope, {"models"}));
      TRIB_RETURN_IF_ERROR(included_parser.ParseModelList(included_scope, gold));
    }
  }
  return ParseModelList(scope, gold);
}

Status Parser::ParseModelList(const Scope& scope, GoldConfig* gold) const {
  const toml::node* node = Find(scope, "models");
  if (node == nullptr) {
    return OkStatus();
  }
  const auto* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Fail(LineOf(*node), "gold.models",
                fmt::format("expected an array of tables ([[gold.models]]), got {}",
                            TypeName(*node)));
  }
  for (size_t idx = 0; idx < array->size(); ++idx) {
    const toml::table& entry = *array->get(idx)->as_table();
    const Scope entry_scope{entry, fmt::format("gold.models[{}]", idx),
                            LineOf(entry) != 0 ? LineOf(entry) : LineOf(*node)};
    GoldModelConfig model;
    TRIB_RETURN_IF_ERROR(ParseGoldModel(entry_scope, &model));
    for (const GoldModelConfig& other : gold->models) {
      if (other.name == model.name) {
        return Fail(LineOf(*entry.get("name")), JoinKey(entry_scope.path, "name"),
                    fmt::format("duplicate model name \"{}\" (also defined at {}:{})",
                                model.name, other.defined_in, other.line));
      }
    }
    gold->models.push_back(std::move(model));
  }
  return OkStatus();
}

Status Parser::ParseGoldModel(const Scope& scope, GoldModelConfig* model) const {
  model->line = scope.line;
  model->defined_in = name_;
  TRIB_RETURN_IF_ERROR(
      CheckKeys(scope, {"name", "sql", "query", "key", "materialization"}));
  TRIB_RETURN_IF_ERROR(Require(scope, "name"));
  TRIB_RETURN_IF_ERROR(GetString(scope, "name", &model->name));
  if (!IsIdentifier(model->name)) {
    return Fail(
        LineOf(*Find(scope, "name")), JoinKey(scope.path, "name"),
        fmt::format("\"{}\" is not a valid model name (letters, digits and '_', not "
                    "starting with a digit)",
                    model->name));
  }
  const toml::node* sql = Find(scope, "sql");
  const toml::node* query = Find(scope, "query");
  if ((sql == nullptr) == (query == nullptr)) {
    return Fail(sql != nullptr ? LineOf(*sql) : scope.line, JoinKey(scope.path, "sql"),
                "set exactly one of sql (a file of DuckDB SQL) and query (inline SQL)");
  }
  if (sql != nullptr) {
    TRIB_RETURN_IF_ERROR(GetPath(scope, "sql", &model->sql_file));
    std::error_code error;
    if (!fs::is_regular_file(model->sql_file, error)) {
      return Fail(LineOf(*sql), JoinKey(scope.path, "sql"),
                  fmt::format("SQL file not found: {}", model->sql_file.string()));
    }
  } else {
    TRIB_RETURN_IF_ERROR(GetString(scope, "query", &model->query));
    if (model->query.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Fail(LineOf(*query), JoinKey(scope.path, "query"), "must not be empty");
    }
  }
  TRIB_RETURN_IF_ERROR(GetStringList(scope, "key", &model->key, /*allow_single=*/true));
  TRIB_RETURN_IF_ERROR(
      GetEnum<Materialization>(scope, "materialization",
                               {{"table", Materialization::kTable},
                                {"incremental", Materialization::kIncremental},
                                {"scd2", Materialization::kScd2}},
                               &model->materialization));
  if (model->materialization != Materialization::kTable && model->key.empty()) {
    return Fail(LineOf(*Find(scope, "materialization")), JoinKey(scope.path, "key"),
                fmt::format("required when materialization is \"{}\"",
                            MaterializationName(model->materialization)));
  }
  return OkStatus();
}

Status Parser::ParseHttp(const Scope& root, HttpConfig* http) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "http"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "http", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"enabled", "bind", "port"}));
  TRIB_RETURN_IF_ERROR(GetBool(scope, "enabled", &http->enabled));
  TRIB_RETURN_IF_ERROR(GetString(scope, "bind", &http->bind));
  if (const toml::node* node = Find(scope, "bind");
      node != nullptr && http->bind.empty()) {
    return Fail(LineOf(*node), "http.bind", "must not be empty");
  }
  int64_t port = http->port;
  TRIB_RETURN_IF_ERROR(GetInt(scope, "port", 0, 65535, &port));
  http->port = static_cast<uint16_t>(port);
  return OkStatus();
}

Status Parser::ParseLog(const Scope& root, LogConfig* log) const {
  TRIB_ASSIGN_OR_RETURN(const toml::table* table, GetTable(root, "log"));
  if (table == nullptr) {
    return OkStatus();
  }
  const Scope scope{*table, "log", LineOf(*table)};
  TRIB_RETURN_IF_ERROR(CheckKeys(scope, {"level", "format", "file"}));
  TRIB_RETURN_IF_ERROR(GetEnum<LogLevel>(scope, "level",
                                         {{"trace", LogLevel::kTrace},
                                          {"debug", LogLevel::kDebug},
                                          {"info", LogLevel::kInfo},
                                          {"warn", LogLevel::kWarn},
                                          {"error", LogLevel::kError},
                                          {"critical", LogLevel::kCritical},
                                          {"off", LogLevel::kOff}},
                                         &log->options.level));
  TRIB_RETURN_IF_ERROR(GetEnum<LogFormat>(
      scope, "format", {{"text", LogFormat::kText}, {"json", LogFormat::kJson}},
      &log->options.format));
  log->level_set = Find(scope, "level") != nullptr;
  log->format_set = Find(scope, "format") != nullptr;
  fs::path file;
  TRIB_RETURN_IF_ERROR(GetPath(scope, "file", &file));
  log->options.file = file.string();
  return OkStatus();
}

Status Parser::Parse(const toml::table& root, PipelineConfig* config) {
  const Scope scope{root, "", 1};
  TRIB_RETURN_IF_ERROR(CheckKeys(
      scope, {"lake", "sources", "kafka", "pipeline", "silver", "gold", "http", "log"}));
  TRIB_RETURN_IF_ERROR(ParseLake(scope, &config->lake));
  // [kafka] first: kafka sources default to its bootstrap servers.
  TRIB_RETURN_IF_ERROR(ParseKafka(scope, &config->kafka));
  TRIB_RETURN_IF_ERROR(ParseSources(scope, config->kafka, &config->sources));
  TRIB_RETURN_IF_ERROR(ParsePipeline(scope, &config->pipeline));
  TRIB_RETURN_IF_ERROR(ParseSilver(scope, config->sources, &config->silver));
  TRIB_RETURN_IF_ERROR(ParseGold(scope, &config->gold));
  TRIB_RETURN_IF_ERROR(ParseHttp(scope, &config->http));
  TRIB_RETURN_IF_ERROR(ParseLog(scope, &config->log));
  return OkStatus();
}

}  // namespace

std::string_view SourceTypeName(SourceType type) {
  switch (type) {
    case SourceType::kPostgres:
      return "postgres";
    case SourceType::kMysql:
      return "mysql";
    case SourceType::kKafka:
      return "kafka";
  }
  return "unknown";
}

std::string_view SnapshotModeName(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial:
      return "initial";
    case SnapshotMode::kNever:
      return "never";
    case SnapshotMode::kInitialOnly:
      return "initial_only";
    case SnapshotMode::kAlways:
      return "always";
  }
  return "unknown";
}

std::string_view MaterializationName(Materialization materialization) {
  switch (materialization) {
    case Materialization::kTable:
      return "table";
    case Materialization::kIncremental:
      return "incremental";
    case Materialization::kScd2:
      return "scd2";
  }
  return "unknown";
}

std::string_view OffsetResetName(OffsetReset reset) {
  return reset == OffsetReset::kLatest ? "latest" : "earliest";
}

const SourceConfig* PipelineConfig::FindSource(std::string_view name) const {
  for (const SourceConfig& source : sources) {
    if (source.name == name) {
      return &source;
    }
  }
  return nullptr;
}

Result<PipelineConfig> ParseConfig(std::string_view text, std::string_view name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const toml::source_position& begin = e.source().begin;
    return MakeError(ErrorCode::kInvalidArgument, "{}:{}:{}: TOML syntax error: {}", name,
                     begin.line, begin.column, e.description());
  }
  PipelineConfig config;
  config.source_name = std::string(name);
  Parser parser{std::string(name), fs::path(name).parent_path()};
  TRIB_RETURN_IF_ERROR(parser.Parse(root, &config));
  return config;
}

Result<PipelineConfig> LoadConfig(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    return MakeError(ErrorCode::kNotFound, "config file {} does not exist",
                     path.string());
  }
  if (fs::is_directory(path, error)) {
    return MakeError(ErrorCode::kInvalidArgument, "config file {} is a directory",
                     path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kIo, "cannot open config file {}", path.string());
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return MakeError(ErrorCode::kIo, "cannot read config file {}", path.string());
  }
  return ParseConfig(buffer.str(), path.string());
}

std::string DescribeConfig(const PipelineConfig& config) {
  std::string out = fmt::format("config {}\n  lake root: {}\n", config.source_name,
                                config.lake.root.string());
  for (const SourceConfig& source : config.sources) {
    out += fmt::format("  source {} ({})", source.name, SourceTypeName(source.type));
    if (!source.dsn.empty()) {
      out += fmt::format(" dsn: {}", RedactDsn(source.dsn));
    }
    if (!source.bootstrap_servers.empty()) {
      out += fmt::format(" bootstrap: {}", RedactDsn(source.bootstrap_servers));
    }
    if (source.type == SourceType::kPostgres) {
      out += fmt::format(" slot: {} publication: {}", source.slot_name,
                         source.publication_name);
    }
    if (source.type != SourceType::kKafka) {
      out += fmt::format(" snapshot: {}", SnapshotModeName(source.snapshot_mode));
    }
    out += fmt::format(" tables: {}\n",
                       source.tables.empty()
                           ? std::string("all")
                           : fmt::format("{}", fmt::join(source.tables, ", ")));
  }
  for (const SilverTableConfig& table : config.silver.tables) {
    out += fmt::format(
        "  silver table {}: {} not-null, {} accepted-values, {} range, {} regex "
        "rules\n",
        table.table, table.not_null.size(), table.accepted_values.size(),
        table.ranges.size(), table.regex.size());
  }
  for (const GoldModelConfig& model : config.gold.models) {
    out += fmt::format("  gold model {} ({})\n", model.name,
                       MaterializationName(model.materialization));
  }
  if (config.http.enabled) {
    out += fmt::format("  http: {}:{}\n", config.http.bind, config.http.port);
  }
  return out;
}

}  // namespace tributary::cli
