#include "lake/delta/snapshot_cache.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

StructType Schema(std::vector<std::pair<std::string, DataType>> columns) {
  StructType schema;
  for (auto& [name, type] : columns) {
    StructField field;
    field.name = name;
    field.type = type;
    schema.fields.push_back(field);
  }
  return schema;
}

std::string DvId(const std::optional<DeletionVectorDescriptor>& dv) {
  return dv ? dv->UniqueId() : std::string("-");
}

// Everything a writer uses from a snapshot. Add dataChange is not compared: a checkpoint
// rewrites it to false.
void ExpectSameSnapshot(const Snapshot& cached, const Snapshot& fresh) {
  ASSERT_EQ(cached.version(), fresh.version());
  SCOPED_TRACE(fmt::format("version {}", fresh.version()));
  EXPECT_EQ(cached.protocol().min_reader_version, fresh.protocol().min_reader_version);
  EXPECT_EQ(cached.protocol().min_writer_version, fresh.protocol().min_writer_version);
  EXPECT_EQ(cached.protocol().reader_features, fresh.protocol().reader_features);
  EXPECT_EQ(cached.protocol().writer_features, fresh.protocol().writer_features);
  EXPECT_EQ(cached.metadata().id, fresh.metadata().id);
  EXPECT_EQ(cached.metadata().schema_string, fresh.metadata().schema_string);
  EXPECT_EQ(cached.metadata().configuration, fresh.metadata().configuration);
  EXPECT_EQ(cached.metadata().partition_columns, fresh.metadata().partition_columns);
  EXPECT_EQ(cached.schema().fields.size(), fresh.schema().fields.size());
  EXPECT_EQ(cached.timestamp_ms(), fresh.timestamp_ms());
  ASSERT_EQ(cached.files().size(), fresh.files().size());
  for (size_t i = 0; i < fresh.files().size(); ++i) {
    const AddFile& a = cached.files()[i];
    const AddFile& b = fresh.files()[i];
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.modification_time, b.modification_time);
    EXPECT_EQ(a.stats, b.stats);
    EXPECT_EQ(a.partition_values, b.partition_values);
    EXPECT_EQ(DvId(a.deletion_vector), DvId(b.deletion_vector));
    if (a.deletion_vector && b.deletion_vector) {
      EXPECT_EQ(a.deletion_vector->cardinality, b.deletion_vector->cardinality);
    }
  }
  ASSERT_EQ(cached.app_transactions().size(), fresh.app_transactions().size());
  for (const auto& [app, txn] : fresh.app_transactions()) {
    EXPECT_EQ(cached.GetAppTransactionVersion(app), txn.version) << app;
  }
  ASSERT_EQ(cached.domain_metadata().size(), fresh.domain_metadata().size());
  for (const auto& [domain, metadata] : fresh.domain_metadata()) {
    auto it = cached.domain_metadata().find(domain);
    ASSERT_NE(it, cached.domain_metadata().end()) << domain;
    EXPECT_EQ(it->second.configuration, metadata.configuration);
  }
  // Tombstones: the same paths (a checkpoint drops their stats and expired ones).
  std::set<std::string> fresh_tombstones;
  for (const auto& remove : fresh.tombstones()) {
    fresh_tombstones.insert(remove.path + DvId(remove.deletion_vector));
  }
  std::set<std::string> cached_tombstones;
  for (const auto& remove : cached.tombstones()) {
    cached_tombstones.insert(remove.path + DvId(remove.deletion_vector));
  }
  EXPECT_EQ(cached_tombstones, fresh_tombstones);
}

class SnapshotCacheTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ClearSnapshotCache();
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
  }

  std::shared_ptr<const Snapshot> Fresh() {
    SnapshotOptions options;
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root_, options);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  std::shared_ptr<const Snapshot> Cached() {
    auto snapshot = LatestSnapshotForWrite(root_, conn_.get());
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  void ExpectCacheMatchesLog() {
    auto cached = Cached();
    auto fresh = Fresh();
    ASSERT_NE(cached, nullptr);
    ASSERT_NE(fresh, nullptr);
    ExpectSameSnapshot(*cached, *fresh);
  }

  std::string Rows() {
    auto snapshot = Fresh();
    if (snapshot == nullptr) {
      return "";
    }
    auto scan = BuildScanQuery(*snapshot, *conn_);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    auto result = conn_->Query("SELECT * FROM (" + *scan + ") ORDER BY ALL");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::string out;
    for (size_t row = 0; result.ok() && row < result->row_count(); ++row) {
      for (size_t column = 0; column < result->column_count(); ++column) {
        out += (column == 0 ? "" : "|") + result->GetString(column, row);
      }
      out += "\n";
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<sql::Connection> conn_;
  fs::path root_;
};

// Every kind of commit, with a checkpoint every third version: after each, the writer's
// cached snapshot equals a fresh load of the log, and only the first write loaded the
// log in full.
TEST_P(SnapshotCacheTest, CachedSnapshotEqualsFreshLoadAfterEveryKindOfCommit) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"v", DataType::Primitive(TypeKind::kString)}});
  create.properties["delta.checkpointInterval"] = "3";
  if (std::string(GetParam()) != "plain") {
    create.properties[GetParam()] = "true";
  }
  ASSERT_TRUE(CreateTable(root_, create).ok());
  WriteOptions write;
  for (int i = 0; i < 4; ++i) {
    write.txn = SetTransaction{"bronze", i, std::nullopt};
    auto written = Append(*conn_, root_,
                          fmt::format("SELECT i AS id, 'v' || i AS v FROM range({}, {}) t(i)",
                                      i * 10, i * 10 + 10),
                          write);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    ExpectCacheMatchesLog();
  }
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "del";
  merge.write.txn = SetTransaction{"silver", 1, std::nullopt};
  // Insert-only, then updates and deletes.
  auto merged = Merge(*conn_, root_,
                      "SELECT * FROM (VALUES (100, 'a', false), (101, 'b', false), "
                      "(102, 'c', true)) t(id, v, del)",
                      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_inserted, 2);
  EXPECT_EQ(merged->files_removed, 0);
  ExpectCacheMatchesLog();
  merge.write.txn = SetTransaction{"silver", 2, std::nullopt};
  merged = Merge(*conn_, root_,
                 "SELECT * FROM (VALUES (5, 'five', false), (15, NULL, true), "
                 "(101, 'bee', false), (200, 'new', false)) t(id, v, del)",
                 merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_updated, 2);
  EXPECT_EQ(merged->rows_deleted, 1);
  EXPECT_EQ(merged->rows_inserted, 1);
  ExpectCacheMatchesLog();
  ASSERT_TRUE(DeleteWhere(*conn_, root_, "\"id\" IN (1, 2, 33)").ok());
  ExpectCacheMatchesLog();
  // A txn-only commit.
  write.txn = SetTransaction{"bronze", 9, std::nullopt};
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1::BIGINT AS id, 'x' AS v WHERE false", write).ok());
  ExpectCacheMatchesLog();
  // A schema change committed by another writer (a new metaData), then more writes.
  {
    auto snapshot = Fresh();
    ASSERT_NE(snapshot, nullptr);
    Metadata metadata = snapshot->metadata();
    StructType schema = snapshot->schema();
    StructField extra;
    extra.name = "extra";
    extra.type = DataType::Primitive(TypeKind::kInteger);
    schema.fields.push_back(extra);
    metadata.schema_string = SerializeSchema(schema);
    CommitRequest request;
    request.actions.emplace_back(std::move(metadata));
    DomainMetadata domain;
    domain.domain = "test.domain";
    domain.configuration = "{}";
    request.actions.emplace_back(std::move(domain));
    request.commit_info.operation = "ADD COLUMNS";
    request.read_set.read_version = snapshot->version();
    ASSERT_TRUE(Commit(root_, std::move(request)).ok());
  }
  ExpectCacheMatchesLog();
  ASSERT_TRUE(
      Append(*conn_, root_, "SELECT 300::BIGINT AS id, 'w' AS v, 7 AS extra").ok());
  ExpectCacheMatchesLog();
  merge.write.txn.reset();
  ASSERT_TRUE(Merge(*conn_, root_, "SELECT 300::BIGINT AS id, 'w2' AS v, 8 AS extra, false AS del",
                    merge)
                  .ok());
  ExpectCacheMatchesLog();
  ASSERT_TRUE(Overwrite(*conn_, root_, "SELECT 1::BIGINT AS id, 'only' AS v").ok());
  ExpectCacheMatchesLog();
  EXPECT_EQ(Rows(), "1|only|\n");
  SnapshotCacheStats stats = GetSnapshotCacheStats();
  EXPECT_EQ(stats.full_loads, 1);
  EXPECT_EQ(stats.advanced_commits, 1);  // the schema change
  EXPECT_GE(stats.recorded_commits, 10);
  EXPECT_TRUE(fs::exists(root_ / "_delta_log" / "_last_checkpoint"));
  // The checkpoints written from cached snapshots load like the log.
  auto latest = Fresh();
  ASSERT_NE(latest, nullptr);
  // Versions 3, 6 and 12 were committed by the writer (9 is the schema change).
  ASSERT_EQ(latest->version(), 12);
  for (int64_t version : {3, 6, 12}) {
    EXPECT_TRUE(fs::exists(root_ / "_delta_log" /
                           fmt::format("{:020}.checkpoint.parquet", version)))
        << version;
  }
}

