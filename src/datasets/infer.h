#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "datasets/csv.h"
#include "datasets/table.h"

namespace tributary::datasets {

/// Infers a column's type from its text values (NULLs ignored; an all-NULL column is
/// text). The first rule that every non-NULL value satisfies wins:
///   1. boolean: true / false, any letter case;
///   2. integer: -?[0-9]+ without leading zeros ("007" stays text, so codes and postal
///      codes keep their zeros); integer if every value fits 32 bits, bigint if 64 bits,
///      else numeric(p,0) up to 38 digits;
///   3. numeric(p,s): integers and -?[0-9]+\.[0-9]+ mixed, with s = the most digits after
///      the point and p = s + the most digits before it (a lone leading 0 does not count),
///      so every value is stored exactly; p <= 38 and s <= 30, else text;
///   4. date: YYYY-MM-DD, a real calendar date;
///   5. timestamp: YYYY-MM-DD HH:MM:SS with an optional .f to .ffffff and 'T' allowed in
///      place of the space; dates mixed with timestamps make a timestamp column;
///   6. text.
/// `nullable` is true when the column holds a NULL.
ColumnSpec InferColumn(std::string_view name, const std::vector<Row>& rows,
                       size_t column_idx);

/// Rewrites values into the canonical text the loaders send (table.h, Row): booleans
/// become true/false, timestamps use a space separator, dates in a timestamp column get
/// " 00:00:00". Requires values that satisfy `column`'s type (as InferColumn guarantees).
void NormalizeValues(const ColumnSpec& column, size_t column_idx, std::vector<Row>& rows);

/// Chooses a primary key for rows that came without one:
///   1. the first column, when it has no NULL and no repeated value;
///   2. else the first column plus one more: the leftmost other column of type integer,
///      bigint, text or date such that the pair has no NULL and no repeat (measures such as
///      numerics, booleans and timestamps are skipped: a unique amount is an accident);
///      salesorder.csv gets (SalesOrderID, LineItem) this way;
///   3. else the shortest run of leading columns (first two, first three, ...) without NULL
///      or repeat;
///   4. else none (an empty vector): the rows hold exact duplicates.
std::vector<std::string> InferPrimaryKey(const TableSpec& spec, const std::vector<Row>& rows);

/// Builds a loadable table from a parsed CSV file: one column per header field with the
/// inferred type, values normalized, primary key inferred, `source` and `source_lines` set
/// so load errors can name the line. `table_name` is used as-is (quoted when loaded).
TableData TableFromCsv(CsvDocument document, std::string table_name, std::string source);

}  // namespace tributary::datasets
