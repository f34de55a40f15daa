#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sparq/energy/meter.hpp"

#if defined(__linux__)
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace sparq;
using namespace sparq::energy;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("rapl: wrap through max_energy_range_uj") {
    // The reference: 262143000000 -> 1000000 with range 262143328850 is 1328850 uJ.
    static_assert(rapl_delta_uj(262143000000u, 1000000u, 262143328850u) == 1328850u);
    CHECK(rapl_delta_uj(262143000000u, 1000000u, 262143328850u) == 1328850u);
    CHECK(rapl_delta_uj(100, 250, 1000) == 150);
    CHECK(rapl_delta_uj(250, 250, 1000) == 0);
    CHECK(rapl_delta_uj(1000, 0, 1000) == 0);
}

TEST_CASE("rapl: zone directories and domain names") {
    CHECK(is_rapl_zone_dir("intel-rapl:0"));
    CHECK(is_rapl_zone_dir("intel-rapl:12"));
    CHECK(is_rapl_zone_dir("intel-rapl:0:1"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl:"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl:0:"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl:0:1:2"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl-mmio:0"));
    CHECK_FALSE(is_rapl_zone_dir("intel-rapl:x"));

    CHECK(rapl_domain_matches("package-0", "package"));
    CHECK(rapl_domain_matches("package-1-die-0", "package"));
    CHECK(rapl_domain_matches("dram", "dram"));
    CHECK_FALSE(rapl_domain_matches("dram", "package"));
    CHECK_FALSE(rapl_domain_matches("packages", "package"));
    CHECK_FALSE(rapl_domain_matches("core", "uncore"));
    CHECK_FALSE(rapl_domain_matches("uncore", "core"));
}

TEST_CASE("perf: event and CPU list parsing") {
    auto config = parse_perf_event_config("event=0x02", "f");
    REQUIRE(config.ok());
    CHECK(*config == 2);
    CHECK(*parse_perf_event_config("event=3", "f") == 3);
    for (const char* bad : {"event=", "event=0x02,umask=0x1", "config=2", "event=-1", "event= 2", ""}) {
        CAPTURE(bad);
        auto r = parse_perf_event_config(bad, "some/file");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == errc::not_available);
        CHECK(contains(r.error().message(), "some/file"));
    }

    perf_event_spec spec;
    REQUIRE(parse_cpu_list("0-1,8", spec, "cpumask").ok());
    REQUIRE(spec.cpu_count == 3);
    CHECK(spec.cpus[0] == 0);
    CHECK(spec.cpus[1] == 1);
    CHECK(spec.cpus[2] == 8);
    REQUIRE(parse_cpu_list("0,64", spec, "cpumask").ok());
    CHECK(spec.cpu_count == 2);
    CHECK(spec.cpus[1] == 64);
    for (const char* bad : {"", "a", "0,", "3-1", "0-", "-1", "0;1"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_cpu_list(bad, spec, "cpumask").ok());
    }
    CHECK_FALSE(parse_cpu_list("0-40", spec, "cpumask").ok());  // more CPUs than it holds
}

#if defined(__linux__)

namespace {

// A directory tree in the temporary directory, removed with everything in it at the end.
class fake_tree {
public:
    fake_tree() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/sparq_meter_XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        root = pattern;
        ::chmod(root.c_str(), 0755);  // the EACCES test reads it as another user
    }
    ~fake_tree() {
        ::nftw(
            root.c_str(), [](const char* path, const struct stat*, int, FTW*) { return std::remove(path); }, 16,
            FTW_DEPTH | FTW_PHYS);
    }
    fake_tree(const fake_tree&) = delete;
    fake_tree& operator=(const fake_tree&) = delete;

    std::string path(const std::string& relative) const { return root + "/" + relative; }
    void dir(const std::string& relative) const { REQUIRE(::mkdir(path(relative).c_str(), 0755) == 0); }
    void file(const std::string& relative, const std::string& content) const {
        std::FILE* f = std::fopen(path(relative).c_str(), "w");
        REQUIRE(f != nullptr);
        std::fputs(content.c_str(), f);
        std::fclose(f);
    }
    void zone(const std::string& dir_name, const std::string& name, std::uint64_t energy_uj,
              std::uint64_t max_uj = 262143328850u) const {
        dir(dir_name);
        file(dir_name + "/name", name + "\n");
        file(dir_name + "/energy_uj", std::to_string(energy_uj) + "\n");
        file(dir_name + "/max_energy_range_uj", std::to_string(max_uj) + "\n");
    }
    void set_energy(const std::string& dir_name, std::uint64_t energy_uj) const {
        file(dir_name + "/energy_uj", std::to_string(energy_uj) + "\n");
    }

