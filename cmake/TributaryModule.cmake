# tributary_add_module(<name> DIR <src/dir> [DEPS <targets>...])
#
# One static library per source folder (STYLE.md §2): every *.cc directly in DIR and in
# DIR/internal. DEPS lists exactly the modules and libraries it may use;
# scripts/check-includes verifies #include lines against these lists.
function(tributary_add_module name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB _sources CONFIGURE_DEPENDS
    "${PROJECT_SOURCE_DIR}/${ARG_DIR}/*.cc"
    "${PROJECT_SOURCE_DIR}/${ARG_DIR}/internal/*.cc")
  if(_sources)
    add_library(${name} STATIC ${_sources})
    target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/src")
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE tributary_warnings)
  else()
    # Header-only so far (or not started): keep the target so dependants link.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE "${PROJECT_SOURCE_DIR}/src")
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
  list(JOIN ARG_DEPS "," _deps_csv)
  set_property(GLOBAL APPEND PROPERTY TRIB_MODULES "${name}|${ARG_DIR}|${_deps_csv}")
endfunction()
