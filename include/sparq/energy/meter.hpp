// meter: measured package energy, from whichever source this machine offers (powercap RAPL, then
// perf's power PMU), so estimates from cost_model.hpp can be compared with the real thing; and
// measure(): a workload's joules with the idle baseline taken out. A meter that cannot read says
// why ("RAPL: /sys/class/powercap does not exist ...; perf: ...") and never returns a number.
#pragma once

#include <chrono>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <utility>

#include "sparq/core/status.hpp"
#include "sparq/energy/meter_perf.hpp"
#include "sparq/energy/meter_rapl.hpp"

#if defined(__linux__)
#include <cerrno>
#include <ctime>
#endif

namespace sparq::energy {

struct meter_options {
    const char* powercap_root = default_powercap_root;  // tests point these at fake trees
    const char* rapl_domain = "package";                 // or "dram", "psys", "core": one at a time
    const char* perf_pmu_dir = default_perf_pmu_dir;
    const char* perf_event = "energy-pkg";
};

class meter {
public:
    meter() noexcept { set_why("no meter opened"); }
    explicit meter(rapl_reader reader) noexcept : kind_(source::rapl), rapl_(reader) {
        // The precisions are the buffers' sizes: GCC then knows the name fits.
        std::snprintf(name_, sizeof name_, "RAPL %.31s (%zu zones under %.255s)", rapl_.domain(), rapl_.zones(),
                      rapl_.root());
    }
    meter(perf_reader reader, const perf_event_spec& spec) noexcept : kind_(source::perf), perf_(std::move(reader)) {
        std::snprintf(name_, sizeof name_, "perf power/%.31s (%zu packages)", spec.event, perf_.packages());
    }
    SPARQ_PRINTF_FORMAT(1, 2) static meter unavailable(const char* format, ...) noexcept {
        meter m;
        std::va_list args;
        va_start(args, format);
        std::vsnprintf(m.why_, sizeof m.why_, format, args);
        va_end(args);
        return m;
    }

    bool available() const noexcept { return kind_ != source::none; }
    const char* name() const noexcept { return available() ? name_ : "none"; }
    const char* why() const noexcept { return why_; }  // "" when available

    status start() noexcept {
        switch (kind_) {
            case source::rapl: return rapl_.start();
            case source::perf: return perf_.start();
            case source::none: break;
        }
        return status(errc::not_available, "%s", why_);
    }

    result<double> joules_since_start() noexcept {
        switch (kind_) {
            case source::rapl: {
                auto uj = rapl_.microjoules_since_start();
                if (!uj) return uj.error();
                return static_cast<double>(*uj) * 1e-6;
            }
            case source::perf: return perf_.joules_since_start();
            case source::none: break;
        }
        return status(errc::not_available, "%s", why_);
    }

private:
    void set_why(const char* text) noexcept { std::snprintf(why_, sizeof why_, "%s", text); }

    enum class source { none, rapl, perf };
    source kind_ = source::none;
    rapl_reader rapl_;
    perf_reader perf_;
    char name_[340] = {};
    char why_[480] = {};  // room for both sources' reasons, each naming a file
};

inline meter open_rapl_meter(const meter_options& options = {}) noexcept {
    auto reader = rapl_reader::open(options.powercap_root, options.rapl_domain);
    if (!reader) return meter::unavailable("RAPL: %s", reader.error().message());
    return meter(*reader);
}

inline meter open_perf_meter(const meter_options& options = {}) noexcept {
    auto spec = read_perf_event_spec(options.perf_pmu_dir, options.perf_event);
    if (!spec) return meter::unavailable("perf: %s", spec.error().message());
    auto reader = perf_reader::open(*spec);
    if (!reader) return meter::unavailable("perf: %s", reader.error().message());
    return meter(std::move(*reader), *spec);
}

// RAPL first: it needs no perf permissions and reads every socket from files.
inline meter open_best_meter(const meter_options& options = {}) noexcept {
    meter rapl = open_rapl_meter(options);
    if (rapl.available()) return rapl;
    meter perf = open_perf_meter(options);
    if (perf.available()) return perf;
    return meter::unavailable("%s; %s", rapl.why(), perf.why());
}

struct measurement {
    double measured_joules = 0;  // what the meter read while the workload ran
    double idle_watts = 0;       // the machine's power with nothing of ours running
    double net_joules = 0;       // measured_joules - idle_watts * seconds: the workload's own share
    double seconds = 0;          // the workload's wall time
    double idle_seconds = 0;     // how long the baseline was actually measured
};

// The default way to be idle: sleep. EINTR resumes with the time left, so a signal cannot
// shorten the baseline.
struct sleep_idle {
    void operator()(double seconds) const noexcept {
#if defined(__linux__)
        const auto whole = static_cast<std::time_t>(seconds);
        timespec left{whole, static_cast<long>((seconds - static_cast<double>(whole)) * 1e9)};
        while (::nanosleep(&left, &left) != 0 && errno == EINTR) {}
#else
        static_cast<void>(seconds);  // no meter is available off Linux: never reached
#endif
    }
};

// Package energy counts everything the machine does, not only the workload: the baseline, measured
// first for idle_seconds (0 skips it), is charged for the workload's duration and taken out.
// net_joules can come out negative when the workload is short next to the noise of other processes.
template <class Workload, class Idle = sleep_idle>
result<measurement> measure(meter& m, double idle_seconds, Workload&& workload, Idle&& idle = Idle{}) {
    using clock = std::chrono::steady_clock;
    if (!m.available()) return status(errc::not_available, "%s", m.why());
    if (!(idle_seconds >= 0)) return status(errc::invalid_argument, "idle_seconds must be >= 0, not %g", idle_seconds);
    measurement r;
    if (idle_seconds > 0) {
        SPARQ_TRY(m.start());
        const auto begin = clock::now();
        idle(idle_seconds);
        auto joules = m.joules_since_start();
        r.idle_seconds = std::chrono::duration<double>(clock::now() - begin).count();
        if (!joules) return joules.error();
        if (!(r.idle_seconds > 0)) return status(errc::invalid_argument, "the idle baseline took no measurable time");
        r.idle_watts = *joules / r.idle_seconds;
    }
    SPARQ_TRY(m.start());
    const auto begin = clock::now();
    workload();
    auto joules = m.joules_since_start();
    r.seconds = std::chrono::duration<double>(clock::now() - begin).count();
    if (!joules) return joules.error();
    r.measured_joules = *joules;
    r.net_joules = r.measured_joules - r.idle_watts * r.seconds;
    return r;
}

}  // namespace sparq::energy