    std::string root;
};

// Two sockets as sysfs shows them: every zone listed flat under the root, subzones once more
// inside their package's directory, and the MMIO interface repeating package 0.
void two_socket_tree(const fake_tree& t) {
    t.dir("intel-rapl");  // the control type, not a zone
    t.file("intel-rapl/enabled", "1\n");
    t.zone("intel-rapl:0", "package-0", 1000);
    t.zone("intel-rapl:0:0", "core", 500);
    t.zone("intel-rapl:0:1", "dram", 300);
    t.zone("intel-rapl:1", "package-1", 2000);
    t.zone("intel-rapl:1:0", "core", 600);
    t.zone("intel-rapl:0/intel-rapl:0:0", "core", 500);  // nested copies
    t.zone("intel-rapl:1/intel-rapl:1:0", "core", 600);
    t.zone("intel-rapl-mmio:0", "package-0", 7000);
    t.zone("intel-rapl:2", "psys", 9000);  // a top-level zone that is not a package
}

// Every counter moves; only the packages may show up in the package total.
void advance_all(const fake_tree& t) {
    t.set_energy("intel-rapl:0", 1000 + 10000);
    t.set_energy("intel-rapl:1", 2000 + 20000);
    t.set_energy("intel-rapl:0:0", 500 + 4000);
    t.set_energy("intel-rapl:0:1", 300 + 3000);
    t.set_energy("intel-rapl:1:0", 600 + 5000);
    t.set_energy("intel-rapl:0/intel-rapl:0:0", 500 + 4000);
    t.set_energy("intel-rapl:1/intel-rapl:1:0", 600 + 5000);
    t.set_energy("intel-rapl-mmio:0", 7000 + 10000);
    t.set_energy("intel-rapl:2", 9000 + 90000);
}

std::uint64_t read_after(rapl_reader& reader) {
    auto uj = reader.microjoules_since_start();
    REQUIRE_MESSAGE(uj.ok(), uj.error().message());
    return *uj;
}

// Why a tree that must not open does not: always a not_available, with a message.
std::string open_failure(const fake_tree& t, const char* domain = "package") {
    auto reader = rapl_reader::open(t.root.c_str(), domain);
    REQUIRE_FALSE(reader.ok());
    CHECK(reader.error().code() == errc::not_available);
    return reader.error().message();
}

}  // namespace

TEST_CASE("rapl: packages of all sockets, no subzone, no MMIO duplicate") {
    fake_tree t;
    two_socket_tree(t);
    auto reader = rapl_reader::open(t.root.c_str());
    REQUIRE_MESSAGE(reader.ok(), reader.error().message());
    CHECK(reader->zones() == 2);
    REQUIRE(reader->start().ok());
    CHECK(read_after(*reader) == 0);
    advance_all(t);
    CHECK(read_after(*reader) == 30000);
    CHECK(read_after(*reader) == 30000);  // reading again adds nothing

    meter m = open_rapl_meter(meter_options{t.root.c_str()});
    REQUIRE_MESSAGE(m.available(), m.why());
    CHECK(std::string(m.why()).empty());
    CHECK(contains(m.name(), "RAPL package (2 zones"));
    REQUIRE(m.start().ok());
    t.set_energy("intel-rapl:1", 2000 + 20000 + 1500000);
    auto joules = m.joules_since_start();
    REQUIRE(joules.ok());
    CHECK(*joules == doctest::Approx(1.5));
}

TEST_CASE("rapl: other domains one at a time, opt-in by name") {
    struct expect {
        const char* domain;
        std::size_t zones;
        std::uint64_t uj;
    };
    for (expect e : {expect{"core", 2, 9000}, expect{"dram", 1, 3000}, expect{"psys", 1, 90000}}) {
        CAPTURE(e.domain);
        fake_tree t;
        two_socket_tree(t);
        auto reader = rapl_reader::open(t.root.c_str(), e.domain);
        REQUIRE_MESSAGE(reader.ok(), reader.error().message());
        CHECK(reader->zones() == e.zones);
        REQUIRE(reader->start().ok());
        advance_all(t);
        CHECK(read_after(*reader) == e.uj);
    }
    fake_tree t;
    two_socket_tree(t);
    CHECK(contains(open_failure(t, "uncore"), "no RAPL zone named uncore-*"));
    CHECK_FALSE(rapl_reader::open(t.root.c_str(), "").ok());
}

