// Proves the Kafka test harness works: librdkafka's mock cluster (or the broker named by
// TRIB_TEST_KAFKA_BOOTSTRAP) is reachable over TCP by ordinary clients, and messages
// produced to a 3-partition topic all come back to a consumer group.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "testing/kafka_fixture.h"

namespace tributary::testing {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

KafkaPtr NewClient(rd_kafka_type_t type,
                   const std::map<std::string, std::string>& settings,
                   void (*delivery)(rd_kafka_t*,
                                    const rd_kafka_message_t*,
                                    void*) = nullptr) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << key << ": " << errstr;
    }
  }
  if (delivery != nullptr) {
    rd_kafka_conf_set_dr_msg_cb(conf, delivery);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  EXPECT_NE(rk, nullptr) << errstr;
  return KafkaPtr(rk);
}

struct Delivered {
  int ok = 0;
  int failed = 0;
  std::set<int32_t> partitions;
};

// The per-message opaque (RD_KAFKA_VTYPE_OPAQUE) arrives as message->_private.
void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
  auto* delivered = static_cast<Delivered*>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++delivered->ok;
    delivered->partitions.insert(message->partition);
  } else {
    ++delivered->failed;
  }
}

class KafkaMockFixtureTest : public KafkaMockFixture {};

TEST_F(KafkaMockFixtureTest, BootstrapListsThreeLoopbackBrokers) {
  if (!kafka().is_mock()) {
    GTEST_SKIP() << "TRIB_TEST_KAFKA_BOOTSTRAP points at a real broker";
  }
  std::vector<std::string> brokers;
  std::stringstream list(kafka().bootstrap_servers());
  for (std::string broker; std::getline(list, broker, ',');) {
    brokers.push_back(broker);
  }
  ASSERT_EQ(brokers.size(), 3u) << kafka().bootstrap_servers();
  for (const std::string& broker : brokers) {
    EXPECT_TRUE(broker.rfind("127.0.0.1:", 0) == 0 || broker.rfind("localhost:", 0) == 0)
        << broker;
  }
}

TEST_F(KafkaMockFixtureTest, ProduceConsumeRoundTripOverTcp) {
  constexpr int kMessages = 300;
  const std::string topic = kafka().UniqueTopic("roundtrip");
  TRIB_ASSERT_OK(kafka().CreateTopic(topic, 3));

  Delivered delivered;
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER,
                                {{"bootstrap.servers", kafka().bootstrap_servers()},
                                 {"enable.idempotence", "true"},
                                 {"linger.ms", "5"}},
                                OnDelivery);
  ASSERT_NE(producer, nullptr);
  std::map<std::string, std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    std::string key = "key-" + std::to_string(i);
    std::string value = "value-" + std::to_string(i * 7);
    sent[key] = value;
    // rd_kafka_produceva: the rd_kafka_producev macros use C casts.
    rd_kafka_vu_t fields[5];
    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[0].u.cstr = topic.c_str();
    fields[1].vtype = RD_KAFKA_VTYPE_KEY;
    fields[1].u.mem = {key.data(), key.size()};
    fields[2].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[2].u.mem = {value.data(), value.size()};
    fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[3].u.i = RD_KAFKA_MSG_F_COPY;
    fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[4].u.ptr = &delivered;
    rd_kafka_error_t* error = rd_kafka_produceva(producer.get(), fields, 5);
    ASSERT_EQ(error, nullptr) << rd_kafka_error_string(error);
    rd_kafka_poll(producer.get(), 0);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(delivered.ok, kMessages);
  EXPECT_EQ(delivered.failed, 0);
  EXPECT_EQ(delivered.partitions, (std::set<int32_t>{0, 1, 2}));

  // The topic really has three partitions.
  const rd_kafka_metadata_t* metadata = nullptr;
  ASSERT_EQ(rd_kafka_metadata(producer.get(), 1, nullptr, &metadata, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  int partition_count = -1;
  for (int topic_idx = 0; topic_idx < metadata->topic_cnt; ++topic_idx) {
    if (topic == metadata->topics[topic_idx].topic) {
      partition_count = metadata->topics[topic_idx].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  EXPECT_EQ(partition_count, 3);

  KafkaPtr consumer =
      NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", kafka().bootstrap_servers()},
                                    {"group.id", kafka().UniqueTopic("group")},
                                    {"auto.offset.reset", "earliest"},
                                    {"enable.auto.commit", "false"}});
  ASSERT_NE(consumer, nullptr);
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
  ASSERT_EQ(rd_kafka_subscribe(consumer.get(), subscription), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(subscription);

  std::map<std::string, std::string> received;
  std::map<int32_t, int64_t> last_offset;
  int duplicates = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 200);
    if (message == nullptr) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string key(static_cast<const char*>(message->key), message->key_len);
      std::string value(static_cast<const char*>(message->payload), message->len);
      auto [it, inserted] = received.emplace(key, value);
      duplicates += inserted ? 0 : 1;
      auto previous = last_offset.find(message->partition);
      if (previous != last_offset.end()) {
        EXPECT_GT(message->offset, previous->second) << "offsets go backwards";
      }
      last_offset[message->partition] = message->offset;
    } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ADD_FAILURE() << "consumer error: " << rd_kafka_message_errstr(message);
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer.get());
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(received, sent);
  EXPECT_EQ(last_offset.size(), 3u);
}

}  // namespace
}  // namespace tributary::testing
