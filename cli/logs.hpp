#pragma once
namespace troupe::cli {
// troupe logs tail [-n N] [--json] [--db URL]
// troupe logs export --since ISO8601|UNIX [--db URL]     (JSON lines)
// troupe logs migrate [--db URL]                          (create / upgrade the schema)
// argv[1] is "logs".
int run_logs(int argc, char** argv);
}  // namespace troupe::cli
