# Warning set from STYLE.md §8. -Werror only when TRIB_WARNINGS_AS_ERRORS (dev and ci presets).
add_library(tributary_warnings INTERFACE)
target_compile_options(tributary_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wconversion -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast>
  $<$<BOOL:${TRIB_WARNINGS_AS_ERRORS}>:-Werror>)

# GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string::insert/append
# at -O2 (GCC bug 105651, fixed in GCC 13). Debian 12 ships GCC 12: keep the warning off
# there rather than contort correct code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(tributary_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
