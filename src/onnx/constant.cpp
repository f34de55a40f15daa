// Constants during ONNX import: reading TensorProto data and folding shape arithmetic.
#include "constant.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sparq::onnx_import {

namespace {

constexpr index_t max_elements = index_t(1) << 31;

template <class T>
void read_raw(const std::string& raw, std::vector<T>& out, std::size_t count) {
    out.resize(count);
    if (count) std::memcpy(out.data(), raw.data(), count * sizeof(T));
}

// Row-major strides of dims (in elements).
std::vector<index_t> strides_of(const std::vector<index_t>& dims) {
    std::vector<index_t> s(dims.size(), 1);
    for (std::size_t k = dims.size(); k-- > 1;) s[k - 1] = s[k] * dims[k];
    return s;
}

}  // namespace

result<constant> read_tensor(const ::onnx::TensorProto& t, const std::string& where) {
    constant c;
    for (auto d : t.dims()) {
        if (d < 0 || d > max_elements)
            return status(errc::parse_error, "%s: tensor '%.80s' has a bad dimension %lld", where.c_str(), t.name().c_str(), (long long)d);
        c.dims.push_back(index_t(d));
    }
    const index_t count = checked_count(c.dims, max_elements);
    if (count < 0) return status(errc::parse_error, "%s: tensor '%.80s' has too many elements", where.c_str(), t.name().c_str());
    if (t.has_data_location() && t.data_location() == ::onnx::TensorProto::EXTERNAL)
        return status(errc::unsupported, "%s: tensor '%.80s' keeps its data in an external file", where.c_str(), t.name().c_str());
    const std::string& raw = t.raw_data();
    const std::size_t n = std::size_t(count);
    auto raw_size_ok = [&](std::size_t elt) { return raw.size() == n * elt; };
    auto bad_size = [&](std::size_t have) {
        return status(errc::parse_error, "%s: tensor '%.80s' of %td values has %zu data entries (or bytes)", where.c_str(), t.name().c_str(),
                      count, have);
    };
    switch (t.data_type()) {
        case ::onnx::TensorProto::FLOAT:
            if (!raw.empty()) {
                if (!raw_size_ok(4)) return bad_size(raw.size());
                read_raw(raw, c.f, n);
            } else {
                if (std::size_t(t.float_data_size()) != n) return bad_size(std::size_t(t.float_data_size()));
                c.f.assign(t.float_data().begin(), t.float_data().end());
            }
            return c;
        case ::onnx::TensorProto::DOUBLE: {
            std::vector<double> d;
            if (!raw.empty()) {
                if (!raw_size_ok(8)) return bad_size(raw.size());
                read_raw(raw, d, n);
            } else {
                if (std::size_t(t.double_data_size()) != n) return bad_size(std::size_t(t.double_data_size()));
                d.assign(t.double_data().begin(), t.double_data().end());
            }
            c.f.assign(d.begin(), d.end());
            return c;
        }
        case ::onnx::TensorProto::INT64:
            c.integer = true;
            if (!raw.empty()) {
                if (!raw_size_ok(8)) return bad_size(raw.size());
                read_raw(raw, c.i, n);
            } else {
                if (std::size_t(t.int64_data_size()) != n) return bad_size(std::size_t(t.int64_data_size()));
                c.i.assign(t.int64_data().begin(), t.int64_data().end());
            }
            return c;
        case ::onnx::TensorProto::INT32: case ::onnx::TensorProto::BOOL: case ::onnx::TensorProto::INT8:
        case ::onnx::TensorProto::UINT8: case ::onnx::TensorProto::INT16: case ::onnx::TensorProto::UINT16: {
            c.integer = true;
            if (!raw.empty()) {
                const int dt = t.data_type();
                const std::size_t elt = dt == ::onnx::TensorProto::INT32 ? 4 : dt == ::onnx::TensorProto::INT16 || dt == ::onnx::TensorProto::UINT16 ? 2 : 1;
                if (!raw_size_ok(elt)) return bad_size(raw.size());
                c.i.resize(n);
                for (std::size_t k = 0; k < n; ++k) {
                    const char* p = raw.data() + k * elt;
                    if (elt == 4) {
                        std::int32_t v;
                        std::memcpy(&v, p, 4);
                        c.i[k] = v;
                    } else if (elt == 2) {
                        std::uint16_t v;
                        std::memcpy(&v, p, 2);
                        c.i[k] = dt == ::onnx::TensorProto::INT16 ? std::int64_t(std::int16_t(v)) : std::int64_t(v);
                    } else {
                        c.i[k] = dt == ::onnx::TensorProto::INT8 ? std::int64_t(std::int8_t(*p)) : std::int64_t(std::uint8_t(*p));
                    }
                }
            } else {
                if (std::size_t(t.int32_data_size()) != n) return bad_size(std::size_t(t.int32_data_size()));
                c.i.assign(t.int32_data().begin(), t.int32_data().end());
            }
            return c;
        }
        default:
            return status(errc::unsupported, "%s: tensor '%.80s' has ONNX data type %d (float32, float64 and integer tensors are imported)",
                          where.c_str(), t.name().c_str(), int(t.data_type()));
    }
}

