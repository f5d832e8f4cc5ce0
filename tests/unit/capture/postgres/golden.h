#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/position.h"

namespace tributary::capture::postgres::testing {

/// One recorded pgoutput message (tests/data/capture/postgres/README.md).
struct GoldenMessage {
  uint64_t lsn = 0;
  uint32_t xid = 0;
  std::string data;
};

inline std::vector<GoldenMessage> ReadGolden(const std::string& name) {
  std::ifstream in(std::string(TRIB_SOURCE_DIR) + "/tests/data/capture/postgres/" + name);
  std::vector<GoldenMessage> out;
  std::string lsn;
  uint32_t xid = 0;
  std::string hex;
  while (in >> lsn >> xid >> hex) {
    GoldenMessage message;
    auto parsed = core::ParseLsn(lsn);
    message.lsn = parsed.ok() ? *parsed : 0;
    message.xid = xid;
    for (size_t pos = 0; pos + 1 < hex.size(); pos += 2) {
      message.data.push_back(static_cast<char>(std::stoi(hex.substr(pos, 2), nullptr, 16)));
    }
    out.push_back(std::move(message));
  }
  return out;
}

}  // namespace tributary::capture::postgres::testing
