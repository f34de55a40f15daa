// sparq_bench's main: Google Benchmark's, plus a line in the context saying whether measured
// energy (meas_J) is available and, if not, why.
#include <benchmark/benchmark.h>

#include "energy_probe.hpp"

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    const auto& m = sparq_bench::package_meter();
    benchmark::AddCustomContext("energy_meter", m.available() ? m.name() : std::string("not available: ") + m.why());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
