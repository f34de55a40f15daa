// io::write_file / read_file against hostile surroundings: symlinks planted at the temporary's
// names, concurrent writers of one output, directories that are missing or refuse writes. The
// target is either the old file byte for byte or one writer's whole new file, never a mix.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "sparq/io/file.hpp"
#include "sparq/io/npy.hpp"
#include "support/temp_dir.hpp"

using namespace sparq;

// (a namespace per file: the suite's files compile together, CMake's unity build)
namespace test_file_suite {

namespace {

using sparq_test::temp_dir;

std::string slurp(const std::string& path) {
    auto b = io::read_file(path.c_str(), 1 << 24);
    REQUIRE(b.ok());
    return std::string(b->begin(), b->end());
}

void put(const std::string& path, const std::string& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    REQUIRE(std::fclose(f) == 0);
}

bool is_symlink(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

TEST_CASE("write_file: symlinks planted at the temporary's old and other predictable names are not followed") {
    temp_dir dir;
    const std::string victim = dir / "victim", out = dir / "out.npy";
    put(victim, "precious");
    // The name sparq used to write through, and the ones other tools use.
    const char* planted[] = {"out.npy.tmp-sparq", "out.npy.tmp", "out.npy~", ".out.npy.tmp", "out.npy.tmp-sparq-XXXXXX",
                             "out.npy.tmp-sparq-000000"};
    for (const char* name : planted) REQUIRE(::symlink(victim.c_str(), (dir / name).c_str()) == 0);
    for (int i = 0; i < 20; ++i) REQUIRE(io::write_file(out.c_str(), "new contents " + std::to_string(i)).ok());
    CHECK(slurp(victim) == "precious");
    CHECK(slurp(out) == "new contents 19");
    for (const char* name : planted) CHECK(is_symlink(dir / name));
    CHECK(dir.entries().size() == 2 + sizeof planted / sizeof *planted);  // no temporary left behind

    // A symlink at the target itself is replaced, not written through.
    const std::string link = dir / "link.npy";
    REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);
    REQUIRE(io::write_file(link.c_str(), "replaced").ok());
    CHECK(slurp(victim) == "precious");
    CHECK_FALSE(is_symlink(link));
    CHECK(slurp(link) == "replaced");
}

TEST_CASE("write_file: two writers of one output leave one writer's whole file every time") {
    temp_dir dir;
    const std::string out = dir / "w.npy";
    // Big enough (1 MiB each) that interleaved writes into a shared temporary would show.
    std::vector<float> a(1 << 18), b(1 << 18);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i), b[i] = -float(i) - 0.5f;
    REQUIRE(io::write_npy(out.c_str(), a.data(), {index_t(a.size())}).ok());
    const std::string bytes_a = slurp(out);
    REQUIRE(io::write_npy(out.c_str(), b.data(), {index_t(b.size())}).ok());
    const std::string bytes_b = slurp(out);
    REQUIRE(bytes_a.size() == bytes_b.size());

    std::atomic<int> failures{0}, done{0};
    auto writer = [&](const std::vector<float>* v) {
        for (int i = 0; i < 50; ++i)
            if (!io::write_npy(out.c_str(), v->data(), {index_t(v->size())}).ok()) ++failures;
        ++done;
    };
    std::thread ta(writer, &a), tb(writer, &b);
    // Meanwhile every read sees one writer's whole file: the rename replaces it in one step.
    int reads = 0, torn = 0;
    while (done.load() < 2) {
        auto r = io::read_npy(out.c_str());
        ++reads;
        if (!r.ok()) {
            ++torn;
            continue;
        }
        const std::string now(r->bytes.begin(), r->bytes.end());
        if (now != bytes_a.substr(bytes_a.size() - now.size()) && now != bytes_b.substr(bytes_b.size() - now.size())) ++torn;
    }
    ta.join(), tb.join();
    CHECK(failures.load() == 0);
    CHECK(torn == 0);
    CHECK(reads > 0);
    const std::string last = slurp(out);
    CHECK((last == bytes_a || last == bytes_b));
    CHECK(dir.entries() == std::vector<std::string>{"w.npy"});  // every temporary renamed or removed

