// Cost models: the published figures, the memory model's levels, and user files (every bad
// line a status naming file and line).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "sparq/energy/cost_model.hpp"
#include "sparq/energy/cost_model_file.hpp"
#include "sparq/energy/estimate.hpp"
#include "support/temp_dir.hpp"

using namespace sparq;
using namespace sparq::energy;

TEST_CASE("Horowitz 45 nm: fp32 MAC 4.6 pJ, int8 MAC 0.3 pJ, fp16 MAC 1.5 pJ") {
    CHECK(horowitz_45nm.mac_pj(dtype::f32) == doctest::Approx(4.6).epsilon(1e-12));
    CHECK(horowitz_45nm.mac_pj(dtype::s8) == doctest::Approx(0.3).epsilon(1e-12));
    CHECK(horowitz_45nm.mac_pj(dtype::u8) == doctest::Approx(0.3).epsilon(1e-12));
    CHECK(horowitz_45nm.mac_pj(dtype::f16) == doctest::Approx(1.5).epsilon(1e-12));
    CHECK(horowitz_45nm.add(dtype::s32) == 0.1);
    CHECK(horowitz_45nm.mult(dtype::s32) == 3.1);
    CHECK(horowitz_45nm.byte_pj(level::dram) == doctest::Approx(1300.0 / 8));
    CHECK(horowitz_45nm.byte_pj(level::llc) == doctest::Approx(100.0 / 8));
    CHECK(horowitz_45nm.byte_pj(level::l1) == doctest::Approx(20.0 / 8));
    // bf16 multiplies accumulate in fp32
    CHECK(horowitz_45nm.mac_pj(dtype::bf16) == doctest::Approx(0.68 + 0.9));
}

TEST_CASE("7 nm preset: cheaper arithmetic, the same DRAM") {
    CHECK(jouppi_7nm.mac_pj(dtype::f32) == doctest::Approx(1.31 + 0.38));
    CHECK(jouppi_7nm.mac_pj(dtype::s8) == doctest::Approx(0.07 + 0.03));
    CHECK(jouppi_7nm.byte_pj(level::dram) == horowitz_45nm.byte_pj(level::dram));
    for (std::size_t t = 0; t < cost_model::dtypes; ++t) {
        CHECK(jouppi_7nm.add_pj[t] < horowitz_45nm.add_pj[t]);
        CHECK(jouppi_7nm.mult_pj[t] < horowitz_45nm.mult_pj[t]);
    }
    CHECK(find_preset("7nm") == &jouppi_7nm);
    CHECK(find_preset("horowitz_45nm") == &horowitz_45nm);
    CHECK(find_preset("5nm") == nullptr);
}

TEST_CASE("the memory model charges each tensor to the smallest level that holds it") {
    const cost_model& m = horowitz_45nm;
    CHECK(m.level_for(1) == level::registers);
    CHECK(m.level_for(256) == level::registers);
    CHECK(m.level_for(257) == level::l1);
    CHECK(m.level_for(32 * 1024) == level::l1);
    CHECK(m.level_for(1024 * 1024) == level::llc);
    CHECK(m.level_for(1024 * 1024 + 1) == level::dram);

    // A 1024 x 1024 layer: fp32 weights (4 MiB) stream from DRAM; int8 (1 MiB) fit the LLC.
    counter c;
    c.add_macs(dtype::s8, 1024 * 1024);
    c.add_weights(dtype::s8, 1024 * 1024);
    const estimate e = estimate_energy(c);
    const estimate b = estimate_fp32_baseline(c);
    CHECK(e.compute_j == doctest::Approx(1024.0 * 1024 * 0.3e-12));
    CHECK(b.compute_j == doctest::Approx(1024.0 * 1024 * 4.6e-12));
    CHECK(e.level_j[std::size_t(level::llc)] == doctest::Approx(1024.0 * 1024 * 12.5e-12));
    CHECK(e.level_j[std::size_t(level::dram)] == 0);
    CHECK(b.level_j[std::size_t(level::dram)] == doctest::Approx(4.0 * 1024 * 1024 * 162.5e-12));
    CHECK(b.memory_j == doctest::Approx(b.level_j[std::size_t(level::dram)]));
    // compute-only mode charges no memory
    const estimate compute = estimate_energy(c, m, memory_mode::compute_only);
    CHECK(compute.memory_j == 0);
    CHECK(compute.compute_j == e.compute_j);
}

