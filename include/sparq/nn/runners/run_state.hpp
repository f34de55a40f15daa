// run_state: what a runner (nn/runners/*.hpp) sees of one step of compiled_model::run_steps:
// the step, every value of the batch, how each value is held (codes or float, channels-last or
// NCHW), and the conversions between them. One struct so that each op's runner is a plain
// function of it, and run_steps is the loop and a dispatch by op (XNNPACK's one runner per op).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sparq/core/arena.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/status.hpp"
#include "sparq/kernels/quantize.hpp"
#include "sparq/nn/channels_last.hpp"
#include "sparq/nn/compiled_step.hpp"
#include "sparq/quant/qparams.hpp"

namespace sparq::nn::runners {

struct run_state {
    const context& c;  // this step's: its energy counter
    arena& a;          // the run's scratch (temporaries released after the step)
    index_t batch;
    const detail::compiled_step& s;
    std::vector<void*>& values;  // per value: its batch (float, or int8 codes where s8[v])
    const sample_shape* shapes;  // per value
    const std::uint8_t* s8;      // per value: held as int8 codes
    const std::uint8_t* cl_of;   // per value: held channels-last
    const quant::qparams* q;     // per value: int8 parameters (int8 models)
    std::size_t in_v, out_v;     // the step's first input and its output
    const sample_shape& xs;      // their shapes
    const sample_shape& ys;
    index_t in_n, out_n;  // and sizes per sample
    bool out_s8;          // the output is held as codes
    bool cl;              // this step runs on channels-last values

    index_t size_of(std::size_t v) const noexcept { return shapes[v][0] * shapes[v][1] * shapes[v][2]; }
    void* alloc(std::size_t bytes) const { return a.allocate(bytes, 64); }
    // The step's output, as floats or codes.
    template <class T>
    T* out() const {
        return static_cast<T*>(values[out_v]);
    }
    status oom() const {
        return status(errc::out_of_memory, "model run: the arena is too small for node '%.60s'", s.name.c_str());
    }

    // Value v's data as this step reads it: converted into scratch where v is held in the other
    // layout (nn/channels_last.hpp). Null where scratch runs out.
    template <class T>
    const T* in_layout(std::size_t v, const T* data) const {
        if (!data || cl_of[v] == cl || layout_free(shapes[v])) return data;
        auto* t = static_cast<T*>(alloc(std::size_t(batch * size_of(v)) * sizeof(T)));
        if (t) convert_layout(c, data, shapes[v], batch, cl, t);
        return t;
    }
    // A value as float (dequantized into scratch if it is held as codes) or as codes.
    const float* as_float(std::size_t v) const {
        if (!s8[v]) return in_layout(v, static_cast<const float*>(values[v]));
        auto* f = static_cast<float*>(alloc(std::size_t(batch * size_of(v)) * 4));
        if (!f) return nullptr;
        const matrix_view<const std::int8_t> codes(static_cast<const std::int8_t*>(values[v]), {batch, size_of(v)});
        return kernels::dequantize(c, codes, q[v], matrix_view<float>(f, {batch, size_of(v)})).ok()
                   ? in_layout(v, static_cast<const float*>(f))
                   : nullptr;
    }
    const std::int8_t* as_s8(std::size_t v) const {
        if (s8[v]) return in_layout(v, static_cast<const std::int8_t*>(values[v]));
        auto* codes = static_cast<std::int8_t*>(alloc(std::size_t(batch * size_of(v))));
        if (!codes) return nullptr;
        const matrix_view<const float> f(static_cast<const float*>(values[v]), {batch, size_of(v)});
        return kernels::quantize(c, f, q[v], matrix_view<std::int8_t>(codes, {batch, size_of(v)})).ok()
                   ? in_layout(v, static_cast<const std::int8_t*>(codes))
                   : nullptr;
    }
};

}  // namespace sparq::nn::runners
