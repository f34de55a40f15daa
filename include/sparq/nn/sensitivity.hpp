// Which layers an int8 model should keep in float: a sensitivity pass (as Distiller and NNCF
// run one) that compiles the model once per weighted layer with only that layer in fp32 and
// asks the caller's evaluation (accuracy on held-out data, or any score where higher is
// better) what each one buys back; then a greedy choice that keeps the most rewarding layers in
// float until the int8 model is within a budget of the fp32 one.
//
//   auto eval = [&](const nn::compiled_model& c) -> result<double> { ... accuracy ... };
//   auto table = nn::int8_sensitivity(model, options, eval);        // one row per layer
//   auto pick = nn::choose_float_layers(model, options, *table, 0.005, eval);
//   options.float_layers = pick->float_layers;                      // compile with them
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/nn/compiled_model.hpp"

namespace sparq::nn {

struct layer_sensitivity {
    std::string name;     // the linear / conv2d node
    double score = 0;     // the int8 model's score with this layer alone in fp32
    double gain = 0;      // score - the all-int8 score
};

struct sensitivity_table {
    double fp32 = 0;                     // the model in fp32
    double int8 = 0;                     // every layer in int8
    std::vector<layer_sensitivity> layers;  // in node order
};

struct float_layer_choice {
    std::vector<std::string> float_layers;  // in the order they were added
    double score = 0;                       // the int8 model's score with them in fp32
};

// o: the int8 options (calibration, observer; its float_layers are ignored). eval(compiled
// model) -> result<double>. progress(user, done, total), if given, after each compilation.
template <class Eval>
result<sensitivity_table> int8_sensitivity(const model& m, compile_options o, Eval&& eval,
                                           void (*progress)(void*, std::size_t, std::size_t) = nullptr, void* user = nullptr) {
    if (o.prec != precision::int8) return status(errc::invalid_argument, "sensitivity: the options must compile int8");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < m.nodes.size(); ++i)
        if (m.nodes[i].kind == op::linear || m.nodes[i].kind == op::conv2d) names.push_back(detail::node_name(m.nodes[i], i));
    const std::size_t total = names.size() + 2;
    std::size_t done = 0;
    auto score = [&](precision p, std::vector<std::string> keep) -> result<double> {
        compile_options c = o;
        c.prec = p;
        c.float_layers = std::move(keep);
        c.progress = nullptr;
        auto compiled = compiled_model::compile(m, c);
        if (!compiled) return compiled.error();
        auto s = eval(static_cast<const compiled_model&>(*compiled));
        if (progress) progress(user, ++done, total);
        return s;
    };
    sensitivity_table t;
    auto f = score(precision::f32, {});
    if (!f) return f.error();
    auto q = score(precision::int8, {});
    if (!q) return q.error();
    t.fp32 = *f, t.int8 = *q;
    for (const std::string& name : names) {
        auto s = score(precision::int8, {name});
        if (!s) return s.error();
        t.layers.push_back({name, *s, *s - t.int8});
    }
    return t;
}

// Greedy: layers by gain (largest first; ties in node order) are kept in float one at a time,
// each choice compiled and scored, until the score is at least fp32 - max_drop. Layers that
// gained nothing alone are tried last. An all-float choice reaches the fp32 score.
template <class Eval>
result<float_layer_choice> choose_float_layers(const model& m, compile_options o, const sensitivity_table& t, double max_drop, Eval&& eval) {
    if (!(max_drop >= 0.0)) return status(errc::invalid_argument, "sensitivity: the budget %g must be >= 0", max_drop);
    std::vector<layer_sensitivity> order = t.layers;
    std::stable_sort(order.begin(), order.end(), [](const layer_sensitivity& a, const layer_sensitivity& b) { return a.gain > b.gain; });
    float_layer_choice c;
    c.score = t.int8;
    o.prec = precision::int8;
    for (const layer_sensitivity& l : order) {
        if (c.score >= t.fp32 - max_drop) break;
        c.float_layers.push_back(l.name);
        o.float_layers = c.float_layers;
        auto compiled = compiled_model::compile(m, o);
        if (!compiled) return compiled.error();
        auto s = eval(static_cast<const compiled_model&>(*compiled));
        if (!s) return s.error();
        c.score = *s;
    }
    return c;
}

}  // namespace sparq::nn
