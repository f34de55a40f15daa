# Flags for sparq's own compiled targets (tests, bench, tools, examples); consumers of the
# INTERFACE library get none of these.
function(sparq_target_defaults target)
  target_link_libraries(${target} PRIVATE sparq::sparq)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                         -Wno-sign-conversion)
  # Reproducible float results (bit-exact agreement with PyTorch's float32 arithmetic): no
  # fused multiply-add where the source says multiply, then add.
  target_compile_options(${target} PRIVATE -ffp-contract=off)
  if(SPARQ_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SPARQ_ARCH_FLAGS)
    separate_arguments(_flags UNIX_COMMAND "${SPARQ_ARCH_FLAGS}")
    target_compile_options(${target} PRIVATE ${_flags})
  endif()
endfunction()
