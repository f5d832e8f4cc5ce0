#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"

namespace tributary::lake::delta {

/// Magic number that starts a serialized RoaringBitmapArray
/// (PROTOCOL.md "Deletion Vector Format").
inline constexpr uint32_t kDeletionVectorMagic = 1681511377;

/// Z85 (ZeroMQ RFC 32) decoding. Input length must be a multiple of 5.
/// Errors: kCorruption for a bad length or a character outside the alphabet.
Result<std::string> Z85Decode(std::string_view text);
/// Z85 encoding; the input is zero-padded to a multiple of 4 bytes.
std::string Z85Encode(std::string_view bytes);

/// The DV file of an on-disk descriptor (PROTOCOL.md "Deletion Vector Descriptor Schema",
/// "Derived Fields"): storage type "u" -> `<table_root>/<random prefix>/
/// deletion_vector_<uuid>.bin` where the uuid is the z85-decoded last 20 characters;
/// "p" -> the absolute path URI. Errors: kInvalidArgument for "i" (inline) descriptors,
/// kCorruption for a malformed descriptor, kUnsupported for an unknown storage type.
Result<std::filesystem::path> DeletionVectorFilePath(
    const std::filesystem::path& table_root, const DeletionVectorDescriptor& dv);

/// Decodes a serialized 64-bit RoaringBitmapArray (magic number + portable 64-bit roaring
/// format) into sorted row indexes. Errors: kCorruption (bad magic, truncated data).
Result<std::vector<uint64_t>> DecodeRoaringBitmapArray(std::string_view data);

/// Serializes sorted, unique row indexes as magic + portable 64-bit roaring bitmap (the
/// inverse of DecodeRoaringBitmapArray), for writers.
std::string EncodeRoaringBitmapArray(const std::vector<uint64_t>& rows);

/// CRC-32 (IEEE 802.3, as java.util.zip.CRC32) of `data`.
uint32_t Crc32(std::string_view data);

/// Loads the deleted row indexes of a DV: inline ("i"), or from its file ("u", "p") at
/// `offset` (default 1) with the file format's big-endian size and CRC-32 checked
/// (PROTOCOL.md "Deletion Vector File Storage Format"). The result is sorted and its
/// size equals `dv.cardinality`. Errors: kNotFound (missing DV file), kCorruption (size,
/// checksum, magic or cardinality mismatch; the message names the file), kIo.
Result<std::vector<uint64_t>> LoadDeletionVector(const std::filesystem::path& table_root,
                                                 const DeletionVectorDescriptor& dv);

}  // namespace tributary::lake::delta