INSTANTIATE_TEST_SUITE_P(Properties, SnapshotCacheTest,
                         ::testing::Values("plain", "delta.enableDeletionVectors",
                                           "delta.enableChangeDataFeed"));

class SnapshotCacheBasicsTest : public SnapshotCacheTest {};

TEST_F(SnapshotCacheBasicsTest, CommitWrittenAsAPlainFileIsSeen) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1::BIGINT AS id").ok());
  auto before = Cached();
  ASSERT_NE(before, nullptr);
  ASSERT_EQ(before->version(), 1);
  // Another writer's commits: a txn, then the removal of the only file.
  {
    std::ofstream out(CommitFilePath(root_, 2));
    out << R"({"txn":{"appId":"other","version":42}})" << "\n";
  }
  {
    std::ofstream out(CommitFilePath(root_, 3));
    out << fmt::format(R"({{"remove":{{"path":"{}","deletionTimestamp":1,"dataChange":true}}}})",
                       before->files().front().path)
        << "\n";
  }
  auto after = Cached();
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->version(), 3);
  EXPECT_EQ(after->GetAppTransactionVersion("other"), 42);
  EXPECT_TRUE(after->files().empty());
  EXPECT_EQ(GetSnapshotCacheStats().advanced_commits, 2);
  ExpectCacheMatchesLog();
  auto txn = ReadAppTransactionVersion(root_, "other");
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, 42);
  // The next write starts from version 3.
  auto written = Append(*conn_, root_, "SELECT 2::BIGINT AS id");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->version, 4);
  EXPECT_EQ(Rows(), "2\n");
}

TEST_F(SnapshotCacheBasicsTest, CommitFromAnotherProcessIsSeen) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1::BIGINT AS id").ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child inherits the parent's cache; it writes through it like any writer.
    auto conn = sql::Database::OpenInMemoryConnection();
    bool ok = conn.ok() && Append(**conn, root_, "SELECT 2::BIGINT AS id").ok() &&
              Append(**conn, root_, "SELECT 3::BIGINT AS id").ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 4::BIGINT AS id").ok());
  ExpectCacheMatchesLog();
  EXPECT_EQ(Rows(), "1\n2\n3\n4\n");
}

