// libFuzzer target: cost model files (energy::parse_cost_model). Any input must give a model
// or a parse error; a model it accepts must hold finite, non-negative figures and increasing
// capacities.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sparq/energy/cost_model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto m = sparq::energy::parse_cost_model(text, "fuzz");
    if (!m.ok()) {
        if (m.error().message()[0] == '\0') std::abort();  // every refusal says why
        return 0;
    }
    for (std::size_t t = 0; t < sparq::energy::cost_model::dtypes; ++t)
        if (!std::isfinite(m->add_pj[t]) || m->add_pj[t] < 0 || !std::isfinite(m->mult_pj[t]) || m->mult_pj[t] < 0) std::abort();
    for (std::size_t l = 0; l + 2 < sparq::energy::levels; ++l)
        if (m->memory[l].capacity_bytes > m->memory[l + 1].capacity_bytes) std::abort();
    return 0;
}
