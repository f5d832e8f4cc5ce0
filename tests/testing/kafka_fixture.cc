#include "testing/kafka_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include <unistd.h>

namespace tributary::testing {
namespace {

// librdkafka logs through this instead of stderr: warnings and worse only, as a test's
// output is read by people.
void QuietLog(const rd_kafka_t* /*rk*/,
              int level,
              const char* facility,
              const char* message) {
  if (level <= 4) {
    fprintf(stderr, "librdkafka %s: %s\n", facility, message);
  }
}

Result<rd_kafka_t*> NewProducer(const std::string& bootstrap_servers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!bootstrap_servers.empty() &&
      rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_servers.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return MakeError(ErrorCode::kInvalidArgument, "bad bootstrap.servers '{}': {}",
                     bootstrap_servers, errstr);
  }
  rd_kafka_conf_set_log_cb(conf, QuietLog);
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (handle == nullptr) {
    return MakeError(ErrorCode::kInternal, "rd_kafka_new failed: {}", errstr);
  }
  return handle;
}

}  // namespace

Result<std::unique_ptr<KafkaTestCluster>> KafkaTestCluster::Start(int brokers) {
  const char* bootstrap = std::getenv("TRIB_TEST_KAFKA_BOOTSTRAP");
  if (bootstrap == nullptr || *bootstrap == '\0') {
    return StartMock(brokers);
  }
  std::unique_ptr<KafkaTestCluster> cluster(new KafkaTestCluster());
  cluster->bootstrap_servers_ = bootstrap;
  TRIB_ASSIGN_OR_RETURN(cluster->handle_, NewProducer(cluster->bootstrap_servers_));
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(cluster->handle_, 0, nullptr, &metadata, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return MakeError(
        ErrorCode::kNetwork,
        "Kafka broker at TRIB_TEST_KAFKA_BOOTSTRAP={} did not answer a metadata "
        "request: {}",
        cluster->bootstrap_servers_, rd_kafka_err2str(err));
  }
  rd_kafka_metadata_destroy(metadata);
  return cluster;
}

Result<std::unique_ptr<KafkaTestCluster>> KafkaTestCluster::StartMock(int brokers) {
  if (brokers < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a mock cluster needs >= 1 broker, got {}", brokers);
  }
  std::unique_ptr<KafkaTestCluster> cluster(new KafkaTestCluster());
  TRIB_ASSIGN_OR_RETURN(cluster->handle_, NewProducer(""));
  cluster->mock_ = rd_kafka_mock_cluster_new(cluster->handle_, brokers);
  if (cluster->mock_ == nullptr) {
    return MakeError(ErrorCode::kInternal,
                     "rd_kafka_mock_cluster_new failed to start {} brokers", brokers);
  }
  const char* bootstraps = rd_kafka_mock_cluster_bootstraps(cluster->mock_);
  cluster->bootstrap_servers_ = bootstraps == nullptr ? "" : bootstraps;
  if (cluster->bootstrap_servers_.empty()) {
    return MakeError(ErrorCode::kInternal,
                     "the Kafka mock cluster has no bootstrap servers");
  }
  return cluster;
}

KafkaTestCluster::~KafkaTestCluster() {
  if (mock_ != nullptr) {
    rd_kafka_mock_cluster_destroy(mock_);
  }
  if (handle_ != nullptr) {
    rd_kafka_destroy(handle_);
  }
}

Status KafkaTestCluster::CreateTopic(const std::string& topic,
                                     int partitions,
                                     int replication_factor) {
  if (mock_ != nullptr) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(mock_, topic.c_str(), partitions, replication_factor);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return MakeError(ErrorCode::kAlreadyExists, "Kafka topic '{}' already exists",
                       topic);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "mock cluster cannot create topic '{}' ({} partitions, replication "
          "{}): {}",
          topic, partitions, replication_factor, rd_kafka_err2str(err));
    }
    return OkStatus();
  }

  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      topic.c_str(), partitions, replication_factor, errstr, sizeof(errstr));
  if (new_topic == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "bad topic '{}': {}", topic, errstr);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(handle_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, 30000, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(handle_, &new_topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 35000);
  Status status = OkStatus();
  if (event == nullptr) {
    status = MakeError(ErrorCode::kTimeout, "creating Kafka topic '{}' timed out", topic);
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = MakeError(ErrorCode::kInternal, "creating Kafka topic '{}' failed: {}",
                       topic, rd_kafka_event_error_string(event));
  } else {
    const rd_kafka_CreateTopics_result_t* result =
        rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** topics =
        rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t topic_idx = 0; topic_idx < count; ++topic_idx) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[topic_idx]);
      if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = MakeError(ErrorCode::kAlreadyExists, "Kafka topic '{}' already exists",
                           topic);
      } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* message = rd_kafka_topic_result_error_string(topics[topic_idx]);
        status = MakeError(ErrorCode::kInternal, "creating Kafka topic '{}' failed: {}",
                           topic, message != nullptr ? message : rd_kafka_err2str(err));
      }
    }
  }
  if (event != nullptr) {
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(new_topic);
  return status;
}

std::string KafkaTestCluster::UniqueTopic(std::string_view base) {
  std::random_device device;
  return fmt::format("{}-{}-{}-{:08x}", base, getpid(), ++topic_counter_, device());
}

TestServer<KafkaTestCluster> StartTestKafka(int brokers) {
  auto cluster = KafkaTestCluster::Start(brokers);
  if (!cluster.ok()) {
    return TestServer<KafkaTestCluster>::Failed(std::move(cluster).status());
  }
  TestServer<KafkaTestCluster> out;
  out.server = std::move(*cluster);
  return out;
}

}  // namespace tributary::testing
