#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "core/result.h"

namespace tributary::testing {

/// Whether TRIB_E2E_REQUIRED=1 (CI sets it): a missing server then fails a test instead
/// of skipping it.
bool E2eRequired();

/// A fresh directory $TMPDIR/<prefix>-XXXXXX (TMPDIR defaults to /tmp) for a server's
/// work dir. The caller removes it (the devservers do with remove_work_dir). Errors: kIo.
Result<std::filesystem::path> MakeWorkDir(const std::string& prefix);

/// $TMPDIR/tributary-devserver-cache: where test servers keep initdb / mariadb-install-db
/// templates, so each test process copies a data dir instead of creating one.
std::filesystem::path TemplateCacheDir();

/// A server a test needs, or why there is none. Produced by StartTestPostgres() and
/// friends; check it in SetUp() with TRIB_REQUIRE_SERVER.
template <typename T>
struct TestServer {
  std::unique_ptr<T> server;
  /// Why `server` is null.
  std::optional<Error> error;
  /// True when `error` only says the server software is not installed: such tests are
  /// skipped, unless TRIB_E2E_REQUIRED=1, where they fail.
  bool missing = false;

  static TestServer Missing(Error why) {
    TestServer out;
    out.error = std::move(why);
    out.missing = true;
    return out;
  }
  static TestServer Failed(Error why) {
    TestServer out;
    out.error = std::move(why);
    return out;
  }

  explicit operator bool() const { return server != nullptr; }
  T* operator->() const { return server.get(); }
  T& operator*() const { return *server; }
  T* get() const { return server.get(); }
  void reset() { *this = TestServer(); }

  /// Why there is no server, for a skip or failure message.
  std::string Explain() const {
    if (server) {
      return "";
    }
    if (!error) {
      return "server was not started (call the suite's SetUpTestSuite)";
    }
    if (missing) {
      return error->ToString() +
             (E2eRequired() ? " [TRIB_E2E_REQUIRED=1: failing instead of skipping]"
                            : " [skipped; set TRIB_E2E_REQUIRED=1 to fail instead]");
    }
    return error->ToString();
  }
};

}  // namespace tributary::testing

/// In SetUp() or a test body: skips the test when `test_server` is missing because the
/// server software is not installed (fails instead under TRIB_E2E_REQUIRED=1), fails it
/// when the server could not start for any other reason, and continues otherwise.
#define TRIB_REQUIRE_SERVER(test_server)                                  \
  do {                                                                    \
    const auto& _trib_server = (test_server);                             \
    if (!_trib_server) {                                                  \
      if (_trib_server.missing && !::tributary::testing::E2eRequired()) { \
        GTEST_SKIP() << _trib_server.Explain();                           \
      } else {                                                            \
        GTEST_FAIL() << _trib_server.Explain();                           \
      }                                                                   \
    }                                                                     \
  } while (false)

/// Asserts that a Result or Status is ok, printing its error otherwise.
#define TRIB_ASSERT_OK(expr)                                           \
  do {                                                                 \
    const auto& _trib_result = (expr);                                 \
    ASSERT_TRUE(_trib_result.ok()) << _trib_result.error().ToString(); \
  } while (false)
