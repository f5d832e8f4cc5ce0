#include "lake/delta/checkpoint_reader.h"

#include <system_error>

#include "lake/delta/internal/uri.h"
#include "sql/database.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;

Result<std::vector<Action>> ReadParquetActions(sql::Connection& connection,
                                               const std::vector<fs::path>& files) {
  std::vector<Action> actions;
  if (files.empty()) {
    return actions;
  }
  std::string list = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    if (!fs::exists(files[i], ec)) {
      return MakeError(ErrorCode::kNotFound, "file '{}' does not exist",
                       files[i].string());
    }
    list += (i > 0 ? ", " : "") + sql::QuoteLiteral(files[i].string());
  }
  list += "]";
  // Each row is one action: converting the whole row to JSON yields
  // {"txn":null,"add":{...},...}, which ActionFromJson reads like a commit line.
  auto result = connection.Query(fmt::format(
      "SELECT to_json(t) FROM read_parquet({}, union_by_name = true) AS t", list));
  if (!result.ok()) {
    Error error = std::move(result).status();
    return Error(
        ErrorCode::kCorruption,
        fmt::format("cannot read '{}': {}", files.front().string(), error.message()));
  }
  actions.reserve(result->row_count());
  for (size_t row = 0; row < result->row_count(); ++row) {
    auto parsed = ParseActionLine(result->GetString(0, row));
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext(
          fmt::format("row {} of '{}'", row, files.front().string()));
    }
    if (*parsed) {
      actions.push_back(std::move(**parsed));
    }
  }
  return actions;
}

Result<std::vector<Action>> ReadCheckpoint(sql::Connection& connection,
                                           const fs::path& table_root,
                                           const CheckpointFiles& checkpoint) {
  std::vector<Action> actions;
  std::string what =
      fmt::format("checkpoint '{}' (version {})",
                  checkpoint.parts.front().path.filename().string(), checkpoint.version);
  bool is_json = checkpoint.parts.size() == 1 &&
                 checkpoint.parts.front().path.extension() == ".json";
  if (is_json) {
    auto text = ReadFileToString(checkpoint.parts.front().path);
    if (!text.ok()) {
      return std::move(text).status().AddContext("reading " + what);
    }
    auto parsed = ParseCommitText(*text);
    if (!parsed.ok()) {
      Error error = std::move(parsed).status();
      return Error(ErrorCode::kCorruption,
                   fmt::format("{} is malformed: {}", what, error.ToString()));
    }
    actions = std::move(*parsed);
  } else {
    std::vector<fs::path> files;
    for (const auto& part : checkpoint.parts) {
      files.push_back(part.path);
    }
    auto parsed = ReadParquetActions(connection, files);
    if (!parsed.ok()) {
      return std::move(parsed).status().AddContext("reading " + what);
    }
    actions = std::move(*parsed);
  }
  // V2 checkpoints: file actions live in sidecars (PROTOCOL.md "Sidecar Files").
  std::vector<fs::path> sidecars;
  for (const auto& action : actions) {
    if (const auto* sidecar = std::get_if<Sidecar>(&action)) {
      TRIB_ASSIGN_OR_RETURN(fs::path resolved,
                            internal::ResolveLogPath(
                                table_root / "_delta_log" / "_sidecars", sidecar->path));
      std::error_code ec;
      if (!fs::exists(resolved, ec)) {
        return MakeError(ErrorCode::kNotFound,
                         "{} lists sidecar '{}', which does not exist", what,
                         resolved.string());
      }
      sidecars.push_back(std::move(resolved));
    }
  }
  if (!sidecars.empty()) {
    auto sidecar_actions = ReadParquetActions(connection, sidecars);
    if (!sidecar_actions.ok()) {
      return std::move(sidecar_actions)
          .status()
          .AddContext("reading sidecars of " + what);
    }
    for (auto& action : *sidecar_actions) {
      actions.push_back(std::move(action));
    }
  }
  return actions;
}

}  // namespace tributary::lake::delta
