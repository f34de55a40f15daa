# Optional backends: SPARQ_WITH_XSIMD / SPARQ_WITH_DNNL are AUTO (the default: ON when the
# package is found, looked for again at every configure, so installing it later turns it on),
# ON (required: a missing package is an error, not a silent downgrade) or OFF.

macro(sparq_optional_dependency option package)
  set(${option} AUTO CACHE STRING "Build with ${package}: AUTO, ON or OFF")
  set_property(CACHE ${option} PROPERTY STRINGS AUTO ON OFF)
  set(_request "${${option}}")
  if(_request STREQUAL "AUTO")
    find_package(${package} ${ARGN} QUIET)
    set(_use ${${package}_FOUND})
  elseif(_request)
    find_package(${package} ${ARGN} QUIET)
    if(NOT ${package}_FOUND)
      message(FATAL_ERROR "${option}=ON but ${package} was not found: run scripts/setup.sh "
                          "(Debian package list in scripts/setup.sh), or set ${option}=OFF")
    endif()
    set(_use ON)
  else()
    set(_use OFF)
  endif()
  # A normal variable shadows the cache entry: the rest of the build sees ON or OFF.
  if(_use)
    set(${option} ON)
  else()
    set(${option} OFF)
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
