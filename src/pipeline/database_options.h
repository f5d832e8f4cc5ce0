#pragma once

#include <string_view>

#include "sql/database.h"

namespace tributary::pipeline {

/// DuckDB memory each pipeline stage's in-memory database may use before it spills to
/// disk. DuckDB's default (80% of RAM per database) let RSS grow with every commit.
inline constexpr std::string_view kStageMemoryLimit = "512MB";

/// Options for the in-memory DuckDB database of pipeline stage `stage` ("bronze",
/// "silver", ...): a bounded memory_limit and a temp directory of its own under the
/// system temp dir (databases sharing DuckDB's default `.tmp` in the working directory
/// overwrite each other's spill files), and one DuckDB thread: each stage already runs on
/// its own thread, and with DuckDB's default (a worker per core) the calling thread spent
/// about a tenth of its time handing small tasks to workers and waiting for them
/// (bench/pipeline_bench: 25% less CPU per row, 30% more rows/s with one thread).
sql::DatabaseOptions StageDatabaseOptions(std::string_view stage);

}  // namespace tributary::pipeline
