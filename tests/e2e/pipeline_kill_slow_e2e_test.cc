// Exactly-once across 20 SIGKILLs of `tributary run` during a pgbench load (slow label).

#include "pipeline_e2e_util.h"

namespace tributary::pipeline_e2e {
namespace {

// Both kill tests take minutes on 2 cores under pgbench load: they carry the `slow` label
// and run with `ctest --preset slow`, outside the default and CI presets.
TEST_F(PipelinePostgresTest, ExactlyOnceAcrossFiveKills) { KillTest(postgres(), 5); }

TEST_F(PipelinePostgresTest, ExactlyOnceAcrossTwentyKills) { KillTest(postgres(), 20); }

}  // namespace
}  // namespace tributary::pipeline_e2e