result<std::vector<index_t>> broadcast_dims(const std::vector<index_t>& a, const std::vector<index_t>& b, const std::string& where) {
    const std::size_t r = std::max(a.size(), b.size());
    std::vector<index_t> out(r);
    for (std::size_t k = 0; k < r; ++k) {
        const index_t x = k + a.size() >= r ? a[k + a.size() - r] : 1;
        const index_t y = k + b.size() >= r ? b[k + b.size() - r] : 1;
        if (x != y && x != 1 && y != 1)
            return status(errc::shape_mismatch, "%s: shapes do not broadcast (extent %td against %td)", where.c_str(), x, y);
        out[k] = x == 1 ? y : x;
    }
    return out;
}

result<constant> fold_elementwise(fold_binary kind, const constant& a, const constant& b, const std::string& where) {
    auto dims = broadcast_dims(a.dims, b.dims, where);
    if (!dims) return dims.error();
    if (a.has_batch_dim() || b.has_batch_dim())
        return status(errc::unsupported, "%s: arithmetic on the batch extent of a dynamic-batch input (only Reshape may use it)", where.c_str());
    constant c;
    c.dims = *dims;
    const bool compare = kind == fold_binary::equal || kind == fold_binary::less || kind == fold_binary::greater;
    c.integer = compare || (a.integer && b.integer);
    const index_t n = checked_count(c.dims, max_folded_elements);
    if (n < 0) return status(errc::out_of_range, "%s: a folded constant of more than %td values", where.c_str(), max_folded_elements);
    const std::size_t r = c.dims.size();
    auto padded = [&](const constant& x) {
        std::vector<index_t> d(r - x.dims.size(), 1);
        d.insert(d.end(), x.dims.begin(), x.dims.end());
        auto s = strides_of(d);
        for (std::size_t k = 0; k < r; ++k)
            if (d[k] == 1) s[k] = 0;
        return s;
    };
    const auto sa = padded(a), sb = padded(b), so = strides_of(c.dims);
    if (c.integer) c.i.resize(std::size_t(n));
    else c.f.resize(std::size_t(n));
    for (index_t e = 0; e < n; ++e) {
        index_t ia = 0, ib = 0, rest = e;
        for (std::size_t k = 0; k < r; ++k) {
            const index_t q = so[k] ? rest / so[k] : 0;
            rest -= q * so[k];
            ia += q * sa[k], ib += q * sb[k];
        }
        if (c.integer && !compare) {
            const std::int64_t x = a.i[std::size_t(ia)], y = b.i[std::size_t(ib)];
            std::int64_t v = 0;
            bool overflow = false;
            switch (kind) {
                case fold_binary::add: overflow = __builtin_add_overflow(x, y, &v); break;
                case fold_binary::sub: overflow = __builtin_sub_overflow(x, y, &v); break;
                case fold_binary::mul: overflow = __builtin_mul_overflow(x, y, &v); break;
                case fold_binary::div:
                    if (y == 0) return status(errc::invalid_argument, "%s: integer division by zero", where.c_str());
                    overflow = x == INT64_MIN && y == -1;
                    if (!overflow) v = x / y;
                    break;
                case fold_binary::pow: {
                    const double p = std::pow(double(x), double(y));
                    overflow = !(p >= -9.2e18 && p <= 9.2e18);
                    if (!overflow) v = std::int64_t(p);
                    break;
                }
                default: break;
            }
            if (overflow) return status(errc::out_of_range, "%s: integer arithmetic overflows", where.c_str());
            c.i[std::size_t(e)] = v;
            continue;
        }
        const double x = a.at(ia), y = b.at(ib);
        double v = 0;
        switch (kind) {
            case fold_binary::add: v = x + y; break;
            case fold_binary::sub: v = x - y; break;
            case fold_binary::mul: v = x * y; break;
            case fold_binary::div: v = x / y; break;
            case fold_binary::pow: v = std::pow(x, y); break;
            case fold_binary::equal: v = x == y; break;
            case fold_binary::less: v = x < y; break;
            case fold_binary::greater: v = x > y; break;
        }
        if (c.integer) c.i[std::size_t(e)] = std::int64_t(v);  // (a comparison: 0 or 1)
        else c.f[std::size_t(e)] = float(v);
    }
    return c;
}

