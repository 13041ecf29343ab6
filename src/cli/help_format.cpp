#include "cli/help_format.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <string_view>

namespace ck::cli {

namespace {

// CLI11's names for the C++ type behind an option: they say nothing to an
// operator when a validator or the option names the value better.
bool generic_type(std::string_view t) {
  static constexpr std::array<std::string_view, 6> kGeneric = {"TEXT",  "INT",    "UINT",
                                                               "FLOAT", "NUMBER", "BOOLEAN"};
  return std::find(kGeneric.begin(), kGeneric.end(), t) != kGeneric.end();
}

bool takes_list(const CLI::Option& opt) {
  return opt.get_expected_max() == CLI::detail::expected_max_vector_size;
}

// Edits between two words, a swap of neighbours counting as one ("lsit" is
// one from "list"): the optimal string alignment distance.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// An option of `cmd` or of a command above it (global options fall through).
const CLI::Option* find_option(const std::vector<const CLI::App*>& path, const std::string& name) {
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (const auto* opt = (*it)->get_option_no_throw(name))
      return opt;
  }
  return nullptr;
}

std::string command_words(const std::vector<const CLI::App*>& path) {
  std::string words;
  for (std::size_t i = 1; i < path.size(); ++i)
    words += (words.empty() ? "" : " ") + path[i]->get_name();
  return words;
}

}  // namespace

HelpFormatter::HelpFormatter() {
  column_width(32);
}

std::string value_name(const CLI::Option& opt) {
  if (opt.get_type_size() == 0)
    return "";
  std::string t = opt.get_type_name();
  if (const auto colon = t.find(':');
      colon != std::string::npos && generic_type(t.substr(0, colon)))
    t = t.substr(colon + 1);
  return t;
}

std::string shown_default(const CLI::Option& opt) {
  if (opt.get_type_size() == 0)
    return "";
  std::string d = opt.get_default_str();
  if (d == "[]" || d == "\"\"")
    return "";
  return d;
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  if (!opt->get_option_text().empty())
    return " " + opt->get_option_text();
  std::ostringstream out;
  const std::string value = value_name(*opt);
  // A positional's name already says what it is (USER, PLAN): only a choice
  // of values adds to it.
  if (!value.empty() && !(opt->get_positional() && generic_type(value)))
    out << " " << value;
  if (takes_list(*opt))
    out << " ...";
  if (opt->get_required() && !opt->get_positional())
    out << " REQUIRED";
  if (!opt->get_needs().empty()) {
    out << " (needs";
    for (const auto* other : opt->get_needs())
      out << " " << other->get_name();
    out << ")";
  }
  return out.str();
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  std::string desc = opt->get_description();
  const std::string d = shown_default(*opt);
  if (!d.empty() && desc.find("default") == std::string::npos)
    desc += " (default: " + d + ")";
  if (!opt->get_envname().empty() && desc.find("$" + opt->get_envname()) == std::string::npos)
    desc += " (env: " + opt->get_envname() + ")";
  if (!opt->get_excludes().empty()) {
    desc += " Not with";
    bool first = true;
    for (const auto* other : opt->get_excludes()) {
      desc += (first ? " " : ", ") + other->get_name();
      first = false;
    }
    desc += ".";
  }
  return desc;
}

std::vector<const CLI::App*> visible_commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

std::vector<std::string> closest(const std::string& word,
                                 const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d <= limit || (!word.empty() && c.rfind(word, 0) == 0))
      ranked.emplace_back(c.rfind(word, 0) == 0 ? 0 : d, c);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (auto& [d, c] : ranked)
    names.push_back(std::move(c));
  return names;
}

CommandWalk walk_commands(const CLI::App& app, const std::vector<std::string>& args) {
  CommandWalk walk;
  walk.path.push_back(&app);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--")
      return walk;
    if (a.size() > 1 && a[0] == '-') {
      const auto eq = a.find('=');
      const auto* opt = find_option(walk.path, a.substr(0, eq));
      if (opt == nullptr || opt->get_type_size() == 0)
        continue;
      if (eq != std::string::npos) {
        walk.values[opt->get_name()] = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        walk.values[opt->get_name()] = args[++i];
      } else {
        walk.awaiting = opt;
      }
      continue;
    }
    const CLI::App* cur = walk.path.back();
    const auto subs = cur->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) {
      ++walk.arguments;  // a command's argument
      continue;
    }
    const auto named = std::find_if(subs.begin(), subs.end(),
                                    [&](const CLI::App* sub) { return sub->check_name(a); });
    if (named == subs.end()) {
      walk.unknown = a;
      return walk;
    }
    walk.path.push_back(*named);
  }
  const CLI::App* cur = walk.path.back();
  walk.missing = cur->get_require_subcommand_min() > 0 && !visible_commands(*cur).empty();
  return walk;
}

std::optional<std::string> command_error(const CLI::App& app,
                                         const std::vector<std::string>& args) {
  return command_error(walk_commands(app, args));
}

std::optional<std::string> command_error(const CommandWalk& walk) {
  const CLI::App& cur = *walk.path.back();
  std::vector<std::string> names;
  for (const auto* sub : visible_commands(cur))
    names.push_back(sub->get_name());
  const std::string above = command_words(walk.path);
  const std::string prefix = above.empty() ? "" : above + " ";
  if (walk.unknown) {
    std::string msg = "unknown command '" + prefix + *walk.unknown + "'";
    const auto near = closest(*walk.unknown, names);
    if (!near.empty()) {
      msg += " (did you mean '" + prefix + near.front() + "'";
      for (std::size_t i = 1; i < near.size() && i < 3; ++i)
        msg += " or '" + prefix + near[i] + "'";
      msg += "?)";
    } else {
      msg += "; the commands" + (above.empty() ? std::string() : " of '" + above + "'") +
             " are: " + [&] {
               std::string list;
               for (const auto& n : names)
                 list += (list.empty() ? "" : ", ") + n;
               return list;
             }();
    }
    return msg;
  }
  if (walk.missing) {
    std::string list;
    for (const auto& n : names)
      list += (list.empty() ? "" : ", ") + n;
    return (above.empty() ? std::string("a command is needed")
                          : "'" + above + "' needs a command") +
           ": " + list;
  }
  return std::nullopt;
}

}  // namespace ck::cli
