// The firmware example's platform on a PC: the same main.cpp, written to stdout, so its
// output can be compared with the Cortex-M build's and with `sparq run`'s.
#include <cstdio>
#include <cstdlib>

#include "platform.hpp"

namespace platform {

void write(const char* text) { std::fputs(text, stdout); }

void finish(int code) {
    std::fflush(stdout);
    std::exit(code);
}

std::size_t stack_used() { return 0; }

}  // namespace platform

int main() { platform::finish(example_main()); }
