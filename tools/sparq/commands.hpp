// The sparq command line program's commands (one file each).
#pragma once

namespace sparq_cli {
int demo(int argc, char** argv);
int quant_report(int argc, char** argv);
int measure(int argc, char** argv);
int digits(int argc, char** argv);
}
