// core/utf8.hpp: which bytes are well-formed UTF-8, and names from files made safe to print.
#include <doctest/doctest.h>

#include <string>

#include "sparq/core/utf8.hpp"

using namespace sparq;

TEST_CASE("utf8_sequence: RFC 3629's well-formed sequences, nothing else") {
    CHECK(utf8_sequence("a", 0) == 1);
    CHECK(utf8_sequence("\xc3\xa9", 0) == 2);
    CHECK(utf8_sequence("\xe2\x82\xac", 0) == 3);
    CHECK(utf8_sequence("\xf0\x9f\x98\x80", 0) == 4);
    CHECK(utf8_sequence("\xf4\x8f\xbf\xbf", 0) == 4);  // U+10FFFF
    CHECK(utf8_sequence("\xc0\xaf", 0) == 0);          // overlong
    CHECK(utf8_sequence("\xe0\x80\xaf", 0) == 0);      // overlong
    CHECK(utf8_sequence("\xed\xa0\x80", 0) == 0);      // surrogate
    CHECK(utf8_sequence("\xf4\x90\x80\x80", 0) == 0);  // past U+10FFFF
    CHECK(utf8_sequence("\xe2\x82", 0) == 0);          // cut short
    CHECK(utf8_sequence("\x80", 0) == 0);              // a lone continuation
    CHECK(utf8_sequence("\xff", 0) == 0);
}

TEST_CASE("printable: control bytes, C1 controls and broken UTF-8 shown as \\xNN; text kept") {
    CHECK(printable("conv1.weight") == "conv1.weight");
    CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(printable("fc\n#include") == "fc\\x0a#include");
    CHECK(printable("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07");  // a terminal title escape
    CHECK(printable("a\xc2\x9b"
                    "31m") == "a\\xc2\\x9b31m");  // C1 CSI in UTF-8
    CHECK(printable("\xff\xfe") == "\\xff\\xfe");
    CHECK(printable("x\x7f") == "x\\x7f");
    CHECK(printable("a\\x1b") == "a\\x5cx1b");  // the text "\x1b" is not shown as if it were ESC
}