TEST_CASE("rapl: a counter that wraps, and totals kept across reads") {
    fake_tree t;
    t.zone("intel-rapl:0", "package-0", 262143000000u, 262143328850u);
    t.zone("intel-rapl:1", "package-1", 5);
    auto reader = rapl_reader::open(t.root.c_str());
    REQUIRE_MESSAGE(reader.ok(), reader.error().message());
    REQUIRE(reader->start().ok());
    t.set_energy("intel-rapl:0", 1000000);
    CHECK(read_after(*reader) == 1328850);
    t.set_energy("intel-rapl:0", 1000010);
    t.set_energy("intel-rapl:1", 7);
    CHECK(read_after(*reader) == 1328862);
    REQUIRE(reader->start().ok());  // a new start forgets the wrap
    CHECK(read_after(*reader) == 0);
}

TEST_CASE("rapl: unreadable trees say what and where, never a number") {
    SUBCASE("missing root (this VM's /sys/class/powercap)") {
        fake_tree t;
        const std::string root = t.path("no-such-dir");
        auto reader = rapl_reader::open(root.c_str());
        REQUIRE_FALSE(reader.ok());
        CHECK(reader.error().code() == errc::not_available);
        CHECK(contains(reader.error().message(), root + " does not exist"));
        char buf[300];
        CHECK(std::string(reader.error().what(buf, sizeof buf)).rfind("not available: ", 0) == 0);
    }
    SUBCASE("no package zone: only MMIO duplicates and psys") {
        fake_tree t;
        t.zone("intel-rapl-mmio:0", "package-0", 1);
        t.zone("intel-rapl:0", "psys", 1);
        const std::string why = open_failure(t);
        CHECK(contains(why, "no RAPL zone named package-* under " + t.root));
        CHECK(contains(why, "1 zones of other domains, 1 intel-rapl-mmio"));
    }
    SUBCASE("garbage in energy_uj") {
        fake_tree t;
        t.zone("intel-rapl:0", "package-0", 1);
        for (const char* garbage : {"12abc\n", "-1\n", "\n", "99999999999999999999999\n"}) {
            CAPTURE(garbage);
            t.file("intel-rapl:0/energy_uj", garbage);
            CHECK(contains(open_failure(t), t.path("intel-rapl:0/energy_uj") + " holds"));
        }
    }
    SUBCASE("energy_uj above max_energy_range_uj, or a zero range") {
        fake_tree t;
        t.zone("intel-rapl:0", "package-0", 2000, 1000);
        CHECK(contains(open_failure(t), "holds 2000, above its max_energy_range_uj 1000"));
        t.file("intel-rapl:0/max_energy_range_uj", "0\n");
        CHECK(contains(open_failure(t), "max_energy_range_uj is 0"));
    }
    SUBCASE("missing energy_uj, or a directory where it should be") {
        fake_tree t;
        t.zone("intel-rapl:0", "package-0", 1);
        REQUIRE(std::remove(t.path("intel-rapl:0/energy_uj").c_str()) == 0);
        CHECK(contains(open_failure(t), t.path("intel-rapl:0/energy_uj") + " does not exist"));
        t.dir("intel-rapl:0/energy_uj");
        CHECK(contains(open_failure(t), "cannot read " + t.path("intel-rapl:0/energy_uj") + ": "));
    }
    SUBCASE("a counter that disappears mid-measurement leaves the totals alone") {
        fake_tree t;
        t.zone("intel-rapl:0", "package-0", 1);
        t.zone("intel-rapl:1", "package-1", 1);
        auto reader = rapl_reader::open(t.root.c_str());
        REQUIRE(reader.ok());
        REQUIRE(reader->start().ok());
        t.set_energy("intel-rapl:0", 11);
        t.file("intel-rapl:1/energy_uj", "garbage\n");
        CHECK_FALSE(reader->microjoules_since_start().ok());
        t.set_energy("intel-rapl:1", 1);
        CHECK(read_after(*reader) == 10);
    }
    SUBCASE("reading before start") {
        fake_tree t;
        t.zone("intel-rapl:0", "package-0", 1);
        auto reader = rapl_reader::open(t.root.c_str());
        REQUIRE(reader.ok());
        CHECK(reader->microjoules_since_start().error().code() == errc::invalid_argument);
    }
}

