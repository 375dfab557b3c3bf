# Writes OUTPUT, a C++ source defining `extern const std::string_view SYMBOL` with the bytes
# of INPUT. Used to compile config/service-mapping.json into the binary.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUTPUT}
  "// Generated from ${INPUT} by cmake/embed_file.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace jobrouter {\n"
  "static const char data[] = {${bytes} 0};\n"
  "extern const std::string_view ${SYMBOL};\n"
  "const std::string_view ${SYMBOL}(data, sizeof(data) - 1);\n"
  "}\n")
