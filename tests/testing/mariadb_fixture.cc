#include "testing/mariadb_fixture.h"

#include <filesystem>
#include <system_error>
#include <utility>

namespace tributary::testing {

TestServer<devserver::MariaDbServer> StartTestMariaDb(
    const MariaDbCustomizer& customize) {
  devserver::MariaDbServerOptions options;
  options.template_cache_dir = TemplateCacheDir();
  if (customize) {
    customize(options);
  }
  Status binaries = devserver::FindMariaDbBinaries(options.mariadbd, options.install_db);
  if (!binaries.ok()) {
    return TestServer<devserver::MariaDbServer>::Missing(std::move(binaries).status());
  }
  if (options.work_dir.empty()) {
    auto work_dir = MakeWorkDir("trib-my");
    if (!work_dir.ok()) {
      return TestServer<devserver::MariaDbServer>::Failed(std::move(work_dir).status());
    }
    options.work_dir = *work_dir;
    options.remove_work_dir = true;
  }
  const std::filesystem::path work_dir = options.work_dir;
  const bool created_work_dir = options.remove_work_dir;
  auto server = devserver::MariaDbServer::CreateAndStart(std::move(options));
  if (!server.ok()) {
    if (created_work_dir) {
      std::error_code ec;
      std::filesystem::remove_all(work_dir, ec);  // the server may never have owned it
    }
    return TestServer<devserver::MariaDbServer>::Failed(std::move(server).status());
  }
  TestServer<devserver::MariaDbServer> out;
  out.server = std::move(*server);
  return out;
}

}  // namespace tributary::testing
