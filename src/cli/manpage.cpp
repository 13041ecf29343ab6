#include "cli/manpage.h"

#include <cctype>
#include <sstream>

#include "cli/help_format.h"

namespace ck::cli {

namespace {

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool is_help(const CLI::Option* opt) {
  return opt->get_name() == "--help" || opt->get_name() == "--help-all";
}

std::vector<const CLI::Option*> named_options(const CLI::App& cmd) {
  return cmd.get_options([](const CLI::Option* o) {
    return !o->get_positional() && !is_help(o) && !o->get_group().empty();
  });
}

std::vector<const CLI::Option*> positionals(const CLI::App& cmd) {
  return cmd.get_options([](const CLI::Option* o) { return o->get_positional(); });
}

// Text as help writes it (paragraphs split by blank lines; an indented line
// is a list kept as written) in man macros.
std::string roff_text(const std::string& text) {
  std::ostringstream out;
  std::istringstream in(text);
  std::vector<std::string> para;
  const auto flush = [&] {
    if (para.empty())
      return;
    bool preformatted = false;
    for (const auto& l : para)
      preformatted = preformatted || (!l.empty() && l[0] == ' ');
    out << ".PP\n";
    if (preformatted) {
      out << ".nf\n";
      for (const auto& l : para)
        out << roff_escape(l) << "\n";
      out << ".fi\n";
    } else {
      for (const auto& l : para)
        out << roff_escape(l) << "\n";
    }
    para.clear();
  };
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(' ') == std::string::npos)
      flush();
    else
      para.push_back(line);
  }
  flush();
  return out.str();
}

std::string option_item(const CLI::Option& opt, const HelpFormatter& fmt) {
  std::ostringstream out;
  out << ".TP\n";
  bool first = true;
  for (const auto& s : opt.get_snames()) {
    out << (first ? "" : ", ") << "\\fB\\-" << roff_escape(s) << "\\fR";
    first = false;
  }
  for (const auto& l : opt.get_lnames()) {
    out << (first ? "" : ", ") << "\\fB\\-\\-" << roff_escape(l) << "\\fR";
    first = false;
  }
  const std::string value = value_name(opt);
  if (!value.empty())
    out << " \\fI" << roff_escape(value) << "\\fR";
  if (opt.get_expected_max() == CLI::detail::expected_max_vector_size)
    out << " ...";
  out << "\n" << roff_escape(fmt.make_option_desc(&opt)) << "\n";
  if (opt.get_required())
    out << "Required.\n";
  return out.str();
}

std::string positional_words(const CLI::App& cmd) {
  std::string words;
  for (const auto* p : positionals(cmd)) {
    std::string w = "\\fI" + roff_escape(p->get_name()) + "\\fR";
    if (p->get_expected_max() == CLI::detail::expected_max_vector_size)
      w += " ...";
    words += " " + (p->get_required() ? w : "[" + w + "]");
  }
  return words;
}

// The commands that run something under `cmd` (depth first), with their words.
void leaf_commands(const CLI::App& cmd, const std::string& words,
                   std::vector<std::pair<std::string, const CLI::App*>>& out) {
  const auto subs = visible_commands(cmd);
  if (subs.empty()) {
    out.emplace_back(words, &cmd);
    return;
  }
  for (const auto* sub : subs)
    leaf_commands(*sub, words + " " + sub->get_name(), out);
}

std::string header(const std::string& name, const std::string& version, const std::string& date) {
  return ".TH " + upper(name) + " 1 \"" + date + "\" \"certkeeper " + version +
         "\" \"certkeeper manual\"\n";
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

ManPage group_page(const CLI::App& group, const std::string& version, const std::string& date,
                   const HelpFormatter& fmt) {
  const std::string page = "certkeeper-" + group.get_name();
  std::ostringstream out;
  out << header(page, version, date);
  out << ".SH NAME\n"
      << roff_escape(page) << " \\- " << roff_escape(first_line(group.get_description())) << "\n";
  std::vector<std::pair<std::string, const CLI::App*>> leaves;
  leaf_commands(group, group.get_name(), leaves);
  out << ".SH SYNOPSIS\n";
  for (const auto& [words, cmd] : leaves) {
    out << "\\fBcertkeeper\\fR [\\fIGLOBAL OPTIONS\\fR] \\fB" << roff_escape(words) << "\\fR";
    if (!named_options(*cmd).empty())
      out << " [\\fIOPTIONS\\fR]";
    out << positional_words(*cmd) << "\n.br\n";
  }
  out << ".SH DESCRIPTION\n" << roff_text(group.get_description());
  if (leaves.size() > 1 && !group.get_footer().empty())
    out << roff_text(group.get_footer());
  out << ".SH " << (leaves.size() > 1 ? "COMMANDS" : "OPTIONS") << "\n";
  for (const auto& [words, cmd] : leaves) {
    if (leaves.size() > 1) {
      out << ".SS \"certkeeper " << roff_escape(words) << "\"\n";
      out << roff_text(cmd->get_description());
    }
    for (const auto* p : positionals(*cmd)) {
      out << ".TP\n\\fI" << roff_escape(p->get_name()) << "\\fR\n"
          << roff_escape(fmt.make_option_desc(p)) << "\n";
    }
    for (const auto* opt : named_options(*cmd))
      out << option_item(*opt, fmt);
    if (!cmd->get_footer().empty() && (leaves.size() > 1 || cmd == &group))
      out << roff_text(cmd->get_footer());
  }
  out << ".SH \"SEE ALSO\"\n\\fBcertkeeper\\fR(1)\n";
  return {page + ".1", out.str()};
}

}  // namespace

std::string roff_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool line_start = i == 0 || text[i - 1] == '\n';
    if (line_start && (c == '.' || c == '\''))
      out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  return out;
}

std::vector<ManPage> man_pages(const CLI::App& app, const std::string& version,
                               const std::string& date) {
  const HelpFormatter fmt;
  std::vector<ManPage> pages;
  std::ostringstream out;
  out << header("certkeeper", version, date);
  // "certkeeper: what it is. More..." names the program in its first sentence.
  std::string what = app.get_description();
  if (const auto colon = what.find(": "); colon != std::string::npos)
    what = what.substr(colon + 2);
  what = what.substr(0, what.find(". "));
  out << ".SH NAME\ncertkeeper \\- " << roff_escape(what) << "\n";
  out << ".SH SYNOPSIS\n\\fBcertkeeper\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR "
         "[\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n";
  out << ".SH DESCRIPTION\n" << roff_text(app.get_description());
  out << ".SH \"GLOBAL OPTIONS\"\nThese go before or after the command.\n";
  for (const auto* opt : named_options(app))
    out << option_item(*opt, fmt);
  out << ".SH COMMANDS\n";
  for (const auto* sub : visible_commands(app)) {
    out << ".TP\n\\fBcertkeeper\\-" << roff_escape(sub->get_name()) << "\\fR(1)\n"
        << roff_escape(first_line(sub->get_description())) << "\n";
    pages.push_back(group_page(*sub, version, date, fmt));
  }
  out << ".SH NOTES\n" << roff_text(app.get_footer());
  out << ".SH \"SEE ALSO\"\n";
  bool first = true;
  for (const auto* sub : visible_commands(app)) {
    out << (first ? "" : ",\n") << "\\fBcertkeeper\\-" << roff_escape(sub->get_name()) << "\\fR(1)";
    first = false;
  }
  out << "\n";
  pages.insert(pages.begin(), ManPage{"certkeeper.1", out.str()});
  return pages;
}

}  // namespace ck::cli
