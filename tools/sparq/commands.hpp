// The sparq command line program's commands (one file each).
#pragma once

namespace sparq_cli {
int demo(int argc, char** argv);
}
