// `acpstore serve`: turns the option table of serve_options.h into flags,
// reads ACPSTORE_* variables for flags not given, validates everything
// before touching the disk, then hands over to RunServe (serve.h).
//
// A flag beats its variable; an empty variable counts as unset.
//
// Thread-safety: main thread only.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/serve.h"
#include "cli/serve_options.h"
#ifdef ACPSTORE_WITH_POSTGRES
#include "postgres/pg_notify_payload.h"
#endif

namespace acpstore::cli {

void AddServeCommand(CLI::App& root, Runner* run) {
  struct Flags {
    std::map<std::string, std::string> values;  // node-stable: CLI11 binds
    std::map<std::string, CLI::Option*> options;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* serve = root.add_subcommand(
      "serve",
      "Serve the HTTP API until SIGTERM/SIGINT. Every option can also be "
      "set as ACPSTORE_<NAME> in the environment");
  for (const OptionSpec& spec : ServeOptionSpecs()) {
    const std::string name(spec.name);
    std::string help = std::string(spec.help) + " [env " + EnvName(name);
    if (!spec.default_value.empty()) {
      help += ", default " + std::string(spec.default_value);
    }
    help += "]";
    CLI::Option* opt =
        serve->add_option("--" + name, flags->values[name], help);
    opt->type_name(std::string(spec.value_name));
    if (name == "cors-origin") {
      // Repeatable: the values arrive joined by newlines (serve_options.cc).
      opt->multi_option_policy(CLI::MultiOptionPolicy::Join);
    }
    flags->options[name] = opt;
  }
  serve->callback([run, flags] {
    OptionValues given;
    for (const auto& [name, opt] : flags->options) {
      if (opt->count() > 0) {
        given[name] = OptionValue{flags->values[name], false};
      } else if (const char* env = std::getenv(EnvName(name).c_str());
                 env != nullptr && *env != '\0') {
        given[name] = OptionValue{env, true};
      }
    }
    *run = [given = std::move(given)] {
      Result<ServeConfig> config = ParseServeOptions(given);
      if (!config) {
        PrintError(config.error().message());
        return kExitUsage;
      }
#ifdef ACPSTORE_WITH_POSTGRES
      // The rule is the engine's (the option parser does not link it).
      if (config->store.engine == Engine::kPostgres) {
        if (Status s = postgres::CheckSchemaName(config->store.postgres_schema);
            !s.ok()) {
          PrintError("--postgres-schema: " + std::string(s.message()));
          return kExitUsage;
        }
      }
#endif
      return RunServe(*config);
    };
  });
}

}  // namespace acpstore::cli