    // And round by round: both write once at the same time, then the file is read back.
    for (int round = 0; round < 50; ++round) {
        std::thread x([&] { failures += !io::write_npy(out.c_str(), a.data(), {index_t(a.size())}).ok(); });
        std::thread y([&] { failures += !io::write_npy(out.c_str(), b.data(), {index_t(b.size())}).ok(); });
        x.join(), y.join();
        REQUIRE(failures.load() == 0);
        const std::string now = slurp(out);
        CHECK((now == bytes_a || now == bytes_b));
    }
}

TEST_CASE("write_file: a directory that is missing or refuses writes gives a status; the old target stays") {
    auto missing = io::write_file("/nonexistent_sparq_dir/out.npy", "x");
    REQUIRE_FALSE(missing.ok());
    CHECK(std::string(missing.message()).find("/nonexistent_sparq_dir/out.npy: ") == 0);
    CHECK(std::string(missing.message()).find(std::strerror(ENOENT)) != std::string::npos);

    temp_dir dir;
    const std::string out = dir / "keep.npy";
    put(out, "the old contents");

    // The target is a directory: the rename fails, the temporary goes.
    const std::string sub = dir / "sub";
    REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
    put(sub + "/f", "inside");
    auto onto_dir = io::write_file(sub.c_str(), "new");
    REQUIRE_FALSE(onto_dir.ok());
    CHECK(std::string(onto_dir.message()).find(sub + ": ") == 0);
    CHECK(slurp(sub + "/f") == "inside");
    ::unlink((sub + "/f").c_str());
    ::rmdir(sub.c_str());

    // The disk fills half-way (a file size limit makes write() fail with EFBIG): nothing renamed.
    {
        struct rlimit old;
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
        struct rlimit small = old;
        small.rlim_cur = 4096;
        void (*old_handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        auto full = io::write_file(out.c_str(), std::string(100000, 'z'));
        ::setrlimit(RLIMIT_FSIZE, &old);
        ::signal(SIGXFSZ, old_handler);
        REQUIRE_FALSE(full.ok());
        CHECK(std::string(full.message()).find(out + ": write failed: " + std::strerror(EFBIG)) == 0);
    }
    CHECK(slurp(out) == "the old contents");

    // A directory without write permission (root ignores it, so only checked as a user).
    if (::geteuid() != 0) {
        REQUIRE(::chmod(dir.path.c_str(), 0500) == 0);
        auto denied = io::write_file(out.c_str(), "new");
        ::chmod(dir.path.c_str(), 0700);
        REQUIRE_FALSE(denied.ok());
        CHECK(std::string(denied.message()).find(out + ": cannot create a temporary next to it: ") == 0);
    }
    CHECK(slurp(out) == "the old contents");
    CHECK(dir.entries() == std::vector<std::string>{"keep.npy"});
}

TEST_CASE("write_file: a new file gets the usual permissions, a replaced one keeps its own") {
    temp_dir dir;
    const std::string fresh = dir / "fresh", kept = dir / "kept";
    const mode_t mask = ::umask(022);  // single-threaded here
    REQUIRE(io::write_file(fresh.c_str(), "a").ok());
    put(kept, "b");
    REQUIRE(::chmod(kept.c_str(), 0640) == 0);
    REQUIRE(io::write_file(kept.c_str(), "c").ok());
    ::umask(mask);
    struct stat st;
    REQUIRE(::stat(fresh.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);  // not mkstemp's 0600
    REQUIRE(::stat(kept.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("read_file: a directory is named as one") {
    temp_dir dir;
    auto r = io::read_file(dir.path.c_str(), 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()) == dir.path + ": is a directory");
    auto n = io::read_npy(dir.path.c_str());
    REQUIRE_FALSE(n.ok());
    CHECK(std::string(n.error().message()) == dir.path + ": is a directory");
}

}  // namespace test_file_suite
