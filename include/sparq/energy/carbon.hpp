// carbon: grams of CO2-equivalent for an energy, from the grid's carbon intensity and the data
// centre's power usage effectiveness (PUE: facility energy / IT energy). An estimate on top of
// an estimate unless the joules were measured.
#pragma once

namespace sparq::energy {

struct grid {
    // IEA, Global Energy & CO2 Status Report 2019: the world's average carbon intensity of
    // electricity generation in 2018, 475 gCO2/kWh. Set your region's figure.
    double g_per_kwh = 475.0;
    // 1.0: the energy counted is all there is (a device, a laptop). Data centres: 1.1-1.6.
    double pue = 1.0;
};

inline constexpr double joules_per_kwh = 3.6e6;

inline double grams_co2e(double joules, const grid& g = {}) noexcept { return joules / joules_per_kwh * g.g_per_kwh * g.pue; }

}  // namespace sparq::energy
