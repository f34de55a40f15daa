// Bare-metal start for the Cortex-M firmware example: the vector table, the reset handler that
// sets up C++'s memory (copy .data from flash, zero .bss, run static constructors) and calls
// example_main(), and output through Arm semihosting, which qemu-system-arm (MPS2 boards) serves on the
// host's stdout. No C library start file, no heap, no OS.
#include <cstddef>
#include <cstdint>

#include "platform.hpp"

extern "C" {
// From the linker script (mps2.ld).
extern std::uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern std::uint32_t __stack_limit__, __stack_top__;
extern void (*__init_array_start)(), (*__init_array_end)();
void reset_handler();
void fault_handler();
}

namespace {

// Semihosting: operation in r0, argument in r1, trap with bkpt 0xAB (Thumb).
std::uintptr_t semihost(std::uintptr_t op, std::uintptr_t arg) {
    register std::uintptr_t r0 asm("r0") = op;
    register std::uintptr_t r1 asm("r1") = arg;
    asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
constexpr std::uintptr_t sys_write0 = 0x04, sys_exit = 0x18;
constexpr std::uintptr_t adp_application_exit = 0x20026, adp_run_time_error = 0x20023;

constexpr std::uint32_t stack_paint = 0xA5A5A5A5u;

}  // namespace

namespace platform {

void write(const char* text) { semihost(sys_write0, reinterpret_cast<std::uintptr_t>(text)); }

[[noreturn]] void finish(int code) {
    semihost(sys_exit, code == 0 ? adp_application_exit : adp_run_time_error);
    for (;;) {
    }
}

std::size_t stack_used() {
    // The stack grows down from __stack_top__: the lowest word no longer painted is its peak.
    const std::uint32_t* p = &__stack_limit__;
    while (p < &__stack_top__ && *p == stack_paint) ++p;
    return std::size_t(reinterpret_cast<const char*>(&__stack_top__) - reinterpret_cast<const char*>(p));
}

}  // namespace platform

extern "C" void reset_handler() {
    // Enable the FPU (CP10, CP11 full access) before any float instruction runs.
    volatile std::uint32_t& cpacr = *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u);
    cpacr = cpacr | (0xFu << 20);
    asm volatile("dsb\n isb" ::: "memory");
    for (std::uint32_t *src = &__data_load__, *dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
    for (std::uint32_t* dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    // Paint the stack below the current frame so stack_used() can find the high-water mark.
    std::uint32_t* sp;
    asm volatile("mov %0, sp" : "=r"(sp));
    for (std::uint32_t* p = &__stack_limit__; p < sp - 16; ++p) *p = stack_paint;
    for (auto* f = &__init_array_start; f < &__init_array_end; ++f) (*f)();
    platform::finish(example_main());
}

extern "C" void fault_handler() {
    platform::write("firmware: hard fault\n");
    platform::finish(1);
}

// The vector table: the initial stack pointer, then the handlers (reset, NMI, hard fault, the
// configurable faults); the linker script puts it at address 0, where the core reads it.
__attribute__((section(".vectors"), used)) void (*const vector_table[16])() = {
    reinterpret_cast<void (*)()>(&__stack_top__),
    reset_handler,
    fault_handler,  // NMI
    fault_handler,  // hard fault
    fault_handler,  // memory management
    fault_handler,  // bus fault
    fault_handler,  // usage fault
};
