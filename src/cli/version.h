#pragma once

#include <string_view>

namespace tributary::cli {

/// The release version, from the CMake project version ("0.1.0").
std::string_view Version();

}  // namespace tributary::cli