namespace {

// What opening `root` says when the caller may not read energy_uj. As root, chmod denies nothing:
// a child process drops to nobody and reports back through a pipe.
std::string open_message_without_read_permission(const fake_tree& t, bool& skipped) {
    REQUIRE(::chmod(t.path("intel-rapl:0/energy_uj").c_str(), 0) == 0);
    skipped = false;
    if (::geteuid() != 0) {
        auto reader = rapl_reader::open(t.root.c_str());
        return reader.ok() ? "opened" : reader.error().message();
    }
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(77);
        if (::access(t.root.c_str(), R_OK | X_OK) != 0) ::_exit(78);  // TMPDIR closed to others
        auto reader = rapl_reader::open(t.root.c_str());
        const char* text = reader.ok() ? "opened" : reader.error().message();
        const auto length = static_cast<std::size_t>(std::strlen(text));
        const bool written = ::write(fds[1], text, length) == static_cast<ssize_t>(length);
        ::_exit(written ? 0 : 1);
    }
    ::close(fds[1]);
    std::string message;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int child_status = 0;
    REQUIRE(::waitpid(child, &child_status, 0) == child);
    REQUIRE(WIFEXITED(child_status));
    if (WEXITSTATUS(child_status) == 77 || WEXITSTATUS(child_status) == 78) {
        skipped = true;
        return WEXITSTATUS(child_status) == 77 ? "cannot drop root (setuid refused)" : "the temporary tree is closed to nobody";
    }
    REQUIRE(WEXITSTATUS(child_status) == 0);
    return message;
}

}  // namespace

TEST_CASE("rapl: EACCES on energy_uj (root-only since the PLATYPUS fix)") {
    fake_tree t;
    t.zone("intel-rapl:0", "package-0", 1);
    bool skipped = false;
    const std::string message = open_message_without_read_permission(t, skipped);
    if (skipped) {
        MESSAGE("EACCES case not run: " << message);
        return;
    }
    CHECK(contains(message, "cannot read " + t.path("intel-rapl:0/energy_uj")));
    CHECK(contains(message, "Permission denied"));
    CHECK(contains(message, "PLATYPUS"));
}

namespace {

// The power PMU as a two-socket machine shows it, except the type: no kernel has PMU type
// 0x7ffffff0, so perf_event_open fails even as root on a machine with RAPL.
void power_pmu_tree(const fake_tree& t) {
    t.dir("power");
    t.dir("power/events");
    t.file("power/type", "2147483632\n");
    t.file("power/events/energy-pkg", "event=0x02\n");
    t.file("power/events/energy-pkg.scale", "2.3283064365386962890625e-10\n");
    t.file("power/events/energy-pkg.unit", "Joules\n");
    t.file("power/cpumask", "0,64\n");
}

}  // namespace

TEST_CASE("perf: the power PMU's files on a fake tree") {
    fake_tree t;
    power_pmu_tree(t);
    const std::string pmu = t.path("power");

    auto spec = read_perf_event_spec(pmu.c_str());
    REQUIRE_MESSAGE(spec.ok(), spec.error().message());
    CHECK(spec->type == 0x7ffffff0u);
    CHECK(spec->config == 2);
    CHECK(spec->joules_per_count == 0x1p-32);  // the text is 2^-32 exactly
    REQUIRE(spec->cpu_count == 2);
    CHECK(spec->cpus[1] == 64);
    CHECK(std::string(spec->event) == "energy-pkg");

    SUBCASE("perf_event_open of an event the kernel does not have fails with the reason") {
        auto reader = perf_reader::open(*spec);
        REQUIRE_FALSE(reader.ok());
        CHECK(contains(reader.error().message(), "perf_event_open(power/energy-pkg, cpu 0): "));
        CHECK(contains(reader.error().message(), "perf_event_paranoid is "));
        meter_options o;
        o.perf_pmu_dir = pmu.c_str();
        meter m = open_perf_meter(o);
        CHECK_FALSE(m.available());
        CHECK(contains(m.why(), "perf: perf_event_open(power/energy-pkg"));
    }
    SUBCASE("bad files name themselves") {
        struct bad {
            const char* file;
            const char* content;
            const char* says;
        };
        for (bad b : {bad{"power/type", "x\n", "not a whole number"},
                      bad{"power/events/energy-pkg", "event=0x02,umask=0x1\n", "not \"event=<number>\""},
                      bad{"power/events/energy-pkg.scale", "fast\n", "not a positive scale"},
                      bad{"power/events/energy-pkg.scale", "0\n", "not a positive scale"},
                      bad{"power/events/energy-pkg.unit", "Watts\n", "not Joules"},
                      bad{"power/cpumask", "\n", "not a CPU list"}}) {
            CAPTURE(b.file);
            fake_tree u;
            power_pmu_tree(u);
            u.file(b.file, b.content);
            auto s = read_perf_event_spec(u.path("power").c_str());
            REQUIRE_FALSE(s.ok());
            CHECK(contains(s.error().message(), u.path(b.file)));
            CHECK(contains(s.error().message(), b.says));
        }
    }
    SUBCASE("no such PMU, no such event") {
        auto missing = read_perf_event_spec(t.path("nope").c_str());
        REQUIRE_FALSE(missing.ok());
        CHECK(contains(missing.error().message(), "does not exist"));
        auto event = read_perf_event_spec(pmu.c_str(), "energy-gpu");
        REQUIRE_FALSE(event.ok());
        CHECK(contains(event.error().message(), pmu + "/events/energy-gpu does not exist"));
    }
}

