#include "devserver/port.h"

#include <cerrno>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tributary::devserver {
namespace {

// Binds a TCP socket to 127.0.0.1:port. Returns the fd (caller closes) or -errno.
int BindLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -errno;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

}  // namespace

Result<uint16_t> PickFreeLoopbackPort() {
  int fd = BindLoopback(0);
  if (fd < 0) {
    return MakeError(ErrorCode::kNetwork, "cannot bind a socket to 127.0.0.1: {}",
                     std::error_code(-fd, std::generic_category()).message());
  }
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  int rc = getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int err = errno;
  close(fd);
  if (rc != 0) {
    return MakeError(ErrorCode::kNetwork, "getsockname failed: {}",
                     std::error_code(err, std::generic_category()).message());
  }
  return ntohs(address.sin_port);
}

bool LoopbackPortIsFree(uint16_t port) {
  int fd = BindLoopback(port);
  if (fd < 0) {
    return false;
  }
  close(fd);
  return true;
}

}  // namespace tributary::devserver
