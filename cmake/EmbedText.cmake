# ck_embed_text(OUT_FILE SRC_DIR PATTERN VAR): generates OUT_FILE (an .inc
# holding the array VAR) from the files matching PATTERN, rebuilt when any of
# them changes.
function(ck_embed_text out_file src_dir pattern var)
  file(GLOB inputs CONFIGURE_DEPENDS ${src_dir}/${pattern})
  add_custom_command(
    OUTPUT ${out_file}
    COMMAND ${CMAKE_COMMAND} -DSRC_DIR=${src_dir} -DPATTERN=${pattern} -DVAR=${var}
            -DOUT=${out_file} -P ${PROJECT_SOURCE_DIR}/cmake/embed_text.cmake
    DEPENDS ${inputs} ${PROJECT_SOURCE_DIR}/cmake/embed_text.cmake
    COMMENT "Embedding ${pattern} from ${src_dir}")
endfunction()
