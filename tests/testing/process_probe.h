#pragma once

#include <vector>

#include <sys/types.h>

namespace tributary::testing {

/// Whether no process `pid` exists any more (reaped, or never existed). A zombie still
/// counts as existing: its parent has not reaped it.
bool ProcessGone(pid_t pid);

/// Live (non-zombie) processes whose parent is `parent`, from /proc: a postmaster's
/// backends and auxiliary processes, for checking that a stop leaves none behind.
std::vector<pid_t> ChildProcessesOf(pid_t parent);

}  // namespace tributary::testing
