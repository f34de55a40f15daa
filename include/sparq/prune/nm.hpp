// N:M pruning: in every group of M consecutive weights along the reduction axis (the last
// dimension of an [N, K] weight; a convolution's [O, C*KH*KW] view), exactly N are kept: the
// N highest scores of the group; among equal scores the later index is kept (criteria.hpp's
// ranking prunes the lower index first). 2:4 is what sparse tensor cores run; 1:4 and 4:8 too.
#pragma once

#include <cstdint>

#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"

namespace sparq::prune {

inline constexpr index_t max_nm_group = 16;  // M up to 16: a group is ranked on the stack

inline status check_nm(index_t n, index_t m, index_t k, const char* op) noexcept {
    if (m < 1 || m > max_nm_group) return status(errc::invalid_argument, "%s: group size M = %td is outside [1, %td]", op, m, max_nm_group);
    if (n < 1 || n > m) return status(errc::invalid_argument, "%s: N = %td must be in [1, M = %td]", op, n, m);
    if (k % m != 0) return status(errc::shape_mismatch, "%s: the reduction length %td is not a multiple of M = %td", op, k, m);
    return status::success();
}

// out = the N:M mask of `scores` ([rows, K], K a multiple of M).
inline status nm(const matrix_view<const float>& scores, index_t n, index_t m, const matrix_view<std::uint8_t>& out) noexcept {
    SPARQ_TRY(check_nm(n, m, scores.extent(1), "nm"));
    SPARQ_TRY(detail::check_mask_pair(scores, out, "nm"));
    const index_t total = scores.size();
    for (index_t g = 0; g < total; g += m) {
        const float* s = scores.data() + g;
        // Insertion sort of the group's positions by (score, index): M is small.
        index_t order[max_nm_group];
        for (index_t i = 0; i < m; ++i) {
            index_t j = i;
            while (j > 0 && (s[i] < s[order[j - 1]] || (std::isnan(s[order[j - 1]]) && !std::isnan(s[i])))) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = i;
        }
        for (index_t i = 0; i < m; ++i) out.data()[g + order[i]] = std::uint8_t(i >= m - n);
    }
    return status::success();
}

// Magnitude N:M: keep the N largest |w| of each group.
inline status l1_nm(const matrix_view<const float>& w, index_t n, index_t m, const matrix_view<std::uint8_t>& out) {
    SPARQ_TRY(check_nm(n, m, w.extent(1), "l1_nm"));
    SPARQ_TRY(detail::check_mask_pair(w, out, "l1_nm"));
    auto scores = tensor<float, 2>::make(w.extents());
    if (!scores) return scores.error();
    SPARQ_TRY(magnitude_scores(w, scores->view()));
    return nm(scores->cview(), n, m, out);
}

// Whether a mask keeps exactly N of every M along its rows (what the N:M format requires).
inline bool is_nm(const mask_view<2>& mk, index_t n, index_t m) noexcept {
    if (!check_nm(n, m, mk.extent(1), "is_nm") || !mk.is_contiguous()) return false;
    for (index_t g = 0, total = mk.size(); g < total; g += m) {
        index_t kept = 0;
        for (index_t i = 0; i < m; ++i) kept += mk.data()[g + i] != 0;
        if (kept != n) return false;
    }
    return true;
}

}  // namespace sparq::prune
