"""Reading YAML text: splitting files into documents (with the text pre-filter), and reading a
document with yaml-rs where it reads as PyYAML would (`fast`), else with libyaml behind our guards
against alias bombs, deep nesting and duplicate keys (`libyaml`). No file system, no git."""