TEST_F(SnapshotCacheBasicsTest, DeletedAndRecreatedTableIsReloaded) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1::BIGINT AS id").ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 2::BIGINT AS id").ok());
  ASSERT_EQ(Cached()->version(), 2);
  // Recreated with fewer versions: <2>.json is gone.
  fs::remove_all(root_);
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"name", DataType::Primitive(TypeKind::kString)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 10::BIGINT AS id, 'ten' AS name").ok());
  ExpectCacheMatchesLog();
  EXPECT_EQ(Rows(), "10|ten\n");
  // Recreated up to the same version as the cached snapshot: <2>.json is another file.
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 11::BIGINT AS id, 'eleven' AS name").ok());
  ASSERT_EQ(Cached()->version(), 2);
  fs::remove_all(root_);
  create.schema = Schema({{"key", DataType::Primitive(TypeKind::kString)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 'a' AS key").ok());
  {
    // Written by someone else, so the cache cannot know about it.
    CommitRequest request;
    SetTransaction txn{"other", 1, std::nullopt};
    request.actions.emplace_back(txn);
    request.read_set.read_version = 1;
    ASSERT_TRUE(Commit(root_, std::move(request)).ok());
  }
  auto cached = Cached();
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(cached->version(), 2);
  EXPECT_NE(cached->schema().Find("key"), nullptr);
  ExpectCacheMatchesLog();
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 'b' AS key").ok());
  EXPECT_EQ(Rows(), "a\nb\n");
}

TEST_F(SnapshotCacheBasicsTest, ConcurrentWritersOnTwoThreadsStayCorrect) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"v", DataType::Primitive(TypeKind::kString)}});
  create.properties["delta.checkpointInterval"] = "5";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  constexpr int kWrites = 12;
  auto writer = [&](int thread, bool* ok) {
    auto conn = sql::Database::OpenInMemoryConnection();
    *ok = conn.ok();
    for (int i = 0; *ok && i < kWrites; ++i) {
      int64_t id = thread * 1000 + i;
      if (i % 3 == 2) {
        MergeOptions merge;
        merge.key_columns = {"id"};
        merge.write.txn = SetTransaction{fmt::format("t{}", thread), i, std::nullopt};
        // A merge reads the whole table: a concurrent append is a conflict, retried
        // like callers do (each retry starts from the cached snapshot, advanced).
        Result<WriteResult> merged = WriteResult{};
        for (int attempt = 0; attempt < 50; ++attempt) {
          merged = Merge(**conn, root_,
                         fmt::format("SELECT {}::BIGINT AS id, 'merged' AS v", id - 1), merge);
          if (merged.ok() || merged.status().code() != ErrorCode::kConflict) {
            break;
          }
        }
        *ok = merged.ok();
        EXPECT_TRUE(merged.ok()) << merged.status().ToString();
      } else {
        WriteOptions write;
        write.txn = SetTransaction{fmt::format("t{}", thread), i, std::nullopt};
        auto written =
            Append(**conn, root_, fmt::format("SELECT {}::BIGINT AS id, 'v' AS v", id), write);
        *ok = written.ok();
        EXPECT_TRUE(written.ok()) << written.status().ToString();
      }
    }
  };
  bool ok_a = false;
  bool ok_b = false;
  std::thread a(writer, 1, &ok_a);
  std::thread b(writer, 2, &ok_b);
  a.join();
  b.join();
  ASSERT_TRUE(ok_a && ok_b);
  ExpectCacheMatchesLog();
  auto fresh = Fresh();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->version(), 2 * kWrites);
  EXPECT_EQ(fresh->GetAppTransactionVersion("t1"), kWrites - 1);
  EXPECT_EQ(fresh->GetAppTransactionVersion("t2"), kWrites - 1);
  auto count = conn_->Query("SELECT count(*), count(*) FILTER (WHERE v = 'merged') FROM (" +
                            *BuildScanQuery(*fresh, *conn_) + ")");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->GetInt64(0, 0), 2 * (kWrites - kWrites / 3));
  EXPECT_EQ(count->GetInt64(1, 0), 2 * (kWrites / 3));
}

