// memory_plan: where each value of a compiled model lives in the arena during a run, decided
// once at compile time by liveness: a value's bytes are reused once its last reader has run
// (TFLite's arena planner and ONNX Runtime's memory pattern do the same). Offsets are per
// sample; a batch of N scales every offset and size by N, which keeps disjoint blocks disjoint,
// so one plan serves every batch.
#pragma once

#include <cstddef>
#include <vector>

namespace sparq::nn {

struct memory_plan {
    std::vector<std::size_t> offset;  // per value, bytes per sample (value 0, the caller's input: unused)
    std::size_t bytes = 0;            // the extent of all of them, per sample
};

// bytes[v]: value v's size per sample (multiples of the alignment wanted); value v (v >= 1) is
// made by step v - 1 and last read by step last_read[v] (steps are v - 1 .. n - 1; a value the
// caller reads after the run, or one read by no step, gets last_read >= its maker's step).
// First fit: each value takes the lowest gap between the blocks still live when it is made; its
// maker's inputs are still live then, so an output never overlaps what its step reads.
inline memory_plan plan_memory(const std::vector<std::size_t>& bytes, const std::vector<std::size_t>& last_read) {
    struct block {
        std::size_t begin, end, value;
    };
    memory_plan plan;
    plan.offset.assign(bytes.size(), 0);
    std::vector<block> live;  // sorted by begin
    for (std::size_t v = 1; v < bytes.size(); ++v) {
        std::size_t at = 0, pos = 0;
        for (; pos < live.size(); ++pos) {
            if (live[pos].begin >= at + bytes[v]) break;  // fits in the gap before this block
            at = live[pos].end > at ? live[pos].end : at;
        }
        plan.offset[v] = at;
        live.insert(live.begin() + std::ptrdiff_t(pos), block{at, at + bytes[v], v});
        plan.bytes = at + bytes[v] > plan.bytes ? at + bytes[v] : plan.bytes;
        // step v - 1 is done with every value it read last
        const std::size_t step = v - 1;
        for (std::size_t i = 0; i < live.size();)
            if (live[i].value != v && last_read[live[i].value] <= step) live.erase(live.begin() + std::ptrdiff_t(i));
            else ++i;
    }
    return plan;
}

}  // namespace sparq::nn
