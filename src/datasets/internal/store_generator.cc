// The "store" sample dataset: an online marketplace where sellers list products in a
// category tree, customers place orders (items, reasons, payments, reviews), and stock is
// kept per warehouse. Prices and costs are on both product and order_item (the price paid
// at order time), so gold can compute revenue, cost and profit per line.

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "datasets/internal/generator_util.h"

namespace tributary::datasets::internal {
namespace {

constexpr int kAddressesPerScale = 340;
constexpr int kSellersPerScale = 20;
constexpr int kCustomersPerScale = 300;
constexpr int kProductsPerScale = 150;
constexpr int kOrdersPerScale = 600;

// order_status ids, referenced by the order life cycle below.
constexpr int kStatusPending = 1;
constexpr int kStatusPaid = 2;
constexpr int kStatusShipped = 3;
constexpr int kStatusDelivered = 4;
constexpr int kStatusCancelled = 5;
constexpr int kStatusReturned = 6;

const std::vector<std::string> kFirstNames = {
    "Ana",   "Ben",    "Chiara", "Dmitri", "Elif",   "Farah", "Gustavo", "Hana",   "Ivan",
    "Jonas", "Kemal",  "Léa",    "Marta",  "Noah",   "Oskar", "Paula",   "Quentin", "Rita",
    "Sven",  "Tomás",  "Ursula", "Vera",   "Wojtek", "Xiu",   "Yara",    "Zoltán", "Amélie",
    "Björk", "Çağla",  "Dana"};
const std::vector<std::string> kLastNames = {
    "Almeida", "Brown",  "Coleman", "Dąbrowski", "Eriksen", "Fontaine", "García", "Hoffmann",
    "Ito",     "Jansen", "Kovač",   "López",     "Meyer",   "Nakamura", "O'Neil", "Petrov",
    "Quinn",   "Rossi",  "Søndergaard", "Tan",   "Umarov",  "Varga",    "Weiß",   "Yilmaz",
    "Zimmermann"};
const std::vector<std::string> kStreets = {"Main Street", "Baker Street", "Rue de Rivoli",
                                           "Kastanienallee", "Calle Mayor", "Via Roma",
                                           "Elm Avenue", "Harbour Road", "Market Square",
                                           "Station Road"};

struct City {
  std::string name;
  std::string state;
  std::string country_code;
};
const std::vector<City> kCities = {
    {"Boston", "MA", "US"},     {"Seattle", "WA", "US"},   {"Austin", "TX", "US"},
    {"Berlin", "BE", "DE"},     {"München", "BY", "DE"},   {"Paris", "IDF", "FR"},
    {"Lyon", "ARA", "FR"},      {"Madrid", "MD", "ES"},    {"São Paulo", "SP", "BR"},
    {"Kraków", "MA", "PL"},     {"Tokyo", "13", "JP"},     {"Toronto", "ON", "CA"}};

struct CategoryRow {
  int id;
  std::string name;
  int parent_id;  // 0: top level
};
const std::vector<CategoryRow> kCategories = {
    {1, "Electronics", 0},       {2, "Home & Kitchen", 0},   {3, "Books", 0},
    {4, "Sports & Outdoors", 0}, {5, "Toys & Games", 0},     {6, "Phones", 1},
    {7, "Laptops", 1},           {8, "Audio", 1},            {9, "Cookware", 2},
    {10, "Furniture", 2},        {11, "Fiction", 3},         {12, "Non-fiction", 3},
    {13, "Cycling", 4},          {14, "Camping", 4},         {15, "Board Games", 5}};

struct ProductKind {
  int category_id;
  std::vector<std::string> nouns;
  int64_t min_price_cents;
  int64_t max_price_cents;
};
const std::vector<ProductKind> kProductKinds = {
    {6, {"Smartphone", "Phone Case", "USB-C Charger"}, 999, 89999},
    {7, {"Ultrabook", "Laptop Sleeve", "Docking Station"}, 1999, 199999},
    {8, {"Headphones", "Bluetooth Speaker", "Earbuds"}, 1499, 34999},
    {9, {"Frying Pan", "Chef's Knife", "Dutch Oven"}, 1299, 24999},
    {10, {"Desk Chair", "Bookshelf", "Side Table"}, 2999, 49999},
    {11, {"Novel", "Short Stories", "Poetry Collection"}, 599, 3499},
    {12, {"Cookbook", "Biography", "Field Guide"}, 899, 5999},
    {13, {"Bike Light", "Helmet", "Saddle"}, 1499, 19999},
    {14, {"Tent", "Sleeping Bag", "Camping Stove"}, 1999, 39999},
    {15, {"Strategy Game", "Card Game", "Puzzle, 1000 pieces"}, 999, 7999}};
const std::vector<std::string> kAdjectives = {"Classic", "Pro",     "Compact", "Deluxe",
                                              "Eco",     "Ultra",   "Travel",  "Family",
                                              "Mini",    "Premium", "\"Signature\""};

const std::vector<std::string> kWarehouses = {"BER1", "NYC1", "SIN1"};

// Review texts: commas, quotes, line breaks and non-ASCII letters on purpose.
const std::vector<std::string> kReviewTitles = {
    "Great value", "Not as described", "Works, mostly", "Five stars!", "Meh",
    "Très bien",   "Arrived \"late\"", "Would buy again"};
const std::vector<std::string> kReviewBodies = {
    "Does what it says.",
    "Good quality, fast delivery, well packed.",
    "The box said \"waterproof\"; it is not.",
    "First line.\nSecond line after a line break.",
    "Funktioniert einwandfrei, gerne wieder.",
    "Cheap, but it broke after a week",
    "Perfect gift 🎁 for my niece."};

}  // namespace

std::vector<TableData> GenerateStore(int scale, uint64_t seed) {
  Rng rng(seed ^ 0x53544F5245ULL);  // "STORE": independent of the retail generator
  const int64_t first_day = DaysFromCivil(2023, 1, 1);
  const int64_t last_day = DaysFromCivil(2024, 12, 31);
  const int64_t span_days = last_day - first_day + 1;

  TableData order_status;
  order_status.spec.name = "order_status";
  order_status.spec.columns = {Column("status_id", ColumnType::kInteger),
                               Column("code", ColumnType::kText),
                               Column("name", ColumnType::kText),
                               Column("is_final", ColumnType::kBoolean)};
  order_status.spec.primary_key = {"status_id"};
  const struct {
    int id;
    const char* code;
    const char* name;
    bool is_final;
  } kStatuses[] = {{kStatusPending, "pending", "Pending payment", false},
                   {kStatusPaid, "paid", "Paid", false},
                   {kStatusShipped, "shipped", "Shipped", false},
                   {kStatusDelivered, "delivered", "Delivered", true},
                   {kStatusCancelled, "cancelled", "Cancelled", true},
                   {kStatusReturned, "returned", "Returned", true}};
  for (const auto& status : kStatuses) {
    order_status.rows.push_back({Value(status.id), Value(status.code), Value(status.name),
                                 BoolValue(status.is_final)});
  }

  TableData reason;
  reason.spec.name = "reason";
  reason.spec.columns = {Column("reason_id", ColumnType::kInteger),
                         Column("name", ColumnType::kText),
                         Column("reason_type", ColumnType::kText)};
  reason.spec.primary_key = {"reason_id"};
  const std::vector<std::pair<std::string, std::string>> kReasons = {
      {"Price", "Other"},          {"On Promotion", "Promotion"},
      {"Magazine Advertisement", "Marketing"}, {"Television Advertisement", "Marketing"},
      {"Manufacturer", "Other"},   {"Review", "Other"},
      {"Demo Event", "Marketing"}, {"Sponsorship", "Marketing"},
      {"Quality", "Other"},        {"Gift", "Other"}};
  for (size_t idx = 0; idx < kReasons.size(); ++idx) {
    reason.rows.push_back({Value(static_cast<int64_t>(idx) + 1), Value(kReasons[idx].first),
                           Value(kReasons[idx].second)});
  }

  TableData payment_method;
  payment_method.spec.name = "payment_method";
  payment_method.spec.columns = {Column("payment_method_id", ColumnType::kInteger),
                                 Column("name", ColumnType::kText),
                                 Column("is_card", ColumnType::kBoolean)};
  payment_method.spec.primary_key = {"payment_method_id"};
  const std::vector<std::pair<std::string, bool>> kMethods = {
      {"Credit card", true}, {"Debit card", true}, {"PayPal", false},
      {"Bank transfer", false}, {"Voucher", false}};
  constexpr int kVoucherMethod = 5;
  for (size_t idx = 0; idx < kMethods.size(); ++idx) {
    payment_method.rows.push_back({Value(static_cast<int64_t>(idx) + 1),
                                   Value(kMethods[idx].first), BoolValue(kMethods[idx].second)});
  }

  TableData address;
  address.spec.name = "address";
  address.spec.columns = {Column("address_id", ColumnType::kInteger),
                          Column("street", ColumnType::kText),
                          Column("city", ColumnType::kText),
                          Column("state", ColumnType::kText, true),
                          Column("postal_code", ColumnType::kText),
                          Column("country_code", ColumnType::kText)};
  address.spec.primary_key = {"address_id"};
  const int address_count = kAddressesPerScale * scale;
  for (int idx = 0; idx < address_count; ++idx) {
    const City& city = rng.Pick(kCities);
    std::optional<std::string> state;
    if (city.country_code == "US" || city.country_code == "CA" || city.country_code == "BR" ||
        rng.Percent(50)) {
      state = city.state;
    }
    // Postal codes are text: several start with 0 and must keep it.
    address.rows.push_back(
        {Value(idx + 1),
         Value(fmt::format("{} {}", rng.Uniform(1, 250), rng.Pick(kStreets))), Value(city.name),
         state, Value(fmt::format("{:05}", rng.Uniform(1000, 99999))),
         Value(city.country_code)});
  }

  TableData category;
  category.spec.name = "category";
  category.spec.columns = {Column("category_id", ColumnType::kInteger),
                           Column("name", ColumnType::kText),
                           Column("parent_category_id", ColumnType::kInteger, true)};
  category.spec.primary_key = {"category_id"};
  category.spec.foreign_keys = {{{"parent_category_id"}, "category", {"category_id"}}};
  for (const CategoryRow& row : kCategories) {
    category.rows.push_back({Value(row.id), Value(row.name),
                             row.parent_id == 0 ? std::nullopt : Value(row.parent_id)});
  }

  TableData seller;
  seller.spec.name = "seller";
  seller.spec.columns = {Column("seller_id", ColumnType::kInteger),
                         Column("name", ColumnType::kText),
                         Column("email", ColumnType::kText),
                         Column("address_id", ColumnType::kInteger),
                         Column("joined_on", ColumnType::kDate),
                         NumericColumn("commission_rate", 4, 3)};
  seller.spec.primary_key = {"seller_id"};
  seller.spec.foreign_keys = {{{"address_id"}, "address", {"address_id"}}};
  const int seller_count = kSellersPerScale * scale;
  const std::vector<std::string> kSellerSuffixes = {"Goods", "Trading", "& Sons", "Outlet",
                                                    "Supply Co.", "Market"};
  for (int idx = 0; idx < seller_count; ++idx) {
    const std::string name = fmt::format("{} {}", rng.Pick(kLastNames), rng.Pick(kSellerSuffixes));
    seller.rows.push_back(
        {Value(idx + 1), Value(name), Value(fmt::format("seller{}@store.example", idx + 1)),
         Value(rng.Uniform(1, address_count)),
         Value(FormatDate(first_day - rng.Uniform(30, 1500))),
         Value(FormatFixed(rng.Uniform(50, 150), 3))});
  }

  TableData customer;
  customer.spec.name = "customer";
  customer.spec.columns = {Column("customer_id", ColumnType::kInteger),
                           Column("first_name", ColumnType::kText),
                           Column("last_name", ColumnType::kText),
                           Column("email", ColumnType::kText),
                           Column("phone", ColumnType::kText, true),
                           Column("address_id", ColumnType::kInteger),
                           Column("created_at", ColumnType::kTimestamp)};
  customer.spec.primary_key = {"customer_id"};
  customer.spec.foreign_keys = {{{"address_id"}, "address", {"address_id"}}};
  const int customer_count = kCustomersPerScale * scale;
  std::vector<int64_t> customer_address(static_cast<size_t>(customer_count));
  for (int idx = 0; idx < customer_count; ++idx) {
    const std::string& first = rng.Pick(kFirstNames);
    const std::string& last = rng.Pick(kLastNames);
    const int64_t address_id = rng.Uniform(1, address_count);
    customer_address[static_cast<size_t>(idx)] = address_id;
    std::optional<std::string> phone;
    if (rng.Percent(70)) {
      phone = fmt::format("+1-555-{:04}", rng.Uniform(0, 9999));
    }
    customer.rows.push_back(
        {Value(idx + 1), Value(first), Value(last),
         Value(fmt::format("customer{}@mail.example", idx + 1)), phone, Value(address_id),
         Value(FormatTimestamp(first_day - rng.Uniform(1, 700), rng.Uniform(0, 86399)))});
  }

  TableData product;
  product.spec.name = "product";
  product.spec.columns = {Column("product_id", ColumnType::kInteger),
                          Column("seller_id", ColumnType::kInteger),
                          Column("category_id", ColumnType::kInteger),
                          Column("sku", ColumnType::kText),
                          Column("name", ColumnType::kText),
                          NumericColumn("unit_price", 10, 2),
                          NumericColumn("unit_cost", 10, 2),
                          NumericColumn("weight_kg", 7, 3, true),
                          Column("is_active", ColumnType::kBoolean),
                          Column("created_at", ColumnType::kTimestamp)};
  product.spec.primary_key = {"product_id"};
  product.spec.foreign_keys = {{{"seller_id"}, "seller", {"seller_id"}},
                               {{"category_id"}, "category", {"category_id"}}};
  const int product_count = kProductsPerScale * scale;
  struct ProductInfo {
    int64_t seller_id;
    int64_t price_cents;
    int64_t cost_cents;
  };
  std::vector<ProductInfo> products;
  for (int idx = 0; idx < product_count; ++idx) {
    const ProductKind& kind = rng.Pick(kProductKinds);
    const int64_t seller_id = rng.Uniform(1, seller_count);
    int64_t price = rng.Uniform(kind.min_price_cents, kind.max_price_cents);
    price = price / 100 * 100 + 99;
    // Cost is 40-80% of the price, so every sale has a margin but not the same one.
    const int64_t cost = price * rng.Uniform(40, 80) / 100;
    products.push_back({seller_id, price, cost});
    std::optional<std::string> weight;
    if (rng.Percent(85)) {
      weight = FormatFixed(rng.Uniform(50, 25000), 3);
    }
    product.rows.push_back(
        {Value(idx + 1), Value(seller_id), Value(kind.category_id),
         Value(fmt::format("SKU-{:02}-{:06}", kind.category_id, idx + 1)),
         Value(fmt::format("{} {}", rng.Pick(kAdjectives), rng.Pick(kind.nouns))),
         Value(FormatCents(price)), Value(FormatCents(cost)), weight,
         BoolValue(rng.Percent(92)),
         Value(FormatTimestamp(first_day - rng.Uniform(1, 400), rng.Uniform(0, 86399)))});
  }

  TableData inventory;
  inventory.spec.name = "inventory";
  inventory.spec.columns = {Column("product_id", ColumnType::kInteger),
                            Column("warehouse", ColumnType::kText),
                            Column("quantity_on_hand", ColumnType::kInteger),
                            Column("reorder_level", ColumnType::kInteger),
                            Column("updated_at", ColumnType::kTimestamp)};
  inventory.spec.primary_key = {"product_id", "warehouse"};
  inventory.spec.foreign_keys = {{{"product_id"}, "product", {"product_id"}}};
  for (int idx = 0; idx < product_count; ++idx) {
    const size_t first_warehouse = static_cast<size_t>(rng.Uniform(0, 2));
    const size_t warehouse_count = rng.Percent(40) ? 2 : 1;
    for (size_t offset = 0; offset < warehouse_count; ++offset) {
      inventory.rows.push_back(
          {Value(idx + 1), Value(kWarehouses[(first_warehouse + offset) % kWarehouses.size()]),
           Value(rng.Uniform(0, 500)), Value(rng.Uniform(5, 50)),
           Value(FormatTimestamp(last_day - rng.Uniform(0, 30), rng.Uniform(0, 86399)))});
    }
  }

  TableData orders;
  orders.spec.name = "orders";
  orders.spec.columns = {Column("order_id", ColumnType::kInteger),
                         Column("customer_id", ColumnType::kInteger),
                         Column("status_id", ColumnType::kInteger),
                         Column("shipping_address_id", ColumnType::kInteger),
                         Column("ordered_at", ColumnType::kTimestamp),
                         Column("shipped_at", ColumnType::kTimestamp, true),
                         Column("delivered_at", ColumnType::kTimestamp, true),
                         NumericColumn("shipping_fee", 8, 2)};
  orders.spec.primary_key = {"order_id"};
  orders.spec.foreign_keys = {{{"customer_id"}, "customer", {"customer_id"}},
                              {{"status_id"}, "order_status", {"status_id"}},
                              {{"shipping_address_id"}, "address", {"address_id"}}};

  TableData order_item;
  order_item.spec.name = "order_item";
  order_item.spec.columns = {Column("order_id", ColumnType::kInteger),
                             Column("line_number", ColumnType::kInteger),
                             Column("product_id", ColumnType::kInteger),
                             Column("seller_id", ColumnType::kInteger),
                             Column("quantity", ColumnType::kInteger),
                             NumericColumn("unit_price", 10, 2),
                             NumericColumn("unit_cost", 10, 2),
                             NumericColumn("discount_amount", 10, 2)};
  order_item.spec.primary_key = {"order_id", "line_number"};
  order_item.spec.foreign_keys = {{{"order_id"}, "orders", {"order_id"}},
                                  {{"product_id"}, "product", {"product_id"}},
                                  {{"seller_id"}, "seller", {"seller_id"}}};

  TableData order_reason;
  order_reason.spec.name = "order_reason";
  order_reason.spec.columns = {Column("order_id", ColumnType::kInteger),
                               Column("reason_id", ColumnType::kInteger)};
  order_reason.spec.primary_key = {"order_id", "reason_id"};
  order_reason.spec.foreign_keys = {{{"order_id"}, "orders", {"order_id"}},
                                    {{"reason_id"}, "reason", {"reason_id"}}};

  TableData payment;
  payment.spec.name = "payment";
  payment.spec.columns = {Column("payment_id", ColumnType::kInteger),
                          Column("order_id", ColumnType::kInteger),
                          Column("payment_method_id", ColumnType::kInteger),
                          NumericColumn("amount", 12, 2),
                          Column("installments", ColumnType::kInteger),
                          Column("paid_at", ColumnType::kTimestamp)};
  payment.spec.primary_key = {"payment_id"};
  payment.spec.foreign_keys = {{{"order_id"}, "orders", {"order_id"}},
                               {{"payment_method_id"}, "payment_method", {"payment_method_id"}}};

  TableData review;
  review.spec.name = "review";
  review.spec.columns = {Column("review_id", ColumnType::kInteger),
                         Column("order_id", ColumnType::kInteger),
                         Column("product_id", ColumnType::kInteger),
                         Column("customer_id", ColumnType::kInteger),
                         Column("rating", ColumnType::kInteger),
                         Column("title", ColumnType::kText, true),
                         Column("body", ColumnType::kText, true),
                         Column("created_at", ColumnType::kTimestamp)};
  review.spec.primary_key = {"review_id"};
  review.spec.foreign_keys = {{{"order_id"}, "orders", {"order_id"}},
                              {{"product_id"}, "product", {"product_id"}},
                              {{"customer_id"}, "customer", {"customer_id"}}};

  const int order_count = kOrdersPerScale * scale;
  const std::vector<int> kLineCounts = {1, 1, 1, 2, 2, 3, 4};
  const std::vector<int> kQuantities = {1, 1, 1, 2, 2, 3, 5};
  int64_t payment_id = 0;
  int64_t review_id = 0;
  for (int order_idx = 0; order_idx < order_count; ++order_idx) {
    const int64_t order_id = 1000 + order_idx;
    const int64_t customer_id = rng.Uniform(1, customer_count);
    const int64_t day = first_day + static_cast<int64_t>(order_idx) * span_days / order_count;
    const int64_t second = rng.Uniform(0, 86399);
    // Life cycle: the newest orders are still pending, paid or shipped (at least two of
    // each, so every status occurs at every scale); older ones are delivered, a few
    // cancelled or returned.
    const int from_end = order_count - 1 - order_idx;
    const int open_orders = std::max(2, order_count / 100);
    int status = kStatusDelivered;
    if (from_end < 2 * open_orders) {
      status = from_end % 2 == 0 ? kStatusPending : kStatusPaid;
    } else if (from_end < 4 * open_orders) {
      status = kStatusShipped;
    } else if (rng.Percent(4)) {
      status = kStatusCancelled;
    } else if (rng.Percent(3)) {
      status = kStatusReturned;
    }
    const int64_t ship_days = rng.Uniform(1, 3);
    const int64_t delivery_days = rng.Uniform(1, 5);
    const bool shipped = status == kStatusShipped || status == kStatusDelivered ||
                         status == kStatusReturned;
    const bool delivered = status == kStatusDelivered || status == kStatusReturned;
    const int64_t shipping_fee_cents = rng.Pick(std::vector<int64_t>{0, 0, 499, 799, 1299});
    const int64_t address_id = rng.Percent(90) ? customer_address[static_cast<size_t>(customer_id - 1)]
                                               : rng.Uniform(1, address_count);
    orders.rows.push_back(
        {Value(order_id), Value(customer_id), Value(status), Value(address_id),
         Value(FormatTimestamp(day, second)),
         shipped ? Value(FormatTimestamp(day + ship_days, second)) : std::nullopt,
         delivered ? Value(FormatTimestamp(day + ship_days + delivery_days, second))
                   : std::nullopt,
         Value(FormatCents(shipping_fee_cents))});

    const int line_count = rng.Pick(kLineCounts);
    int64_t order_total_cents = shipping_fee_cents;
    int64_t first_product_id = 0;
    for (int line = 1; line <= line_count; ++line) {
      const int64_t product_id = rng.Uniform(1, product_count);
      if (line == 1) {
        first_product_id = product_id;
      }
      const ProductInfo& info = products[static_cast<size_t>(product_id - 1)];
      const int quantity = rng.Pick(kQuantities);
      // A discount on one line in five: 5-20% of the line, in whole cents.
      int64_t discount_cents = 0;
      if (rng.Percent(20)) {
        discount_cents = quantity * info.price_cents * rng.Uniform(5, 20) / 100;
      }
      order_total_cents += quantity * info.price_cents - discount_cents;
      order_item.rows.push_back({Value(order_id), Value(line), Value(product_id),
                                 Value(info.seller_id), Value(quantity),
                                 Value(FormatCents(info.price_cents)),
                                 Value(FormatCents(info.cost_cents)),
                                 Value(FormatCents(discount_cents))});
    }

    if (rng.Percent(70)) {
      const int64_t first_reason = rng.Uniform(1, static_cast<int64_t>(kReasons.size()));
      order_reason.rows.push_back({Value(order_id), Value(first_reason)});
      if (rng.Percent(25)) {
        const int64_t second_reason =
            first_reason % static_cast<int64_t>(kReasons.size()) + 1;
        order_reason.rows.push_back({Value(order_id), Value(second_reason)});
      }
    }

    if (status != kStatusPending && status != kStatusCancelled) {
      const int64_t paid_second = std::min<int64_t>(second + rng.Uniform(10, 3600), 86399);
      int64_t remaining = order_total_cents;
      // One order in ten pays part with a voucher.
      if (remaining > 2000 && rng.Percent(10)) {
        const int64_t voucher = rng.Pick(std::vector<int64_t>{500, 1000, 2000});
        payment.rows.push_back({Value(++payment_id), Value(order_id), Value(kVoucherMethod),
                                Value(FormatCents(voucher)), Value(1),
                                Value(FormatTimestamp(day, paid_second))});
        remaining -= voucher;
      }
      const int64_t method = rng.Uniform(1, kVoucherMethod - 1);
      const int64_t installments = method == 1 ? rng.Pick(std::vector<int64_t>{1, 1, 1, 3, 6}) : 1;
      payment.rows.push_back({Value(++payment_id), Value(order_id), Value(method),
                              Value(FormatCents(remaining)), Value(installments),
                              Value(FormatTimestamp(day, paid_second))});
    }

    if (delivered && rng.Percent(40)) {
      const int rating = static_cast<int>(rng.Pick(std::vector<int64_t>{1, 2, 3, 4, 4, 5, 5, 5}));
      std::optional<std::string> title;
      std::optional<std::string> body;
      if (rng.Percent(80)) {
        title = rng.Pick(kReviewTitles);
      }
      if (rng.Percent(60)) {
        body = rng.Pick(kReviewBodies);
      }
      review.rows.push_back(
          {Value(++review_id), Value(order_id), Value(first_product_id), Value(customer_id),
           Value(rating), title, body,
           Value(FormatTimestamp(day + ship_days + delivery_days + rng.Uniform(0, 20),
                                 rng.Uniform(0, 86399)))});
    }
  }

  std::vector<TableData> tables;
  tables.push_back(std::move(order_status));
  tables.push_back(std::move(reason));
  tables.push_back(std::move(payment_method));
  tables.push_back(std::move(address));
  tables.push_back(std::move(category));
  tables.push_back(std::move(seller));
  tables.push_back(std::move(customer));
  tables.push_back(std::move(product));
  tables.push_back(std::move(inventory));
  tables.push_back(std::move(orders));
  tables.push_back(std::move(order_item));
  tables.push_back(std::move(order_reason));
  tables.push_back(std::move(payment));
  tables.push_back(std::move(review));
  return tables;
}

}  // namespace tributary::datasets::internal
