#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lake/delta/actions.h"

namespace tributary::lake::delta {

/// Action reconciliation (PROTOCOL.md "Action Reconciliation"), applied in log order:
/// - the latest protocol and metaData win;
/// - a file is identified by (path, deletion vector unique id): an add inserts or
///   replaces it, a remove deletes it and becomes a tombstone;
/// - the latest txn per appId wins; the latest domainMetadata per domain wins and a
///   removed one disappears;
/// - commitInfo, cdc, sidecar and checkpointMetadata do not change table state.
class LogReplay {
 public:
  /// Applies one action of `version`.
  void Apply(const Action& action);
  /// Applies a whole commit (or checkpoint) in order.
  void ApplyAll(const std::vector<Action>& actions);

  const std::optional<Protocol>& protocol() const { return protocol_; }
  const std::optional<Metadata>& metadata() const { return metadata_; }
  /// Live files sorted by (path, dv id).
  std::vector<AddFile> TakeFiles();
  std::vector<RemoveFile> TakeTombstones();
  const std::map<std::string, SetTransaction>& app_transactions() const { return txns_; }
  const std::map<std::string, DomainMetadata>& domain_metadata() const {
    return domains_;
  }

 private:
  std::optional<Protocol> protocol_;
  std::optional<Metadata> metadata_;
  std::map<std::pair<std::string, std::string>, AddFile> files_;
  std::map<std::pair<std::string, std::string>, RemoveFile> tombstones_;
  std::map<std::string, SetTransaction> txns_;
  std::map<std::string, DomainMetadata> domains_;
};

}  // namespace tributary::lake::delta
