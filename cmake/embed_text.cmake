# Turns a text file into a C++ header holding it as a raw string literal, at
# build time (no third-party code, no build step for the file itself):
#   cmake -DIN=<text file> -DOUT=<header> -DNAME=<constant> -DNAMESPACE=<ns>
#         -P cmake/embed_text.cmake
# The header declares `inline constexpr std::string_view NAME` in NAMESPACE.
# Used for the dashboard page (server/metrics/dashboard.html, served at
# GET /dashboard by server/metrics/dashboard.cc).
foreach(var IN ITEMS IN OUT NAME NAMESPACE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: -D${var}=... is required")
  endif()
endforeach()
file(READ "${IN}" content)
set(delim "basalt_embed")
string(FIND "${content}" ")${delim}\"" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "embed_text.cmake: ${IN} contains the delimiter )${delim}\"")
endif()
get_filename_component(in_name "${IN}" NAME)
# GCC and Clang take string literals far longer than any page we embed; MSVC
# would need the literal split (16 KiB pieces), which Basalt does not build with.
file(WRITE "${OUT}"
     "// Generated at build time from ${in_name} by cmake/embed_text.cmake. Do not edit.\n"
     "#pragma once\n\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n"
     "inline constexpr std::string_view ${NAME} = R\"${delim}(${content})${delim}\";\n\n"
     "}  // namespace ${NAMESPACE}\n")
