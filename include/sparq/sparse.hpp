// Sparse weight formats built from a masked dense weight: CSR, block-sparse, N:M packed
// (docs/sparsity.md). Their kernels are in kernels/spmm.hpp.
#pragma once

#include "sparq/sparse/block.hpp"
#include "sparq/sparse/csr.hpp"
#include "sparq/sparse/nm.hpp"
