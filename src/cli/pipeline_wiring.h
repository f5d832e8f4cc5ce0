#pragma once

#include <chrono>
#include <vector>

#include "capture/postgres/options.h"
#include "cli/config.h"
#include "core/result.h"
#include "pipeline/pipeline.h"

/// Translation of the TOML config into the pipeline's options and concrete sources (the
/// composition root's job, STYLE.md §2).
namespace tributary::cli {

/// [pipeline], [silver] and [gold] -> PipelineOptions (lake root included).
/// Errors: kInvalidArgument (a gold model's SQL file cannot be read).
Result<pipeline::PipelineOptions> PipelineOptionsFromConfig(const PipelineConfig& config,
                                                            bool once);

/// A postgres [[sources]] entry -> the capture's options; the one conversion `run`,
/// `process` and `capture` share. slot_name and publication_name default to
/// "tributary_<source name>" (lower case, other characters '_'); heartbeat_interval_ms
/// and heartbeat_table map to the heartbeat options, [pipeline] reconnect_backoff_*_ms to
/// the reconnect backoff. Errors: kInvalidArgument (a bad table name, heartbeat_table or
/// option value, naming the source).
Result<capture::postgres::PostgresCaptureOptions> PostgresCaptureOptionsFromConfig(
    const PipelineConfig& config, const SourceConfig& source);

/// One capture per [[sources]] entry (PostgreSQL only for now; mysql and kafka sources
/// are kUnsupported). For --once, a PostgreSQL source is caught up when it has returned
/// every transaction up to the server's WAL position at its first check (or has been idle
/// for 2 s after its snapshot, when no further transaction reaches that position).
Result<std::vector<pipeline::PipelineSource>> MakeSources(const PipelineConfig& config);

}  // namespace tributary::cli
