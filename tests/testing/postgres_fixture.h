#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "devserver/postgres_server.h"
#include "testing/test_server.h"

namespace tributary::testing {

/// Adjusts the options of a test server before it starts.
using PostgresCustomizer = std::function<void(devserver::PostgresServerOptions&)>;

/// Starts a throwaway PostgreSQL 15 server for tests: a fresh work dir under $TMPDIR
/// removed afterwards, fsync off, wal_level=logical, a free port on 127.0.0.1, superuser
/// "postgres" (no password), database "tributary". `customize` may change any option. The
/// result is `missing` when the PostgreSQL binaries are not installed.
TestServer<devserver::PostgresServer> StartTestPostgres(
    const PostgresCustomizer& customize = {});

/// A GoogleTest fixture sharing one PostgreSQL server across the tests of a suite:
///
///   class SlotTest : public tributary::testing::PostgresFixture {};
///   TEST_F(SlotTest, Creates) { ASSERT_TRUE(postgres().Exec("SELECT 1").ok()); }
///
/// Tests are skipped (or fail under TRIB_E2E_REQUIRED=1) when PostgreSQL is not
/// installed. A suite needing other options defines its own SetUpTestSuite() calling
/// StartSuiteServer(customize). Each suite starts its own server, so state written by one
/// suite never leaks into another; tests of a suite share it (use distinct table names).
class PostgresFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite() { StartSuiteServer(); }
  static void TearDownTestSuite() { suite_server().reset(); }

 protected:
  void SetUp() override { TRIB_REQUIRE_SERVER(suite_server()); }

  static void StartSuiteServer(const PostgresCustomizer& customize = {}) {
    suite_server() = StartTestPostgres(customize);
  }
  /// The suite's server. Only valid in tests (SetUp() checked it exists).
  static devserver::PostgresServer& postgres() { return *suite_server(); }
  static TestServer<devserver::PostgresServer>& suite_server() {
    static TestServer<devserver::PostgresServer> server;
    return server;
  }
};

}  // namespace tributary::testing
