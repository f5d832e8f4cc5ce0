#include "pipeline/validation.h"

#include <algorithm>
#include <regex>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "pipeline/types.h"

namespace tributary::pipeline {

Status ValidationRules::Validate() const {
  for (const auto& [column, pattern] : regex) {
    try {
      std::regex compiled(pattern, std::regex::ECMAScript);
      (void)compiled;
    } catch (const std::regex_error& e) {
      return MakeError(ErrorCode::kInvalidArgument, "regex rule for column '{}': {}: {}",
                       column, pattern, e.what());
    }
  }
  return OkStatus();
}

namespace {

const core::Value* FindColumn(const core::ChangeEvent& event, const std::string& column) {
  if (!event.schema || !event.after) {
    return nullptr;
  }
  for (size_t idx = 0; idx < event.schema->columns.size() && idx < event.after->size(); ++idx) {
    if (event.schema->columns[idx].name == column) {
      return &(*event.after)[idx];
    }
  }
  return nullptr;
}

std::string BoundText(const RuleBound& bound) {
  return std::visit(
      [](const auto& v) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      bound);
}

// -1, 0, 1 comparing value with bound; nullopt when not comparable.
std::optional<int> Compare(const core::Value& value, const RuleBound& bound) {
  if (std::holds_alternative<std::string>(bound)) {
    std::string text = ValueText(value);
    int c = text.compare(std::get<std::string>(bound));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  double b = std::holds_alternative<int64_t>(bound)
                 ? static_cast<double>(std::get<int64_t>(bound))
                 : std::get<double>(bound);
  std::optional<double> v = value.ToDouble();
  if (!v && value.kind() == core::ValueKind::kDecimal) {
    try {
      v = std::stod(value.AsDecimal().ToString());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (!v) {
    return std::nullopt;
  }
  return *v < b ? -1 : (*v > b ? 1 : 0);
}

}  // namespace

std::optional<std::string> CheckRules(const ValidationRules& rules,
                                      const core::ChangeEvent& event) {
  if (event.op != core::Op::kCreate && event.op != core::Op::kUpdate &&
      event.op != core::Op::kRead) {
    return std::nullopt;
  }
  for (const auto& column : rules.not_null) {
    const core::Value* value = FindColumn(event, column);
    if (value == nullptr || value->is_null()) {
      return fmt::format("not_null({})", column);
    }
  }
  for (const auto& [column, accepted] : rules.accepted_values) {
    const core::Value* value = FindColumn(event, column);
    if (value == nullptr || value->is_null() || value->is_unavailable()) {
      continue;
    }
    std::string text = ValueText(*value);
    if (std::find(accepted.begin(), accepted.end(), text) == accepted.end()) {
      return fmt::format("accepted_values({}): '{}'", column, text);
    }
  }
  for (const auto& [column, range] : rules.ranges) {
    const core::Value* value = FindColumn(event, column);
    if (value == nullptr || value->is_null() || value->is_unavailable()) {
      continue;
    }
    if (range.min) {
      auto c = Compare(*value, *range.min);
      if (!c || *c < 0) {
        return fmt::format("range({}): {} < min {}", column, ValueText(*value),
                           BoundText(*range.min));
      }
    }
    if (range.max) {
      auto c = Compare(*value, *range.max);
      if (!c || *c > 0) {
        return fmt::format("range({}): {} > max {}", column, ValueText(*value),
                           BoundText(*range.max));
      }
    }
  }
  for (const auto& [column, pattern] : rules.regex) {
    const core::Value* value = FindColumn(event, column);
    if (value == nullptr || value->is_null() || value->is_unavailable()) {
      continue;
    }
    std::string text = ValueText(*value);
    bool match = false;
    try {
      match = std::regex_match(text, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
      match = false;
    }
    if (!match) {
      return fmt::format("regex({}): '{}'", column, text);
    }
  }
  return std::nullopt;
}

}  // namespace tributary::pipeline
