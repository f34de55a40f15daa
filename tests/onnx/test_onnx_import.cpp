// ONNX import: PyTorch's export of the digits MLP becomes the same model as its safetensors
// file (bit for bit) and runs within 1e-4 of PyTorch; broken or unsupported graphs are refused
// with the node named.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sparq/onnx/import.hpp"
#include "sparq/io/model_safetensors.hpp"
#include "sparq/io/npy.hpp"
#include "sparq/nn/compiled_model.hpp"

#include <onnx/onnx_pb.h>

using namespace sparq;

namespace {
std::string data_path(const char* name) { return std::string(SPARQ_TEST_DATA_DIR) + "/digits/" + name; }

// The model in fp32 on the digits test images, against PyTorch's outputs in `logits_file`.
double worst_relative_error(const nn::model& m, const char* logits_file) {
    auto x = io::read_npy(data_path("test_x.npy").c_str());
    auto ref = io::read_npy(data_path(logits_file).c_str());
    REQUIRE((x.ok() && ref.ok()));
    auto xt = x->to_f32<2>("x");
    auto rt = ref->to_f32<2>("ref");
    REQUIRE((xt.ok() && rt.ok()));
    auto c = nn::compiled_model::compile(m, {});
    REQUIRE(c.ok());
    auto y = tensor<float, 2>::make(rt->extents());
    auto scratch = arena::with_capacity(c->scratch_bytes(xt->extent(0)));
    REQUIRE((y.ok() && scratch.ok()));
    context ctx;
    REQUIRE(c->run(ctx.with_scratch(*scratch), xt->cview(), y->view()).ok());
    double worst = 0;
    for (index_t i = 0; i < y->size(); ++i)
        worst = std::max(worst, std::fabs(double(y->data()[i]) - rt->data()[i]) / std::max(1.0, std::fabs(double(rt->data()[i]))));
    return worst;
}
}  // namespace

TEST_CASE("the digits MLP from ONNX is the model PyTorch exported") {
    auto onnx_model = sparq::onnx::import_file(data_path("mlp.onnx").c_str());
    REQUIRE(onnx_model.ok());
    auto st = io::load_model_safetensors(data_path("mlp.safetensors").c_str());
    REQUIRE(st.ok());
    REQUIRE(onnx_model->nodes.size() == st->nodes.size());
    CHECK(onnx_model->input == st->input);
    for (std::size_t i = 0; i < st->nodes.size(); ++i) {
        const auto& a = onnx_model->nodes[i].linear;
        const auto& b = st->nodes[i].linear;
        CHECK(a.act == b.act);
        CHECK(a.bias == b.bias);
        REQUIRE(a.weight.extents() == b.weight.extents());
        CHECK(std::memcmp(a.weight.data(), b.weight.data(), std::size_t(a.weight.size()) * 4) == 0);
    }
    CHECK(worst_relative_error(*onnx_model, "mlp_test_logits.npy") < 1e-4);
}

TEST_CASE("the digits CNN from ONNX (Conv, BatchNormalization, MaxPool, Flatten, Gemm) runs as PyTorch does") {
    auto m = sparq::onnx::import_file(data_path("cnn.onnx").c_str());
    REQUIRE(m.ok());
    REQUIRE(m->nodes.size() == 6);  // BatchNormalization and ReLUs folded into the convolutions
    CHECK(m->nodes[0].conv.act == kernels::activation::relu);
    CHECK(m->nodes[0].conv.params.pad_top == 1);
    CHECK(m->nodes[1].kind == nn::op::max_pool);
    CHECK(worst_relative_error(*m, "cnn_test_logits.npy") < 1e-4);
}

namespace {
// A one-layer graph x -> Gemm(W [3, 2], transB) -> op -> y, for breaking on purpose.
::onnx::ModelProto small_graph(const char* extra_op) {
    ::onnx::ModelProto m;
    auto* g = m.mutable_graph();
    auto* input = g->add_input();
    input->set_name("x");
    auto* shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    shape->add_dim()->set_dim_value(2);
    auto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(::onnx::TensorProto::FLOAT);
    w->add_dims(3), w->add_dims(2);
    for (int i = 0; i < 6; ++i) w->add_float_data(float(i));
    auto* gemm = g->add_node();
    gemm->set_op_type("Gemm"), gemm->set_name("fc");
    gemm->add_input("x"), gemm->add_input("w"), gemm->add_output("h");
    auto* tb = gemm->add_attribute();
    tb->set_name("transB"), tb->set_i(1), tb->set_type(::onnx::AttributeProto::INT);
    std::string out = "h";
    if (extra_op) {
        auto* n = g->add_node();
        n->set_op_type(extra_op), n->set_name("extra");
        n->add_input("h"), n->add_output("y");
        out = "y";
    }
    g->add_output()->set_name(out);
    return m;
}

sparq::status import_of(const ::onnx::ModelProto& m) {
    const std::string bytes = m.SerializeAsString();
    auto r = sparq::onnx::import_bytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "g.onnx");
    return r.ok() ? sparq::status::success() : r.error();
}
}  // namespace

