# Optional backends. Each option defaults to ON when its package is found and OFF otherwise;
# asking for ON explicitly when the package is missing is an error, not a silent downgrade.

macro(sparq_optional_dependency option package)
  if(NOT DEFINED ${option})
    find_package(${package} ${ARGN} QUIET)
    option(${option} "Build with ${package}" ${${package}_FOUND})
  else()
    option(${option} "Build with ${package}" ${${option}})
    if(${option})
      find_package(${package} ${ARGN} QUIET)
      if(NOT ${package}_FOUND)
        message(FATAL_ERROR "${option}=ON but ${package} was not found: run scripts/setup.sh "
                            "(Debian package list in scripts/setup.sh), or set ${option}=OFF")
      endif()
    endif()
  endif()
endmacro()

sparq_optional_dependency(SPARQ_WITH_XSIMD xsimd)
sparq_optional_dependency(SPARQ_WITH_DNNL dnnl CONFIG)

# Debian's xsimd target links a library "xtl" that does not exist, so sparq uses only
# xsimd's include directory (xsimd is header-only).
function(sparq_link_backends target)
  if(SPARQ_WITH_XSIMD)
    target_include_directories(${target} SYSTEM INTERFACE $<BUILD_INTERFACE:${xsimd_INCLUDE_DIRS}>)
    target_compile_definitions(${target} INTERFACE SPARQ_WITH_XSIMD=1)
  endif()
  if(SPARQ_WITH_DNNL)
    target_link_libraries(${target} INTERFACE DNNL::dnnl)
    target_compile_definitions(${target} INTERFACE SPARQ_WITH_DNNL=1)
  endif()
endfunction()
