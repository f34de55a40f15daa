// The sparq command line program's commands (one file each).
#pragma once

namespace sparq_cli {
int demo(int argc, char** argv);
int quant_report(int argc, char** argv);
int measure(int argc, char** argv);
int digits(int argc, char** argv);
int distill(int argc, char** argv);   // distill and finetune: train_commands.cpp
int finetune(int argc, char** argv);
int bench(int argc, char** argv);     // the model-level benchmark: bench.cpp
// inspect, run, eval, energy: the commands on a model file
int model_command(const char* cmd, int argc, char** argv);
}
