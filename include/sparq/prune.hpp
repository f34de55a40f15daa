// Pruning: masks, criteria, patterns (unstructured, channel, N:M, block), global scope,
// schedules and sensitivity analysis (docs/sparsity.md).
#pragma once

#include "sparq/prune/block.hpp"
#include "sparq/prune/criteria.hpp"
#include "sparq/prune/mask.hpp"
#include "sparq/prune/model.hpp"
#include "sparq/prune/nm.hpp"
#include "sparq/prune/schedule.hpp"
#include "sparq/prune/scope.hpp"
#include "sparq/prune/sensitivity.hpp"
#include "sparq/prune/structured.hpp"
#include "sparq/prune/unstructured.hpp"