TEST_CASE("sparse work: the baseline is the dense equivalent at fp32") {
    counter c;
    c.add_sparse_macs(dtype::f32, 100, 1000);
    c.add_sparse_weights(dtype::f32, 100, 200, 1000);
    const estimate e = estimate_energy(c, horowitz_45nm, memory_mode::compute_only);
    const estimate b = estimate_fp32_baseline(c, horowitz_45nm, memory_mode::compute_only);
    CHECK(e.compute_j == doctest::Approx(100 * 4.6e-12));
    CHECK(b.compute_j == doctest::Approx(1000 * 4.6e-12));
    // 400 value bytes + 200 index bytes: one 600-byte tensor (its footprint class: 1 KiB), an L1
    // tensor, as is the 4000-byte dense fp32 form; the sparse one moves 600 bytes instead of 4000.
    const estimate em = estimate_energy(c);
    CHECK(em.level_j[std::size_t(level::l1)] == doctest::Approx(600 * 2.5e-12));
    const estimate bm = estimate_fp32_baseline(c);
    CHECK(bm.level_j[std::size_t(level::l1)] == doctest::Approx(4000 * 2.5e-12));
}

TEST_CASE("cost model files: a preset, then overrides") {
    auto m = parse_cost_model("# a comment\n"
                              "base = 7nm\n"
                              "name = my chip   # trailing comment\n"
                              "mult.s8 = 0.05\r\n"
                              "level.llc.bytes = 8388608\n"
                              "level.dram.pj = 640\n"
                              "\n",
                              "chip.txt");
    REQUIRE(m.ok());
    CHECK(std::string(m->name) == "my chip");
    CHECK(m->mult(dtype::s8) == 0.05);
    CHECK(m->add(dtype::s32) == jouppi_7nm.add(dtype::s32));
    CHECK(m->memory[std::size_t(level::llc)].capacity_bytes == 8388608);
    CHECK(m->byte_pj(level::dram) == 80.0);

    auto empty = parse_cost_model("", "empty.txt");
    REQUIRE(empty.ok());
    CHECK(empty->mac_pj(dtype::f32) == horowitz_45nm.mac_pj(dtype::f32));
}

TEST_CASE("cost model files: every bad line is a parse error naming file and line") {
    struct bad {
        const char* text;
        const char* says;
    };
    const bad cases[] = {
        {"mult.f32 = 3.7\nmult.f64 = 1\n", "m.txt:2: unknown key 'mult.f64'"},
        {"add.s8 = -1\n", "m.txt:1: 'add.s8' needs a finite number >= 0, got '-1'"},
        {"add.s8 = nan\n", "needs a finite number"},
        {"add.s8 = 1e999\n", "needs a finite number"},
        {"add.s8 = 0.1x\n", "got '0.1x'"},
        {"add.s8 =\n", "got ''"},
        {"add.s8 0.1\n", "m.txt:1: expected 'key = value'"},
        {"add.s8 = 1\nadd.s8 = 2\n", "m.txt:2: 'add.s8' is set twice"},
        {"add.s8 = 1\nbase = 7nm\n", "m.txt:2: 'base' must come before any figure"},
        {"base = 3nm\n", "unknown base '3nm'"},
        {"level.l1.bytes = 1.5\n", "whole number of bytes"},
        {"level.dram.bytes = 5\n", "unknown key 'level.dram.bytes'"},
        {"level.l1.bytes = 99999999999\n", "level l1 (99999999999 bytes) is larger than level llc"},
    };
    for (const bad& b : cases) {
        CAPTURE(b.text);
        auto m = parse_cost_model(b.text, "m.txt");
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().code() == errc::parse_error);
        CHECK(std::string(m.error().message()).find(b.says) != std::string::npos);
    }
    std::string nul("add.s8 = 1\0\n", 12);
    auto m = parse_cost_model(nul, "m.txt");
    REQUIRE_FALSE(m.ok());
    CHECK(std::string(m.error().message()).find("NUL") != std::string::npos);
}

TEST_CASE("cost model files from disk: missing, too big, good") {
    auto missing = load_cost_model("/nonexistent/sparq/model.txt");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == errc::io_error);
    CHECK(std::string(missing.error().message()).find("/nonexistent/sparq/model.txt: cannot open") != std::string::npos);

    const sparq_test::temp_dir dir;
    std::string path_text = dir / "cost_XXXXXX";
    char* path = &path_text[0];
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::FILE* f = fdopen(fd, "w");
    REQUIRE(f != nullptr);
    std::fputs("base = 45nm\nadd.f32 = 1.0\n", f);
    std::fclose(f);
    auto good = load_cost_model(path);
    REQUIRE(good.ok());
    CHECK(good->mac_pj(dtype::f32) == doctest::Approx(4.7));

    f = std::fopen(path, "w");
    REQUIRE(f != nullptr);
    for (int i = 0; i < 70000; ++i) std::fputs("# padding line\n", f);  // ~1 MiB of comments
    std::fclose(f);
    auto big = load_cost_model(path);
    REQUIRE_FALSE(big.ok());
    CHECK(std::string(big.error().message()).find("over 1 MiB") != std::string::npos);
    std::remove(path);
}
