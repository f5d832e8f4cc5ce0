#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tributary::core::internal {

/// Standard base64 (RFC 4648 section 4) with '=' padding, as Jackson writes byte[] values
/// in Kafka Connect's JsonConverter.
std::string Base64Encode(std::span<const uint8_t> bytes);
/// Decodes standard base64; padding optional, whitespace not allowed.
/// kInvalidArgument on any other character or a bad length.
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace tributary::core::internal
