// sparq's ground floor: views, tensors, scratch memory, status, context, half-precision types.
#pragma once

#include "sparq/core/arena.hpp"
#include "sparq/core/bfloat16.hpp"
#include "sparq/core/context.hpp"
#include "sparq/core/convert.hpp"
#include "sparq/core/dtype.hpp"
#include "sparq/core/finite.hpp"
#include "sparq/core/float16.hpp"
#include "sparq/core/shape.hpp"
#include "sparq/core/status.hpp"
#include "sparq/core/tensor.hpp"
#include "sparq/core/tensor_view.hpp"