TEST_CASE("meter: both sources missing gives both reasons") {
    fake_tree t;
    const std::string powercap = t.path("powercap"), pmu = t.path("power");
    meter_options o;
    o.powercap_root = powercap.c_str();
    o.perf_pmu_dir = pmu.c_str();
    meter m = open_best_meter(o);
    CHECK_FALSE(m.available());
    CHECK(std::string(m.name()) == "none");
    CHECK(contains(m.why(), "RAPL: " + powercap + " does not exist"));
    CHECK(contains(m.why(), "; perf: " + pmu + " does not exist"));
    CHECK(m.start().code() == errc::not_available);
    auto joules = m.joules_since_start();
    REQUIRE_FALSE(joules.ok());
    CHECK(contains(joules.error().message(), "RAPL: "));
    CHECK_FALSE(meter().available());
}

TEST_CASE("meter: this machine's default meter opens or says why, without crashing") {
    meter m = open_best_meter();
    if (m.available()) {
        MESSAGE("energy meter: " << std::string(m.name()));
        REQUIRE(m.start().ok());
        auto joules = m.joules_since_start();
        REQUIRE_MESSAGE(joules.ok(), joules.error().message());
        CHECK(*joules >= 0);
    } else {
        MESSAGE("energy meter not available: " << std::string(m.why()));
        CHECK(contains(m.why(), "RAPL: "));
        CHECK(contains(m.why(), "; perf: "));
    }
}

TEST_CASE("measure: idle baseline charged for the workload's time and taken out") {
    fake_tree t;
    t.zone("intel-rapl:0", "package-0", 0);
    t.zone("intel-rapl:1", "package-1", 0);
    meter_options o;
    o.powercap_root = t.root.c_str();
    meter m = open_rapl_meter(o);
    REQUIRE_MESSAGE(m.available(), m.why());

    std::uint64_t package0 = 0, package1 = 0;
    // Idle: 2 J in the requested 0.05 s (about 40 W, less if the sleep runs long).
    auto idle = [&](double seconds) {
        t.set_energy("intel-rapl:0", package0 += 2000000);
        sleep_idle{}(seconds);
    };
    auto workload = [&] {
        t.set_energy("intel-rapl:1", package1 += 5000000);
        sleep_idle{}(0.02);
    };
    auto r = measure(m, 0.05, workload, idle);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->measured_joules == doctest::Approx(5.0));
    CHECK(r->idle_seconds >= 0.05);
    CHECK(r->idle_watts * r->idle_seconds == doctest::Approx(2.0));
    CHECK(r->seconds >= 0.02);
    CHECK(r->net_joules == doctest::Approx(r->measured_joules - r->idle_watts * r->seconds));
    CHECK(r->net_joules < r->measured_joules);

    auto no_baseline = measure(m, 0, workload);
    REQUIRE(no_baseline.ok());
    CHECK(no_baseline->idle_watts == 0);
    CHECK(no_baseline->net_joules == no_baseline->measured_joules);
    CHECK(no_baseline->measured_joules == doctest::Approx(5.0));

    CHECK(measure(m, -1, workload).error().code() == errc::invalid_argument);
    meter none;
    CHECK(measure(none, 0.01, workload).error().code() == errc::not_available);
}

#else

TEST_CASE("meter: not Linux") {
    meter m = open_best_meter();
    CHECK_FALSE(m.available());
    CHECK(std::string(m.why()).find("not Linux") != std::string::npos);
}

#endif
