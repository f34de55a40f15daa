// sparq: compress, run and energy-count neural networks from the command line.
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "commands.hpp"
#include "sparq/version.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: sparq <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  digits    the main job: the built-in digits MLP compressed to fp16, bf16 and int8;\n"
                 "            accuracy, size, latency and estimated energy against fp32\n"
                 "  inspect   a model's layers, shapes, parameters and MACs (.onnx, .safetensors, .sparq)\n"
                 "  run       run a model (.onnx, .safetensors, .sparq) on inputs from a .npy file,\n"
                 "            write its outputs as .npy\n"
                 "  eval      a model's accuracy on inputs and labels from .npy files\n"
                 "  energy    estimated joules per layer of running a model, against fp32 dense\n"
                 "  compress  compile a model to fp32 / fp16 / bf16 / int8 and save it as a .sparq file\n"
                 "  export-c  a .sparq model as a C++ header for firmware (no heap, integer-only int8)\n"
                 "  bench     a model's latency (median, p90, min), throughput, peak memory and estimated\n"
                 "            energy per inference on one batch (.onnx, .safetensors, .sparq)\n"
                 "  demo      quantize a built-in sample layer to int8 and fp16, run it, and print\n"
                 "            error, time and estimated energy against fp32\n"
                 "  quant-report  SQNR of each quantization scheme and observer on sample weights\n"
                 "            (and on a weight file of yours)\n"
                 "  distill   train a student (smaller, pruned or int8) against a teacher's logits (KD)\n"
                 "  finetune  train a model further: pruned and kept sparse, or quantization-aware\n"
                 "  measure   run a layer for a while: estimated energy beside the package energy\n"
                 "            measured by RAPL / perf (or why this machine cannot measure)\n"
                 "\n"
                 "  sparq <command> --help   options of a command\n"
                 "  sparq --version          the version\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char* cmd = argv[1];
    if (!std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h") || !std::strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!std::strcmp(cmd, "--version")) {
        std::printf("sparq %s\n", sparq::version_string);
        return 0;
    }
    if (!std::strcmp(cmd, "demo")) return sparq_cli::demo(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "quant-report")) return sparq_cli::quant_report(argc - 1, argv + 1);
    for (const char* m : {"inspect", "run", "eval", "energy", "compress", "export-c"})
        if (!std::strcmp(cmd, m)) return sparq_cli::model_command(m, argc - 1, argv + 1);
    if (!std::strcmp(cmd, "digits")) return sparq_cli::digits(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "measure")) return sparq_cli::measure(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "distill")) return sparq_cli::distill(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "finetune")) return sparq_cli::finetune(argc - 1, argv + 1);
    if (!std::strcmp(cmd, "bench")) return sparq_cli::bench(argc - 1, argv + 1);
    std::fprintf(stderr, "sparq: unknown command '%s' (sparq --help lists them)\n", cmd);
    return 2;
}
