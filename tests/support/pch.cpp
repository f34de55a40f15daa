// Builds the precompiled doctest header once; every suite reuses it (doctest_main.cpp cannot:
// it must include doctest.h itself, after DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN).
#include <doctest/doctest.h>
