#include "lake/delta/replay.h"

namespace tributary::lake::delta {

namespace {

std::string DvKey(const std::optional<DeletionVectorDescriptor>& dv) {
  return dv ? dv->UniqueId() : std::string();
}

}  // namespace

void LogReplay::Apply(const Action& action) {
  if (const auto* add = std::get_if<AddFile>(&action)) {
    auto key = std::make_pair(add->path, DvKey(add->deletion_vector));
    tombstones_.erase(key);
    files_[key] = *add;
  } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
    auto key = std::make_pair(remove->path, DvKey(remove->deletion_vector));
    files_.erase(key);
    tombstones_[key] = *remove;
  } else if (const auto* protocol = std::get_if<Protocol>(&action)) {
    protocol_ = *protocol;
  } else if (const auto* metadata = std::get_if<Metadata>(&action)) {
    metadata_ = *metadata;
  } else if (const auto* txn = std::get_if<SetTransaction>(&action)) {
    txns_[txn->app_id] = *txn;
  } else if (const auto* domain = std::get_if<DomainMetadata>(&action)) {
    if (domain->removed) {
      domains_.erase(domain->domain);
    } else {
      domains_[domain->domain] = *domain;
    }
  }
}

void LogReplay::ApplyAll(const std::vector<Action>& actions) {
  // Within one commit, removes are applied before adds so that a commit which removes
  // (path, old DV) and re-adds (path, new DV) - or re-adds the very same key - leaves the
  // add live regardless of line order.
  for (const auto& action : actions) {
    if (!std::holds_alternative<AddFile>(action)) {
      Apply(action);
    }
  }
  for (const auto& action : actions) {
    if (std::holds_alternative<AddFile>(action)) {
      Apply(action);
    }
  }
}

std::vector<AddFile> LogReplay::TakeFiles() {
  std::vector<AddFile> out;
  out.reserve(files_.size());
  for (auto& [key, file] : files_) {
    out.push_back(std::move(file));
  }
  files_.clear();
  return out;
}

std::vector<RemoveFile> LogReplay::TakeTombstones() {
  std::vector<RemoveFile> out;
  out.reserve(tombstones_.size());
  for (auto& [key, file] : tombstones_) {
    out.push_back(std::move(file));
  }
  tombstones_.clear();
  return out;
}

}  // namespace tributary::lake::delta
