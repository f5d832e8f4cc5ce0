#pragma once

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/change_event.h"
#include "core/schema.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "pipeline/bronze_sink.h"
#include "sql/database.h"

namespace tributary::pipeline::testing {

/// A PostgreSQL-like table schema public.<table> with `columns` (name, type); the first
/// `key_columns` columns form the primary key.
inline std::shared_ptr<const core::TableSchema> MakeSchema(
    const std::string& table, const std::vector<std::pair<std::string, core::DataType>>& columns,
    size_t key_columns = 1) {
  auto schema = std::make_shared<core::TableSchema>();
  schema->id = core::TableId{"db", "public", table};
  for (size_t i = 0; i < columns.size(); ++i) {
    core::Column column;
    column.name = columns[i].first;
    column.type = columns[i].second;
    column.nullable = i >= key_columns;
    if (i < key_columns) {
      column.key_position = static_cast<int32_t>(i);
      schema->primary_key.push_back(i);
    }
    schema->columns.push_back(column);
  }
  return schema;
}

/// An event at PostgreSQL commit LSN `lsn`, event index `index`.
inline core::ChangeEvent MakeEvent(core::Op op, std::shared_ptr<const core::TableSchema> schema,
                                   std::optional<core::Row> before,
                                   std::optional<core::Row> after, uint64_t lsn,
                                   uint64_t index = 0) {
  core::ChangeEvent event;
  event.op = op;
  event.table = schema->id;
  event.schema = std::move(schema);
  event.before = std::move(before);
  event.after = std::move(after);
  event.position = core::PostgresPosition{lsn, lsn - 8 + index, 700 + lsn, index};
  event.commit_time_us = 1'700'000'000'000'000 + static_cast<int64_t>(lsn);
  event.source.connector = core::Connector::kPostgres;
  event.source.name = "pg";
  event.source.version = "test";
  core::FillSourceFromPosition(event);
  return event;
}

inline std::vector<BronzeRecord> Records(const std::vector<core::ChangeEvent>& events) {
  std::vector<BronzeRecord> out;
  for (const auto& event : events) {
    BronzeRecord record;
    record.event = event;
    record.value_json = "{}";
    out.push_back(std::move(record));
  }
  return out;
}

/// Rows of the Delta table at `root` (latest) as "a|b|c" lines sorted, for the columns of
/// `select` (a DuckDB select list over the table, e.g. "id, name").
inline std::vector<std::string> TableRows(const std::filesystem::path& root,
                                          const std::string& select,
                                          const std::string& where = "true") {
  std::vector<std::string> out;
  auto conn = sql::Database::OpenInMemoryConnection();
  EXPECT_TRUE(conn.ok());
  if (!conn.ok()) {
    return out;
  }
  auto snapshot = lake::delta::Snapshot::LoadLatest(root);
  EXPECT_TRUE(snapshot.ok()) << (snapshot.ok() ? "" : snapshot.status().ToString());
  if (!snapshot.ok()) {
    return out;
  }
  auto scan = lake::delta::BuildScanQuery(**snapshot, **conn);
  EXPECT_TRUE(scan.ok()) << (scan.ok() ? "" : scan.status().ToString());
  if (!scan.ok()) {
    return out;
  }
  auto rows = (*conn)->Query("SELECT " + select + " FROM (" + *scan + ") AS t WHERE " + where);
  EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.status().ToString());
  if (!rows.ok()) {
    return out;
  }
  for (size_t row = 0; row < rows->row_count(); ++row) {
    std::string line;
    for (size_t column = 0; column < rows->column_count(); ++column) {
      if (column > 0) {
        line += "|";
      }
      line += rows->IsNull(column, row) ? "NULL" : rows->GetString(column, row);
    }
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tributary::pipeline::testing
