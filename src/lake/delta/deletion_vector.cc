#include "lake/delta/deletion_vector.h"

#include <array>
#include <fstream>
#include <system_error>

#include <roaring/roaring.h>

#include "lake/delta/internal/uri.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/"
    "*?&<>()[]{}@%$#";

std::array<int, 256> Z85DecodeTable() {
  std::array<int, 256> table{};
  table.fill(-1);
  for (size_t i = 0; i < kZ85Alphabet.size(); ++i) {
    table[static_cast<unsigned char>(kZ85Alphabet[i])] = static_cast<int>(i);
  }
  return table;
}

std::array<uint32_t, 256> Crc32Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    table[i] = c;
  }
  return table;
}

uint32_t ReadLe32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint32_t ReadBe32(const unsigned char* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

void AppendLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

std::string UuidString(std::string_view bytes) {
  std::string hex;
  for (unsigned char c : bytes) {
    hex += fmt::format("{:02x}", c);
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace

Result<std::string> Z85Decode(std::string_view text) {
  static const std::array<int, 256> kTable = Z85DecodeTable();
  if (text.size() % 5 != 0) {
    return MakeError(ErrorCode::kCorruption,
                     "z85 text of length {} is not a multiple of 5", text.size());
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t k = 0; k < 5; ++k) {
      int digit = kTable[static_cast<unsigned char>(text[i + k])];
      if (digit < 0) {
        return MakeError(ErrorCode::kCorruption, "invalid z85 character '{}' at {}",
                         text[i + k], i + k);
      }
      value = value * 85 + static_cast<uint64_t>(digit);
    }
    if (value > 0xFFFFFFFFull) {
      return MakeError(ErrorCode::kCorruption, "z85 group at {} overflows 32 bits", i);
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
      out += static_cast<char>((value >> shift) & 0xFF);
    }
  }
  return out;
}

std::string Z85Encode(std::string_view bytes) {
  std::string padded(bytes);
  while (padded.size() % 4 != 0) {
    padded += '\0';
  }
  std::string out;
  for (size_t i = 0; i < padded.size(); i += 4) {
    uint64_t value = 0;
    for (size_t k = 0; k < 4; ++k) {
      value = (value << 8) | static_cast<unsigned char>(padded[i + k]);
    }
    char group[5];
    for (int k = 4; k >= 0; --k) {
      group[k] = kZ85Alphabet[value % 85];
      value /= 85;
    }
    out.append(group, 5);
  }
  return out;
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = Crc32Table();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc = kTable[(crc ^ c) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

Result<fs::path> DeletionVectorFilePath(const fs::path& table_root,
                                        const DeletionVectorDescriptor& dv) {
  if (dv.storage_type == "u") {
    const std::string& encoded = dv.path_or_inline_dv;
    if (encoded.size() < 20) {
      return MakeError(ErrorCode::kCorruption,
                       "deletion vector path '{}' is shorter than a z85 UUID", encoded);
    }
    std::string prefix = encoded.substr(0, encoded.size() - 20);
    TRIB_ASSIGN_OR_RETURN(
        std::string uuid_bytes,
        Z85Decode(std::string_view(encoded).substr(encoded.size() - 20)));
    std::string file_name = "deletion_vector_" + UuidString(uuid_bytes) + ".bin";
    return prefix.empty() ? table_root / file_name : table_root / prefix / file_name;
  }
  if (dv.storage_type == "p") {
    return internal::ResolveLogPath(table_root, dv.path_or_inline_dv);
  }
  if (dv.storage_type == "i") {
    return MakeError(ErrorCode::kInvalidArgument, "inline deletion vector has no file");
  }
  return MakeError(ErrorCode::kUnsupported, "unknown deletion vector storage type '{}'",
                   dv.storage_type);
}

namespace {

// Appends the values of one 32-bit portable roaring bitmap at `data` (at most `remaining`
// bytes) with high bits `key`; returns its serialized size, or 0 when it is invalid.
size_t AppendBucket(const char* data,
                    size_t remaining,
                    uint64_t key,
                    std::vector<uint64_t>& rows) {
  size_t size = roaring_bitmap_portable_deserialize_size(data, remaining);
  if (size == 0) {
    return 0;
  }
  roaring_bitmap_t* bitmap = roaring_bitmap_portable_deserialize_safe(data, remaining);
  if (bitmap == nullptr) {
    return 0;
  }
  uint64_t count = roaring_bitmap_get_cardinality(bitmap);
  std::vector<uint32_t> low(count);
  roaring_bitmap_to_uint32_array(bitmap, low.data());
  roaring_bitmap_free(bitmap);
  for (uint32_t v : low) {
    rows.push_back((key << 32) | v);
  }
  return size;
}

}  // namespace

// PROTOCOL.md "Deletion Vector Format". Two layouts exist behind the magic number:
// - 1681511377 (little-endian): the documented portable 64-bit format: numBuckets (LE
//   u64), then per bucket a LE u32 key and a 32-bit portable roaring bitmap;
// - 1681511376: Delta's "native" RoaringBitmapArray layout (written big-endian by the
//   JVM, as in the protocol's inline example): bitmap count (BE i32), then per bitmap its
//   size (BE i32) and a 32-bit portable bitmap whose key is its index.
Result<std::vector<uint64_t>> DecodeRoaringBitmapArray(std::string_view data) {
  constexpr uint32_t kNativeMagic = kDeletionVectorMagic - 1;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  if (data.size() < 8) {
    return MakeError(ErrorCode::kCorruption, "deletion vector of {} bytes is truncated",
                     data.size());
  }
  std::vector<uint64_t> rows;
  if (ReadLe32(p) == kDeletionVectorMagic) {
    if (data.size() < 12) {
      return MakeError(ErrorCode::kCorruption, "deletion vector of {} bytes is truncated",
                       data.size());
    }
    uint64_t buckets = static_cast<uint64_t>(ReadLe32(p + 4)) |
                       (static_cast<uint64_t>(ReadLe32(p + 8)) << 32);
    size_t pos = 12;
    for (uint64_t b = 0; b < buckets; ++b) {
      if (pos + 4 > data.size()) {
        return MakeError(ErrorCode::kCorruption, "deletion vector truncated in bucket {}",
                         b);
      }
      uint64_t key = ReadLe32(p + pos);
      pos += 4;
      size_t size = AppendBucket(data.data() + pos, data.size() - pos, key, rows);
      if (size == 0) {
        return MakeError(ErrorCode::kCorruption,
                         "deletion vector bucket {} is not a valid roaring bitmap", b);
      }
      pos += size;
    }
    return rows;
  }
  bool big_endian = ReadBe32(p) == kNativeMagic;
  if (!big_endian && ReadLe32(p) != kNativeMagic) {
    return MakeError(ErrorCode::kCorruption,
                     "deletion vector has magic number {}, expected {} or {}",
                     ReadLe32(p), kDeletionVectorMagic, kNativeMagic);
  }
  auto read32 = [&](size_t at) {
    return big_endian ? ReadBe32(p + at) : ReadLe32(p + at);
  };
  uint32_t count = read32(4);
  size_t pos = 8;
  for (uint32_t b = 0; b < count; ++b) {
    if (pos + 4 > data.size()) {
      return MakeError(ErrorCode::kCorruption, "deletion vector truncated in bitmap {}",
                       b);
    }
    size_t declared = read32(pos);
    pos += 4;
    if (pos + declared > data.size()) {
      return MakeError(ErrorCode::kCorruption, "deletion vector truncated in bitmap {}",
                       b);
    }
    size_t size = AppendBucket(data.data() + pos, declared, b, rows);
    if (size == 0 || size != declared) {
      return MakeError(ErrorCode::kCorruption,
                       "deletion vector bitmap {} is not a valid roaring bitmap", b);
    }
    pos += size;
  }
  return rows;
}

std::string EncodeRoaringBitmapArray(const std::vector<uint64_t>& rows) {
  std::string out;
  AppendLe32(out, kDeletionVectorMagic);
  // Group by high 32 bits.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> buckets;
  for (uint64_t row : rows) {
    auto key = static_cast<uint32_t>(row >> 32);
    if (buckets.empty() || buckets.back().first != key) {
      buckets.emplace_back(key, std::vector<uint32_t>());
    }
    buckets.back().second.push_back(static_cast<uint32_t>(row & 0xFFFFFFFFu));
  }
  uint64_t count = buckets.size();
  AppendLe32(out, static_cast<uint32_t>(count & 0xFFFFFFFFu));
  AppendLe32(out, static_cast<uint32_t>(count >> 32));
  for (const auto& [key, values] : buckets) {
    AppendLe32(out, key);
    roaring_bitmap_t* bitmap = roaring_bitmap_of_ptr(values.size(), values.data());
    roaring_bitmap_run_optimize(bitmap);
    size_t size = roaring_bitmap_portable_size_in_bytes(bitmap);
    std::string buffer(size, '\0');
    roaring_bitmap_portable_serialize(bitmap, buffer.data());
    roaring_bitmap_free(bitmap);
    out += buffer;
  }
  return out;
}

Result<std::vector<uint64_t>> LoadDeletionVector(const fs::path& table_root,
                                                 const DeletionVectorDescriptor& dv) {
  std::string data;
  std::string source;
  if (dv.storage_type == "i") {
    source = "inline deletion vector";
    TRIB_ASSIGN_OR_RETURN(data, Z85Decode(dv.path_or_inline_dv));
    if (dv.size_in_bytes < 0 || static_cast<size_t>(dv.size_in_bytes) > data.size()) {
      return MakeError(ErrorCode::kCorruption,
                       "inline deletion vector decodes to {} bytes, sizeInBytes is {}",
                       data.size(), dv.size_in_bytes);
    }
    data.resize(static_cast<size_t>(dv.size_in_bytes));
  } else {
    TRIB_ASSIGN_OR_RETURN(fs::path path, DeletionVectorFilePath(table_root, dv));
    source = "deletion vector file '" + path.string() + "'";
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        return MakeError(ErrorCode::kNotFound, "{} does not exist", source);
      }
      return MakeError(ErrorCode::kIo, "cannot open {}", source);
    }
    int64_t offset = dv.offset.value_or(1);
    in.seekg(offset);
    unsigned char header[4];
    if (!in.read(reinterpret_cast<char*>(header), 4)) {
      return MakeError(ErrorCode::kCorruption, "{} is truncated at offset {}", source,
                       offset);
    }
    uint32_t size = ReadBe32(header);
    if (static_cast<int64_t>(size) != dv.size_in_bytes) {
      return MakeError(ErrorCode::kCorruption,
                       "{} holds {} bytes at offset {}, the descriptor says {}", source,
                       size, offset, dv.size_in_bytes);
    }
    data.resize(size);
    unsigned char checksum[4];
    if (!in.read(data.data(), size) || !in.read(reinterpret_cast<char*>(checksum), 4)) {
      return MakeError(ErrorCode::kCorruption, "{} is truncated at offset {}", source,
                       offset);
    }
    uint32_t expected = ReadBe32(checksum);
    uint32_t actual = Crc32(data);
    if (expected != actual) {
      return MakeError(
          ErrorCode::kCorruption,
          "{}: CRC-32 mismatch at offset {} (stored {:08x}, computed {:08x})", source,
          offset, expected, actual);
    }
  }
  auto rows = DecodeRoaringBitmapArray(data);
  if (!rows.ok()) {
    return std::move(rows).status().AddContext("reading " + source);
  }
  if (static_cast<int64_t>(rows->size()) != dv.cardinality) {
    return MakeError(ErrorCode::kCorruption,
                     "{} holds {} rows, the descriptor's cardinality is {}", source,
                     rows->size(), dv.cardinality);
  }
  return std::move(*rows);
}

}  // namespace tributary::lake::delta
