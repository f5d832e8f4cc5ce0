#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/result.h"
#include "testing/test_server.h"

namespace tributary::testing {

/// A Kafka cluster for tests: librdkafka's in-process mock cluster (rdkafka_mock.h) whose
/// brokers listen on 127.0.0.1 TCP ports any Kafka client can reach, or a real broker
/// when TRIB_TEST_KAFKA_BOOTSTRAP is set (e.g. "127.0.0.1:9092").
///
/// The mock cluster runs on librdkafka's own threads inside this process and lives as
/// long as this object. Not thread-safe; bootstrap_servers() may be read from any thread.
class KafkaTestCluster {
 public:
  /// TRIB_TEST_KAFKA_BOOTSTRAP when set (checked with a metadata request), else
  /// StartMock(brokers). Errors: kNetwork (real broker unreachable), kInternal.
  static Result<std::unique_ptr<KafkaTestCluster>> Start(int brokers = 3);

  /// A mock cluster with `brokers` brokers. Errors: kInternal.
  static Result<std::unique_ptr<KafkaTestCluster>> StartMock(int brokers = 3);

  ~KafkaTestCluster();
  KafkaTestCluster(const KafkaTestCluster&) = delete;
  KafkaTestCluster& operator=(const KafkaTestCluster&) = delete;

  /// "host:port,host:port,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  bool is_mock() const { return mock_ != nullptr; }
  /// The mock cluster for fault injection (rd_kafka_mock_broker_set_down, ...), or
  /// nullptr for a real broker. Owned by this object.
  rd_kafka_mock_cluster_t* mock() const { return mock_; }

  /// Creates `topic` with `partitions` partitions. On the mock cluster replication_factor
  /// must not exceed the broker count. Errors: kAlreadyExists, kInvalidArgument,
  /// kTimeout, kInternal.
  Status CreateTopic(const std::string& topic,
                     int partitions,
                     int replication_factor = 1);

  /// `base` plus a suffix unique to this process and call, so runs against a shared real
  /// broker never see each other's messages.
  std::string UniqueTopic(std::string_view base);

 private:
  KafkaTestCluster() = default;

  rd_kafka_t* handle_ = nullptr;  // owns the mock cluster; admin client for a real broker
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_servers_;
  int topic_counter_ = 0;
};

/// Starts the Kafka cluster for tests (KafkaTestCluster::Start(3)). Never `missing`:
/// librdkafka's mock cluster is linked in.
TestServer<KafkaTestCluster> StartTestKafka(int brokers = 3);

/// A GoogleTest fixture sharing one Kafka cluster (3 mock brokers, or
/// TRIB_TEST_KAFKA_BOOTSTRAP) across the tests of a suite; see PostgresFixture.
class KafkaMockFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite() { suite_server() = StartTestKafka(3); }
  static void TearDownTestSuite() { suite_server().reset(); }

 protected:
  void SetUp() override { TRIB_REQUIRE_SERVER(suite_server()); }

  static KafkaTestCluster& kafka() { return *suite_server(); }
  static TestServer<KafkaTestCluster>& suite_server() {
    static TestServer<KafkaTestCluster> server;
    return server;
  }
};

}  // namespace tributary::testing
