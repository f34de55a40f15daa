// What the firmware example needs from where it runs: text out and an exit code. On the
// Cortex-M build (startup.cpp) that is semihosting through the debugger or qemu; on the host
// (platform_host.cpp) stdout and exit().
#pragma once

#include <cstddef>

// The example itself (main.cpp), which each platform's entry calls.
int example_main();

namespace platform {

void write(const char* text);
[[noreturn]] void finish(int code);
// Bytes of stack the program has used so far (0 where it is not measured: the host).
std::size_t stack_used();

}  // namespace platform
