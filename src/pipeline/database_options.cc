#include "pipeline/database_options.h"

#include <filesystem>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

namespace tributary::pipeline {

sql::DatabaseOptions StageDatabaseOptions(std::string_view stage) {
  sql::DatabaseOptions options;
  options.config["memory_limit"] = std::string(kStageMemoryLimit);
  options.config["threads"] = "1";
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    base = "/tmp";
  }
  options.config["temp_directory"] =
      (base / fmt::format("tributary-{}-{}", static_cast<long>(getpid()), stage))
          .string();
  return options;
}

}  // namespace tributary::pipeline
