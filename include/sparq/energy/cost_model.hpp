// A cost model: picojoules per arithmetic operation and per 64-bit memory access, as data.
// Estimates, not measurements. Every figure in the presets below is in docs/energy-model.md
// with its source; figures the sources do not give are marked there as estimates, with the
// reasoning. Users load their own from a file (cost_model_file.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sparq/core/dtype.hpp"

namespace sparq::energy {

// The memory levels a tensor's bytes can be charged to, smallest first.
enum class level : std::uint8_t { registers, l1, llc, dram };
inline constexpr std::size_t levels = 4;

constexpr const char* to_string(level l) noexcept {
    switch (l) {
        case level::registers: return "registers";
        case level::l1: return "l1";
        case level::llc: return "llc";
        case level::dram: return "dram";
    }
    return "?";
}

struct memory_level {
    std::uint64_t capacity_bytes;  // tensors up to this size live here (dram: unbounded)
    double pj_per_64bit;           // one 64-bit access
};

struct cost_model {
    static constexpr std::size_t dtypes = 7;  // indexed by sparq::dtype
    char name[96];
    // Per dtype (f32, f16, bf16, s32, s8, u8, s4): one addition, one multiplication.
    double add_pj[dtypes];
    double mult_pj[dtypes];
    memory_level memory[levels];  // registers, l1, llc, dram

    double add(dtype t) const noexcept { return add_pj[std::size_t(t)]; }
    double mult(dtype t) const noexcept { return mult_pj[std::size_t(t)]; }

    // What a multiply in precision p accumulates into: integers into int32, bf16 into fp32
    // (as bf16 dot-product hardware does), fp16 and fp32 into their own type.
    static constexpr dtype accumulator(dtype p) noexcept {
        switch (p) {
            case dtype::s8: case dtype::u8: case dtype::s4: case dtype::s32: return dtype::s32;
            case dtype::bf16: return dtype::f32;
            default: return p;
        }
    }
    // One multiply-accumulate: the multiply in p, the add in its accumulator.
    double mac_pj(dtype p) const noexcept { return mult(p) + add(accumulator(p)); }
    double byte_pj(level l) const noexcept { return memory[std::size_t(l)].pj_per_64bit / 8.0; }
    // The smallest level a tensor of `bytes` fits in.
    level level_for(std::uint64_t bytes) const noexcept {
        for (std::size_t i = 0; i + 1 < levels; ++i)
            if (bytes <= memory[i].capacity_bytes) return level(i);
        return level::dram;
    }
};

inline constexpr std::uint64_t kib = 1024, mib = 1024 * 1024;

// M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm.
// bf16 and s4 are not in the paper: estimates (docs/energy-model.md). Registers are charged 0:
// the paper gives no register-file figure, so operand delivery is left inside the op energies;
// only tensors of at most 256 bytes (four 512-bit registers) count as living there.
// Levels: a 32 KB SRAM as L1; the 1 MB SRAM, the largest the paper measured, as the LLC (set a
// bigger capacity for a bigger cache and accept the 1 MB energy as a lower bound); DRAM at the
// low end of its 1.3-2.6 nJ per 64-bit access.
inline constexpr cost_model horowitz_45nm{
    "horowitz_45nm (Horowitz, ISSCC 2014, 45 nm)",
    //  f32   f16   bf16  s32   s8    u8    s4
    {0.9, 0.4, 0.28, 0.1, 0.03, 0.03, 0.03},
    {3.7, 1.1, 0.68, 3.1, 0.2, 0.2, 0.05},
    {{256, 0.0}, {32 * kib, 20.0}, {1 * mib, 100.0}, {~std::uint64_t(0), 1300.0}},
};

// The 7 nm column of the energy table in N. P. Jouppi et al., "Ten Lessons From Three
// Generations Shaped Google's TPUv4i", ISCA 2021 (which sets it next to Horowitz's 45 nm). s4 is
// an estimate; DRAM is DDR3/4's 1.3 nJ, which the paper notes does not scale with the node.
inline constexpr cost_model jouppi_7nm{
    "jouppi_7nm (Jouppi et al., ISCA 2021, 7 nm)",
    //  f32   f16   bf16  s32   s8     u8     s4
    {0.38, 0.16, 0.11, 0.03, 0.007, 0.007, 0.007},
    {1.31, 0.34, 0.21, 1.48, 0.07, 0.07, 0.0175},
    {{256, 0.0}, {32 * kib, 8.5}, {1 * mib, 14.0}, {~std::uint64_t(0), 1300.0}},
};

// A preset by its short name ("horowitz_45nm", "45nm", "jouppi_7nm", "7nm"), or null.
inline const cost_model* find_preset(const char* name) noexcept {
    if (!std::strcmp(name, "horowitz_45nm") || !std::strcmp(name, "45nm")) return &horowitz_45nm;
    if (!std::strcmp(name, "jouppi_7nm") || !std::strcmp(name, "7nm")) return &jouppi_7nm;
    return nullptr;
}

}  // namespace sparq::energy
