# Every dependency comes from a Debian 12 package (scripts/install-deps installs them all),
# except DuckDB, which scripts/fetch-duckdb takes from the npm registry (see STYLE.md §9).
# A missing package stops configure naming the Debian package to install.

find_package(PkgConfig REQUIRED)

macro(trib_require_package name debian_pkg)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "${name} not found: install the Debian package '${debian_pkg}' "
                        "(scripts/install-deps installs everything)")
  endif()
endmacro()

macro(trib_require_pkgconfig prefix module debian_pkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found via pkg-config: install the Debian package "
                        "'${debian_pkg}' (scripts/install-deps installs everything)")
  endif()
endmacro()

find_package(Threads REQUIRED)
trib_require_package(PostgreSQL libpq-dev 15)
trib_require_pkgconfig(MARIADB "libmariadb>=3.3" libmariadb-dev)
trib_require_pkgconfig(RDKAFKA "rdkafka>=2.0" librdkafka-dev)
trib_require_package(nlohmann_json nlohmann-json3-dev 3.11)
trib_require_package(tl-expected libexpected-dev 1.0)
trib_require_package(fmt libfmt-dev 9)
trib_require_package(spdlog libspdlog-dev 1.10)
trib_require_package(CLI11 libcli11-dev 2.1)
trib_require_pkgconfig(HTTPLIB "cpp-httplib>=0.11" libcpp-httplib-dev)
trib_require_pkgconfig(TOMLPLUSPLUS "tomlplusplus>=3.3" libtomlplusplus-dev)
trib_require_package(roaring libroaring-dev)

# DuckDB: the C API only (duckdb.h), as an imported shared library.
set(_duckdb_header "${TRIB_DUCKDB_DIR}/include/duckdb.h")
set(_duckdb_lib "${TRIB_DUCKDB_DIR}/lib/libduckdb.so")
if(NOT EXISTS "${_duckdb_header}" OR NOT EXISTS "${_duckdb_lib}")
  message(FATAL_ERROR "DuckDB 1.4.4 not found in ${TRIB_DUCKDB_DIR}: run scripts/fetch-duckdb "
                      "(or scripts/install-deps), or point TRIB_DUCKDB_DIR at a copy holding "
                      "include/duckdb.h and lib/libduckdb.so")
endif()
add_library(DuckDB::duckdb SHARED IMPORTED GLOBAL)
set_target_properties(DuckDB::duckdb PROPERTIES
  IMPORTED_LOCATION "${_duckdb_lib}"
  IMPORTED_SONAME "libduckdb.so"
  INTERFACE_INCLUDE_DIRECTORIES "${TRIB_DUCKDB_DIR}/include"
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${TRIB_DUCKDB_DIR}/include")
set(TRIB_DUCKDB_LIBRARY "${_duckdb_lib}")

if(TRIB_DEVELOPER_MODE)
  trib_require_package(GTest libgtest-dev)
  find_package(benchmark QUIET)
endif()