TEST_F(SnapshotCacheBasicsTest, DeclaredInputColumnsReplaceTheDescribe) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"v", DataType::Primitive(TypeKind::kString)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(conn_->Execute("CREATE TABLE input AS SELECT 1::INTEGER AS id, 'a' AS v").ok());
  WriteOptions write;
  write.input_columns = {{"id", "INTEGER"}, {"v", "VARCHAR"}};
  auto written = Append(*conn_, root_, "SELECT * FROM input", write);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.write.input_columns = {{"id", "INTEGER"}, {"v", "VARCHAR"}, {"del", "BOOLEAN"}};
  merge.delete_flag_column = "del";
  auto merged = Merge(*conn_, root_, "SELECT id, 'b' AS v, false AS del FROM input", merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_updated, 1);
  EXPECT_EQ(Rows(), "1|b\n");
  // Declared columns are checked like described ones.
  write.input_columns = {{"id", "VARCHAR"}, {"v", "VARCHAR"}};
  auto mismatch = Append(*conn_, root_, "SELECT * FROM input", write);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("column 'id' is VARCHAR in the input"),
            std::string::npos)
      << mismatch.status().ToString();
}

// Keys Merge cannot compare in C++ (dates) go through the SQL planner; string and
// composite keys through the C++ one; both give the same counts and rows.
TEST_F(SnapshotCacheBasicsTest, MergeKeysOfEveryPlanner) {
  struct Case {
    std::string name;
    DataType key_type;
    std::string key_sql;  // {} = integer
    std::vector<std::string> partition;
  };
  std::vector<Case> cases = {
      {"date", DataType::Primitive(TypeKind::kDate), "DATE '2020-01-01' + ({})::INTEGER", {}},
      {"string", DataType::Primitive(TypeKind::kString), "'k' || lpad(({})::VARCHAR, 4, '0')",
       {}},
      {"int_partitioned", DataType::Primitive(TypeKind::kInteger), "({} % 3)::INTEGER", {"k"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::path root = dir_.path() / c.name;
    CreateTableOptions create;
    create.schema = Schema({{"k", c.key_type},
                            {"n", DataType::Primitive(TypeKind::kLong)},
                            {"v", DataType::Primitive(TypeKind::kString)}});
    create.partition_columns = c.partition;
    ASSERT_TRUE(CreateTable(root, create).ok());
    std::string key = fmt::format(fmt::runtime(c.key_sql), "i");
    for (int file = 0; file < 4; ++file) {
      ASSERT_TRUE(Append(*conn_, root,
                         fmt::format("SELECT {} AS k, i AS n, 'old' AS v FROM range({}, {}) "
                                     "t(i)",
                                     key, file * 5, file * 5 + 5))
                      .ok());
    }
    MergeOptions merge;
    merge.key_columns = {"k", "n"};
    merge.delete_flag_column = "del";
    auto merged = Merge(
        *conn_, root,
        fmt::format("SELECT {} AS k, i AS n, 'new' AS v, i = 7 AS del FROM (VALUES (3), (7), "
                    "(30)) t(i)",
                    key),
        merge);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(merged->rows_updated, 1);
    EXPECT_EQ(merged->rows_deleted, 1);
    EXPECT_EQ(merged->rows_inserted, 1);
    auto fresh = Snapshot::LoadLatest(root);
    ASSERT_TRUE(fresh.ok());
    auto rows = conn_->Query("SELECT count(*), count(*) FILTER (WHERE v = 'new'), "
                             "count(*) FILTER (WHERE n = 7) FROM (" +
                             *BuildScanQuery(**fresh, *conn_) + ")");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->GetInt64(0, 0), 20);
    EXPECT_EQ(rows->GetInt64(1, 0), 2);
    EXPECT_EQ(rows->GetInt64(2, 0), 0);
    auto duplicate =
        Merge(*conn_, root,
              fmt::format("SELECT {} AS k, 1 AS n, 'x' AS v, false AS del FROM (VALUES (1), "
                          "(1)) t(i)",
                          key),
              merge);
    ASSERT_FALSE(duplicate.ok());
    EXPECT_NE(duplicate.status().message().find("2 rows for key"), std::string::npos)
        << duplicate.status().ToString();
  }
}

}  // namespace
}  // namespace tributary::lake::delta
