#include "cli/completion.h"

#include <algorithm>

namespace ck::cli {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::vector<std::string> with_prefix(std::vector<std::string> names, const std::string& prefix) {
  std::erase_if(names, [&](const std::string& n) { return !starts_with(n, prefix); });
  return names;
}

// What a value named `what` (an option's value name or a positional's name)
// can be. USER: the store's users; a {a,b} choice; files and folders.
Completion values_of(const std::string& what, const CommandWalk& walk, const std::string& cur,
                     const std::function<std::vector<std::string>(const CommandWalk&)>& users) {
  if (what.size() > 2 && what.front() == '{' && what.back() == '}') {
    std::vector<std::string> choices;
    std::string inner = what.substr(1, what.size() - 2);
    for (std::size_t start = 0;;) {
      const auto comma = inner.find(',', start);
      choices.push_back(inner.substr(start, comma - start));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    return {with_prefix(std::move(choices), cur)};
  }
  if (what == "USER")
    return {with_prefix(users(walk), cur)};
  if (what == "DIR")
    return {{":dir"}};
  if (what == "FILE")
    return {{":file"}};
  if (const auto dot = what.find('.'); dot != std::string::npos)  // PLAN.toml
    return {{":file:" + what.substr(dot + 1)}};
  if (what == "PLAN")
    return {{":file:toml"}};
  return {};
}

}  // namespace

Completion complete(const CLI::App& app, const std::vector<std::string>& words,
                    const std::function<std::vector<std::string>(const CommandWalk&)>& users) {
  const std::string cur = words.empty() ? std::string() : words.back();
  const std::vector<std::string> before(words.begin(), words.end() - (words.empty() ? 0 : 1));
  const CommandWalk walk = walk_commands(app, before);
  if (walk.unknown)
    return {};
  if (walk.awaiting != nullptr)
    return values_of(value_name(*walk.awaiting), walk, cur, users);
  const CLI::App& cmd = *walk.path.back();
  if (starts_with(cur, "-")) {
    std::vector<std::string> names;
    for (const auto* level : walk.path) {
      for (const auto* opt : level->get_options([](const CLI::Option* o) {
             return !o->get_positional() && !o->get_group().empty();
           })) {
        for (const auto& l : opt->get_lnames())
          names.push_back("--" + l);
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return {with_prefix(std::move(names), cur)};
  }
  const auto subs = visible_commands(cmd);
  if (!subs.empty()) {
    std::vector<std::string> names;
    for (const auto* sub : subs)
      names.push_back(sub->get_name());
    return {with_prefix(std::move(names), cur)};
  }
  const auto args = cmd.get_options([](const CLI::Option* o) { return o->get_positional(); });
  if (args.empty())
    return {};
  std::size_t index = std::min(walk.arguments, args.size() - 1);
  if (walk.arguments >= args.size() &&
      args.back()->get_expected_max() != CLI::detail::expected_max_vector_size)
    return {};  // every argument given
  const auto* arg = args[index];
  std::string what = value_name(*arg);
  if (what.empty() || what == "TEXT" || what == "INT" || what == "UINT")
    what = arg->get_name();
  return values_of(what, walk, cur, users);
}

std::string completion_script(const std::string& shell) {
  if (shell == "bash") {
    return R"(# bash completion for certkeeper: it asks the binary, which knows its own
# commands and options, and the store's user names.
_certkeeper() {
  local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n' out
  out=($("${COMP_WORDS[0]}" __complete words -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  case "${out[0]-}" in
    :dir) compopt -o filenames; COMPREPLY=($(compgen -d -- "$cur")) ;;
    :file) compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur")) ;;
    :file:*)
      compopt -o filenames
      COMPREPLY=($(compgen -f -X "!*.${out[0]#:file:}" -- "$cur") $(compgen -d -- "$cur")) ;;
    *) COMPREPLY=("${out[@]}") ;;
  esac
}
complete -F _certkeeper certkeeper
)";
  }
  if (shell == "zsh") {
    return R"(#compdef certkeeper
# zsh completion for certkeeper: it asks the binary, which knows its own
# commands and options, and the store's user names.
local -a out
out=("${(@f)$("${words[1]}" __complete words -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
case "${out[1]}" in
  :dir) _files -/ ;;
  :file) _files ;;
  :file:*) _files -g "*.${out[1]#:file:}" ;;
  *) [[ -n "${out[1]}" ]] && compadd -a out ;;
esac
)";
  }
  return "";
}

}  // namespace ck::cli
