# What certauth's help lists, for the tests that hold the man page and the
# bash completion to it. Source it; each function reads a help text on stdin.

# The subcommands of `certauth --help`, one per line.
help_subcommands() { awk '/^Subcommands:/ { on = 1; next } on && /^[^ ]/ { on = 0 } on && NF { print $1 }'; }

# The long options of a help text, one per line, from its option lines
# ("  -q,--quiet ...", "  --config=certauth.toml ...").
help_long_options() { sed -n 's/^ \{1,\}\(-[A-Za-z0-9],\)\{0,1\}\(--[A-Za-z0-9][A-Za-z0-9-]*\).*/\2/p'; }
