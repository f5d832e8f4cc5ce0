// Exactly-once across 20 SIGKILLs of `tributary run` during a pgbench load (slow label).

#include "pipeline_e2e_util.h"

namespace tributary::pipeline_e2e {
namespace {

TEST_F(PipelinePostgresTest, ExactlyOnceAcrossTwentyKills) { KillTest(postgres(), 20); }

}  // namespace
}  // namespace tributary::pipeline_e2e
