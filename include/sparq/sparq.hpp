// The umbrella header: all of sparq's public API.
#pragma once

#include "sparq/core.hpp"
#include "sparq/kernels/spmm.hpp"
#include "sparq/prune.hpp"
#include "sparq/quant.hpp"
#include "sparq/sparse.hpp"
#include "sparq/version.hpp"