TEST_CASE("ONNX graphs that sparq cannot run are refused with the node named") {
    CHECK(import_of(small_graph(nullptr)).ok());
    CHECK(import_of(small_graph("Relu")).ok());
    CHECK(import_of(small_graph("Sigmoid")).ok());
    const auto lstm = import_of(small_graph("LSTM"));
    REQUIRE_FALSE(lstm.ok());
    CHECK(std::string(lstm.message()).find("node 2 'LSTM' (extra): op not supported") != std::string::npos);

    auto branch = small_graph(nullptr);
    branch.mutable_graph()->mutable_node(0)->set_input(0, "z");
    CHECK(std::string(import_of(branch).message()).find("reads 'z', which no earlier node makes") != std::string::npos);

    auto no_shape = small_graph(nullptr);
    no_shape.mutable_graph()->mutable_input(0)->clear_type();
    CHECK(std::string(import_of(no_shape).message()).find("input 'x' is not a float32 tensor") != std::string::npos);

    auto wrong = small_graph(nullptr);
    wrong.mutable_graph()->mutable_initializer(0)->add_float_data(7.0f);  // 7 values for a [3, 2] tensor
    CHECK(std::string(import_of(wrong).message()).find("has 7 data entries") != std::string::npos);

    auto int_weights = small_graph(nullptr);
    int_weights.mutable_graph()->mutable_initializer(0)->set_data_type(::onnx::TensorProto::INT64);
    CHECK(std::string(import_of(int_weights).message()).find("has 0 data entries") != std::string::npos);

    const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    auto bad = sparq::onnx::import_bytes(junk, sizeof junk, "junk.onnx");
    REQUIRE_FALSE(bad.ok());
    CHECK(std::string(bad.error().message()).find("junk.onnx: not an ONNX model") == 0);

    // every prefix of a real export: refused or accepted, never a crash
    auto file = io::read_file(data_path("mlp.onnx").c_str(), 1 << 20);
    REQUIRE(file.ok());
    for (std::size_t n = 0; n < file->size(); n += 97) (void)sparq::onnx::import_bytes(file->data(), n, "prefix.onnx");
}

namespace {
// A graph built field by field: input "x" [batch, dims...] (float), initializers, nodes.
struct graph_builder {
    ::onnx::ModelProto m;
    explicit graph_builder(std::initializer_list<std::int64_t> dims) {
        m.add_opset_import()->set_version(13);
        auto* in = m.mutable_graph()->add_input();
        in->set_name("x");
        auto* t = in->mutable_type()->mutable_tensor_type();
        t->set_elem_type(::onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_param("batch");
        for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
    }
    void ints(const char* name, std::initializer_list<std::int64_t> dims, std::initializer_list<std::int64_t> values) {
        auto* t = m.mutable_graph()->add_initializer();
        t->set_name(name), t->set_data_type(::onnx::TensorProto::INT64);
        for (auto d : dims) t->add_dims(d);
        for (auto v : values) t->add_int64_data(v);
    }
    void floats(const char* name, std::initializer_list<std::int64_t> dims, float value) {
        auto* t = m.mutable_graph()->add_initializer();
        t->set_name(name), t->set_data_type(::onnx::TensorProto::FLOAT);
        std::int64_t n = 1;
        for (auto d : dims) t->add_dims(d), n *= d;
        for (std::int64_t k = 0; k < n; ++k) t->add_float_data(value);
    }
    ::onnx::NodeProto* node(const char* op, std::initializer_list<const char*> in, std::initializer_list<const char*> out) {
        auto* n = m.mutable_graph()->add_node();
        n->set_op_type(op), n->set_name(std::string(op) + "_" + std::to_string(m.graph().node_size()));
        for (const char* i : in) n->add_input(i);
        for (const char* o : out) n->add_output(o);
        return n;
    }
    static void attr(::onnx::NodeProto* n, const char* name, std::int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(name), a->set_type(::onnx::AttributeProto::INT), a->set_i(v);
    }
    sparq::status import(const char* output) {
        m.mutable_graph()->add_output()->set_name(output);
        const std::string bytes = m.SerializeAsString();
        auto r = sparq::onnx::import_bytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "g.onnx");
        return r.ok() ? sparq::status::success() : r.error();
    }
};

std::string message_of(const sparq::status& s) { return s.ok() ? std::string("(imported)") : std::string(s.message()); }
}  // namespace

