// load_any_model: a model file by its extension (see onnx_import.hpp).
#include "onnx_import.hpp"

#include <string>

#include "model_loading.hpp"
#include "sparq/io/model_safetensors.hpp"

#if defined(SPARQ_CLI_WITH_ONNX)
#include "sparq/onnx/import.hpp"
#endif

namespace sparq_cli {

using namespace sparq;

bool onnx_available() noexcept {
#if defined(SPARQ_CLI_WITH_ONNX)
    return true;
#else
    return false;
#endif
}

result<nn::model> load_any_model(const char* path, const nn::load_limits& limits) {
    const std::string p = path;
    if (ends_with(p, ".onnx")) {
#if defined(SPARQ_CLI_WITH_ONNX)
        onnx::import_options o;
        o.limits = limits;
        return onnx::import_file(path, o);
#else
        return status(errc::not_available, "%s: this sparq was built without ONNX import (install libonnx-dev libprotobuf-dev, reconfigure)", path);
#endif
    }
    if (ends_with(p, ".safetensors")) return io::load_model_safetensors(path, limits);
    if (ends_with(p, ".sparq"))
        return status(errc::unsupported, "%s: a compressed .sparq model has no fp32 graph to load here (run, eval, energy, inspect and export-c take it)", path);
    return status(errc::unsupported, "%s: unknown model format (.onnx or .safetensors)", path);
}

}  // namespace sparq_cli
