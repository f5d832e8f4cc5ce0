#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "devserver/mariadb_server.h"
#include "testing/test_server.h"

namespace tributary::testing {

/// Adjusts the options of a test server before it starts.
using MariaDbCustomizer = std::function<void(devserver::MariaDbServerOptions&)>;

/// Starts a throwaway MariaDB server for tests: a fresh work dir under $TMPDIR removed
/// afterwards, log_bin with binlog_format=ROW, binlog_row_image=FULL,
/// binlog_row_metadata=FULL, a random server_id, a free port on 127.0.0.1, user
/// "tributary" (no password, all privileges) and database "tributary". `customize` may
/// change any option. The result is `missing` when mariadbd or mariadb-install-db is not
/// installed.
TestServer<devserver::MariaDbServer> StartTestMariaDb(
    const MariaDbCustomizer& customize = {});

/// A GoogleTest fixture sharing one MariaDB server across the tests of a suite; see
/// PostgresFixture for the contract.
class MariaDbFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite() { StartSuiteServer(); }
  static void TearDownTestSuite() { suite_server().reset(); }

 protected:
  void SetUp() override { TRIB_REQUIRE_SERVER(suite_server()); }

  static void StartSuiteServer(const MariaDbCustomizer& customize = {}) {
    suite_server() = StartTestMariaDb(customize);
  }
  static devserver::MariaDbServer& mariadb() { return *suite_server(); }
  static TestServer<devserver::MariaDbServer>& suite_server() {
    static TestServer<devserver::MariaDbServer> server;
    return server;
  }
};

}  // namespace tributary::testing
