#include "core/redact.h"

#include <string>

#include <gtest/gtest.h>

namespace tributary {
namespace {

TEST(RedactDsnTest, LibpqKeywordValue) {
  EXPECT_EQ(RedactDsn("host=127.0.0.1 port=5432 dbname=appdb user=app password=s3cret"),
            "host=127.0.0.1 port=5432 dbname=appdb user=app password=***");
  EXPECT_EQ(RedactDsn("password=s3cret host=db"), "password=*** host=db");
}

TEST(RedactDsnTest, LibpqSpacesAroundEqualsAndQuotedValues) {
  EXPECT_EQ(RedactDsn("host = db password = 'a b\\' c' user=app"),
            "host = db password = *** user=app");
  EXPECT_EQ(RedactDsn("PASSWORD=x sslpassword='y' host=h"),
            "PASSWORD=*** sslpassword=*** host=h");
}

TEST(RedactDsnTest, LibpqPasswordWithSeparatorCharacters) {
  // libpq ends an unquoted value only at whitespace: ';', ',', '&' belong to the
  // password.
  EXPECT_EQ(RedactDsn("host=h password=a;b,c&d user=u"), "host=h password=*** user=u");
}

TEST(RedactDsnTest, NoSecretIsUnchanged) {
  const std::string dsn = "host=127.0.0.1 port=5432 dbname=appdb user=app";
  EXPECT_EQ(RedactDsn(dsn), dsn);
  EXPECT_EQ(RedactDsn("postgres://app@db:5432/appdb"), "postgres://app@db:5432/appdb");
  EXPECT_EQ(RedactDsn(""), "");
}

TEST(RedactDsnTest, PostgresUri) {
  EXPECT_EQ(RedactDsn("postgres://app:s3cret@db.example.com:5432/appdb?sslmode=require"),
            "postgres://app:***@db.example.com:5432/appdb?sslmode=require");
  EXPECT_EQ(RedactDsn("postgresql://app:pa%40ss@h1:5432,h2:5433/db"),
            "postgresql://app:***@h1:5432,h2:5433/db");
}

TEST(RedactDsnTest, UriQueryParameters) {
  EXPECT_EQ(
      RedactDsn("postgresql:///appdb?host=/tmp&user=app&password=s3cret&sslmode=disable"),
      "postgresql:///appdb?host=/tmp&user=app&password=***&sslmode=disable");
  EXPECT_EQ(RedactDsn("postgres://u@h/db?sslpassword=k#frag"),
            "postgres://u@h/db?sslpassword=***#frag");
}

TEST(RedactDsnTest, UriWithRawAtAndSlashInPassword) {
  // Not percent-encoded as it should be; the password is still hidden.
  EXPECT_EQ(RedactDsn("mysql://root:p@ss/w0rd@127.0.0.1:3306/shop"),
            "mysql://root:***@127.0.0.1:3306/shop");
}

TEST(RedactDsnTest, MysqlUris) {
  EXPECT_EQ(RedactDsn("mysql://repl:hunter2@127.0.0.1:3306/"),
            "mysql://repl:***@127.0.0.1:3306/");
  EXPECT_EQ(RedactDsn("mariadb://repl:hunter2@localhost"),
            "mariadb://repl:***@localhost");
  EXPECT_EQ(RedactDsn("mysql://repl@localhost:3306"), "mysql://repl@localhost:3306");
}

TEST(RedactDsnTest, SemicolonPairs) {
  EXPECT_EQ(RedactDsn("Server=db;Uid=app;Pwd=s3cret;Database=shop"),
            "Server=db;Uid=app;Pwd=***;Database=shop");
}

TEST(IsSensitiveKeyTest, KnowsSecretKeys) {
  for (const char* key :
       {"password", "PASSWORD", "sslpassword", "sasl.password", "ssl.key.password",
        "ssl.keystore.password", "passwd", "pwd", "sasl.oauthbearer.client.secret",
        "sasl.jaas.config", "ssl.key.pem", "api_key", "access_token", "\"password\""}) {
    EXPECT_TRUE(IsSensitiveKey(key)) << key;
  }
  for (const char* key : {"host", "user", "dbname", "bootstrap.servers", "sasl.username",
                          "sasl.mechanism", "key", "primary_key", "port"}) {
    EXPECT_FALSE(IsSensitiveKey(key)) << key;
  }
}

TEST(RedactSecretsTest, FreeTextWithUriAndPairs) {
  EXPECT_EQ(RedactSecrets("connecting to postgres://app:s3cret@db/appdb failed"),
            "connecting to postgres://app:***@db/appdb failed");
  EXPECT_EQ(RedactSecrets("kafka config sasl.password=hunter2, sasl.username=bob"),
            "kafka config sasl.password=***, sasl.username=bob");
  EXPECT_EQ(RedactSecrets("dsn 'host=h password=x user=u'"),
            "dsn 'host=h password=*** user=u'");
}

TEST(RedactSecretsTest, JsonAndYamlStylePairs) {
  EXPECT_EQ(RedactSecrets(R"({"user": "app", "password": "s3\"cret", "port": 5432})"),
            R"({"user": "app", "password": "***", "port": 5432})");
  EXPECT_EQ(RedactSecrets("password: hunter2\nuser: app"), "password: ***\nuser: app");
}

TEST(RedactSecretsTest, LeavesOrdinaryTextAlone) {
  const std::string text =
      "password authentication failed for user \"app\"; slot tributary_db at 0/16B3748, "
      "time 12:30:00, key=id";
  EXPECT_EQ(RedactSecrets(text), text);
  EXPECT_EQ(RedactSecrets("see http://example.com/docs"), "see http://example.com/docs");
}

}  // namespace
}  // namespace tributary
