# Warning set from STYLE.md §8. -Werror only when TRIB_WARNINGS_AS_ERRORS (dev and ci presets).
add_library(tributary_warnings INTERFACE)
target_compile_options(tributary_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wconversion -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast>
  $<$<BOOL:${TRIB_WARNINGS_AS_ERRORS}>:-Werror>)
