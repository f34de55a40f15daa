# Fails when HEADER, compiled alone with -fno-exceptions -fno-rtti, opens a standard header that
# allocates, does I/O through streams, starts threads or needs RTTI (cmake -P; run by ctest).
set(tu ${CMAKE_CURRENT_BINARY_DIR}/check_header_closure.cpp)
file(WRITE ${tu} "#include <${HEADER}>\n")
execute_process(COMMAND ${CXX} -std=c++17 -fno-exceptions -fno-rtti -I${INCLUDE} -H -fsyntax-only ${tu}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE opened)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${HEADER} does not compile with -fno-exceptions -fno-rtti:\n${opened}")
endif()
set(forbidden vector string memory iostream ostream istream sstream fstream functional thread mutex future
              map unordered_map set unordered_set list deque any typeindex regex locale)
foreach(h ${forbidden})
  if(opened MATCHES "[.]+ [^\n]*/c\\+\\+/[0-9]+/${h}\n")
    string(REGEX MATCH "[^\n]*\n[.]+ [^\n]*/c\\+\\+/[0-9]+/${h}\n" where "${opened}")
    message(FATAL_ERROR "${HEADER} pulls in <${h}> (firmware headers must not allocate, stream or use RTTI):\n${where}")
  endif()
endforeach()
string(REGEX MATCHALL "\n[.]+ [^\n]*sparq/[^\n]*" ours "\n${opened}")
list(LENGTH ours n)
string(REPLACE ";" "> <" shown "${forbidden}")
message(STATUS "${HEADER}: ${n} sparq headers, none of <${shown}>")
