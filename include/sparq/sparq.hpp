// The umbrella header: all of sparq's public API.
#pragma once

#include "sparq/core.hpp"
#include "sparq/quant.hpp"
#include "sparq/version.hpp"