// Inputs a review of the importer found (2026-12-07): each is refused with a message, never a
// crash, an out-of-bounds read or an allocation the file does not justify.
TEST_CASE("hostile shape arithmetic is refused, not run") {
    {  // a 0-element constant reshaped to a shape whose product wraps to 0
        graph_builder g({4});
        g.floats("e", {0}, 0.0f);
        g.ints("s", {3}, {std::int64_t(1) << 22, std::int64_t(1) << 21, std::int64_t(1) << 21});
        g.node("Reshape", {"e", "s"}, {"r"});
        g.node("Relu", {"x"}, {"y"});
        const auto s = g.import("y");
        CHECK(message_of(s).find("Reshape") != std::string::npos);
        CHECK(message_of(s).find("too many values") != std::string::npos);
    }
    {  // Concat of a constant with itself, ten times over: 2^20 values doubling
        graph_builder g({4});
        g.ints("shape", {1}, {std::int64_t(1) << 20});
        g.node("ConstantOfShape", {"shape"}, {"c0"});
        const char* names[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"};
        for (int k = 0; k < 10; ++k) g.node("Concat", {names[k], names[k]}, {names[k + 1]})->add_attribute()->set_name("axis");
        g.node("Relu", {"x"}, {"y"});
        CHECK(message_of(g.import("y")).find("a folded Concat of more than") != std::string::npos);
    }
    {  // Range over infinities
        graph_builder g({4});
        g.floats("inf", {}, std::numeric_limits<float>::infinity());
        g.floats("one", {}, 1.0f);
        g.node("Range", {"inf", "inf", "one"}, {"r"});
        g.node("Relu", {"x"}, {"y"});
        CHECK(message_of(g.import("y")).find("Range of") != std::string::npos);
    }
    {  // INT64_MIN / -1
        graph_builder g({4});
        g.ints("a", {1}, {INT64_MIN});
        g.ints("b", {1}, {-1});
        g.node("Div", {"a", "b"}, {"q"});
        g.node("Relu", {"x"}, {"y"});
        CHECK(message_of(g.import("y")).find("integer arithmetic overflows") != std::string::npos);
    }
    {  // [N, K] @ [1, K, M]: ONNX broadcasting would put the batch on axis 1
        graph_builder g({4});
        g.floats("w", {1, 4, 3}, 0.5f);
        g.node("MatMul", {"x", "w"}, {"y"});
        CHECK(message_of(g.import("y")).find("moves the batch") != std::string::npos);
    }
    {  // Flatten axis -1 of [N, F] is axis 1: imported
        graph_builder g({4});
        graph_builder::attr(g.node("Flatten", {"x"}, {"f"}), "axis", -1);
        g.node("Relu", {"f"}, {"y"});
        CHECK(g.import("y").ok());
    }
}

// Issue 19: what an .onnx file may make the importer copy and a sample cost is bounded.
TEST_CASE("a constant named by many nodes is copied within a bound; the work of one sample is limited") {
    auto chain = [](int layers) {
        graph_builder g({1024});
        g.ints("shape", {2}, {1024, 1024});
        g.node("ConstantOfShape", {"shape"}, {"w"});  // 2^20 zeros from a 20-byte tensor
        std::vector<std::string> names{"x"};
        for (int k = 0; k < layers; ++k) names.push_back("h" + std::to_string(k));
        for (int k = 0; k < layers; ++k) g.node("MatMul", {names[std::size_t(k)].c_str(), "w"}, {names[std::size_t(k) + 1].c_str()});
        return g;
    };
    {  // 8 copies of 2^20 floats: within the folding allowance
        auto g = chain(8);
        CHECK(g.import("h7").ok());
    }
    {  // 80 copies (320 MB of weights from a file of a few hundred bytes): refused
        auto g = chain(80);
        const std::string msg = message_of(g.import("h79"));
        CHECK(msg.find("copy") != std::string::npos);
        CHECK(msg.find("constants named too often") != std::string::npos);
    }
    {  // a convolution over the largest map with a 64 x 64 kernel: 4.4e12 multiply-adds a sample
        graph_builder g({16, 2048, 2048});
        g.ints("shape", {4}, {16, 16, 64, 64});
        g.node("ConstantOfShape", {"shape"}, {"w"});
        auto* conv = g.node("Conv", {"x", "w"}, {"y"});
        auto* pads = conv->add_attribute();
        pads->set_name("pads"), pads->set_type(::onnx::AttributeProto::INTS);
        for (int k = 0; k < 4; ++k) pads->add_ints(31);  // 16 x 2047 x 2047 out: just within a value's bound
        const std::string msg = message_of(g.import("y"));
        CHECK(msg.find("over the limit of 1e+12") != std::string::npos);
        CHECK(msg.find("--max-work") != std::string::npos);
    }
    {  // the limit is the caller's: the digits CNN costs 74k multiply-adds a sample
        sparq::onnx::import_options o;
        auto m = sparq::onnx::import_file(data_path("cnn.onnx").c_str(), o);
        REQUIRE(m.ok());
        auto cost = m->cost_per_sample();
        REQUIRE(cost.ok());
        const std::uint64_t work = cost->work;
        auto macs = m->macs_per_sample();
        REQUIRE(macs.ok());
        CHECK(work > std::uint64_t(*macs));
        o.limits.max_work = work;
        CHECK(sparq::onnx::import_file(data_path("cnn.onnx").c_str(), o).ok());
        o.limits.max_work = work - 1;
        auto refused = sparq::onnx::import_file(data_path("cnn.onnx").c_str(), o);
        REQUIRE_FALSE(refused.ok());
        CHECK(std::string(refused.error().message()).find("cnn.onnx: one sample costs") != std::string::npos);
        // and memory: at the figure, accepted; a byte less, refused
        o.limits.max_work = work;
        o.limits.max_memory = cost->memory;
        CHECK(sparq::onnx::import_file(data_path("cnn.onnx").c_str(), o).ok());
        o.limits.max_memory = cost->memory - 1;
        refused = sparq::onnx::import_file(data_path("cnn.onnx").c_str(), o);
        REQUIRE_FALSE(refused.ok());
        CHECK(std::string(refused.error().message()).find("bytes of activations and scratch") != std::string::npos);
    }
    {  // little work, much memory: 100 sigmoids of a 4096 x 4096 map (6.7 GB, 3.4e9 operations)
        graph_builder g({1, 1, 1});
        g.ints("pads", {8}, {0, 0, 0, 0, 0, 0, 4095, 4095});
        g.node("Pad", {"x", "pads"}, {"p"});
        std::vector<std::string> names{"p"};
        for (int k = 0; k < 100; ++k) names.push_back("s" + std::to_string(k));
        for (int k = 0; k < 100; ++k) g.node("Sigmoid", {names[std::size_t(k)].c_str()}, {names[std::size_t(k) + 1].c_str()});
        const std::string msg = message_of(g.import("s99"));
        CHECK(msg.find("one sample needs 6.") != std::string::npos);
        CHECK(msg.find("--max-memory") != std::string::npos);
    }
}

// Issue 19, review: nn::fuse rewrote in time quadratic in the nodes (each removal recounted every
// use): 20000 Conv -> Relu pairs took 191 s to import in a debug build. Now each rewrite costs
// the nodes it touches.
TEST_CASE("fusing a long chain costs time linear in its nodes") {
    graph_builder g({1, 1, 1});
    g.floats("w", {1, 1, 1, 1}, 0.5f);
    std::vector<std::string> names{"x"};
    for (int k = 0; k < 40000; ++k) names.push_back("v" + std::to_string(k));
    for (int k = 0; k < 40000; k += 2) {
        g.node("Conv", {names[std::size_t(k)].c_str(), "w"}, {names[std::size_t(k) + 1].c_str()});
        g.node("Relu", {names[std::size_t(k) + 1].c_str()}, {names[std::size_t(k) + 2].c_str()});
    }
    const auto start = std::chrono::steady_clock::now();
    g.m.mutable_graph()->add_output()->set_name(names.back());
    const std::string bytes = g.m.SerializeAsString();
    auto m = sparq::onnx::import_bytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "chain.onnx");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(m.ok());
    CHECK(m->nodes.size() == 20000);  // every ReLU folded into its convolution
    CHECK(m->nodes.back().conv.act == kernels::activation::relu);
    // (linear: well under a second even under ASan; quadratic: minutes)
    CHECK(seconds < 30.0);
}
