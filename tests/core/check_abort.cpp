// Broken preconditions in hot paths abort with a message when checks are on (debug builds, or
// SPARQ_ENABLE_CHECKS=1 as here); run by tests/support/expect_abort.cmake, one scenario each.
#define SPARQ_ENABLE_CHECKS 1
#include <cstring>

#include "sparq/core/status.hpp"
#include "sparq/core/tensor_view.hpp"

int main(int argc, char** argv) {
    int data[6] = {};
    sparq::tensor_view<int, 2> v(data, {2, 3});
    const char* what = argc > 1 ? argv[1] : "";
    if (!std::strcmp(what, "index")) return v(2, 0);
    if (!std::strcmp(what, "negative_index")) return v(0, -1);
    if (!std::strcmp(what, "slice")) return v.slice(1, 1, 4).extent(1) > 0;
    if (!std::strcmp(what, "select")) return v.select(0, 5)(0);
    if (!std::strcmp(what, "result")) {
        sparq::result<int> r(sparq::status(sparq::errc::parse_error, "bad byte at offset 7"));
        (void)r.value();  // the check fires inside value(); nothing is read
        return 3;
    }
    return 0;  // no scenario: nothing to break
}
