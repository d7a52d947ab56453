// keystep: one binary that is the CA server, the offline ceremony and the
// client CLI. main() only hands argv to the command dispatcher.

#include "cli/commands.h"

int main(int argc, char** argv) { return keystep::cli::run_cli(argc, argv); }
