# Turns text files into a C++ array of {file name, raw string} pairs, sorted by
# name: -DSRC_DIR= -DPATTERN= -DVAR= -DOUT=
file(GLOB files "${SRC_DIR}/${PATTERN}")
list(SORT files)
set(out "// Generated from ${PATTERN} by cmake/embed_text.cmake; do not edit.\n")
string(APPEND out "static const struct { const char* name; const char* text; } ${VAR}[] = {\n")
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" text)
  string(APPEND out "{\"${name}\", R\"ck_embed(${text})ck_embed\"},\n")
endforeach()
string(APPEND out "};\n")
file(WRITE "${OUT}.new" "${out}")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