result<constant> fold_unary(const std::string& op, const constant& a, const std::string& where) {
    if (a.has_batch_dim()) return status(errc::unsupported, "%s: %s of the batch extent", where.c_str(), op.c_str());
    constant c = a;
    if (op == "Neg") {
        for (auto& v : c.i) v = -v;
        for (auto& v : c.f) v = -v;
        return c;
    }
    if (c.integer) {  // the float functions of integers: as float
        c.integer = false;
        c.f.assign(a.i.begin(), a.i.end());
        c.i.clear();
    }
    for (auto& v : c.f) {
        if (op == "Sqrt") v = std::sqrt(v);
        else if (op == "Exp") v = std::exp(v);
        else if (op == "Erf") v = std::erf(v);
        else if (op == "Reciprocal") v = 1.0f / v;
        else if (op == "Sigmoid") v = 1.0f / (1.0f + std::exp(-v));
        else if (op == "Tanh") v = std::tanh(v);
        else if (op == "Relu") v = v > 0 ? v : (v == v ? 0.0f : v);
        else if (op == "Floor") v = std::floor(v);
        else if (op == "Ceil") v = std::ceil(v);
        else return status(errc::unsupported, "%s: %s on a constant", where.c_str(), op.c_str());
    }
    return c;
}

result<constant> fold_gather(const constant& data, const constant& indices, std::int64_t axis, const std::string& where) {
    const std::int64_t r = std::int64_t(data.dims.size());
    if (axis < -r || axis >= r || r == 0) return status(errc::invalid_argument, "%s: Gather axis %lld of a rank-%lld tensor", where.c_str(), (long long)axis, (long long)r);
    if (axis < 0) axis += r;
    if (!indices.integer) return status(errc::invalid_argument, "%s: Gather indices are not integers", where.c_str());
    const std::size_t ax = std::size_t(axis);
    constant c;
    c.integer = data.integer;
    c.dims.assign(data.dims.begin(), data.dims.begin() + std::ptrdiff_t(ax));
    c.dims.insert(c.dims.end(), indices.dims.begin(), indices.dims.end());
    c.dims.insert(c.dims.end(), data.dims.begin() + std::ptrdiff_t(ax) + 1, data.dims.end());
    index_t outer = 1, inner = 1;
    for (std::size_t k = 0; k < ax; ++k) outer *= data.dims[k];
    for (std::size_t k = ax + 1; k < data.dims.size(); ++k) inner *= data.dims[k];
    const index_t extent = data.dims[ax];
    if (checked_count(c.dims, max_folded_elements) < 0)
        return status(errc::out_of_range, "%s: a folded Gather of more than %td values", where.c_str(), max_folded_elements);
    for (index_t o = 0; o < outer; ++o)
        for (std::int64_t idx : indices.i) {
            if (idx < -extent || idx >= extent)
                return status(errc::out_of_range, "%s: Gather index %lld outside an extent of %td", where.c_str(), (long long)idx, extent);
            const index_t j = idx < 0 ? idx + extent : idx;
            for (index_t in = 0; in < inner; ++in) {
                const std::size_t src = std::size_t((o * extent + j) * inner + in);
                if (c.integer) c.i.push_back(data.i[src]);
                else c.f.push_back(data.f[src]);
            }
        }
    return c;
}

