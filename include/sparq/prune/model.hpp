// Pruning a whole model in one shot, from a short text spec (what `sparq compress --prune SPEC`
// takes). Every linear and conv2d weight is seen as a [rows, K] matrix (a conv's [O, C/g*KH*KW]:
// K is the reduction axis, as the kernels see it) and pruned by magnitude:
//   S, l1:S        unstructured, the share S of each layer's smallest |w|
//   global:S       unstructured over all layers together (a layer may lose more or less than S)
//   N:M            N:M along K: the N largest |w| of every M consecutive weights survive
//   channel:S      the share S of each layer's output channels with the smallest L2 norm
//   block:RxC:S    the share S of each layer's R x C blocks with the smallest L1 norm
// The weights are zeroed in place (the model stays dense fp32); a compiled int8 model or an
// export runs the zeros from a sparse format. One-shot pruning loses accuracy a fine-tune
// gets back (`sparq finetune --prune`, nn/train): this is the step before it, or the cheap
// way to try a pattern.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"
#include "sparq/nn/model.hpp"
#include "sparq/prune/block.hpp"
#include "sparq/prune/mask.hpp"
#include "sparq/prune/nm.hpp"
#include "sparq/prune/scope.hpp"
#include "sparq/prune/structured.hpp"
#include "sparq/prune/unstructured.hpp"

