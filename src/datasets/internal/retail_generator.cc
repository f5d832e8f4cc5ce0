// The "retail" sample dataset: an AdventureWorks-style bicycle shop with the table and
// column names of ../shared/seed-data/data-platform/*.csv (customer, product, salesorder),
// so the same gold models run over generated and CSV-loaded data.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "datasets/internal/generator_util.h"

namespace tributary::datasets::internal {
namespace {

constexpr int kCustomersPerScale = 300;
constexpr int kProductsPerScale = 120;
constexpr int kOrdersPerScale = 400;
constexpr int kFirstCustomerId = 1;
constexpr int kFirstProductId = 700;
constexpr int kFirstOrderId = 71774;

// Names in the style of AdventureWorks' customers, some with non-ASCII letters and an
// apostrophe so that loaders and CSV round trips see UTF-8 and quoting.
const std::vector<std::string> kFirstNames = {
    "Orlando", "Keith",   "Donna",   "Janet",   "Lucy",    "Rosmarie", "Dominic", "Kathleen",
    "Katherine", "Johnny", "Christopher", "David", "John",  "Jean",     "Jinghao", "Linda",
    "Frank",   "François", "Jésus",  "Raúl",    "Björn",   "Zoë",      "Siân",    "Chloé",
    "Michael", "Pamela",  "Andrea",  "Robert",  "Sandra",  "Thomas",   "Yuki",    "Amir",
    "Fatima",  "Lars",    "Ingrid",  "Mateo",   "Priya",   "Wei",      "Olga",    "Sean"};
const std::vector<std::string> kLastNames = {
    "Gee",      "Harris",  "Carreras", "Gates",   "Harrington", "Hamilton", "Liu",
    "Garza",    "Harding", "Caprio",   "Berndt",  "Martínez",   "Ferrier",  "Hernández",
    "O'Brien",  "Müller",  "Nüñez",    "Lindqvist", "Zhang",    "Kowalski", "Dubois",
    "Rossi",    "Tanaka",  "Okafor",   "Novak",   "Silva",      "Jensen",   "Schmidt",
    "Fischer",  "Walker",  "Kim",      "Patel",   "Nguyen",     "Moreau",   "Costa"};

struct CategorySpec {
  std::string name;
  std::vector<std::string> models;
  std::vector<std::string> variants;  // color and/or size, joined to the model by ", "
  int64_t min_price_cents;
  int64_t max_price_cents;
};

const std::vector<CategorySpec>& Categories() {
  static const std::vector<CategorySpec> kCategories = {
      {"Mountain Bikes", {"Mountain-100 Silver", "Mountain-200 Black", "Mountain-400-W Silver",
                          "Mountain-500 Black"},
       {"38", "40", "42", "44", "48"}, 53999, 339999},
      {"Road Bikes", {"Road-150 Red", "Road-250 Black", "Road-550-W Yellow", "Road-650 Red"},
       {"44", "48", "52", "58", "62"}, 69999, 357899},
      {"Touring Bikes", {"Touring-1000 Blue", "Touring-2000 Blue", "Touring-3000 Yellow"},
       {"46", "50", "54", "60"}, 74299, 238499},
      {"Helmets", {"Sport-100 Helmet"}, {"Red", "Black", "Blue"}, 3499, 4499},
      {"Jerseys", {"Long-Sleeve Logo Jersey", "Short-Sleeve Classic Jersey"},
       {"S", "M", "L", "XL"}, 4999, 5399},
      {"Gloves", {"Half-Finger Gloves", "Full-Finger Gloves"}, {"S", "M", "L"}, 2499, 3799},
      {"Shorts", {"Men's Sports Shorts", "Women's Mountain Shorts"}, {"S", "M", "L"}, 5999,
       6999},
      {"Tires and Tubes", {"HL Road Tire", "ML Mountain Tire", "Patch Kit/8 Patches"},
       {"700x23", "26\"", "29\""}, 229, 3500},
      {"Bottles and Cages", {"Water Bottle - 30 oz.", "Mountain Bottle Cage"}, {"Clear", "Black"},
       499, 999},
      {"Caps", {"AWC Logo Cap"}, {"One Size"}, 899, 899},
      {"Bike Racks", {"Hitch Rack - 4-Bike"}, {"Steel"}, 12000, 12000},
      {"Cleaners", {"Bike Wash - Dissolver"}, {"1 l"}, 795, 795},
  };
  return kCategories;
}

/// Rounds qty * price * (100 - discount_percent) / 100 to cents, half up.
int64_t LineTotalCents(int64_t quantity, int64_t price_cents, int64_t discount_percent) {
  const int64_t hundredths = quantity * price_cents * (100 - discount_percent);
  return (hundredths + 50) / 100;
}

}  // namespace

std::vector<TableData> GenerateRetail(int scale, uint64_t seed) {
  Rng rng(seed ^ 0x52455441494CULL);  // "RETAIL": independent of the store generator

  TableData customer;
  customer.spec.name = "customer";
  customer.spec.columns = {Column("CustomerID", ColumnType::kInteger),
                           Column("FirstName", ColumnType::kText),
                           Column("LastName", ColumnType::kText),
                           Column("EmailAddress", ColumnType::kText)};
  customer.spec.primary_key = {"CustomerID"};
  const int customer_count = kCustomersPerScale * scale;
  std::map<std::string, int> email_counts;
  for (int idx = 0; idx < customer_count; ++idx) {
    const std::string& first = rng.Pick(kFirstNames);
    const std::string& last = rng.Pick(kLastNames);
    const std::string local = LowerAscii(first);
    const int number = email_counts[local]++;
    customer.rows.push_back({Value(kFirstCustomerId + idx), Value(first), Value(last),
                             Value(fmt::format("{}{}@adventure-works.com", local, number))});
  }

  TableData product;
  product.spec.name = "product";
  product.spec.columns = {Column("ProductID", ColumnType::kInteger),
                          Column("ProductName", ColumnType::kText),
                          Column("Category", ColumnType::kText),
                          NumericColumn("ListPrice", 10, 2)};
  product.spec.primary_key = {"ProductID"};
  const int product_count = kProductsPerScale * scale;
  std::vector<int64_t> price_cents(static_cast<size_t>(product_count));
  for (int idx = 0; idx < product_count; ++idx) {
    const CategorySpec& category =
        Categories()[static_cast<size_t>(idx) % Categories().size()];
    const std::string name =
        fmt::format("{}, {}", rng.Pick(category.models), rng.Pick(category.variants));
    // Prices end in .99 or .00 like a shop's, and stay inside the category's range.
    int64_t price = rng.Uniform(category.min_price_cents, category.max_price_cents);
    price = price >= 1000 ? price / 100 * 100 + 99 : price;
    price = std::min(price, category.max_price_cents);
    price_cents[static_cast<size_t>(idx)] = price;
    product.rows.push_back({Value(kFirstProductId + idx), Value(name), Value(category.name),
                            Value(FormatCents(price))});
  }

  TableData salesorder;
  salesorder.spec.name = "salesorder";
  salesorder.spec.columns = {Column("SalesOrderID", ColumnType::kInteger),
                             Column("OrderDate", ColumnType::kDate),
                             Column("CustomerID", ColumnType::kInteger),
                             Column("LineItem", ColumnType::kInteger),
                             Column("ProductID", ColumnType::kInteger),
                             Column("OrderQty", ColumnType::kInteger),
                             NumericColumn("LineItemTotal", 12, 2)};
  salesorder.spec.primary_key = {"SalesOrderID", "LineItem"};
  salesorder.spec.foreign_keys = {{{"CustomerID"}, "customer", {"CustomerID"}},
                                  {{"ProductID"}, "product", {"ProductID"}}};
  const int order_count = kOrdersPerScale * scale;
  const int64_t first_day = DaysFromCivil(2022, 1, 1);
  const int64_t span_days = DaysFromCivil(2024, 1, 1) - first_day;
  const std::vector<int> kLineCounts = {1, 1, 1, 2, 2, 3, 4, 5};
  const std::vector<int> kQuantities = {1, 1, 1, 1, 2, 2, 3, 4, 6};
  const std::vector<int> kDiscounts = {0, 0, 0, 0, 0, 2, 5, 10};
  for (int order_idx = 0; order_idx < order_count; ++order_idx) {
    // Order dates rise with the order id over two years, as real order numbers do.
    const int64_t day = first_day + static_cast<int64_t>(order_idx) * span_days / order_count;
    const int64_t customer_id = kFirstCustomerId + rng.Uniform(0, customer_count - 1);
    const int line_count = rng.Pick(kLineCounts);
    for (int line = 1; line <= line_count; ++line) {
      const int64_t product_idx = rng.Uniform(0, product_count - 1);
      const int quantity = rng.Pick(kQuantities);
      const int discount = rng.Pick(kDiscounts);
      const int64_t total =
          LineTotalCents(quantity, price_cents[static_cast<size_t>(product_idx)], discount);
      salesorder.rows.push_back({Value(kFirstOrderId + order_idx), Value(FormatDate(day)),
                                 Value(customer_id), Value(line),
                                 Value(kFirstProductId + product_idx), Value(quantity),
                                 Value(FormatCents(total))});
    }
  }

  std::vector<TableData> tables;
  tables.push_back(std::move(customer));
  tables.push_back(std::move(product));
  tables.push_back(std::move(salesorder));
  return tables;
}

}  // namespace tributary::datasets::internal