result<constant> fold_concat(const std::vector<const constant*>& parts, std::int64_t axis, const std::string& where) {
    if (parts.empty()) return status(errc::invalid_argument, "%s: Concat of nothing", where.c_str());
    const std::int64_t r = std::int64_t(parts[0]->dims.size());
    if (axis < -r || axis >= r) return status(errc::invalid_argument, "%s: Concat axis %lld of rank %lld", where.c_str(), (long long)axis, (long long)r);
    if (axis < 0) axis += r;
    const std::size_t ax = std::size_t(axis);
    constant c;
    c.integer = parts[0]->integer;
    c.dims = parts[0]->dims;
    c.dims[ax] = 0;
    for (const constant* p : parts) {
        if (p->dims.size() != std::size_t(r) || p->integer != c.integer)
            return status(errc::shape_mismatch, "%s: Concat of constants of different ranks or types", where.c_str());
        for (std::size_t k = 0; k < std::size_t(r); ++k)
            if (k != ax && p->dims[k] != parts[0]->dims[k]) return status(errc::shape_mismatch, "%s: Concat of mismatched constants", where.c_str());
        c.dims[ax] += p->dims[ax];
        if (checked_count(c.dims, max_folded_elements) < 0)
            return status(errc::out_of_range, "%s: a folded Concat of more than %td values", where.c_str(), max_folded_elements);
    }
    index_t outer = 1, inner = 1;
    for (std::size_t k = 0; k < ax; ++k) outer *= c.dims[k];
    for (std::size_t k = ax + 1; k < c.dims.size(); ++k) inner *= c.dims[k];
    for (index_t o = 0; o < outer; ++o)
        for (const constant* p : parts) {
            const index_t block = p->dims[ax] * inner;
            for (index_t e = 0; e < block; ++e) {
                const std::size_t src = std::size_t(o * block + e);
                if (c.integer) c.i.push_back(p->i[src]);
                else c.f.push_back(p->f[src]);
            }
        }
    return c;
}

result<constant> fold_slice(const constant& data, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                            const std::vector<std::int64_t>& axes_in, const std::vector<std::int64_t>& steps_in, const std::string& where) {
    const std::size_t r = data.dims.size();
    std::vector<std::int64_t> lo(r, 0), step(r, 1), count(r);
    for (std::size_t k = 0; k < r; ++k) count[k] = data.dims[k];
    if (ends.size() != starts.size() || (!axes_in.empty() && axes_in.size() != starts.size()) ||
        (!steps_in.empty() && steps_in.size() != starts.size()))
        return status(errc::invalid_argument, "%s: Slice starts, ends, axes and steps differ in length", where.c_str());
    for (std::size_t j = 0; j < starts.size(); ++j) {
        std::int64_t a = axes_in.empty() ? std::int64_t(j) : axes_in[j];
        if (a < 0) a += std::int64_t(r);
        if (a < 0 || a >= std::int64_t(r)) return status(errc::invalid_argument, "%s: Slice axis out of range", where.c_str());
        const std::int64_t dim = data.dims[std::size_t(a)];
        const std::int64_t s = steps_in.empty() ? 1 : steps_in[j];
        if (s == 0 || s < -max_elements || s > max_elements) return status(errc::invalid_argument, "%s: Slice step %lld", where.c_str(), (long long)s);
        if (starts[j] == batch_dim || ends[j] == batch_dim)
            return status(errc::unsupported, "%s: Slice bounds from the batch extent of a dynamic-batch input", where.c_str());
        auto clampi = [](std::int64_t v, std::int64_t l, std::int64_t h) { return v < l ? l : v > h ? h : v; };
        // (bounds clamped first: INT64_MIN / MAX mean "from the start" / "to the end")
        std::int64_t b = clampi(starts[j], -dim - 1, dim + 1), e = clampi(ends[j], -dim - 1, dim + 1);
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        if (s > 0) b = clampi(b, 0, dim), e = clampi(e, 0, dim);
        else b = clampi(b, 0, dim - 1), e = clampi(e, -1, dim - 1);
        const std::int64_t n = s > 0 ? (e > b ? (e - b + s - 1) / s : 0) : (b > e ? (b - e - s - 1) / -s : 0);
        lo[std::size_t(a)] = b, step[std::size_t(a)] = s, count[std::size_t(a)] = n;
    }
    constant c;
    c.integer = data.integer;
    for (std::size_t k = 0; k < r; ++k) c.dims.push_back(index_t(count[k]));
    const index_t n = checked_count(c.dims, max_folded_elements);
    if (n < 0) return status(errc::out_of_range, "%s: a folded Slice of more than %td values", where.c_str(), max_folded_elements);
    const auto si = strides_of(data.dims), so = strides_of(c.dims);
    for (index_t e = 0; e < n; ++e) {
        index_t src = 0, rest = e;
        for (std::size_t k = 0; k < r; ++k) {
            const index_t q = rest / so[k];
            rest -= q * so[k];
            src += (lo[k] + q * step[k]) * si[k];
        }
        if (c.integer) c.i.push_back(data.i[std::size_t(src)]);
        else c.f.push_back(data.f[std::size_t(src)]);
    }
    return c;
}

}  // namespace sparq::onnx_import