namespace sparq::prune {

enum class pattern : std::uint8_t { unstructured, global, nm, channel, block };

struct model_spec {
    pattern kind = pattern::unstructured;
    double sparsity = 0.0;  // all but nm
    index_t n = 2, m = 4;   // nm
    block_shape block{1, 1};
};

namespace detail {

inline bool parse_share(const char* text, double& out) noexcept {
    char* end = nullptr;
    out = std::strtod(text, &end);
    return end != text && *end == '\0';
}

inline bool parse_positive(const char* text, const char* stop, index_t& out) noexcept {
    char* end = nullptr;
    const long long v = std::strtoll(text, &end, 10);
    if (end == text || end != stop || v < 1 || v > (1 << 20)) return false;
    out = index_t(v);
    return true;
}

// The weight of a linear or conv2d node as a [rows, K] matrix; null for other nodes.
inline float* weight_matrix(nn::node& d, index_t& rows, index_t& k) noexcept {
    if (d.kind == nn::op::linear) {
        rows = d.linear.weight.extent(0), k = d.linear.weight.extent(1);
        return d.linear.weight.data();
    }
    if (d.kind == nn::op::conv2d) {
        rows = d.conv.weight.extent(0), k = rows ? d.conv.weight.size() / rows : 0;
        return d.conv.weight.data();
    }
    return nullptr;
}

}  // namespace detail

// "0.75", "l1:0.75", "global:0.9", "2:4", "channel:0.5", "block:4x4:0.9".
inline result<model_spec> parse_model_spec(const char* text) {
    model_spec s;
    const auto bad = [text](const char* why) {
        return status(errc::invalid_argument,
                      "prune spec '%s': %s (S, l1:S, global:S, N:M, channel:S or block:RxC:S; S a share in [0, 1))", text, why);
    };
    const char* colon = std::strchr(text, ':');
    const char* share = text;
    if (colon) {
        const std::string head(text, colon);
        share = colon + 1;
        if (head == "l1") s.kind = pattern::unstructured;
        else if (head == "global") s.kind = pattern::global;
        else if (head == "channel") s.kind = pattern::channel;
        else if (head == "block") {
            s.kind = pattern::block;
            const char* x = std::strchr(share, 'x');
            const char* c2 = std::strchr(share, ':');
            if (!x || !c2 || x > c2 || !detail::parse_positive(share, x, s.block.rows) || !detail::parse_positive(x + 1, c2, s.block.cols))
                return bad("a block needs its shape as RxC, e.g. block:4x4:0.9");
            share = c2 + 1;
        } else if (detail::parse_positive(text, colon, s.n)) {
            s.kind = pattern::nm;
            if (!detail::parse_positive(share, share + std::strlen(share), s.m)) return bad("N:M needs two positive integers");
            if (s.n > s.m) return bad("N:M keeps N of every M: N must not exceed M");
            if (s.m > max_nm_group) return bad("M is at most 16");
            return s;
        } else {
            return bad("unknown pattern");
        }
    }
    if (!detail::parse_share(share, s.sparsity) || !(s.sparsity >= 0.0 && s.sparsity < 1.0)) return bad("the share must be in [0, 1)");
    return s;
}

// Prunes every linear and conv2d weight of m as spec says. Checks every layer first (an N:M
// group or a block must divide it), so a failure leaves the model as it was.
inline status prune_model(nn::model& m, const model_spec& spec) {
    struct layer {
        float* w;
        index_t rows, k;
        mask<2> keep;
    };
    std::vector<layer> layers;
    for (nn::node& d : m.nodes) {
        index_t rows = 0, k = 0;
        float* w = detail::weight_matrix(d, rows, k);
        if (!w || rows * k == 0) continue;
        if (spec.kind == pattern::nm) {
            const status s = check_nm(spec.n, spec.m, k, "prune");
            if (!s) return status(s.code(), "layer '%s': %s", d.name.c_str(), s.message());
        }
        if (spec.kind == pattern::block) {
            const status s = check_block(spec.block, rows, k, "prune");
            if (!s) return status(s.code(), "layer '%s': %s", d.name.c_str(), s.message());
        }
        auto keep = make_mask<2>({rows, k});
        if (!keep) return keep.error();
        layers.push_back({w, rows, k, std::move(*keep)});
    }
    auto weights = [](const layer& l) { return matrix_view<const float>(l.w, {l.rows, l.k}); };
    if (spec.kind == pattern::global) {
        std::vector<tensor<float, 1>> scores;
        std::vector<global_layer> g;
        for (layer& l : layers) {
            auto sc = tensor<float, 1>::make({l.rows * l.k});
            if (!sc) return sc.error();
            SPARQ_TRY(magnitude_scores(tensor_view<const float, 1>(l.w, {l.rows * l.k}), sc->view()));
            scores.push_back(std::move(*sc));
        }
        for (std::size_t i = 0; i < layers.size(); ++i)
            g.push_back({scores[i].cview(), tensor_view<std::uint8_t, 1>(layers[i].keep.data(), {layers[i].rows * layers[i].k})});
        SPARQ_TRY(global_unstructured(g, spec.sparsity));
    } else {
        for (layer& l : layers) {
            switch (spec.kind) {
                case pattern::unstructured: SPARQ_TRY(l1_unstructured(weights(l), spec.sparsity, l.keep.view())); break;
                case pattern::nm: SPARQ_TRY(l1_nm(weights(l), spec.n, spec.m, l.keep.view())); break;
                case pattern::channel: SPARQ_TRY(ln_structured(weights(l), spec.sparsity, 2.0, 0, l.keep.view())); break;
                case pattern::block: SPARQ_TRY(l1_block(weights(l), spec.block, spec.sparsity, l.keep.view())); break;
                case pattern::global: break;
            }
        }
    }
    // Every mask is made: only now is the model touched.
    for (layer& l : layers) SPARQ_TRY(apply_mask(l.keep.cview(), matrix_view<float>(l.w, {l.rows, l.k})));
    return status::success();
}

// The share of zero weights over all linear and conv2d nodes.
inline double weight_sparsity(const nn::model& m) noexcept {
    index_t zeros = 0, total = 0;
    for (const nn::node& d : m.nodes) {
        const float* w = d.kind == nn::op::linear ? d.linear.weight.data() : d.kind == nn::op::conv2d ? d.conv.weight.data() : nullptr;
        const index_t n = d.kind == nn::op::linear ? d.linear.weight.size() : d.kind == nn::op::conv2d ? d.conv.weight.size() : 0;
        for (index_t i = 0; w && i < n; ++i) zeros += w[i] == 0.0f;
        total += n;
    }
    return total ? double(zeros) / double(total) : 0.0;
}

}  // namespace sparq::prune
