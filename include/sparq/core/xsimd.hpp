// xsimd, as every sparq header includes it: its text inside SPARQ_INTRINSICS_BEGIN / END, so that
// GCC 12's false positives on AVX-512 intrinsics (_mm512_undefined_* seen as uninitialised, at
// -O1: the asan preset) are silenced in xsimd's own templates too (its vector exp, nearbyint,
// batch_cast), not only in sparq's code. A program that includes <xsimd/xsimd.hpp> itself before
// sparq's headers gets xsimd as it comes.
#pragma once

#include "sparq/core/config.hpp"

SPARQ_INTRINSICS_BEGIN
#include <xsimd/xsimd.hpp>
SPARQ_INTRINSICS_END
