#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "datasets/table.h"

namespace tributary::datasets {

/// The seed `tributary load --dataset` uses: the same seed and scale give byte-identical
/// rows on every machine (the generators use their own PRNG and integer arithmetic only).
inline constexpr uint64_t kDefaultSeed = 0x7472696275746172;  // "tributar"

/// The largest accepted scale. Generated tables are held in memory before loading: scale
/// 1000 is about 1.6 million retail rows (~200 MB) or 4.5 million store rows (~1 GB).
inline constexpr int kMaxScale = 1000;

/// Names of the datasets GenerateDataset() knows, in a stable order: "retail", "store".
std::vector<std::string> DatasetNames();

/// Generates a sample dataset: its tables in load order (every table after the tables it
/// references), with primary and foreign keys declared. Row counts grow linearly with
/// `scale`; lookup tables (statuses, reasons, payment methods, categories) stay fixed.
///
/// retail (AdventureWorks-style; the same table and column names, and compatible types,
/// as loading ../shared/seed-data/data-platform/*.csv produces, so one set of gold models
/// serves both):
///   customer(CustomerID, FirstName, LastName, EmailAddress)                300 x scale
///   product(ProductID, ProductName, Category, ListPrice numeric(10,2))      120 x scale
///   salesorder(SalesOrderID, OrderDate date, CustomerID -> customer, LineItem,
///              ProductID -> product, OrderQty, LineItemTotal numeric(12,2))
///              primary key (SalesOrderID, LineItem); 400 orders x scale, 1-5 lines each
/// store (an online marketplace, snake_case names): order_status, reason, payment_method,
///   address, category, seller, customer, product, inventory, orders, order_item,
///   order_reason, payment, review (columns in store_generator.cc and models/README.md).
///
/// Errors: kInvalidArgument for an unknown name or a scale outside 1..kMaxScale.
Result<std::vector<TableData>> GenerateDataset(std::string_view name, int scale,
                                               uint64_t seed = kDefaultSeed);

}  // namespace tributary::datasets
