#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/change_event.h"
#include "core/result.h"

namespace tributary::pipeline {

/// A bound of a range rule: integer, float or text (dates and times in ISO-8601 form,
/// compared as text, which orders ISO dates correctly).
using RuleBound = std::variant<int64_t, double, std::string>;

struct RangeBounds {
  std::optional<RuleBound> min;  ///< inclusive
  std::optional<RuleBound> max;  ///< inclusive
};

/// Per-table validation rules (config [[silver.tables]]). A row failing any rule goes to
/// silver/_quarantine instead of its silver table.
struct ValidationRules {
  std::vector<std::string> not_null;
  /// column -> accepted values, compared with the value's text form (ValueText()).
  std::map<std::string, std::vector<std::string>> accepted_values;
  std::map<std::string, RangeBounds> ranges;
  /// column -> ECMAScript regular expression the whole text form must match (null values
  /// pass; use not_null to forbid them).
  std::map<std::string, std::string> regex;

  bool empty() const {
    return not_null.empty() && accepted_values.empty() && ranges.empty() && regex.empty();
  }
  /// Compiles the regular expressions. Errors: kInvalidArgument naming the column.
  Status Validate() const;
};

/// Checks the row image of an r/c/u event (other ops always pass). Returns the first failed
/// rule as text, e.g. "not_null(email)", "accepted_values(status): 'x'",
/// "range(price): -1 < min 0", "regex(email): 'bad'", or nullopt when the row passes.
/// Unavailable (unchanged TOAST) values pass every rule.
std::optional<std::string> CheckRules(const ValidationRules& rules,
                                      const core::ChangeEvent& event);

}  // namespace tributary::pipeline
