#include "testing/postgres_fixture.h"

#include <filesystem>
#include <system_error>
#include <utility>

namespace tributary::testing {

TestServer<devserver::PostgresServer> StartTestPostgres(
    const PostgresCustomizer& customize) {
  devserver::PostgresServerOptions options;
  options.template_cache_dir = TemplateCacheDir();
  if (customize) {
    customize(options);
  }
  Status binaries = devserver::FindPostgresBinaries(options.bin_dir);
  if (!binaries.ok()) {
    return TestServer<devserver::PostgresServer>::Missing(std::move(binaries).status());
  }
  if (options.work_dir.empty()) {
    auto work_dir = MakeWorkDir("trib-pg");
    if (!work_dir.ok()) {
      return TestServer<devserver::PostgresServer>::Failed(std::move(work_dir).status());
    }
    options.work_dir = *work_dir;
    options.remove_work_dir = true;
  }
  const std::filesystem::path work_dir = options.work_dir;
  const bool created_work_dir = options.remove_work_dir;
  auto server = devserver::PostgresServer::CreateAndStart(std::move(options));
  if (!server.ok()) {
    if (created_work_dir) {
      std::error_code ec;
      std::filesystem::remove_all(work_dir, ec);  // the server may never have owned it
    }
    return TestServer<devserver::PostgresServer>::Failed(std::move(server).status());
  }
  TestServer<devserver::PostgresServer> out;
  out.server = std::move(*server);
  return out;
}

}  // namespace tributary::testing
