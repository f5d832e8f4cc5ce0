#pragma once

#include <cstdint>

#include "core/result.h"

namespace tributary::devserver {

/// A TCP port on 127.0.0.1 that was free a moment ago: the kernel's pick for a socket
/// bound to port 0, closed again before returning. Another process may take it before the
/// caller binds it, so callers retry with a new port on "address in use". Errors:
/// kNetwork when no socket can be bound.
Result<uint16_t> PickFreeLoopbackPort();

/// Whether a TCP socket can be bound to 127.0.0.1:`port` right now (SO_REUSEADDR set, as
/// servers do).
bool LoopbackPortIsFree(uint16_t port);

}  // namespace tributary::devserver
