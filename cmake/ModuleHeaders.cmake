# Each module's public include path exposes its own folder and nothing else:
# BUILD/inc/MODULE holds one entry, MODULE, a link to src/MODULE. So
# `#include "ca/authority.h"` compiles only in targets that link ck_ca (or a
# library that links it publicly); scripts/check-includes.py also asks that
# the dependency be declared directly.

# ck_module_include_dir(MODULE OUT_VAR): creates the link, sets OUT_VAR to the
# folder to put on an include path.
function(ck_module_include_dir module out_var)
  set(dir ${CMAKE_BINARY_DIR}/inc/${module})
  file(MAKE_DIRECTORY ${dir})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${module} ${dir}/${module} SYMBOLIC)
  set(${out_var} ${dir} PARENT_SCOPE)
endfunction()

# ck_public_headers(TARGET): the headers of the folder this is called from are
# TARGET's public headers.
# With CK_UNITY, a service module's sources compile as one unit (CI's cold
# builds: each heavy header parsed once per module, not once per file). The
# commands of cli/ each keep their own flag structs in an anonymous
# namespace, so cli/ compiles file by file; so do the tests.
function(ck_public_headers target)
  get_filename_component(module ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  ck_module_include_dir(${module} dir)
  target_include_directories(${target} PUBLIC ${dir})
  if(CK_UNITY AND NOT module STREQUAL "cli")
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON)
  endif()
endfunction()
