#include "pipeline/metrics.h"

#include <fmt/format.h>

namespace tributary::pipeline {

std::string PipelineMetrics::Summary() const {
  return fmt::format(
      "bronze_events={} bronze_commits={} bronze_version={} replayed_dropped={} "
      "silver_upserted={} silver_deleted={} silver_commits={} silver_bronze_version={} "
      "quarantined={} dead_letter={} gold_refreshes={} gold_failures={} "
      "gold_bronze_version={} compactions={} compaction_checks_deferred={} "
      "bronze_batch_interval_ms={}",
      bronze_events.load(), bronze_commits.load(), bronze_version.load(),
      bronze_replayed_events_dropped.load(), silver_rows_upserted.load(),
      silver_rows_deleted.load(), silver_commits.load(), silver_bronze_version.load(),
      quarantined_rows.load(), dead_letter_rows.load(), gold_refreshes.load(),
      gold_failures.load(), gold_bronze_version.load(), compactions.load(),
      compaction_checks_deferred.load(), bronze_batch_interval_ms.load());
}

}  // namespace tributary::pipeline
