// The documents against the binary and the tree. Every `acpstore
// <command> ... --flag` that README.md, docs/operations.md or
// docs/http_api.md writes names a flag that command's --help lists; every
// `--flag` named anywhere in README.md, docs/*.md (but the benchmarks) and
// docs/openapi.yaml is a flag of some command or another tool's; every
// module folder has a README and is in both layout lists; and README's
// library example is packaging/example/main.cc (which ctest's
// install_example builds and runs) word for word, as both say.

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace acpstore::testing {
namespace {

const std::string kBinary = ACPSTORE_BIN;
const std::string kSource = ACPSTORE_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Help(const std::vector<std::string>& command) {
  std::vector<std::string> args = {kBinary};
  args.insert(args.end(), command.begin(), command.end());
  args.push_back("--help");
  proc::RunResult r = RunProcess(args, {});
  EXPECT_EQ(r.exit_code, 0) << args[1] << " --help: " << r.err;
  return r.out;
}

// The names under "Subcommands:" in a --help text.
std::set<std::string> Subcommands(const std::string& help) {
  std::set<std::string> out;
  const size_t at = help.find("Subcommands:\n");
  if (at == std::string::npos) return out;
  std::istringstream lines(help.substr(at + 13));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("  ", 0) != 0 || line.size() < 3 || line[2] == ' ') break;
    out.insert(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

TEST(DocsTest, EveryFlagADocumentGivesACommandIsInItsHelp) {
  const std::set<std::string> commands = Subcommands(Help({}));
  ASSERT_TRUE(commands.count("serve") == 1 && commands.count("keys") == 1);
  std::map<std::string, std::string> helps;  // "keys create" -> its --help
  for (const std::string& c : commands) helps[c] = Help({c});
  for (const std::string& sub : Subcommands(helps["keys"])) {
    helps["keys " + sub] = Help({"keys", sub});
  }
  // "acpstore <word> [<word>]" and the rest of its line or code span.
  const std::regex use(R"(acpstore ([a-z][a-z-]*)( [a-z][a-z-]*)?([^`\n]*))");
  const std::regex flag(R"((^|[^\w-])(--[a-z][a-z0-9-]*))");
  size_t checked = 0;
  for (const char* doc :
       {"README.md", "docs/operations.md", "docs/http_api.md"}) {
    const std::string text = ReadFile(kSource + "/" + doc);
    for (std::sregex_iterator m(text.begin(), text.end(), use), end; m != end;
         ++m) {
      std::string command = (*m)[1];
      std::string rest = std::string((*m)[2]) + std::string((*m)[3]);
      if (commands.count(command) == 0) continue;  // prose: "acpstore keeps"
      const std::string second = std::string((*m)[2]);
      if (!second.empty() && helps.count(command + second) == 1) {
        command += second;
        rest = (*m)[3];
      }
      for (std::sregex_iterator f(rest.begin(), rest.end(), flag); f != end;
           ++f) {
        const std::string name = (*f)[2];
        EXPECT_TRUE(std::regex_search(
            helps[command], std::regex("(^|[\\s,])" + name + "(\\s|$)")))
            << doc << ": `acpstore " << command << " ... " << name
            << "`, but `acpstore " << command << " --help` has no " << name;
        ++checked;
      }
    }
  }
  // The documents name dozens; far fewer means the pattern stopped matching.
  EXPECT_GT(checked, 30u);
}

// Any `--flag` the operator-facing documents name, in any sentence (not
// only after `acpstore <command>`), is a flag of some command's --help,
// unless it belongs to another tool they quote (cmake, systemctl, ...).
// docs/openapi.yaml once sent readers to a --ui-insecure-cookie that never
// existed. docs/benchmarks.md documents acpstore_bench and is left out.
TEST(DocsTest, EveryFlagTheDocumentsNameExists) {
  const std::set<std::string> foreign = {
      "--build",   "--cflags",  "--checkjs", "--gtest_filter",
      "--install", "--libs",    "--no-create-home", "--now",
      "--path-as-is", "--prefix", "--preset", "--purge",
      "--schema",  "--shell",   "--static",  "--system",
      "--target"};
  std::string all_help = Help({});
  const std::set<std::string> commands = Subcommands(all_help);
  for (const std::string& c : commands) {
    const std::string help = Help({c});
    all_help += help;
    for (const std::string& sub : Subcommands(help)) {
      all_help += Help({c, sub});
    }
  }
  std::vector<std::string> docs = {"README.md", "docs/openapi.yaml"};
  for (const auto& entry :
       std::filesystem::directory_iterator(kSource + "/docs")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".md" && name != "benchmarks.md") {
      docs.push_back("docs/" + name);
    }
  }
  const std::regex flag(R"((^|[^\w-])(--[a-zA-Z][a-zA-Z0-9_-]*))");
  size_t checked = 0;
  for (const std::string& doc : docs) {
    const std::string text = ReadFile(kSource + "/" + doc);
    for (std::sregex_iterator f(text.begin(), text.end(), flag), end;
         f != end; ++f) {
      std::string name = (*f)[2];
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(c));
      if (foreign.count(lower) == 1) continue;
      EXPECT_TRUE(std::regex_search(
          all_help, std::regex("(^|[\\s,\\[])" + name + "([\\s=\\]]|$)")))
          << doc << " names " << name << ", which no acpstore --help lists";
      ++checked;
    }
  }
  EXPECT_GT(checked, 50u);
}

// CONTRIBUTING.md: "Each module is one folder ... and each has a README";
// its table "Where things are" and README.md's "Layout" list them all.
TEST(DocsTest, EveryModuleHasAReadmeAndIsInBothLayouts) {
  const std::string contributing = ReadFile(kSource + "/CONTRIBUTING.md");
  const std::string readme = ReadFile(kSource + "/README.md");
  size_t modules = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(kSource + "/src")) {
    if (!entry.is_directory()) continue;
    const std::string folder =
        "src/" + entry.path().filename().string() + "/";
    EXPECT_TRUE(std::filesystem::exists(entry.path() / "README.md"))
        << folder << " has no README.md";
    EXPECT_NE(contributing.find("| `" + folder + "` |"), std::string::npos)
        << folder << " is missing from CONTRIBUTING.md, \"Where things are\"";
    EXPECT_NE(readme.find("\n" + folder + " "), std::string::npos)
        << folder << " is missing from README.md, \"Layout\"";
    ++modules;
  }
  EXPECT_GE(modules, 13u);
}

TEST(DocsTest, ReadmesLibraryExampleIsTheOneCiBuilds) {
  const std::string readme = ReadFile(kSource + "/README.md");
  const size_t begin = readme.find("```cpp\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = readme.find("```\n", begin + 7);
  ASSERT_NE(end, std::string::npos);
  const std::string shown = readme.substr(begin + 7, end - begin - 7);
  // main.cc is the same after its header comment.
  std::istringstream lines(ReadFile(kSource + "/packaging/example/main.cc"));
  std::string line;
  std::string built;
  bool header = true;
  while (std::getline(lines, line)) {
    if (header && line.rfind("//", 0) == 0) continue;
    header = false;
    built += line + "\n";
  }
  EXPECT_EQ(shown, built);
}

}  // namespace
}  // namespace acpstore::testing
